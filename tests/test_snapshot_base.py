"""The snapshot's base (templates/static/worker.js snapshotBase, xorBase): the WebAssembly's data segments, read
by the worker in the page and by tools/snapshot.mjs at build time, checked here against an independent reading of
the WebAssembly binary format (https://webassembly.github.io/spec/core/binary/modules.html#data-section) written
in Python, and against hostile files. Then the snapshot's form as sent, its pages that are not all zeros (worker.js
sparse, scatter), against a reading of that form written here and against hostile headers."""
import hashlib
import struct
import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "templates" / "static" / "worker.js"
WASM = ROOT / "node_modules" / "pyodide" / "pyodide.asm.wasm"


def node(script: str, *args) -> dict:
    """Run `script` (an ES module body; `base`, `xor`, `sparse` and `scatter` are worker.js's exports, `argv` the
    arguments) in Node."""
    prelude = (f"const {{ snapshotBase: base, xorBase: xor, sparse, scatter }} = "
               f"await import({json.dumps(WORKER.as_uri())});\n"
               "const argv = process.argv.slice(1);\n")
    done = subprocess.run(["node", "--input-type=module", "-e", prelude + script, *map(str, args)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def uleb(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def python_segments(data):
    """([(address, bytes)], the section's contents) of the data section: each segment `0x00 (i32.const address)
    end length bytes`."""
    at = 8
    while at < len(data):
        section, at = data[at], at + 1
        size, at = uleb(data, at)
        if section != 11:
            at += size
            continue
        contents = data[at:at + size]
        count, at = uleb(data, at)
        out = []
        for _ in range(count):
            assert data[at] == 0 and data[at + 1] == 0x41  # active, memory 0, i32.const
            at += 2
            address = shift = 0
            while True:  # signed LEB128
                byte = data[at]
                at += 1
                address |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            if byte & 0x40:
                address -= 1 << shift
            assert data[at] == 0x0B
            length, at = uleb(data, at + 1)
            out.append((address & 0xFFFFFFFF, data[at:at + length]))
            at += length
        return out, contents
    raise AssertionError("no data section")


def test_the_base_of_pyodides_webassembly_is_its_data_section():
    data = WASM.read_bytes()
    segments, contents = python_segments(data)
    got = node("""
        const b = await base(new Uint8Array((await import("node:fs")).readFileSync(argv[0])));
        console.log(JSON.stringify({ hash: b.hash, top: b.top, n: b.segments.length,
          first: b.segments.slice(0, 3).map(([a, s]) => [a, s.length]), last: b.segments.at(-1)[0] }));
    """, WASM)
    assert got["n"] == len(segments) > 1000  # Pyodide 314.0.7: 14,579 segments, 3.2 MB
    assert got["first"] == [[a, len(s)] for a, s in segments[:3]]
    assert got["last"] == segments[-1][0]
    assert got["top"] == max(a + len(s) for a, s in segments)
    assert got["hash"] == hashlib.sha256(contents).hexdigest()


def test_a_snapshot_made_a_difference_from_its_base_and_back_is_unchanged():
    # a made-up snapshot: a 16-byte header whose second word says the memory's copy begins at byte 16
    got = node("""
        const wasm = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
          11, 14, 2,  0, 0x41, 4, 0x0b, 2, 0xff, 0x0f,  0, 0x41, 8, 0x0b, 1, 0x01]);
        const b = await base(wasm);
        const snap = new Uint8Array(32); new DataView(snap.buffer).setUint32(4, 16, true); snap[16 + 4] = 0xf0;
        const before = Array.from(snap); xor(snap, b); const diff = Array.from(snap); xor(snap, b);
        console.log(JSON.stringify({ segs: b.segments.map(([a, s]) => [a, Array.from(s)]), top: b.top,
                                     before, diff, after: Array.from(snap) }));
    """)
    assert got["segs"] == [[4, [0xFF, 0x0F]], [8, [0x01]]]
    assert got["top"] == 9
    expected = list(got["before"])
    expected[16 + 4] ^= 0xFF
    expected[16 + 5] ^= 0x0F
    expected[16 + 8] ^= 0x01
    assert got["diff"] == expected
    assert got["after"] == got["before"]


@pytest.mark.parametrize("wasm, why", [
    ([0, 0x61, 0x73], "not WebAssembly"),
    ([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x01], "a section runs past"),
    ([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 6, 0xff, 0xff, 0xff, 0xff, 0x0f, 0], "segments"),  # 2^32 - 1 of them
    ([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 5, 1, 1, 3, 1, 2], "not at a constant address"),  # passive
    ([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 7, 1, 0, 0x41, 0, 0x0b, 9, 1], "runs past its section"),
    ([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0], "no data section"),
], ids=["short", "section", "count", "passive", "segment", "none"])
def test_a_webassembly_file_that_is_not_a_base_is_refused(wasm, why):
    got = node("""
        try { await base(new Uint8Array(JSON.parse(argv[0]))); console.log(JSON.stringify({ error: null })); }
        catch (e) { console.log(JSON.stringify({ error: e.message })); }
    """, json.dumps(wasm))
    assert got["error"] and why in got["error"], got


def test_a_snapshot_smaller_than_its_base_is_refused():
    got = node("""
        const b = { segments: [[100, new Uint8Array(8)]], top: 108 };
        const snap = new Uint8Array(64); new DataView(snap.buffer).setUint32(4, 16, true);
        try { xor(snap, b); console.log(JSON.stringify({ error: null })); }
        catch (e) { console.log(JSON.stringify({ error: e.message, untouched: snap.every((x, i) => i === 4 ? x === 16 : x === 0) })); }
    """)
    assert got == {"error": "the snapshot is smaller than its base", "untouched": True}


PAGE = 4096


def pages_of(made: bytes) -> dict:
    """The sparse form read here: {"length", "pages": {index: bytes}}; the header is four little-endian 32-bit
    words ("LLMS", page size, length, count), then `count` indices, then the pages (the last one may be short)."""
    magic, page, length, count = struct.unpack_from("<4I", made)
    assert (magic.to_bytes(4, "little"), page) == (b"LLMS", PAGE)
    indices = struct.unpack_from(f"<{count}I", made, 16)
    at, pages = 16 + 4 * count, {}
    for index in indices:
        size = min(length, (index + 1) * PAGE) - index * PAGE
        pages[index] = made[at:at + size]
        at += size
    assert at == len(made)
    return {"length": length, "pages": pages}


def test_a_snapshot_keeps_only_its_pages_that_are_not_all_zeros():
    # 3 pages and 10 bytes: page 1 and the short last page hold something, pages 0 and 2 are zeros
    length = 3 * PAGE + 10
    got = node("""
        const snap = new Uint8Array(Number(argv[0])); snap[4096 + 7] = 0xab; snap[3 * 4096 + 9] = 0x01;
        const made = sparse(snap);
        const back = scatter(made, new Uint8Array(snap.length)), fresh = scatter(made);
        console.log(JSON.stringify({ made: Array.from(made), same: back.every((x, i) => x === snap[i]),
                                     fresh: fresh.length === snap.length && fresh.every((x, i) => x === snap[i]) }));
    """, length)
    made = bytes(got["made"])
    read = pages_of(made)
    assert read["length"] == length
    assert sorted(read["pages"]) == [1, 3]
    assert read["pages"][1] == bytes(7) + b"\xab" + bytes(PAGE - 8)
    assert read["pages"][3] == bytes(9) + b"\x01"
    assert len(made) == 16 + 2 * 4 + PAGE + 10
    assert got["same"] and got["fresh"]


def test_an_empty_and_a_full_snapshot():
    got = node("""
        const zeros = sparse(new Uint8Array(2 * 4096)), full = sparse(new Uint8Array(4096 + 1).fill(7));
        console.log(JSON.stringify({ zeros: Array.from(zeros), full: full.length,
                                     back: Array.from(new Set(scatter(full))) }));
    """)
    assert pages_of(bytes(got["zeros"])) == {"length": 2 * PAGE, "pages": {}}
    assert got["full"] == 16 + 2 * 4 + PAGE + 1
    assert got["back"] == [7]


def header(length, indices, body=b"", magic=b"LLMS", page=PAGE):
    return list(magic + struct.pack("<3I", page, length, len(indices)) + struct.pack(f"<{len(indices)}I", *indices)
                + body)


@pytest.mark.parametrize("made, into, why", [
    (list(b"LLMS"), 0, "shorter than its header"),
    (header(PAGE, [], magic=b"GZIP"), 0, "not in pages"),
    (header(PAGE, [], page=1024), 0, "not in pages"),
    (header(2 * PAGE, []), PAGE, "not the 4096 the page expects"),
    (header(PAGE, [0, 1, 2]), 0, "3 pages do not fit"),
    (header(2 * PAGE, [1, 0], bytes(2 * PAGE)), 0, "out of order"),
    (header(2 * PAGE, [0, 0], bytes(2 * PAGE)), 0, "out of order"),
    (header(4 * PAGE, [0, 2], bytes(PAGE)), 0, "run past its end"),
    (header(PAGE, [0], bytes(PAGE + 3)), 0, "3 bytes follow its last page"),
    (list(b"LLMS") + list(struct.pack("<3I", PAGE, 2 ** 29, 2 ** 32 - 1)), 0, "pages do not fit"),
    (header(2 ** 32 - 1, []), 0, "more than 1073741824"),  # refused before an array of that length is made
], ids=["short", "magic", "page-size", "length", "count", "order", "repeat", "past-end", "trailing", "huge",
        "4-GiB"])
def test_a_snapshot_whose_pages_do_not_fit_is_refused(made, into, why):
    got = node("""
        const into = Number(argv[1]) ? new Uint8Array(Number(argv[1])) : null;
        try { scatter(new Uint8Array(JSON.parse(argv[0])), into); console.log(JSON.stringify({ error: null })); }
        catch (e) { console.log(JSON.stringify({ error: e.message })); }
    """, json.dumps(made), into)
    assert got["error"] and why in got["error"], got


def sleb(value):
    out = []
    while True:
        byte = value & 0x7F
        value >>= 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte if done else byte | 0x80)
        if done:
            return bytes(out)


def ulebs(value):
    out = []
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_a_snapshot_rebuilt_from_its_pages_copies_the_base_where_no_page_was_sent():
    # A made-up WebAssembly with two segments that cross page boundaries in the snapshot (its memory's copy begins
    # at byte 16, so addresses are not page-aligned there), and a snapshot of 5 pages holding that base with one
    # byte changed in the second segment and one byte outside the base. Sent as its difference from the base, only
    # the page with the change and the page with the other byte are kept; rebuilt with the flags scatter sets,
    # xorBase copies the base into the pages not sent and XORs it into those sent: the snapshot comes back whole.
    segments = [(PAGE - 40, bytes(range(1, 81))), (2 * PAGE + 100, bytes((i * 7 + 3) % 251 + 1 for i in range(5000)))]
    body = ulebs(len(segments)) + b"".join(b"\x00\x41" + sleb(a) + b"\x0b" + ulebs(len(s)) + s for a, s in segments)
    wasm = b"\x00asm\x01\x00\x00\x00" + b"\x0b" + ulebs(len(body)) + body
    memory, length = 16, 5 * PAGE
    real = bytearray(length)
    struct.pack_into("<I", real, 4, memory)
    for address, data in segments:
        real[memory + address:memory + address + len(data)] = data
    changed = memory + 2 * PAGE + 100 + 4500  # in page 3 (the second segment's last page)
    real[changed] ^= 0x5A
    real[memory + 4 * PAGE + 9] = 0x01  # page 4: outside the base
    got = node("""
        const b = await base(new Uint8Array(JSON.parse(argv[0])));
        const real = new Uint8Array(JSON.parse(argv[1]));
        const diff = real.slice(); xor(diff, b);
        const made = sparse(diff);
        const kept = [], whole = scatter(made, new Uint8Array(real.length), kept);
        xor(whole, b, kept);
        const plain = scatter(made); xor(plain, b);
        console.log(JSON.stringify({ made: Array.from(made), kept: Object.keys(kept).map(Number),
                                     whole: Array.from(whole), plain: Array.from(plain) }));
    """, json.dumps(list(wasm)), json.dumps(list(real)))
    sent = pages_of(bytes(got["made"]))["pages"]
    assert sorted(sent) == [0, changed // PAGE, 4]  # page 0: the header's offset word; the base's pages 1-2 not sent
    assert got["kept"] == sorted(sent)
    assert bytes(got["whole"]) == bytes(real)
    assert bytes(got["plain"]) == bytes(real)  # the byte-by-byte XOR everywhere: the same
