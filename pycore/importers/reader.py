"""Byte readers: how the importers see a model file, one range at a time.

A reader has `size` (the whole file's length in bytes), `available` (how many leading bytes can be
read right now) and `read(offset, size) -> bytes`, which returns exactly `size` bytes or raises.
It also counts `bytes_read`, so a benchmark or the page can show that only the header was read.

The parsers are synchronous, but the browser's File API is not. So the page reads a prefix with
`File.slice`, parses it with a `BytesReader`, and when the parser needs bytes past that prefix the
reader raises `NeedMoreBytes`; the page fetches a longer prefix (`suggested_end`) and parses again.
Headers are small next to the tensor data, so a few rounds suffice and the data is never read.
"""
import hashlib
import os

from ..errors import ModelFileError


class NeedMoreBytes(Exception):
    """The parser needs bytes of the file past the prefix it was given. Not an error in the file:
    read the first `suggested_end` bytes (at least `needed_end`) and parse again. `reader` is the
    BytesReader that ran short (which file, when several parts of a split model are parsed)."""

    def __init__(self, needed_end: int, available: int, file_size: int, reader=None):
        # Doubling the prefix keeps the number of re-parses logarithmic in the header size.
        self.reader = reader
        self.needed_end = needed_end
        self.suggested_end = min(file_size, max(needed_end, 2 * available, 1 << 16))
        super().__init__(f"need the first {needed_end:,} bytes of the file, have {available:,}")


def _check_range(offset: int, size: int, file_size: int) -> None:
    if offset < 0 or size < 0:
        raise ModelFileError(f"invalid read of {size} bytes at offset {offset}")
    if offset + size > file_size:
        raise ModelFileError(f"the file is truncated: needed bytes up to {offset + size:,}, "
                             f"but it has {file_size:,} bytes")


class BytesReader:
    """Bytes in memory: a whole file, or the first `len(data)` bytes of a file of `file_size` bytes.
    `name` is the file's name (File.name in the browser), used in messages and to match shards."""

    def __init__(self, data, file_size: int = None, name: str = ""):
        self.name = str(name)
        self._data = memoryview(bytes(data) if not isinstance(data, (bytes, bytearray, memoryview)) else data)
        self.available = len(self._data)
        self.size = self.available if file_size is None else int(file_size)
        if self.size < self.available:
            raise ValueError(f"file_size {self.size} is smaller than the {self.available} bytes given")
        self.bytes_read = 0

    def read(self, offset: int, size: int) -> bytes:
        _check_range(offset, size, self.size)
        end = offset + size
        if end > self.available:
            raise NeedMoreBytes(end, self.available, self.size, self)
        self.bytes_read += size
        return self._data[offset:end].tobytes()


class FileReader:
    """A file on disk, read with positioned reads: never loaded whole."""

    def __init__(self, path):
        self.path = os.fspath(path)
        try:
            self._file = open(self.path, "rb")
            self.size = os.fstat(self._file.fileno()).st_size
        except OSError as e:
            raise ModelFileError(f"cannot open {os.path.basename(self.path)!r}: {e.strerror or e}") from None
        self.available = self.size
        self.bytes_read = 0

    def read(self, offset: int, size: int) -> bytes:
        _check_range(offset, size, self.size)
        try:
            if hasattr(os, "pread"):
                data = os.pread(self._file.fileno(), size, offset)
            else:  # Windows has no pread
                self._file.seek(offset)
                data = self._file.read(size)
        except OSError as e:
            raise ModelFileError(f"cannot read {os.path.basename(self.path)!r}: {e.strerror or e}") from None
        if len(data) != size:  # the file shrank while we read it
            raise ModelFileError(f"the file is truncated: needed bytes up to {offset + size:,}, "
                                 f"got {offset + len(data):,}")
        self.bytes_read += size
        return data

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def file_name_of(reader) -> str:
    """A reader's file name, for messages and the spec's file_id ("" when it has none)."""
    return os.path.basename(getattr(reader, "path", "") or getattr(reader, "name", "") or "")


def file_id(file_name: str, file_size: int, file_tensors: tuple) -> str:
    """ModelSpec.file_id: the file's name and size, and a digest of its tensor list. Specs are equal
    (and share cached results) exactly when their ids are, so two files with one name and size but
    different tensors must differ here."""
    digest = hashlib.sha256(repr(file_tensors).encode()).hexdigest()[:12]
    return f"{file_name} ({file_size:,} bytes, {len(file_tensors)} tensors, #{digest})"


def quote(text: str, limit: int = 60) -> str:
    """A name or value from a file, quoted for a one-line message: control characters escaped, long
    text cut. (The page shows messages as text; this keeps them short and printable.)"""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[:limit - 2] + "…" + shown[0]
