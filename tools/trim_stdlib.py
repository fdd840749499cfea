"""The page's copy of the standard library: Pyodide's python_stdlib.zip less the modules a memory snapshot already
holds in memory, stored uncompressed (tools/snapshot.mjs packs the whole file with Brotli: 0.95 MB, where the same
members deflated one by one are 1.55 MB). Run by tools/snapshot.mjs while it makes the snapshot:
    python tools/trim_stdlib.py <python_stdlib.zip> <list of member names, one a line> <out.zip>"""
import sys
import zipfile


def trim(whole_path: str, held_path: str, out_path: str) -> None:
    with open(held_path, encoding="utf-8") as f:
        held = set(f.read().split())
    with zipfile.ZipFile(whole_path) as whole, zipfile.ZipFile(out_path, "w") as trimmed:
        for info in whole.infolist():
            if info.filename not in held:
                trimmed.writestr(info, whole.read(info), compress_type=zipfile.ZIP_STORED)


if __name__ == "__main__":
    trim(*sys.argv[1:4])
