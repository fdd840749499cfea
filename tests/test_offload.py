"""Partial offload (llama.cpp --n-gpu-layers / --n-cpu-moe, Ollama num_gpu): properties that can fail,
the inverse answers, and bad input at the CLI.
"""
import json
import subprocess
import sys

import pytest

from pycore.memory import estimate
from pycore.scenario import Scenario

CASES = [("llama-3.1-70b", "Q4_K_M", "rtx-4090"), ("gemma-2-9b", "Q8_0", "rtx-3060"),
         ("qwen3-30b-a3b", "Q4_K_M", "rtx-4060-ti-16gb"), ("gpt-oss-20b", "MXFP4", "rtx-4060-ti-16gb")]


def _cases():
    from pycore.hardware import GPUS
    from pycore.presets import PRESETS
    return [c for c in CASES if c[0] in PRESETS and c[2] in GPUS]


@pytest.mark.parametrize("model,fmt,gpu", _cases())
def test_gpu_bytes_fall_and_host_bytes_rise_as_ngl_falls(model, fmt, gpu):
    layers = estimate(Scenario(model, weights=fmt, engine="llama.cpp", gpu=gpu)).model.num_layers
    prev = None
    for ngl in range(layers + 1, -1, -1):
        e = estimate(Scenario(model, weights=fmt, engine="llama.cpp", gpu=gpu, ngl=ngl))
        gpu_bytes = sum(d.weights + d.kv_cache + d.state for d in e.devices)
        host_bytes = e.host.weights + e.host.kv_cache + e.host.state
        # every byte is somewhere, once: the GPUs and the host make the whole
        assert sum(d.total for d in e.devices) + e.host.total == e.total
        if prev is not None:
            assert gpu_bytes <= prev[0] and host_bytes >= prev[1], ngl
            assert gpu_bytes + host_bytes >= prev[0] + prev[1] - (e.model.vocab_size * e.model.hidden_size * 4)
        prev = (gpu_bytes, host_bytes)
    assert prev[0] == 0  # --ngl 0: nothing on the GPU


@pytest.mark.parametrize("model,fmt,gpu", _cases())
def test_largest_ngl_that_fits_fits_and_one_more_does_not(model, fmt, gpu):
    s = Scenario(model, weights=fmt, engine="llama.cpp", gpu=gpu, context=8192, ram_bytes=1 << 40)
    e = estimate(s)
    best = e.engine_plan.fields["max_ngl_that_fits"]
    total = e.engine_plan.fields["layers_total"]
    assert best is not None and 0 <= best <= total
    assert estimate(s.with_(ngl=best)).fit.fits
    if best < total:
        assert not estimate(s.with_(ngl=best + 1)).fit.fits


def test_smallest_n_cpu_moe_that_fits():
    s = Scenario("qwen3-30b-a3b", weights="Q4_K_M", gpu="rtx-4060-ti-16gb", context=8192, ram_bytes=1 << 40)
    e = estimate(s)
    n = e.engine_plan.fields["min_n_cpu_moe_that_fits"]
    assert n is not None and 0 < n <= e.model.num_layers
    assert estimate(s.with_(n_cpu_moe=n)).fit.fits
    assert not estimate(s.with_(n_cpu_moe=n - 1)).fit.fits
    # experts in RAM move bytes from the GPU to the host and nothing else
    a, b = estimate(s.with_(n_cpu_moe=n - 1)), estimate(s.with_(n_cpu_moe=n))
    assert b.devices[0].weights < a.devices[0].weights and b.host.weights > a.host.weights
    assert b.weights.bytes == a.weights.bytes


def test_system_ram_is_checked():
    s = Scenario("llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", ngl=20)
    e = estimate(s.with_(ram_bytes=8 << 30))
    assert e.fit.headroom >= 0 and e.fit.ram_headroom < 0 and not e.fit.fits
    assert estimate(s.with_(ram_bytes=64 << 30)).fit.fits


def run(*args):
    p = subprocess.run([sys.executable, "-m", "pycore", *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


@pytest.mark.parametrize("args", [("--ngl", "-1"), ("--ngl", "99999999"), ("--n-cpu-moe", "-3"),
                                  ("--gpu-memory-utilization", "0"), ("--gpu-memory-utilization", "1.5"),
                                  ("--gpu-memory-utilization", "nan"), ("--ram", "0"), ("--ram", "-4"),
                                  ("--flash-attn", "maybe"), ("--ubatch", "0")])
def test_bad_engine_settings_are_one_line_errors(args):
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", *args)
    assert code == 2 and out == "" and err.startswith("error:") and err.count("\n") == 1, (args, err)


def test_cli_engine_json_contract():
    code, out, err = run("estimate", "--model", "llama-3.1-70b", "--weights", "Q4_K_M", "--gpu", "rtx-4090",
                         "--engine", "llama.cpp", "--ngl", "40", "--flash-attn", "off", "--ubatch", "256",
                         "--ram", "64", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert set(d["host"]) >= {"bytes", "weights", "kv_cache", "compute"}
    assert d["host"]["bytes"] + sum(x["total"] for x in d["devices"]) == d["total"]["bytes"]
    for key in ("weights", "kv_cache", "state", "activations", "overhead", "total"):
        assert isinstance(d["devices"][0][key], int)
    eng = d["engine"]
    assert eng["name"] == "llama.cpp" and eng["flash_attn"] is False and eng["layers_on_gpu"] == 40
    for key in ("n_ctx", "compute_buffer_bytes", "host_compute_buffer_bytes", "max_ngl_that_fits",
                "min_n_cpu_moe_that_fits", "log"):
        assert key in eng
    assert any(line.startswith("load_tensors: offloaded 40/81 layers") for line in eng["log"])
    code, out, err = run("estimate", "--model", "gpt-oss-120b", "--weights", "MXFP4", "--gpu", "rtx-4090",
                         "--engine", "ollama", "--json")
    eng = json.loads(out)["engine"]
    for key in ("required_full_bytes", "graph_full_bytes", "graph_partial_bytes", "layers_on_gpu"):
        assert isinstance(eng[key], int), key
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--engine", "vllm",
                         "--gpu-memory-utilization", "0.9", "--max-num-batched-tokens", "8192",
                         "--max-num-seqs", "128", "--json")
    eng = json.loads(out)["engine"]
    for key in ("usable_bytes", "non_torch_bytes", "activation_peak_bytes", "kv_cache_available_bytes",
                "gpu_blocks", "kv_cache_tokens", "max_concurrency"):
        assert key in eng, key
    assert eng["kv_cache_tokens"] == eng["gpu_blocks"] * 16
