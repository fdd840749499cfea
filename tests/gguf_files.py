"""Tiny but real GGUF files, written by llama.cpp's own gguf-py, for the importer tests.

Metadata is written with the writer's add_* methods the way llama.cpp's convert_hf_to_gguf.py does
for each architecture; tensors are the ones llama.cpp's converter produces (pycore.formats.gguf_tensors),
in the ggml types asked for, with raw quantized bytes (gguf-py's raw_dtype) for block types.
"""
import numpy as np
from gguf import GGMLQuantizationType, GGUFEndian, GGUFWriter
from gguf.constants import GGML_QUANT_SIZES

from pycore.formats import gguf_tensors
from pycore.importers.reader import BytesReader, NeedMoreBytes
from pycore.gguf_recipes import allows_quantization, kept_type
from pycore.models import FULL, GATED_DELTANET, KDA, MAMBA, PARALLEL_HYBRID, SHORT_CONV, SLIDING, ModelSpec

# Small enough to write in milliseconds, large enough for k-quant rows (multiples of 256).
TINY = dict(vocab_size=512, hidden_size=256, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=64,
            intermediate_size=512, max_context=4096)


def tiny(**overrides) -> ModelSpec:
    return ModelSpec(**{"name": "tiny", "arch": "llama", **TINY, **overrides})


SPECS = {
    "llama-gqa": tiny(),
    "gemma2-sliding": tiny(arch="gemma2", norms_per_layer=4, tie_embeddings=True, num_layers=4,
                           layer_types=(SLIDING, "full") * 2, sliding_window=1024),
    "gemma3-pattern6": tiny(arch="gemma3", norms_per_layer=4, tie_embeddings=True, qk_norm=True, num_layers=7,
                            layer_types=(SLIDING,) * 5 + ("full", SLIDING), sliding_window=512),
    "qwen3moe-experts": tiny(arch="qwen3moe", qk_norm=True, intermediate_size=0, num_experts=4,
                             experts_per_token=2, expert_intermediate_size=256),
    "qwen2moe-shared": tiny(arch="qwen2moe", qkv_bias=True, intermediate_size=0, num_experts=4,
                            experts_per_token=2, expert_intermediate_size=256,
                            shared_expert_intermediate_size=512, shared_expert_gate=True),
    "deepseek2-mla": tiny(arch="deepseek2", num_layers=3, num_kv_heads=4, head_dim=96, q_lora_rank=128,
                          kv_lora_rank=256, qk_nope_head_dim=64, qk_rope_head_dim=32, v_head_dim=64,
                          num_experts=4, experts_per_token=2, expert_intermediate_size=256,
                          shared_expert_intermediate_size=256, first_dense_layers=1, expert_score_bias=True),
    "gptneox-fused": tiny(arch="gptneox", num_kv_heads=4, fused_qkv=True, gated_mlp=False, norm_bias=True,
                          qkv_bias=True, o_bias=True, mlp_bias=True, intermediate_size=1024),
    "phi3-fused": tiny(arch="phi3", num_kv_heads=4, fused_qkv=True, fused_gate_up=True),
    "falcon-parallel": tiny(arch="falcon", num_kv_heads=1, fused_qkv=True, gated_mlp=False, norm_bias=True,
                            norms_per_layer=1, tie_embeddings=True, intermediate_size=1024),
    # hybrids: Gated DeltaNet + gated attention (Qwen3.5), Mamba + attention with interleaved MoE (Jamba),
    # short convolutions + attention (LFM2)
    "qwen35-gdn": tiny(arch="qwen35", num_layers=4, qk_norm=True, attn_output_gate=True,
                       layer_types=(GATED_DELTANET,) * 3 + (FULL,), linear_num_key_heads=2, linear_num_value_heads=4,
                       linear_key_head_dim=64, linear_value_head_dim=64, linear_conv_kernel=4),
    "jamba-mamba": tiny(arch="jamba", num_layers=4, layer_types=(MAMBA, FULL, MAMBA, MAMBA), ssm_d_inner=512,
                        ssm_d_state=16, ssm_d_conv=4, ssm_dt_rank=16, ssm_inner_norms=True, num_experts=4,
                        experts_per_token=2, expert_intermediate_size=512, ffn_types=("dense", "moe") * 2),
    "lfm2-conv": tiny(arch="lfm2", num_layers=3, qk_norm=True, tie_embeddings=True,
                      layer_types=(SHORT_CONV, FULL, SHORT_CONV), conv_l_cache=3),
    # Kimi Delta Attention + NoPE MLA, DeepSeek-style MoE after one dense layer (Kimi Linear)
    "kimi-kda": tiny(arch="kimi-linear", num_layers=4, num_kv_heads=4, head_dim=96, kv_lora_rank=256,
                     qk_nope_head_dim=64, qk_rope_head_dim=32, v_head_dim=64, layer_types=(KDA, KDA, KDA, FULL),
                     kda_num_heads=4, kda_head_dim=64, kda_conv_kernel=4, num_experts=4, experts_per_token=2,
                     expert_intermediate_size=256, shared_expert_intermediate_size=256, first_dense_layers=1,
                     expert_score_bias=True),
}


def _raw(ne, type_name, rng):
    """Random bytes shaped as gguf-py expects raw data: numpy shape reversed, last axis in bytes."""
    qtype = GGMLQuantizationType[type_name]
    block, size = GGML_QUANT_SIZES[qtype]
    shape = tuple(reversed(ne))
    if type_name == "F32":
        return rng.standard_normal(shape, dtype=np.float32), None
    if type_name == "F16":
        return rng.standard_normal(shape, dtype=np.float32).astype(np.float16), None
    row_bytes = ne[0] // block * size
    return rng.integers(0, 256, size=(*shape[:-1], row_bytes), dtype=np.uint8), qtype


def write_gguf(path, arch: str, metadata, tensors, endianess=GGUFEndian.LITTLE, alignment=None, seed=0):
    """metadata: callables taking the writer (w.add_block_count(2), ...). tensors: (name, ne, ggml type)."""
    w = GGUFWriter(path, arch, endianess=endianess)
    if alignment:
        w.add_custom_alignment(alignment)
    for add in metadata:
        add(w)
    rng = np.random.default_rng(seed)
    for name, ne, type_name in tensors:
        data, raw = _raw(ne, type_name, rng)
        w.add_tensor(name, data, raw_dtype=raw)  # the writer byte-swaps for a big-endian file
    return finish(w, path)


def finish(writer, path=None):
    """Write out a GGUFWriter's header, metadata and tensors, as llama.cpp's converter does, and close it."""
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def pick_types(tensors, matrix_types):
    """Assign types as llama-quantize would: tensors it never quantizes keep the converter's type (F32 for
    norms, biases, routers);
    matrices cycle through `matrix_types`, falling back to F16 where a row is not whole blocks."""
    out, i = [], 0
    for name, ne in tensors:
        if not allows_quantization(name, ne):
            out.append((name, ne, kept_type(name, ne)))
            continue
        t = matrix_types[i % len(matrix_types)]
        i += 1
        block = GGML_QUANT_SIZES[GGMLQuantizationType[t]][0]
        out.append((name, ne, t if ne[0] % block == 0 else "F16"))
    return out


def converter_metadata(spec: ModelSpec, name="tiny test model", file_type=None, mla_style="current", tokens=0):
    """The keys llama.cpp's convert_hf_to_gguf.py writes for this architecture."""
    s = spec
    # Mamba / Mamba-2 alone (convert_hf_to_gguf.py MambaModel): head_count 0, feed_forward_length 0, no KV heads
    recurrent_only = s.has_state and not any(t in (FULL, SLIDING, PARALLEL_HYBRID) for t in s.layer_types)
    md = [lambda w: w.add_name(name), lambda w: w.add_block_count(s.num_layers),
          lambda w: w.add_context_length(s.max_context), lambda w: w.add_embedding_length(s.hidden_size),
          lambda w: w.add_head_count(0 if recurrent_only else s.num_heads)]
    if s.intermediate_size and s.arch in ("nemotron_h", "nemotron_h_moe"):
        # convert_hf_to_gguf.py NemotronHModel: the FFN width per layer, 0 for the Mamba-2 and attention
        # blocks (llama.cpp tells the block kinds apart by head_count_kv and feed_forward_length)
        md.append(lambda w: w.add_feed_forward_length([s.intermediate_size if s.ffn_type(i) == "dense" else 0
                                                       for i in range(s.num_layers)]))
    elif s.intermediate_size:
        md.append(lambda w: w.add_feed_forward_length(s.intermediate_size))
    if s.is_mla:
        md += [lambda w: w.add_head_count_kv(1 if mla_style == "current" else s.num_heads),
               lambda w: w.add_kv_lora_rank(s.kv_lora_rank),
               lambda w: w.add_rope_dimension_count(s.qk_rope_head_dim)]
        if s.q_lora_rank:
            md.append(lambda w: w.add_q_lora_rank(s.q_lora_rank))
        if mla_style == "current":  # llama.cpp #12801: MQA over the latent, per-head sizes in *_mla
            md += [lambda w: w.add_key_length(s.kv_lora_rank + s.qk_rope_head_dim),
                   lambda w: w.add_value_length(s.kv_lora_rank),
                   lambda w: w.add_key_length_mla(s.qk_nope_head_dim + s.qk_rope_head_dim),
                   lambda w: w.add_value_length_mla(s.v_head_dim)]
        elif mla_style == "old":
            md += [lambda w: w.add_key_length(s.qk_nope_head_dim + s.qk_rope_head_dim),
                   lambda w: w.add_value_length(s.v_head_dim)]
    else:
        md += [lambda w: w.add_key_length(s.head_dim), lambda w: w.add_value_length(s.head_dim)]
        if not s.has_state:  # hybrids: below
            md.append(lambda w: w.add_head_count_kv(s.num_kv_heads))
    if s.is_moe:
        md += [lambda w: w.add_expert_count(s.num_experts), lambda w: w.add_expert_used_count(s.experts_per_token),
               lambda w: w.add_expert_feed_forward_length(s.expert_intermediate_size)]
        if s.first_dense_layers:
            md.append(lambda w: w.add_leading_dense_block_count(s.first_dense_layers))
        if s.shared_expert_intermediate_size:
            md.append(lambda w: w.add_expert_shared_feed_forward_length(s.shared_expert_intermediate_size))
    if s.sliding_window:
        md.append(lambda w: w.add_sliding_window(s.sliding_window))
    if recurrent_only:
        md.append(lambda w: w.add_feed_forward_length(0))
    elif s.has_state and not s.linear_num_value_heads:
        # llama.cpp's converter (Jamba, LFM2, Granite-H, Nemotron-H): 0 KV heads for recurrent layers,
        # the state sizes in ssm.* keys
        kv = 1 if s.is_mla and mla_style == "current" else s.num_kv_heads
        md.append(lambda w: w.add_head_count_kv([kv if t in (FULL, SLIDING, PARALLEL_HYBRID) else 0
                                                  for t in s.layer_types]))
    elif s.has_state:
        # Gated DeltaNet (convert_hf_to_gguf.py Qwen3NextModel, ggml-org/llama.cpp@a458664): the head
        # counts of TextModel.set_gguf_parameters (one KV-head figure, not per layer; the layout is in
        # full_attention_interval), RoPE over a quarter of the head (partial_rotary_factor 0.25), and for
        # Qwen3.5 the M-RoPE sections its loader requires (src/models/qwen35.cpp get_key_or_arr
        # LLM_KV_ROPE_DIMENSION_SECTIONS, required)
        md += [lambda w: w.add_head_count_kv(s.num_kv_heads),
               lambda w: w.add_rope_dimension_count(s.head_dim // 4)]
        if s.arch in ("qwen35", "qwen35moe"):  # Qwen3.5's mrope_section [11, 11, 10] of 32 rotary pairs, scaled
            pairs = s.head_dim // 8
            third = -(-pairs // 3)
            md.append(lambda w: w.add_rope_dimension_sections([third, third, pairs - 2 * third, 0]))
    if s.has_state:
        if s.ssm_d_inner:
            md += [lambda w: w.add_ssm_conv_kernel(s.ssm_d_conv), lambda w: w.add_ssm_inner_size(s.ssm_d_inner),
                   lambda w: w.add_ssm_state_size(s.ssm_d_state),
                   lambda w: w.add_ssm_time_step_rank(s.ssm_dt_rank or s.ssm_num_heads)]
            if s.ssm_n_groups:
                md.append(lambda w: w.add_ssm_group_count(s.ssm_n_groups))
        if s.linear_num_value_heads:  # convert_hf_to_gguf.py Qwen3NextModel
            md += [lambda w: w.add_ssm_conv_kernel(s.linear_conv_kernel),
                   lambda w: w.add_ssm_inner_size(s.linear_num_value_heads * s.linear_value_head_dim),
                   lambda w: w.add_ssm_state_size(s.linear_key_head_dim),
                   lambda w: w.add_ssm_time_step_rank(s.linear_num_value_heads),
                   lambda w: w.add_ssm_group_count(s.linear_num_key_heads),
                   lambda w: w.add_full_attention_interval(s.layer_types.index(FULL) + 1)]
        if s.conv_l_cache:
            md.append(lambda w: w.add_shortconv_l_cache(s.conv_l_cache))
        if s.kda_head_dim:  # convert_hf_to_gguf.py KimiLinearModel
            md += [lambda w: w.add_ssm_conv_kernel(s.kda_conv_kernel), lambda w: w.add_kda_head_dim(s.kda_head_dim)]
    if file_type is not None:
        md.append(lambda w: w.add_file_type(file_type))
    if tokens:
        md += [lambda w: w.add_tokenizer_model("gpt2"),
               lambda w: w.add_token_list([f"tok{i}" for i in range(tokens)]),
               lambda w: w.add_token_types([1] * tokens),
               lambda w: w.add_token_merges([f"t o{i}" for i in range(tokens)]),
               lambda w: w.add_token_scores([0.5] * tokens)]
    return md


def write_spec_gguf(path, spec: ModelSpec, matrix_types=("F16",), **kw):
    tensors = pick_types([(t.name, t.ne) for t in gguf_tensors(spec)], matrix_types)
    meta = kw.pop("metadata", None) or converter_metadata(
        spec, **{k: kw.pop(k) for k in ("name", "file_type", "mla_style", "tokens") if k in kw})
    return write_gguf(path, spec.arch, meta, tensors, **kw)


def parse_prefixes(data: bytes, parse, name: str, first: int = 64, max_rounds: int = 20) -> tuple:
    """Parse growing prefixes of a file as the page does with File.slice: (result, prefix length, rounds)."""
    end = first
    for rounds in range(1, max_rounds + 1):
        try:
            return parse(BytesReader(data[:end], file_size=len(data), name=name)), end, rounds
        except NeedMoreBytes as more:
            assert more.needed_end > end and more.suggested_end >= more.needed_end
            end = min(len(data), more.suggested_end)
    raise AssertionError(f"still asking for more bytes after {max_rounds} rounds")
