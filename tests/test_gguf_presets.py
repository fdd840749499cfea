"""GGUF weights against real files: block sizes from gguf-py, presets against published file sizes."""
import gguf
import pytest

from pycore.formats import weight_format, weight_storage
from pycore.ggml import GGML_TYPES
from pycore.importers.hf_config import spec_from_config
from pycore.models import parameter_count
from pycore.presets import model
from pycore.units import GiB
from reference import LLAMA31_8B_README, PYTHIA_CI, THEBLOKE_GGUF_BYTES


def test_block_sizes_match_gguf_py():
    # gguf-py (llama.cpp's own Python package) is the independent source of (block size, type size).
    checked = 0
    for name, t in GGML_TYPES.items():
        if not hasattr(gguf.GGMLQuantizationType, name):
            continue
        qtype = gguf.GGMLQuantizationType[name]
        assert int(qtype) == t.type_id, name
        if qtype in gguf.GGML_QUANT_SIZES:
            assert gguf.GGML_QUANT_SIZES[qtype] == (t.block_size, t.type_size), name
            checked += 1
    assert checked >= 30


def test_q8_0_carries_its_scale():
    # 32 int8 values plus one fp16 scale: 34 bytes, 8.5 bits per weight, not 8.
    assert GGML_TYPES["Q8_0"].row_bytes(4096) == 4096 // 32 * 34
    assert GGML_TYPES["Q4_K"].bits_per_weight == 4.5


@pytest.mark.parametrize("model_id", sorted(THEBLOKE_GGUF_BYTES))
def test_thebloke_files_byte_exact_up_to_one_header(model_id):
    """Every preset of a model differs from the real file by the same constant: the GGUF header
    (metadata and tokenizer), which does not depend on the quantization. The files were made in
    Sep 2023, so the 2023 rules apply."""
    spec = model(model_id)
    headers = set()
    for preset, file_bytes in THEBLOKE_GGUF_BYTES[model_id].items():
        tensors = weight_storage(spec, weight_format(f"{preset}@2023")).total
        assert abs(file_bytes - tensors) / file_bytes < 0.005  # the 0.5 % bound, with room to spare
        headers.add(file_bytes - tensors)
    assert len(headers) == 1
    header = headers.pop()
    assert 0 < header < 1 << 20  # a 32k-token vocabulary and metadata: well under 1 MiB


def test_today_rules_differ_from_2023_only_in_q2_k():
    # Q2_K stopped bumping ffn_gate/ffn_up to Q3_K in Jan 2024 (llama.cpp 469e75d0): today's file is
    # 64 tensors of 4096×11008 smaller by (110 − 84) bytes per 256 values.
    spec = model("llama-2-7b")
    for preset in THEBLOKE_GGUF_BYTES["llama-2-7b"]:
        old = weight_storage(spec, weight_format(f"{preset}@2023")).total
        new = weight_storage(spec, weight_format(preset)).total
        assert (old - new) == (64 * 4096 * 11008 // 256 * (110 - 84) if preset == "Q2_K" else 0), preset


def test_q4_k_m_is_a_recipe_not_a_type():
    # Reference notes (gguf-preset-rules.md §6): Llama-2-7B Q4_K_M = 33 Q6_K (16 attn_v + 16 ffn_down
    # + output), 193 Q4_K, 65 F32.
    stored = weight_storage(model("llama-2-7b"), weight_format("Q4_K_M"))
    assert {label: n for label, n, _, _ in stored.by_type} == {"Q6_K": 33, "Q4_K": 193, "F32": 65}
    bpw = 8 * stored.total / parameter_count(model("llama-2-7b")).total
    assert 4.8 < bpw < 4.9  # not 4.5 (the Q4_K block) and not the seed's 4.0


@pytest.mark.parametrize("preset", sorted(PYTHIA_CI))
def test_pythia_ci_sizes_and_type_counts(preset):
    """llama.cpp CI build 4822 (2025 rules): printed size and tensor type counts."""
    printed, unit, counts = PYTHIA_CI[preset]
    stored = weight_storage(model("pythia-1.4b"), weight_format(f"{preset}@2025"))
    assert abs(stored.total / unit - printed) <= 0.005 + 1e-9  # printed with two decimals
    assert {label: n for label, n, _, _ in stored.by_type} == counts


def test_fused_qkv_follows_attn_v_rules_today():
    # Since llama.cpp 1dab5f5a (2026-03-10) attn_qkv is attn_v-like: Q4_K_M puts it in Q6_K on the
    # use_more_bits layers (12 of 24) and Q4_K elsewhere, instead of Q5_K everywhere.
    stored = weight_storage(model("pythia-1.4b"), weight_format("Q4_K_M"))
    qkv = [s.label for t, s in stored.tensors if t.role == "attn_qkv" and t.name.endswith("weight")]
    assert qkv.count("Q6_K") == 12 and qkv.count("Q4_K") == 12


LLAMA31_8B = dict(model_type="llama", vocab_size=128256, hidden_size=4096, intermediate_size=14336,
                  num_hidden_layers=32, num_attention_heads=32, num_key_value_heads=8,
                  max_position_embeddings=131072, tie_word_embeddings=False)


@pytest.mark.parametrize("preset", sorted(LLAMA31_8B_README))
def test_llama31_8b_quantize_readme(preset):
    """llama.cpp's quantize README table: bits per weight to the printed 4 decimals, size in GiB."""
    bpw, gib = LLAMA31_8B_README[preset]
    spec = spec_from_config(LLAMA31_8B)
    stored = weight_storage(spec, weight_format(preset))
    assert abs(8 * stored.total / parameter_count(spec).total - bpw) < 0.00051
    assert abs(stored.total / GiB - gib) < 0.0051


def test_fallback_for_rows_that_do_not_fill_blocks():
    # gpt-oss style width 2880 = 11.25 × 256: k-quants cannot hold its rows, llama.cpp falls back
    # (tensor_type_fallback): Q4_K -> Q5_0, Q6_K -> Q8_0; the output goes to Q8_0.
    spec = spec_from_config(dict(model_type="llama", vocab_size=1024, hidden_size=2880, intermediate_size=2880,
                                 num_hidden_layers=4, num_attention_heads=64, num_key_value_heads=8, head_dim=64,
                                 max_position_embeddings=4096, tie_word_embeddings=False))
    stored = weight_storage(spec, weight_format("Q4_K_M"))
    types = {t.name: s.label for t, s in stored.tensors}
    assert types["output.weight"] == "Q8_0"
    assert types["blk.1.attn_q.weight"] == "Q5_0"
    assert types["blk.3.ffn_down.weight"] == "Q8_0"  # use_more_bits(3, 4): Q6_K, then fallback
    assert types["blk.0.ffn_down.weight"] == "Q5_0"  # Q4_K, then fallback
    assert types["blk.0.attn_norm.weight"] == "F32"


def test_hybrid_rules_by_hand():
    """llama-quant.cpp @007dbbf3 llama_tensor_get_type_impl, worked by hand (tests/test_quantize_real.py
    checks the same against libllama's quantizer)."""
    from gguf_files import tiny
    from pycore.models import DENSE, FULL, MAMBA2, NO_FFN, NO_MIXER
    # 16 blocks, an MLP in the odd ones (Nemotron-H style). Without experts llama.cpp numbers ffn_down by
    # count: use_more_bits(c, 16) holds for c in {0, 1, 4, 7}, the 1st, 2nd, 5th and 8th MLP = blocks 1, 3,
    # 9, 15 (by block number it would have been 1, 7, 13, 15).
    kinds = tuple(NO_MIXER if i % 2 else (FULL if i == 4 else MAMBA2) for i in range(16))
    spec = tiny(arch="nemotron_h", num_layers=16, gated_mlp=False, num_heads=8, num_kv_heads=2, head_dim=32,
                layer_types=kinds, ffn_types=tuple(DENSE if k == NO_MIXER else NO_FFN for k in kinds),
                ssm_d_inner=256, ssm_d_state=32, ssm_d_conv=4, ssm_n_groups=2, ssm_num_heads=8)
    types = {t.name: s.label for t, s in weight_storage(spec, weight_format("Q4_K_M")).tensors}
    assert {i for i in range(16) if types.get(f"blk.{i}.ffn_down.weight") == "Q6_K"} == {1, 3, 9, 15}
    # Block 0 is Mamba-2 and the converter wrote 0 KV heads for it: n_gqa() = 0, so Q2_K keeps attn_v at
    # Q3_K although 8 heads share 2 KV heads (n_gqa 4 would give Q4_K).
    q2 = {t.name: s.label for t, s in weight_storage(spec, weight_format("Q2_K")).tensors}
    assert q2["blk.4.attn_v.weight"] == "Q3_K"


def test_kept_types_follow_the_converter():
    # convert_hf_to_gguf.py @a458664f writes F32 for 1-D tensors, *_norm.weight, names without ".weight"
    # (ssm_a from A_log) and conv kernels; other matrices in --outtype (F16). llama-quantize keeps both.
    from pycore.gguf_recipes import allows_quantization, kept_type
    assert not allows_quantization("blk.0.altup_router.weight", (2048, 4))
    assert kept_type("blk.0.altup_router.weight", (2048, 4)) == "F16"
    assert kept_type("per_layer_model_proj.weight", (2048, 8960)) == "F16"
    assert kept_type("blk.0.ssm_a", (16, 8192)) == "F32" and not allows_quantization("blk.0.ssm_a", (16, 8192))
    assert kept_type("blk.0.ssm_conv1d.weight", (4, 8192)) == "F32"
    assert kept_type("blk.0.ssm_norm.weight", (128, 64)) == "F32"


@pytest.mark.parametrize("weights, era", [("Q4_K_M", "2026"), ("Q2_K@2023", "2023"), ("BF16", None),
                                          ("ggml:Q8_0", None)])
def test_a_predicted_preset_says_it_assumes_the_stock_rules(weights, era):
    # A preset name fixes the file type, not each tensor's type: files quantized with --tensor-type overrides
    # differ (bartowski's Kimi-Linear Q4_K_M, tests/test_kimi_linear.py), so the estimate says which rules it used.
    from pycore.memory import estimate
    from pycore.scenario import Scenario
    e = estimate(Scenario(model("kimi-linear-48b-a3b"), weights=weights, context=1024, engine="llama.cpp"))
    said = [w for w in e.warnings if "--tensor-type" in w]
    assert said == ([f"{weights} is predicted with llama-quantize's stock per-tensor rules ({era}); a file made with "
                     "--tensor-type overrides, as some MoE uploads are, or with another era's rules differs: "
                     "loading the GGUF itself (--gguf FILE) gives its exact types."] if era else [])
