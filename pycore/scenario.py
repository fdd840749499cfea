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
MAX_LAYERS = 10_000  # --ngl / --n-cpu-moe beyond any model's depth (llama.cpp clamps 999 to all)
MAX_PAGE_SIZE = 1 << 16  # SGLang --page-size: pages of 1 (default), 16, 32, 64 tokens in practice
FLASH_ATTN = ("auto", "on", "off")
MAX_SPECULATIVE_TOKENS = 64  # vLLM drafts a handful of tokens per step; 64 is beyond any published setting
# vLLM --speculative-config methods (vllm/config/speculative.py@f19b16d9 SpeculativeMethod; the MTP model
# types are deprecated aliases of "mtp" there, SpeculativeConfig.__post_init__)
SPECULATIVE_METHODS = ("", "mtp", "eagle", "eagle3", "draft_model", "ngram")
SPECULATIVE_ALIASES = {m: "mtp" for m in ("deepseek_mtp", "mimo_mtp", "glm4_moe_mtp", "glm4_moe_lite_mtp", "ernie_mtp",
                                         "exaone_moe_mtp", "qwen3_next_mtp", "qwen3_5_mtp", "longcat_flash_mtp",
                                         "pangu_ultra_moe_mtp", "step3p5_mtp")}
SPECULATIVE_ALIASES.update({"[ngram]": "ngram", "ngram_gpu": "ngram"})
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
    # Engine settings (llama.cpp / Ollama / vLLM); None: the engine's default
    flash_attn: str = "auto"  # llama.cpp --flash-attn, OLLAMA_FLASH_ATTENTION
    ubatch: object = None  # llama.cpp --ubatch-size (512); Ollama num_batch
    ngl: object = None  # llama.cpp --n-gpu-layers / Ollama num_gpu: None = all
    n_cpu_moe: int = 0  # llama.cpp --n-cpu-moe: experts of the first N layers in system RAM
    swa_full: bool = False  # llama.cpp --swa-full
    kv_offload: bool = True  # llama.cpp --no-kv-offload when False
    ram_bytes: object = None  # system RAM; None: DEFAULT_RAM
    gpu_memory_utilization: object = None  # vLLM; None: the engine's default
    max_num_batched_tokens: object = None  # vLLM; None: its default
    max_num_seqs: object = None  # vLLM; None: its default (256)
    # SGLang --mem-fraction-static, --chunked-prefill-size, --page-size; None: its defaults (pycore/engines/sglang.py)
    mem_fraction_static: object = None
    chunked_prefill_size: object = None
    page_size: object = None
    # vLLM --speculative-config: method ("" none, "mtp", "eagle", "eagle3", "draft_model", "ngram"),
    # num_speculative_tokens, and the draft model's preset id (method draft_model)
    speculative_method: str = ""
    num_speculative_tokens: int = 0
    draft_model: str = ""
    # vLLM --data-parallel-size (engines per tensor-parallel group) and --enable-expert-parallel
    data_parallel_size: int = 1
    enable_expert_parallel: bool = False
    tensor_split: tuple = ()  # llama.cpp --tensor-split: each GPU's share of the offloaded layers; () = even

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
        for name, limit in (("ubatch", MAX_CONTEXT), ("max_num_batched_tokens", MAX_CONTEXT), ("max_num_seqs", MAX_BATCH),
                            ("chunked_prefill_size", MAX_CONTEXT), ("page_size", MAX_PAGE_SIZE)):
            if getattr(self, name) is not None:
                whole(self, name, _count(name, getattr(self, name), limit))
        if self.ngl is not None:
            whole(self, "ngl", _count("ngl", self.ngl, MAX_LAYERS, allow_zero=True))
        whole(self, "n_cpu_moe", _count("n_cpu_moe", self.n_cpu_moe, MAX_LAYERS, allow_zero=True))
        whole(self, "num_speculative_tokens", _count("num_speculative_tokens", self.num_speculative_tokens,
                                                     MAX_SPECULATIVE_TOKENS, allow_zero=True))
        whole(self, "data_parallel_size", _count("data_parallel_size", self.data_parallel_size, MAX_GPUS))
        if self.data_parallel_size * self.gpus > MAX_GPUS:
            raise InputError("data_parallel_size", f"{self.data_parallel_size:,} engines × {self.gpus:,} GPUs is beyond "
                             f"the supported maximum of {MAX_GPUS:,} GPUs")
        if not isinstance(self.speculative_method, str) or not isinstance(self.draft_model, str):
            raise InputError("speculative_method", "expected a method name and a draft model id")
        method = SPECULATIVE_ALIASES.get(self.speculative_method.strip().lower(), self.speculative_method.strip().lower())
        if method not in SPECULATIVE_METHODS:
            raise InputError("speculative_method", f"must be one of {', '.join(m for m in SPECULATIVE_METHODS if m)} "
                             f"(or an MTP alias such as deepseek_mtp), got {str(method)[:40]!r}")
        whole(self, "speculative_method", method)
        if method and not self.num_speculative_tokens:
            raise InputError("num_speculative_tokens", f"speculative method {method} needs num_speculative_tokens ≥ 1")
        if self.num_speculative_tokens and not method:
            raise InputError("speculative_method", "num_speculative_tokens needs a speculative method")
        if (method == "draft_model") != bool(self.draft_model):
            raise InputError("draft_model", "a draft model (a preset id) goes with method draft_model, and only with it")
        if self.ram_bytes is not None:
            whole(self, "ram_bytes", _count("ram", self.ram_bytes, 1 << 50))
        if self.gpu_memory_utilization is not None:
            u = self.gpu_memory_utilization
            if isinstance(u, bool) or not isinstance(u, (int, float)) or not (0 < u <= 1):
                raise InputError("gpu_memory_utilization", f"must be in (0, 1], got {str(u)[:40]}")
        if self.mem_fraction_static is not None:
            u = self.mem_fraction_static
            if isinstance(u, bool) or not isinstance(u, (int, float)) or not (0 < u < 1):
                raise InputError("mem_fraction_static", f"must be in (0, 1), got {str(u)[:40]}")
        whole(self, "tensor_split", tensor_split(self.tensor_split, self.gpus))
        if self.flash_attn not in FLASH_ATTN:
            raise InputError("flash_attn", f"must be one of {', '.join(FLASH_ATTN)}")
        for name in ("swa_full", "kv_offload", "enable_expert_parallel"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(name, "expected true or false")
        if self.activations not in ACTIVATION_METHODS:
            raise InputError("activations", f"must be one of {', '.join(ACTIVATION_METHODS)}")
        if self.kv_method not in KV_METHODS:
            raise InputError("kv_method", f"must be one of {', '.join(KV_METHODS)}")
        if not isinstance(self.model, (str, ModelSpec)):
            raise InputError("model", "expected a preset id or a model read from a file")
        for name in ("weights", "kv", "gpu", "parallel", "engine", "draft_model"):
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
        shown = f"{int(value):,}" if value < 10 ** 15 else f"{value:.3g}"  # not 31 digits of a float's rounding
        raise InputError(field, f"{shown} is beyond the supported maximum of {limit:,}")
    return int(value)


def tensor_split(value, gpus: int) -> tuple:
    """llama.cpp's --tensor-split as a tuple of floats, one per GPU (a missing value is 0, as llama.cpp's
    common/arg.cpp leaves it), from a tuple/list of numbers or its text "3,1". Each value is a proportion,
    finite and zero or more, at least one more than zero, at most one value per GPU. () stays () (even)."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return ()
        if len(text) > 32 * MAX_GPUS:
            raise InputError("tensor_split", f"{len(text):,} characters: one proportion per GPU, e.g. 3,1")
        parts = [p.strip() for p in text.replace("/", ",").split(",")]
        values = []
        for p in parts:
            try:
                values.append(float(p))
            except ValueError:
                raise InputError("tensor_split", f"{p[:20]!r} is not a number: give one proportion per GPU, "
                                 "e.g. 3,1") from None
    elif isinstance(value, (tuple, list)):
        if len(value) > MAX_GPUS:
            raise InputError("tensor_split", f"{len(value):,} values: more than {MAX_GPUS:,} GPUs")
        values = list(value)
        if not values:
            return ()
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise InputError("tensor_split", f"expected numbers, got {str(v)[:20]!r}")
    else:
        raise InputError("tensor_split", "expected proportions per GPU, e.g. 3,1")
    if len(values) > gpus:
        raise InputError("tensor_split", f"{len(values)} values for {gpus} GPU{'s' if gpus != 1 else ''}: "
                         f"give --gpus {len(values)} (or fewer values)")
    if not all(math.isfinite(v) and v >= 0 for v in values):
        raise InputError("tensor_split", "each proportion must be a finite number, zero or more")
    if not any(v > 0 for v in values):
        raise InputError("tensor_split", "at least one GPU needs a proportion above zero")
    return tuple(float(v) for v in values) + (0.0,) * (gpus - len(values))


SCENARIO_FIELDS = tuple(f.name for f in fields(Scenario))
DEFAULT_CONTEXT = 4096


def default_context(spec: ModelSpec) -> int:
    """A sensible starting context, never the model's maximum by default: 4096 tokens, the default of
    llama.cpp (PR #10136) and of Ollama below 24 GiB of VRAM (PR #10452, #13946), or the model's
    maximum when that is smaller."""
    return min(DEFAULT_CONTEXT, spec.max_context)
