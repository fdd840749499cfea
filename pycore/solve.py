"""The inverse questions: the longest context, the largest batch, the best format, the fewest GPUs
that fit. Each answer is consistent with the forward estimate: the answer fits, one more does not.
"""
from dataclasses import dataclass

from .errors import InputError
from .formats import FILE, FLOAT, GGUF_TYPE, WEIGHT_FORMATS
from .hardware import GPUS, PIPELINE, TENSOR, gpu as gpu_named
from .memory import estimate, resolve_model
from .monotone import largest
from .scenario import MAX_BATCH, Scenario


@dataclass(frozen=True)
class Answer:
    value: object  # the number or name found; None when nothing fits
    reason: str  # why the search stopped, in words


def _fits(s: Scenario) -> bool:
    try:
        return estimate(s).fit.fits
    except InputError:
        return False


def _refusal(s: Scenario) -> str:
    """The engine's refusal of this scenario in words (llama.cpp's 256 sequences, …), or "" when it is taken."""
    try:
        estimate(s)
    except InputError as err:
        return err.message
    return ""


def _require_gpu(s: Scenario):
    if not (s.gpu or s.gpu_memory_bytes):
        raise InputError("gpu", "choose a GPU (or enter its memory) to ask what fits")


def max_context(s: Scenario) -> Answer:
    """Longest context per sequence that fits, up to the model's maximum."""
    _require_gpu(s)
    spec = resolve_model(s.model)[1]
    best = largest(lambda n: _fits(s.with_(context=n)), 1, spec.max_context)
    if best is None:
        return Answer(None, "nothing fits, not even one token of context")
    if best == spec.max_context:
        return Answer(best, f"fits up to the model's maximum context of {spec.max_context:,} tokens")
    return Answer(best, _refusal(s.with_(context=best + 1)) or f"{best + 1:,} tokens would not fit")


def max_batch(s: Scenario) -> Answer:
    """Most concurrent sequences of the scenario's context that fit."""
    _require_gpu(s)
    best = largest(lambda n: _fits(s.with_(batch=n)), 1, MAX_BATCH)
    if best is None:
        return Answer(None, "not even one sequence fits")
    if best == MAX_BATCH:
        return Answer(best, "no limit found")
    return Answer(best, _refusal(s.with_(batch=best + 1)) or f"{best + 1:,} sequences would not fit")


def ranked_formats(s: Scenario) -> list:
    """Deployable weight formats for this model, best quality first: more bits per weight first.
    FP32 is left out (no gain over the 16-bit checkpoint) and so are the single-type GGUF variants; with an
    engine chosen, so are the formats it does not load or loads only as an experimental format
    (pycore.engines.check_weights: GGUF for the llama.cpp family, checkpoints for vLLM, SGLang, transformers)."""
    spec = resolve_model(s.model)[1]
    from .engines import ENGINES, check_weights
    from .formats import weight_storage
    from .models import parameter_count
    params = parameter_count(spec).total

    def loads(f) -> bool:
        if s.engine == "auto":
            return True
        try:
            return not check_weights(ENGINES[s.engine], f, spec)
        except InputError:
            return False
    candidates = [f for f in WEIGHT_FORMATS.values() if f.name != "FP32" and f.group != GGUF_TYPE
                  and (f.group != FILE or spec.file_tensors) and loads(f)]
    return sorted(candidates, key=lambda f: (-weight_storage(spec, f).total / params, f.group != FLOAT))


def best_format(s: Scenario) -> Answer:
    """The highest-quality weight format that fits."""
    _require_gpu(s)
    for f in ranked_formats(s):
        if _fits(s.with_(weights=f.name)):
            return Answer(f.name, "the format with the most bits per weight that fits")
    return Answer(None, "no format fits: try more GPUs or a shorter context")


def fewest_gpus(s: Scenario, limit: int = 64) -> Answer:
    """Fewest GPUs of the chosen kind that hold the scenario: tensor parallel when the heads divide,
    otherwise pipeline parallel."""
    _require_gpu(s)
    for n in range(1, limit + 1):
        for mode in (s.parallel, PIPELINE if s.parallel == TENSOR else TENSOR):
            if _fits(s.with_(gpus=n, parallel=mode)):
                return Answer((n, mode), f"{n} GPU{'s' if n > 1 else ''}, {mode} parallel")
    return Answer(None, f"does not fit on {limit} GPUs")


@dataclass(frozen=True)
class FormatRow:
    format: str
    group: str
    bytes: int  # the estimate's total in this format (every GPU and system RAM): the result's own total
    per_gpu: int  # the largest device's share of it, which the fit compares with a GPU's capacity
    weights: int
    bits_per_weight: float
    fits: dict  # gpu id -> bool


def format_table(s: Scenario, gpu_ids=None) -> list:
    """Every weight format with the scenario's total in it (the figure the result shows once that format is
    chosen), and whether it fits each GPU of `gpu_ids` (the scenario's GPU by default). Each GPU gets an estimate
    of its own: an engine's plan can depend on the GPU (vLLM's prefill chunk and KV pool, Ollama's and
    KoboldCpp's layer offload guesses)."""
    gpu_ids = list(gpu_ids or ([s.gpu] if s.gpu else []))
    rows = []
    for f in WEIGHT_FORMATS.values():
        try:
            shown = estimate(s.with_(weights=f.name))
        except InputError:
            continue
        fits = {}
        for gid in gpu_ids:
            g = gpu_named(gid)
            e = shown if gid == s.gpu else estimate(s.with_(weights=f.name, gpu=gid))
            capacity = int(g.usable_bytes * e.engine.memory_fraction)
            fits[gid] = max(d.total for d in e.devices) <= capacity
        rows.append(FormatRow(f.name, f.group, shown.total, max(d.total for d in shown.devices),
                              shown.weights.bytes, shown.bits_per_weight, fits))
    return rows

