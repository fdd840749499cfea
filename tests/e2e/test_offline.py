"""Offline: the service worker keeps the site, so a second visit works with the network off; and the
single-file page works from disk with the network blocked."""
import json
import re
import threading
import time

from playwright.sync_api import expect

from build import QuietHandler, serve_in_background
from conftest import expect_total, wait_ready
from pycore import Scenario, estimate


KEPT = """async () => {
  const names = (await caches.keys()).filter(k => k.startsWith('llm-memory-'));
  if (names.length !== 1) return null;
  const keys = await (await caches.open(names[0])).keys();
  return keys.map(r => r.url);
}"""


def worker_files(site_dir):
    """FILES as build.py wrote them into sw.js."""
    text = (site_dir / "sw.js").read_text()
    return json.loads(re.search(r"const FILES = (\[.*?\]);", text).group(1))


def wait_kept(page, count, timeout_s=60):
    """The files the worker keeps, once it has `count` of them (it fills its cache once the page is live)."""
    deadline = time.monotonic() + timeout_s
    while True:
        kept = page.evaluate(KEPT) or []
        if len(kept) >= count or time.monotonic() > deadline:
            return kept
        page.wait_for_timeout(250)


def test_second_visit_works_offline(open_site, site_dir):
    page = open_site("?model=qwen3-8b&weights=Q5_K_M&context=16384")
    # the worker keeps every file the pages use once the page is live, and nothing else
    page.wait_for_function("() => navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated'")  # a function: the page's policy refuses eval
    files = worker_files(site_dir)
    base = page.url.split("?")[0]
    # and the packed files unpacked (the snapshot, the standard library), which a later visit reads instead of
    # unpacking them (worker.js)
    unpacked = [base + f + ".unpacked" for f in files if f.endswith((".bin.br", ".zip.br"))]
    assert len(unpacked) == 2
    assert sorted(wait_kept(page, len(files) + len(unpacked))) == sorted(
        [base + f if f != "./" else base for f in files] + unpacked)
    page.context.set_offline(True)
    asked = []
    page.context.on("request", lambda r: r.service_worker is None and asked.append(r.url))
    page.reload()
    wait_ready(page)
    # the worker read both unpacked (worker.js): neither packed file, nor the decoder, was even asked for (the
    # runtime's WebAssembly is: pyodide.asm.wasm.br, which the browser unpacks on the way)
    assert asked and not any(u.split("?")[0].endswith((".bin.br", ".zip.br", "brotli_dec_wasm.js", "_bg.wasm"))
                             for u in asked), asked
    assert any(u.endswith("/pyodide.asm.wasm.br") for u in asked), asked
    expect_total(page, estimate(Scenario("qwen3-8b", weights="Q5_K_M", context=16384, gpu="rtx-4090")))
    page.fill("#context", "32768")
    expect_total(page, estimate(Scenario("qwen3-8b", weights="Q5_K_M", context=32768, gpu="rtx-4090")))
    page.watch.errors = [m for m in page.watch.errors if "ERR_INTERNET_DISCONNECTED" not in m]


def test_single_file_page_from_disk_with_the_network_blocked(open_site, site_dir):
    requested = []

    def block_network(context):
        context.route("http*://**", lambda route: (requested.append(route.request.url), route.abort()))
    page = open_site((site_dir / "offline.html").as_uri() + "?model=mistral-nemo-12b&weights=IQ4_XS&context=32768",
                     setup=block_network)
    expect_total(page, estimate(Scenario("mistral-nemo-12b", weights="IQ4_XS", context=32768, gpu="rtx-4090")))
    page.fill("#batch", "3")
    expect_total(page, estimate(Scenario("mistral-nemo-12b", weights="IQ4_XS", context=32768, batch=3, gpu="rtx-4090")))
    # no embed code that frames a file: URL (no other page can): it says where to ask for one
    page.click("#embed-code")
    expect(page.locator("#embed-snippet")).to_have_value(re.compile(r"^No embed code from a page opened as a file"))
    assert requested == []  # nothing tried the network
    assert all(u.startswith(("file:", "data:", "blob:")) for u in page.watch.requests)


def test_worker_keeps_exactly_the_files_the_pages_load(open_site, site_dir):
    """The service worker's list (build.py page_files) is what index.html and embed.html request: a file the
    pages load but the list lacks breaks the offline visit; one it keeps but no page loads is a wasted download."""
    loaded = set()
    for where in ("", "embed.html"):
        page = open_site(where, setup=lambda c: c.on("request", lambda r: r.service_worker is None and loaded.add(r.url)))
        base = page.url.rsplit("/", 1)[0] + "/"
    assert {u.split("?")[0] for u in loaded} == {base + f if f != "./" else base for f in worker_files(site_dir)}


class Counting(QuietHandler):
    """Counts the GET requests that reach the server, per path."""
    counts, lock = {}, threading.Lock()

    def do_GET(self):
        with Counting.lock:
            path = self.path.split("?")[0]
            Counting.counts[path] = Counting.counts.get(path, 0) + 1
        super().do_GET()


def _first_visit(browser, site_dir) -> dict:
    """GET requests per path that reach the server during one first visit, until the worker has kept the site."""
    server = serve_in_background(site_dir, Counting)
    Counting.counts.clear()
    try:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        wait_ready(page)
        wait_kept(page, len(worker_files(site_dir)))
        context.close()
    finally:
        server.shutdown()
    return dict(Counting.counts)


def test_first_visit_downloads_each_file_once(browser, site_dir):
    """The page and the worker that keeps the site share one download of each file: the worker takes the
    snapshot the page hands over and the rest from the browser's HTTP cache. A private context's HTTP cache
    lives in memory and may drop an entry when the machine is short of it (then the worker fetches that file
    again); so a second visit in a new context is allowed, and the site must get it right on one of them."""
    attempts = []
    for _ in range(2):
        counts = _first_visit(browser, site_dir)
        assert counts.get("/sw.js") == 1, counts
        assert "/offline.html" not in counts
        # never the snapshot: the worker hands its copy over and the page waits until it is written
        assert sum(n for path, n in counts.items() if path.endswith("/snapshot.bin.br")) == 1, counts
        attempts.append({path: n for path, n in counts.items() if n > 1})
        if not attempts[-1]:
            break
    assert attempts[-1] == {}, f"files downloaded more than once, in each visit: {attempts}"
