"""Hardware first: every listed model fits (checked by a fresh estimate), none is missed that fits at its
best format, filters hold, and the CLI's bench mirror prints llama-bench's test names."""
import json

from hypothesis import HealthCheck, given, settings, strategies as st

from pycore.cli import main, run
from pycore.hardware import GPUS, custom_gpu, gpu
from pycore.hwfirst import FORMAT_QUALITY, fit_table
from pycore.memory import estimate
from pycore.presets import PRESETS
from pycore.scenario import Scenario
from pycore.units import GiB

HOST = gpu("cpu-ddr5-5600-2ch")
DEVICES = sorted(GPUS)


def _check_rows(device, gpus, ram, context, rows):
    for r in rows:
        kw = {"gpu_memory_bytes": device.memory_bytes} if device.id == "custom" else {"gpu": device.id}
        e = estimate(Scenario(r["id"], weights=r["format"], context=context, engine="llama.cpp", gpus=gpus,
                              parallel="pipeline", **kw))
        need = max(d.total for d in e.devices)
        if r["offload"]:
            over = (need - e.fit.capacity) * gpus
            assert 0 < over <= ram, r
            assert abs(r["host_share"] - over / e.weights.bytes) < 1e-3
            if device.kind == "unified":  # one pool: the GPU's share and the offloaded layers together
                assert e.total <= ram, r
        else:
            assert e.fit.fits and need <= e.fit.capacity, r


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gid=st.sampled_from(DEVICES), gpus=st.sampled_from([1, 2]), ram=st.sampled_from([0, 16, 64]),
       context=st.sampled_from([2048, 8192, 32768]))
def test_never_lists_a_model_that_does_not_fit(gid, gpus, ram, context):
    device = gpu(gid)
    ram = ram * GiB
    if device.kind == "unified":  # its RAM is its own memory: --ram may not exceed it (test_review_warnings.py)
        ram = min(ram, device.memory_bytes * gpus)
    rows = fit_table(device, gpus=gpus, ram_bytes=ram, context=context, host=HOST)
    _check_rows(device, gpus, ram, context, rows)


def test_best_format_is_the_best_that_fits():
    device = gpu("rtx-4090")
    rows = {r["id"]: r for r in fit_table(device, context=8192)}
    order = [name for name, _ in FORMAT_QUALITY]
    for r in rows.values():
        for better in order[:order.index(r["format"])]:
            e = estimate(Scenario(r["id"], weights=better, context=8192, engine="llama.cpp", gpu="rtx-4090"))
            assert not e.fit.fits, (r["id"], better)
    # and no model is left out that fits at the smallest format
    for pid in PRESETS:
        if pid in rows:
            continue
        e = estimate(Scenario(pid, weights="Q2_K", context=8192, engine="llama.cpp", gpu="rtx-4090"))
        assert not e.fit.fits or e.model.max_context < 8192, pid


def test_filters_and_custom_device():
    device = custom_gpu(16 * GiB, 500.0)
    rows = fit_table(device, context=4096, moe="yes")
    assert rows and all(r["moe"] for r in rows)
    assert all(r["prefill_tokens_per_s"] is None and r["decode_tokens_per_s"] > 0 for r in rows)
    small = fit_table(gpu("m4-max-128gb"), context=4096, max_params=10, family="qwen")
    assert small and all(r["parameters"] <= 10e9 and r["id"].startswith("qwen") for r in small)
    _check_rows(device, 1, 0, 4096, rows)


def test_sorted_by_quality_then_speed():
    rows = fit_table(gpu("m4-max-128gb"), context=8192)
    keys = [(-r["quality"], -r["decode_tokens_per_s"]) for r in rows]
    assert keys == sorted(keys)


def test_fit_cli_json_and_text(capsys):
    rows = json.loads(run(["fit", "--gpu", "rtx-3060", "--context", "4096", "--json"]))
    assert rows and all(r["total_bytes"] <= r["capacity_bytes"] for r in rows if not r["offload"])
    assert "models fit" in run(["fit", "--memory", "24", "--bandwidth", "900", "--context", "4096"])
    assert main(["fit"]) == 2
    assert main(["fit", "--memory", "nan", "--bandwidth", "1"]) == 2


def test_bench_mirror_test_names():
    rows = json.loads(run(["bench", "--model", "llama-2-7b", "--weights", "Q4_0", "--gpu", "rtx-4090",
                           "-p", "512", "-n", "128", "-d", "0,4096", "--json"]))
    assert [r["test"] for r in rows] == ["pp512", "tg128", "pp512 @ d4096", "tg128 @ d4096"]
    assert rows[0]["bound"] == "compute" and rows[1]["bound"] == "memory"
    assert rows[2]["tokens_per_s"] < rows[0]["tokens_per_s"] and rows[3]["tokens_per_s"] < rows[1]["tokens_per_s"]
    text = run(["bench", "--model", "llama-2-7b", "--weights", "Q4_0", "--gpu", "rtx-4090"])
    tests = [line.split("|")[7].strip() for line in text.splitlines() if line.startswith("| Llama 2 7B")]
    assert tests == ["pp512", "tg128"]


def test_bench_partial_offload_is_slower():
    full = json.loads(run(["bench", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--gpu", "rtx-3060",
                           "-p", "512", "-n", "128", "--json"]))
    half = json.loads(run(["bench", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--gpu", "rtx-3060",
                           "--ngl", "16", "-p", "512", "-n", "128", "--json"]))
    assert half[1]["tokens_per_s"] < full[1]["tokens_per_s"] / 2
    assert main(["bench", "--model", "llama-2-7b", "--gpu", "rtx-4090", "-p", "x"]) == 2


def test_a_fit_that_fails_on_system_ram_is_not_offered_as_an_offload():
    # Found by the property above: a 128 GB M2 Ultra (unified memory) with 16 GiB entered as its RAM. Every
    # model whose GPU share fits still fails on that RAM; offloading weights to RAM cannot help it, so such a
    # model is not listed (before: listed with a negative share of its weights "in RAM").
    from pycore.hardware import gpu
    from pycore.hwfirst import fit_table
    rows = fit_table(gpu("m2-ultra-128gb"), gpus=2, context=2048, ram_bytes=16 << 30)
    assert all(0 <= r["host_share"] <= 1 for r in rows)
