"""Attention layer kinds, each answering one question: how many bytes of KV cache for this many tokens.

Modelled on vLLM's vllm/v1/kv_cache_interface.py (one small spec per attention kind). A new kind
of attention is a new class here, not a new branch in the estimate.
"""
from dataclasses import dataclass


def _heads_per_rank(n_kv_heads: int, tp: int) -> int:
    # Tensor parallelism splits KV heads over ranks; with fewer heads than ranks each rank keeps
    # a replica of one head (vLLM: num_kv_heads // tp_size, at least 1).
    return -(-n_kv_heads // tp)


@dataclass(frozen=True)
class FullAttention:
    """Standard (MHA / GQA / MQA) attention: keys and values of every token of the context."""

    n_kv_heads: int
    k_head_dim: int
    v_head_dim: int
    kind = "full"

    def cached_tokens(self, context: int) -> int:
        return context

    def bytes_per_token(self, kv_format, tp: int = 1) -> int:
        heads = _heads_per_rank(self.n_kv_heads, tp)
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
class LatentAttention:
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
