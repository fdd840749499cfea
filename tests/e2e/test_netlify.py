"""The site served with the headers netlify.toml declares (build.py's server, which every test uses,
sends them): the strict Content-Security-Policy must let the page start and work, with no violation in
the console."""
import fnmatch
import tomllib
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from build import QuietHandler, netlify_headers, serve_in_background
from conftest import expect_total
from pycore import Scenario, estimate

ROOT = Path(__file__).resolve().parents[2]
CONFIG = tomllib.loads((ROOT / "netlify.toml").read_text())


def headers_for(path: str) -> dict:
    """Netlify's rule: every [[headers]] block whose `for` pattern matches the path contributes; a header
    set by two blocks would be joined, so none may be."""
    seen = {}
    for rule in CONFIG.get("headers", []):
        if fnmatch.fnmatchcase(path, rule["for"]):
            for name in rule["values"]:
                assert name not in seen, f"{name} set twice for {path}: Netlify would join the values"
                seen[name] = rule["for"]
    served = netlify_headers(path)
    assert set(served) == set(seen)
    return served


def test_build_settings():
    assert CONFIG["build"]["publish"] == "site"
    assert "build.py" in CONFIG["build"]["command"] and "npm ci" in CONFIG["build"]["command"]
    csp = headers_for("/index.html")["Content-Security-Policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in csp and "worker-src 'self';" in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
    # the only other hosts: the Hub and the hosts it redirects file reads to, for a model the user asks for
    # by id (tests/test_hub.py checks the list against pycore.importers.hub.CONNECT_HOSTS)
    from pycore.importers.hub import CONNECT_HOSTS
    assert " ".join(w for w in csp.split() if "http" in w) == " ".join(f"https://{h}" for h in CONNECT_HOSTS) + ";"
    assert "frame-ancestors *" in csp
    assert "immutable" in headers_for("/vendor/pyodide-314.0.7/pyodide.asm.wasm")["Cache-Control"]
    assert "immutable" in headers_for("/app/abc/pycore.zip")["Cache-Control"]
    assert "Cache-Control" not in headers_for("/index.html")  # pages revalidate (Netlify's default)
    # the packed files the worker unpacks itself: plain bytes; Pyodide's packed WebAssembly: unpacked on the way
    for packed in ("/app/abc/snapshot.bin.br", "/app/abc/stdlib.zip.br"):
        assert headers_for(packed)["Content-Type"] == "application/octet-stream"
        assert "Content-Encoding" not in headers_for(packed)
    wasm = headers_for("/vendor/pyodide-314.0.7/pyodide.asm.wasm.br")
    assert (wasm["Content-Type"], wasm["Content-Encoding"]) == ("application/wasm", "br")
    mjs = headers_for("/vendor/pyodide-314.0.7/pyodide.asm.mjs.br")
    assert (mjs["Content-Type"], mjs["Content-Encoding"]) == ("text/javascript; charset=utf-8", "br")


def test_the_local_server_sends_the_packed_webassembly_as_it_is(base_url, site_dir):
    """build.py's server, like Netlify, sends pyodide.asm.wasm.br with Content-Encoding: br, the file's own bytes
    (not packed a second time with gzip), and the plain pyodide.asm.wasm gzip-encoded in transit."""
    path = next(site_dir.glob("vendor/pyodide-*/pyodide.asm.wasm.br")).relative_to(site_dir).as_posix()
    request = urllib.request.Request(base_url + path, headers={"Accept-Encoding": "gzip, br"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body, headers = response.read(), response.headers
    assert (headers["Content-Type"], headers["Content-Encoding"]) == ("application/wasm", "br")
    assert body == (site_dir / path).read_bytes()
    request = urllib.request.Request(base_url + path[:-len(".br")], headers={"Accept-Encoding": "gzip, br"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert (response.headers["Content-Type"], response.headers["Content-Encoding"]) == ("application/wasm", "gzip")


@pytest.mark.parametrize("page_name", ["index.html", "embed.html"])
def test_pages_work_under_the_policy(open_site, base_url, site_dir, page_name):
    """A CSP violation is reported as a console error, which open_site's watch fails the test on."""
    response = urllib.request.urlopen(base_url + page_name)
    assert "wasm-unsafe-eval" in response.headers["Content-Security-Policy"]
    page = open_site(page_name + "?model=gemma-2-9b&context=8192")
    expect_total(page, estimate(Scenario("gemma-2-9b", weights="Q4_K_M", context=8192, gpu="rtx-4090")))
    page.fill("#context", "16384")
    expect_total(page, estimate(Scenario("gemma-2-9b", weights="Q4_K_M", context=16384, gpu="rtx-4090")))
    if page_name == "index.html":
        with page.expect_download():
            page.click("#export-json")
        expect(page.locator("#curve-chart svg")).to_have_count(1)
    wasm = urllib.request.urlopen(base_url + next(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.wasm")))
    assert wasm.headers["Content-Type"] == "application/wasm"


def test_wasm_unsafe_eval_is_what_python_needs(browser, site_dir):
    """The one allowance beyond 'self', proved necessary: without it the worker cannot compile Pyodide's
    WebAssembly (the browser reports the policy it breaks) and Python never starts; the pre-rendered figures
    stay (the page says it failed after its 60-second limit)."""
    server = serve_in_background(site_dir, type("WithoutWasm", (QuietHandler,), {"csp_drop": " 'wasm-unsafe-eval'"}))
    context = browser.new_context()
    try:
        page = context.new_page()
        with page.expect_event("console", lambda m: "Content Security Policy" in m.text and "WebAssembly" in m.text,
                               timeout=30_000):
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html")
        page.wait_for_timeout(500)
        assert page.evaluate("document.documentElement.dataset.py") == "loading"
        assert page.locator('[data-item="total"]').get_attribute("data-bytes")  # the pre-rendered result stays
    finally:
        context.close()
        server.shutdown()
