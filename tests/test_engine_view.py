"""The page's engine blocks (pycore.view.engine_view / offload_answers, pycore.charts.placement_bars): the
figures come from the estimate's engine plan, never computed again; the SVG is well-formed and escaped."""
import xml.etree.ElementTree as ET

from pycore import Scenario, estimate
from pycore import view as V
from pycore.charts import MAX_PLACEMENT_ROWS, placement_bars
from pycore.units import format_bytes

SVG = "{http://www.w3.org/2000/svg}"


def test_offload_answers_are_the_plans_figures():
    # Llama 3.1 70B Q4_K_M on one RTX 4090: llama.cpp's plan says how many of its 81 layers fit
    e = estimate(Scenario("llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", ram_bytes=64 << 30))
    f = e.engine_plan.fields
    a = V.offload_answers(e)
    assert 0 < f["max_ngl_that_fits"] < f["layers_total"] == 81
    assert a["max_ngl"] == f"{f['max_ngl_that_fits']} of 81 layers: the other {81 - f['max_ngl_that_fits']} in system RAM"
    assert a["min_n_cpu_moe"] == "dense model: no experts to move"
    assert a["ram_needed"].startswith(format_bytes(e.host.total) + " at this setting (of 64.00 GiB system RAM")


def test_moe_answer_names_the_layers_whose_experts_stay_in_ram():
    e = estimate(Scenario("qwen3-30b-a3b", weights="Q4_K_M", gpu="rtx-3060", context=32768))
    m = e.engine_plan.fields["min_n_cpu_moe_that_fits"]
    assert m and m > 0
    assert V.offload_answers(e)["min_n_cpu_moe"].startswith(f"{m}: the experts of the first {m} layers")


def test_engines_without_offload_say_so():
    e = estimate(Scenario("llama-3.1-8b", weights="BF16", gpu="h100-sxm", engine="vllm"))
    assert "no partial offload" in V.offload_answers(e)["max_ngl"]
    t = estimate(Scenario("llama-3.1-8b", weights="BF16", gpu="h100-sxm", engine="transformers"))
    view = V.estimate_view(t)
    assert view["placement_svg"] == "" and view["log"] == "" and view["no_plan"]


def test_placement_bars_hold_each_gpu_and_the_host():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", gpu="rtx-4090", ngl=20, ram_bytes=16 << 30))
    svg = ET.fromstring(placement_bars(e))
    desc = svg.find(SVG + "desc").text
    d = e.devices[0]
    assert f"GPU 0 {format_bytes(d.total)} of {format_bytes(e.fit.capacity)}" in desc
    assert f"System RAM {format_bytes(e.host.total)} of 16.00 GiB" in desc
    drawn = [r for r in svg.iter(SVG + "rect") if r.find(SVG + "title") is not None]
    assert {r.find(SVG + "title").text.split(",")[0] for r in drawn} == {"GPU 0", "System RAM"}


def test_placement_bars_are_bounded_for_many_gpus():
    e = estimate(Scenario("llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", gpus=12, parallel="pipeline"))
    svg = ET.fromstring(placement_bars(e))
    rows = {t.text.split(":")[0] for t in svg.iter(SVG + "text") if t.text.startswith("GPU ")}
    assert len(rows) == MAX_PLACEMENT_ROWS
    assert "4 more GPUs not drawn" in svg.find(SVG + "desc").text


def test_log_slot_is_the_engines_lines():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", gpu="rtx-4090", flash_attn="off"))
    slots = V.slots(V.estimate_view(e))
    assert slots["engine.log"].split("\n") == list(e.engine_plan.log)
    assert slots["engine.log_title"] == "What llama.cpp will print (predicted)"


def test_the_breakdown_bar_names_what_stays_in_system_ram():
    # The bar is what the fullest GPU holds against its capacity; with llama.cpp's defaults the token embeddings
    # (and the output buffer) stay in system RAM, so the bar's sum is below the result's total: the chart says so
    # in its title, description and capacity line (a review read "total 5.55 GiB" in the chart under a table whose
    # total was 5.84 GiB, with nothing to tell the two apart).
    from pycore import Scenario, estimate
    from pycore.charts import breakdown_bar
    from pycore.units import BINARY, format_bytes
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, gpu="rtx-4090"))
    assert e.host is not None and e.host.total > 0
    svg = breakdown_bar(e, BINARY)
    ram = format_bytes(e.host.total, BINARY)
    assert f"<title id=\"bar-title\">Memory on the GPU (and {ram} in system RAM)</title>" in svg
    assert f"and {ram} in system RAM, not in this bar" in svg
    assert sum(d.total for d in e.devices) + e.host.total == e.total  # the two parts are the result's total
    # no system RAM share: the plain title
    v = estimate(Scenario("llama-3.1-8b", weights="BF16", context=4096, gpu="h100-sxm", engine="vllm"))
    assert v.host is None or v.host.total == 0
    assert "<title id=\"bar-title\">Memory breakdown</title>" in breakdown_bar(v, BINARY)


def test_the_capacity_line_says_whether_the_bar_fits():
    # A review read "Usable on NVIDIA GeForce RTX 4090: 23.99 GiB" in the warning red under a model that fits
    from pycore import Scenario, estimate
    from pycore.charts import breakdown_bar
    from pycore.units import BINARY
    fits = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, gpu="rtx-4090"))
    over = estimate(Scenario("llama-3.1-70b", weights="BF16", context=4096, gpu="rtx-4090"))
    assert fits.fit.fits and not over.fit.fits
    assert 'class="capacity fits"' in breakdown_bar(fits, BINARY) and 'class="legend capacity-label fits"' in breakdown_bar(fits, BINARY)
    assert 'class="capacity over"' in breakdown_bar(over, BINARY) and 'class="legend capacity-label over"' in breakdown_bar(over, BINARY)


def test_the_context_curve_ticks_are_round_numbers_in_a_readable_unit():
    # A review read the ticks 0 / 6 / 13 / 19 / 26 GiB (quarters of the axis), and 435376 ... 1741505 GiB for a
    # batch of 100,000 drawn over the axis title.
    import re
    from pycore import Scenario, estimate
    from pycore.charts import context_curve, nice_ticks
    from pycore.units import BINARY
    assert nice_ticks(26.3) == [0, 5, 10, 15, 20, 25]
    assert nice_ticks(1.0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(9.0) == [0, 2, 4, 6, 8]
    assert nice_ticks(0.3) == [0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]
    assert nice_ticks(1741.5) == [0, 500, 1000, 1500]
    svg = context_curve(estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, gpu="rtx-4090")), BINARY)
    ticks = re.findall(r'class="tick" x="[^"]+" y="[^"]+" text-anchor="end">([^<]+)</text>', svg)
    assert ticks[0] == "0" and all(float(t.replace(",", "")) % 5 == 0 for t in ticks), ticks
    big = context_curve(estimate(Scenario("llama-3.1-8b", weights="BF16", context=4096, batch=100_000,
                                          gpu="rtx-4090", engine="transformers")), BINARY)
    assert "memory (TiB)" in big
    assert all(len(t) <= 5 for t in re.findall(r'class="tick" x="[^"]+" y="[^"]+" text-anchor="end">([^<]+)</text>', big))
