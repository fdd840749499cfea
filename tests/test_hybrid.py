"""Hybrid and new-family models read from their published config.json, each checked against a figure
found independently of this code: an engine's printed sizes, an official parameter count, or a hand
count written out here."""
import copy
import math
import json
import time

import pytest

from pycore.errors import InputError
from pycore.formats import kv_format
from pycore.importers.hf_config import spec_from_config
from pycore.memory import estimate
from pycore.models import (CHUNKED, DENSE, FULL, GATED_DELTANET, MAMBA, MAMBA2, MOE, NO_FFN, NO_MIXER, SHORT_CONV,
                           attention_layers, parameter_count, state_layers)
from pycore.report import estimate_dict, estimate_table
from pycore.scenario import Scenario
from pycore.solve import max_context

from pycore.presets import PRESETS

# The presets' configs are the published config.json files (sources in pycore/preset_data.py)
QWEN35_9B = PRESETS["qwen3.5-9b"].config  # also shared/reference/arch_dev.json "config"
QWEN3_NEXT_80B = PRESETS["qwen3-next-80b-a3b"].config
JAMBA_15_MINI = PRESETS["jamba-1.5-mini"].config
NEMOTRON_H_8B = PRESETS["nemotron-h-8b"].config
LFM2_350M = PRESETS["lfm2-350m"].config
LLAMA4_SCOUT = PRESETS["llama-4-scout"].config
LLAMA4_MAVERICK = PRESETS["llama-4-maverick"].config
DEEPSEEK_V32 = PRESETS["deepseek-v3.2-exp"].config

MiB = 1 << 20


# ---------------------------------------------------------------- Qwen3.5-9B: llama.cpp's printed sizes

def test_qwen35_9b_kv_and_recurrent_state_as_llama_cpp_prints_them():
    # shared/reference/arch_dev.json, figures "kv" and "state" (Qwen3.5-9B Q8_0 on llama.cpp, 4 sequences,
    # unified KV, n_ctx 135168, f16 K and V):
    #   llama_kv_cache: size = 4224.00 MiB (135168 cells, 8 layers, 4/1 seqs), K (f16): 2112.00 MiB, V (f16): 2112.00 MiB
    #   llama_memory_recurrent: size = 201.00 MiB (4 cells, 32 layers, 4 seqs), R (f32): 9.00 MiB, S (f32): 192.00 MiB
    # 4 sequences of 135168 / 4 = 33792 tokens each (a multiple of llama.cpp's 256 cells).
    spec = spec_from_config(QWEN35_9B)
    e = estimate(Scenario(spec, weights="Q8_0", kv="f16", batch=4, context=33792, engine="llama.cpp"))
    assert e.kv_cache.bytes == 4429185024 == int(4224.00 * MiB)
    assert e.state.bytes == 210763776 == int(201.00 * MiB)
    # R and S separately, as printed: R 9.00 MiB, S 192.00 MiB
    assert "conv (R) 9.00 MiB" in e.state.substituted and "recurrent (S) 192.00 MiB" in e.state.substituted
    assert len(attention_layers(spec)) == 8 and len(state_layers(spec)) == 24
    assert e.total == sum(it.bytes for it in e.items)
    assert e.devices[0].state == e.state.bytes


def test_qwen35_9b_language_model_parameters_against_the_checkpoint_size():
    # shared/reference/arch_dev.json, figure "params": model.safetensors.index.json total_size
    # 19,306,216,416 B // 2 = 9,653,108,208 "parameters" for the whole checkpoint (language model +
    # 333 vision tensors + 15 MTP tensors). The vision tower and the MTP layer counted by hand here:
    H, V, I = 4096, 1152, 4304
    vision = ((3 * 2 * 16 * 16 * V + V) + 2304 * V  # patch embedding (Conv3d with bias), position embedding
              + 27 * (4 * V + (V * 3 * V + 3 * V) + (V * V + V) + (V * I + I) + (I * V + V))  # 27 ViT blocks
              + 2 * V + (4 * V * 4 * V + 4 * V) + (4 * V * H + H))  # merger: LayerNorm, fc1, fc2 (2×2 patches merged)
    mtp = (2 * H * H + 2 * H  # fc from [embedding, hidden] and its two norms
           + H * 2 * 16 * 256 + 2 * H * 4 * 256 + 16 * 256 * H + 2 * 256 + 2 * H + 3 * H * 12288  # one gated-attention layer
           + H)  # final norm
    # Two tensors per Gated DeltaNet layer ship in float32 (A_log: 32 values, the gated norm: 128), so the
    # byte total halved counts them twice.
    f32_extra = 24 * (32 + 128)
    n = parameter_count(spec_from_config(QWEN35_9B))
    assert n.language + vision + mtp + f32_extra == 9653108208
    # the parts besides the language model are counted in by_part and in the total (pycore/parts.py)
    assert dict(n.by_part) == {"language": n.language, "vision": vision, "mtp": mtp}
    assert n.total + f32_extra == 9653108208


def test_qwen35_9b_longest_context_grows_only_with_attention_layers():
    spec = spec_from_config(QWEN35_9B)
    s = Scenario(spec, weights="NF4", kv="f16", batch=4, context=4096, gpu="rtx-4090", engine="transformers")
    a, b = estimate(s), estimate(s.with_(context=4097))
    # 8 attention layers × 2 × 4 KV heads × 256 × 2 B per token and sequence; the state does not move
    assert b.kv_cache.bytes - a.kv_cache.bytes == 4 * 8 * 2 * 4 * 256 * 2
    assert a.state.bytes == b.state.bytes > 0
    n = max_context(s).value
    assert estimate(s.with_(context=n)).fit.fits and not estimate(s.with_(context=n + 1)).fit.fits


def test_qwen35_state_dtype_follows_the_engine():
    spec = spec_from_config(QWEN35_9B)
    conv, ssm = 24 * 3 * 8192, 24 * 32 * 128 * 128  # values per sequence, all GDN layers
    e = estimate(Scenario(spec, weights="BF16", batch=2, context=1024, engine="llama.cpp"))
    assert e.state.bytes == 2 * (conv * 4 + ssm * 4)  # llama.cpp: R and S in f32
    # vLLM: conv in the model dtype, SSM in mamba_ssm_dtype float32: 3 × 8192 × 2 + 32 × 128 × 128 × 4
    # = 49,152 + 2,097,152 = 2,146,304 B per layer (= (conv × 2 + ssm × 4) / 24), padded to one attention page:
    # 16 × ⌈2,146,304 / (16 × 4,096)⌉ = 528-token blocks × 4,096 B (2 × 4 KV heads × 256 × 2 B) = 2,162,688 B
    # (vllm/model_executor/models/config.py HybridAttentionMambaModelConfig); 24 layers = 3 groups of 8, no padding
    assert (conv * 2 + ssm * 4) // 24 == 2_146_304
    e = estimate(Scenario(spec, weights="BF16", batch=2, context=1024, engine="vllm"))
    assert e.state.bytes == 2 * 24 * 2_162_688


def test_state_splits_over_tensor_parallel_ranks():
    spec = spec_from_config(QWEN35_9B)
    one = estimate(Scenario(spec, weights="BF16", batch=2, context=1024, engine="vllm"))
    two = estimate(Scenario(spec, weights="BF16", batch=2, context=1024, engine="vllm", gpus=2))
    assert [d.state for d in two.devices] == [one.state.bytes // 2] * 2  # heads split evenly
    assert sum(d.total for d in two.devices) == two.total


# ---------------------------------------------------------------- families

def test_qwen35_moe_reads_its_text_config():
    # Qwen3.5/3.6 MoE: the language model in text_config of a qwen3_5_moe wrapper (no intermediate_size:
    # every layer is MoE). Shapes as Qwen3-Next's; the reader must not fail on "hidden_size missing".
    cfg = {"model_type": "qwen3_5_moe", "text_config": {k: v for k, v in QWEN3_NEXT_80B.items()
                                                        if k not in ("model_type", "intermediate_size")}}
    moe = spec_from_config(cfg)
    nxt = spec_from_config(QWEN3_NEXT_80B)
    assert moe.ffn_types == (MOE,) * 48 and moe.layer_types == nxt.layer_types
    assert parameter_count(moe).total == parameter_count(nxt).total


def test_qwen3_next_80b_a3b():
    # Model card: 80B parameters in total, 3B activated (the MTP layer ships on top, not counted here).
    spec = spec_from_config(QWEN3_NEXT_80B)
    p = parameter_count(spec)
    assert abs(p.total - 80e9) / 80e9 < 0.01
    assert 3.0e9 < p.active < 4.0e9
    assert spec.layer_types == (GATED_DELTANET,) * 3 + (FULL,) + (GATED_DELTANET,) * 3 + (FULL,) + spec.layer_types[8:]
    assert spec.layer_types.count(FULL) == 12
    e = estimate(Scenario(spec, weights="BF16", batch=1, context=8192, engine="llama.cpp"))
    # 12 attention layers × 2 × 2 KV heads × 256 × 2 B × 8192 tokens; 36 GDN layers × (3 × 8192 + 32 × 128 × 128) × 4 B
    assert e.kv_cache.bytes == 12 * 2 * 2 * 256 * 2 * 8192
    assert e.state.bytes == 36 * (3 * 8192 + 32 * 128 * 128) * 4


def test_jamba_15_mini_is_52b_with_12b_active():
    # AI21 model card: "12B active parameters and a total of 52B parameters" (Jamba 1.5 Mini / Jamba v0.1).
    spec = spec_from_config(JAMBA_15_MINI)
    p = parameter_count(spec)
    assert abs(p.total - 52e9) / 52e9 < 0.01 and abs(p.active - 12e9) / 12e9 < 0.02
    assert [i for i, t in enumerate(spec.layer_types) if t == FULL] == [4, 12, 20, 28]
    assert set(spec.layer_types) == {FULL, MAMBA}
    assert [i for i, t in enumerate(spec.ffn_types) if t == MOE] == list(range(1, 32, 2))
    e = estimate(Scenario(spec, weights="BF16", batch=1, context=4096, engine="llama.cpp"))
    # 28 Mamba layers, d_inner = 2 × 4096: conv (4 − 1) × 8192, SSM 8192 × 16, in f32
    assert e.state.bytes == 28 * (3 * 8192 + 8192 * 16) * 4
    assert e.kv_cache.bytes == 4 * 2 * 8 * 128 * 2 * 4096


def test_nemotron_h_8b():
    # nvidia/Nemotron-H-8B-Base-8K model card: an 8B-parameter hybrid (24 Mamba-2, 4 attention, 24 MLP layers).
    spec = spec_from_config(NEMOTRON_H_8B)
    p = parameter_count(spec)
    assert abs(p.total - 8.1e9) / 8.1e9 < 0.02
    assert (spec.layer_types.count(MAMBA2), spec.layer_types.count(FULL), spec.layer_types.count(NO_MIXER)) == (24, 4, 24)
    assert spec.ffn_types.count(NO_FFN) == 28 and spec.ffn_types.count(DENSE) == 24
    e = estimate(Scenario(spec, weights="BF16", batch=1, context=8192, engine="llama.cpp"))
    # Mamba-2: d_inner 128 × 64 = 8192, 8 groups of state 128: conv 3 × (8192 + 2 × 8 × 128), SSM 8192 × 128
    assert e.state.bytes == 24 * (3 * (8192 + 2 * 8 * 128) + 8192 * 128) * 4
    assert e.kv_cache.bytes == 4 * 2 * 8 * 128 * 2 * 8192


def test_lfm2_350m_caches_only_its_six_attention_layers():
    # LiquidAI/LFM2-350M model card: 354M parameters; 10 short-convolution and 6 GQA blocks.
    spec = spec_from_config(LFM2_350M)
    assert abs(parameter_count(spec).total - 354e6) / 354e6 < 0.005
    assert spec.intermediate_size == 4608  # 2/3 of 6656, rounded up to a multiple of 256
    assert spec.layer_types.count(SHORT_CONV) == 10
    e = estimate(Scenario(spec, weights="BF16", batch=1, context=4096, engine="llama.cpp"))
    assert e.kv_cache.bytes == 6 * 2 * 8 * 64 * 2 * 4096  # not 16 layers
    assert e.state.bytes == 10 * (3 - 1) * 1024 * 4  # llama.cpp n_embd_r = n_embd × (L_cache − 1), f32


def test_llama4_scout_and_maverick():
    # Meta's model cards: Scout 17B active / 109B total, Maverick 17B active / 400B total (rounded figures
    # that include the vision encoder, counted in by_part "vision": exact totals in tests/test_parts.py).
    for cfg, total, moe_layers in ((LLAMA4_SCOUT, 109e9, 48), (LLAMA4_MAVERICK, 400e9, 24)):
        spec = spec_from_config(cfg)
        p = parameter_count(spec)
        assert abs(p.total - total) / total < 0.02 and abs(p.active - 17e9) / 17e9 < 0.02
        assert spec.ffn_types.count(MOE) == moe_layers
        assert spec.layer_types.count(CHUNKED) == 36 and spec.attention_chunk == 8192
    spec = spec_from_config(LLAMA4_SCOUT)
    small = estimate(Scenario(spec, weights="BF16", context=8192, engine="transformers")).kv_cache.bytes
    big = estimate(Scenario(spec, weights="BF16", context=65536, engine="transformers")).kv_cache.bytes
    per_token = 2 * 8 * 128 * 2
    # chunked layers stop at one 8192-token chunk; only the 12 NoPE full-attention layers keep growing
    assert big - small == 12 * per_token * (65536 - 8192)


def test_deepseek_v32_sparse_attention_adds_the_indexer():
    spec = spec_from_config(DEEPSEEK_V32)
    base = spec_from_config({**DEEPSEEK_V32, "model_type": "deepseek_v3"})
    # the indexer per layer: wq_b 1536 → 64 × 128, wk 7168 → 128, k_norm weight and bias, weights_proj 7168 → 64
    assert parameter_count(spec).language - parameter_count(base).language == 61 * (1536 * 8192 + 7168 * 128 + 2 * 128 + 7168 * 64)
    e = estimate(Scenario(spec, weights="FP8", kv="f16", context=4096, engine="vllm"))
    # vLLM: MLA latent (512 + 64) × 2 B plus the indexer key: 128 FP8 values + one float32 scale
    assert e.kv_cache.bytes == 61 * 4096 * ((512 + 64) * 2 + 128 + 4)
    assert any("indexer" in w for w in e.warnings)
    # transformers caches the expanded K (128 + 64) and V (128) of all 128 heads, and the indexer key of 128
    # values in the model dtype (deepseek_v32/modeling_deepseek_v32.py @01f8fa55: "Sparse-attention models cache
    # the expanded K/V, not the compressed latents"; DeepseekV32Indexer past_key_values.update_indexer)
    t = estimate(Scenario(spec, weights="FP8", kv="f16", context=4096, engine="transformers"))
    assert t.kv_cache.bytes == 61 * 4096 * (128 * (192 + 128) * 2 + 128 * 2)


# ---------------------------------------------------------------- never silent

def test_every_estimate_reports_state_and_warnings():
    d = estimate_dict(estimate(Scenario("llama-3.1-8b", weights="BF16")))
    # a dense model read completely: only the engine's own approximations (vLLM for BF16) are noted
    assert d["state"]["bytes"] == 0 and all("vLLM" in w for w in d["warnings"])
    assert d["total"]["bytes"] == sum(d[k]["bytes"] for k in ("weights", "kv_cache", "state", "activations", "overhead"))
    e = estimate(Scenario(spec_from_config(QWEN35_9B), weights="BF16"))
    d = estimate_dict(e)
    assert d["state"]["bytes"] > 0 and d["parameters"]["by_part"]["vision"] > 0
    assert any("NoPE" in w for w in estimate_dict(estimate(Scenario("smollm3-3b", weights="BF16")))["warnings"])
    assert "Notes:" in estimate_table(e) and "Recurrent state" in estimate_table(e)


def test_unknown_model_type_with_standard_fields_is_read_with_a_warning():
    cfg = {"model_type": "brand_new", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
           "vocab_size": 1000, "intermediate_size": 2048, "max_position_embeddings": 4096}
    e = estimate(Scenario(spec_from_config(cfg), weights="BF16"))
    assert any("brand_new" in w and "not one pycore knows" in w for w in e.warnings)


@pytest.mark.parametrize("extra, field", [
    ({"ssm_state_size": 128, "mamba_num_heads": 64}, "model_type"),
    ({"linear_num_value_heads": 32}, "model_type"),
    ({"layer_types": ["linear_attention", "full_attention"] * 2}, "layer_types"),
    ({"layer_types": ["mamba"] * 4}, "layer_types"),
])
def test_unknown_model_type_with_unknown_layers_is_refused(extra, field):
    cfg = {"model_type": "brand_new", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
           "vocab_size": 1000, "intermediate_size": 2048, "max_position_embeddings": 4096, **extra}
    with pytest.raises(InputError) as err:
        spec_from_config(cfg)
    assert err.value.field == field


def test_a_known_family_with_an_unknown_layer_word_is_refused():
    cfg = copy.deepcopy(QWEN35_9B)
    cfg["text_config"]["layer_types"][0] = "quantum_attention"
    with pytest.raises(InputError, match="quantum_attention"):
        spec_from_config(cfg)


# ---------------------------------------------------------------- bounded work

@pytest.mark.parametrize("key, value", [("num_hidden_layers", 30_000_000), ("num_hidden_layers", 10 ** 300),
                                        ("vocab_size", 10 ** 9), ("num_attention_heads", 1 << 20),
                                        ("max_position_embeddings", 10 ** 12), ("intermediate_size", 1 << 40)])
def test_hostile_counts_fail_fast_naming_the_field(key, value):
    cfg = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
           "vocab_size": 32000, "intermediate_size": 11008, "max_position_embeddings": 4096, key: value}
    start = time.perf_counter()
    with pytest.raises(InputError) as err:
        spec_from_config(cfg)
    assert time.perf_counter() - start < 0.05
    assert err.value.field == key
    assert len(str(err.value)) < 200 and str(value)[:60] not in str(err.value) or len(str(value)) < 40


def test_hostile_lists_fail_before_they_are_walked():
    cfg = copy.deepcopy(QWEN35_9B)
    cfg["text_config"]["layer_types"] = ["full_attention"] * 5_000_000
    start = time.perf_counter()
    with pytest.raises(InputError) as err:
        spec_from_config(cfg)
    assert time.perf_counter() - start < 0.2 and err.value.field == "layer_types"
    cfg = copy.deepcopy(NEMOTRON_H_8B)
    cfg["hybrid_override_pattern"] = "M" * 10_000_000
    with pytest.raises(InputError) as err:
        spec_from_config(cfg)
    assert err.value.field == "hybrid_override_pattern" and len(err.value.message) < 120


def test_estimate_cost_depends_on_layer_kinds_not_layer_count():
    # the state and KV figures are sums over distinct kinds: one GDN kind and one attention kind here
    from pycore.models import attention_groups, state_groups
    spec = spec_from_config(QWEN35_9B)
    assert len(attention_groups(spec)) == 1 and len(state_groups(spec)) == 1
    assert attention_groups(spec)[0][1] == 8 and state_groups(spec)[0][1] == 24


# ---------------------------------------------------------------- GGUF files of hybrid models

@pytest.mark.parametrize("name", ["qwen35-gdn", "jamba-mamba", "lfm2-conv", "kimi-kda"])
def test_hybrid_gguf_reads_back_its_layer_kinds_and_state(tmp_path, name):
    # A real GGUF written by gguf-py with the keys llama.cpp's converter writes (0 KV heads for recurrent
    # layers, {arch}.ssm.* or {arch}.shortconv.l_cache) and the converter's tensor names.
    from gguf_files import SPECS, write_spec_gguf
    from pycore.importers.gguf import import_gguf
    from pycore.importers.reader import BytesReader
    spec = SPECS[name]
    imp = import_gguf(BytesReader(write_spec_gguf(tmp_path / f"{name}.gguf", spec).read_bytes()))
    got = imp.spec
    assert got.layer_types == spec.layer_types
    assert got.ffn_types == spec.ffn_types or (not spec.ffn_types and not got.ffn_types)
    assert state_layers(got) == state_layers(spec) and attention_layers(got) == attention_layers(spec)
    assert parameter_count(got).total == parameter_count(spec).total  # the architecture accounts for every tensor
    assert not any("upper bound" in n for n in imp.notes)
    a = estimate(Scenario(got, weights="file", batch=3, context=1024))
    b = estimate(Scenario(spec, weights="F16", batch=3, context=1024, engine="llama.cpp"))
    assert (a.kv_cache.bytes, a.state.bytes) == (b.kv_cache.bytes, b.state.bytes) and a.state.bytes > 0


def test_gguf_with_recurrent_tensors_but_no_state_sizes_is_refused(tmp_path):
    from gguf_files import SPECS, converter_metadata, write_spec_gguf
    from pycore.errors import ModelFileError
    from pycore.importers.gguf import import_gguf
    from pycore.importers.reader import BytesReader
    spec = SPECS["jamba-mamba"]
    md = [m for m in converter_metadata(spec)]
    md = md[:-5]  # drop the ssm.* keys
    path = write_spec_gguf(tmp_path / "x.gguf", spec, metadata=md)
    with pytest.raises(ModelFileError, match="ssm"):
        import_gguf(BytesReader(path.read_bytes()))


def test_minimax_m1_lightning_attention():
    # MiniMax-M1 / MiniMax-Text-01 model card: "456 billion parameters in total, 45.9 billion activated per
    # token" (the activated figure leaves out the 200,064 × 6144 embedding and output matrices).
    spec = spec_from_config(PRESETS["minimax-m1-80k"].config)
    p = parameter_count(spec)
    assert abs(p.total - 456e9) / 456e9 < 0.001
    assert abs(p.active - 2 * 200064 * 6144 - 45.9e9) / 45.9e9 < 0.002
    assert spec.layer_types.count(FULL) == 10
    e = estimate(Scenario(spec, weights="BF16", batch=2, context=8192, engine="vllm"))
    # 70 lightning layers, one 128 × 128 state per head, 64 heads, in the model dtype (vLLM: no fp32 state
    # for MiniMax, mamba_utils.py); 10 softmax layers with 8 KV heads of 128
    assert e.state.bytes == 2 * 70 * 64 * 128 * 128 * 2
    assert e.kv_cache.bytes == 2 * 10 * 2 * 8 * 128 * 2 * 8192


# ---------------------------------------------------------------- Granite 4.0-H and Falcon-H1

def test_granite_40_h_tiny_against_its_gguf_header_and_card():
    # A real GGUF header of Granite-4.0-H-Tiny (Unsloth Q4_0, gguf-dump in danbev/learning-ai
    # notes/granite-model.md @33b65916): GGUF.tensor_count = 666, and these blk.0 (Mamba-2) shapes:
    # ssm_in 1536 x 6448, ssm_conv1d 4 x 3328 + bias 3328, ssm_a / ssm_d / ssm_dt.bias 48, ssm_norm 3072,
    # ssm_out 3072 x 1536, ffn_gate_inp 1536 x 64, ffn_{gate,up}_exps 1536 x 512 x 64, ffn_down_exps 512 x 1536 x 64,
    # ffn_{gate,up}_shexp 1536 x 1024, ffn_down_shexp 1024 x 1536, attn_norm and ffn_norm 1536.
    from pycore.models import weight_tensors
    spec = spec_from_config(PRESETS["granite-4.0-h-tiny"].config)
    assert len(weight_tensors(spec)) == 666
    blk0 = {t.name: t.ne for t in weight_tensors(spec) if t.layer == 0}
    assert blk0["blk.0.ssm_in.weight"] == (1536, 6448) and blk0["blk.0.ssm_conv1d.weight"] == (4, 3328)
    assert blk0["blk.0.ffn_down_exps.weight"] == (512, 1536, 64) and blk0["blk.0.ffn_up_shexp.weight"] == (1536, 1024)
    assert sum(map(math.prod, blk0.values())) == (1536 * 6448 + 4 * 3328 + 3328 + 3 * 48 + 3072 + 3072 * 1536
                                                  + 1536 * 64 + 3 * 1536 * 512 * 64 + 3 * 1536 * 1024 + 2 * 1536)
    # ibm-granite/granite-4.0-h-tiny model card (https://huggingface.co/ibm-granite/granite-4.0-h-tiny): "7B" total,
    # "1B" active, whole billions: within half a billion of each (the active count with the tied embedding,
    # as IBM's 9B for H-Small below only holds with it)
    p = parameter_count(spec)
    assert abs(p.total - 7e9) <= 0.5e9 and abs(p.active - 1e9) <= 0.5e9
    # llama.cpp's conv state per Mamba-2 layer, as the same note prints it: n_embd_r() = 3 x 3328 = 9984 values
    e = estimate(Scenario(spec, weights="BF16", batch=1, context=4096, engine="llama.cpp"))
    assert e.state.bytes == 36 * (9984 + 3072 * 128) * 4
    assert e.kv_cache.bytes == 4 * 2 * 4 * 128 * 2 * 4096


def test_granite_40_h_small_against_its_card():
    # ibm-granite/granite-4.0-h-small config.json fields (https://huggingface.co/ibm-granite/granite-4.0-h-small/
    # blob/main/config.json, as quoted field by field in a public worked example): hidden 4096, 40 layers, 32 heads,
    # 8 KV heads, 72 experts of 768, 10 per token, shared 1536, Mamba-2 expand 2 / state 128 / conv 4, tied, vocab
    # 100352; the 9:1 layout of Tiny (attention at 5, 15, 25, 35). The quote leaves out the Mamba head split
    # (128 heads of 64 here): it moves the count by 40 x 4 x 128 x 4097 values at most, 0.08B, far inside the
    # card's rounding. Model card: "32B" total, "9B" active (whole billions).
    cfg = dict(PRESETS["granite-4.0-h-tiny"].config, hidden_size=4096, num_attention_heads=32, num_key_value_heads=8,
               num_local_experts=72, num_experts_per_tok=10, intermediate_size=768, shared_intermediate_size=1536,
               mamba_n_heads=128, mamba_d_head=64)
    p = parameter_count(spec_from_config(cfg))
    assert abs(p.total - 32e9) <= 0.5e9 and abs(p.active - 9e9) <= 0.5e9


def test_falcon_h1_05b_against_its_card():
    # tiiuae/Falcon-H1-0.5B config.json (https://huggingface.co/tiiuae/Falcon-H1-0.5B-Instruct/blob/main/config.json,
    # as republished verbatim in a public Megatron bridge test, FALCON_H1_500M_CONFIG): 36 parallel hybrid blocks of
    # hidden 1024, 8 heads / 2 KV heads of 64, 24 Mamba heads of 64 (d_ssm 1536, not expand x hidden), state 128,
    # FFN 2048, vocab 32784, untied, no mamba_rms_norm, no projector biases. Card: "0.5B" (one decimal: +-0.05B).
    cfg = {"model_type": "falcon_h1", "attention_bias": False, "head_dim": 64, "hidden_size": 1024,
           "intermediate_size": 2048, "mamba_conv_bias": True, "mamba_d_conv": 4, "mamba_d_head": 64,
           "mamba_d_state": 128, "mamba_expand": 2, "mamba_n_groups": 1, "mamba_n_heads": 24,
           "mamba_proj_bias": False, "mamba_rms_norm": False, "max_position_embeddings": 16384, "mlp_bias": False,
           "num_attention_heads": 8, "num_hidden_layers": 36, "num_key_value_heads": 2, "projectors_bias": False,
           "tie_word_embeddings": False, "vocab_size": 32784}
    spec = spec_from_config(cfg)
    assert abs(parameter_count(spec).total - 0.5e9) <= 0.05e9
    # A public transfer study's expected cache geometry for this model lists conv [1, 1792, 4] and Mamba-2
    # recurrent [1, 24, 64, 128]: 1792 = 1536 + 2 x 128 channels; llama.cpp (n_embd_r) and vLLM keep d_conv - 1 = 3
    # of the 4 columns, counted here
    e = estimate(Scenario(spec, weights="BF16", batch=1, context=2048, engine="llama.cpp"))
    assert e.state.bytes == 36 * (3 * 1792 + 24 * 64 * 128) * 4
    assert e.kv_cache.bytes == 36 * 2 * 2 * 64 * 2 * 2048


# Small configs in each family's own field names: the readers' layout and state arithmetic by hand.

def test_granite_hybrid_reader_by_hand():
    cfg = {"model_type": "granitemoehybrid", "vocab_size": 1000, "hidden_size": 128, "intermediate_size": 64,
           "num_hidden_layers": 4, "max_position_embeddings": 4096, "num_attention_heads": 8, "num_key_value_heads": 4,
           "num_local_experts": 8, "num_experts_per_tok": 2, "shared_intermediate_size": 256, "mamba_n_heads": 8,
           "mamba_d_head": 32, "mamba_d_state": 128, "mamba_d_conv": 4, "mamba_n_groups": 1,
           "layer_types": ["mamba", "attention", "mamba", "mamba"], "tie_word_embeddings": True}
    spec = spec_from_config(cfg)
    assert spec.layer_types == (MAMBA2, FULL, MAMBA2, MAMBA2) and spec.ffn_types == () and spec.is_moe
    assert spec.shared_expert_intermediate_size == 256 and spec.expert_intermediate_size == 64
    e = estimate(Scenario(spec, weights="BF16", batch=1, context=1024, engine="llama.cpp"))
    # d_inner 8 × 32 = 256; conv (4 − 1) × (256 + 2 × 1 × 128); SSM 256 × 128; f32; 3 Mamba-2 layers
    assert e.state.bytes == 3 * (3 * (256 + 2 * 128) + 256 * 128) * 4
    # Mamba-2 mixer weights: in_proj 128 → 2 × 256 + 2 × 128 + 8, conv 4 × 512 + bias 512, dt/A/D 8 each,
    # norm 256, out_proj 256 → 128
    mixer = 128 * (2 * 256 + 2 * 128 + 8) + 4 * 512 + 512 + 3 * 8 + 256 + 256 * 128
    attention = 128 * 128 * 2 + 2 * 128 * 64  # q, o; k, v of 4 heads × 16
    moe = 128 * 8 + 3 * 8 * 128 * 64 + 3 * 128 * 256  # router, 8 experts, shared MLP
    total = 1000 * 128 + 128 + 4 * (2 * 128 + moe) + 3 * mixer + attention
    assert parameter_count(spec).total == total


def test_falcon_h1_reader_by_hand():
    cfg = {"model_type": "falcon_h1", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
           "num_hidden_layers": 2, "max_position_embeddings": 4096, "num_attention_heads": 4,
           "num_key_value_heads": 2, "head_dim": 16, "mamba_d_ssm": 96, "mamba_n_heads": 6, "mamba_d_head": 16,
           "mamba_d_state": 8, "mamba_n_groups": 1, "mamba_d_conv": 4}
    spec = spec_from_config(cfg)
    assert spec.layer_types == ("hybrid",) * 2 and spec.ssm_d_inner == 96
    e = estimate(Scenario(spec, weights="BF16", batch=2, context=512, engine="llama.cpp"))
    # every block holds attention (KV cache) and Mamba-2 (state) side by side
    assert e.kv_cache.bytes == 2 * 2 * 512 * 2 * 2 * 16 * 2
    assert e.state.bytes == 2 * 2 * (3 * (96 + 2 * 8) + 96 * 8) * 4


# ---------------------------------------------------------------- DeepSeek V4: refused by name, never guessed

V4_LIKE = {"model_type": "deepseek_v4", "hidden_size": 4096, "num_hidden_layers": 4, "num_attention_heads": 64,
           "num_key_value_heads": 1, "head_dim": 512, "vocab_size": 129280, "max_position_embeddings": 1048576,
           "intermediate_size": 2048, "n_routed_experts": 256, "num_experts_per_tok": 6, "moe_intermediate_size": 2048,
           "compress_ratios": [0, 4, 128, 4], "hc_mult": 4, "index_topk": 512}


@pytest.mark.parametrize("cfg, field", [
    # DeepSeek-V4's config (vllm/model_executor/models/deepseek_v4.py reads compress_ratios, hc_mult): even with
    # every standard field present it must not be read as a Llama-style decoder
    (V4_LIKE, "model_type"),
    ({**V4_LIKE, "model_type": "brand_new_v4"}, "model_type"),
    ({k: v for k, v in V4_LIKE.items() if k not in ("compress_ratios", "hc_mult")}, "model_type"),
    # transformers' layer_types words for the two compressed attentions, in an unknown family and a known one
    ({**V4_LIKE, "model_type": "brand_new", "compress_ratios": None, "hc_mult": None,
      "layer_types": ["sliding_attention", "compressed_sparse_attention", "heavily_compressed_attention",
                      "compressed_sparse_attention"]}, "layer_types"),
    ({**QWEN3_NEXT_80B, "layer_types": ["heavily_compressed_attention"] * 48}, "layer_types"),
])
def test_deepseek_v4_compressed_attention_is_refused_by_name(cfg, field):
    cfg = {k: v for k, v in cfg.items() if v is not None}
    with pytest.raises(InputError) as err:
        spec_from_config(cfg)
    assert err.value.field == field
    assert "compressed" in str(err.value) or "DeepSeek V4" in str(err.value)


def test_deepseek4_gguf_is_refused_by_name(tmp_path):
    from gguf_files import SPECS, converter_metadata, write_gguf
    from pycore.errors import ModelFileError
    from pycore.formats import gguf_tensors
    from pycore.importers.gguf import import_gguf
    from pycore.importers.reader import BytesReader
    spec = SPECS["llama-gqa"]
    path = write_gguf(tmp_path / "v4.gguf", "deepseek4", converter_metadata(spec),
                      [(t.name, t.ne, "F32") for t in gguf_tensors(spec)])
    with pytest.raises(ModelFileError, match="compressed"):
        import_gguf(BytesReader(path.read_bytes()))
