"""The engine's settings on the page (issue #10, "the page"): llama.cpp / Ollama / vLLM / SGLang settings under "More
settings", the GPU / system-RAM split, the offload answers and the predicted log lines, each the figure
CPython pycore gives for the same Scenario."""
from urllib.parse import urlencode

from playwright.sync_api import expect

from conftest import expect_total
from test_page import set_fields
from pycore import Scenario, estimate
from pycore import view as V

GiB = 2**30
BASE = dict(model="llama-3.1-8b", weights="Q4_K_M", context=4096, gpu="rtx-4090")


def expect_engine(page, e):
    """Totals, host bytes, the log lines and the offload answers of estimate `e`, on the page."""
    expect_total(page, e)
    expect(page.locator("#engine-plan")).to_have_attribute("data-host-bytes", str(e.host.total))
    expect(page.locator("#engine-log")).to_have_text("\n".join(e.engine_plan.log))
    answers = V.answers_view(e)
    for key in ("max_ngl", "min_n_cpu_moe", "ram_needed"):
        expect(page.locator(f'[data-slot="answer.{key}"]')).to_have_text(answers[key])


def reset(page):
    set_fields(page, model=BASE["model"])
    set_fields(page, weights="BF16", context="4096", gpu="h100-sxm", engine="vllm")
    set_fields(page, gpu_memory_utilization="", max_num_batched_tokens="", max_num_seqs="", speculative_method="",
               num_speculative_tokens="", draft_model="", data_parallel_size="", enable_expert_parallel=False)
    set_fields(page, engine="sglang")
    set_fields(page, mem_fraction_static="", chunked_prefill_size="", page_size="")
    set_fields(page, weights=BASE["weights"], gpu=BASE["gpu"], engine="auto", flash_attn="auto", ngl="", n_cpu_moe="", ubatch="", ram="",
               swa_full=False, no_kv_offload=False)


def test_ngl_flash_attention_and_ram_match_cpython(shared_app):
    page = shared_app
    reset(page)
    set_fields(page, ngl="20", flash_attn="off", ram="16")
    e = estimate(Scenario(**BASE, ngl=20, flash_attn="off", ram_bytes=16 * GiB))
    assert e.host.total > 0 and e.engine_plan.log  # part of the model really stays in RAM
    expect_engine(page, e)
    expect(page.locator("#engine-log")).to_contain_text("offloaded 20/33 layers to GPU")
    expect(page.locator("#placement-chart desc")).to_have_text(
        V.estimate_view(e)["placement_svg"].split("<desc id=\"placement-desc\">")[1].split("</desc>")[0]
        .replace("&amp;", "&"))
    # the link carries the engine settings, and only those that changed
    url = page.url
    assert "ngl=20" in url and "flash_attn=off" in url and "ram=16" in url and "swa_full" not in url


def test_moe_offload_and_kv_in_ram(shared_app):
    page = shared_app
    reset(page)
    set_fields(page, model="qwen3-30b-a3b", weights="Q4_K_M", context="32768", gpu="rtx-3060")
    set_fields(page, n_cpu_moe="20", no_kv_offload=True, ubatch="256", ram="64")
    e = estimate(Scenario("qwen3-30b-a3b", weights="Q4_K_M", context=32768, gpu="rtx-3060", n_cpu_moe=20,
                          kv_offload=False, ubatch=256, ram_bytes=64 * GiB))
    expect_engine(page, e)
    assert e.host.kv_cache > 0


def test_settings_follow_the_engine(shared_app):
    page = shared_app
    reset(page)
    llama, vllm = page.locator('fieldset[data-engines="llama.cpp ollama koboldcpp"]'), page.locator('fieldset[data-engines="vllm"]')
    expect(llama).to_be_visible()
    expect(vllm).to_be_hidden()
    set_fields(page, weights="BF16", engine="vllm", gpu="h100-sxm")
    expect(vllm).to_be_visible()
    expect(llama).to_be_hidden()
    set_fields(page, gpu_memory_utilization="0.8", max_num_seqs="16")
    e = estimate(Scenario(**{**BASE, "weights": "BF16", "gpu": "h100-sxm"}, engine="vllm", gpu_memory_utilization=0.8,
                          max_num_seqs=16))
    expect_engine(page, e)
    expect(page.locator("#engine-log")).to_contain_text("gpu_memory_utilization=0.80")
    set_fields(page, engine="transformers")
    expect(page.locator("#engine-none")).to_be_visible()
    expect(page.locator("#engine-plan")).to_be_hidden()


def test_koboldcpp_on_the_page_matches_the_cli(shared_app):
    # KoboldCpp (pycore/engines/koboldcpp.py): its --gpulayers guess, contextsize + 128 cells and its log lines, the
    # figures the CLI gives for `estimate --engine koboldcpp` with the same settings
    page = shared_app
    reset(page)
    set_fields(page, engine="koboldcpp", context="8192")
    llama = page.locator('fieldset[data-engines="llama.cpp ollama koboldcpp"]')
    expect(llama).to_be_visible()
    e = estimate(Scenario(**{**BASE, "context": 8192}, engine="koboldcpp"))
    expect_engine(page, e)
    expect(page.locator("#engine-log")).to_contain_text("Auto Recommended GPU Layers:")
    expect(page.locator("#engine-log")).to_contain_text("llama_context: n_ctx = 8448")
    set_fields(page, ngl="20", ubatch="1024")
    e = estimate(Scenario(**{**BASE, "context": 8192}, engine="koboldcpp", ngl=20, ubatch=1024))
    expect_engine(page, e)
    expect(page.locator("#engine-log")).to_contain_text("offloaded 20/33 layers to GPU")
    assert "engine=koboldcpp" in page.url


def test_bad_values_keep_the_previous_result(shared_app):
    page = shared_app
    reset(page)
    set_fields(page, ngl="10")
    e = estimate(Scenario(**BASE, ngl=10))
    expect_engine(page, e)
    for field, bad in (("ngl", "-1"), ("ram", "0")):
        set_fields(page, **{field: bad})
        expect(page.locator(f"#{field}-error")).to_be_visible()
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#stale-note")).to_be_visible()
        expect_engine(page, e)  # the last valid figures stay
        set_fields(page, **{field: "10" if field == "ngl" else ""})
        expect(page.locator(f"#{field}-error")).to_be_hidden()
    set_fields(page, weights="BF16", engine="vllm", gpu="h100-sxm")
    good = estimate(Scenario(**{**BASE, "weights": "BF16", "gpu": "h100-sxm"}, engine="vllm", ngl=10))
    expect_total(page, good)
    set_fields(page, gpu_memory_utilization="1.5")
    expect(page.locator("#gpu_memory_utilization-error")).to_contain_text("at most 1")
    expect_total(page, good)
    set_fields(page, gpu_memory_utilization="")


def test_a_link_with_engine_keys_reproduces_the_result(open_site):
    query = urlencode(dict(BASE, ngl=12, flash_attn="off", ram=24, swa_full=1, ubatch=256))
    page = open_site("?" + query)
    e = estimate(Scenario(**BASE, ngl=12, flash_attn="off", ram_bytes=24 * GiB, swa_full=True, ubatch=256))
    expect_engine(page, e)
    assert page.locator("#ngl").input_value() == "12"
    assert page.locator("#flash_attn").input_value() == "off"
    assert page.locator("#swa_full").is_checked()
    assert not page.locator("#no_kv_offload").is_checked()


def test_the_prerendered_page_carries_the_engine_blocks(open_site):
    page = open_site("", ready=False)
    e = estimate(Scenario(**BASE))
    expect(page.locator("#engine-plan")).to_have_attribute("data-host-bytes", str(e.host.total))
    assert page.locator("#engine-log").text_content() == "\n".join(e.engine_plan.log)
    assert page.locator("#placement-chart svg").count() == 1


def test_copy_button_copies_the_log_lines(open_site):
    page = open_site("?" + urlencode(dict(BASE, ngl=8)))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    e = estimate(Scenario(**BASE, ngl=8))
    expect(page.locator("#engine-log")).to_have_text("\n".join(e.engine_plan.log))
    page.locator("#copy-log").click()
    expect(page.locator("#log-status")).to_have_text("Log lines copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "\n".join(e.engine_plan.log)


BOXES = "#results, #answers, #engine-section, #placement-chart, #engine-log, #curve-section, details.more"


def test_first_paint_keeps_its_geometry(open_site):
    """The pre-rendered page already holds the engine blocks at their final size: Python starting changes no box."""
    page = open_site("", ready=False, viewport={"width": 1280, "height": 900})
    # Measured after the first frame: until then the panels' content-visibility:auto has not decided which are
    # near the viewport, and all of them have their placeholder size (contain-intrinsic-size), never painted.
    measure = f"""async () => {{
        await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
        return [...document.querySelectorAll("{BOXES}")].map(n => {{
            const r = n.getBoundingClientRect(); return [n.id || n.className, r.x, r.y, r.width, r.height]; }}); }}"""
    before = page.evaluate(measure)
    assert page.locator("html[data-py=ready]").count() == 0  # measured before Python took over
    page.locator("html[data-py=ready]").wait_for(state="attached", timeout=60_000)
    page.wait_for_timeout(300)  # the secondary render (answers, curve) runs after a zero timeout
    assert page.evaluate(measure) == before


def test_a_bad_value_in_a_link_is_shown_at_its_field(open_site):
    """ngl=-1 in a link: "More settings" opens on the message; the vLLM value shows though llama.cpp is chosen."""
    page = open_site("?" + urlencode(dict(BASE, ngl=-1, gpu_memory_utilization=1.5)))
    expect(page.locator("#ngl-error")).to_be_visible()
    expect(page.locator("#ngl-error")).to_contain_text("at least 0")
    expect(page.locator("#gpu_memory_utilization-error")).to_be_visible()
    expect(page.locator("#stale-note")).to_be_visible()
    expect_total(page, estimate(Scenario(**BASE)))  # the pre-rendered default stays, marked stale


def test_vllm_speculative_and_data_parallel_settings(shared_app):
    # --speculative-config (MTP of Qwen3.5-9B: its state-page padding and padding layers), then a draft model,
    # then data parallelism with expert parallelism: each the figure CPython gives, and each kept in the link
    page = shared_app
    reset(page)
    set_fields(page, model="qwen3.5-9b")
    set_fields(page, weights="BF16", engine="vllm", gpu="h100-sxm")
    set_fields(page, speculative_method="mtp")
    expect(page.locator("#num_speculative_tokens-error")).to_be_visible()  # a method needs its token count
    set_fields(page, num_speculative_tokens="1")
    e = estimate(Scenario("qwen3.5-9b", weights="BF16", context=4096, gpu="h100-sxm", engine="vllm",
                          speculative_method="mtp", num_speculative_tokens=1))
    expect_engine(page, e)
    expect(page.locator("#engine-log")).to_contain_text("Add 3 padding layers")
    assert "speculative_method=mtp" in page.url and "num_speculative_tokens=1" in page.url
    set_fields(page, model="qwen3-30b-a3b")
    set_fields(page, weights="BF16", speculative_method="", num_speculative_tokens="", data_parallel_size="2",
               enable_expert_parallel=True)
    e = estimate(Scenario("qwen3-30b-a3b", weights="BF16", context=4096, gpu="h100-sxm", engine="vllm",
                          data_parallel_size=2, enable_expert_parallel=True))
    expect_engine(page, e)
    assert "data_parallel_size=2" in page.url and "enable_expert_parallel=1" in page.url
    set_fields(page, model="llama-3.1-8b")
    set_fields(page, weights="BF16", data_parallel_size="", enable_expert_parallel=False,
               speculative_method="draft_model", num_speculative_tokens="4", draft_model="llama-3.2-1b")
    e = estimate(Scenario("llama-3.1-8b", weights="BF16", context=4096, gpu="h100-sxm", engine="vllm",
                          speculative_method="draft_model", num_speculative_tokens=4, draft_model="llama-3.2-1b"))
    expect_engine(page, e)
    reset(page)
def test_a_link_with_a_tensor_split_places_layers_by_it(open_site):
    """--tensor-split 3,1 over two GPUs: the page gives CPython's figures; a bad split is shown at its field."""
    split = dict(BASE, model="llama-3.1-70b", gpus=2, engine="llama.cpp")
    page = open_site("?" + urlencode(dict(split, tensor_split="3,1")))
    e = estimate(Scenario(**split, tensor_split=(3, 1)))
    assert e.engine_plan.fields["layers_per_gpu"] == [61, 20]
    expect_engine(page, e)
    assert page.locator("#tensor_split").input_value() == "3,1"
    page = open_site("?" + urlencode(dict(split, tensor_split="3,1,1")))
    expect(page.locator("#tensor_split-error")).to_be_visible()
    expect(page.locator("#tensor_split-error")).to_contain_text("3 values for 2 GPUs")


def test_sglang_settings_pool_and_log_match_cpython(shared_app):
    # SGLang on the page: its settings shown with it, its figures and predicted log lines (the KV pool it allocates
    # whole at start) those CPython pycore gives for the same Scenario, and its settings kept in the link
    page = shared_app
    reset(page)
    sglang = page.locator('fieldset[data-engines="sglang"]')
    expect(sglang).to_be_hidden()
    set_fields(page, weights="BF16", engine="sglang", gpu="h100-sxm")
    expect(sglang).to_be_visible()
    expect(page.locator('fieldset[data-engines="vllm"]')).to_be_hidden()
    e = estimate(Scenario(**{**BASE, "weights": "BF16", "gpu": "h100-sxm"}, engine="sglang"))
    expect_engine(page, e)
    set_fields(page, mem_fraction_static="0.85", page_size="64")
    e = estimate(Scenario(**{**BASE, "weights": "BF16", "gpu": "h100-sxm"}, engine="sglang", mem_fraction_static=0.85,
                          page_size=64))
    expect_engine(page, e)
    tokens = e.engine_plan.fields["max_total_num_tokens"]
    assert tokens % 64 == 0
    expect(page.locator("#engine-log")).to_contain_text(f"KV Cache is allocated. #tokens: {tokens}, K size: ")
    assert "engine=sglang" in page.url and "mem_fraction_static=0.85" in page.url and "page_size=64" in page.url
    set_fields(page, mem_fraction_static="1.5")  # outside (0, 1): said at the field
    expect(page.locator("#mem_fraction_static-error")).to_be_visible()
    set_fields(page, mem_fraction_static="", page_size="")
    reset(page)
