"""Layer kinds, each answering two questions: how many bytes grow with the tokens a sequence keeps
(the KV cache of attention layers), and how many bytes are fixed per sequence (the conv and
recurrent state of Mamba, Gated DeltaNet, Kimi Delta Attention, lightning attention and short-convolution layers).

Modelled on vLLM's vllm/v1/kv_cache_interface.py (one small frozen spec per kind: FullAttentionSpec,
SlidingWindowSpec, ChunkedLocalAttentionSpec, MLAAttentionSpec, MambaSpec) and on llama.cpp's memory
classes (llama-kv-cache for attention, llama-memory-recurrent for R (conv) and S (ssm) state,
llama-memory-hybrid holding one of each). A new kind is a new class here, not a new branch in the
estimate. Every kind has:

- ``grows``: True for kinds whose cache grows with the tokens kept;
- ``cached_tokens(context)`` and ``bytes_per_token(kv_format, tp)``: the KV cache (0 for state kinds);
- ``conv_values(tp)`` and ``ssm_values(tp)``: the state one sequence keeps in one layer, as counts of
  values (0 for attention kinds); ``state_bytes(conv_bytes, ssm_bytes, tp)`` turns them into bytes in
  the engine's state dtypes (llama.cpp: f32 for both; vLLM: the model dtype or mamba_ssm_dtype).
"""
from dataclasses import dataclass


def _per_rank(n: int, tp: int) -> int:
    # Tensor parallelism splits heads over ranks; with fewer heads than ranks each rank keeps
    # a replica of one head (vLLM: num_kv_heads // tp_size, at least 1).
    return -(-n // tp)


_heads_per_rank = _per_rank


class _Attention:
    """What every attention kind shares: it grows with tokens and keeps no fixed state."""

    grows = True

    def conv_values(self, tp: int = 1) -> int:
        return 0

    def ssm_values(self, tp: int = 1) -> int:
        return 0

    def state_bytes(self, conv_bytes: int, ssm_bytes: int, tp: int = 1) -> int:
        return 0


class _State:
    """What every recurrent kind shares: a fixed state per sequence, nothing that grows with tokens."""

    grows = False

    def cached_tokens(self, context: int) -> int:
        return 0

    def bytes_per_token(self, kv_format, tp: int = 1) -> int:
        return 0

    def conv_values(self, tp: int = 1) -> int:
        return 0

    def ssm_values(self, tp: int = 1) -> int:
        return 0

    def state_bytes(self, conv_bytes: int, ssm_bytes: int, tp: int = 1) -> int:
        """Bytes one sequence keeps in one layer of this kind: conv values × conv dtype bytes +
        recurrent (ssm) values × ssm dtype bytes (llama.cpp llama-memory-recurrent.cpp allocates
        r_l = n_embd_r() and s_l = n_embd_s() values per cell, one cell per sequence)."""
        return self.conv_values(tp) * conv_bytes + self.ssm_values(tp) * ssm_bytes


# ---------------------------------------------------------------- attention: grows with tokens

@dataclass(frozen=True)
class FullAttention(_Attention):
    """Standard (MHA / GQA / MQA) attention: keys and values of every token of the context."""

    n_kv_heads: int
    k_head_dim: int
    v_head_dim: int
    kind = "full"

    def cached_tokens(self, context: int) -> int:
        return context

    def bytes_per_token(self, kv_format, tp: int = 1) -> int:
        heads = _per_rank(self.n_kv_heads, tp)
        return kv_format.row_bytes(heads * self.k_head_dim) + kv_format.row_bytes(heads * self.v_head_dim)

    def describe(self) -> str:
        return (f"2 (K and V) × {self.n_kv_heads} KV heads × {self.k_head_dim} head dim"
                if self.k_head_dim == self.v_head_dim else
                f"{self.n_kv_heads} KV heads × ({self.k_head_dim} K + {self.v_head_dim} V) dims")


@dataclass(frozen=True)
class SlidingWindowAttention(FullAttention):
    """Local attention: a layer only ever looks back `window` tokens, so it caches at most that many.

    Engines keep a little slack on top (vLLM one extra block, llama.cpp one micro-batch); the cap
    here is the window itself, the figure the architecture fixes."""

    window: int = 0
    kind = "sliding"

    def cached_tokens(self, context: int) -> int:
        return min(context, self.window)

    def describe(self) -> str:
        return super().describe() + f", at most {self.window:,} tokens (sliding window)"


@dataclass(frozen=True)
class ChunkedLocalAttention(SlidingWindowAttention):
    """Chunked local attention (Llama 4 `attention_chunk_size`): a token attends only to the tokens of
    its own chunk, so a layer keeps at most one chunk (`window` = the chunk size). vLLM sizes it like a
    window (ChunkedLocalAttentionSpec: chunk + max_num_batched_tokens); llama.cpp keeps it in the SWA
    half of llama-kv-cache-iswa with LLAMA_SWA_TYPE_CHUNKED, n_swa = the chunk size."""

    kind = "chunked"

    def describe(self) -> str:
        return FullAttention.describe(self) + f", at most one {self.window:,}-token chunk (chunked local attention)"


@dataclass(frozen=True)
class LatentAttention(_Attention):
    """Multi-head latent attention (DeepSeek-V2/V3): one compressed latent of kv_lora_rank values
    plus the shared RoPE key of qk_rope_head_dim values per token, no separate V (hence no ×2).
    Every tensor-parallel rank needs the whole latent, so it is replicated, not split."""

    kv_lora_rank: int
    rope_dim: int
    kind = "latent"

    def cached_tokens(self, context: int) -> int:
        return context

    def bytes_per_token(self, kv_format, tp: int = 1) -> int:
        return kv_format.row_bytes(self.kv_lora_rank + self.rope_dim)

    def describe(self) -> str:
        return f"({self.kv_lora_rank} latent + {self.rope_dim} RoPE) values, no ×2 (MLA)"


@dataclass(frozen=True)
class ExpandedLatentAttention(FullAttention):
    """Multi-head latent attention as Hugging Face transformers runs it: kv_b_proj expands the latent
    into every head's key (qk_nope_head_dim + the shared qk_rope_head_dim, repeated per head) and value
    (v_head_dim) before the cache update, so the cache holds full per-head K and V, like MHA with
    num_attention_heads KV heads (transformers src/transformers/models/deepseek_v3/modeling_deepseek_v3.py
    @00b676f8 DeepseekV3Attention.forward: key_states = cat(k_pass, k_rot.expand(...)) of shape
    (batch, heads, seq, qk_nope + qk_rope), value_states (batch, heads, seq, v_head_dim), then
    past_key_value.update(key_states, value_states, ...); deepseek_v2/modeling_deepseek_v2.py @0233e509
    the same). vLLM and llama.cpp keep the latent (LatentAttention).

    DeepSeek sparse attention (DeepSeek-V3.2) caches the same expanded K and V ("Sparse-attention models
    cache the expanded K/V, not the compressed latents") plus the lightning indexer's key, index_head_dim
    values per token shared by all heads (deepseek_v32/modeling_deepseek_v32.py @01f8fa55
    DeepseekV32Indexer.forward: k of shape [B, S, index_head_dim], past_key_values.update_indexer): counted
    here in the cache format and whole on every tensor-parallel rank."""

    index_dim: int = 0
    kind = "expanded_latent"

    def bytes_per_token(self, kv_format, tp: int = 1) -> int:
        return super().bytes_per_token(kv_format, tp) + (kv_format.row_bytes(self.index_dim) if self.index_dim else 0)

    def describe(self) -> str:
        return (f"MLA expanded per head: {self.n_kv_heads} heads × ({self.k_head_dim} K + {self.v_head_dim} V) "
                f"dims (transformers caches kv_b_proj's output, not the latent)" +
                (f" + indexer key {self.index_dim} values" if self.index_dim else ""))


# The lightning indexer's key cache of DeepSeek sparse attention, as vLLM stores it: each token's
# index_head_dim-value key in FP8 (1 byte) plus one float32 scale per 128 values
# (vllm/model_executor/models/deepseek_v2.py, DeepseekV32IndexerCache: head_dim + head_dim //
# quant_block_size * 4 bytes, quant_block_size 128).
INDEXER_QUANT_BLOCK = 128


@dataclass(frozen=True)
class SparseLatentAttention(LatentAttention):
    """DeepSeek sparse attention (DeepSeek-V3.2, `index_topk`): the MLA latent of every token, plus the
    lightning indexer's key cache (one `index_head_dim` key per token, shared by the indexer heads),
    which picks the top-k tokens each query attends to. Both grow with the context; the indexer keys
    are FP8 with a float32 scale per block of 128 values, whatever the latent's format."""

    index_head_dim: int = 128
    kind = "sparse_latent"

    def indexer_bytes_per_token(self) -> int:
        return self.index_head_dim + -(-self.index_head_dim // INDEXER_QUANT_BLOCK) * 4

    def bytes_per_token(self, kv_format, tp: int = 1) -> int:
        return super().bytes_per_token(kv_format, tp) + self.indexer_bytes_per_token()

    def describe(self) -> str:
        return (super().describe() + f" + indexer key {self.index_head_dim} FP8 values and scales = "
                f"{self.indexer_bytes_per_token()} B (DeepSeek sparse attention)")


# ---------------------------------------------------------------- state: fixed per sequence

@dataclass(frozen=True)
class Mamba1State(_State):
    """A Mamba (selective SSM) layer: the last d_conv − 1 inputs of its causal convolution over the
    d_inner channels, and the d_inner × d_state SSM state (llama.cpp src/llama-hparams.cpp @8b1d44b9
    n_embd_r() = (ssm_d_conv − 1) × (ssm_d_inner + 2·ssm_n_group·ssm_d_state) with n_group 0,
    n_embd_s() = ssm_d_state × ssm_d_inner). Tensor parallelism splits the channels."""

    d_inner: int
    d_state: int
    d_conv: int
    kind = "mamba"

    def conv_values(self, tp: int = 1) -> int:
        return (self.d_conv - 1) * _per_rank(self.d_inner, tp)

    def ssm_values(self, tp: int = 1) -> int:
        return _per_rank(self.d_inner, tp) * self.d_state

    def describe(self) -> str:
        return (f"conv ({self.d_conv} − 1) × {self.d_inner:,} channels + SSM {self.d_inner:,} × "
                f"{self.d_state} state (Mamba)")


@dataclass(frozen=True)
class Mamba2State(_State):
    """A Mamba-2 layer: the convolution also runs over the B and C projections of its n_groups groups,
    so its state is (d_conv − 1) × (d_inner + 2 × n_groups × d_state) values; the SSM state is
    n_heads × head_dim × d_state = d_inner × d_state (llama.cpp src/llama-hparams.cpp @8b1d44b9
    n_embd_r()/n_embd_s(); vLLM vllm/model_executor/layers/mamba/mamba_utils.py
    MambaStateShapeCalculator.mamba2_state_shape). Under tensor parallelism the channels and the
    groups are split (groups replicated when fewer than ranks, as vLLM does)."""

    d_inner: int
    d_state: int
    d_conv: int
    n_groups: int
    kind = "mamba2"

    def conv_values(self, tp: int = 1) -> int:
        return (self.d_conv - 1) * (_per_rank(self.d_inner, tp) + 2 * _per_rank(self.n_groups, tp) * self.d_state)

    def ssm_values(self, tp: int = 1) -> int:
        return _per_rank(self.d_inner, tp) * self.d_state

    def describe(self) -> str:
        return (f"conv ({self.d_conv} − 1) × ({self.d_inner:,} + 2 × {self.n_groups} groups × {self.d_state}) + "
                f"SSM {self.d_inner:,} × {self.d_state} state (Mamba-2)")


@dataclass(frozen=True)
class GatedDeltaNetState(_State):
    """A Gated DeltaNet layer (Qwen3-Next, Qwen3.5/3.6; transformers' `linear_attention` layers): a causal
    convolution over q, k and v (2 × key heads × key dim + value heads × value dim channels, kernel
    linear_conv_kernel_dim) and one key dim × value dim matrix per value head. llama.cpp stores it as a
    Mamba-2 state (ssm_d_inner = value heads × value dim, ssm_n_group = key heads, ssm_d_state = key
    dim: src/llama-hparams.cpp @8b1d44b9 n_embd_r()/n_embd_s()); vLLM's
    MambaStateShapeCalculator.gated_delta_net_state_shape has the same shapes per rank."""

    n_k_heads: int
    n_v_heads: int
    k_head_dim: int
    v_head_dim: int
    conv_kernel: int
    kind = "gated_deltanet"

    def conv_values(self, tp: int = 1) -> int:
        channels = 2 * _per_rank(self.n_k_heads, tp) * self.k_head_dim + _per_rank(self.n_v_heads, tp) * self.v_head_dim
        return (self.conv_kernel - 1) * channels

    def ssm_values(self, tp: int = 1) -> int:
        return _per_rank(self.n_v_heads, tp) * self.k_head_dim * self.v_head_dim

    def describe(self) -> str:
        return (f"conv ({self.conv_kernel} − 1) × (2 × {self.n_k_heads} × {self.k_head_dim} + {self.n_v_heads} × "
                f"{self.v_head_dim}) + state {self.n_v_heads} heads × {self.k_head_dim} × {self.v_head_dim} (Gated DeltaNet)")


@dataclass(frozen=True)
class KimiDeltaState(_State):
    """A Kimi Delta Attention layer (Kimi Linear `kda_layers`): Gated DeltaNet with a per-channel decay gate.
    Queries, keys and values each have their own short causal convolution (q_conv1d, k_conv1d, v_conv1d over
    heads × head_dim channels, kernel short_conv_kernel_size), so the conv state is 3 × (kernel − 1) × heads ×
    head_dim values; the recurrent state is one head_dim × head_dim matrix per head.

    vLLM vllm/model_executor/layers/mamba/mamba_utils.py @02d71083 MambaStateShapeCalculator.kda_state_shape:
    conv (kernel − 1, (heads·dim + 2·heads·dim) / tp), recurrent (heads / tp, dim, dim); kda_state_dtype keeps
    the recurrent state in float32 whatever the model dtype. llama.cpp (PR #18755, src/models/kimi-linear.cpp
    causal_conv1d: n_embd_r_total = 3 × (d_conv − 1) × n_head × head_dim; n_embd_s = head_dim² × n_head)
    has the same sizes, in f32. Tensor parallelism splits the heads."""

    n_heads: int
    head_dim: int
    conv_kernel: int
    kind = "kda"

    def conv_values(self, tp: int = 1) -> int:
        return 3 * (self.conv_kernel - 1) * _per_rank(self.n_heads, tp) * self.head_dim

    def ssm_values(self, tp: int = 1) -> int:
        return _per_rank(self.n_heads, tp) * self.head_dim * self.head_dim

    def describe(self) -> str:
        return (f"conv 3 (q, k, v) × ({self.conv_kernel} − 1) × {self.n_heads} × {self.head_dim} + state "
                f"{self.n_heads} heads × {self.head_dim} × {self.head_dim} (Kimi Delta Attention)")


@dataclass(frozen=True)
class LightningState(_State):
    """Lightning (linear) attention (MiniMax-01/M1 `attn_type_list` 0 layers): no convolution, one
    head_dim × head_dim key-value state per head (vLLM vllm/model_executor/layers/mamba/linear_attn.py,
    MiniMaxText01LinearAttention state shape (num_heads, head_dim, head_dim))."""

    n_heads: int
    head_dim: int
    kind = "lightning"

    def ssm_values(self, tp: int = 1) -> int:
        return _per_rank(self.n_heads, tp) * self.head_dim * self.head_dim

    def describe(self) -> str:
        return f"state {self.n_heads} heads × {self.head_dim} × {self.head_dim} (lightning attention)"


@dataclass(frozen=True)
class ShortConvState(_State):
    """A gated short-convolution layer (LFM2 `conv` layers): the last L_cache − 1 inputs over the hidden
    channels, no SSM state (llama.cpp src/llama-hparams.cpp @8b1d44b9 n_embd_r() =
    n_embd × (n_shortconv_l_cache − 1); vLLM MambaStateShapeCalculator.short_conv_state_shape)."""

    hidden: int
    l_cache: int
    kind = "short_conv"

    def conv_values(self, tp: int = 1) -> int:
        return (self.l_cache - 1) * _per_rank(self.hidden, tp)

    def describe(self) -> str:
        return f"conv ({self.l_cache} − 1) × {self.hidden:,} channels (short convolution)"
