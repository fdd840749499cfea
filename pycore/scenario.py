"""What the user asks: one `Scenario`, checked field by field before anything is computed.

Its fields are plain values so that a URL query string, CLI arguments or a form serialise to it
and back without loss.
"""
import math
from dataclasses import dataclass, fields, replace

from .errors import InputError
from .models import ModelSpec

MAX_BATCH = 1 << 20
MAX_CONTEXT = 1 << 27  # 134M tokens: beyond any model's window, still exact arithmetic
MAX_GPUS = 4096
MAX_OVERHEAD = 1 << 44  # 16 TiB
ACTIVATION_METHODS = ("peak", "seed", "none")
KV_METHODS = ("exact", "seed")


@dataclass(frozen=True)
class Scenario:
    model: object  # a preset id (str) or a ModelSpec read from a file
    weights: str = "BF16"
    kv: str = "f16"
    batch: int = 1
    context: int = 4096
    gpu: str = ""  # GPU catalog id; "" = no device
    gpus: int = 1
    parallel: str = "tensor"
    engine: str = "auto"
    activations: str = "peak"
    kv_method: str = "exact"
    overhead_bytes: object = None  # None: the engine's default
    gpu_memory_bytes: object = None  # a custom GPU capacity instead of a catalog GPU
    prefill_chunk: object = None  # None: the engine's default

    def __post_init__(self):
        whole = object.__setattr__  # normalise whole floats (4096.0) to int on a frozen instance
        whole(self, "batch", _count("batch", self.batch, MAX_BATCH))
        whole(self, "context", _count("context", self.context, MAX_CONTEXT))
        whole(self, "gpus", _count("gpus", self.gpus, MAX_GPUS))
        if self.prefill_chunk is not None:
            whole(self, "prefill_chunk", _count("prefill_chunk", self.prefill_chunk, MAX_CONTEXT))
        if self.overhead_bytes is not None:
            whole(self, "overhead_bytes", _count("overhead", self.overhead_bytes, MAX_OVERHEAD, allow_zero=True))
        if self.gpu_memory_bytes is not None:
            whole(self, "gpu_memory_bytes", _count("gpu_memory", self.gpu_memory_bytes, 1 << 50))
        if self.activations not in ACTIVATION_METHODS:
            raise InputError("activations", f"must be one of {', '.join(ACTIVATION_METHODS)}")
        if self.kv_method not in KV_METHODS:
            raise InputError("kv_method", f"must be one of {', '.join(KV_METHODS)}")
        if not isinstance(self.model, (str, ModelSpec)):
            raise InputError("model", "expected a preset id or a model read from a file")
        for name in ("weights", "kv", "gpu", "parallel", "engine"):
            if not isinstance(getattr(self, name), str):
                raise InputError(name, "expected a name")

    def with_(self, **changes) -> "Scenario":
        return replace(self, **changes)


def _count(field, value, limit, allow_zero=False):
    """A whole number in range. Floats that are whole (e.g. 4096.0) are accepted; NaN, inf,
    fractions, booleans and strings are not."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(field, f"expected a whole number, got {str(value)[:40]!r}")
    if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
        raise InputError(field, f"expected a whole number, got {value!r}")
    low = 0 if allow_zero else 1
    if value < low:
        raise InputError(field, f"must be at least {low}, got {int(value):,}")
    if value > limit:
        raise InputError(field, f"{int(value):,} is beyond the supported maximum of {limit:,}")
    return int(value)


SCENARIO_FIELDS = tuple(f.name for f in fields(Scenario))
DEFAULT_CONTEXT = 4096


def default_context(spec: ModelSpec) -> int:
    """A sensible starting context, never the model's maximum by default: 4096 tokens, the default of
    llama.cpp (PR #10136) and of Ollama below 24 GiB of VRAM (PR #10452, #13946), or the model's
    maximum when that is smaller."""
    return min(DEFAULT_CONTEXT, spec.max_context)
