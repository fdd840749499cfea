"""A model's weights by layer, as an engine that places layers on devices sees them.

GGUF engines (llama.cpp, Ollama) move whole layers between GPU and system RAM, and the experts of a
layer separately (--n-cpu-moe); the token embedding, the output head and its norm are placed on their
own. This module sums the stored bytes of each tensor (pycore.formats.weight_storage) into those parts.
"""
from dataclasses import dataclass
from functools import lru_cache

from ..formats import by_run, weight_storage
from ..models import EXPERT_ROLES


@dataclass(frozen=True)
class LayerWeights:
    """Stored bytes of a model's weights, grouped the way engines place them.

    layers: bytes of each repeating block (blk.i.*), experts included; experts: the routed-expert
    part of each block (ffn_*_exps); token_embd: the input embedding (and learned positions); output:
    the output head and final norm (the embedding again when tied: llama.cpp loads a copy for the
    output, src/llama-model.cpp TENSOR_DUPLICATED); largest: the largest single tensor."""

    layers: tuple
    experts: tuple
    token_embd: int
    output: int
    output_tied: bool
    largest: int

    @property
    def file_total(self) -> int:
        """What the file holds: a tied output head is not stored twice."""
        return sum(self.layers) + self.token_embd + self.output_own

    @property
    def output_own(self) -> int:
        """Output bytes stored in the file (the norm only, when the head is the tied embedding)."""
        return self.output - (self.token_embd if self.output_tied else 0)


def _sums(pairs) -> tuple:
    """(bytes, routed-expert bytes, largest tensor, token_embd bytes) of one run's (Tensor, TensorStorage) pairs."""
    size = experts = largest = embd = 0
    for t, s in pairs:
        size += s.bytes
        largest = max(largest, s.bytes)
        if t.role in EXPERT_ROLES:
            experts += s.bytes
        if t.role == "token_embd":
            embd += s.bytes
    return size, experts, largest, embd


@lru_cache(maxsize=512)
def layer_weights(spec, fmt) -> LayerWeights:
    """Sums per run of the storage (formats.weight_storage(...).runs): a block's tensors once per kind of block."""
    stored = weight_storage(spec, fmt)
    layers = [0] * spec.num_layers
    experts = [0] * spec.num_layers
    embd = out = largest = tied_embd = 0
    for (layer, pairs), (size, expert_size, big, embd_size) in zip(stored.runs, by_run(stored.runs, _sums)):
        largest = max(largest, big)
        tied_embd += embd_size
        if 0 <= layer < spec.num_layers:  # a block's run: every tensor in it is of that block
            layers[layer] += size
            experts[layer] += expert_size
            continue
        for t, s in pairs:
            if t.role in ("token_embd", "position_embd"):
                embd += s.bytes
            else:
                out += s.bytes
    tied = spec.tie_embeddings
    if tied:
        out += tied_embd
    return LayerWeights(tuple(layers), tuple(experts), embd, out, tied, largest)
