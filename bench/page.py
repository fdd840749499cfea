"""Page timings in Chromium, measured the same way for this calculator and, with --compare, for any other
page in the same run (runs alternate between the pages). Prints medians; never fails on a time.

    .venv/bin/python bench/page.py [--runs 5] [--page index.html] [--network 50,40] [--profile disk]
    .venv/bin/python bench/page.py --runs 12 --compare http://127.0.0.1:5173/ \
        [--compare-input 'input[name=context]' --compare-result '#total' --compare-value 8192]

--network MBPS,RTT sends every request of the browser (pages, their workers and the workers those start, the
service worker) through a proxy on this machine that shares one link of that bandwidth and makes each request
wait one round trip (bench/netlink.py): the local server alone has no download time, so it hides what bytes cost
a user and shows only the processor's share.

Each cold run opens a new, empty browser profile (an isolated context: no cache, no service worker, no
storage) in one running headless Chromium. Such a context is off the record, and Chromium keeps no code cache
for it: a repeat visit compiles all its JavaScript again. --profile disk gives each run a Chromium of its own
with a profile in a new folder instead, as a visitor's browser has (the code caches kept between its visits);
each such browser first opens a blank page, not counted. Per page and run:

- first result: first contentful paint (this calculator pre-renders its default result into the HTML);
- interactive: the first moment an input changes the result on screen. From the first parse on, a probe
  sets the input (by default the context field to 8,192 tokens) through the native value setter every
  25 ms and dispatches `input` and `change`, as typing would, until the result's text changes;
- blocking: the main-thread long tasks (over 50 ms, Long Tasks API) between first paint and interactive,
  summed as the time beyond 50 ms of each (Total Blocking Time), with the longest one;
- CLS: cumulative layout shift through start-up (until interactive + 1 s), the web-vitals way (largest
  session window of shifts without recent input: gaps under 1 s, windows up to 5 s);
- settled: after interactive, 40 input changes, each timed from the event until a background-priority
  task (scheduler.postTask) has run and the next frame started: the page's follow-up work on the main thread
  is then done (this calculator computes in a Web Worker, off the main thread);
- updated: for the same inputs, from the event until the result's text has changed on screen (the worker's
  answer applied), polled each frame;
- bytes: response bodies as transferred (compressed where the server compressed them), from Chromium's
  own network events, page and service worker together: until interactive, and over the whole first
  visit (until the network has been quiet for 2 s, service-worker precaching included);
- repeat visit (this calculator): the same profile again: interactive, and bytes over the network;
- offline.html (this calculator): the single file opened from disk with the network blocked;
- start-up phases (this calculator), in the order they end: HTML parsed, first paint, the worker's downloads
  begun (py:load), the runtime's JavaScript imported (py:runtime), the snapshot downloaded and unpacked
  (py:snapshot), the WebAssembly compiled (py:compiled) — these three side by side —, Pyodide running from its
  snapshot (py:loaded: memory restored), the first render computed and sent (app:ready), interactive.
"""
import argparse
import contextlib
import shutil
import tempfile
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402
from netlink import NetworkLink  # noqa: E402  (bench/netlink.py)
from build import SITE, serve_in_background  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

# Installed before any of the page's scripts: layout shifts, long tasks, and the interactive probe.
OBSERVE = """(() => {
  const m = window.__bench = {shifts: [], longtasks: [], interactive: null, fcp: null};
  new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput)
    m.shifts.push([e.startTime, e.value]); }).observe({type: 'layout-shift', buffered: true});
  new PerformanceObserver(l => { for (const e of l.getEntries()) m.longtasks.push([e.startTime, e.duration]); })
    .observe({type: 'longtask', buffered: true});
  new PerformanceObserver(l => { for (const e of l.getEntriesByName('first-contentful-paint')) m.fcp = e.startTime; })
    .observe({type: 'paint', buffered: true});
  const cfg = %s;
  function setValue(el, v) {
    const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
  }
  let before = null;
  const probe = setInterval(() => {
    const input = document.querySelector(cfg.input), result = document.querySelector(cfg.result);
    if (!input || !result) return;
    if (before === null) before = result.textContent;
    if (result.textContent !== before) {
      m.interactive = performance.now();
      clearInterval(probe);
      return;
    }
    setValue(input, cfg.value);
  }, 25);
  m.setValue = setValue;
})();"""

SETTLE = """async (cfg) => {
  const input = document.querySelector(cfg.input), out = [], updated = [];
  const text = () => { const r = document.querySelector(cfg.result); return r ? r.textContent : ''; };
  for (let i = 0; i < 40; i++) {
    const before = text();
    const t0 = performance.now();
    window.__bench.setValue(input, String(cfg.values[i % cfg.values.length]));
    await new Promise(r => (window.scheduler && scheduler.postTask) ? scheduler.postTask(r, {priority: 'background'})
                                                                   : setTimeout(r, 0));
    await new Promise(r => requestAnimationFrame(() => r()));
    out.push(performance.now() - t0);
    while (text() === before && performance.now() - t0 < 3000) await new Promise(r => requestAnimationFrame(() => r()));
    if (text() !== before) updated.push(performance.now() - t0);
    await new Promise(r => setTimeout(r, 60));
  }
  return [out, updated];
}"""

SUMMARY = """() => {
  const m = window.__bench;
  let cls = 0, win = 0, start = -1, last = -1;
  for (const [t, v] of m.shifts) {
    if (start < 0 || t - last > 1000 || t - start > 5000) { start = t; win = 0; }
    win += v; last = t; cls = Math.max(cls, win);
  }
  const after = m.longtasks.filter(([t, d]) => t + d > (m.fcp || 0) && t < (m.interactive || Infinity));
  const ready = performance.getEntriesByName('app:ready')[0];
  const mark = n => { const e = performance.getEntriesByName(n)[0]; return e ? e.startTime : null; };
  const phases = {parsed: performance.getEntriesByType('navigation')[0].domInteractive, fcp: m.fcp,
                  'py:load': mark('py:load'), 'py:runtime': mark('py:runtime'), 'py:snapshot': mark('py:snapshot'),
                  'py:compiled': mark('py:compiled'), 'py:loaded': mark('py:loaded'), 'app:start': mark('app:start'),
                  'app:imported': mark('app:imported'), 'app:ready': mark('app:ready'), interactive: m.interactive};
  // (app:start and app:imported: PyScript's start-up, before the page ran Python in a worker)
  return {fcp: m.fcp, interactive: m.interactive, ready: ready ? ready.startTime : null, cls, phases,
          tbt: after.reduce((s, [t, d]) => s + Math.max(0, d - 50), 0),
          longest: after.reduce((s, [t, d]) => Math.max(s, d), 0), longtasks: after.length};
}"""


class Traffic:
    """Bytes and requests over the network in one browser context (page and service worker), from
    Chromium's network events; responses served from the service worker's cache are not network bytes."""

    def __init__(self, context):
        self.events = []  # (seconds since start, bytes)
        self.t0 = time.monotonic()
        context.on("requestfinished", self._finished)

    def _finished(self, request):
        try:
            response = request.response()
            if response is None or response.from_service_worker:
                return
            # the bytes received less the headers' length: negative for a response that crossed no network (the
            # service worker's answer to a navigation, which Playwright does not mark as from it)
            self.events.append((time.monotonic() - self.t0, max(0, request.sizes()["responseBodySize"])))
        except Exception:  # a context closing under us
            pass

    def total(self, until=None):
        return sum(b for t, b in self.events if until is None or t <= until)

    def requests(self, until=None):
        return sum(1 for t, _ in self.events if until is None or t <= until)

    def wait_quiet(self, page, quiet_s=2.0, limit_s=60.0):
        """Until no response has finished for quiet_s seconds (or limit_s has passed)."""
        start = time.monotonic()
        while time.monotonic() - start < limit_s:
            last = self.events[-1][0] + self.t0 if self.events else start
            if time.monotonic() - last >= quiet_s:
                return
            page.wait_for_timeout(250)


def _launch_options(link=None):
    kwargs = {"args": browser.LAUNCH_ARGS + (link.chromium_args() if link else []), "headless": True}
    if browser.executable():
        kwargs["executable_path"] = browser.executable()
    return kwargs


def launch(p, link=None):
    """Headless Chromium (tests/browser.py's); its requests through `link` (a NetworkLink) if given."""
    return p.chromium.launch(**_launch_options(link))


class Profiles:
    """Fresh browser profiles, one per cold run (`with profiles.fresh() as context:`): isolated contexts of one
    running Chromium (off the record), or, `on_disk`, a Chromium of its own per profile, in a new folder that is
    removed after the run."""

    def __init__(self, p, link=None, on_disk=False, warm_url=None):
        self.p, self.link, self.on_disk = p, link, on_disk
        self.chromium = None if on_disk else launch(p, link)
        if self.chromium and warm_url:  # warm the browser process itself; not counted
            warm = self.chromium.new_page()
            warm.goto(warm_url)
            warm.close()

    @contextlib.contextmanager
    def fresh(self):
        if self.chromium:
            context = self.chromium.new_context()
            try:
                yield context
            finally:
                context.close()
            return
        folder = tempfile.mkdtemp(prefix="bench-profile-")
        try:
            context = self.p.chromium.launch_persistent_context(folder, **_launch_options(self.link))
            try:
                blank = context.pages[0] if context.pages else context.new_page()
                blank.goto("about:blank")  # the browser's first page, kept open: the visits are not its first
                yield context
            finally:
                context.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def close(self):
        if self.chromium:
            self.chromium.close()


def visit(context, traffic, url, target, timeout_s=120):
    """One visit: load, wait until an input changes the result, measure start-up."""
    page = context.new_page()
    started = time.monotonic() - traffic.t0
    page.goto(url)
    # polled with plain evaluations: Playwright's wait_for_function first injects its own script into the page,
    # a main-thread task of 30+ ms that the long-task figures would count as the page's
    deadline = time.monotonic() + timeout_s
    while not page.evaluate("() => !!(window.__bench && window.__bench.interactive !== null)"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url}: no input changed the result within {timeout_s} s")
        page.wait_for_timeout(50)
    page.wait_for_timeout(1000)  # shifts right after interactive still count
    m = page.evaluate(SUMMARY)
    m["bytes_interactive"] = traffic.total(started + m["interactive"] / 1000)
    return page, m, started


def cold_run(profiles, target, repeat=True, offline=None):
    with profiles.fresh() as context:
        context.add_init_script(OBSERVE % target["json"])
        traffic = Traffic(context)
        page, m, started = visit(context, traffic, target["url"], target)
        m["settled"], m["updated"] = page.evaluate(SETTLE, {"input": target["input"], "result": target["result"],
                                                            "values": target["values"]})
        traffic.wait_quiet(page)
        m["bytes_visit"], m["requests_visit"] = traffic.total(), traffic.requests()
        if repeat:
            before = traffic.total()
            page.close()
            page, r, _ = visit(context, traffic, target["url"], target)
            traffic.wait_quiet(page, quiet_s=1.0, limit_s=10)
            r["bytes_network"] = traffic.total() - before
            m["repeat"] = r
    if offline:
        with profiles.fresh() as context:
            context.route("http*://**", lambda route: route.abort())
            context.add_init_script(OBSERVE % target["json"])
            _, m["file"], _ = visit(context, Traffic(context), offline.as_uri(), target)
    return m


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def med(runs, key, sub=None):
    values = [(r[sub] if sub else r)[key] for r in runs if (r[sub] if sub else r).get(key) is not None]
    return statistics.median(values) if values else float("nan")


def target(url, input_sel, result_sel, value):
    import json
    values = [value, str(int(value) // 2 + 97), str(int(value) * 2)] if value.isdigit() else [value]
    return {"url": url, "input": input_sel, "result": result_sel, "values": values,
            "json": json.dumps({"input": input_sel, "result": result_sel, "value": value})}


def start_up(runs):
    """This calculator's own marks, in the order they end, as 'parsed 68, fcp +140, ...' (None for another page)."""
    phases = [k for k, v in runs[0]["phases"].items() if v is not None]
    if len(phases) <= 2:
        return None
    at = {k: statistics.median(r["phases"][k] for r in runs if r["phases"].get(k) is not None) for k in phases}
    phases.sort(key=at.get)  # the downloads and the compile run side by side: in the order they end
    return f"{phases[0]} {at[phases[0]]:.0f}, " + ", ".join(f"{b} +{at[b] - at[a]:.0f}" for a, b in zip(phases, phases[1:]))


def report(name, runs, profile="isolated"):
    settled = [x for r in runs for x in r["settled"]]
    kind = "a new profile folder and browser each" if profile == "disk" else "a fresh isolated context each"
    print(f"\n{name} — medians of {len(runs)} cold runs ({kind}), Chromium headless on this machine")
    print(f"  first result painted:                {med(runs, 'fcp'):8.0f} ms")
    print(f"  interactive (an input changes it):   {med(runs, 'interactive'):8.0f} ms")
    print(f"  blocking after first paint (TBT):    {med(runs, 'tbt'):8.0f} ms, longest task "
          f"{med(runs, 'longest'):.0f} ms, {med(runs, 'longtasks'):.0f} long tasks")
    print(f"  layout shift through start-up (CLS): {med(runs, 'cls'):8.3f}")
    print(f"  settled after an input:              {statistics.median(settled):8.1f} ms median, "
          f"{pct(settled, 0.95):.1f} ms p95 ({len(settled)} inputs)")
    updated = [x for r in runs for x in r["updated"]]
    if updated:
        print(f"  result updated after an input:       {statistics.median(updated):8.1f} ms median, "
              f"{pct(updated, 0.95):.1f} ms p95 ({len(updated)} inputs)")
    print(f"  bytes until interactive:             {med(runs, 'bytes_interactive') / 1e6:8.2f} MB")
    print(f"  bytes over the whole first visit:    {med(runs, 'bytes_visit') / 1e6:8.2f} MB "
          f"in {med(runs, 'requests_visit'):.0f} requests")
    phases_line = start_up(runs)
    if phases_line:
        print(f"  start-up phases (ms, medians):       {phases_line}")
    if runs[0].get("repeat"):
        print(f"  repeat visit:                        {med(runs, 'interactive', 'repeat'):8.0f} ms interactive, "
              f"{med(runs, 'bytes_network', 'repeat') / 1e6:.2f} MB over the network")
        print(f"  repeat visit phases (ms, medians):   {start_up([r['repeat'] for r in runs])}")
    if runs[0].get("file"):
        print(f"  offline.html from file://:           {med(runs, 'interactive', 'file'):8.0f} ms interactive "
              f"({(SITE / 'offline.html').stat().st_size / 1e6:.1f} MB file, network blocked)")
    return {k: med(runs, k) for k in ("fcp", "interactive", "tbt", "cls", "bytes_interactive", "bytes_visit")} | {
        "settled_p95": pct(settled, 0.95)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--page", default="")
    ap.add_argument("--compare", metavar="URL", help="another page to measure the same way, runs alternating")
    ap.add_argument("--compare-input", default="input[type=number]", metavar="CSS", help="its input to change")
    ap.add_argument("--compare-result", default="body", metavar="CSS", help="the element whose text is its result")
    ap.add_argument("--compare-value", default="8192", help="the value typed into its input")
    ap.add_argument("--no-offline", action="store_true", help="skip offline.html from disk")
    ap.add_argument("--network", metavar="MBPS,RTT", help="emulate a network: megabits per second and round trip "
                    "in ms, e.g. 50,40 (a proxy that every request crosses); default: the local server as is")
    ap.add_argument("--profile", choices=("isolated", "disk"), default="isolated",
                    help="isolated: a fresh off-the-record context per run in one browser (no code cache); disk: a "
                    "browser per run with its profile in a new folder, code caches kept as in a visitor's browser")
    args = ap.parse_args()
    network = tuple(float(x) for x in args.network.split(",")) if args.network else None
    if network and (len(network) != 2 or not (0.1 <= network[0] <= 10000 and 0 <= network[1] <= 5000)):
        sys.exit("--network takes MBPS,RTT: 0.1 to 10000 megabits per second, 0 to 5000 ms")
    if not (SITE / "index.html").exists():
        sys.exit("site/ is not built: run `make build` first")
    server = serve_in_background(SITE)
    ours = target(f"http://127.0.0.1:{server.server_address[1]}/{args.page}", "#context", "tr[data-item=total] td", "8192")
    other = target(args.compare, args.compare_input, args.compare_result, args.compare_value) if args.compare else None
    mine, theirs = [], []
    link = NetworkLink(*network) if network else None
    with sync_playwright() as p:
        profiles = Profiles(p, link, on_disk=args.profile == "disk", warm_url=ours["url"])
        for i in range(args.runs):
            order = [(ours, mine), (other, theirs)] if other else [(ours, mine)]
            if i % 2:
                order.reverse()
            for t, runs in order:
                is_ours = t is ours
                runs.append(cold_run(profiles, t, repeat=is_ours,
                                     offline=SITE / "offline.html" if is_ours and not args.no_offline else None))
                r = runs[-1]
                print(f"run {i + 1} {'this page' if is_ours else 'compare'}: first result {r['fcp']:.0f} ms, "
                      f"interactive {r['interactive']:.0f} ms, TBT {r['tbt']:.0f} ms (longest {r['longest']:.0f}), "
                      f"CLS {r['cls']:.3f}, settled p95 {pct(r['settled'], 0.95):.1f} ms, "
                      f"{r['bytes_interactive'] / 1e6:.2f} MB until interactive, {r['bytes_visit'] / 1e6:.2f} MB "
                      f"first visit", flush=True)
        profiles.close()
    server.shutdown()
    if link:
        link.close()
    a = report(ours["url"], mine, args.profile)
    if other:
        b = report(other["url"], theirs, args.profile)
        print("\nratio this page / compare (medians):")
        for key, label in (("fcp", "first result"), ("interactive", "interactive"), ("cls", "CLS"),
                           ("settled_p95", "settled p95"), ("bytes_interactive", "bytes until interactive"),
                           ("bytes_visit", "bytes, whole first visit")):
            print(f"  {label:<26} {a[key] / b[key]:.2f}" if b[key] else f"  {label:<26} (compare: 0)")


if __name__ == "__main__":
    main()
