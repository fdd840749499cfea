"""GGUF presets against the real quantizer: tiny hybrid and dense files, quantized by llama.cpp itself.

llama-cpp-python (requirements-dev.txt) ships libllama; its llama_model_quantize is llama-quantize's
engine (src/llama-quant.cpp). Each file below is written the way convert_hf_to_gguf.py writes the
architecture (F16 matrices, F32 norms, biases, convolutions and routers), quantized to each preset,
read back with gguf-py, and every tensor's type must be the one pycore predicts from the spec alone.
"""
import ctypes
import os

import pytest

import gguf
from gguf_files import converter_metadata, pick_types, tiny, write_gguf
from pycore.formats import gguf_tensors, weight_format, weight_storage
from pycore.gguf_recipes import PRESETS
from pycore.models import (DENSE, FULL, GATED_DELTANET, KDA, MAMBA, MAMBA2, MOE, NO_FFN, NO_MIXER, PARALLEL_HYBRID,
                           SHORT_CONV, SLIDING)
from pycore.parts import MTPLayers, _mtp_block

import llama_cpp  # noqa: E402  (a test dependency, requirements-dev.txt: missing, this module fails, never skips)

# The k-quant mixes and the i-quant with GQA rules; IQ4_XS is slow to quantize, so only where it tells
# something (a hybrid whose block 0 has no KV heads, the Gated DeltaNet's attn_qkv).
PRESETS_CHECKED = ("Q2_K", "Q3_K_M", "Q4_K_S", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0")
EXTRA_PRESETS = {"nemotron_h": ("IQ4_XS",), "qwen35": ("IQ4_XS",), "llama": ("Q3_K_L", "Q4_0")}
# fewer presets where the family adds tensors but no new rule
ONLY_PRESETS = {"qwen3next": ("Q4_K_M",), "granitehybrid": ("Q2_K",), "falcon-h1": ("Q4_K_M",),
                "gemma3n": ("Q2_K", "Q4_K_M", "Q8_0"), "glm4moe-nextn": ("Q3_K_M", "Q4_K_M"),
                "deepseek2-dense1": ("Q2_K", "Q3_K_M", "Q4_K_M", "Q5_K_M"), "kimi-linear": ("Q4_K_M", "Q5_K_M")}


def _presets(name):
    return ONLY_PRESETS.get(name, PRESETS_CHECKED + EXTRA_PRESETS.get(name, ()))


def _cases():
    return [(name, p) for name in SPECS for p in _presets(name)]


# 8 query heads on 2 KV heads (n_gqa 4, where llama.cpp's rules change), 8 or 16 layers for use_more_bits.
_HEADS = dict(num_heads=8, num_kv_heads=2, head_dim=32, vocab_size=256, intermediate_size=256)

SPECS = {
    # Qwen3.5: three Gated DeltaNet layers, then gated full attention; the GDN's fused qkv is attn_v-like.
    # KV heads as one number (Qwen3NextModel writes num_key_value_heads, the layout as full_attention_interval).
    "qwen35": tiny(arch="qwen35", num_layers=8, qk_norm=True, attn_output_gate=True, **_HEADS,
                   layer_types=(GATED_DELTANET,) * 3 + (FULL,) + (GATED_DELTANET,) * 3 + (FULL,),
                   linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=64,
                   linear_value_head_dim=64, linear_conv_kernel=4),
    # Jamba: Mamba-1 first (layer 0 has no KV heads), MoE every other layer; dt_rank 16 and d_state 16
    # give rows shorter than any block (ssm_dt: fallback to F16).
    "jamba": tiny(arch="jamba", num_layers=4, **_HEADS, layer_types=(MAMBA, MAMBA, FULL, MAMBA),
                  ssm_d_inner=256, ssm_d_state=16, ssm_d_conv=4, ssm_dt_rank=16, ssm_inner_norms=True,
                  num_experts=4, experts_per_token=2, expert_intermediate_size=256, ffn_types=(DENSE, MOE) * 2),
    # LFM2: short convolutions first; an FFN width of 320 (10 blocks of 32, not whole 256-blocks) sends
    # ffn_down through the fallback chain.
    "lfm2": tiny(arch="lfm2", num_layers=8, qk_norm=True, tie_embeddings=True, **{**_HEADS, "intermediate_size": 320},
                 layer_types=(SHORT_CONV, SHORT_CONV, FULL) * 2 + (SHORT_CONV, FULL), conv_l_cache=3),
    # Nemotron-H: one mixer or one FFN per block (Mamba-2, attention, MLP): ffn_down is counted, not
    # numbered by block, in llama.cpp's rules for models without experts.
    "nemotron_h": tiny(arch="nemotron_h", num_layers=16, gated_mlp=False, **_HEADS,
                       layer_types=(MAMBA2, NO_MIXER, MAMBA2, NO_MIXER, MAMBA2, FULL, NO_MIXER, MAMBA2,
                                    NO_MIXER, MAMBA2, NO_MIXER, MAMBA2, FULL, NO_MIXER, MAMBA2, NO_MIXER),
                       ffn_types=tuple(DENSE if t == NO_MIXER else NO_FFN for t in
                                       (MAMBA2, NO_MIXER, MAMBA2, NO_MIXER, MAMBA2, FULL, NO_MIXER, MAMBA2,
                                        NO_MIXER, MAMBA2, NO_MIXER, MAMBA2, FULL, NO_MIXER, MAMBA2, NO_MIXER)),
                       ssm_d_inner=256, ssm_d_state=32, ssm_d_conv=4, ssm_n_groups=2, ssm_num_heads=8),
    # Qwen3-Next: Gated DeltaNet with one β/α projection (ssm_ba), MoE with a gated shared expert
    "qwen3next": tiny(arch="qwen3next", num_layers=8, qk_norm=True, attn_output_gate=True,
                      **{**_HEADS, "intermediate_size": 0}, layer_types=(GATED_DELTANET,) * 3 + (FULL,) + (GATED_DELTANET,) * 3 + (FULL,),
                      linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=64, linear_value_head_dim=64,
                      linear_conv_kernel=4, num_experts=4, experts_per_token=2, expert_intermediate_size=256,
                      shared_expert_intermediate_size=256, shared_expert_gate=True),
    # Granite 4.0-H: Mamba-2 first (no KV heads in block 0), MoE with a shared MLP, tied embeddings
    "granitehybrid": tiny(arch="granitehybrid", num_layers=8, tie_embeddings=True, **{**_HEADS, "intermediate_size": 0},
                          layer_types=(MAMBA2, MAMBA2, MAMBA2, FULL) * 2, ssm_d_inner=512, ssm_d_state=32, ssm_d_conv=4,
                          ssm_n_groups=1, ssm_num_heads=8, num_experts=4, experts_per_token=2,
                          expert_intermediate_size=256, shared_expert_intermediate_size=256),
    # Falcon-H1: attention and Mamba-2 side by side in every block
    "falcon-h1": tiny(arch="falcon-h1", num_layers=8, **_HEADS, layer_types=(PARALLEL_HYBRID,) * 8, ssm_d_inner=512,
                      ssm_d_state=32, ssm_d_conv=4, ssm_n_groups=1, ssm_num_heads=8, ssm_gated_norm=False),
    # dense reference: a plain Llama
    "llama": tiny(num_layers=8, **_HEADS),
    # Gemma 3n: AltUp, LAuReL and per_layer_model_proj matrices, which llama-quantize leaves in 16 bits
    "gemma3n": tiny(arch="gemma3n", num_layers=4, norms_per_layer=4, tie_embeddings=True, **_HEADS, sliding_window=512,
                    layer_types=(SLIDING, SLIDING, SLIDING, FULL), per_layer_input_size=256, per_layer_vocab=256,
                    altup_inputs=4, laurel_rank=64),
    # GLM-4.5 (glm4moe) with its NextN layer kept as block 15 of 16: the rules count 16 blocks
    # (use_more_bits(i, 16) differs from (i, 15) on 15 of the 45 attn_v/ffn_down tensors).
    "glm4moe-nextn": tiny(arch="glm4moe", num_layers=15, **_HEADS, num_experts=2, experts_per_token=1,
                          expert_intermediate_size=256, shared_expert_intermediate_size=256, first_dense_layers=1,
                          expert_score_bias=True, qkv_bias=True, parts=(MTPLayers(1),)),
    # DeepSeek-V2/V3 style: one dense block, then MoE with a shared expert; MLA with the kv_b projection split
    # into attn_k_b / attn_v_b (none of them attn_v-like, so n_attention_wv is 0). 9 blocks: ffn_down numbered by
    # block with n = 9 (Q6_K at blocks 0, 3, 6, 7, 8 in Q4_K_M) differs from counting the 8 routed ffn_down_exps
    # from 0 with n = 8 (blocks 1, 4, 7, 8); the shared expert's ffn_down_shexp follows its block number too.
    "deepseek2-dense1": tiny(arch="deepseek2", num_layers=9, **{**_HEADS, "num_kv_heads": 8, "head_dim": 96},
                             q_lora_rank=128, kv_lora_rank=256, qk_nope_head_dim=64, qk_rope_head_dim=32,
                             v_head_dim=64, num_experts=4, experts_per_token=2, expert_intermediate_size=256,
                             shared_expert_intermediate_size=256, first_dense_layers=1, expert_score_bias=True),
    # Kimi Linear at its real depth and layout (moonshotai/Kimi-Linear-48B-A3B config: MLA at 0-based blocks
    # 3, 7, ..., 23, 26, KDA elsewhere, one dense block, MoE with a shared expert), tiny widths. The KDA
    # attn_v are the only attn_v-like tensors (20); MLA has attn_kv_a_mqa / attn_k_b / attn_v_b, no q_lora.
    "kimi-linear": tiny(arch="kimi-linear", num_layers=27, **{**_HEADS, "num_kv_heads": 8, "head_dim": 96},
                        kv_lora_rank=256, qk_nope_head_dim=64, qk_rope_head_dim=32, v_head_dim=64,
                        layer_types=tuple(FULL if i in (3, 7, 11, 15, 19, 23, 26) else KDA for i in range(27)),
                        kda_num_heads=4, kda_head_dim=64, kda_conv_kernel=4, num_experts=4, experts_per_token=2,
                        expert_intermediate_size=256, shared_expert_intermediate_size=256, first_dense_layers=1,
                        expert_score_bias=True),
}

# Archs whose converter writes head_count_kv per layer, 0 for the layers without attention
# (convert_hf_to_gguf.py JambaModel, LFM2Model, NemotronHModel, GraniteHybridModel).
_KV_PER_LAYER = {"jamba", "lfm2", "nemotron_h", "granitehybrid"}


def _tensors(spec):
    """(name, ne) as the converter writes them; GLM-4.5's NextN block after the language model's blocks
    (llama.cpp src/llama-model.cpp LLM_ARCH_GLM4_MOE: the layer's own tensors plus nextn.eh_proj, enorm,
    hnorm and shared_head_norm)."""
    out = [(t.name, t.ne) for t in gguf_tensors(spec)]
    if spec.arch == "glm4moe":
        L, H = spec.num_layers, spec.hidden_size
        out += [(f"blk.{L}." + t.name.split(".", 2)[2], t.ne) for t in _mtp_block(spec)]
        out += [(f"blk.{L}.nextn.eh_proj.weight", (2 * H, H))]
        out += [(f"blk.{L}.nextn.{n}.weight", (H,)) for n in ("enorm", "hnorm", "shared_head_norm")]
    return out


def _metadata(spec):
    md = [m for m in converter_metadata(spec, tokens=spec.vocab_size)]
    md.append(lambda w: w.add_layer_norm_rms_eps(1e-6))
    if spec.arch in _KV_PER_LAYER:
        md.append(lambda w: w.add_head_count_kv([spec.num_kv_heads if t == FULL else 0 for t in spec.layer_types]))
    elif spec.is_mla:  # converter_metadata wrote MLA's head_count_kv (1, per layer for Kimi Linear)
        md += [lambda w: w.add_expert_shared_count(1),  # convert_hf_to_gguf.py DeepseekV2Model, KimiLinearModel
               lambda w: w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)]
    else:
        md.append(lambda w: w.add_head_count_kv(spec.num_kv_heads))
    if spec.arch == "gemma3n":
        md += [lambda w: w.add_altup_active_idx(0), lambda w: w.add_altup_num_inputs(spec.altup_inputs),
               lambda w: w.add_embedding_length_per_layer_input(spec.per_layer_input_size),
               lambda w: w.add_shared_kv_layers(2), lambda w: w.add_sliding_window_pattern(
                   [t == SLIDING for t in spec.layer_types]), lambda w: w.add_activation_sparsity_scale([0.0] * 4)]
    if spec.arch == "glm4moe":  # convert_hf_to_gguf.py Glm4MoeModel: block_count counts the NextN layer
        md += [lambda w: w.add_block_count(spec.num_layers + 1), lambda w: w.add_nextn_predict_layers(1),
               lambda w: w.add_rope_dimension_count(16), lambda w: w.add_expert_shared_count(1),
               lambda w: w.add_expert_weights_scale(1.0), lambda w: w.add_expert_weights_norm(True),
               lambda w: w.add_expert_gating_func(gguf.ExpertGatingFuncType.SIGMOID)]
    if spec.arch == "nemotron_h":
        md.append(lambda w: w.add_layer_norm_eps(1e-5))
    if spec.arch == "qwen35":
        md.append(lambda w: w.add_rope_dimension_sections([4, 4, 4, 0]))
    return md


@llama_cpp.llama_log_callback
def _quiet(level, text, user_data):  # llama.cpp logs every tensor; keep the test output readable
    pass


def _quantize(src, dst, preset):
    if not os.environ.get("QUANTIZE_LOG"):  # QUANTIZE_LOG=1 shows what llama.cpp says
        llama_cpp.llama_log_set(_quiet, None)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = PRESETS[preset][0]
    params.nthread = 2
    return llama_cpp.llama_model_quantize(str(src).encode(), str(dst).encode(), ctypes.byref(params))


@pytest.fixture(scope="module")
def quantized(tmp_path_factory):
    """quantized(model, preset) -> {tensor name: (ggml type name, bytes)} as the real quantizer wrote them;
    each file is written and quantized once, when a selected test first asks for it (-k runs only those)."""
    root = tmp_path_factory.mktemp("quantize")
    sources, out = {}, {}

    def get(name, preset):
        if (name, preset) not in out:
            spec = SPECS[name]
            if name not in sources:
                sources[name] = write_gguf(root / f"{name}.gguf", spec.arch, _metadata(spec),
                                           pick_types(_tensors(spec), ("F16",)))
            dst = root / f"{name}-{preset}.gguf"
            assert _quantize(sources[name], dst, preset) == 0, (name, preset)
            out[name, preset] = {t.name: (t.tensor_type.name, int(t.n_bytes)) for t in gguf.GGUFReader(dst).tensors}
        return out[name, preset]
    return get


@pytest.mark.parametrize("name,preset", _cases())
def test_every_tensor_type_as_the_real_quantizer(quantized, name, preset):
    real = quantized(name, preset)
    stored = weight_storage(SPECS[name], weight_format(preset))
    predicted = {t.name: (s.label, s.bytes) for t, s in stored.tensors}
    # the file holds exactly the predicted tensors, plus GLM's NextN block (in the file, not loaded)
    nextn = {n for n, _ in _tensors(SPECS[name])} - predicted.keys()
    assert real.keys() - predicted.keys() == nextn and (not nextn or name == "glm4moe-nextn")
    wrong = {n: (real[n], predicted.get(n)) for n in real.keys() - nextn if real[n] != predicted.get(n)}
    assert not wrong, f"(real, predicted): {wrong}"
    assert stored.total == sum(b for n, (_, b) in real.items() if n not in nextn)


def test_moe_ffn_down_numbered_by_block_after_a_dense_block(quantized):
    # llama.cpp src/llama-quant.cpp @0c1e5709 (llama-cpp-python 0.3.36), llama_tensor_get_type_impl: with experts
    # (n_expert > 1) layer_info reads the block from the tensor's name, and init_quantize_state_counters sets
    # n_ffn_down = hparams.n_layer_all (27 here), whatever the dense first block and the shared expert.
    # Q4_K_M gives ffn_down Q6_K where use_more_bits(i, 27): i < 27/8 = 3, i >= 7·27/8 = 23, or (i - 3) % 3 == 2:
    # blocks 0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26 — the routed, the shared and block 0's dense ffn_down alike.
    # (bartowski's Kimi-Linear Q4_K_M, header in pmains/kimi-linear-48b-ssd-streaming benchmarks/results/phase-02-gguf-
    # header-analysis.json @1cf673da, has Q6_K ffn_down_exps at blocks 1, 2, 3, 6, 9, ..., 21, 23-26 instead: not
    # what this quantizer writes, see tests/test_kimi_linear.py.)
    real = quantized("kimi-linear", "Q4_K_M")
    more_bits = [0, 1, 2, 5, 8, 11, 14, 17, 20, 23, 24, 25, 26]
    assert [b for b in range(27) if real.get(f"blk.{b}.ffn_down.weight", real.get(f"blk.{b}.ffn_down_exps.weight"))[0]
            == "Q6_K"] == more_bits
    assert [b for b in range(1, 27) if real[f"blk.{b}.ffn_down_shexp.weight"][0] == "Q6_K"] == more_bits[1:]
    # MLA's attn_kv_a_mqa, attn_k_b, attn_v_b are none of attn_v/attn_k/attn_q/attn_kv_b: the preset's default type
    # (attn_k_b's rows of qk_nope_head_dim 64 values fall back from Q4_K to Q5_0); the 20 KDA attn_v are the only
    # attn_v-like tensors, Q6_K where use_more_bits(i, 20) for the i-th of them.
    assert {real[f"blk.3.{n}.weight"][0] for n in ("attn_kv_a_mqa", "attn_v_b")} == {"Q4_K"}
    assert real["blk.3.attn_k_b.weight"][0] == "Q5_0"
    kda = [b for b in range(27) if b not in (3, 7, 11, 15, 19, 23, 26)]
    assert [i for i, b in enumerate(kda) if real[f"blk.{b}.attn_v.weight"][0] == "Q6_K"] == [0, 1, 4, 7, 10, 13, 16,
                                                                                              17, 18, 19]
