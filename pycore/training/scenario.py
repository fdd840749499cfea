"""What the user asks about training: one `TrainingScenario`, checked field by field before anything is
computed. Plain values, so a URL query, CLI arguments or a form serialise to it and back."""
import math
from dataclasses import dataclass, fields, replace

from ..errors import InputError
from ..models import ModelSpec
from ..scenario import MAX_BATCH, MAX_CONTEXT, MAX_GPUS, MAX_OVERHEAD, _count
from .precision import OPTIMIZERS, PRECISIONS

METHODS = ("full", "lora", "qlora")
CHECKPOINTING = ("none", "selective", "full")
FSDP_MODES = ("none", "full", "hybrid")
LORA_MODULES = ("q", "k", "v", "o", "gate", "up", "down")
DEFAULT_LORA_MODULES = ("q", "k", "v", "o")
MAX_RANK = 1 << 16


@dataclass(frozen=True)
class TrainingScenario:
    """What the user asks about training. Plain values, checked field by field."""

    model: object  # a preset id (str) or a ModelSpec read from a file
    method: str = "full"  # full | lora | qlora
    lora_rank: int = 8  # PEFT LoraConfig default r=8
    lora_alpha: object = 8  # PEFT default; scales the update (alpha / r), takes no memory
    lora_modules: object = DEFAULT_LORA_MODULES  # subset of q, k, v, o, gate, up, down (or "all")
    qlora_double_quant: bool = True
    precision: str = "mixed_bf16"  # fp32 | mixed_bf16 | mixed_fp16 | bf16
    optimizer: str = "adamw"  # adamw | adam8bit | sgd_momentum | adafactor | sgd
    micro_batch: int = 1  # sequences per GPU per step
    seq_len: int = 2048
    checkpointing: str = "none"  # none | selective | full
    flash_attention: bool = True  # fused attention (FlashAttention, or sdpa picking a fused kernel)
    sequence_parallel: bool = False  # Megatron sequence parallelism (with tp > 1)
    dropout: bool = False  # dropout layers on (GPT-3 style); modern fine-tuning configs set them to 0
    zero: int = 0  # DeepSpeed ZeRO stage 0..3
    fsdp: str = "none"  # none | full | hybrid (mapped to ZeRO-3)
    gpus: int = 1
    tp: int = 1  # tensor-parallel degree; data-parallel degree = gpus / tp
    gpus_per_node: int = 8  # FSDP hybrid shards within a node
    gpu: str = ""  # GPU catalog id; "" = no device
    gpu_memory_bytes: object = None  # a custom GPU capacity instead of a catalog GPU
    overhead_bytes: object = None  # per GPU; None: the PyTorch runtime default

    def __post_init__(self):
        put = object.__setattr__  # normalise on a frozen instance
        if not isinstance(self.model, (str, ModelSpec)):
            raise InputError("model", "expected a preset id or a model read from a file")
        put(self, "method", choice("method", self.method, METHODS))
        put(self, "precision", choice("precision", self.precision, tuple(PRECISIONS)))
        put(self, "optimizer", choice("optimizer", self.optimizer, tuple(OPTIMIZERS)))
        put(self, "checkpointing", choice("checkpointing", self.checkpointing, CHECKPOINTING))
        put(self, "fsdp", choice("fsdp", self.fsdp, FSDP_MODES))
        put(self, "lora_rank", _count("lora_rank", self.lora_rank, MAX_RANK))
        put(self, "lora_alpha", _positive_number("lora_alpha", self.lora_alpha))
        put(self, "lora_modules", _lora_modules(self.lora_modules))
        put(self, "micro_batch", _count("micro_batch", self.micro_batch, MAX_BATCH))
        put(self, "seq_len", _count("seq_len", self.seq_len, MAX_CONTEXT))
        put(self, "zero", _count("zero", self.zero, 3, allow_zero=True))
        put(self, "gpus", _count("gpus", self.gpus, MAX_GPUS))
        put(self, "tp", _count("tp", self.tp, MAX_GPUS))
        put(self, "gpus_per_node", _count("gpus_per_node", self.gpus_per_node, MAX_GPUS))
        for name in ("qlora_double_quant", "flash_attention", "sequence_parallel", "dropout"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(name, f"expected true or false, got {str(getattr(self, name))[:40]!r}")
        if self.gpus % self.tp:
            raise InputError("tp", f"tensor parallel degree {self.tp} does not divide {self.gpus} GPUs")
        if self.zero and self.fsdp != "none":
            raise InputError("fsdp", "choose ZeRO or FSDP, not both (FSDP full shard is ZeRO-3)")
        if not isinstance(self.gpu, str):
            raise InputError("gpu", "expected a GPU id")
        if self.gpu_memory_bytes is not None:
            put(self, "gpu_memory_bytes", _count("gpu_memory", self.gpu_memory_bytes, 1 << 50))
        if self.overhead_bytes is not None:
            put(self, "overhead_bytes", _count("overhead", self.overhead_bytes, MAX_OVERHEAD, allow_zero=True))

    def with_(self, **changes) -> "TrainingScenario":
        return replace(self, **changes)


TRAINING_FIELDS = tuple(f.name for f in fields(TrainingScenario))


def choice(field_name: str, value, choices: tuple) -> str:
    """`value` stripped and lower-cased if it is one of `choices`; else InputError on `field_name` naming them."""
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise InputError(field_name, f"must be one of {', '.join(choices)}, got {str(value)[:40]!r}")
    return value.strip().lower()


def _positive_number(field_name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InputError(field_name, f"expected a positive number, got {str(value)[:40]!r}")
    if value > 1e6:
        raise InputError(field_name, f"{value} is beyond the supported maximum of 1,000,000")
    return int(value) if value == int(value) else float(value)


def _lora_modules(value) -> tuple:
    if isinstance(value, str):
        if value.strip().lower() in ("all", "all-linear", "all_linear"):
            return LORA_MODULES
        value = [v for v in value.split(",") if v.strip()]  # "q,k," as written on a command line
    if not isinstance(value, (tuple, list, frozenset, set)):
        raise InputError("lora_modules", "expected a list of q, k, v, o, gate, up, down")
    names = set()
    for v in value:
        if not isinstance(v, str) or v.strip().lower() not in LORA_MODULES:
            raise InputError("lora_modules", f"{str(v)[:20]!r} is not one of {', '.join(LORA_MODULES)}")
        names.add(v.strip().lower())
    if not names:
        raise InputError("lora_modules", "choose at least one module")
    return tuple(m for m in LORA_MODULES if m in names)
