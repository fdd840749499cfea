"""GGUF files that the real llama.cpp loads: a model's real shapes, zero weights, F16 matrices.

The tensors are pycore's own list for the architecture (pycore.formats.gguf_tensors), which follows
llama.cpp's converter; MLA files get the split attn_k_b / attn_v_b that llama.cpp's deepseek2 loader
wants since PR #12801 (src/models/deepseek2.cpp), everything else is written as the converter does.
The metadata adds the keys llama.cpp's loaders require beyond tests/gguf_files.converter_metadata
(the norm epsilon, the shared-expert count).
"""
import numpy as np
from gguf import GGUFWriter

from pycore.formats import gguf_tensors
from pycore.models import ModelSpec

from gguf_files import converter_metadata, finish

LAYER_NORM_ARCHS = {"gptneox", "falcon", "starcoder2", "phi2"}


def _tensors(spec: ModelSpec):
    for t in gguf_tensors(spec):
        if spec.arch == "gpt-oss" and t.role == "ffn_norm":
            # convert_hf_to_gguf.py maps gpt-oss's post_attention_layernorm to post_attention_norm, which
            # src/models/openai-moe.cpp loads (LLM_TENSOR_ATTN_POST_NORM)
            yield t.name.replace("ffn_norm", "post_attention_norm"), t.ne
            continue
        if spec.is_mla and t.role == "attn_kv_b":
            prefix = f"blk.{t.layer}."
            yield prefix + "attn_k_b.weight", (spec.qk_nope_head_dim, spec.kv_lora_rank, spec.num_heads)
            yield prefix + "attn_v_b.weight", (spec.kv_lora_rank, spec.v_head_dim, spec.num_heads)
            continue
        if spec.arch == "falcon-h1" and t.role == "ffn_norm":
            # Falcon-H1's loader asks for its pre-FFN norm without the ".weight" suffix
            # (src/models/falcon-h1.cpp: create_tensor(tn(LLM_TENSOR_FFN_NORM, i), ...))
            yield f"blk.{t.layer}.ffn_norm", t.ne
            continue
        yield t.name, t.ne


def write_llama_cpp_gguf(path, spec: ModelSpec, extra=()):
    """Write `spec` as a GGUF llama.cpp can load (F16 matrices, F32 vectors, all zeros)."""
    w = GGUFWriter(str(path), spec.arch)
    for add in converter_metadata(spec, name=spec.name, tokens=spec.vocab_size):
        add(w)
    if spec.arch in LAYER_NORM_ARCHS:
        w.add_layer_norm_eps(1e-5)
    else:
        w.add_layer_norm_rms_eps(1e-6)
    if spec.arch == "deepseek2":
        w.add_expert_shared_count(max(1, spec.shared_expert_intermediate_size // spec.expert_intermediate_size))
        w.add_expert_weights_scale(1.0)
    for add in extra:
        add(w)
    for name, ne in _tensors(spec):
        shape = tuple(reversed(ne))
        dtype = np.float16 if len(ne) >= 2 and name.endswith(".weight") and "norm" not in name \
            and "ffn_gate_inp" not in name else np.float32
        w.add_tensor(name, np.zeros(shape, dtype=dtype))
    return finish(w, path)
