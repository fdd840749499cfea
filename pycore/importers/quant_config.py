"""A checkpoint's `quantization_config` (config.json), read into a pycore weight format, the modules it
leaves unquantized (its ignore list) and notes for anything it cannot place.

Methods and where their layouts are defined:
- gptq / awq / bitsandbytes: AutoGPTQ, AutoAWQ, bitsandbytes (transformers integrations);
- fp8: DeepSeek-V3 blocks (`weight_block_size`) or per-tensor scales (AutoFP8, `activation_scheme`);
- compressed-tensors (llm-compressor): `config_groups[*].weights` {num_bits, type, strategy, group_size},
  `format` (float-quantized, int-quantized, pack-quantized, nvfp4-pack-quantized), `ignore`;
- fbgemm_fp8: FP8 weights with one fp32 scale per output row, `modules_to_not_convert`;
- modelopt (NVIDIA TensorRT Model Optimizer): `quant_algo` FP8 / NVFP4, `exclude_modules`;
- torchao: `quant_type` {"default": {"_type": "Int4WeightOnlyConfig", "_data": {...}}} or the older string form;
- hqq: `nbits`, `group_size` (or quant_config.weight_quant_params), `skip_modules`;
- bitnet: ternary weights packed four per byte (transformers integrations/bitnet.py), `modules_to_not_convert`;
- mxfp4: gpt-oss experts.
An unknown method is never silent: the weights fall back to the torch_dtype and a note says so.
"""
import re
from dataclasses import dataclass

_DTYPES = {"bfloat16": "BF16", "float16": "FP16", "float32": "FP32", "half": "FP16", "float": "FP32"}
MAX_IGNORE = 4096  # entries of an ignore list read; past it the list is refused
MAX_PATTERN = 300  # characters of one entry


@dataclass(frozen=True)
class QuantInfo:
    format: str  # a pycore weight format name
    why: str
    ignore: tuple = ()  # module names / "re:" patterns the checkpoint keeps unquantized
    notes: tuple = ()


def dtype_format(config) -> str:
    return _DTYPES.get(str(config.get("torch_dtype", config.get("dtype", "bfloat16"))).lower(), "BF16")


def read_quantization(config: dict) -> QuantInfo:
    """The weight format a checkpoint ships in, from its quantization_config, else its torch_dtype."""
    if not isinstance(config, dict):
        return QuantInfo("BF16", "no config")
    if isinstance(config.get("text_config"), dict) and "quantization_config" not in config:
        config = {**config["text_config"], **{k: v for k, v in config.items() if k == "torch_dtype"}}
    q = config.get("quantization_config")
    if not isinstance(q, dict):
        return QuantInfo(dtype_format(config), "torch_dtype")
    method = str(q.get("quant_method", "")).lower()[:40]
    reader = _METHODS.get(method)
    found = reader(q) if reader else None
    if found is None:
        fallback = dtype_format(config)
        return QuantInfo(fallback, f"quantization_config {method!r} not modelled: counted at {fallback}",
                         notes=(f"quantization_config quant_method {method!r} with these settings is not one pycore "
                                f"lays out: the weights are counted at the checkpoint's torch_dtype ({fallback}), "
                                "which overstates a quantized checkpoint",))
    name, why, ignore_keys = found[:3]
    notes = found[3] if len(found) > 3 else ()
    return QuantInfo(name, f"quantization_config: {why}", _ignore_list(q, ignore_keys), tuple(notes))


def _ignore_list(q, keys) -> tuple:
    out = []
    for key in keys:
        value = q.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or len(value) > MAX_IGNORE:
            from ..errors import InputError
            raise InputError(f"quantization_config.{key}", f"expected a list of at most {MAX_IGNORE} module names")
        out += [str(v)[:MAX_PATTERN] for v in value if isinstance(v, str)]
    return tuple(out)


def _bits(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _gptq(q):
    bits, group = _bits(q.get("bits")), q.get("group_size", 128)
    if bits not in (2, 3, 4, 8):
        return None
    g = "perchannel" if group in (-1, None, 0) else f"g{group}"
    return f"GPTQ-{bits}bit-{g}", f"GPTQ {bits}-bit, group {group}", ("modules_to_not_convert",)


def _awq(q):
    bits, group = _bits(q.get("bits", q.get("w_bit"))), q.get("group_size", q.get("q_group_size", 128))
    if bits != 4:
        return None
    return f"AWQ-4bit-g{group}", f"AWQ 4-bit, group {group}", ("modules_to_not_convert",)


def _bnb(q):
    keys = ("llm_int8_skip_modules",)
    if q.get("load_in_8bit"):
        return "LLM.int8", "bitsandbytes 8-bit", keys
    kind = str(q.get("bnb_4bit_quant_type", "fp4")).upper()  # transformers' default is fp4
    dq = "-DQ" if q.get("bnb_4bit_use_double_quant") else ""
    return f"{kind if kind in ('NF4', 'FP4') else 'FP4'}{dq}", "bitsandbytes 4-bit", keys


def _fp8(q):
    keys = ("modules_to_not_convert", "ignored_layers")
    if q.get("weight_block_size"):
        return "FP8-block", "FP8 with block scales", keys
    return "FP8", "FP8, one scale per tensor", keys


def _compressed_tensors(q):
    """llm-compressor's compressed-tensors: the scheme of its config groups' weights."""
    groups = q.get("config_groups")
    fmt = str(q.get("format", ""))[:40]
    if not isinstance(groups, dict) or not groups:
        return None
    schemes = []
    for group in list(groups.values())[:64]:
        w = group.get("weights") if isinstance(group, dict) else None
        if isinstance(w, dict):
            schemes.append((_bits(w.get("num_bits")), str(w.get("type", "int")), str(w.get("strategy", "tensor")),
                            w.get("group_size"), w.get("symmetric", True)))
    if not schemes:
        return None
    notes = []
    if len(set(schemes)) > 1:
        notes.append(f"compressed-tensors: {len(set(schemes))} different weight schemes in config_groups; the "
                     "first is counted for every quantized layer")
    bits, kind, strategy, group, symmetric = schemes[0]
    keys = ("ignore",)
    if fmt == "nvfp4-pack-quantized" or (bits == 4 and kind == "float"):
        return "NVFP4-W4A4", "compressed-tensors NVFP4 (FP4 e2m1, FP8 scale per 16 values)", keys, notes
    if bits == 8 and kind == "float":
        name = {"tensor": "FP8", "channel": "FP8-channel", "block": "FP8-block"}.get(strategy)
        return (name, f"compressed-tensors FP8 ({strategy} scales)", keys, notes) if name else None
    if bits == 8 and kind == "int" and strategy in ("channel", "tensor"):
        if strategy == "tensor":
            notes.append("compressed-tensors INT8 with one scale per tensor: counted with per-channel scales")
        return "INT8-W8A8", "compressed-tensors INT8 W8A8", keys, notes
    if bits in (4, 8) and kind == "int" and strategy in ("group", "channel"):
        if not symmetric:
            notes.append("compressed-tensors asymmetric integer weights: zero points are not counted")
        g = group if strategy == "group" and isinstance(group, int) and group > 0 else 0
        return f"W{bits}A16-g{g}" if g else f"W{bits}A16-perchannel", \
            f"compressed-tensors W{bits}A16 ({strategy} {g or ''})".rstrip(), keys, notes
    return None


def _fbgemm_fp8(q):
    return "FP8-channel", "fbgemm FP8, one scale per output row", ("modules_to_not_convert",)


def _modelopt(q):
    inner = q.get("quantization") if isinstance(q.get("quantization"), dict) else q
    algo = str(inner.get("quant_algo", "")).upper()[:40]
    keys = ("exclude_modules", "ignore")
    if algo == "FP8":
        return "FP8", "ModelOpt FP8 (per-tensor scales)", keys
    if algo == "NVFP4":
        return "NVFP4-W4A4", "ModelOpt NVFP4 (FP8 scale per 16 values)", keys
    return None


def _torchao(q):
    kind, data = q.get("quant_type"), {}
    if isinstance(kind, dict):  # {"default": {"_type": "Int4WeightOnlyConfig", "_data": {...}}}
        entry = kind.get("default") or next(iter(kind.values()), {})
        kind, data = (entry.get("_type"), entry.get("_data") or {}) if isinstance(entry, dict) else (None, {})
    else:
        data = q.get("quant_type_kwargs") or {}
    kind = str(kind)[:60]
    group = data.get("group_size", 128) if isinstance(data, dict) else 128
    keys = ("modules_to_not_convert",)
    if kind in ("Int4WeightOnlyConfig", "int4_weight_only"):
        return f"TorchAO-int4-g{group}", f"torchao int4 weight-only, group {group}", keys
    if kind in ("Int8WeightOnlyConfig", "int8_weight_only", "Int8DynamicActivationInt8WeightConfig",
                "int8_dynamic_activation_int8_weight"):
        return "INT8-W8A8", f"torchao {kind}", keys
    if kind.startswith(("Float8", "float8")):
        return "FP8-channel", f"torchao {kind}", keys
    return None


def _hqq(q):
    params = (q.get("quant_config") or {}).get("weight_quant_params") or {} if isinstance(q.get("quant_config"), dict) else {}
    bits = _bits(params.get("nbits", q.get("nbits")))
    group = params.get("group_size", q.get("group_size", 64))
    if bits not in (1, 2, 3, 4, 8) or not isinstance(group, int) or group <= 0:
        return None
    return f"HQQ-{bits}bit-g{group}", f"HQQ {bits}-bit, group {group}", ("skip_modules", "modules_to_not_convert")


def _bitnet(q):
    return "BitNet-1.58", "BitNet ternary weights", ("modules_to_not_convert",)


def _mxfp4(q):
    return "MXFP4", "MXFP4 experts", ("modules_to_not_convert",)


_METHODS = {"gptq": _gptq, "awq": _awq, "bitsandbytes": _bnb, "fp8": _fp8, "compressed-tensors": _compressed_tensors,
            "fbgemm_fp8": _fbgemm_fp8, "modelopt": _modelopt, "torchao": _torchao, "hqq": _hqq, "bitnet": _bitnet,
            "mxfp4": _mxfp4}


# ---------------------------------------------------------------- which tensors an ignore list keeps

_NESTED_QUANTIFIER = re.compile(r"\)[*+{?]|[*+]\??[*+{]")


def ignore_matcher(patterns: tuple):
    """A predicate over transformers module names ("model.layers.3.mlp.down_proj"): true when an entry of
    the ignore list names the module, an ancestor of it ("model.layers.3.mlp"), a dotted suffix ("lm_head"),
    or matches it as a compressed-tensors "re:" pattern (re.match). Patterns with nested quantifiers are
    refused (they could backtrack without end on hostile input)."""
    exact, regexes = [], []
    for p in patterns:
        if p.startswith("re:"):
            body = p[3:]
            if _NESTED_QUANTIFIER.search(body):
                continue
            try:
                regexes.append(re.compile(body))
            except re.error:
                continue
        else:
            exact.append(p)

    def kept(name: str) -> bool:
        for p in exact:
            if name == p or name.endswith("." + p) or name.startswith(p + ".") or ("." + p + ".") in name:
                return True
        return any(r.match(name) for r in regexes)
    return kept


_HF_NAMES = {
    "attn_q": ("self_attn.q_proj",), "attn_k": ("self_attn.k_proj",), "attn_v": ("self_attn.v_proj",),
    "attn_output": ("self_attn.o_proj",), "attn_qkv": ("self_attn.qkv_proj",),
    "attn_q_a": ("self_attn.q_a_proj",), "attn_q_b": ("self_attn.q_b_proj",),
    "attn_kv_a_mqa": ("self_attn.kv_a_proj_with_mqa",), "attn_kv_b": ("self_attn.kv_b_proj",),
    "ffn_gate": ("mlp.gate_proj",), "ffn_up": ("mlp.up_proj", "mlp.gate_up_proj"), "ffn_down": ("mlp.down_proj",),
    "ffn_gate_exps": ("mlp.experts.0.gate_proj", "block_sparse_moe.experts.0.w1"),
    "ffn_up_exps": ("mlp.experts.0.up_proj", "block_sparse_moe.experts.0.w3"),
    "ffn_down_exps": ("mlp.experts.0.down_proj", "block_sparse_moe.experts.0.w2"),
    "ffn_gate_shexp": ("mlp.shared_experts.gate_proj", "mlp.shared_expert.gate_proj"),
    "ffn_up_shexp": ("mlp.shared_experts.up_proj", "mlp.shared_expert.up_proj"),
    "ffn_down_shexp": ("mlp.shared_experts.down_proj", "mlp.shared_expert.down_proj"),
}


def hf_module_names(role: str, layer: int) -> tuple:
    """transformers' module names for a weight tensor of this role and layer (both common spellings)."""
    if role == "output":
        return ("lm_head",)
    if role == "token_embd":
        return ("model.embed_tokens",)
    return tuple(f"model.layers.{layer}.{n}" for n in _HF_NAMES.get(role, ()))
