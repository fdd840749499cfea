"""The CPU compute buffer of recurrent and hybrid models: ggml-alloc replayed over llama.cpp's Mamba-2 and
Nemotron-H graphs (pycore/engines/llamacpp_graph.py: mamba2_layer, mamba2, nemotron_h) against what the real
llama.cpp printed.

The printed figures below were measured with llama-cpp-python 0.3.36 (llama.cpp
0c1e57098bba43ac29e6e3b677cdceebdd22334f, CPU only, `sched_reserve: CPU compute buffer size = … MiB`) on the
GGUF files that tests/test_llama_cpp_hybrid_real.py writes for these two models (branch `hybridreal`, whose
GGUF writer gives Mamba-2 the tensor shapes llama.cpp's loader wants). That file runs the engine live and
checks the same figures once both branches are merged; this one pins the replay to them meanwhile.
"""
import pytest

from pycore.memory import estimate
from pycore.models import FULL, MAMBA2, NO_MIXER, SHORT_CONV, ModelSpec
from pycore.scenario import Scenario
from pycore.units import MiB

BLOCK = dict(vocab_size=8192, hidden_size=1024, max_context=32768)
MODELS = {
    # the nemotron_h, mamba2, lfm2 and granitehybrid models of tests/test_llama_cpp_hybrid_real.py (branch
    # hybridreal)
    "nemotron_h": ModelSpec(name="nemotron-h-hybrid", arch="nemotron_h", num_layers=5, num_heads=8, num_kv_heads=2,
                            head_dim=128, intermediate_size=4096, gated_mlp=False, norms_per_layer=2,
                            layer_types=(MAMBA2, NO_MIXER, FULL, NO_MIXER, MAMBA2),
                            ffn_types=("none", "dense", "none", "dense", "none"),
                            ssm_d_inner=2048, ssm_d_state=128, ssm_d_conv=4, ssm_n_groups=8, ssm_num_heads=32, **BLOCK),
    "mamba2": ModelSpec(name="mamba2-only", arch="mamba2", num_layers=2, num_heads=1, num_kv_heads=1, head_dim=64,
                        intermediate_size=0, layer_types=(MAMBA2,) * 2, ffn_types=("none",) * 2,
                        ssm_d_inner=2048, ssm_d_state=128, ssm_d_conv=4, ssm_n_groups=1, ssm_num_heads=32, **BLOCK),
    "lfm2": ModelSpec(name="lfm2-hybrid", arch="lfm2", num_layers=5, num_heads=16, num_kv_heads=8, head_dim=64,
                      intermediate_size=4608, qk_norm=True, tie_embeddings=True, norms_per_layer=2,
                      layer_types=(SHORT_CONV, SHORT_CONV, FULL, SHORT_CONV, FULL), conv_l_cache=3, **BLOCK),
    # Granite 4.0-H: Mamba-2, attention (RoPE: llama.cpp's default), routed and shared experts
    "granitehybrid": ModelSpec(name="granite-h-hybrid", arch="granitehybrid", num_layers=4, num_heads=8,
                               num_kv_heads=2, head_dim=128, intermediate_size=0, norms_per_layer=2,
                               layer_types=(MAMBA2, MAMBA2, FULL, MAMBA2), num_experts=8, experts_per_token=2,
                               expert_intermediate_size=512, shared_expert_intermediate_size=1024, ssm_d_inner=2048,
                               ssm_d_state=128, ssm_d_conv=4, ssm_n_groups=1, ssm_num_heads=32, **BLOCK),
}

# (n_ctx, n_ubatch, flash attention, n_seq_max) -> printed MiB per model
PRINTED = [
    (dict(n_ctx=4096, n_ubatch=512, flash_attn="off"),
     {"nemotron_h": 81.01, "mamba2": 28.62, "lfm2": 148.01, "granitehybrid": 85.04}),
    (dict(n_ctx=4096, n_ubatch=512, flash_attn="on"),
     {"nemotron_h": 42.17, "mamba2": 28.62, "lfm2": 37.02, "granitehybrid": 34.63}),
    (dict(n_ctx=3000, n_ubatch=512, flash_attn="auto", n_seq_max=3),
     {"nemotron_h": 41.44, "mamba2": 30.78, "lfm2": 36.11, "granitehybrid": 33.79}),
    (dict(n_ctx=8192, n_ubatch=1024, flash_attn="on", n_seq_max=2),
     {"nemotron_h": 92.34, "mamba2": 57.24, "lfm2": 82.04, "granitehybrid": 74.15}),
    (dict(n_ctx=16384, n_ubatch=256, flash_attn="off", n_seq_max=4),
     {"nemotron_h": 148.50, "mamba2": 17.99, "lfm2": 278.00, "granitehybrid": 149.50}),
    (dict(n_ctx=2048, n_ubatch=128, flash_attn="off", n_seq_max=5),
     {"nemotron_h": 16.40, "mamba2": 12.26, "lfm2": 20.32, "granitehybrid": 13.65}),
]
# Before the replay (the attention + FFN peak model) ours was, MiB, for the first, third, fourth and fifth
# settings (tests/test_llama_cpp_hybrid_real.py measured them): nemotron_h 78.01, 31.01, 72.02, 147.01;
# mamba2 20.14, 18.00, 36.00, 34.07 (it charged attention scores a Mamba-2 model never builds);
# lfm2 142.01, 34.01, 78.02, 275.01; granitehybrid 78.01, 18.00, 36.09, 147.01.


def _scenario(spec, case, kv="f16"):
    seqs = case.get("n_seq_max", 1)
    return Scenario(spec, weights="F16", engine="llama.cpp", batch=seqs, context=case["n_ctx"] // seqs,
                    flash_attn=case["flash_attn"], ubatch=case["n_ubatch"], ngl=0, kv=kv)


@pytest.mark.parametrize("name", list(MODELS))
def test_compute_buffer_as_printed(name):
    rows = []
    for case, printed in PRINTED:
        e = estimate(_scenario(MODELS[name], case))
        rows.append((case, round(e.engine_plan.host.compute / MiB, 2), printed[name]))
        assert not any(n.startswith("compute:") and "RoPE" not in n for n in e.engine_plan.notes)
    assert all(ours == p for _, ours, p in rows), rows


def test_quantized_cache_says_what_the_replay_leaves_out():
    # llama.cpp printed 42.25 MiB for Nemotron-H (LFM2: 37.05) at 4,096 cells with q8_0 K and V and flash
    # attention on: its Hadamard rotations of Q, K and V come on top of the f16 graph's 42.17 MiB (37.02);
    # Mamba-2 has no KV cache and printed 28.62 MiB as with f16
    case = dict(n_ctx=4096, n_ubatch=512, flash_attn="on")
    e = estimate(_scenario(MODELS["nemotron_h"], case, kv="q8_0"))
    assert round(e.engine_plan.host.compute / MiB, 2) == 42.17
    assert any("Hadamard" in n for n in e.engine_plan.notes)
    e = estimate(_scenario(MODELS["mamba2"], case, kv="q8_0"))
    assert round(e.engine_plan.host.compute / MiB, 2) == 28.62
    assert not any(n.startswith("compute:") for n in e.engine_plan.notes)
