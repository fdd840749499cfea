"""Activation estimates against the engines' logged working memory, and how the default was chosen.

Two methods: the seed's B·S·H·L·2 bytes, and the 'peak' working set of one forward pass (the larger
of one layer's intermediates for the tokens processed at once, and the float32 logits buffer). The
logs decide: 'peak' is within a few percent of both engines below, the seed's formula is 2–2.4× off,
so 'peak' is the default.
"""
import pytest

from pycore.memory import estimate
from pycore.scenario import Scenario
from pycore.units import GiB, MiB
from reference import PYTHIA_COMPUTE_BUFFER, VLLM_LLAMA31_8B


def acts(model, context, engine, method="peak", **kw):
    return estimate(Scenario(model, weights="FP16", context=context, engine=engine, activations=method, **kw)).activations.bytes


def gpu_compute(model, context, **kw):
    """llama.cpp's compute buffer on the GPU (the line `<GPU> compute buffer size = …`)."""
    return estimate(Scenario(model, weights="FP16", context=context, engine="llama.cpp", **kw)).devices[0].activations


@pytest.mark.parametrize("n_ctx,n_ubatch", sorted(PYTHIA_COMPUTE_BUFFER))
def test_llama_cpp_compute_buffer(n_ctx, n_ubatch):
    # llama.cpp reserves its graph for n_ubatch tokens all producing float32 logits:
    # 512 × 50,304 × 4 B + 512 × 2,048 × 4 B = 102.25 MiB (logged "compute buffer size = 102.25 MiB").
    logged = PYTHIA_COMPUTE_BUFFER[(n_ctx, n_ubatch)]
    ours = gpu_compute("pythia-1.4b", n_ctx, ubatch=n_ubatch)
    assert ours == n_ubatch * 50304 * 4 + n_ubatch * 2048 * 4
    assert abs(ours - logged) <= 0.005 * MiB  # printed with two decimals
    seed = acts("pythia-1.4b", n_ctx, "llama.cpp", method="seed")
    assert seed == n_ctx * 2048 * 24 * 2  # 192 MiB at n_ctx 2048: 1.9× the log


def test_vllm_profiled_peak():
    # vLLM #10517: peak_torch_memory 17.06 GiB − weights 14.9888 GiB = 2.07 GiB of activations for a
    # 20,000-token profile pass (max_num_batched_tokens = max_model_len, chunked prefill off then).
    m = VLLM_LLAMA31_8B
    logged = (m["peak_torch_gib"] - m["weights_gib"]) * GiB
    ours = acts("llama-3.1-8b", m["max_model_len"], "vllm", prefill_chunk=m["max_model_len"])
    # MLP phase: 20,000 × (2 × 4096 + 3 × 14,336) × 2 B
    assert ours == 20000 * (2 * 4096 + 3 * 14336) * 2
    assert abs(ours - logged) / logged < 0.10
    seed = acts("llama-3.1-8b", m["max_model_len"], "vllm", method="seed")
    assert seed / logged > 2.3


def test_none_method():
    assert acts("llama-3.1-8b", 4096, "vllm", method="none") == 0
