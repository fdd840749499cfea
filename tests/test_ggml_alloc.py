"""ggml-alloc's replay (pycore/engines/ggml_alloc.py) on small graphs worked out by hand, and the
layer plan of llamacpp_graph (a few layers stand for many) against the whole graph.

The rules checked (ggml/src/ggml-alloc.c at llama.cpp 0c1e57098bba43ac29e6e3b677cdceebdd22334f):
sizes padded to 32 bytes, leafs first, in-place reuse of a last-consumed source of the same layout,
views keeping their source, outputs kept, best fit among the free blocks but the last (ties to the
later block), else the open end of the chunk. The full graphs against the real llama.cpp are in
tests/test_llama_cpp_real.py.
"""
from dataclasses import replace

import pytest

from pycore.engines import llamacpp_graph as lg
from pycore.engines.ggml_alloc import F32, I32, Graph, Tensor, like, new, reserve, view
from pycore.models import PARALLEL_HYBRID, SLIDING, ModelSpec


def op(name, n, *src):
    return Tensor(F32, (n,), op=name, src=src, name=name)


def test_padding_leafs_first_and_release():
    # x: 10 f32 = 40 B -> 64 B at 0; y = op(x): 100 B -> 128 B at 64 (x is freed after y: 64 B hole);
    # z = op(y): 16 B -> 32 B fits the hole at 0; peak 64 + 128 = 192 B
    x = new(F32, 10)
    y = op("MUL_MAT", 25, x)
    z = op("MUL_MAT", 4, y)
    g = Graph()
    g.expand(z)
    assert g.leafs == [x] and g.nodes == [y, z]
    assert reserve(g) == 192
    assert z.offset == 0


def test_in_place_only_on_a_last_use_of_the_same_layout():
    # y (400 B, padded to 416) is read by z (in place: RMS_NORM, same layout, last use) -> no new memory;
    # w = SOFT_MAX of z2 while z2 is still read by v: not in place -> a second 416 B
    x = new(F32, 8)  # 32 B
    y = op("MUL_MAT", 100, x)
    z = like("RMS_NORM", y)
    g = Graph()
    g.expand(z)
    assert reserve(g) == 32 + 416 and z.offset == y.offset
    z2 = like("RMS_NORM", op("MUL_MAT", 100, x))
    w = like("SOFT_MAX", z2)
    v = op("ADD", 100, w, z2)  # z2 still has a consumer after w
    g = Graph()
    g.expand(v)
    # x 32, z2 416 at 32 (in place on its mul_mat), w 416 at 448, v in place on w (v is w's last
    # consumer and w comes first among v's sources): peak 32 + 416 + 416 = 864
    assert reserve(g) == 864 and v.offset == w.offset


def test_a_view_keeps_its_source_and_outputs_are_kept():
    x = new(F32, 8)  # 32 B
    y = op("MUL_MAT", 64, x)  # 256 B at 32
    v = view(y, (32,), None, 0)  # no memory; y lives until v's consumers are done
    a = op("MUL_MAT", 64, x)  # 256 B at 288 (y still alive through the view)
    b = op("ADD", 64, a, v)  # in place on a; frees y after
    g = Graph()
    g.expand(b)
    assert reserve(g) == 32 + 256 + 256
    # the same with b an output and then consumed in place: outputs are never reused nor freed
    x = new(F32, 8)
    b = op("MUL_MAT", 64, x)
    b.output = True
    c = like("SCALE", b)
    g = Graph()
    g.expand(c)
    assert reserve(g) == 32 + 256 + 256 and c.offset != b.offset


def test_best_fit_prefers_the_smallest_block_and_the_later_of_equals():
    # built in this order (each expanded in turn): x 32 B at 0, h1 96 at 32, k1 32 at 128, h2 64 at 160,
    # k2 32 at 224, h3 96 at 256, k3 32 at 352, f 32 at 384 (high-water mark 416), which frees h1, h2, h3:
    # free blocks 32+96, 160+64, 256+96, then the open end at 416 (f's 32 B join it once a is done)
    x = new(F32, 8)
    h1, k1, h2, k2, h3, k3 = (op("MUL_MAT", n, x) for n in (24, 8, 16, 8, 24, 8))
    f = op("MUL_MAT", 8, h1, h2, h3)
    a = op("MUL_MAT", 16, f)  # 64 B: the 64 B block at 160, an exact fit
    b = op("MUL_MAT", 24, a)  # 96 B: two 96 B blocks (32 and 256), the later one wins
    last = op("MUL_MAT", 8, b, k1, k2, k3, x)  # 32 B: the smallest block that fits, a's 64 at 160
    g = Graph()
    for t in (h1, k1, h2, k2, h3, k3, f, a, b, last):
        g.expand(t)
    assert reserve(g) == 416
    assert (a.offset, b.offset, last.offset) == (160, 256, 160)


BASE = dict(vocab_size=512, hidden_size=64, num_heads=4, num_kv_heads=2, head_dim=16, intermediate_size=160,
            max_context=4096)
SPECS = [
    ModelSpec(name="dense", arch="llama", num_layers=2, **BASE),
    ModelSpec(name="qwen3", arch="qwen3", num_layers=2, qk_norm=True, **BASE),
    ModelSpec(name="swa", arch="gemma2", num_layers=2, norms_per_layer=4, layer_types=(SLIDING, "full"),
              sliding_window=128, **BASE),
    ModelSpec(name="moe", arch="qwen3moe", num_layers=2, qk_norm=True, **{**BASE, "intermediate_size": 0},
              num_experts=8, experts_per_token=2, expert_intermediate_size=48),
    ModelSpec(name="mla", arch="deepseek2", num_layers=2, **{**BASE, "num_kv_heads": 4, "head_dim": 24},
              q_lora_rank=32, kv_lora_rank=64, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16,
              num_experts=4, experts_per_token=2, expert_intermediate_size=32, shared_expert_intermediate_size=32,
              first_dense_layers=2),
    ModelSpec(name="gemma3", arch="gemma3", num_layers=2, norms_per_layer=4, qk_norm=True, layer_types=(SLIDING, "full"),
              sliding_window=128, **BASE),
    ModelSpec(name="gpt-oss", arch="gpt-oss", num_layers=2, qkv_bias=True, o_bias=True, attention_sinks=True,
              router_bias=True, expert_bias=True, **{**BASE, "intermediate_size": 48}, num_experts=8,
              experts_per_token=2, expert_intermediate_size=48, layer_types=(SLIDING, "full"), sliding_window=128),
    ModelSpec(name="mamba2", arch="mamba2", num_layers=2, **{**BASE, "intermediate_size": 0},
              layer_types=("mamba2",) * 2, ffn_types=("none",) * 2, ssm_d_inner=128, ssm_d_state=16, ssm_d_conv=4, ssm_n_groups=2,
              ssm_num_heads=8),
    ModelSpec(name="falcon-h1", arch="falcon-h1", num_layers=2, layer_types=(PARALLEL_HYBRID,) * 2, ssm_d_inner=128,
              ssm_d_state=16, ssm_d_conv=4, ssm_n_groups=2, ssm_num_heads=8, **BASE),
]


def _full_kinds(spec, sh):
    if sh.builder in ("gemma2", "gemma3", "gpt-oss"):
        return tuple("swa" if spec.layer_type(i) == "sliding" else "full" for i in range(spec.num_layers))
    if sh.builder == "mamba2":
        return ("mamba2",) * spec.num_layers
    if sh.builder == "deepseek2":
        return tuple("dense" if i < sh.lead else "moe" for i in range(spec.num_layers))
    return ("moe" if spec.is_moe else "dense",) * spec.num_layers


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_a_few_layers_stand_for_many(spec):
    """layer_plan's claim: the replay of the planned layers equals the replay of every layer."""
    for L in (3, 4, 5, 6, 7, 8, 11, 40):
        period = {"gemma2": 2, "gpt-oss": 2, "gemma3": 6}.get(spec.arch)
        types = (tuple(SLIDING if i % period < period - 1 else "full" for i in range(L)) if period
                 else (spec.layer_types[0],) * L if spec.layer_types else ())
        s = replace(spec, num_layers=L, layer_types=types, ffn_types=spec.ffn_types[:1] * L)
        sh = lg.shape(s, True)
        assert len(sh.kinds) <= sh.lead + 2 * sh.period + sh.period
        for T, n_kv, n_swa, flash, seqs in ((64, 512, 256, False, 1), (64, 512, 256, True, 1), (5, 256, 256, False, 1),
                                            (66, 512, 512, False, 3)):
            # with flash attention, a quantized cache (the Hadamard rotations, heads of 16: none; of 64: both)
            sh = lg.shape(replace(s, head_dim=64) if flash else s, True, kv_rot=flash)
            build = lg.BUILDERS[sh.builder]
            full = reserve(build(sh, _full_kinds(s, sh), T, T, n_kv, n_swa, flash, seqs))
            assert reserve(build(sh, sh.kinds, T, T, n_kv, n_swa, flash, seqs)) == full, (spec.name, L, T, flash)


def test_no_builder_no_replay():
    assert lg.shape(ModelSpec(name="neox", arch="gptneox", num_layers=2, fused_qkv=True, norm_bias=True, **BASE),
                    False) is None
    assert lg.shape(replace(SPECS[4], kv_lora_rank=0), False) is None  # DeepSeek-2 without MLA


def _compute_notes(model, **kw):
    from pycore.memory import estimate
    from pycore.scenario import Scenario
    e = estimate(Scenario(model, weights="Q4_K_M", context=8192, engine="llama.cpp", **kw))
    return [n for n in e.engine_plan.notes if n.startswith("compute:")]


def test_notes_say_where_the_replay_is_not_exact():
    assert _compute_notes("llama-3.1-8b", ngl=0) == []  # replayed, exact on the CPU
    assert any("grouped expert selection" in n for n in _compute_notes("deepseek-v3", ngl=0))
    # a quantized cache's Hadamard rotations are replayed, except on DeepSeek-2's MLA path
    assert not any("quantized KV cache" in n for n in _compute_notes("llama-3.1-8b", ngl=0, kv="q8_0"))
    assert any("quantized KV cache" in n for n in _compute_notes("deepseek-v3", ngl=0, kv="q8_0"))
    gpu = _compute_notes("llama-3.1-8b", gpu="rtx-4090")
    assert any("GPU compute buffer is modelled" in n for n in gpu) and not any("op offload" in n for n in gpu)
    assert any("op offload" in n for n in _compute_notes("llama-3.1-8b", gpu="rtx-4090", ngl=0))


def test_a_few_layers_stand_for_many_gated_deltanet():
    """layer_plan over Qwen3.5's and Qwen3-Next's layout (3 Gated DeltaNet + 1 gated attention), taken in cycles of 8 (the
    free list may alternate between two states from one 4-layer cycle to the next: with this block a
    4-layer period gives 248,352 B for 40 layers, the full graph 240,160 B): the planned layers' replay
    equals the replay of every layer."""
    from pycore.models import FULL, GATED_DELTANET
    moe = dict(num_experts=8, experts_per_token=2, expert_intermediate_size=48, shared_expert_intermediate_size=48,
               shared_expert_gate=True)
    for L, arch in [(L, a) for L in (4, 5, 8, 11, 12, 16, 20, 23, 24, 40, 64) for a in ("qwen35", "qwen3next")]:
        types = tuple(FULL if (i + 1) % 4 == 0 else GATED_DELTANET for i in range(L))
        s = ModelSpec(name=arch, arch=arch, num_layers=L, qk_norm=True, attn_output_gate=True,
                      layer_types=types, linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=16,
                      linear_value_head_dim=16, linear_conv_kernel=4,
                      **(dict(BASE, intermediate_size=0, **moe) if arch == "qwen3next" else BASE))
        sh = lg.shape(s, False)
        assert sh.period == 8 and len(sh.kinds) <= 3 * 8 + 1
        full = tuple("gdn" if t == GATED_DELTANET else "attn" for t in types)
        for T, n_kv, flash, seqs in ((64, 512, False, 1), (64, 512, True, 1), (1, 256, False, 1), (66, 512, False, 3),
                                     (3, 256, True, 3)):
            build = lg.BUILDERS["qwen35"]
            assert reserve(build(sh, sh.kinds, T, T, n_kv, n_kv, flash, seqs)) == \
                reserve(build(sh, full, T, T, n_kv, n_kv, flash, seqs)), (arch, L, T, flash, seqs)


def test_a_few_layers_stand_for_many_jamba():
    """layer_plan over Jamba's layout (ai21labs Jamba config: attention at layer 4 of every 8, experts on every
    other layer from layer 1), taken in cycles of 8: the planned layers' replay equals every layer's."""
    from pycore.models import FULL, MAMBA
    for L in (8, 9, 15, 16, 17, 23, 24, 32, 40, 72):
        types = tuple(FULL if i % 8 == 4 else MAMBA for i in range(L))
        ffn = tuple("moe" if i % 2 == 1 else "dense" for i in range(L))
        s = ModelSpec(name="jamba", arch="jamba", num_layers=L, layer_types=types, ffn_types=ffn, ssm_d_inner=128,
                      ssm_d_state=16, ssm_d_conv=4, ssm_dt_rank=8, ssm_inner_norms=True, num_experts=8,
                      experts_per_token=2, expert_intermediate_size=48, **BASE)
        sh = lg.shape(s, False)
        assert sh.period == 8 and len(sh.kinds) <= 3 * 8 + 1
        full = tuple(("mamba" if t == MAMBA else "attn") + "-" + f for t, f in zip(types, ffn))
        for T, n_kv, flash, seqs in ((64, 512, False, 1), (64, 512, True, 1), (1, 256, False, 1), (66, 512, False, 3),
                                     (3, 256, True, 3)):
            build = lg.BUILDERS["jamba"]
            assert reserve(build(sh, sh.kinds, T, T, n_kv, n_kv, flash, seqs)) == \
                reserve(build(sh, full, T, T, n_kv, n_kv, flash, seqs)), (L, T, flash, seqs)
