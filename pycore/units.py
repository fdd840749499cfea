"""Bytes and their display. Inside pycore every size is an int of bytes; units appear only here.

GiB (2**30) and GB (10**9) differ by 7.4 %; every formatted figure carries its unit label.
"""

KiB = 1 << 10
MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40
KB = 10**3
MB = 10**6
GB = 10**9
TB = 10**12

BINARY = "binary"
DECIMAL = "decimal"

_SCALES = {
    BINARY: ((TiB, "TiB"), (GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")),
    DECIMAL: ((TB, "TB"), (GB, "GB"), (MB, "MB"), (KB, "kB")),
}
_FIXED = {"GiB": GiB, "GB": GB, "MiB": MiB, "MB": MB, "TiB": TiB, "TB": TB, "KiB": KiB, "kB": KB, "B": 1}


def format_bytes(n: int, system: str = BINARY, digits: int = 2) -> str:
    """`n` bytes in the largest fitting unit of the system, e.g. '13.04 GiB' or '14.00 GB'."""
    if system not in _SCALES:
        raise ValueError(f"unknown unit system {system!r}")
    magnitude = abs(n)
    for size, label in _SCALES[system]:
        if magnitude >= size:
            return f"{n / size:,.{digits}f} {label}"
    return f"{n:,} B"


def format_in(n: int, unit: str, digits: int = 2) -> str:
    """`n` bytes in one named unit, e.g. format_in(n, 'GiB') -> '13.04 GiB'."""
    return f"{n / _FIXED[unit]:,.{digits}f} {unit}"


def to_unit(n: int, unit: str) -> float:
    return n / _FIXED[unit]


def unit_bytes(unit: str) -> int:
    """Bytes in one named unit ('GiB' -> 2**30)."""
    try:
        return _FIXED[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}") from None
