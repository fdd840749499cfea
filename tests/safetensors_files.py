"""Tiny but real safetensors checkpoints, written by the `safetensors` package, for the importer tests.

Tensor names and shapes follow transformers' Llama / Qwen2 / Mixtral modules; quantized variants
follow the on-disk layouts of AutoGPTQ, AutoAWQ, bitsandbytes (4-bit and LLM.int8) and FP8
block-scaled checkpoints (DeepSeek-V3 style).
"""
import math

import numpy as np
from safetensors import TensorSpec, serialize_file

# safetensors header dtype -> (the dtype name TensorSpec takes, bytes per element), written out here
# rather than taken from pycore, so the expected sizes do not come from the code under test
_DTYPES = {"BF16": ("bfloat16", 2), "F16": ("float16", 2), "F32": ("float32", 4), "F64": ("float64", 8),
           "I8": ("int8", 1), "U8": ("uint8", 1), "I16": ("int16", 2), "I32": ("int32", 4), "I64": ("int64", 8),
           "F8_E4M3": ("float8_e4m3fn", 1), "F8_E5M2": ("float8_e5m2", 1), "BOOL": ("bool", 1)}


def data_bytes(tensors: dict) -> int:
    """Bytes of tensor data a checkpoint of these (name -> (dtype, shape)) tensors holds."""
    return sum(math.prod(shape) * _DTYPES[dtype][1] for dtype, shape in tensors.values())


def write_safetensors(path, tensors: dict, metadata=None):
    """tensors: name -> (dtype, shape). Data is zero bytes of the right length."""
    keep, specs = [], {}
    for name, (dtype, shape) in tensors.items():
        torch_name, size = _DTYPES[dtype]
        n = math.prod(shape) * size
        buf = np.zeros(max(1, n), dtype=np.uint8)
        keep.append(buf)
        specs[name] = TensorSpec(dtype=torch_name, shape=list(shape), data_ptr=buf.ctypes.data, data_len=n)
    serialize_file(specs, str(path), metadata=metadata)
    return path


LLAMA_CONFIG = dict(model_type="llama", hidden_size=256, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=64, vocab_size=512, intermediate_size=512,
                    max_position_embeddings=4096, tie_word_embeddings=False)
QWEN2_TIED_CONFIG = dict(LLAMA_CONFIG, model_type="qwen2", tie_word_embeddings=True)
MIXTRAL_CONFIG = dict(LLAMA_CONFIG, model_type="mixtral", num_local_experts=4, num_experts_per_tok=2)


def hf_tensors(config: dict, dtype="BF16") -> dict:
    """The checkpoint tensors of a tiny Llama-family config, in transformers' names and shapes."""
    H, V, I = config["hidden_size"], config["vocab_size"], config["intermediate_size"]
    heads, kv, hd = config["num_attention_heads"], config["num_key_value_heads"], config["head_dim"]
    out = {"model.embed_tokens.weight": (dtype, (V, H)), "model.norm.weight": (dtype, (H,))}
    if not config.get("tie_word_embeddings"):
        out["lm_head.weight"] = (dtype, (V, H))
    bias = config["model_type"] == "qwen2"
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        out[p + "input_layernorm.weight"] = (dtype, (H,))
        out[p + "post_attention_layernorm.weight"] = (dtype, (H,))
        for proj, rows in (("q_proj", heads * hd), ("k_proj", kv * hd), ("v_proj", kv * hd)):
            out[f"{p}self_attn.{proj}.weight"] = (dtype, (rows, H))
            if bias:
                out[f"{p}self_attn.{proj}.bias"] = (dtype, (rows,))
        out[p + "self_attn.o_proj.weight"] = (dtype, (H, heads * hd))
        if config["model_type"] == "mixtral":
            out[p + "block_sparse_moe.gate.weight"] = (dtype, (config["num_local_experts"], H))
            for e in range(config["num_local_experts"]):
                q = f"{p}block_sparse_moe.experts.{e}."
                out[q + "w1.weight"] = (dtype, (I, H))
                out[q + "w3.weight"] = (dtype, (I, H))
                out[q + "w2.weight"] = (dtype, (H, I))
        else:
            out[p + "mlp.gate_proj.weight"] = (dtype, (I, H))
            out[p + "mlp.up_proj.weight"] = (dtype, (I, H))
            out[p + "mlp.down_proj.weight"] = (dtype, (H, I))
    return out


def _is_linear(name, shape):
    return len(shape) == 2 and name.endswith(("_proj.weight", ".w1.weight", ".w2.weight", ".w3.weight"))


def quantize(tensors: dict, method: str, bits=4, group=32) -> dict:
    """Replace every linear layer (not embeddings, lm_head, norms or the router) by its stored form."""
    out = {}
    for name, (dtype, shape) in tensors.items():
        if not _is_linear(name, shape):
            out[name] = (dtype, shape)
            continue
        n, k = shape  # out_features, in_features
        prefix = name[:-len("weight")]
        groups = k // group
        if method == "gptq":  # AutoGPTQ QuantLinear
            out[prefix + "qweight"] = ("I32", (k * bits // 32, n))
            out[prefix + "qzeros"] = ("I32", (groups, n * bits // 32))
            out[prefix + "scales"] = ("F16", (groups, n))
            out[prefix + "g_idx"] = ("I32", (k,))
        elif method == "awq":  # AutoAWQ WQLinear_GEMM
            out[prefix + "qweight"] = ("I32", (k, n * bits // 32))
            out[prefix + "qzeros"] = ("I32", (groups, n * bits // 32))
            out[prefix + "scales"] = ("F16", (groups, n))
        elif method == "nf4":  # bitsandbytes Linear4bit, double quantization
            blocks = -(-k * n // 64)
            out[name] = ("U8", (k * n // 2, 1))
            out[name + ".absmax"] = ("U8", (blocks,))
            out[name + ".quant_map"] = ("F32", (16,))
            out[name + ".nested_absmax"] = ("F32", (-(-blocks // 256),))
            out[name + ".nested_quant_map"] = ("F32", (256,))
            out[name + ".quant_state.bitsandbytes__nf4"] = ("U8", (120,))
        elif method == "int8":  # bitsandbytes Linear8bitLt
            out[name] = ("I8", (n, k))
            out[prefix + "SCB"] = ("F32", (n,))
        elif method == "fp8":  # DeepSeek-V3: e4m3 weights, fp32 scale per 128x128 block
            out[name] = ("F8_E4M3", (n, k))
            out[prefix + "weight_scale_inv"] = ("F32", (-(-n // 128), -(-k // 128)))
        else:
            raise ValueError(method)
    return out
