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


def test_llama_cpp_cuts_the_ubatch_to_n_batch():
    # llama.cpp src/llama-context.cpp @0c1e5709 (llama-cpp-python 0.3.36's vendor copy, line 248):
    #   cparams.n_ubatch = std::min(cparams.n_batch, params.n_ubatch == 0 ? params.n_batch : params.n_ubatch);
    # with n_batch 2048 by default (common/common.h: `int32_t n_batch = 2048`). So --ubatch 4096 runs as 2048:
    # the same compute buffers and SWA cells as --ubatch 2048, and the estimate says it was cut.
    kw = dict(weights="Q4_K_M", engine="llama.cpp", gpu="rtx-4090", context=16384)
    asked = estimate(Scenario("gemma-2-9b", ubatch=4096, **kw))
    used = estimate(Scenario("gemma-2-9b", ubatch=2048, **kw))
    assert asked.engine_plan.fields["n_ubatch"] == 2048
    assert asked.engine_plan.fields["compute_buffer_bytes"] == used.engine_plan.fields["compute_buffer_bytes"]
    assert asked.kv_cache.bytes == used.kv_cache.bytes  # the SWA cache keeps window + n_ubatch cells
    assert "llama_context: n_ubatch = 2048" in asked.engine_plan.log
    assert any("4,096 tokens is above llama.cpp's n_batch of 2,048" in w for w in asked.warnings)
    assert not any("n_batch of 2,048" in w for w in used.warnings)
    # below n_batch nothing is cut: 1024 gives a smaller buffer than 2048
    small = estimate(Scenario("gemma-2-9b", ubatch=1024, **kw))
    assert small.engine_plan.fields["n_ubatch"] == 1024
    assert sum(small.engine_plan.fields["compute_buffer_bytes"]) < sum(used.engine_plan.fields["compute_buffer_bytes"])


@pytest.mark.parametrize("kw,field,words", [
    # src/llama-cparams.h `#define LLAMA_MAX_SEQ 256`; src/llama-context.cpp throws "n_seq_max must be <= 256"
    (dict(batch=257, context=1024), "batch", "n_seq_max must be <= 256"),
    # common/arg.cpp reads -c with std::stoi into common_params' int32_t n_ctx: 64 × 2^26 = 2^32 > 2^31 − 1
    (dict(batch=64, context=1 << 26), "context", "4,294,967,296 cells is beyond 2,147,483,647"),
    # ggml/include/ggml-cuda.h GGML_CUDA_MAX_DEVICES 16; ggml-cuda.cu asserts physical_device_count <= 16
    (dict(gpus=17, parallel="pipeline", gpu="rtx-4090"), "gpus", "at most 16 GPUs"),
])
def test_llama_cpp_refuses_what_llama_cpp_refuses(kw, field, words):
    from pycore.errors import InputError
    with pytest.raises(InputError) as err:
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", **kw))
    assert err.value.field == field and words in err.value.message


def test_llama_cpp_limits_are_inclusive():
    # the largest values llama.cpp takes: 256 sequences, -c 2,147,483,647 (2^31 − 1), 16 GPUs
    assert estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", batch=256, context=1024))
    from pycore.engines.llamacpp import check_limits
    check_limits(1, (1 << 31) - 1, 16)  # no error
    assert estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpus=16, parallel="pipeline",
                             gpu="rtx-4090"))


def test_largest_batch_on_llama_cpp_stops_at_its_256_sequences():
    # a 0.5B model at 512 tokens on an H200 would hold thousands of sequences; llama.cpp takes 256 (LLAMA_MAX_SEQ)
    from pycore.solve import max_batch
    a = max_batch(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpu="h200", context=512))
    assert a.value == 256 and "n_seq_max must be <= 256" in a.reason
