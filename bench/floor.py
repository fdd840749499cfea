"""The start's floor: how soon a page that does nothing else has Pyodide's runtime imported and its
WebAssembly compiled, measured the way bench/page.py measures the calculator (cold runs, one fresh browser
profile each, the same local server and headers). Prints medians; never fails on a time.

    .venv/bin/python bench/floor.py [--runs 8]

The page is made here, in memory, and served beside the built site (nothing is written into site/): a module
worker started by a script in its head fetches `pyodide.asm.wasm.br` (Content-Encoding: br, unpacked by the
browser) into `WebAssembly.compileStreaming` and imports `pyodide.asm.mjs`, both at once, as the calculator's
worker does at its start. Per run, in ms after navigation: the worker running, the runtime imported, the
WebAssembly compiled. What the calculator does after these (Pyodide's instantiation, linking, the snapshot's
restore, its bootstrap and the first render) comes on top, on the worker's thread; bench/page.py's start-up
phases give those.
"""
import argparse
import io
import re
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
from page import SITE, Profiles  # noqa: E402

sys.path.insert(0, str(SITE.parent))
from build import QuietHandler, serve_in_background  # noqa: E402

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>floor</title>
<script src="page.js"></script></head><body><p>floor</p></body></html>"""

PAGE_JS = """window.__floor = {};
const worker = new Worker("worker.js", {type: "module"});
worker.onmessage = (e) => {
  if (e.data.startsWith("failed")) window.__floor.error = e.data;
  else window.__floor[e.data] = performance.now();
};
worker.onerror = (e) => { window.__floor.error = String(e.message || "the worker did not start"); };"""

WORKER_JS = """const P = %s;
postMessage("running");
const compiled = WebAssembly.compileStreaming(fetch(P + "pyodide.asm.wasm.br")).then(() => postMessage("compiled"));
const runtime = import(P + "pyodide.asm.mjs").then(() => postMessage("runtime"));
Promise.all([compiled, runtime]).then(() => postMessage("both"), (e) => postMessage("failed: " + e));"""

FILES = {"floor.html": "text/html", "page.js": "text/javascript", "worker.js": "text/javascript"}
PHASES = ("running", "runtime", "compiled", "both")


def floor_handler(pyodide_url: str):
    """The site's handler, answering /__floor/<file> from memory (the page, its script, its worker)."""
    bodies = {"floor.html": PAGE, "page.js": PAGE_JS, "worker.js": WORKER_JS % repr(pyodide_url)}

    class FloorHandler(QuietHandler):
        def send_head(self):
            name = self.path.split("?")[0].removeprefix("/__floor/")
            if self.path.startswith("/__floor/") and name in bodies:
                body = bodies[name].encode()
                self.send_response(200)
                self.send_header("Content-Type", FILES[name] + "; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                return io.BytesIO(body)
            return super().send_head()

    return FloorHandler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8)
    args = ap.parse_args()
    if not 1 <= args.runs <= 200:
        sys.exit("--runs takes 1 to 200")
    if not (SITE / "index.html").exists():
        sys.exit("site/ is not built: run `make build` first")
    found = re.search(r'data-pyodide="([^"]+)"', (SITE / "index.html").read_text())
    if not found:
        sys.exit("site/index.html names no Pyodide (data-pyodide)")
    server = serve_in_background(SITE, handler_class=floor_handler("/" + found.group(1)))
    url = f"http://127.0.0.1:{server.server_address[1]}/__floor/floor.html"
    runs = []
    with sync_playwright() as p:
        profiles = Profiles(p, warm_url=url)
        for i in range(args.runs):
            with profiles.fresh() as context:
                page = context.new_page()
                page.goto(url)
                deadline = time.monotonic() + 60
                while not page.evaluate("() => !!(window.__floor && (window.__floor.both || window.__floor.error))"):
                    if time.monotonic() > deadline:
                        sys.exit(f"{url}: not done within 60 s")
                    page.wait_for_timeout(20)
                r = page.evaluate("() => window.__floor")
                if "error" in r:
                    sys.exit(f"{url}: {r['error']}")
                runs.append(r)
                print(f"run {i + 1}: " + ", ".join(f"{k} {r[k]:.0f} ms" for k in PHASES), flush=True)
        profiles.close()
    server.shutdown()
    print(f"\nmedians of {len(runs)} cold runs (ms after navigation):")
    for k in PHASES:
        print(f"  {k:<9} {statistics.median(r[k] for r in runs):7.0f}")


if __name__ == "__main__":
    main()
