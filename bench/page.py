"""Page timings in Chromium. Each run opens a new, empty browser profile (an isolated context: no cache,
no service worker, no storage) in one running headless Chromium; prints medians, never fails.

    .venv/bin/python bench/page.py [--runs 5] [--page index.html]

Per run: a cold visit; a second visit in the same profile (the service worker now serves the site);
and, in another fresh profile, the single-file offline.html opened from disk with the network blocked.

- first result: first contentful paint — the estimate is in the pre-rendered HTML, so the first paint shows it;
- live: when Python has started and set <html data-py="ready"> (performance mark app:ready);
- recalculation: measured inside the page around each recalculation (form event to figures on screen),
  over 40 input changes after start-up; median and p95;
- bytes and requests: counted by the server (response bodies; localhost, no compression).
"""
import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402
from build import SITE, QuietHandler, serve_in_background  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

MEASURE = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const ready = performance.getEntriesByName('app:ready')[0];
  return {fcp: paint ? paint.startTime : null, ready: ready ? ready.startTime : null,
          html: nav.responseEnd, parsed: nav.domInteractive};
}"""

EDIT = """async () => {
  const context = document.getElementById('context');
  const batch = document.getElementById('batch');
  for (let i = 0; i < 40; i++) {
    const field = i % 2 ? context : batch;
    field.value = String(i % 2 ? 1024 + 97 * i : 1 + (i % 7));
    field.dispatchEvent(new Event('input', {bubbles: true}));
    await new Promise(r => setTimeout(r, 30));
  }
  return window.llmRecalcMs.slice(1);
}"""


class Counted(QuietHandler):
    """Counts the requests and body bytes the server answers, for the run under way."""
    served = {"requests": 0, "bytes": 0}

    def copyfile(self, source, outputfile):
        Counted.served["requests"] += 1
        start = source.tell()
        super().copyfile(source, outputfile)
        Counted.served["bytes"] += source.tell() - start


def serve():
    return serve_in_background(SITE, Counted)


def launch(p):
    kwargs = {"args": browser.LAUNCH_ARGS, "headless": True}
    if browser.executable():
        kwargs["executable_path"] = browser.executable()
    return p.chromium.launch(**kwargs)


def visit(page, url):
    Counted.served.update(requests=0, bytes=0)
    page.goto(url)
    page.wait_for_selector("html[data-py=ready]", timeout=120_000)
    m = page.evaluate(MEASURE)
    m.update(Counted.served)
    return m


def one_run(chromium, url):
    context = chromium.new_context()
    page = context.new_page()
    m = visit(page, url)
    page.wait_for_timeout(500)  # let the secondary panels settle before editing
    m["recalc"] = page.evaluate(EDIT)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
    page.wait_for_timeout(500)  # the worker has cached this build once it controls the page
    m["repeat"] = visit(page, url)
    context.close()
    context = chromium.new_context()
    context.route("http*://**", lambda route: route.abort())
    m["file"] = visit(context.new_page(), (SITE / "offline.html").as_uri())
    context.close()
    return m


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--page", default="")
    args = ap.parse_args()
    if not (SITE / "index.html").exists():
        sys.exit("site/ is not built: run `make build` first")
    server = serve()
    url = f"http://127.0.0.1:{server.server_address[1]}/{args.page}"
    runs = []
    with sync_playwright() as p:
        chromium = launch(p)
        visit(chromium.new_page(), url)  # warm the browser process itself; not counted
        for i in range(args.runs):
            runs.append(one_run(chromium, url))
            r = runs[-1]
            print(f"run {i + 1}: HTML received {r['html']:.0f} ms, parsed {r['parsed']:.0f} ms, "
                  f"first result {r['fcp']:.0f} ms, live {r['ready']:.0f} ms, "
                  f"recalc median {statistics.median(r['recalc']):.1f} ms, {r['bytes'] / 1e6:.2f} MB, "
                  f"{r['requests']} requests; repeat visit live {r['repeat']['ready']:.0f} ms; "
                  f"offline.html from disk live {r['file']['ready']:.0f} ms", flush=True)
    server.shutdown()
    recalc = [x for r in runs for x in r["recalc"]]
    print(f"\n{url} — medians of {args.runs} cold runs (fresh profile each), Chromium headless on this machine")
    print(f"first correct result on screen: {statistics.median(r['fcp'] for r in runs):8.0f} ms")
    print(f"inputs live (Python ready):     {statistics.median(r['ready'] for r in runs):8.0f} ms")
    print(f"recalculation in the page:      {statistics.median(recalc):8.1f} ms median, {pct(recalc, 0.95):.1f} ms p95 "
          f"({len(recalc)} recalculations)")
    print(f"bytes transferred:              {statistics.median(r['bytes'] for r in runs) / 1e6:8.2f} MB")
    print(f"requests:                       {statistics.median(r['requests'] for r in runs):8.0f}")
    print(f"repeat visit (service worker):  {statistics.median(r['repeat']['ready'] for r in runs):8.0f} ms live, "
          f"first result {statistics.median(r['repeat']['fcp'] for r in runs):.0f} ms, "
          f"{statistics.median(r['repeat']['bytes'] for r in runs) / 1e6:.2f} MB over the network")
    print(f"offline.html from file://:      {statistics.median(r['file']['ready'] for r in runs):8.0f} ms live, "
          f"first result {statistics.median(r['file']['fcp'] for r in runs):.0f} ms "
          f"({(SITE / 'offline.html').stat().st_size / 1e6:.1f} MB file, network blocked)")


if __name__ == "__main__":
    main()
