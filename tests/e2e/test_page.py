"""The built page in Chromium, driven like a user: every figure it shows must be CPython pycore's figure."""
import contextlib
import io
import json
import re
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from build import QuietHandler, serve_in_background
from conftest import expect_total, wait_ready
from pycore import Scenario, estimate, model
from pycore.units import GB

ROOT = Path(__file__).resolve().parents[2]
ITEMS = ("weights", "kv_cache", "activations", "overhead", "total")


def set_fields(page, **fields):
    """Fill the form as a user would: pick the model first (it resets the context), then the rest."""
    if "model" in fields:
        page.select_option("#model", fields.pop("model"))
    for name, value in fields.items():
        settled(page)  # the previous field's update is on the page (it may show or hide this one)
        node = page.locator(f"#{name}")
        if not node.is_visible():  # inside "More settings": open it, as a user would
            page.locator(f"details:has(#{name}) > summary").click()
        kind = node.evaluate("n => n.tagName + ':' + (n.type || '')")
        if kind.startswith("SELECT"):
            node.select_option(str(value))
        elif kind == "INPUT:checkbox":
            node.set_checked(bool(value))
        else:
            node.fill(str(value))
            node.press("Tab")  # commit it, as leaving the field does
    settled(page)


def settled(page):
    """Until every input so far has its update on the page: Python answers from a Web Worker, a frame or more
    after the input (boot.js marks <html data-busy> meanwhile)."""
    page.locator("html:not([data-busy])").wait_for(state="attached")


def shown_bytes(page) -> dict:
    return {k: int(page.locator(f'[data-item="{k}"]').get_attribute("data-bytes")) for k in ITEMS}


def expect_figures(page, e):
    expect_total(page, e)
    want = {k: (e.total if k == "total" else e.item(k).bytes) for k in ITEMS}
    assert shown_bytes(page) == want


PARITY = [  # form fields; pycore gets the same scenario through scenario_of
    dict(model="llama-3.1-8b", weights="Q4_K_M", context=8192),
    dict(model="llama-3.1-8b", weights="BF16", kv="fp8", context=32768, batch=4),
    dict(model="llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", gpus=2, context=8192),
    dict(model="llama-3.1-70b", weights="AWQ-4bit-g128", gpu="a100-80gb", gpus=4, context=16384),
    dict(model="llama-2-7b", weights="Q8_0", kv="q8_0", context=4096),
    dict(model="llama-2-70b", weights="GPTQ-4bit-g128", gpu="a100-80gb", context=4096),
    dict(model="mistral-7b-v0.1", weights="Q5_K_M", context=32768),
    dict(model="mistral-nemo-12b", weights="IQ4_XS", kv="q4_0", context=65536),
    dict(model="mixtral-8x7b", weights="Q3_K_M", gpu="rtx-3090", gpus=2, parallel="pipeline", context=8192),
    dict(model="qwen2.5-7b", weights="NF4-DQ", context=8192),
    dict(model="qwen2.5-72b", weights="FP8", gpu="h100-sxm", gpus=2, context=32768),
    dict(model="qwen3-30b-a3b", weights="Q4_K_M", context=16384, batch=2),
    dict(model="qwen3-235b-a22b", weights="Q2_K", gpu="m3-ultra-512gb", context=32768),
    dict(model="gemma-2-9b", weights="Q6_K", context=8192),
    dict(model="gemma-3-27b", weights="Q4_K_M", gpu="rtx-5090", context=131072),
    dict(model="phi-3-mini-4k", weights="LLM.int8", context=4096),
    dict(model="deepseek-v3", weights="FP8-block", gpu="h200", gpus=8, context=65536),
    dict(model="deepseek-r1", weights="IQ1_S", gpu="mi300x", context=16384),
    dict(model="gpt-oss-20b", weights="MXFP4", gpu="rtx-4080", context=32768),
    dict(model="gpt-oss-120b", weights="MXFP4_MOE", gpu="h100-sxm", context=131072),
    dict(model="falcon-7b", weights="NF4", engine="transformers", context=2048),
    dict(model="pythia-1.4b", weights="FP16", engine="llama.cpp", act="seed", kvm="seed", context=2048),
    dict(model="command-r-v01", weights="Q4_K_S", overhead="0.25", context=8192),
    dict(model="llama-3.2-1b", weights="ggml:Q4_K", chunk="128", context=131072, batch=8),
]

FORM_TO_SCENARIO = {"act": "activations", "kvm": "kv_method", "chunk": "prefill_chunk", "overhead": "overhead_bytes"}


def scenario_of(fields: dict) -> Scenario:
    kw = {"gpu": "rtx-4090"}
    for k, v in fields.items():
        key = FORM_TO_SCENARIO.get(k, k)
        if key == "overhead_bytes":
            v = int(float(v) * 2**30)
        elif key in ("context", "batch", "gpus", "prefill_chunk"):
            v = int(v)
        kw[key] = v
    return Scenario(**kw)


@pytest.mark.parametrize("fields", PARITY, ids=[f"{i}-{f['model']}-{f['weights']}" for i, f in enumerate(PARITY)])
def test_form_matches_cpython(shared_app, fields):
    page = shared_app
    # reset the optional fields a previous scenario may have set
    set_fields(page, gpu="rtx-4090", gpus=1, parallel="tensor", engine="auto", act="peak", kvm="exact",
               kv="f16", batch=1, chunk="", overhead="")
    set_fields(page, **dict(fields))
    expect_figures(page, estimate(scenario_of(fields)))


def test_prerendered_html_carries_the_default_figures(base_url):
    html = urllib.request.urlopen(base_url).read().decode()
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, gpu="rtx-4090"))
    for key in ITEMS:
        value = re.search(rf'data-item="{key}" data-bytes="(\d+)"', html).group(1)
        assert int(value) == (e.total if key == "total" else e.item(key).bytes)
    assert 'data-py="loading"' in html


def test_url_round_trip_and_history(app, context, base_url):
    set_fields(app, model="gemma-2-27b", weights="Q5_K_M", context=6000, gpu="rtx-3090", gpus=2)
    e = estimate(Scenario("gemma-2-27b", weights="Q5_K_M", context=6000, gpu="rtx-3090", gpus=2))
    expect_figures(app, e)
    url = app.url
    for key in ("model=gemma-2-27b", "weights=Q5_K_M", "context=6000", "gpu=rtx-3090", "gpus=2", "kv=f16", "batch=1"):
        assert key in url
    other = context.new_page()
    other.goto(url)
    wait_ready(other)
    expect_figures(other, e)
    assert other.locator("#model").input_value() == "gemma-2-27b"
    assert other.locator("#context").input_value() == "6000"
    other.close()
    # another model (its own default context), then back: gemma comes back, with its figures
    set_fields(app, model="qwen3-8b")
    expect_figures(app, estimate(Scenario("qwen3-8b", weights="Q5_K_M", context=4096, gpu="rtx-3090", gpus=2)))
    app.go_back()
    expect(app.locator("#model")).to_have_value("gemma-2-27b")
    expect_figures(app, e)


def test_preset_selects_the_format_its_checkpoint_ships_in(app):
    # gpt-oss ships its experts in MXFP4; the CLI and the page both start a preset in its checkpoint's format
    set_fields(app, model="gpt-oss-20b", gpu="h100-sxm")
    expect(app.locator("#weights")).to_have_value("MXFP4")
    expect_figures(app, estimate(Scenario("gpt-oss-20b", weights="MXFP4", gpu="h100-sxm", context=4096)))
    set_fields(app, model="llama-3.1-8b")  # leaving a checkpoint's own format returns to 16-bit
    expect(app.locator("#weights")).to_have_value("BF16")


def test_copy_link(app, context):
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    set_fields(app, model="qwen2.5-14b", context=12345)
    expect_figures(app, estimate(Scenario("qwen2.5-14b", weights="Q4_K_M", context=12345, gpu="rtx-4090")))
    app.click("#copy-link")
    expect(app.locator("#action-status")).to_have_text("Link copied.")
    assert app.evaluate("navigator.clipboard.readText()") == app.url
    assert "context=12345" in app.url


def test_exports(app):
    set_fields(app, model="llama-3.1-8b", weights="IQ4_XS", context=16384)
    e = estimate(Scenario("llama-3.1-8b", weights="IQ4_XS", context=16384, gpu="rtx-4090"))
    expect_figures(app, e)
    with app.expect_download() as dl:
        app.click("#export-json")
    data = json.loads(Path(dl.value.path()).read_text())
    assert data["total"]["bytes"] == e.total and data["weights"]["bytes"] == e.weights.bytes
    assert data["scenario"]["weights"] == "IQ4_XS" and data["fit"]["gpu"] == "rtx-4090"
    with app.expect_download() as dl:
        app.click("#export-md")
    md = Path(dl.value.path()).read_text()
    assert "| **Total** |" in md and f"{e.total:,}" in md and "GiB = 2^30 bytes" in md


def test_units_toggle(app):
    total = int(app.locator('[data-item="total"]').get_attribute("data-bytes"))
    size = app.locator('[data-slot="total.size"]')
    expect(size).to_have_text(re.compile(r" GiB$"))
    app.check('input[name="units"][value="GB"]')
    expect(size).to_have_text(f"{total / GB:,.2f} GB")
    # a radio sends input (recalculated at once, no history entry) then change (the history entry): the link
    # follows a moment after the figures
    expect(app).to_have_url(re.compile(r"[?&]units=GB(&|$)"))
    app.check('input[name="units"][value="GiB"]')
    expect(size).to_have_text(re.compile(r" GiB$"))


def test_per_gpu_view(app):
    set_fields(app, model="llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", gpus=4, context=8192)
    e = estimate(Scenario("llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", gpus=4, context=8192))
    expect_figures(app, e)
    rows = app.locator("#devices-body tr")
    expect(rows).to_have_count(4)
    for d in e.devices:
        cell = app.locator(f'#devices-body tr[data-device="{d.index}"] [data-field="total"]')
        assert int(cell.get_attribute("data-bytes")) == d.total
    set_fields(app, gpus=1)
    expect(app.locator("#devices")).to_be_hidden()


@pytest.mark.parametrize("field,value", [("context", "-5"), ("batch", ""), ("context", "1e30"), ("batch", "0"),
                                         ("batch", "2.5"), ("gpus", "3"), ("overhead", "-1")])
def test_bad_input_keeps_the_last_result(app, field, value):
    before = shown_bytes(app)
    set_fields(app, **{field: value})
    error = app.locator(f"#{field}-error")
    expect(error).to_be_visible()
    assert error.inner_text().strip()
    expect(app.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(app.locator("#stale-note")).to_be_visible()
    assert shown_bytes(app) == before
    set_fields(app, **{field: "1" if field != "overhead" else ""})
    expect(app.locator("#stale-note")).to_be_hidden()
    expect(error).to_be_hidden()


def test_a_link_with_several_wrong_names_flags_each_at_its_field(open_site):
    # the estimate stops at the first wrong name; the page names every one, each at its own field
    page = open_site("?weights=Q9_K&gpu=rtx-9090&engine=vllm2&context=abc")
    for field in ("weights", "gpu", "engine", "context"):
        expect(page.locator(f"#{field}-error")).to_be_visible()
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#gpu-error")).to_contain_text("rtx-9090")
    expect(page.locator("#stale-note")).to_be_visible()


def test_hostile_model_name_is_text(app):
    dialogs = []
    app.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    set_fields(app, model="custom")
    expect(app.locator("#custom-arch")).to_be_visible()
    name = '<img src=x onerror=alert(1)><script>alert("x")</script>"\'&'
    app.fill("#name", name)
    expect(app.locator('[data-slot="summary"]')).to_contain_text(name)
    assert dialogs == []
    assert app.locator("#results script, #results img").count() == 0
    assert app.evaluate("document.querySelectorAll('img[src=x]').length") == 0


def test_custom_architecture(app):
    set_fields(app, model="llama-3.1-8b", context=4096)
    set_fields(app, model="custom")
    # starts from the model shown before: same figures
    expect_figures(app, estimate(Scenario("llama-3.1-8b", weights=app.locator("#weights").input_value(),
                                          context=4096, gpu="rtx-4090")))
    app.fill("#cfg_num_key_value_heads", "32")  # make it MHA: 4× the KV cache
    from pycore.importers.hf_config import spec_from_config
    spec = spec_from_config(dict(model_type="llama", hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
                                 num_key_value_heads=32, head_dim=128, vocab_size=128256, intermediate_size=14336,
                                 max_position_embeddings=131072, tie_word_embeddings=False))
    expect_figures(app, estimate(Scenario(spec, weights=app.locator("#weights").input_value(), context=4096,
                                          gpu="rtx-4090")))
    app.fill("#cfg_num_key_value_heads", "5")
    expect(app.locator("#cfg-error")).to_contain_text("num_key_value_heads")


def test_keyboard_only(app):
    app.focus("#model")
    app.keyboard.press("ArrowDown")  # next model in the list
    expect(app.locator("#model")).not_to_have_value("llama-3.1-8b")
    chosen = app.locator("#model").input_value()
    e = estimate(Scenario(chosen, weights="Q4_K_M", gpu="rtx-4090", context=min(4096, model(chosen).max_context)))
    expect_figures(app, e)
    # every visible control has a label, and Tab reaches it (a radio group is one stop)
    controls = set()
    for node in app.locator("#calc input:not([type=hidden]):not([type=radio]), #calc select").all():
        if node.is_visible():
            assert app.locator(f'label[for="{node.get_attribute("id")}"]').count() == 1, node.get_attribute("id")
            controls.add(node.get_attribute("id"))
    assert {"model", "weights", "kv", "batch", "context", "gpu", "gpus"} <= controls
    app.locator("body").focus()
    reached = set()
    for _ in range(150):
        app.keyboard.press("Tab")
        reached.add(app.evaluate("document.activeElement.id"))
        if controls <= reached:
            break
    assert controls - reached == set()
    app.locator('[data-item="weights"] summary').focus()
    app.keyboard.press("Enter")
    expect(app.locator('[data-item="weights"] details')).to_have_attribute("open", "")


def test_accessibility_axe(app):
    # Evaluated through the debugging protocol: the page's policy (rightly) refuses an injected inline script.
    app.evaluate((ROOT / "node_modules" / "axe-core" / "axe.min.js").read_text())
    result = app.evaluate("axe.run(document, {resultTypes: ['violations']})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []


@pytest.mark.parametrize("query", ["", "?model=llama-3.1-70b&weights=Q4_K_M&gpu=rtx-4090&gpus=2&context=8192"],
                         ids=["one-gpu", "per-gpu-table"])
def test_mobile_layout_has_no_horizontal_scroll(open_site, query):
    # two GPUs show the per-GPU table (seven columns): it scrolls within its own box, not the page
    page = open_site(query, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page.wait_for_timeout(300)
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    page.screenshot(path=str(out / f"mobile{'-gpus' if query else ''}.png"), full_page=False)
    if query:
        expect(page.locator("#devices")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_screenshot_for_the_readme(app):
    out = ROOT / "test-results"
    out.mkdir(exist_ok=True)
    app.set_viewport_size({"width": 1280, "height": 900})
    app.locator('[data-item="kv_cache"] summary').click()
    app.screenshot(path=str(out / "screenshot.png"))
    assert (out / "screenshot.png").stat().st_size > 10_000


def test_input_typed_while_python_starts_is_computed_once_it_runs(open_site):
    """Python starts in a Web Worker; what is typed meanwhile is kept and computed the moment it runs (the
    pre-rendered default stays until then). A cold start takes a second or more, so the field is filled while
    the page is still loading; the test checks that it was."""
    page = open_site("", ready=False)
    page.fill("#context", "12000")
    assert page.evaluate("document.documentElement.dataset.py") == "loading"
    assert page.locator('[data-item="total"]').get_attribute("data-bytes") == str(
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, gpu="rtx-4090")).total)
    wait_ready(page)
    expect_figures(page, estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=12000, gpu="rtx-4090")))
    expect(page.locator("#context")).to_have_value("12000")


def test_charts_patched_in_place_equal_the_chart_of_a_fresh_page(app, open_site):
    """A new context moves the curve's marker and resizes the bars: boot.js writes the changed attributes and text
    into the chart shown (the same elements, so no new nodes and no restyle of the whole chart), and what it shows
    is what a fresh page draws for the same scenario."""
    charts = ("#bar-chart", "#curve-chart", "#placement-chart")
    app.evaluate("ids => ids.forEach(s => { document.querySelector(s + ' svg').keptForTest = true; })", list(charts))
    set_fields(app, context="30000")
    expect(app).to_have_url(re.compile(r"[?&]context=30000(&|$)"))
    fresh = open_site(app.url[app.url.index("?"):])

    def drawn(page):
        return {s: page.locator(s + " svg").evaluate("n => n.outerHTML") for s in charts}
    for _ in range(100):  # the curve comes with the answers, a moment after the figures, on both pages
        if drawn(app) == drawn(fresh):
            break
        app.wait_for_timeout(100)
    assert drawn(app) == drawn(fresh)
    assert "30,000" in drawn(app)["#curve-chart"] or "30000" in drawn(app)["#curve-chart"]
    for s in charts:  # patched, not replaced
        assert app.locator(s + " svg").evaluate("n => n.keptForTest === true"), s


def test_the_address_is_written_once_inputs_pause(app):
    """The address follows the figures a moment later (boot.js writes the history entry once inputs pause, out of
    the frame that shows the result); <html data-busy> lasts until it is written, so a page that looks settled has
    its link in the address bar."""
    app.locator("#context").fill("12345")
    app.locator("#context").press("Tab")
    settled(app)
    assert re.search(r"[?&]context=12345(&|$)", app.url), app.url


START = "?model=qwen3-8b&context=16384"


def expect_start(page, context=16384):
    """The scenario the start-up tests below open (START: Qwen3-8B, the page's Q4_K_M on an RTX 4090), at
    `context` tokens, as CPython's pycore computes it."""
    expect_total(page, estimate(Scenario("qwen3-8b", weights="Q4_K_M", context=context, gpu="rtx-4090")))


@contextlib.contextmanager
def started(open_site, site_dir, handler=None, setup=None):
    """The page opened at START, its console warnings collected: yields (page, warnings). With `handler`, from a
    server of its own (a QuietHandler that serves some file otherwise), stopped after the page's browser context
    is closed: the page goes on asking for files after the test's last check (the service worker's script once
    Python runs, its fill), and a request to a stopped server would log a console error its watch counts.
    `setup(context)` runs before the page loads."""
    warnings = []
    server = serve_in_background(site_dir, handler) if handler else None
    page = None

    def prepare(context):
        context.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
        if setup:
            setup(context)
    try:
        host = f"127.0.0.1:{server.server_address[1]}" if server else None
        page = open_site((f"http://{host}/" if host else "") + START, hosts=(host,) if host else (), setup=prepare)
        yield page, warnings
    finally:
        if page is not None:
            # a route of setup's still answering when the test ends (the service worker asks for the page again as
            # it fills its cache) would fail inside the next test once this context is closed: dropped here
            page.context.unroute_all(behavior="ignoreErrors")
        if server:
            if page is not None:
                page.context.close()
            server.shutdown()


class CutShort(QuietHandler):
    """The site, with the snapshot's first half served as if it were the whole file."""
    encoding = None

    def send_head(self):
        if not self.path.split("?")[0].endswith("/snapshot.bin.br"):
            return super().send_head()
        body = Path(self.translate_path(self.path)).read_bytes()
        if not self.encoding:
            body = body[: len(body) // 2]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if self.encoding:
            self.send_header("Content-Encoding", self.encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class BrotliEncoded(CutShort):
    """The site, with the whole snapshot sent as Brotli-encoded content: the browser unpacks it on the way."""
    encoding = "br"


def test_a_snapshot_the_server_sent_brotli_encoded_is_taken_as_it_arrives(open_site, site_dir):
    """A host that serves .br files with Content-Encoding: br (some servers' default): the browser has unpacked the
    snapshot already, and the worker starts from it as it arrives (worker.js unpack), not the normal way."""
    with started(open_site, site_dir, BrotliEncoded) as (page, warnings):
        expect_start(page)
        assert not any(u.endswith("/pycore.zip") for u in page.watch.requests)  # the snapshot's start
        assert warnings == []


@pytest.mark.parametrize("cut", [False, True], ids=["refused", "cut-short"])
def test_python_starts_without_its_snapshot_when_it_cannot_be_read(open_site, site_dir, cut):
    """A memory snapshot that cannot be downloaded, or whose Brotli stream ends early (worker.js unpack): the
    worker starts Pyodide the normal way (the whole standard library and pycore.zip) and the page computes."""
    def refuse(context):
        context.route("**/snapshot.bin.br", lambda route: route.abort())
    with started(open_site, site_dir, CutShort if cut else None, None if cut else refuse) as (page, warnings):
        expect_start(page)
        assert any(u.endswith("/pycore.zip") for u in page.watch.requests)  # the normal start's files
        if cut:
            assert any("ends before its Brotli stream does" in w for w in warnings), warnings
        set_fields(page, context="2048")
        expect_start(page, 2048)
        page.watch.errors = [m for m in page.watch.errors if "snapshot.bin.br" not in m]  # the download refused


@pytest.mark.parametrize("attribute, changed, warned", [
    ("data-snapshot-bytes", lambda v: str(int(v) + 16), "the page expects"),
    ("data-snapshot-base", lambda v: v[:-1] + "01"[v[-1] == "0"], "is not the snapshot's base"),
], ids=["length", "base"])
def test_a_snapshot_the_page_describes_otherwise_is_not_used(open_site, site_dir, attribute, changed, warned):
    """Pyodide is given an array of the length the page names (data-snapshot-bytes) before the snapshot is there,
    and the snapshot is rebuilt from its difference with the WebAssembly's data only if that data hashes to what
    the page names (data-snapshot-base; worker.js prefetch, snapshotBase). Either fact wrong: the snapshot is not
    used, the warning says why, and Python starts the normal way (pycore.zip) and computes."""
    def altered(route):
        response = route.fetch()
        html = response.text()
        found = re.search(attribute + r'="([0-9a-f]+)"', html)
        assert found, f"the page has {attribute}"
        route.fulfill(response=response, body=html.replace(found.group(0), f'{attribute}="{changed(found.group(1))}"'))
    with started(open_site, site_dir, setup=lambda c: c.route(re.compile(r"/(\?.*)?$"), altered)) as (page, warnings):
        expect_start(page)
        assert any(u.endswith("/pycore.zip") for u in page.watch.requests)
        assert any("without its snapshot" in w and warned in w for w in warnings), warnings


class NoSecondWorker(QuietHandler):
    """The site, with worker.js sent uncached once (to the page's worker) and refused after that (to the
    unpacking worker it starts)."""
    loads = 0

    def send_head(self):
        if not self.path.split("?")[0].endswith("/worker.js"):
            return super().send_head()
        type(self).loads += 1
        if type(self).loads > 1:
            self.send_error(404, "refused to the unpacking worker")
            return None
        body = Path(self.translate_path(self.path)).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


def test_python_starts_from_its_snapshot_when_the_unpacking_worker_cannot_start(open_site, site_dir):
    """The snapshot is unpacked in a second worker (worker.js offThread); if that worker's module cannot be
    loaded, the files are unpacked on the first worker's thread, with a warning, and Python still starts from the
    snapshot (no pycore.zip)."""
    NoSecondWorker.loads = 0
    with started(open_site, site_dir, NoSecondWorker) as (page, warnings):
        expect_start(page)
        assert not any(u.endswith("/pycore.zip") for u in page.watch.requests)  # the snapshot's start
        assert NoSecondWorker.loads == 2
        assert any("Unpacking on this thread" in w for w in warnings), warnings
        set_fields(page, context="2048")
        expect_start(page, 2048)
        page.watch.errors = [m for m in page.watch.errors if "worker.js" not in m]  # the load refused


class NoPackedRuntime(QuietHandler):
    """The site, with Pyodide's Brotli-packed WebAssembly and JavaScript refused (as by a host without
    netlify.toml's rules for them, or to a browser that does not take Brotli over plain http)."""

    def send_head(self):
        if self.path.split("?")[0].endswith((".wasm.br", ".mjs.br")):
            self.send_error(404, "no packed WebAssembly here")
            return None
        return super().send_head()


def test_python_starts_from_its_snapshot_with_the_plain_runtime(open_site, site_dir):
    """The worker asks for pyodide.asm.wasm.br and pyodide.asm.mjs.br; refused, it takes the plain files instead,
    with warnings, and Python starts from the snapshot (rebuilt from the plain WebAssembly's data) and computes."""
    with started(open_site, site_dir, NoPackedRuntime) as (page, warnings):
        expect_start(page)
        assert not any(u.endswith("/pycore.zip") for u in page.watch.requests)  # the snapshot's start
        assert any(u.endswith("/pyodide.asm.wasm") for u in page.watch.requests)
        assert any(u.endswith("/pyodide.asm.mjs") for u in page.watch.requests)
        assert any("WebAssembly is fetched unpacked" in w for w in warnings), warnings
        assert any("JavaScript is fetched unpacked" in w for w in warnings), warnings
        set_fields(page, context="2048")
        expect_start(page, 2048)
        page.watch.errors = [m for m in page.watch.errors if ".br" not in m]  # the requests refused


def test_answers_still_computing_are_marked_busy_never_shown_as_current(app):
    """The answers, the context curve and the format table follow the main figures in a second message (computed
    after them in the worker). In every frame where the new total is shown but an answer is still the old model's,
    their sections say so (aria-busy, "updating…" by their heading if it lasts); once they are there, they are not busy."""
    first = app.locator('[data-slot="answer.max_context"]').inner_text()
    app.evaluate("""() => {
      window.__frames = [];
      const sample = () => {
        const a = document.querySelector('[data-slot="answer.max_context"]').textContent;
        window.__frames.push([document.querySelector('[data-item="total"]').dataset.bytes, a,
                              document.querySelector('#answers').getAttribute('aria-busy'),
                              document.querySelector('#formats-section').getAttribute('aria-busy')]);
        if (window.__frames.length < 600) requestAnimationFrame(sample);
      };
      requestAnimationFrame(sample);
    }""")
    old_total = app.locator('[data-item="total"]').get_attribute("data-bytes")
    app.select_option("#model", "qwen2.5-72b")
    expect(app.locator('[data-item="total"]')).not_to_have_attribute("data-bytes", old_total)
    new_total = app.locator('[data-item="total"]').get_attribute("data-bytes")
    expect(app.locator("#answers")).not_to_have_attribute("aria-busy", "true")
    expect(app.locator('[data-slot="answer.max_context"]')).not_to_have_text(first)
    frames = app.evaluate("() => window.__frames")
    stale = [f for f in frames if f[0] == new_total and f[1] == first]
    assert all(f[2] == "true" and f[3] == "true" for f in stale), stale[:3]
    assert not app.locator("#formats-section").get_attribute("aria-busy")


def test_model_search_finds_models_by_their_kind(app):
    """The search's placeholder offers "moe": a mixture-of-experts model is found by it though its name may not
    say so (view.model_terms), a dense one is not; a search nothing matches says so."""
    from pycore.presets import PRESETS, model as preset
    from pycore.view import model_terms
    moe = [p for p in PRESETS if preset(p).is_moe]
    dense = [p for p in PRESETS if not preset(p).is_moe]
    app.fill("#model-search", "moe")
    for pid in ("mixtral-8x7b", "qwen3-30b-a3b"):
        assert pid in moe
        assert not app.locator(f'#model option[value="{pid}"]').evaluate("o => o.hidden")
    assert app.locator('#model option[value="llama-3.1-8b"]').evaluate("o => o.hidden")
    expect(app.locator("#model-search-hint")).to_have_text(f"{len(moe)} models match.")
    assert "moe" not in model_terms(preset(dense[0]))
    app.fill("#model-search", "qwen moe")
    assert not app.locator('#model option[value="qwen3-30b-a3b"]').evaluate("o => o.hidden")
    assert app.locator('#model option[value="mixtral-8x7b"]').evaluate("o => o.hidden")
    app.fill("#model-search", "zzzz")
    expect(app.locator("#model-search-hint")).to_contain_text("No model matches")
    assert app.locator('#imported-option').evaluate("o => o.hidden")  # not shown by a search: nothing imported
    app.fill("#model-search", "")
    expect(app.locator("#model-search-hint")).to_have_text("Filters the list below.")
    assert app.locator('#imported-option').evaluate("o => o.hidden")


def test_an_empty_context_field_shows_the_default_it_computes_with(app):
    """The context field left empty (a new model resets it) computes with the model's default; the field shows
    that number as its placeholder, pre-rendered and live, instead of looking blank."""
    from pycore.urlstate import estimate_from_fields, parse_query
    def default_of(model_id):
        e, errors = estimate_from_fields(parse_query(f"?model={model_id}"))
        assert not errors
        return f"{e.scenario.context:,} (default)"
    expect(app.locator("#context")).to_have_attribute("placeholder", default_of("llama-3.1-8b"))
    app.select_option("#model", "falcon-7b")
    settled(app)
    expect(app.locator("#context")).to_have_value("")
    expect(app.locator("#context")).to_have_attribute("placeholder", default_of("falcon-7b"))
    assert default_of("falcon-7b") != default_of("llama-3.1-8b")


def test_kv_type_the_engine_lacks_is_shown_at_the_field(app):
    # vLLM has no llama.cpp q8_0 cache (vllm/config/cache.py@c1d86421 CacheDType): the page says so at the KV field,
    # keeps the last result, and clears the message once an FP8 cache (a vLLM type) is chosen.
    set_fields(app, model="llama-3.1-8b", weights="BF16", engine="vllm", kv="f16")
    before = shown_bytes(app)
    set_fields(app, kv="q8_0")
    error = app.locator("#kv-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("vLLM has no q8_0 KV cache")
    assert shown_bytes(app) == before
    set_fields(app, kv="fp8")
    expect(error).to_be_hidden()
