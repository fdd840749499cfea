"""Model architecture: `ModelSpec`, and what follows from it alone.

From a spec come the list of weight tensors with their shapes (named and shaped as in GGUF
files, so the GGUF preset rules can be applied to them), the total and active parameter counts,
and the attention layers that make up the KV cache.
"""
import math
from dataclasses import dataclass, field, fields
from functools import cached_property, lru_cache

from .attention import FullAttention, LatentAttention, SlidingWindowAttention
from .errors import InputError

FULL = "full"
SLIDING = "sliding"

# What a tensor is, for the formats: a matrix that quantizers compress, or a small tensor
# (norm, bias, router, sink) that every format keeps in its own higher-precision type.
MATRIX = "matrix"
SMALL = "small"

EXPERT_ROLES = ("ffn_gate_exps", "ffn_up_exps", "ffn_down_exps")

# How a tensor is laid out over tensor-parallel ranks (Megatron-style, as vLLM does).
TP_SPLIT = "split"  # column- or row-parallel: each rank holds 1/t
TP_REPLICATE = "replicate"  # every rank holds it whole (norms, routers, MLA down-projections)
TP_KV = "kv"  # K/V projections: split by KV head, replicated when there are fewer heads than ranks

# Whole on every rank: the MLA down-projections (ReplicatedLinear in vLLM), routers and their biases.
_REPLICATED_ROLES = {"attn_q_a", "attn_kv_a_mqa", "ffn_gate_inp", "ffn_gate_inp_shexp", "exp_probs_b", "position_embd"}
# Row-parallel layers: their bias is added once, after the all-reduce, so every rank keeps it whole.
_ROW_PARALLEL = {"attn_output", "ffn_down", "ffn_down_shexp", "ffn_down_exps"}


def tp_layout(role: str, suffix: str = "weight") -> str:
    """How a tensor is laid out over tensor-parallel ranks (Megatron-style, as vLLM does)."""
    if role in ("attn_k", "attn_v"):
        return TP_KV
    if "norm" in role or role in _REPLICATED_ROLES or (suffix == "bias" and role in _ROW_PARALLEL):
        return TP_REPLICATE
    return TP_SPLIT


def tp_share(t: "Tensor", amount: int, num_kv_heads: int, tp: int) -> int:
    """One tensor-parallel rank's share of `amount` (bytes or values) of tensor `t`: split tensors
    ⌈amount / tp⌉, K/V by whole KV heads (replicated when there are fewer heads than ranks), the rest whole."""
    if tp == 1 or t.tp == TP_REPLICATE:
        return amount
    if t.tp == TP_KV:
        return amount * -(-num_kv_heads // tp) // num_kv_heads
    return -(-amount // tp)


@dataclass(frozen=True)
class Tensor:
    """One weight tensor. `ne` is in ggml order: ne[0] is the row length (the input features of a
    linear layer), ne[1] the rows, ne[2] the experts of a stacked MoE tensor."""

    name: str  # GGUF name, e.g. "blk.3.attn_v.weight"
    role: str  # GGUF tensor kind without layer and suffix, e.g. "attn_v"
    layer: int  # block index, -1 for tensors outside the blocks
    ne: tuple
    kind: str = MATRIX
    tp: str = TP_SPLIT

    @cached_property
    def numel(self) -> int:
        return math.prod(self.ne)

    @property
    def is_expert(self) -> bool:
        """A stacked matrix of routed experts, of which only `experts_per_token` work per token."""
        return self.role in EXPERT_ROLES and self.kind == MATRIX


@dataclass(frozen=True)
class ModelSpec:
    """The architecture facts that decide memory. Sizes are element counts, never bytes."""

    name: str
    arch: str  # family, in GGUF's arch names where one exists: llama, qwen2, gemma2, deepseek2, gptneox, ...
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int  # FFN width of dense layers
    max_context: int
    tie_embeddings: bool = False
    # Block layout
    gated_mlp: bool = True  # gate, up and down projections (SwiGLU/GeGLU); False: up and down only
    fused_qkv: bool = False  # one attn_qkv matrix (GPT-NeoX, Falcon, Phi-3)
    fused_gate_up: bool = False  # one ffn_up matrix of twice the width holding gate and up (Phi-3)
    norms_per_layer: int = 2  # 1: parallel attention/MLP (Falcon-7B, Cohere); 4: Gemma 2/3 sandwich norms
    norm_bias: bool = False  # LayerNorm with bias (GPT-NeoX, Falcon, StarCoder2) rather than RMSNorm
    qkv_bias: bool = False
    o_bias: bool = False
    mlp_bias: bool = False
    qk_norm: bool = False  # per-head RMSNorm weights on q and k (Qwen3, Gemma 3)
    qk_norm_per_layer: bool = False  # RMSNorm over all of q's and k's width (OLMo 2/3, MiniMax-M2)
    attention_sinks: bool = False  # one learned logit per head (gpt-oss)
    learned_positions: int = 0  # rows of a learned position embedding (GPT-2 style); 0 = none
    # Mixture of experts
    num_experts: int = 0
    experts_per_token: int = 0
    expert_intermediate_size: int = 0
    shared_expert_intermediate_size: int = 0  # total width of the always-on shared expert(s)
    shared_expert_gate: bool = False  # Qwen2-MoE scales the shared expert by a learned gate
    first_dense_layers: int = 0  # leading layers with a dense FFN (DeepSeek first_k_dense_replace)
    router_bias: bool = False  # gpt-oss
    expert_bias: bool = False  # gpt-oss: each expert's projections carry biases
    expert_score_bias: bool = False  # DeepSeek-V3 e_score_correction_bias
    # Multi-head latent attention (DeepSeek-V2/V3)
    q_lora_rank: int = 0  # 0: queries are projected directly (V2-Lite)
    kv_lora_rank: int = 0  # > 0 turns MLA on
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    # Attention kind per layer: "full" or "sliding"; empty means all full
    layer_types: tuple = ()
    sliding_window: int = 0
    # What the checkpoint ships besides the language model (pycore.parts: vision/audio towers, MTP layers)
    parts: tuple = ()
    # Modules the checkpoint's quantization_config keeps unquantized (its ignore / modules_to_not_convert /
    # exclude_modules entries, pycore.importers.quant_config); formats that quantize linears honour them
    quant_ignore: tuple = ()
    # Where the numbers come from
    source: str = ""
    notes: tuple = field(default=(), compare=False)
    # Read from a model file: its tensors as stored, (name, ne, storage label, bytes) each. `file_id`
    # names the file and takes part in equality; the long tuple does not, so hashing stays cheap.
    file_tensors: tuple = field(default=(), compare=False, repr=False)
    file_id: str = ""
    file_kind: str = ""  # "gguf" or "safetensors": how the file stores its tensors

    def __hash__(self):
        # Specs key every cache in pycore; hash the compared fields once, not on every lookup.
        try:
            return self._hash
        except AttributeError:
            h = hash(tuple(getattr(self, f.name) for f in _COMPARED))
            object.__setattr__(self, "_hash", h)
            return h

    def __post_init__(self):
        for name in ("vocab_size", "hidden_size", "num_layers", "num_heads", "num_kv_heads", "head_dim",
                     "max_context"):
            _positive(name, getattr(self, name))
        if self.intermediate_size < 0:
            raise InputError("intermediate_size", "must not be negative")
        if self.num_kv_heads > self.num_heads:
            raise InputError("num_key_value_heads",
                             f"{self.num_kv_heads} KV heads for {self.num_heads} attention heads: "
                             "there cannot be more KV heads than attention heads")
        if self.num_heads % self.num_kv_heads:
            raise InputError("num_key_value_heads",
                             f"{self.num_heads} attention heads do not divide into {self.num_kv_heads} KV groups")
        if self.num_experts:
            if not 0 < self.experts_per_token <= self.num_experts:
                raise InputError("num_experts_per_tok",
                                 f"must be between 1 and the {self.num_experts} experts")
            _positive("moe_intermediate_size", self.expert_intermediate_size)
            if self.first_dense_layers > self.num_layers:
                raise InputError("first_k_dense_replace", "more dense layers than layers")
        if self.kv_lora_rank:
            for name in ("qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"):
                _positive(name, getattr(self, name))
        if self.layer_types:
            if len(self.layer_types) != self.num_layers:
                raise InputError("layer_types",
                                 f"{len(self.layer_types)} entries for {self.num_layers} layers")
            if any(t not in (FULL, SLIDING) for t in self.layer_types):
                raise InputError("layer_types", "each entry must be 'full' or 'sliding'")
            if SLIDING in self.layer_types:
                _positive("sliding_window", self.sliding_window)
        if self.intermediate_size == 0 and self.first_dense_layers + (0 if self.num_experts else self.num_layers):
            raise InputError("intermediate_size", "dense FFN layers need an intermediate size")

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def gqa_ratio(self) -> int:
        """Query heads per KV head (llama.cpp's n_gqa)."""
        return self.num_heads // self.num_kv_heads

    def layer_type(self, i: int) -> str:
        return self.layer_types[i] if self.layer_types else FULL

    def is_moe_layer(self, i: int) -> bool:
        return self.is_moe and i >= self.first_dense_layers


_COMPARED = tuple(f for f in fields(ModelSpec) if f.compare)


def _positive(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InputError(name, f"must be a positive whole number, got {value!r}")


# ---------------------------------------------------------------- weight tensors

@lru_cache(maxsize=256)
def weight_tensors(spec: ModelSpec) -> tuple:
    """All weight tensors of the model, in GGUF names and ggml shapes, ordered by block."""
    out = []
    H, V = spec.hidden_size, spec.vocab_size

    def add(role, layer, ne, kind=MATRIX, suffix="weight"):
        prefix = f"blk.{layer}." if layer >= 0 else ""
        out.append(Tensor(f"{prefix}{role}.{suffix}", role, layer, tuple(ne), kind, tp_layout(role, suffix)))

    def norm(role, layer, width):
        add(role, layer, (width,), SMALL)
        if spec.norm_bias:
            add(role, layer, (width,), SMALL, "bias")

    def linear(role, layer, n_in, n_out, bias=False):
        add(role, layer, (n_in, n_out), MATRIX)
        if bias:
            add(role, layer, (n_out,), SMALL, "bias")

    add("token_embd", -1, (H, V))
    if spec.learned_positions:
        add("position_embd", -1, (H, spec.learned_positions), SMALL)

    for i in range(spec.num_layers):
        norm("attn_norm", i, H)
        _attention_tensors(spec, i, add, norm, linear)
        if spec.norms_per_layer == 4:  # Gemma 2/3: post-attention, pre-FFN and post-FFN norms
            norm("post_attention_norm", i, H)
            norm("ffn_norm", i, H)
            norm("post_ffw_norm", i, H)
        elif spec.norms_per_layer == 2:
            norm("ffn_norm", i, H)
        if spec.is_moe_layer(i):
            _moe_tensors(spec, i, add, linear)
        else:
            _mlp_tensors(spec, i, spec.intermediate_size, "", linear)

    norm("output_norm", -1, H)
    if not spec.tie_embeddings:
        add("output", -1, (H, V))
    return tuple(out)


def _attention_tensors(spec, i, add, norm, linear):
    H = spec.hidden_size
    if spec.is_mla:
        qk_head = spec.qk_nope_head_dim + spec.qk_rope_head_dim
        if spec.q_lora_rank:
            linear("attn_q_a", i, H, spec.q_lora_rank)
            norm("attn_q_a_norm", i, spec.q_lora_rank)
            linear("attn_q_b", i, spec.q_lora_rank, spec.num_heads * qk_head)
        else:
            linear("attn_q", i, H, spec.num_heads * qk_head)
        linear("attn_kv_a_mqa", i, H, spec.kv_lora_rank + spec.qk_rope_head_dim)
        norm("attn_kv_a_norm", i, spec.kv_lora_rank)
        linear("attn_kv_b", i, spec.kv_lora_rank,
               spec.num_heads * (spec.qk_nope_head_dim + spec.v_head_dim))
        linear("attn_output", i, spec.num_heads * spec.v_head_dim, H)
        return
    q_width = spec.num_heads * spec.head_dim
    kv_width = spec.num_kv_heads * spec.head_dim
    if spec.fused_qkv:
        linear("attn_qkv", i, H, q_width + 2 * kv_width, bias=spec.qkv_bias)
    else:
        linear("attn_q", i, H, q_width, bias=spec.qkv_bias)
        linear("attn_k", i, H, kv_width, bias=spec.qkv_bias)
        linear("attn_v", i, H, kv_width, bias=spec.qkv_bias)
    if spec.qk_norm:
        norm("attn_q_norm", i, spec.head_dim)
        norm("attn_k_norm", i, spec.head_dim)
    elif spec.qk_norm_per_layer:  # Olmo2Attention / MiniMaxM2Attention: q_norm over heads × head_dim
        norm("attn_q_norm", i, q_width)
        norm("attn_k_norm", i, kv_width)
    if spec.attention_sinks:
        add("attn_sinks", i, (spec.num_heads,), SMALL)  # one per head: split with the heads
    linear("attn_output", i, q_width, H, bias=spec.o_bias)


def _mlp_tensors(spec, i, width, suffix, linear):
    H, bias = spec.hidden_size, spec.mlp_bias
    if spec.gated_mlp and spec.fused_gate_up:
        linear("ffn_up" + suffix, i, H, 2 * width, bias=bias)
    elif spec.gated_mlp:
        linear("ffn_gate" + suffix, i, H, width, bias=bias)
        linear("ffn_up" + suffix, i, H, width, bias=bias)
    else:
        linear("ffn_up" + suffix, i, H, width, bias=bias)
    linear("ffn_down" + suffix, i, width, H, bias=bias)


def _moe_tensors(spec, i, add, linear):
    H, E, W = spec.hidden_size, spec.num_experts, spec.expert_intermediate_size
    add("ffn_gate_inp", i, (H, E), SMALL)  # router: never quantized
    if spec.router_bias:
        add("ffn_gate_inp", i, (E,), SMALL, "bias")
    if spec.expert_score_bias:
        add("exp_probs_b", i, (E,), SMALL, "bias")
    projections = (("ffn_gate_exps", H, W), ("ffn_up_exps", H, W)) if spec.gated_mlp else (("ffn_up_exps", H, W),)
    for role, n_in, n_out in projections + (("ffn_down_exps", W, H),):
        add(role, i, (n_in, n_out, E))
        if spec.expert_bias:
            add(role, i, (n_out, E), SMALL, "bias")
    if spec.shared_expert_intermediate_size:
        _mlp_tensors(spec, i, spec.shared_expert_intermediate_size, "_shexp", linear)
        if spec.shared_expert_gate:
            add("ffn_gate_inp_shexp", i, (H,), SMALL)


def file_tensor(name: str, ne: tuple) -> Tensor:
    """A Tensor for a name and shape read from a model file ("blk.3.attn_k.weight"): its role, layer,
    kind and tensor-parallel layout follow the same rules as the tensors of an architecture."""
    parts = name.split(".")
    numbered = len(parts) > 2 and parts[0] == "blk" and parts[1].isascii() and parts[1].isdigit()
    layer = int(parts[1]) if numbered else -1
    role = parts[2] if numbered else parts[0]
    suffix = parts[-1]
    small = len(ne) < 2 or suffix != "weight" or "norm" in role or role == "ffn_gate_inp"
    return Tensor(name, role, layer, tuple(ne), SMALL if small else MATRIX, tp_layout(role, suffix))


# ---------------------------------------------------------------- parameter counts

@dataclass(frozen=True)
class ParameterCount:
    total: int  # everything the checkpoint ships: the language model and its parts (pycore.parts)
    active: int  # per token of text: routed experts counted experts_per_token / num_experts
    embedding: int  # token (and position) embedding rows; tied output counted once, here
    by_part: tuple = ()  # (part, parameters): "language" first, then vision / audio / mtp when shipped

    @property
    def language(self) -> int:
        return dict(self.by_part).get("language", self.total)


@lru_cache(maxsize=256)
def parameter_count(spec: ModelSpec) -> ParameterCount:
    total = expert = embedding = 0
    for t in weight_tensors(spec):
        n = t.numel
        total += n
        if t.role in EXPERT_ROLES:  # routed-expert matrices and their biases
            expert += n
        if t.role in ("token_embd", "position_embd"):
            embedding += n
    active = total - expert
    if spec.is_moe:
        active += expert * spec.experts_per_token // spec.num_experts
    parts = ()
    if spec.parts:
        from .parts import part_sizes  # parts build on this module
        parts = part_sizes(spec)
    return ParameterCount(total + sum(n for _, n in parts), active, embedding, (("language", total),) + parts)


# ---------------------------------------------------------------- attention layers (KV cache)

@lru_cache(maxsize=256)
def attention_layers(spec: ModelSpec) -> tuple:
    """One attention spec per layer: what that layer keeps in the KV cache."""
    full = FullAttention(spec.num_kv_heads, spec.head_dim, spec.head_dim)
    if spec.is_mla:
        return (LatentAttention(spec.kv_lora_rank, spec.qk_rope_head_dim),) * spec.num_layers
    sliding = SlidingWindowAttention(spec.num_kv_heads, spec.head_dim, spec.head_dim, spec.sliding_window)
    return tuple(sliding if spec.layer_type(i) == SLIDING else full for i in range(spec.num_layers))


def group_layers(layers) -> tuple:
    """(attention spec, number of layers) pairs, in first-seen order."""
    counts = {}
    for layer in layers:
        counts[layer] = counts.get(layer, 0) + 1
    return tuple(counts.items())


@lru_cache(maxsize=1024)
def attention_groups(spec: ModelSpec, first: int = 0, end: int = -1) -> tuple:
    """group_layers over layers [first, end) of the model (end -1: to the last)."""
    layers = attention_layers(spec)
    return group_layers(layers[first:end if end >= 0 else len(layers)])
