"""The embed page in iframes: same-origin, and on another site (which refuses the frame IndexedDB)."""
import re
from http.server import BaseHTTPRequestHandler
from urllib.parse import quote, unquote

import pytest
from playwright.sync_api import expect

from pycore import Scenario, estimate
from build import QuietHandler, serve_in_background
from conftest import expect_total, wait_ready

QUERY = "model=qwen2.5-7b&weights=Q4_K_M&kv=f16&batch=1&context=8192&gpu=rtx-3060&gpus=1&show=model,context,gpu"


HOST = ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Docs page</title><link rel='icon' href='data:,'></head><body>"
        "<h1>Some documentation</h1>"
        "<iframe id='calc' src='{src}' title='LLM memory calculator' style='width:100%;border:0;height:200px'>"
        "</iframe><script>addEventListener('message', e => {{ if (e.data && e.data.type === 'llm-memory:height') "
        "{{ document.getElementById('calc').style.height = e.data.height + 'px'; "
        "document.body.dataset.resized = String(e.data.height); }} }});</script></body></html>")


@pytest.fixture(scope="module")
def docs_server(site_dir):
    """The site, plus a documentation page at /docs.html that frames the calculator named by ?src=."""
    class Handler(QuietHandler):
        def do_GET(self):
            if self.path.startswith("/docs.html?src="):
                body = HOST.format(src=unquote(self.path.split("src=", 1)[1])).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                BaseHTTPRequestHandler.end_headers(self)  # another site's page: not under our policy
                self.wfile.write(body)
            else:
                super().do_GET()
    server = serve_in_background(site_dir, Handler)
    yield server.server_address[1]
    server.shutdown()


@pytest.mark.parametrize("cross_site", [False, True], ids=["same-origin", "cross-site"])
def test_embed_becomes_live_in_an_iframe(open_site, docs_server, cross_site):
    port = docs_server
    # The documentation page is on 127.0.0.1. The calculator in its frame is on the same origin, or on
    # localhost: another site, so Chromium treats the frame as third-party (it refuses such frames
    # IndexedDB, which used to leave Pyodide loading forever).
    frame_origin = f"http://localhost:{port}" if cross_site else f"http://127.0.0.1:{port}"
    host_url = f"http://127.0.0.1:{port}/docs.html?src=" + quote(f"{frame_origin}/embed.html?{QUERY}", safe="")
    page = open_site(host_url, hosts={f"127.0.0.1:{port}", f"localhost:{port}"}, ready=False)
    frame = page.frame_locator("#calc")
    wait_ready(frame)
    expect_total(frame, estimate(Scenario("qwen2.5-7b", weights="Q4_K_M", context=8192, gpu="rtx-3060")))
    # only the fields the link asked for are shown
    expect(frame.locator("#weights")).to_be_hidden()
    expect(frame.locator("#context")).to_be_visible()
    # live: typing recalculates inside the frame
    frame.locator("#context").fill("32768")
    expect_total(frame, estimate(Scenario("qwen2.5-7b", weights="Q4_K_M", context=32768, gpu="rtx-3060")))
    # the frame told its host how tall it is
    expect(page.locator("body")).to_have_attribute("data-resized", re.compile(r"^[0-9]+$"))
    assert page.locator("#calc").evaluate("n => parseInt(n.style.height)") > 200


def test_embed_code_button(app):
    app.click("#embed-code")
    snippet = app.locator("#embed-snippet")
    expect(snippet).to_be_visible()
    text = snippet.input_value()
    assert text.startswith("<iframe") and "embed.html?model=llama-3.1-8b" in text and "show=" in text
    assert "llm-memory:height" in text and "e.origin ===" in text


def test_an_embed_computes_with_the_links_fields_it_has_no_input_for(open_site):
    # "Get embed code" on a page with 10 layers on the GPU and GB units writes ngl=10&units=GB into the embed's
    # link; the embed shows only model and context, and once computed as if ngl and units were their defaults
    # (all layers on the GPU, GiB), a figure the page it came from never showed.
    page = open_site("embed.html?model=llama-3.1-8b&weights=Q4_K_M&context=8192&ngl=10&units=GB&show=model,context")
    expect_total(page, estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=8192, ngl=10)))
    assert estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=8192, ngl=10)).total != \
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=8192)).total
    expect(page.locator('[data-item="total"] td').first).to_contain_text("GB")
    expect(page.locator('[data-item="total"] td').first).not_to_contain_text("GiB")
    # a typed change keeps them too
    page.locator("#context").fill("4096")
    expect_total(page, estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, ngl=10)))


def test_an_embed_says_what_is_wrong_with_a_field_it_does_not_show(open_site):
    # The link's model is unknown but the embed shows only the context: the message cannot sit at the model field,
    # so the stale note says it (as text: the name is shown, never made markup).
    page = open_site("embed.html?model=%3Cimg%20src%3Dx%3E&context=8192&show=context", ready=False)
    page.locator("html[data-py=ready]").wait_for(state="attached", timeout=120_000)
    note = page.locator("#stale-note")
    expect(note).to_be_visible()
    expect(note).to_contain_text("From the link: model: unknown model '<img src=x>'")
    assert page.locator("img[src=x]").count() == 0
