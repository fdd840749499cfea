"""Model architecture: `ModelSpec`, and what follows from it alone.

From a spec come the list of weight tensors with their shapes (named and shaped as in GGUF
files, so the GGUF preset rules can be applied to them), the total and active parameter counts,
and the attention layers that make up the KV cache.
"""
import math
from dataclasses import dataclass, field, fields
from functools import cached_property, lru_cache

from .attention import (ChunkedLocalAttention, ExpandedLatentAttention, FullAttention, GatedDeltaNetState, KimiDeltaState, LatentAttention,
                        LightningState, Mamba1State, Mamba2State, ShortConvState, SlidingWindowAttention, SparseLatentAttention)
from .errors import InputError

# The mixer of a layer (ModelSpec.layer_types), in the words of transformers' `layer_types`
FULL = "full"  # attention over the whole context (or MLA when kv_lora_rank is set)
SLIDING = "sliding"  # attention over the last sliding_window tokens
CHUNKED = "chunked"  # attention within chunks of attention_chunk tokens (Llama 4)
MAMBA = "mamba"  # Mamba (selective SSM)
MAMBA2 = "mamba2"  # Mamba-2
GATED_DELTANET = "gated_deltanet"  # Gated DeltaNet (Qwen3-Next, Qwen3.5 `linear_attention`)
KDA = "kda"  # Kimi Delta Attention (Kimi Linear `kda_layers`)
LIGHTNING = "lightning"  # lightning / linear attention (MiniMax-01/M1)
SHORT_CONV = "conv"  # gated short convolution (LFM2)
NO_MIXER = "mlp"  # a block with an FFN only (Nemotron-H '-')
PARALLEL_HYBRID = "hybrid"  # attention and Mamba-2 side by side in one block (Falcon-H1)
LAYER_TYPES = (FULL, SLIDING, CHUNKED, MAMBA, MAMBA2, GATED_DELTANET, KDA, LIGHTNING, SHORT_CONV, NO_MIXER, PARALLEL_HYBRID)
ATTENTION_TYPES = (FULL, SLIDING, CHUNKED, PARALLEL_HYBRID)  # layers that keep a KV cache
# The feed-forward part of a layer (ModelSpec.ffn_types)
DENSE, MOE, NO_FFN = "dense", "moe", "none"
FFN_TYPES = (DENSE, MOE, NO_FFN)

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
    # Mixer per layer, one of LAYER_TYPES; empty means all full attention
    layer_types: tuple = ()
    sliding_window: int = 0
    attention_chunk: int = 0  # tokens per chunk of CHUNKED layers (Llama 4 attention_chunk_size)
    rotary_dim: int = 0  # channels of a head that RoPE rotates (partial_rotary_factor, rotary_dim); 0 = the whole head
    # FFN per layer, one of FFN_TYPES; empty means MoE from first_dense_layers on (MoE models), else dense
    ffn_types: tuple = ()
    attn_output_gate: bool = False  # the query projection also yields a sigmoid output gate (Qwen3-Next, Qwen3.5)
    # DeepSeek sparse attention (V3.2): the lightning indexer
    index_n_heads: int = 0
    index_head_dim: int = 0  # > 0 turns the indexer (and its key cache) on
    # Mamba / Mamba-2 layers (MAMBA, MAMBA2, PARALLEL_HYBRID)
    ssm_d_inner: int = 0  # SSM channels (expand × hidden, or heads × head dim)
    ssm_d_state: int = 0
    ssm_d_conv: int = 0  # convolution kernel
    ssm_n_groups: int = 0  # Mamba-2 groups of B and C
    ssm_num_heads: int = 0  # Mamba-2 heads
    ssm_dt_rank: int = 0  # Mamba-1 Δ projection rank
    ssm_conv_bias: bool = True
    ssm_proj_bias: bool = False  # in/out projection biases
    ssm_inner_norms: bool = False  # Jamba: RMS norms on Δ, B and C
    ssm_gated_norm: bool = True  # Mamba-2: gated RMS norm over d_inner before the out projection
    # Gated DeltaNet layers
    linear_num_key_heads: int = 0
    linear_num_value_heads: int = 0
    linear_key_head_dim: int = 0
    linear_value_head_dim: int = 0
    linear_conv_kernel: int = 0
    # Kimi Delta Attention layers (Kimi Linear linear_attn_config: num_heads, head_dim, short_conv_kernel_size)
    kda_num_heads: int = 0
    kda_head_dim: int = 0
    kda_conv_kernel: int = 0
    # Short-convolution layers (LFM2)
    conv_l_cache: int = 0
    ssm_dtype: str = ""  # dtype the checkpoint asks for the recurrent state (mamba_ssm_dtype), "" = the model's
    # What the checkpoint ships besides the language model (pycore.parts: vision/audio towers, MTP layers)
    parts: tuple = ()
    # Modules the checkpoint's quantization_config keeps unquantized (its ignore / modules_to_not_convert /
    # exclude_modules entries, pycore.importers.quant_config); formats that quantize linears honour them
    quant_ignore: tuple = ()
    # Gemma 3n (transformers models/gemma3n/modeling_gemma3n.py): per-layer embeddings (PLE), AltUp, LAuReL and
    # KV sharing: the last kv_shared_layers layers reuse the KV of earlier layers and cache nothing themselves
    kv_shared_layers: int = 0
    per_layer_input_size: int = 0  # hidden_size_per_layer_input
    per_layer_vocab: int = 0  # vocab_size_per_layer_input
    altup_inputs: int = 0  # altup_num_inputs
    laurel_rank: int = 0
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
        if self.num_layers > MAX_LAYERS:
            raise InputError("num_hidden_layers", f"{self.num_layers} layers: more than {MAX_LAYERS:,}, no model has that many")
        if self.layer_types:
            if len(self.layer_types) != self.num_layers:
                raise InputError("layer_types",
                                 f"{len(self.layer_types)} entries for {self.num_layers} layers")
            kinds = set(self.layer_types)
            if not kinds <= set(LAYER_TYPES):
                raise InputError("layer_types", "each entry must be one of " + ", ".join(LAYER_TYPES))
            if SLIDING in kinds:
                _positive("sliding_window", self.sliding_window)
            if CHUNKED in kinds:
                _positive("attention_chunk_size", self.attention_chunk)
            if kinds & {MAMBA, MAMBA2, PARALLEL_HYBRID}:
                for name in ("ssm_d_inner", "ssm_d_state", "ssm_d_conv"):
                    _positive(name, getattr(self, name))
            if MAMBA in kinds:
                _positive("ssm_dt_rank", self.ssm_dt_rank)
            if kinds & {MAMBA2, PARALLEL_HYBRID}:
                _positive("ssm_n_groups", self.ssm_n_groups)
                _positive("ssm_num_heads", self.ssm_num_heads)
            if GATED_DELTANET in kinds:
                for name in ("linear_num_key_heads", "linear_num_value_heads", "linear_key_head_dim",
                             "linear_value_head_dim", "linear_conv_kernel"):
                    _positive(name, getattr(self, name))
            if SHORT_CONV in kinds:
                _positive("conv_L_cache", self.conv_l_cache)
            if KDA in kinds:
                for name in ("kda_num_heads", "kda_head_dim", "kda_conv_kernel"):
                    _positive(name, getattr(self, name))
        if self.ffn_types:
            if len(self.ffn_types) != self.num_layers:
                raise InputError("ffn_types", f"{len(self.ffn_types)} entries for {self.num_layers} layers")
            if not set(self.ffn_types) <= set(FFN_TYPES):
                raise InputError("ffn_types", "each entry must be one of " + ", ".join(FFN_TYPES))
            if MOE in self.ffn_types and not self.num_experts:
                raise InputError("num_experts", "MoE layers need experts")
            dense = DENSE in self.ffn_types
        else:
            dense = bool(self.first_dense_layers + (0 if self.num_experts else self.num_layers))
        if self.intermediate_size == 0 and dense:
            raise InputError("intermediate_size", "dense FFN layers need an intermediate size")

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 0

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def rope_dim(self) -> int:
        """Channels per head that rotary position embedding rotates: MLA's qk_rope_head_dim, the config's partial
        share (rotary_dim), else the whole head; 0 for learned absolute positions (no RoPE)."""
        if self.learned_positions:
            return 0
        if self.is_mla:
            return self.qk_rope_head_dim
        return self.rotary_dim or self.head_dim

    @property
    def gqa_ratio(self) -> int:
        """Query heads per KV head (llama.cpp's n_gqa)."""
        return self.num_heads // self.num_kv_heads

    def layer_type(self, i: int) -> str:
        return self.layer_types[i] if self.layer_types else FULL

    def ffn_type(self, i: int) -> str:
        if self.ffn_types:
            return self.ffn_types[i]
        return MOE if self.is_moe and i >= self.first_dense_layers else DENSE

    def is_moe_layer(self, i: int) -> bool:
        return self.ffn_type(i) == MOE

    @property
    def has_state(self) -> bool:
        """Some layers keep a fixed recurrent or conv state per sequence (a hybrid or recurrent model)."""
        return any(t not in (FULL, SLIDING, CHUNKED, NO_MIXER) for t in self.layer_types)


_COMPARED = tuple(f for f in fields(ModelSpec) if f.compare)


MAX_LAYERS = 1024  # no published model has more than a few hundred layers; checked before any per-layer work


def _positive(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InputError(name, f"must be a positive whole number, got {value!r}")


def beyond_context(spec: ModelSpec, tokens: int) -> str:
    """An empty string when `tokens` fit the model's context window (spec.max_context: the config's
    max_position_embeddings or the model's known maximum), else one sentence saying how far beyond it they are.
    The one check behind the estimate's warning, the speed caveat for a depth and the worked examples' flag."""
    if tokens <= spec.max_context:
        return ""
    ratio = tokens / spec.max_context
    times = f"{ratio:,.0f}" if ratio >= 10 else f"{ratio:.1f}"
    return f"{spec.name}'s context window is {spec.max_context:,} tokens: {tokens:,} is {times}× that"


# ---------------------------------------------------------------- weight tensors

# GGUF names that differ by architecture (gguf-py/gguf/constants.py MODEL_TENSORS): the pre-FFN norm of the
# Gated DeltaNet families is "post_attention_norm", LFM2's final norm "token_embd_norm".
# Nemotron-H's blocks hold one norm each, the mixer's or the FFN's, which llama.cpp calls attn_norm in every
# block (src/models/nemotron-h.cpp @0c1e5709: "all blocks use the attn norm").
_FFN_NORM = {"qwen3next": "post_attention_norm", "qwen35": "post_attention_norm", "qwen35moe": "post_attention_norm",
             "nemotron_h": "attn_norm", "nemotron_h_moe": "attn_norm"}
_FINAL_NORM = {"lfm2": "token_embd_norm"}


def _builders(spec: ModelSpec, out: list):
    """add, norm and linear: each appends the Tensors of one weight (GGUF name and ggml shape) to `out`."""
    def add(role, layer, ne, kind=MATRIX, suffix="weight"):
        prefix = f"blk.{layer}." if layer >= 0 else ""
        name = f"{prefix}{role}.{suffix}" if suffix else prefix + role  # ssm_a, ssm_d: no suffix in GGUF
        out.append(Tensor(name, role, layer, tuple(ne), kind, tp_layout(role, suffix)))

    def norm(role, layer, width):
        add(role, layer, (width,), SMALL)
        if spec.norm_bias:
            add(role, layer, (width,), SMALL, "bias")

    def linear(role, layer, n_in, n_out, bias=False):
        add(role, layer, (n_in, n_out), MATRIX)
        if bias:
            add(role, layer, (n_out,), SMALL, "bias")

    return add, norm, linear


def _head_tensors(spec, add):
    """The tensors before the blocks: the token embedding and learned positions."""
    add("token_embd", -1, (spec.hidden_size, spec.vocab_size))
    if spec.learned_positions:
        add("position_embd", -1, (spec.hidden_size, spec.learned_positions), SMALL)


def _block_tensors(spec, i, add, norm, linear):
    """The tensors of block i. They depend on i only through its name and the block's kind
    (_block_kind): blocks of one kind have the same roles and shapes."""
    H = spec.hidden_size
    mixer, ffn = spec.layer_type(i), spec.ffn_type(i)
    if mixer != NO_MIXER or ffn == NO_FFN or spec.norms_per_layer == 1:
        norm("attn_norm", i, H)
    if mixer in ATTENTION_TYPES:
        _attention_tensors(spec, i, add, norm, linear)
    if mixer in (MAMBA, MAMBA2, PARALLEL_HYBRID):
        _mamba_tensors(spec, i, mixer == MAMBA, add, norm, linear)
    elif mixer == GATED_DELTANET:
        _gated_deltanet_tensors(spec, i, add, norm, linear)
    elif mixer == SHORT_CONV:
        _short_conv_tensors(spec, i, add, linear)
    elif mixer == KDA:
        _kda_tensors(spec, i, add, linear)
    elif mixer == LIGHTNING:
        _lightning_tensors(spec, i, add, norm, linear)
    if spec.norms_per_layer == 4:  # Gemma 2/3: post-attention, pre-FFN and post-FFN norms
        norm("post_attention_norm", i, H)
        norm("ffn_norm", i, H)
        norm("post_ffw_norm", i, H)
    elif spec.norms_per_layer == 2 and ffn != NO_FFN:
        norm(_FFN_NORM.get(spec.arch, "ffn_norm"), i, H)
    if ffn == MOE:
        _moe_tensors(spec, i, add, linear)
    elif ffn == DENSE:
        _mlp_tensors(spec, i, spec.intermediate_size, "", linear)


def _block_kind(spec, i) -> tuple:
    """What decides block i's tensors besides its index: its mixer and its feed-forward."""
    return spec.layer_type(i), spec.ffn_type(i)


def _tail_tensors(spec, add, norm):
    """The tensors after the blocks (and after Gemma 3n's per-layer extras): the final norm and the head."""
    norm(_FINAL_NORM.get(spec.arch, "output_norm"), -1, spec.hidden_size)
    if not spec.tie_embeddings:
        add("output", -1, (spec.hidden_size, spec.vocab_size))


@lru_cache(maxsize=256)
def weight_tensors(spec: ModelSpec) -> tuple:
    """All weight tensors of the model, in GGUF names and ggml shapes, ordered by block."""
    out = []
    add, norm, linear = _builders(spec, out)
    _head_tensors(spec, add)
    for i in range(spec.num_layers):
        _block_tensors(spec, i, add, norm, linear)
    if spec.per_layer_input_size:
        _gemma3n_tensors(spec, add, norm, linear)
        for i in range(spec.num_layers):
            _gemma3n_layer_tensors(spec, i, add, norm, linear)
    _tail_tensors(spec, add, norm)
    return tuple(out)


@lru_cache(maxsize=256)
def tensor_runs(spec: ModelSpec) -> tuple:
    """weight_tensors(spec) grouped, built in time proportional to the kinds of block rather than the tensors:
    (layer, tensors) runs in file order. A run of layer −1 holds tensors outside the blocks; a run of
    layer i ≥ 0 holds block i's tensors (or its Gemma 3n extras), as one tuple shared by every block of
    the same kind, named after the first of them (expand_runs renames them). Expanded, it is
    weight_tensors(spec), tensor for tensor (tests/test_fast_paths.py)."""
    runs = []

    def globals_(build):
        out = []
        build(*_builders(spec, out))
        if out:
            runs.append((-1, tuple(out)))

    globals_(lambda add, norm, linear: _head_tensors(spec, add))
    kinds = {}
    for i in range(spec.num_layers):
        key = _block_kind(spec, i)
        if key not in kinds:
            out = []
            _block_tensors(spec, i, *_builders(spec, out))
            kinds[key] = tuple(out)
        runs.append((i, kinds[key]))
    if spec.per_layer_input_size:
        globals_(lambda add, norm, linear: _gemma3n_tensors(spec, add, norm, linear))
        out = []
        _gemma3n_layer_tensors(spec, 0, *_builders(spec, out))
        extras = tuple(out)
        runs += [(i, extras) for i in range(spec.num_layers)]
    globals_(lambda add, norm, linear: _tail_tensors(spec, add, norm))
    return tuple(runs)


def layer_name(t: Tensor, layer: int) -> str:
    """The name block tensor `t` has in block `layer` ("blk.3.attn_v.weight" → "blk.7.attn_v.weight")."""
    if t.layer == layer:
        return t.name
    return f"blk.{layer}.{t.name[len(f'blk.{t.layer}.'):]}"


def at_layer(t: Tensor, layer: int) -> Tensor:
    """Block `layer`'s copy of block tensor `t` (the same role, shape and layout, renamed)."""
    if t.layer == layer:
        return t
    return Tensor(layer_name(t, layer), t.role, layer, t.ne, t.kind, t.tp)


def expand_runs(runs) -> tuple:
    """The flat tuple of items a runs tuple stands for: Tensors, or (Tensor, anything) pairs."""
    out = []
    for layer, items in runs:
        if layer < 0:
            out += items
        else:
            out += [(at_layer(x[0], layer), *x[1:]) if isinstance(x, tuple) else at_layer(x, layer) for x in items]
    return tuple(out)


def _gemma3n_tensors(spec, add, norm, linear):
    """Gemma 3n's additions outside the blocks (modeling_gemma3n.py Gemma3nTextModel): the per-layer
    embedding table (vocab_size_per_layer_input × layers·hidden_size_per_layer_input) with its projection
    from the hidden state and norm; altup_num_inputs − 1 AltUp projections in and out. Per layer, after
    all blocks: _gemma3n_layer_tensors."""
    H, P, L, n = spec.hidden_size, spec.per_layer_input_size, spec.num_layers, spec.altup_inputs
    add("per_layer_token_embd", -1, (L * P, spec.per_layer_vocab))
    linear("per_layer_model_proj", -1, H, L * P)
    norm("per_layer_proj_norm", -1, P)
    for k in range(max(n - 1, 0)):
        linear(f"altup_proj.{k}", -1, H, H)
        linear(f"altup_unembd_proj.{k}", -1, H, H)


def _gemma3n_layer_tensors(spec, i, add, norm, linear):
    """Gemma 3n per layer (Gemma3nTextDecoderLayer): the AltUp coefficients, router and norms, the LAuReL
    low-rank pair and norm, and the per-layer input gate, projection and norm."""
    H, P, n = spec.hidden_size, spec.per_layer_input_size, spec.altup_inputs
    if n:
        add("altup_correct_scale", i, (H,), SMALL)
        add("altup_correct_coef", i, (n, n), SMALL)
        add("altup_predict_coef", i, (n, n * n), SMALL)
        add("altup_router", i, (H, n), SMALL)
        norm("altup_router_norm", i, H)
    if spec.laurel_rank:
        linear("laurel_l", i, H, spec.laurel_rank)
        linear("laurel_r", i, spec.laurel_rank, H)
        norm("laurel_post_norm", i, H)
    linear("inp_gate", i, H, P)
    linear("proj", i, P, H)
    norm("post_norm", i, H)


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
        if spec.index_head_dim:
            _indexer_tensors(spec, i, add, linear)
        return
    q_width = spec.num_heads * spec.head_dim
    kv_width = spec.num_kv_heads * spec.head_dim
    # A gated attention's query projection also yields the sigmoid output gate: twice as wide
    q_out = 2 * q_width if spec.attn_output_gate else q_width
    if spec.fused_qkv:
        linear("attn_qkv", i, H, q_out + 2 * kv_width, bias=spec.qkv_bias)
    else:
        linear("attn_q", i, H, q_out, bias=spec.qkv_bias)
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


def _indexer_tensors(spec, i, add, linear):
    """DeepSeek-V3.2's lightning indexer (transformers/vLLM Indexer: wq_b from the query latent, wk, a
    LayerNorm on the key, weights_proj giving each indexer head's weight), GGUF names from llama.cpp."""
    H, n, d = spec.hidden_size, spec.index_n_heads, spec.index_head_dim
    linear("indexer.attn_q_b", i, spec.q_lora_rank or H, n * d)
    linear("indexer.attn_k", i, H, d)
    add("indexer.k_norm", i, (d,), SMALL)
    add("indexer.k_norm", i, (d,), SMALL, "bias")
    linear("indexer.proj", i, H, n)


def _mamba_tensors(spec, i, mamba1, add, norm, linear):
    """A Mamba (mamba1) or Mamba-2 mixer, in llama.cpp's GGUF names and shapes (src/llama-model.cpp
    load_tensors, LLM_ARCH_MAMBA / MAMBA2 / JAMBA / FALCON_H1 / NEMOTRON_H / GRANITE_HYBRID)."""
    H, D, N, K = spec.hidden_size, spec.ssm_d_inner, spec.ssm_d_state, spec.ssm_d_conv
    bias = spec.ssm_proj_bias
    if mamba1:
        R = spec.ssm_dt_rank
        linear("ssm_in", i, H, 2 * D, bias=bias)  # x and the gate z
        add("ssm_conv1d", i, (K, D))
        if spec.ssm_conv_bias:
            add("ssm_conv1d", i, (D,), SMALL, "bias")
        linear("ssm_x", i, D, R + 2 * N)  # Δ, B and C from x
        linear("ssm_dt", i, R, D, bias=True)
        if spec.ssm_inner_norms:  # Jamba
            add("ssm_dt_norm", i, (R,), SMALL)
            add("ssm_b_norm", i, (N,), SMALL)
            add("ssm_c_norm", i, (N,), SMALL)
        add("ssm_a", i, (N, D), SMALL, "")  # A_log and D: gguf-py SSM_A "blk.{bid}.ssm_a"
        add("ssm_d", i, (D,), SMALL, "")
    else:
        G, heads = spec.ssm_n_groups, spec.ssm_num_heads
        conv = D + 2 * G * N
        linear("ssm_in", i, H, 2 * D + 2 * G * N + heads, bias=bias)  # z, x, B, C and Δ per head
        add("ssm_conv1d", i, (K, conv))
        if spec.ssm_conv_bias:
            add("ssm_conv1d", i, (conv,), SMALL, "bias")
        add("ssm_dt", i, (heads,), SMALL, "bias")
        # one A and one D per head, stored as [1, heads] (src/models/mamba2.cpp, nemotron-h.cpp,
        # granite-hybrid.cpp, falcon-h1.cpp @0c1e5709: create_tensor(SSM_A, {1, n_head}))
        add("ssm_a", i, (1, heads), SMALL, "")
        add("ssm_d", i, (1, heads), SMALL, "")
        if spec.ssm_gated_norm:  # one norm per group: [d_inner / n_group, n_group] (src/models/mamba2.cpp)
            add("ssm_norm", i, (D // G, G) if G > 1 else (D,), SMALL)
    linear("ssm_out", i, D, H, bias=bias)


def _gated_deltanet_tensors(spec, i, add, norm, linear):
    """A Gated DeltaNet mixer (transformers Qwen3NextGatedDeltaNet: in_proj_qkvz, in_proj_ba, conv1d
    without bias, dt_bias, A_log, a gated RMS norm over one value head, out_proj), in llama.cpp's
    GGUF names and shapes (load_tensors for LLM_ARCH_QWEN3NEXT / QWEN35: attn_qkv, attn_gate,
    ssm_conv1d, ssm_dt, ssm_a, ssm_ba, ssm_norm, ssm_out)."""
    H = spec.hidden_size
    key = spec.linear_num_key_heads * spec.linear_key_head_dim
    value = spec.linear_num_value_heads * spec.linear_value_head_dim
    nv = spec.linear_num_value_heads
    linear("attn_qkv", i, H, 2 * key + value)
    linear("attn_gate", i, H, value)  # z, the output gate
    add("ssm_conv1d", i, (spec.linear_conv_kernel, 2 * key + value))
    add("ssm_dt", i, (nv,), SMALL, "bias")
    add("ssm_a", i, (nv,), SMALL, "")
    if spec.arch == "qwen3next":
        linear("ssm_ba", i, H, 2 * nv)  # β and α per value head, one projection
    else:  # Qwen3.5: two projections (ssm_beta, ssm_alpha)
        linear("ssm_beta", i, H, nv)
        linear("ssm_alpha", i, H, nv)
    add("ssm_norm", i, (spec.linear_value_head_dim,), SMALL)
    linear("ssm_out", i, value, H)


def _short_conv_tensors(spec, i, add, linear):
    """LFM2's gated short convolution (transformers Lfm2ShortConv: in_proj to B, C and x, a depthwise
    conv of L_cache taps without bias, out_proj), in llama.cpp's GGUF names (shortconv.*)."""
    H = spec.hidden_size
    linear("shortconv.in_proj", i, H, 3 * H)
    add("shortconv.conv", i, (spec.conv_l_cache, H))
    linear("shortconv.out_proj", i, H, H)


def _kda_tensors(spec, i, add, linear):
    """A Kimi Delta Attention mixer (vLLM vllm/model_executor/layers/kda.py @01a7e5d9 KimiDeltaAttention: q/k/v
    projections, a short conv per projection without bias, the low-rank decay gate f_a → f_b with dt_bias, the
    β projection (one per head), A_log per head, the low-rank output gate g_a → g_b, a gated RMS norm over one
    head and o_proj), in llama.cpp's GGUF names (attn_q/k/v, ssm_conv1d_q/k/v, ssm_f_a/f_b, ssm_beta, ssm_a,
    ssm_dt.bias, ssm_g_a/g_b, ssm_norm, attn_output)."""
    H, n, d, K = spec.hidden_size, spec.kda_num_heads, spec.kda_head_dim, spec.kda_conv_kernel
    width = n * d
    for p in ("q", "k", "v"):
        linear(f"attn_{p}", i, H, width)
    for p in ("q", "k", "v"):
        add(f"ssm_conv1d_{p}", i, (K, width))
    linear("ssm_f_a", i, H, d)
    linear("ssm_f_b", i, d, width)
    add("ssm_dt", i, (width,), SMALL, "bias")
    linear("ssm_beta", i, H, n)
    add("ssm_a", i, (n,), SMALL, "")
    linear("ssm_g_a", i, H, d)
    linear("ssm_g_b", i, d, width)
    add("ssm_norm", i, (d,), SMALL)
    linear("attn_output", i, width, H)


def _lightning_tensors(spec, i, add, norm, linear):
    """MiniMax lightning attention (vLLM MiniMaxText01LinearAttention: qkv_proj, output_gate, a norm
    over the heads, out_proj)."""
    H, width = spec.hidden_size, spec.num_heads * spec.head_dim
    linear("attn_qkv", i, H, 3 * width)
    linear("attn_gate", i, H, width)
    norm("attn_norm_2", i, width)
    linear("attn_output", i, width, H)


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


def _counts(tensors) -> tuple:
    """(elements, of which routed experts (matrices and their biases), of which token/position embeddings)."""
    total = expert = embedding = 0
    for t in tensors:
        n = t.numel
        total += n
        if t.role in EXPERT_ROLES:
            expert += n
        if t.role in ("token_embd", "position_embd"):
            embedding += n
    return total, expert, embedding


@lru_cache(maxsize=256)
def parameter_count(spec: ModelSpec) -> ParameterCount:
    """Parameters of the model's tensors (weight_tensors, summed by kind of block: tensor_runs) and parts."""
    total = expert = embedding = 0
    memo = {}
    for _, tensors in tensor_runs(spec):
        c = memo.get(id(tensors))
        if c is None:
            c = memo[id(tensors)] = _counts(tensors)
        total, expert, embedding = total + c[0], expert + c[1], embedding + c[2]
    active = total - expert
    if spec.is_moe:
        active += expert * spec.experts_per_token // spec.num_experts
    parts = ()
    if spec.parts:
        from .parts import part_sizes  # parts build on this module
        parts = part_sizes(spec)
    return ParameterCount(total + sum(n for _, n in parts), active, embedding, (("language", total),) + parts)


# ---------------------------------------------------------------- attention layers (KV cache)

MLA_LATENT, MLA_EXPANDED = "latent", "expanded"  # how an engine caches MLA layers (Engine.mla_cache)


def _kinds_of_type(spec: ModelSpec, mla: str = MLA_LATENT) -> dict:
    """layer type -> the memory kinds (attention/attention.py specs) one layer of that type keeps.
    `mla`: MLA_LATENT caches the compressed latent (vLLM, llama.cpp), MLA_EXPANDED the per-head K and V
    that kv_b_proj expands it into (transformers)."""
    if spec.is_mla and mla == MLA_EXPANDED:
        full = (ExpandedLatentAttention(spec.num_heads, spec.qk_nope_head_dim + spec.qk_rope_head_dim,
                                        spec.v_head_dim, spec.index_head_dim),)
    elif spec.is_mla:
        latent = (SparseLatentAttention(spec.kv_lora_rank, spec.qk_rope_head_dim, spec.index_head_dim)
                  if spec.index_head_dim else LatentAttention(spec.kv_lora_rank, spec.qk_rope_head_dim))
        full = (latent,)
    else:
        full = (FullAttention(spec.num_kv_heads, spec.head_dim, spec.head_dim),)
    out = {FULL: full, NO_MIXER: ()}
    kinds = set(spec.layer_types)
    if SLIDING in kinds:
        out[SLIDING] = (SlidingWindowAttention(spec.num_kv_heads, spec.head_dim, spec.head_dim, spec.sliding_window),)
    if CHUNKED in kinds:
        out[CHUNKED] = (ChunkedLocalAttention(spec.num_kv_heads, spec.head_dim, spec.head_dim, spec.attention_chunk),)
    if MAMBA in kinds:
        out[MAMBA] = (Mamba1State(spec.ssm_d_inner, spec.ssm_d_state, spec.ssm_d_conv),)
    if kinds & {MAMBA2, PARALLEL_HYBRID}:
        out[MAMBA2] = (Mamba2State(spec.ssm_d_inner, spec.ssm_d_state, spec.ssm_d_conv, spec.ssm_n_groups),)
        out[PARALLEL_HYBRID] = full + out[MAMBA2]
    if GATED_DELTANET in kinds:
        out[GATED_DELTANET] = (GatedDeltaNetState(spec.linear_num_key_heads, spec.linear_num_value_heads,
                                                  spec.linear_key_head_dim, spec.linear_value_head_dim,
                                                  spec.linear_conv_kernel),)
    if KDA in kinds:
        out[KDA] = (KimiDeltaState(spec.kda_num_heads, spec.kda_head_dim, spec.kda_conv_kernel),)
    if LIGHTNING in kinds:
        out[LIGHTNING] = (LightningState(spec.num_heads, spec.head_dim),)
    if SHORT_CONV in kinds:
        out[SHORT_CONV] = (ShortConvState(spec.hidden_size, spec.conv_l_cache),)
    return out


@lru_cache(maxsize=256)
def layer_kinds(spec: ModelSpec, mla: str = MLA_LATENT) -> tuple:
    """Per layer, the tuple of memory kinds it keeps: one attention spec (KV cache), one state spec
    (recurrent/conv state), both (Falcon-H1's parallel hybrid blocks) or none (an FFN-only block).
    The specs are shared between layers of one type, so grouping them costs one entry per kind."""
    by_type = _kinds_of_type(spec, mla)
    if not spec.layer_types:
        kinds = (by_type[FULL],) * spec.num_layers
    else:
        kinds = tuple(by_type[t] for t in spec.layer_types)
    if spec.kv_shared_layers:  # Gemma 3n: these layers read the KV of an earlier layer of their type
        kinds = kinds[:spec.num_layers - spec.kv_shared_layers] + ((),) * spec.kv_shared_layers
    return kinds


@lru_cache(maxsize=256)
def attention_layers(spec: ModelSpec, mla: str = MLA_LATENT) -> tuple:
    """One attention spec per attention layer: what that layer keeps in the KV cache (recurrent and
    convolution layers keep none, and are left out)."""
    return tuple(k for kinds in layer_kinds(spec, mla) for k in kinds if k.grows)


@lru_cache(maxsize=256)
def state_layers(spec: ModelSpec) -> tuple:
    """One state spec per recurrent or convolution layer: what it keeps per sequence."""
    return tuple(k for kinds in layer_kinds(spec) for k in kinds if not k.grows)


def group_layers(layers) -> tuple:
    """(layer kind spec, number of layers) pairs, in first-seen order."""
    counts = {}
    for layer in layers:
        counts[layer] = counts.get(layer, 0) + 1
    return tuple(counts.items())


def _groups(spec, first, end, grows, mla=MLA_LATENT):
    layers = layer_kinds(spec, mla)
    chosen = layers[first:end if end >= 0 else len(layers)]
    return group_layers(k for kinds in chosen for k in kinds if k.grows == grows)


@lru_cache(maxsize=1024)
def attention_groups(spec: ModelSpec, first: int = 0, end: int = -1, mla: str = MLA_LATENT) -> tuple:
    """(attention spec, layers) over layers [first, end) of the model (end -1: to the last); `mla` as
    the engine caches MLA layers (Engine.mla_cache)."""
    return _groups(spec, first, end, True, mla)


@lru_cache(maxsize=1024)
def state_groups(spec: ModelSpec, first: int = 0, end: int = -1) -> tuple:
    """(state spec, layers) over layers [first, end) of the model (end -1: to the last)."""
    return _groups(spec, first, end, False)
