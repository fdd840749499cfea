"""Bring your own model in the page: files are read on the device (header only), configs pasted or
fetched from a stand-in of the Hugging Face Hub; what the files say is shown as text."""
import json

from gguf import GGUFReader
from playwright.sync_api import expect

from conftest import expect_total, quiet
from gguf_files import SPECS, write_spec_gguf
from pycore import Scenario, estimate
from pycore.importers.hf_config import checkpoint_format, spec_from_config
from safetensors_files import LLAMA_CONFIG, hf_tensors, write_safetensors

HOSTILE = '<img src=x onerror="alert(1)"><script>alert(2)</script>"\'&'
QWEN_SMALL = {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
              "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
              "max_position_embeddings": 32768, "tie_word_embeddings": True, "torch_dtype": "bfloat16"}


def open_import(page):
    page.click("#import-box summary")


def test_gguf_file_is_read_locally_and_exactly(app, tmp_path):
    path = write_spec_gguf(tmp_path / "evil.gguf", SPECS["qwen3moe-experts"], ("Q4_K", "Q6_K"), name=HOSTILE,
                           tokens=3000)
    dialogs = []
    app.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_import(app)
    before = len(app.watch.requests)
    app.set_input_files("#model-file", str(path))
    expected = sum(int(t.n_bytes) for t in GGUFReader(path).tensors)
    expect(app.locator('[data-item="weights"]')).to_have_attribute("data-bytes", str(expected))
    assert app.locator("#model").input_value() == "imported"
    assert app.locator("#weights").input_value() == "file"
    # what the file says is text: the model name with markup shows verbatim and creates nothing
    expect(app.locator("#import-title")).to_contain_text(HOSTILE)
    expect(app.locator('[data-slot="summary"]')).to_contain_text(HOSTILE)
    assert app.locator("#imported-option").text_content() == HOSTILE
    assert app.evaluate("document.querySelectorAll('img[src=x], script:not([src]):not([type])').length") == 0
    assert dialogs == []
    expect(app.locator("#import-mix tbody tr")).to_have_count(3)
    # the file never left the browser: choosing it made no request (the browser's own late favicon aside)
    assert [u for u in app.watch.requests[before:] if not u.endswith("/favicon.svg")] == []
    # the architecture came from the header: the KV cache follows it
    spec = SPECS["qwen3moe-experts"]
    e = estimate(Scenario(spec, weights="BF16", context=4096, engine="llama.cpp", gpu="rtx-4090"))
    assert int(app.locator('[data-item="kv_cache"]').get_attribute("data-bytes")) == e.kv_cache.bytes


def test_safetensors_with_config_and_a_broken_file(app, tmp_path):
    st = write_safetensors(tmp_path / "model.safetensors", hf_tensors(LLAMA_CONFIG))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(LLAMA_CONFIG))
    open_import(app)
    app.set_input_files("#model-file", [str(st), str(cfg)])
    header_len = int.from_bytes(st.read_bytes()[:8], "little")
    expect(app.locator('[data-item="weights"]')).to_have_attribute(
        "data-bytes", str(st.stat().st_size - 8 - header_len))
    before = {k: app.locator(f'[data-item="{k}"]').get_attribute("data-bytes") for k in ("weights", "total")}
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 64)
    app.set_input_files("#model-file", str(bad))
    expect(app.locator("#model-file-error")).to_be_visible()
    assert app.locator("#model-file-error").inner_text().strip()
    assert {k: app.locator(f'[data-item="{k}"]').get_attribute("data-bytes") for k in ("weights", "total")} == before


def test_pasted_config(app):
    open_import(app)
    config = dict(QWEN_SMALL, quantization_config={"quant_method": "awq", "bits": 4, "group_size": 128})
    app.fill("#config-text", json.dumps(config))
    app.click("#use-config")
    weights = checkpoint_format(config)[0]
    assert weights == "AWQ-4bit-g128"
    expect(app.locator("#weights")).to_have_value(weights)
    e = estimate(Scenario(spec_from_config(config), weights=weights, context=4096, gpu="rtx-4090"))
    expect_total(app, e)
    app.fill("#config-text", '{"model_type": "llama", "hidden_size": 4096}')
    app.click("#use-config")
    expect(app.locator("#config-text-error")).to_contain_text("num_hidden_layers")


def test_hub_stand_in(app):
    """The Hub's URL layout served locally (route interception): the real network is never touched."""
    app.watch.allowed.add("huggingface.co")
    asked = []

    def hub(route):
        asked.append(route.request.url)
        if route.request.url.endswith("/Qwen/Qwen2.5-0.5B/resolve/main/config.json"):
            route.fulfill(status=200, content_type="application/json", body=json.dumps(QWEN_SMALL),
                          headers={"Access-Control-Allow-Origin": "*"})
        else:
            route.fulfill(status=404, body="Entry not found", headers={"Access-Control-Allow-Origin": "*"})
    app.route("https://huggingface.co/**", hub)
    open_import(app)
    app.fill("#hub-id", "Qwen/Qwen2.5-0.5B")
    app.click("#hub-load")
    e = estimate(Scenario(spec_from_config(QWEN_SMALL), weights="BF16", context=4096, gpu="rtx-4090"))
    expect_total(app, e)
    # no safetensors in this stand-in: the architecture alone, after looking for the index and the single file
    assert asked == ["https://huggingface.co/Qwen/Qwen2.5-0.5B/resolve/main/config.json",
                     "https://huggingface.co/Qwen/Qwen2.5-0.5B/resolve/main/model.safetensors.index.json",
                     "https://huggingface.co/Qwen/Qwen2.5-0.5B/resolve/main/model.safetensors"]
    # a model the Hub does not have, an id that is not one, and no network: a message at the field
    quiet(app)
    app.fill("#hub-id", "nobody/nothing")
    app.click("#hub-load")
    expect(app.locator("#hub-id-error")).to_contain_text("404")
    app.fill("#hub-id", "../../etc/passwd")
    app.click("#hub-load")
    expect(app.locator("#hub-id-error")).to_contain_text("owner/name")
    app.unroute("https://huggingface.co/**")
    app.route("https://huggingface.co/**", lambda route: route.abort("internetdisconnected"))
    app.fill("#hub-id", "Qwen/Qwen2.5-1.5B")  # (Qwen2.5-0.5B is in memory now: reading it again needs no network)
    app.click("#hub-load")
    expect(app.locator("#hub-id-error")).to_contain_text("could not reach")
    app.watch.errors = [m for m in app.watch.errors if "huggingface.co" not in m and "Failed to load" not in m]
