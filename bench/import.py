"""Header import speed: a GGUF with 1,000+ tensors and a 150k-token tokenizer (tokens, merges, scores,
token types), written with llama.cpp's gguf-py (a dev dependency), read in CPython and in the built
page (Chromium, the file chosen with the file input). Prints medians and the bytes read; never fails
on a time.

    .venv/bin/python bench/import.py [--runs 7] [--layers 80] [--vocab 150000]

Also a sharded safetensors model from a local stand-in of the Hugging Face Hub (tests/hub_standin.py:
two HTTP servers on 127.0.0.1, the shards redirected to the second), read by range requests as
`--hf ORG/NAME` reads it: bytes read, requests and time, cold and from the cache (`--hub-shards`).

Reported: pycore's header read (file path, positioned reads), the full import (header + ModelSpec),
the browser's way (growing File.slice prefixes, NeedMoreBytes), and gguf-py's GGUFReader for scale
(it memory-maps the file and decodes every field).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from gguf import GGUFReader, GGUFWriter  # noqa: E402

from pycore.importers.gguf import import_gguf, read_gguf_header  # noqa: E402
from pycore.importers.reader import BytesReader, FileReader, NeedMoreBytes  # noqa: E402

_ROLES = ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down",
          "attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_q_norm")


def write_big_header(path, layers, vocab):
    """Real Llama-style keys and a real-sized tokenizer; 32 KiB tensors, so the data (~34 MB) follows
    the header as in a real file, only smaller."""
    w = GGUFWriter(path, "llama")
    w.add_name("bench model")
    w.add_block_count(layers)
    w.add_context_length(32768)
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_key_length(16)
    w.add_value_length(16)
    w.add_file_type(15)
    w.add_tokenizer_model("gpt2")
    w.add_token_list([f"token-{i:06d}-ĠÃ" for i in range(vocab)])
    w.add_token_types([1] * vocab)
    w.add_token_scores([0.0] * vocab)
    w.add_token_merges([f"t{i} k{i}" for i in range(vocab)])
    w.add_chat_template("{% for m in messages %}{{ m.content }}{% endfor %}" * 40)
    small = np.zeros((16, 1024), dtype=np.float16)
    w.add_tensor("token_embd.weight", small)
    for i in range(layers):
        for role in _ROLES:
            name = f"blk.{i}.{role}" + ("" if role.endswith(".bias") else ".weight")
            w.add_tensor(name, small)
    w.add_tensor("output_norm.weight", small)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def median_ms(fn, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times), max(times)


def browser_rounds(data):
    """What the page does: parse a prefix; on NeedMoreBytes slice a longer one and parse again."""
    prefix, rounds, sliced = 1 << 16, 0, 0
    while True:
        rounds += 1
        sliced += prefix
        try:
            import_gguf(BytesReader(data[:prefix], file_size=len(data)), file_name="bench.gguf")
            return rounds, prefix, sliced
        except NeedMoreBytes as more:
            prefix = more.suggested_end


def in_the_page(path, runs):
    """Choose the file in the built page and time it from the change event to the figures."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "site" / "index.html").exists():
        print("in the page: site/ is not built (make build): skipped")
        return [], 0
    sys.path.insert(0, str(root / "tests"))
    import browser
    from build import SITE, serve_in_background
    from playwright.sync_api import sync_playwright
    server = serve_in_background(SITE)
    times, read = [], 0
    with sync_playwright() as p:
        kw = {"args": browser.LAUNCH_ARGS}
        if browser.executable():
            kw["executable_path"] = browser.executable()
        chromium = p.chromium.launch(**kw)
        for _ in range(runs):
            page = chromium.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
            page.wait_for_selector("html[data-py=ready]", timeout=120_000)
            page.click("#import-box summary")
            page.set_input_files("#model-file", path)
            page.wait_for_selector("html[data-import-read]", timeout=120_000)
            times.append(page.evaluate("performance.measure('import', 'import:start', 'import:end').duration"))
            read = int(page.get_attribute("html", "data-import-read"))
            page.close()
        chromium.close()
    server.shutdown()
    return times, read


def from_the_hub(shards, runs):
    """A `shards`-shard checkpoint from the stand-in, read as the CLI reads it: a fresh session each run."""
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "tests"))
    from hub_standin import BIG, StandIn, write_sharded

    from pycore.importers.remote import DiskCache, Session, load_model
    with tempfile.TemporaryDirectory() as tmp:
        config = dict(BIG, num_hidden_layers=2 * shards)
        files, _ = write_sharded(Path(tmp) / "m", config, shards)
        checkpoint = sum(p.stat().st_size for n, p in files.items() if n.endswith(".safetensors"))
        hub = StandIn()
        hub.add("bench/sharded", files)
        hub.start()
        try:
            times, source = [], None
            for i in range(runs):
                session = Session(hub.endpoint, cache=DiskCache(os.path.join(tmp, f"cache{i}")))
                start = time.perf_counter()
                _, source = load_model("bench/sharded", session=session)
                times.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            _, again = load_model("bench/sharded", session=Session(hub.endpoint, cache=DiskCache(
                os.path.join(tmp, "cache0"))))
            cached_ms = (time.perf_counter() - start) * 1000
        finally:
            hub.stop()
    print(f"hub stand-in: {shards} shards, checkpoint {checkpoint:,} bytes; read {source['bytes_read']:,} bytes "
          f"({source['bytes_read'] / checkpoint:.3%}) in {source['requests']} requests (redirects included); "
          f"median {statistics.median(times):.0f} ms over {runs} runs (min {min(times):.0f}, max {max(times):.0f}); "
          f"again from the cache: {again['bytes_read']} bytes, {again['requests']} requests, {cached_ms:.0f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hub-shards", type=int, default=8, help="shards of the stand-in's model (0: skip)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--layers", type=int, default=80)
    ap.add_argument("--vocab", type=int, default=150_000)
    args = ap.parse_args()
    if args.hub_shards:
        from_the_hub(args.hub_shards, args.runs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.gguf")
        write_big_header(path, args.layers, args.vocab)
        size = os.path.getsize(path)
        with FileReader(path) as r:
            h = read_gguf_header(r)
            header_bytes_read = r.bytes_read
        exe = os.path.relpath(sys.executable) if sys.executable.startswith(os.getcwd()) else sys.executable
        print(f"command: {' '.join([exe, *sys.argv])}")
        print(f"python {sys.version.split()[0]}; file {size:,} bytes; {len(h.tensors):,} tensors; "
              f"{len(h.metadata)} keys; tokenizer arrays of {args.vocab:,}; header {h.data_offset:,} bytes")

        def header_only():
            with FileReader(path) as r:
                read_gguf_header(r)

        def full_import():
            with FileReader(path) as r:
                import_gguf(r)

        data = Path(path).read_bytes()
        rows = [("pycore read_gguf_header (FileReader)", median_ms(header_only, args.runs)),
                ("pycore import_gguf: header + ModelSpec", median_ms(full_import, args.runs)),
                ("pycore import_gguf from a full in-memory copy",
                 median_ms(lambda: import_gguf(BytesReader(data)), args.runs)),
                ("browser way: growing prefixes (BytesReader)", median_ms(lambda: browser_rounds(data), args.runs)),
                ("gguf-py GGUFReader (reference, decodes all)",
                 median_ms(lambda: GGUFReader(path), max(3, args.runs // 2)))]
        print(f"{'':48} {'median ms':>10} {'min':>8} {'max':>8}")
        for label, (med, lo, hi) in rows:
            print(f"{label:48} {med:10.1f} {lo:8.1f} {hi:8.1f}")
        rounds, prefix, sliced = browser_rounds(data)
        print(f"bytes read by the parser from the file: {header_bytes_read:,} "
              f"({header_bytes_read / h.data_offset:.2f}× the header, {header_bytes_read / size:.1%} of the file)")
        print(f"browser: {rounds} parses, final prefix {prefix:,} bytes, {sliced:,} bytes sliced in all")
        page_times, page_read = in_the_page(path, args.runs)
        if page_times:
            print(f"in the page (Pyodide, file chosen to figures on screen): median {statistics.median(page_times):.0f} ms "
                  f"over {len(page_times)} runs; {page_read:,} bytes sliced from the file "
                  f"({page_read / size:.1%} of it)")


if __name__ == "__main__":
    main()
