"""Every numeric format, in one table: how many bytes a tensor takes when stored in it.

Weight formats decide a storage type per tensor (a GGUF preset puts different tensors in different
types); KV-cache formats decide the bytes of one cached row of keys or values. A format's size
lives here and nowhere else.
"""
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

from . import gguf_recipes
from .errors import UnknownNameError
from .ggml import GGML_TYPES
from .models import (ATTENTION_TYPES, EXPERT_ROLES, MATRIX, ModelSpec, Tensor, expand_runs, file_tensor, layer_name,
                     tensor_runs, weight_tensors)

FILE = "From the file"
FLOAT = "Float"
NOMINAL = "Integer / FP8 (nominal)"
BNB = "bitsandbytes"
GROUPED = "GPTQ / AWQ"
NATIVE = "Checkpoint formats"
GGUF_PRESET = "GGUF presets"
GGUF_TYPE = "GGUF types (--pure)"
GROUPS = (FILE, FLOAT, NOMINAL, BNB, GROUPED, NATIVE, GGUF_PRESET, GGUF_TYPE)

# Tensors that weight-only quantizers (bitsandbytes, GPTQ, AWQ, FP8) leave in 16-bit: they are
# embeddings, not nn.Linear layers, or the lm_head that transformers skips by default.
_KEPT_16BIT = ("token_embd", "output", "position_embd", "per_layer_token_embd")  # + Gemma 3n per-layer embeddings
_BASE_BYTES = 2  # bf16/fp16 for everything a weight-only quantizer does not touch


@dataclass(frozen=True)
class TensorStorage:
    """How one weight tensor is stored: a type label and its exact bytes."""

    label: str
    bytes: int


@dataclass(frozen=True)
class WeightFormat:
    name: str
    group: str
    description: str
    source: str

    def storage(self, spec: ModelSpec) -> tuple:
        """(Tensor, TensorStorage) for every tensor of the model as this format lays it out, tensor by tensor."""
        raise NotImplementedError

    def storage_runs(self, spec: ModelSpec) -> tuple:
        """The same storage grouped like models.tensor_runs: (layer, ((Tensor, TensorStorage), …)) runs in file
        order, one pairs tuple shared by the blocks that store alike; expand_runs gives storage(spec) back.
        This default makes one run per tensor; formats whose storage of a tensor depends on the tensor alone
        compute it once per kind of block (_by_tensor)."""
        return tuple((t.layer, ((t, st),)) for t, st in self.storage(spec))


@dataclass(frozen=True)
class UniformFormat(WeightFormat):
    """Every parameter at the same width, no scales: the textbook params × bytes figure."""

    bits: int = 16

    def storage(self, spec):
        return tuple((t, self._of(t)) for t in weight_tensors(spec))

    def storage_runs(self, spec):
        return _by_tensor(tensor_runs(spec), self._of)

    def _of(self, t):
        return TensorStorage(self.name, -(-t.numel * self.bits // 8))


@dataclass(frozen=True)
class LinearQuantFormat(WeightFormat):
    """A weight-only quantizer that replaces the model's linear layers (attention, MLP, experts)
    and keeps embeddings, lm_head, norms, biases and routers in 16-bit."""

    label: str = ""
    linear_bytes: object = None  # (in_features, out_features) -> bytes of one quantized linear

    def storage(self, spec):
        out = []
        kept = _kept_by_checkpoint(spec)
        for t in weight_tensors(spec):
            if t.kind == MATRIX and t.role not in _KEPT_16BIT and t.name not in kept:
                out.append((t, self._quantized(t)))
            else:
                out.append((t, _base(t)))
        return tuple(out)

    def storage_runs(self, spec):
        if _kept_by_checkpoint(spec):  # the checkpoint's ignore list names tensors one by one
            return super().storage_runs(spec)
        return _by_tensor(tensor_runs(spec), lambda t: self._quantized(t) if t.kind == MATRIX and
                          t.role not in _KEPT_16BIT else _base(t))

    def _quantized(self, t):
        experts = t.ne[2] if t.is_expert else 1
        return TensorStorage(self.label, experts * self.linear_bytes(t.ne[0], t.ne[1]))


def _base(t) -> TensorStorage:
    """A tensor a weight-only quantizer leaves in 16-bit."""
    return TensorStorage("BF16", t.numel * _BASE_BYTES)


def _by_tensor(runs, storage_of) -> tuple:
    """storage_runs for a format whose storage of a tensor depends on the tensor alone: computed once per
    tensor of each kind of block, and the pairs tuple shared as the runs share their tensors."""
    memo, out = {}, []
    for layer, tensors in runs:
        pairs = memo.get(id(tensors))
        if pairs is None:
            pairs = memo[id(tensors)] = tuple((t, storage_of(t)) for t in tensors)
        out.append((layer, pairs))
    return tuple(out)


@lru_cache(maxsize=256)
def _kept_by_checkpoint(spec: ModelSpec) -> frozenset:
    """Names of the tensors the checkpoint's ignore list keeps in 16-bit (see quant_config.ignore_matcher)."""
    if not spec.quant_ignore:
        return frozenset()
    from .importers.quant_config import hf_module_names, ignore_matcher
    kept = ignore_matcher(spec.quant_ignore)
    return frozenset(t.name for t in weight_tensors(spec)
                     if t.kind == MATRIX and any(kept(n) for n in hf_module_names(t.role, t.layer)))


@dataclass(frozen=True)
class ExpertQuantFormat(WeightFormat):
    """A checkpoint that quantizes only the routed experts (gpt-oss ships its MoE weights in MXFP4)."""

    ggml: str = "MXFP4"

    def storage(self, spec):
        return tuple((t, self._of(t)) for t in weight_tensors(spec))

    def storage_runs(self, spec):
        return _by_tensor(tensor_runs(spec), self._of)

    def _of(self, t):
        return TensorStorage(self.ggml, GGML_TYPES[self.ggml].tensor_bytes(t.ne)) if t.is_expert else _base(t)


@dataclass(frozen=True)
class GGUFFormat(WeightFormat):
    """A GGUF file: a llama-quantize preset (per-tensor recipe) or one ggml type for every tensor (--pure).
    Tensors llama.cpp never quantizes keep the type the converter wrote (gguf_recipes.kept_type: F32 for norms,
    biases, routers and kernels, 16-bit for the few matrices it leaves alone)."""

    preset: str = ""  # llama-quantize preset name, or "" for --pure
    ggml: str = ""  # the single type when pure
    rules: str = "2026"  # llama.cpp rule era, see gguf_recipes

    def storage(self, spec):
        tensors = gguf_tensors(spec)
        if self.preset:
            types = gguf_recipes.assign_types(self.preset, [(t.name, t.ne) for t in tensors], gguf_traits(spec),
                                              self.rules)
        else:
            types = [self._pure_type(t) for t in tensors]
        return tuple((t, TensorStorage(ty, GGML_TYPES[ty].tensor_bytes(t.ne))) for t, ty in zip(tensors, types))

    def storage_runs(self, spec):
        runs = gguf_tensor_runs(spec)
        if not self.preset:
            return _by_tensor(runs, lambda t: _typed(self._pure_type(t), t.ne))
        # the recipe's scan of the whole file, from each kind of block once × its blocks
        has_output, n_wv, scanned = False, 0, {}
        for layer, tensors in runs:
            if id(tensors) not in scanned:
                scanned[id(tensors)] = (sum(1 for t in tensors if gguf_recipes.category(t.name) in
                                            gguf_recipes.ATTN_V_LIKE),
                                        any(t.name == "output.weight" for t in tensors))
            wv, output = scanned[id(tensors)]
            n_wv += wv
            has_output = has_output or output
        traits = gguf_traits(spec)
        recipe = gguf_recipes.Recipe(self.preset, traits, self.rules, has_output, n_wv + traits.nextn_blocks)
        # tensors whose type cannot depend on their place get it once per kind of block; the others are asked
        # in file order, under their own names, so llama.cpp's running counts advance as in storage(). A name's
        # category and whether it may be quantized do not depend on the block number in it.
        kinds, shared, out = {}, {}, []
        for layer, tensors in runs:
            kind = kinds.get(id(tensors))
            if kind is None:
                placed = tuple((k, t, gguf_recipes.category(t.name)) for k, t in enumerate(tensors)
                               if recipe.positional(t.name, t.ne))
                at = {k for k, _, _ in placed}
                kind = kinds[id(tensors)] = (placed, [None if k in at else recipe.type_of(t.name, t.ne)
                                                      for k, t in enumerate(tensors)])
            placed, types = kind
            key = (id(tensors),) + tuple(recipe.quantized_type(layer_name(t, layer), t.ne, cat) for _, t, cat in placed)
            pairs = shared.get(key)
            if pairs is None:
                for (k, _, _), ty in zip(placed, key[1:]):
                    types[k] = ty
                pairs = shared[key] = tuple((t, _typed(ty, t.ne)) for t, ty in zip(tensors, types))
            out.append((layer, pairs))
        return tuple(out)

    def _pure_type(self, t):
        if not gguf_recipes.allows_quantization(t.name, t.ne):
            return gguf_recipes.kept_type(t.name, t.ne)
        return gguf_recipes.fallback(self.ggml, t.ne[0])


def _typed(type_name: str, ne: tuple) -> TensorStorage:
    return TensorStorage(type_name, GGML_TYPES[type_name].tensor_bytes(ne))


def _converted(spec: ModelSpec, t: Tensor) -> tuple:
    """The tensor(s) llama.cpp's converter writes for checkpoint tensor t. It differs from the checkpoint in
    one place: since 2025-04 (#12801) DeepSeek's kv_b projection is split per head into attn_k_b (stored
    transposed) and attn_v_b, 3-D tensors with rows of qk_nope_head_dim and kv_lora_rank values."""
    if t.role == "attn_kv_b" and spec.is_mla:
        prefix = f"blk.{t.layer}."
        return (Tensor(prefix + "attn_k_b.weight", "attn_k_b", t.layer,
                       (spec.qk_nope_head_dim, spec.kv_lora_rank, spec.num_heads), MATRIX, t.tp),
                Tensor(prefix + "attn_v_b.weight", "attn_v_b", t.layer,
                       (spec.kv_lora_rank, spec.v_head_dim, spec.num_heads), MATRIX, t.tp))
    return (t,)


@lru_cache(maxsize=256)
def gguf_tensors(spec: ModelSpec) -> tuple:
    """The tensors as llama.cpp's converter writes them (see _converted)."""
    return tuple(c for t in weight_tensors(spec) for c in _converted(spec, t))


@lru_cache(maxsize=256)
def gguf_tensor_runs(spec: ModelSpec) -> tuple:
    """gguf_tensors(spec) grouped like models.tensor_runs."""
    memo = {}
    return tuple((layer, memo.get(id(ts)) or memo.setdefault(id(ts), tuple(c for t in ts for c in _converted(spec, t))))
                 for layer, ts in tensor_runs(spec))


@dataclass(frozen=True)
class FileFormat(WeightFormat):
    """The weights exactly as a model file stores them (a GGUF's tensor types, a safetensors' dtypes)."""

    def storage(self, spec):
        if not spec.file_tensors:
            raise UnknownNameError("weights", "'file' means the weights as stored in a model file: load one first")
        return tuple((file_tensor(name, ne), TensorStorage(label, size)) for name, ne, label, size in spec.file_tensors)


def gguf_traits(spec: ModelSpec) -> gguf_recipes.ModelTraits:
    # llama-model.cpp: LLM_TYPE_70B is an 80-layer Llama with grouped KV heads, or an 80-layer Qwen2
    llama_70b = spec.arch == "llama" and spec.gqa_ratio > 1 and spec.num_experts != 8
    first_has_kv = spec.arch not in gguf_recipes.PER_LAYER_KV_ARCHS or spec.layer_type(0) in ATTENTION_TYPES
    return gguf_recipes.ModelTraits(
        n_layer=spec.num_layers, n_gqa=spec.gqa_ratio if first_has_kv else 0, n_expert=spec.num_experts,
        is_falcon=spec.arch == "falcon",
        is_70b=spec.num_layers == 80 and (llama_70b or spec.arch == "qwen2"),
        nextn_blocks=sum(getattr(p, "count", 0) for p in spec.parts if p.key == "mtp")
        if spec.arch in gguf_recipes.NEXTN_KEPT_ARCHS else 0)


# ---------------------------------------------------------------- byte rules of the quantizers

def _gptq_bytes(bits, group, g_idx):
    """GPTQ/AWQ linear, in features K, out features N, groups G along K (AutoGPTQ / AutoAWQ layout):
    qweight K·N·b/8, qzeros G·N·b/8 (packed int32), scales G·N fp16, g_idx K int32 (GPTQ only)."""
    def linear(k, n):
        groups = -(-k // group) if group > 0 else 1
        return k * n * bits // 8 + groups * n * bits // 8 + 2 * groups * n + (4 * k if g_idx else 0)
    return linear


def _int8_bytes(k, n):
    """bitsandbytes LLM.int8: int8 weight plus one fp32 absmax per output row (SCB)."""
    return k * n + 4 * n


def _bnb4_bytes(double_quant):
    """bitsandbytes 4-bit (NF4/FP4): two values per byte, one absmax per 64-value block.
    Without double quantization absmax is fp32 (0.5 bit/param); with it absmax is 8-bit, plus one
    fp32 scale per 256 blocks, the 256-entry fp32 code of the second level and an fp32 offset
    (8/64 + 32/(64·256) = 0.127 bit/param, QLoRA paper §3). The 16-entry fp32 code is per tensor."""
    def linear(k, n):
        numel = k * n
        blocks = -(-numel // 64)
        size = -(-numel // 2) + 16 * 4
        if double_quant:
            return size + blocks + 4 * -(-blocks // 256) + 256 * 4 + 4
        return size + 4 * blocks
    return linear


def _fp8_block_bytes(k, n):
    """FP8 e4m3 weight plus one fp32 scale per 128×128 block (DeepSeek-V3 weight_scale_inv)."""
    return k * n + 4 * -(-k // 128) * -(-n // 128)


def _fp8_tensor_bytes(k, n):
    """FP8 e4m3 weight plus one fp32 weight scale per tensor (AutoFP8 / compressed-tensors strategy "tensor",
    ModelOpt FP8). A static input scale (4 B) is left out."""
    return k * n + 4


def _scaled_rows(bytes_per_value, scale_bytes):
    """One value per element plus one scale per output row (FP8 / INT8 per-channel: fbgemm_fp8,
    compressed-tensors strategy "channel", torchao)."""
    def linear(k, n):
        return k * n * bytes_per_value + scale_bytes * n
    return linear


def _nvfp4_bytes(k, n):
    """NVFP4: FP4 e2m1 values two per byte, one FP8 e4m3 scale per 16 values, a per-tensor fp32 global scale
    (compressed-tensors nvfp4-pack-quantized weight_packed / weight_scale / weight_global_scale; ModelOpt NVFP4)."""
    return k * n // 2 + -(-k // 16) * n + 4


def _packed_int_bytes(bits, group, scale_bytes):
    """Integer weights packed `bits` per value with `scale_bytes` of scale (and zero) per group of `group`
    input values per output row (compressed-tensors pack-quantized W4A16: bf16 scale; torchao int4: bf16
    scale and zero; HQQ: fp16 scale and zero), plus compressed-tensors' weight_shape (2 × int64) or nothing."""
    def linear(k, n):
        groups = -(-k // group) if group else 1
        return -(-k * n * bits // 8) + scale_bytes * groups * n
    return linear


def _bitnet_bytes(k, n):
    """BitNet b1.58: ternary weights packed four per byte (uint8) plus one bf16 weight scale
    (transformers integrations/bitnet.py BitLinear, weight_scale)."""
    return -(-k * n // 4) + 2


# ---------------------------------------------------------------- the table

_BNB_SRC = "bitsandbytes Linear8bitLt / Linear4bit; QLoRA paper (Dettmers et al. 2023) §3"
_GPTQ_SRC = "AutoGPTQ QuantLinear / AutoAWQ WQLinear_GEMM tensor layouts"
_CKPT_SRC = ("checkpoint layouts: vLLM model_executor/layers/quantization (fp8.py, fbgemm_fp8.py, compressed_tensors/, "
             "modelopt.py, torchao.py, bitnet); transformers integrations")
_GGUF_SRC = "llama.cpp src/llama-quant.cpp @007dbbf3 (same rules @0c1e5709); block sizes gguf-py constants.py GGML_QUANT_SIZES"


def _build_table():
    table = [
        FileFormat("file", FILE, "exactly as the loaded model file stores each tensor", "the file's own header"),
        UniformFormat("FP32", FLOAT, "32-bit float, every parameter 4 bytes", "IEEE 754", 32),
        UniformFormat("BF16", FLOAT, "bfloat16, every parameter 2 bytes (how most checkpoints ship)", "IEEE 754 / bfloat16", 16),
        UniformFormat("FP16", FLOAT, "float16, every parameter 2 bytes", "IEEE 754", 16),
        UniformFormat("INT8", NOMINAL, "nominal 8-bit integer: every parameter 1 byte, no scales counted", "seed formula", 8),
        UniformFormat("INT4", NOMINAL, "nominal 4-bit integer: every parameter ½ byte, no scales counted", "seed formula", 4),
        LinearQuantFormat("LLM.int8", BNB, "bitsandbytes 8-bit (load_in_8bit): int8 linears with per-row fp32 scales",
                          _BNB_SRC, "int8", _int8_bytes),
    ]
    for kind in ("NF4", "FP4"):
        table.append(LinearQuantFormat(kind, BNB, f"bitsandbytes 4-bit {kind}, block 64, fp32 absmax",
                                       _BNB_SRC, kind.lower(), _bnb4_bytes(False)))
        table.append(LinearQuantFormat(f"{kind}-DQ", BNB, f"bitsandbytes 4-bit {kind} with double quantization (QLoRA)",
                                       _BNB_SRC, kind.lower() + "-dq", _bnb4_bytes(True)))
    for bits in (8, 4, 3, 2):
        for group in (32, 64, 128):
            table.append(gptq(bits, group))
    table.append(gptq(4, 0))
    for group in (64, 128):
        table.append(awq(group))
    table += [
        LinearQuantFormat("FP8", NATIVE, "FP8 e4m3 linears with one fp32 scale per tensor; embeddings, head, norms "
                          "16-bit (AutoFP8, compressed-tensors FP8, ModelOpt FP8)", _CKPT_SRC, "fp8-e4m3", _fp8_tensor_bytes),
        LinearQuantFormat("FP8-channel", NATIVE, "FP8 e4m3 linears with one fp32 scale per output row "
                          "(fbgemm_fp8, compressed-tensors channel, torchao float8)", _CKPT_SRC, "fp8-e4m3",
                          _scaled_rows(1, 4)),
        LinearQuantFormat("INT8-W8A8", NATIVE, "int8 linears with one fp32 scale per output row (compressed-tensors "
                          "int-quantized, torchao int8)", _CKPT_SRC, "int8", _scaled_rows(1, 4)),
        LinearQuantFormat("NVFP4-W4A4", NATIVE, "FP4 e2m1 linears, one FP8 scale per 16 values and an fp32 global scale "
                          "(compressed-tensors nvfp4-pack-quantized, ModelOpt NVFP4)", _CKPT_SRC, "nvfp4", _nvfp4_bytes),
        LinearQuantFormat("BitNet-1.58", NATIVE, "ternary linears packed four per byte with one bf16 scale (BitNet b1.58)",
                          _CKPT_SRC, "ternary", _bitnet_bytes),
        LinearQuantFormat("FP8-block", NATIVE, "FP8 e4m3 linears with fp32 scales per 128×128 block (DeepSeek-V3 checkpoint)",
                          "DeepSeek-V3 config.json quantization_config weight_block_size [128, 128]", "fp8-e4m3", _fp8_block_bytes),
        ExpertQuantFormat("MXFP4", NATIVE, "MoE experts in MXFP4 (32 values + 1 E8M0 scale = 17 bytes), rest BF16 (gpt-oss checkpoint)",
                          "OpenAI gpt-oss model card; ggml MXFP4 block 32/17 B"),
    ]
    for preset in gguf_recipes.PRESETS:
        table.append(GGUFFormat(preset, GGUF_PRESET, f"llama-quantize preset {preset} (default type "
                                f"{gguf_recipes.PRESETS[preset][1]}, per-tensor rules)", _GGUF_SRC, preset=preset))
    for t in GGML_TYPES.values():
        if t.weights:
            table.append(GGUFFormat(f"ggml:{t.name}", GGUF_TYPE,
                                    f"every quantizable tensor in {t.name} ({t.type_size} B per {t.block_size} values), "
                                    "norms F32", _GGUF_SRC, ggml=t.name))
    return {f.name: f for f in table}


def _preset_of_era(name, preset, rules):
    """'Q2_K@2023': a GGUF preset under the llama.cpp rules of another era."""
    if rules not in gguf_recipes.RULES or not gguf_recipes.supports(preset, rules):
        raise UnknownNameError("weights", f"{name[:60]!r}: eras are {', '.join(gguf_recipes.RULES)}, and only "
                                          "GGUF presets that existed then have one")
    current = WEIGHT_FORMATS[preset]
    if rules == current.rules:
        return current
    return GGUFFormat(f"{preset}@{rules}", GGUF_PRESET, f"{current.description}, llama.cpp rules of {rules}",
                      _GGUF_SRC, preset=preset, rules=rules)


def gptq(bits: int, group: int) -> LinearQuantFormat:
    g = f"g{group}" if group else "perchannel"
    return LinearQuantFormat(f"GPTQ-{bits}bit-{g}", GROUPED,
                             f"GPTQ {bits}-bit, " + (f"group size {group}" if group else "one group per column") +
                             ", fp16 scales, packed zeros, g_idx", _GPTQ_SRC, f"gptq{bits}", _gptq_bytes(bits, group, True))


def awq(group: int) -> LinearQuantFormat:
    return LinearQuantFormat(f"AWQ-4bit-g{group}", GROUPED, f"AWQ 4-bit GEMM, group size {group}, fp16 scales, packed zeros",
                             _GPTQ_SRC, "awq4", _gptq_bytes(4, group, False))


def packed(kind: str, bits: int, group: int) -> LinearQuantFormat:
    """compressed-tensors W4A16/W8A16 (bf16 scale per group), torchao int4 (bf16 scale + zero), HQQ (fp16
    scale + zero) at a group size; group 0 = one group per row."""
    g = f"g{group}" if group else "perchannel"
    if kind == "W":
        return LinearQuantFormat(f"W{bits}A16-{g}", GROUPED, f"compressed-tensors pack-quantized int{bits}, "
                                 f"{'group ' + str(group) if group else 'per channel'}, bf16 scales", _CKPT_SRC,
                                 f"int{bits}", _packed_int_bytes(bits, group, 2))
    if kind == "TorchAO":
        return LinearQuantFormat(f"TorchAO-int{bits}-{g}", GROUPED, f"torchao int{bits} weight-only, group {group}, "
                                 "bf16 scale and zero per group", _CKPT_SRC, f"int{bits}", _packed_int_bytes(bits, group, 4))
    return LinearQuantFormat(f"HQQ-{bits}bit-{g}", GROUPED, f"HQQ {bits}-bit, group {group}, fp16 scale and zero "
                             "per group", _CKPT_SRC, f"hqq{bits}", _packed_int_bytes(bits, group, 4))


WEIGHT_FORMATS = _build_table()
for _f in (packed("W", 4, 128), packed("W", 4, 64), packed("W", 8, 0), packed("TorchAO", 4, 128),
           packed("HQQ", 4, 64)):
    WEIGHT_FORMATS[_f.name] = _f
_ALIASES = {"F32": "FP32", "F16": "FP16", "FLOAT16": "FP16", "BFLOAT16": "BF16", "FLOAT32": "FP32",
            "INT8-BNB": "LLM.int8", "BNB-INT8": "LLM.int8", "BNB-NF4": "NF4",
            # llama-quantize's own aliases (tools/quantize/quantize.cpp QUANT_OPTIONS)
            "Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"}
_BY_UPPER = {name.upper(): name for name in WEIGHT_FORMATS}
_GPTQ_RE = re.compile(r"^(GPTQ|AWQ)-(\d)BIT-G(\d+)$")
_PACKED_RE = re.compile(r"^(?:(W)(\d)A16|(TORCHAO)-INT(\d)|(HQQ)-(\d)BIT)-(?:G(\d{1,5})|PERCHANNEL)$")


def weight_format(name: str) -> WeightFormat:
    """Look up a weight format by name, case-insensitively; GPTQ/AWQ accept any group size."""
    if not isinstance(name, str):
        raise UnknownNameError("weights", f"expected a format name, got {name!r}")
    key = name.strip().upper()
    key, _, rules = key.partition("@")
    key = _ALIASES.get(key, key).upper()
    if rules:
        return _preset_of_era(name, _BY_UPPER.get(key, ""), rules)
    if key in _BY_UPPER:
        return WEIGHT_FORMATS[_BY_UPPER[key]]
    m = _GPTQ_RE.match(key)
    if m:
        kind, bits, group = m.group(1), int(m.group(2)), int(m.group(3))
        if kind == "GPTQ" and bits in (2, 3, 4, 8) and 16 <= group <= 8192 and group % 16 == 0:
            return gptq(bits, group)
        if kind == "AWQ" and bits == 4 and 16 <= group <= 8192 and group % 16 == 0:
            return awq(group)
    m = _PACKED_RE.match(key)
    if m:
        kind = "W" if m.group(1) else ("TorchAO" if m.group(3) else "HQQ")
        bits = int(m.group(2) or m.group(4) or m.group(6))
        group = int(m.group(7) or 0)
        allowed = {"W": (4, 8), "TorchAO": (4,), "HQQ": (1, 2, 3, 4, 8)}[kind]
        if bits in allowed and (group == 0 or 16 <= group <= 8192 and group % 16 == 0):
            return packed(kind, bits, group)
    raise UnknownNameError("weights", f"unknown weight format {name[:60]!r} (see `python -m pycore formats`)")


# ---------------------------------------------------------------- KV-cache formats

@dataclass(frozen=True)
class KVFormat:
    """Storage of cached keys and values. Block types carry their scales: q8_0 is 34 bytes per 32 values."""

    name: str
    description: str
    bits: int = 0  # plain element width, when not a ggml block type
    ggml: str = ""

    def row_bytes(self, n: int) -> int:
        """Bytes of `n` cached values of one token (one layer's K or V row)."""
        if self.ggml:
            t = GGML_TYPES[self.ggml]
            if not t.fits_row(n):
                raise UnknownNameError("kv", f"{self.name} stores blocks of {t.block_size}; a row of {n} values does not divide")
            return t.row_bytes(n)
        return -(-n * self.bits // 8)

    @property
    def bits_per_value(self) -> float:
        return GGML_TYPES[self.ggml].bits_per_weight if self.ggml else float(self.bits)


KV_FORMATS = {f.name: f for f in (
    KVFormat("f16", "16-bit float (the default of vLLM, llama.cpp and transformers)", bits=16),
    KVFormat("bf16", "bfloat16", bits=16),
    KVFormat("f32", "32-bit float", bits=32),
    KVFormat("fp8", "8-bit float (vLLM kv_cache_dtype fp8 / fp8_e4m3 / fp8_e5m2)", bits=8),
    KVFormat("int8", "nominal 8-bit integer, no scales counted", bits=8),
    KVFormat("int4", "nominal 4-bit integer, no scales counted", bits=4),
    KVFormat("q8_0", "llama.cpp q8_0: 34 bytes per 32 values (fp16 scale per block)", ggml="Q8_0"),
    KVFormat("q5_1", "llama.cpp q5_1: 24 bytes per 32 values", ggml="Q5_1"),
    KVFormat("q5_0", "llama.cpp q5_0: 22 bytes per 32 values", ggml="Q5_0"),
    KVFormat("q4_1", "llama.cpp q4_1: 20 bytes per 32 values", ggml="Q4_1"),
    KVFormat("q4_0", "llama.cpp q4_0: 18 bytes per 32 values", ggml="Q4_0"),
    KVFormat("iq4_nl", "llama.cpp iq4_nl: 18 bytes per 32 values", ggml="IQ4_NL"),
)}
_KV_ALIASES = {"fp16": "f16", "float16": "f16", "fp32": "f32", "float32": "f32", "bfloat16": "bf16",
               "fp8_e4m3": "fp8", "fp8_e5m2": "fp8", "fp8-e4m3": "fp8", "q8": "q8_0", "auto": "f16"}


def kv_format(name: str) -> KVFormat:
    if not isinstance(name, str):
        raise UnknownNameError("kv", f"expected a KV cache format name, got {name!r}")
    key = name.strip().lower()
    key = _KV_ALIASES.get(key, key)
    if key not in KV_FORMATS:
        raise UnknownNameError("kv", f"unknown KV cache format {name[:60]!r} (one of {', '.join(KV_FORMATS)})")
    return KV_FORMATS[key]


# ---------------------------------------------------------------- weights of one model in one format

@dataclass(frozen=True)
class WeightStorage:
    """A model's weights in one format: per-tensor storage and the summary by storage type.

    runs: the (Tensor, TensorStorage) pairs grouped by block (WeightFormat.storage_runs); `tensors` is
    them one by one, in file order, made when first asked for."""

    runs: tuple
    total: int
    by_type: tuple  # (label, tensor count, elements, bytes), largest first

    @cached_property
    def tensors(self) -> tuple:
        """(Tensor, TensorStorage) pairs, every tensor of the model in file order."""
        return expand_runs(self.runs)

    def bits_per_weight(self, parameters: int) -> float:
        return 8 * self.total / parameters


def by_run(runs, per_pairs) -> list:
    """[per_pairs(pairs) for each run of storage runs], computed once per shared pairs tuple."""
    memo = {}
    out = []
    for _, pairs in runs:
        v = memo.get(id(pairs))
        if v is None:
            v = memo[id(pairs)] = per_pairs(pairs)
        out.append(v)
    return out


def _by_label(pairs) -> dict:
    out = {}
    for t, s in pairs:
        count, elements, size = out.get(s.label, (0, 0, 0))
        out[s.label] = (count + 1, elements + t.numel, size + s.bytes)
    return out


@lru_cache(maxsize=1024)
def weight_storage(spec: ModelSpec, fmt: WeightFormat) -> WeightStorage:
    """Every tensor's storage, summed by type (labels in the order they first appear, then largest first)."""
    runs = fmt.storage_runs(spec)
    summary = {}
    for labels in by_run(runs, _by_label):
        for label, (c, e, b) in labels.items():
            count, elements, size = summary.get(label, (0, 0, 0))
            summary[label] = (count + c, elements + e, size + b)
    by_type = tuple(sorted(((label, *v) for label, v in summary.items()), key=lambda r: -r[3]))
    return WeightStorage(runs, sum(v[2] for v in summary.values()), by_type)
