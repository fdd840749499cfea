"""The speed model: published llama-bench results reproduced within a stated error per backend, and the
mechanisms (depth, bandwidth, MoE active parameters, layer split, compute, batch, offload)."""
import statistics
from dataclasses import replace

import pytest

from pycore.errors import InputError
from pycore.hardware import gpu
from pycore.memory import estimate
from pycore.scenario import Scenario
from pycore.speed import attention_flops, kv_bytes_per_token, speed, weight_reads
from speed_reference import ROWS

# Bound on the median absolute error per backend and test kind over tests/speed_reference.py (all of
# shared/reference/speed_dev.json). Published runs of one device move 5–10% between llama.cpp builds and
# settings (the table mixes builds), so a model of the mechanism cannot do better than that; the bounds
# are the error measured by bench/speed.py rounded up with that margin, wider where a backend has few rows
# (ROCm 3 rows on 2 devices, CPU 1 row) or the kernels differ by device class (prefill).
BOUNDS = {("Metal", "tg"): 8, ("Metal", "pp"): 10, ("CUDA", "tg"): 10, ("CUDA", "pp"): 20,
          ("Vulkan", "tg"): 12, ("Vulkan", "pp"): 25, ("ROCm", "tg"): 25, ("ROCm", "pp"): 60,
          ("CPU", "tg"): 25, ("CPU", "pp"): 30}


def _predict(gid, backend, model, quant, test):
    e = estimate(Scenario(model, weights=quant, context=512, engine="llama.cpp"))
    n = int(test[2:])
    if test.startswith("tg"):  # tg128: 128 tokens from an empty cache, mean depth 64
        return speed(e, gpu(gid), depth=n // 2, backend=backend, batch=1).decode_tokens_per_s
    return speed(e, gpu(gid), depth=0, prompt_tokens=n, backend=backend, batch=1).prefill_tokens_per_s


def test_published_llama_bench_results_per_backend():
    errors = {}
    for gid, backend, model, quant, test, published in ROWS:
        got = _predict(gid, backend, model, quant, test)
        errors.setdefault((backend, test[:2]), []).append(abs(got - published) / published * 100)
    assert set(errors) == set(BOUNDS)
    for key, errs in errors.items():
        assert statistics.median(errs) <= BOUNDS[key], (key, statistics.median(errs))


def test_tg_hand_calculation_rtx_4090():
    # Llama 2 7B Q4_0 (TheBloke file 3,825,807,040 B) on an RTX 4090, 1008 GB/s: the weights read per token
    # are the file less the Q4_0 token-embedding table (32,000 × 4,096 / 32 blocks × 18 B = 73,728,000 B):
    # 3,751,337,024 B of our per-tensor count; KV at depth 64: 32 layers × 64 × 2 × 4,096 × 2 B = 33,554,432 B.
    # step = (3,751,337,024 + 33,554,432) / (1008e9 × 0.85) + 1.0 ms = 4.4174 + 1.0 ms → 184.6 tokens/s
    # (published 186.21, speed_dev.json scoreboard row).
    e = estimate(Scenario("llama-2-7b", weights="Q4_0", context=512, engine="llama.cpp"))
    decode_bytes = weight_reads(e.model, e.weight_format)[0]
    assert decode_bytes == e.weights.bytes - 73_728_000
    assert kv_bytes_per_token(e.model, e.kv_format, 64) == 33_554_432
    sp = speed(e, gpu("rtx-4090"), depth=64, backend="CUDA")
    expected = 1 / ((decode_bytes + 33_554_432) / (1008e9 * 0.85) + 0.001)
    assert sp.decode_tokens_per_s == pytest.approx(expected, rel=1e-9)
    assert sp.decode_tokens_per_s == pytest.approx(186.21, rel=0.03)
    assert sp.decode_bound == "memory"


def test_attention_flops_hand_count():
    # Llama 2 7B: 32 heads × 128 dims, 32 layers. 2 new tokens after 3 cached see 4 and 5 keys:
    # 9 keys × 32 layers × (2 × 32 × 2 × 128) FLOPs = 9 × 32 × 16,384 = 4,718,592
    e = estimate(Scenario("llama-2-7b", weights="Q4_0", context=512))
    assert attention_flops(e.model, 2, 3) == 4_718_592


def test_decode_falls_with_depth():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=65536, engine="llama.cpp"))
    rates = [speed(e, gpu("rtx-4090"), depth=d).decode_tokens_per_s for d in (0, 1024, 8192, 32768, 65536)]
    assert all(a > b for a, b in zip(rates, rates[1:]))


def test_decode_rises_with_bandwidth():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, engine="llama.cpp"))
    base = gpu("rtx-4090")
    rates = [speed(e, replace(base, bandwidth_gbps=bw), depth=2048).decode_tokens_per_s for bw in (300, 600, 1200)]
    assert rates[0] < rates[1] < rates[2]


def test_moe_decode_follows_active_parameters():
    # Qwen3-30B-A3B reads ~3.3B active parameters per token, Qwen3-32B all 32.8B: at the same format
    # the MoE decodes several times faster although it holds about as many weights.
    moe = estimate(Scenario("qwen3-30b-a3b", weights="Q4_K_M", context=4096, engine="llama.cpp"))
    dense = estimate(Scenario("qwen3-32b", weights="Q4_K_M", context=4096, engine="llama.cpp"))
    g = gpu("rtx-pro-6000")
    assert speed(moe, g, depth=0).decode_tokens_per_s > 3 * speed(dense, g, depth=0).decode_tokens_per_s
    assert weight_reads(moe.model, moe.weight_format)[0] < moe.weights.bytes / 5
    # Twice the experts at the same experts per token: twice the expert weights held, the same read per
    # token, so the same decode speed; twice the experts used per token: slower.
    spec = moe.model
    wide = estimate(Scenario(replace(spec, name="wide", num_experts=2 * spec.num_experts), weights="Q4_K_M",
                             context=4096, engine="llama.cpp"))
    deep = estimate(Scenario(replace(spec, name="deep", experts_per_token=2 * spec.experts_per_token),
                             weights="Q4_K_M", context=4096, engine="llama.cpp"))
    assert wide.weights.bytes > 1.8 * moe.weights.bytes
    base = speed(moe, g, depth=0).decode_tokens_per_s
    assert abs(speed(wide, g, depth=0).decode_tokens_per_s - base) / base < 0.01
    assert speed(deep, g, depth=0).decode_tokens_per_s < 0.9 * base


def test_layer_split_does_not_raise_single_stream_decode_but_tensor_parallel_does():
    e = estimate(Scenario("llama-3.1-70b", weights="Q4_K_M", context=4096, engine="llama.cpp"))
    g = gpu("rtx-3090")
    one = speed(e, g, depth=1024).decode_tokens_per_s
    split = speed(e, g, depth=1024, gpus=2, parallel="pipeline").decode_tokens_per_s
    tp = speed(e, g, depth=1024, gpus=2, parallel="tensor").decode_tokens_per_s
    assert split <= one
    assert tp > one


def test_prefill_rises_with_compute():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, engine="llama.cpp"))
    base = gpu("rtx-4090")
    rates = [speed(e, replace(base, fp16_tflops=t), depth=0, prompt_tokens=2048).prefill_tokens_per_s
             for t in (50, 100, 200)]
    assert rates[0] < rates[1] < rates[2]


def test_batch_raises_throughput_until_compute_bound():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=1024, engine="llama.cpp"))
    g = gpu("rtx-4090")
    rates = [speed(e, g, depth=512, batch=b) for b in (1, 8, 64, 4096)]
    assert rates[0].decode_tokens_per_s < rates[1].decode_tokens_per_s < rates[2].decode_tokens_per_s
    assert rates[0].decode_bound == "memory" and rates[-1].decode_bound == "compute"


def test_partial_offload_reads_its_share_at_ram_speed():
    e = estimate(Scenario("llama-3.1-70b", weights="Q4_K_M", context=4096, engine="llama.cpp"))
    g = gpu("rtx-4090")
    full = speed(e, g, depth=0).decode_tokens_per_s
    half = speed(e, g, depth=0, host_share=0.5, host_bandwidth_gbps=89.6).decode_tokens_per_s
    assert half < full / 4  # half the bytes at ~1/10 of the bandwidth dominate
    with pytest.raises(InputError):
        speed(e, g, host_share=0.5)


def test_every_figure_carries_its_formula():
    e = estimate(Scenario("gpt-oss-20b", weights="MXFP4", context=8192, gpu="rtx-4090"))
    sp = speed(e, gpu("rtx-4090"))
    for f in sp.figures:
        assert f.formula and f.substituted and "=" in f.substituted


def test_estimate_json_has_speed_only_with_bandwidth():
    from pycore.report import estimate_dict
    d = estimate_dict(estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", gpu="m4-max-128gb")))
    assert {"decode_tokens_per_s", "prefill_tokens_per_s", "time_to_first_token_s", "decode_bound"} <= set(d["speed"])
    assert "speed" not in estimate_dict(estimate(Scenario("llama-3.1-8b", weights="Q4_K_M")))
    assert "speed" not in estimate_dict(estimate(Scenario("llama-3.1-8b", gpu_memory_bytes=8 << 30)))


def test_moe_batch_reads_more_experts_per_step():
    # Qwen3-30B-A3B: 8 of 128 experts per token; 16 independent sequences read on average
    # 128 × (1 − (120/128)^16) = 82.42 experts per layer, so bytes per step rise, but per-sequence cost falls.
    e = estimate(Scenario("qwen3-30b-a3b", weights="Q4_K_M", context=1024, engine="llama.cpp"))
    g = gpu("rtx-pro-6000")
    one, many = speed(e, g, depth=0, batch=1), speed(e, g, depth=0, batch=16)
    _, _, _, _, _, experts = weight_reads(e.model, e.weight_format)
    assert many.bytes_per_step - one.bytes_per_step == pytest.approx(experts * (82.42 / 128 - 8 / 128), rel=1e-3)
    assert many.decode_tokens_per_s > one.decode_tokens_per_s


def test_bad_arguments_are_input_errors():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=1024))
    g = gpu("rtx-4090")
    for kw in ({"parallel": "diagonal"}, {"host_share": 0.5, "host_bandwidth_gbps": -1}, {"depth": -1},
               {"batch": 0}, {"backend": "OpenCL"}, {"host_share": 2}):
        with pytest.raises(InputError):
            speed(e, g, **kw)


def test_recurrent_state_is_read_and_written_every_step():
    # Qwen3.5-9B (24 Gated DeltaNet layers) on llama.cpp keeps its recurrent state in f32: llama.cpp printed
    # 201.00 MiB for 4 sequences (R 9.00 + S 192.00 MiB, shared/reference/arch_dev.json), so 50.25 MiB for one.
    # A decode step reads that state and writes it back: 2 × 52,690,944 B on top of weights and KV.
    e = estimate(Scenario("qwen3.5-9b", weights="Q8_0", context=4096, engine="llama.cpp"))
    assert e.state.bytes == 201 * 2**20 // 4
    w = weight_reads(e.model, e.weight_format)[0]
    kv = kv_bytes_per_token(e.model, e.kv_format, 4096)
    sp = speed(e, gpu("rtx-4090"), depth=4096, backend="CUDA")
    assert sp.bytes_per_step == w + kv + 2 * 52_690_944
    assert "state" in sp.figures[0].substituted
