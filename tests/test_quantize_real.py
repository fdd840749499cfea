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
from pycore.models import (DENSE, FULL, GATED_DELTANET, MAMBA, MAMBA2, MOE, NO_FFN, NO_MIXER, PARALLEL_HYBRID,
                           SHORT_CONV, SLIDING)
from pycore.parts import MTPLayers, _mtp_block

import llama_cpp  # noqa: E402  (a test dependency, requirements-dev.txt: missing, this module fails, never skips)

# The k-quant mixes and the i-quant with GQA rules; IQ4_XS is slow to quantize, so only where it tells
# something (a hybrid whose block 0 has no KV heads, the Gated DeltaNet's attn_qkv).
PRESETS_CHECKED = ("Q2_K", "Q3_K_M", "Q4_K_S", "Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0")
EXTRA_PRESETS = {"nemotron_h": ("IQ4_XS",), "qwen35": ("IQ4_XS",), "llama": ("Q3_K_L", "Q4_0")}
# fewer presets where the family adds tensors but no new rule
ONLY_PRESETS = {"qwen3next": ("Q4_K_M",), "granitehybrid": ("Q2_K",), "falcon-h1": ("Q4_K_M",),
                "gemma3n": ("Q2_K", "Q4_K_M", "Q8_0"), "glm4moe-nextn": ("Q3_K_M", "Q4_K_M")}


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
    """{(model, preset): {tensor name: ggml type name}} as the real quantizer wrote them."""
    root = tmp_path_factory.mktemp("quantize")
    out = {}
    for name, spec in SPECS.items():
        src = write_gguf(root / f"{name}.gguf", spec.arch, _metadata(spec), pick_types(_tensors(spec), ("F16",)))
        for preset in _presets(name):
            dst = root / f"{name}-{preset}.gguf"
            assert _quantize(src, dst, preset) == 0, (name, preset)
            out[name, preset] = {t.name: (t.tensor_type.name, int(t.n_bytes)) for t in gguf.GGUFReader(dst).tensors}
    return out


@pytest.mark.parametrize("name,preset", _cases())
def test_every_tensor_type_as_the_real_quantizer(quantized, name, preset):
    real = quantized[name, preset]
    stored = weight_storage(SPECS[name], weight_format(preset))
    predicted = {t.name: (s.label, s.bytes) for t, s in stored.tensors}
    # the file holds exactly the predicted tensors, plus GLM's NextN block (in the file, not loaded)
    nextn = {n for n, _ in _tensors(SPECS[name])} - predicted.keys()
    assert real.keys() - predicted.keys() == nextn and (not nextn or name == "glm4moe-nextn")
    wrong = {n: (real[n], predicted.get(n)) for n in real.keys() - nextn if real[n] != predicted.get(n)}
    assert not wrong, f"(real, predicted): {wrong}"
    assert stored.total == sum(b for n, (_, b) in real.items() if n not in nextn)
