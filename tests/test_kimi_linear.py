"""Kimi Linear (moonshotai/Kimi-Linear-48B-A3B-Instruct): Kimi Delta Attention (KDA) layers beside NoPE MLA layers,
DeepSeek-style MoE. Read from its published config.json (pycore/preset_data.py, source there) and checked against
figures found independently of this code: a real GGUF header's element count, the model card's parameter counts,
and the state per sequence worked out by hand from the engines' state shapes."""
import copy
import gc
import time

import pytest

from pycore.errors import InputError
from pycore.importers.hf_config import spec_from_config
from pycore.memory import estimate
from pycore.models import DENSE, FULL, KDA, MOE, attention_layers, parameter_count, state_layers, weight_tensors
from pycore.presets import PRESETS, model
from pycore.scenario import Scenario
from pycore.solve import max_context

KIMI = PRESETS["kimi-linear-48b-a3b"].config
MiB = 1 << 20


def test_layout_follows_linear_attn_config():
    # linear_attn_config lists layers 1-based (vLLM KimiLinearConfig.is_kda_layer: layer_idx + 1 in kda_layers):
    # full_attn_layers [4, 8, ..., 24, 27] are 0-based layers 3, 7, ..., 23, 26
    spec = model("kimi-linear-48b-a3b")
    assert [i for i, t in enumerate(spec.layer_types) if t == FULL] == [3, 7, 11, 15, 19, 23, 26]
    assert spec.layer_types.count(KDA) == 20
    assert spec.ffn_types == (DENSE,) + (MOE,) * 26  # first_k_dense_replace 1, moe_layer_freq 1
    assert spec.is_mla and spec.kv_lora_rank == 512 and spec.qk_rope_head_dim == 64 and not spec.q_lora_rank
    assert spec.max_context == 1048576  # model_max_length: the config has no max_position_embeddings


def test_total_matches_a_real_gguf_header_exactly():
    # bartowski/moonshotai_Kimi-Linear-48B-A3B-Instruct-GGUF Q4_K_M, its header read by
    # pmains/kimi-linear-48b-ssd-streaming benchmarks/results/phase-02-gguf-header-analysis.json @1cf673da:
    # "header_total_elements": 49122681728 over 610 tensors; routed experts 47,110,422,528 (26 MoE layers ×
    # 3 × 2304 × 1024 × 256); token_embd 377,487,360 (163840 × 2304).
    spec = model("kimi-linear-48b-a3b")
    n = parameter_count(spec)
    assert n.total == 49_122_681_728
    assert sum(t.numel for t in weight_tensors(spec) if t.is_expert) == 47_110_422_528 == 26 * 3 * 2304 * 1024 * 256
    assert n.embedding == 377_487_360 == 163840 * 2304
    # a hand count of one KDA mixer from vLLM's KimiDeltaAttention shapes (H 2304, 32 heads of 128, kernel 4):
    # q, k, v; three convs; f_a, f_b; dt_bias; b_proj; A_log; g_a, g_b; o_norm; o_proj
    H, w, d = 2304, 32 * 128, 128
    kda = 3 * H * w + 3 * 4 * w + H * d + d * w + w + H * 32 + 32 + H * d + d * w + d + w * H
    mixer = {"attn_q", "attn_k", "attn_v", "ssm_conv1d_q", "ssm_conv1d_k", "ssm_conv1d_v", "ssm_f_a", "ssm_f_b",
             "ssm_dt", "ssm_beta", "ssm_a", "ssm_g_a", "ssm_g_b", "ssm_norm", "attn_output"}
    assert sum(t.numel for t in weight_tensors(spec) if t.layer == 0 and t.role in mixer) == kda == 39_514_272


def test_model_card_48b_total_3b_active():
    # moonshotai/Kimi-Linear-48B-A3B-Instruct model card and MoonshotAI/Kimi-Linear README.md @16a0ae6d:
    # "3B activated parameters and 48B total parameters". The card rounds to whole billions: the total is
    # within half a billion of 48B only if the embedding and head are left out (49.12B - 2 × 0.377B = 48.37B);
    # the active figure without the embedding lookup rounds to 3B (as Kimi K2's card counts, tests/test_families.py).
    spec = model("kimi-linear-48b-a3b")
    n = parameter_count(spec)
    head = spec.vocab_size * spec.hidden_size
    assert abs(n.total - n.embedding - head - 48e9) <= 0.5e9
    assert round((n.active - n.embedding) / 1e9) == 3


def test_state_per_sequence_by_hand():
    # 20 KDA layers, 32 heads of 128, kernel 4. Per layer and sequence:
    #   conv state: 3 (q, k, v) × (4 − 1) × 32 × 128 = 36,864 values
    #   recurrent:  32 × 128 × 128 = 524,288 values
    # llama.cpp keeps both in f32 (src/models/kimi-linear.cpp, llama-memory-recurrent): 20 × 561,152 × 4 B
    #   = 44,892,160 B = 42.81 MiB per sequence;
    # vLLM keeps the conv state in the model dtype (BF16) and the recurrent state in float32
    # (mamba_utils.py kda_state_dtype): 20 × (36,864 × 2 + 524,288 × 4) = 43,417,600 B per sequence.
    spec = model("kimi-linear-48b-a3b")
    cpp = estimate(Scenario(spec, weights="BF16", batch=3, context=4096, engine="llama.cpp"))
    assert cpp.state.bytes == 3 * 44_892_160
    vllm = estimate(Scenario(spec, weights="BF16", batch=3, context=4096, engine="vllm"))
    assert "= 130,252,800 B" in vllm.state.substituted  # the state itself: 3 × 43,417,600 B
    # vLLM's hybrid pool pads each state page to the attention page (pycore/engines/vllm_pool.py, vLLM
    # models/config.py@1936cf38): MLA's 576 values × 2 B = 1,152 B per token, blocks aligned to 64 tokens:
    # 64 × ⌈2,170,880 / (64 × 1,152)⌉ = 64 × 30 = 1,920 tokens, a page of 1,920 × 1,152 = 2,211,840 B.
    # Layers are grouped by the attention group's size (7 MLA layers): ⌈20 / 7⌉ = 3 groups of 7 slots,
    # so 21 state pages per sequence (one padding layer): 3 sequences × 21 × 2,211,840 B.
    assert vllm.state.bytes == 3 * 21 * 2_211_840
    assert len(state_layers(spec)) == 20 and {s.kind for s in state_layers(spec)} == {"kda"}


def test_only_the_seven_mla_layers_grow_with_the_context():
    # 7 MLA layers × (512 latent + 64 RoPE) values × 2 B per token, whatever the 32 heads (MLA caches no ×2)
    spec = model("kimi-linear-48b-a3b")
    # (as llama.cpp caches MLA, in cells padded to 256: 8192, then 8192 + 256)
    a = estimate(Scenario(spec, weights="Q8_0", kv="f16", context=8192, engine="llama.cpp"))
    b = estimate(Scenario(spec, weights="Q8_0", kv="f16", context=8193, engine="llama.cpp"))
    assert a.kv_cache.bytes == 7 * 576 * 2 * 8192
    assert b.kv_cache.bytes - a.kv_cache.bytes == 7 * 576 * 2 * 256 and a.state.bytes == b.state.bytes
    assert len(attention_layers(spec)) == 7
    # transformers caches MLA expanded per head: 32 heads × (128 + 64 K + 128 V) × 2 B per token and layer
    # (modeling_deepseek_v3.py, which Kimi Linear's MLA layers follow), one token at a time
    t = [estimate(Scenario(spec, weights="BF16", kv="f16", context=c, engine="transformers")).kv_cache.bytes
         for c in (8192, 8193)]
    assert t[1] - t[0] == 7 * 32 * 320 * 2
    s = Scenario(spec, weights="Q4_K_M", kv="f16", batch=16, context=4096, gpu="h100-sxm", engine="llama.cpp")
    n = max_context(s).value
    assert estimate(s.with_(context=n)).fit.fits and not estimate(s.with_(context=n + 1)).fit.fits


def test_state_splits_over_tensor_parallel_ranks():
    spec = model("kimi-linear-48b-a3b")
    one = estimate(Scenario(spec, weights="BF16", batch=2, context=1024, engine="vllm"))
    four = estimate(Scenario(spec, weights="BF16", batch=2, context=1024, engine="vllm", gpus=4))
    assert "= 86,835,200 B" in one.state.substituted and "= 86,835,200 B" in four.state.substituted
    # 32 heads, 8 per rank: 2,170,880 / 4 = 542,720 B of state per layer and sequence on each GPU, in pages
    # of vLLM's pool (pycore/engines/vllm_pool.py): the MLA latent is not split over ranks (1,152 B per token),
    # blocks of 64 × ⌈542,720 / (64 × 1,152)⌉ = 512 tokens, a page of 589,824 B; 2 sequences × 21 pages
    # (20 KDA layers in 3 groups of 7) on each GPU
    assert [d.state for d in four.devices] == [2 * 21 * 589_824] * 4


def test_state_dtype_and_nope_are_said():
    notes = " ".join(model("kimi-linear-48b-a3b").notes)
    assert "float32" in notes and "mla_use_nope" in notes


@pytest.mark.parametrize("change, field", [
    (lambda c: c["linear_attn_config"].update(kda_layers=[1, 2, 3]), "linear_attn_config"),  # layers left over
    (lambda c: c["linear_attn_config"].update(full_attn_layers=[1, 4, 8, 12, 16, 20, 24, 27]), "linear_attn_config"),
    (lambda c: c["linear_attn_config"].update(kda_layers=list(range(5_000_000))), "kda_layers"),
    (lambda c: c["linear_attn_config"].update(num_heads=10**40), "linear_attn_config.num_heads"),
    (lambda c: c["linear_attn_config"].pop("head_dim"), "linear_attn_config.head_dim"),
    (lambda c: c["linear_attn_config"].update(num_heads=1 << 20), "linear_attn_config"),
    (lambda c: c.update(linear_attn_config="kda everywhere"), "linear_attn_config"),
])
def test_bad_linear_attn_config_ends_in_a_message(change, field):
    cfg = copy.deepcopy(KIMI)
    change(cfg)
    gc.collect()  # a collector pass over the 5-million-entry list is not the reader's time
    start = time.perf_counter()
    with pytest.raises(InputError) as err:
        spec_from_config(cfg)
    assert time.perf_counter() - start < 0.2
    assert err.value.field == field and len(str(err.value)) < 200


def test_without_linear_attn_config_every_layer_is_mla():
    # KimiLinearConfig.is_linear_attn is False without linear_attn_config: every layer MLA, no state
    cfg = {k: v for k, v in KIMI.items() if k != "linear_attn_config"}
    spec = spec_from_config(cfg)
    assert set(spec.layer_types) == {FULL} and not spec.has_state


def test_q4_k_m_recipe_on_kda_tensors_matches_a_real_file():
    # bartowski's Kimi-Linear-48B-A3B-Instruct Q4_K_M (llama.cpp b7966), header read in pmains/kimi-linear-48b-ssd-
    # streaming benchmarks/results/phase-02-gguf-header-analysis.json @1cf673da, bytes per tensor category:
    #   "kda": 220 tensors, 26,155,520 B (F32, Q4_K, Q5_0) - the 11 ssm_* tensors of each of the 20 KDA layers
    #   "embedding": 212,336,640 B (Q4_K); "output": 309,666,816 B (F32 norm + Q6_K head); "router": 61,341,696 B (F32)
    # The GGUF preset rules (pycore/gguf_recipes.py) reproduce these categories to the byte.
    from pycore.formats import weight_format, weight_storage
    stored = weight_storage(model("kimi-linear-48b-a3b"), weight_format("Q4_K_M"))
    by_role = {}
    for t, s in stored.tensors:
        key = ("kda" if t.role.startswith("ssm_") else "embedding" if t.role == "token_embd"
               else "output" if t.role in ("output", "output_norm") else "router" if t.role == "ffn_gate_inp" else None)
        if key:
            count, size = by_role.get(key, (0, 0))
            by_role[key] = (count + 1, size + s.bytes)
    assert by_role["kda"] == (220, 26_155_520)
    assert by_role["embedding"][1] == 212_336_640 and by_role["output"][1] == 309_666_816
    assert by_role["router"][1] == 61_341_696


def _q4_k_m_by_category():
    """Predicted Q4_K_M bytes by the categories of the pmains header analysis (610 tensors): attn_* 149, ssm_* 220,
    *_shexp 78, routed *_exps 78, router 26, token_embd, output + output_norm, the rest 56 (norms, exp_probs_b,
    block 0's dense FFN)."""
    from pycore.formats import weight_format, weight_storage
    out = {}
    for t, s in weight_storage(model("kimi-linear-48b-a3b"), weight_format("Q4_K_M")).tensors:
        r = t.role
        key = ("attention" if r.startswith("attn_") else "kda" if r.startswith("ssm_") else "shared_expert"
               if r.endswith("_shexp") else "experts" if r.endswith("_exps") else "router" if r == "ffn_gate_inp"
               else "embedding" if r == "token_embd" else "output" if r in ("output", "output_norm") else "other")
        count, size = out.get(key, (0, 0))
        out[key] = (count + 1, size + s.bytes)
    return out


def test_preset_sizes_match_a_stock_quantizer_s_files():
    # ymcki/Kimi-Linear-48B-A3B-Instruct-GGUF model card (https://huggingface.co/ymcki/Kimi-Linear-48B-A3B-Instruct-GGUF),
    # files made by the author of llama.cpp's Kimi Linear support with stock llama-quantize presets, sizes in GB
    # (10^9 B, two decimals): Q4_K_M 29.70, Q5_K_M 34.87, MXFP4_MOE 27.21, IQ4_XS (with an imatrix) 26.27.
    # A file is its tensors plus a header (163,840 tokenizer entries and merges: a few MB), so one header size
    # between 0 and 20 MB must explain all four once the card's rounding (± 0.005 GB) is allowed for.
    from dataclasses import replace
    from pycore import gguf_recipes
    from pycore.formats import gguf_tensors, gguf_traits, weight_format, weight_storage
    from pycore.ggml import GGML_TYPES
    spec = model("kimi-linear-48b-a3b")
    predicted = {p: weight_storage(spec, weight_format(p)).total for p in ("Q4_K_M", "Q5_K_M", "MXFP4_MOE")}
    tensors = [(t.name, t.ne) for t in gguf_tensors(spec)]
    types = gguf_recipes.assign_types("IQ4_XS", tensors, replace(gguf_traits(spec), has_imatrix=True))
    predicted["IQ4_XS"] = sum(GGML_TYPES[ty].tensor_bytes(ne) for (_, ne), ty in zip(tensors, types))
    card = {"Q4_K_M": 29.70e9, "Q5_K_M": 34.87e9, "MXFP4_MOE": 27.21e9, "IQ4_XS": 26.27e9}
    header_lo = max(0, *(card[p] - 0.005e9 - predicted[p] for p in card))
    header_hi = min(20e6, *(card[p] + 0.005e9 - predicted[p] for p in card))
    assert header_lo < header_hi, (header_lo, header_hi)


def test_remaining_gap_to_bartowski_s_q4_k_m_is_its_own_recipe():
    # bartowski's Q4_K_M (llama.cpp b7966, imatrix), header in pmains/kimi-linear-48b-ssd-streaming
    # benchmarks/results/phase-02-gguf-header-analysis.json @1cf673da: 30,054,109,696 B of tensors. The stock rules
    # (gguf_recipes, checked against the real quantizer on a tiny Kimi Linear in tests/test_quantize_real.py)
    # predict 358,299,648 B less (1.19 %), all of it in three categories; the other five match to the byte:
    real = {"output": (2, 309_666_816), "embedding": (1, 212_336_640), "attention": (149, 705_896_448),
            "other": (56, 41_581_568), "kda": (220, 26_155_520), "shared_expert": (78, 173_242_368),
            "router": (26, 61_341_696)}
    real["experts"] = (78, 30_054_109_696 - sum(b for _, b in real.values()))
    ours = _q4_k_m_by_category()
    assert {k: v[0] for k, v in ours.items()} == {k: v[0] for k, v in real.items()}
    gap = {k: real[k][1] - ours[k][1] for k in real if real[k][1] != ours[k][1]}
    # routed experts: the file has 13 ffn_down_exps in Q6_K (blocks 1, 2, 3, 6, ..., 21, 23-26, i.e. use_more_bits(b - 1,
    # 26)), the stock rules 12 (use_more_bits(b, 27): blocks 1, 2, 5, ..., 20, 23-26): one 256 × 2304 × 1024 tensor in
    # Q6_K instead of Q4_K = 603,979,776 × (210 - 144) / 256 B. The shared experts (file: Q6_K/Q8_0 only) and the
    # attention (file: Q8_0 and Q5_K among its types) take types no stock Q4_K_M rule gives a 256-expert model
    # (Q8_0 comes only with exactly 8 experts): per-tensor overrides, which the estimate's warnings mention.
    assert gap == {"experts": 603_979_776 * (210 - 144) // 256, "shared_expert": 62_429_184,
                   "attention": 140_156_928}
    assert sum(gap.values()) == 358_299_648 == 30_054_109_696 - sum(b for _, b in ours.values())
