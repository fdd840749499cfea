"""vLLM's KV block pool: the block size, the page one layer keeps per block, and how layers share blocks.

One small frozen class per way vLLM lays its pool out (after vllm/v1/core/kv_cache_utils.py@bbf906a8
get_kv_cache_config):

- `AttentionPool`: every layer caches tokens (full, sliding, MLA). Blocks of 16 tokens; one block holds
  that many tokens in every layer (_get_kv_cache_config_uniform_type: num_blocks = available // page //
  layers; layers of one type with different page sizes, as a draft model beside its target, add their
  pages: kv_cache_interface.py UniformTypeKVCacheSpecs.page_size_bytes is the sum).
- `HybridPool`: attention layers beside recurrent-state layers (Mamba, Gated DeltaNet, lightning).
  vLLM makes an attention page as large as one layer's state and pads the state page to it
  (vllm/model_executor/models/config.py@1936cf38 HybridAttentionMambaModelConfig.verify_and_update_config:
  without prefix caching, block_size = 16 × ⌈state page / (16 × attention bytes per token)⌉, MLA 64;
  "Padding mamba page size by X% …"). Layers are then cut into groups of the smallest type's layer
  count (kv_cache_utils.py _get_kv_cache_config_uniform_page_size: group_size = min over types, the last
  group of a type padded, "Add N padding layers, may waste at most X% KV cache memory"); the pool has
  group_size tensors of num_blocks pages, num_blocks = available // page // group_size, and a block goes
  to one group at a time. `GPU KV cache size` = num_blocks // groups × block_size tokens; a request
  holds ⌈tokens / block_size⌉ blocks in each attention group and 1 + num_speculative_tokens blocks in each
  state group (kv_cache_interface.py@bc8282e6 MambaSpec.max_memory_usage_bytes, mamba_cache_mode
  "none"); `Maximum concurrency` = num_blocks / blocks per request (get_max_concurrency_for_kv_cache_config).
"""
from dataclasses import dataclass

BLOCK = 16  # cache_config.block_size default; FlashAttention needs a multiple of 16
MLA_BLOCK_ALIGNMENT = 64  # config.py@1936cf38: MLA backends other than CUTLASS_MLA align blocks to 64


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _round_up(n: int, step: int) -> int:
    return cdiv(n, step) * step


def window_tokens(layer, context: int, batch: int, chunk: int, block: int) -> int:
    """Tokens of KV a layer holds for `batch` sequences of `context` tokens, in whole blocks. Sliding
    layers keep window − 1 tokens plus one block per sequence (a window need not start on a block
    boundary: SlidingWindowSpec.max_memory_usage_bytes) and the step's tokens once for all sequences."""
    full = batch * _round_up(context, block)
    window = getattr(layer, "window", 0)
    if not window or window >= context:
        return full
    return min(full, _round_up(batch * (window - 1 + block) + chunk, block))


@dataclass(frozen=True)
class AttentionPool:
    """Every layer caches tokens: one block = `block_size` tokens in every layer."""

    attention: tuple  # (attention layer spec, layers)
    bytes_per_token: tuple  # one rank's K + V bytes per token per layer, per entry of `attention`
    block_size: int = BLOCK
    state_blocks: int = 0
    hybrid = False

    @property
    def page(self) -> int:
        """Bytes of one block over all layers."""
        return self.block_size * max(sum(c * b for (_, c), b in zip(self.attention, self.bytes_per_token)), 1)

    def num_blocks(self, available: int) -> int:
        return max(available, 0) // self.page

    def tokens(self, blocks: int) -> int:
        return blocks * self.block_size

    def concurrency(self, blocks: int, context: int, chunk: int) -> float:
        return self.tokens(blocks) / _round_up(context, self.block_size) if context else 0.0

    def needed_one(self, context: int, chunk: int) -> int:
        return self.kv_bytes(1, context, chunk)

    def kv_bytes(self, batch: int, context: int, chunk: int) -> int:
        return sum(window_tokens(layer, context, batch, chunk, self.block_size) * count * b
                   for (layer, count), b in zip(self.attention, self.bytes_per_token))

    def state_bytes(self, batch: int) -> int:
        return 0

    def caches(self, batch: int, context: int, chunk: int) -> tuple:
        """(kind, tokens per layer, layers, bytes) per attention layer type; the bytes add up to kv_bytes."""
        out = []
        for (layer, count), b in zip(self.attention, self.bytes_per_token):
            tokens = window_tokens(layer, context, batch, chunk, self.block_size)
            out.append((layer.kind, tokens, count, tokens * count * b))
        return tuple(out)

    def log(self) -> tuple:
        return ()


@dataclass(frozen=True)
class HybridPool:
    """Attention and recurrent-state layers sharing one pool of equal pages (see the module docstring)."""

    attention: tuple  # (attention layer spec, layers)
    attention_token_bytes: int  # one rank's K + V bytes per token in one attention layer
    state_layers: int
    state_page_bytes: int  # one rank's conv + SSM state of one layer, before padding
    state_blocks: int  # blocks a request holds in each state group: 1 + num_speculative_tokens
    mla: bool = False
    hybrid = True

    @property
    def block_size(self) -> int:
        align = MLA_BLOCK_ALIGNMENT if self.mla else BLOCK
        return align * max(cdiv(self.state_page_bytes, align * max(self.attention_token_bytes, 1)), 1)

    @property
    def page(self) -> int:
        """One layer's page: block_size tokens of K and V, and the padded state of one sequence."""
        return self.block_size * self.attention_token_bytes

    @property
    def types(self) -> tuple:
        """(layer spec or None for the state layers, layers) per KV cache type."""
        return tuple(self.attention) + ((None, self.state_layers),)

    @property
    def group_size(self) -> int:
        return min(count for _, count in self.types)

    def groups_of(self, count: int) -> int:
        return cdiv(count, self.group_size)

    @property
    def groups(self) -> int:
        return sum(self.groups_of(count) for _, count in self.types)

    def _blocks(self, layer, context: int, chunk: int) -> int:
        if layer is None:
            return self.state_blocks
        return window_tokens(layer, context, 1, chunk, self.block_size) // self.block_size

    def num_blocks(self, available: int) -> int:
        return max(available, 0) // self.page // self.group_size

    def tokens(self, blocks: int) -> int:
        return blocks // self.groups * self.block_size

    def blocks_per_request(self, context: int, chunk: int) -> int:
        return sum(self.groups_of(count) * self._blocks(layer, context, chunk) for layer, count in self.types)

    def concurrency(self, blocks: int, context: int, chunk: int) -> float:
        return blocks / max(self.blocks_per_request(context, chunk), 1)

    def needed_one(self, context: int, chunk: int) -> int:
        """check_enough_kv_cache_memory: the sum over layers of each layer's pages for one request."""
        return sum(count * self._blocks(layer, context, chunk) * self.page for layer, count in self.types)

    def kv_bytes(self, batch: int, context: int, chunk: int) -> int:
        """Attention blocks `batch` requests take: each block holds a page in every tensor of the group."""
        return batch * sum(self.groups_of(count) * self.group_size * self._blocks(layer, context, chunk) * self.page
                           for layer, count in self.attention)

    def caches(self, batch: int, context: int, chunk: int) -> tuple:
        """(kind, tokens per layer, layers with the group's padding layers, bytes) per attention layer type;
        the bytes add up to kv_bytes (a page is block_size tokens × attention_token_bytes)."""
        out = []
        for layer, count in self.attention:
            tokens = batch * self._blocks(layer, context, chunk) * self.block_size
            layers = self.groups_of(count) * self.group_size
            out.append((layer.kind, tokens, layers, tokens * layers * self.attention_token_bytes))
        return tuple(out)

    def state_bytes(self, batch: int) -> int:
        """State blocks `batch` requests take, padded pages and padding layers included."""
        return batch * self.groups_of(self.state_layers) * self.group_size * self.state_blocks * self.page

    def padding(self) -> tuple:
        """(padding layers, layers) per type whose count is not a multiple of the group size."""
        return tuple((self.groups_of(c) * self.group_size - c, c) for _, c in self.types if c % self.group_size)

    def log(self) -> tuple:
        out = []
        if self.block_size != (MLA_BLOCK_ALIGNMENT if self.mla else BLOCK):
            out.append(f"Setting attention block size to {self.block_size} tokens to ensure that attention page "
                       "size is >= mamba page size.")
        if self.page != self.state_page_bytes:
            pct = 100 * (self.page - self.state_page_bytes) / self.state_page_bytes
            out.append(f"Padding mamba page size by {pct:.2f}% to ensure that mamba page size and attention page "
                       "size are exactly equal.")
        for pad, count in self.padding():
            out.append(f"Add {pad} padding layers, may waste at most {pad / count * 100:.2f}% KV cache memory")
        return tuple(out)


def make_pool(attention: tuple, states: tuple, kvf, tp: int, conv_b: int, ssm_b: int, spec_tokens: int, mla: bool):
    """The pool for one rank's layers: `attention` and `states` are (layer spec, layers) pairs. Equal layer
    specs are one KV cache type (vLLM's type_id), so a draft's layer of the target's kind joins its group."""
    merged = {}
    for layer, count in attention:
        merged[layer] = merged.get(layer, 0) + count
    attention = tuple(merged.items())
    per = tuple(layer.bytes_per_token(kvf, tp) for layer, _ in attention)
    n_state = sum(c for _, c in states)
    if not n_state or not attention:
        return AttentionPool(tuple(attention), per, BLOCK, 1 + spec_tokens if n_state else 0)
    page = max(layer.state_bytes(conv_b, ssm_b, tp) for layer, _ in states)
    return HybridPool(tuple(attention), max(per), n_state, page, 1 + spec_tokens, mla)
