"""The seed's worked examples: each evaluated with the seed's own formula, exactly, and with pycore's
exact model, so the page can show where the seed's printed figure is wrong and by how much.

The seed's formulas (as the project's design notes quote them):
  weights      = parameters × bytes per parameter      (FP32 4, FP16/BF16 2, INT8 1, INT4 ½; Q4_K_M as 4.0 bits)
  KV cache     = 2 · B · S · H · L · bytes              (the multi-head attention case)
  activations  = B · S · H · L · 2 bytes
  overhead     = 1–2 GB (CUDA context and runtime)
A printed figure is recorded only where the design notes quote it; the rest are shown as the
formula's result next to the exact one.
"""
from dataclasses import dataclass

from .formats import weight_format, weight_storage
from .memory import estimate
from .models import parameter_count
from .presets import model
from .scenario import Scenario
from .units import GB, GiB

NOMINAL = {"llama-2-70b": 70 * 10**9, "llama-3-8b": 8 * 10**9}  # the seed's round parameter counts
BYTES = {"FP32": 4, "FP16": 2, "INT8": 1, "INT4": 0.5}


@dataclass(frozen=True)
class WorkedExample:
    id: str
    section: str  # weights | kv_cache | activations | total | practical
    title: str
    formula: str  # the seed's formula with its numbers
    seed_bytes: int  # the seed's formula, evaluated exactly
    seed_printed: str  # what the seed printed, when the design notes quote it ("" otherwise)
    exact_bytes: int  # pycore for the real architecture
    exact_how: str  # which scenario gives exact_bytes
    verdict: str  # what, if anything, is wrong in the seed's figure


def _weights(model_id, fmt):
    nominal = NOMINAL[model_id]
    seed = int(nominal * BYTES[fmt])
    real_fmt = {"FP32": "FP32", "FP16": "FP16", "INT8": "INT8", "INT4": "INT4"}[fmt]
    spec = model(model_id)
    exact = weight_storage(spec, weight_format(real_fmt)).total
    params = parameter_count(spec).total
    name = spec.name
    return WorkedExample(
        f"weights-{model_id}-{fmt.lower()}", "weights", f"{name} weights in {fmt}",
        f"{nominal / 1e9:g}B × {BYTES[fmt]:g} B = {seed / GB:g} GB",
        seed, "", exact, f"{params:,} parameters × {BYTES[fmt]:g} B",
        f"The formula is right and its GB are decimal; the real model has {params / 1e9:.2f}B parameters, "
        f"so {exact / GB:.2f} GB, which is {exact / GiB:.2f} GiB — the unit a GPU's memory is sold in.")


def _kv(model_id, context, printed=""):
    spec = model(model_id)
    H, L = spec.hidden_size, spec.num_layers
    seed = 2 * 1 * context * H * L * 2
    exact = estimate(Scenario(model_id, weights="FP16", context=context, engine="transformers")).kv_cache.bytes
    verdict = (f"The seed prints {printed}, but its own formula gives {seed / GiB:g} GiB ({seed / GB:.1f} GB): an "
               "arithmetic error. " if printed else "")
    verdict += (f"The formula also assumes every one of the {spec.num_heads} heads caches K and V; {spec.name} "
                f"uses grouped-query attention with {spec.num_kv_heads} KV heads, so the real cache is "
                f"{exact / GiB:g} GiB ({spec.num_heads // spec.num_kv_heads}× smaller).")
    return WorkedExample(
        f"kv-{model_id}-{context}", "kv_cache", f"{spec.name} KV cache, batch 1, {context:,} tokens, FP16",
        f"2 × 1 × {context:,} × {H:,} × {L} × 2 B = {seed:,} B", seed, printed, exact,
        f"2 × {spec.num_kv_heads} KV heads × {spec.head_dim} × {L} layers × {context:,} tokens × 2 B", verdict)


def _activations(model_id, context):
    spec = model(model_id)
    seed = 1 * context * spec.hidden_size * spec.num_layers * 2
    e = estimate(Scenario(model_id, weights="FP16", context=context, engine="vllm"))
    return WorkedExample(
        f"activations-{model_id}-{context}", "activations", f"{spec.name} activations, batch 1, {context:,} tokens",
        f"1 × {context:,} × {spec.hidden_size:,} × {spec.num_layers} × 2 B = {seed:,} B", seed, "",
        e.activations.bytes, f"peak working set of one forward pass in vLLM (chunk {e.engine.chunk():,} tokens)",
        "The formula keeps every layer's activations at once; inference frees them layer by layer, so "
        "the real peak is one layer's working set (or the logits buffer), measured far below the formula.")


def _total(model_id, fmt, context, gpu):
    spec = model(model_id)
    seed_w = int(NOMINAL[model_id] * BYTES[fmt])
    seed_kv = 2 * context * spec.hidden_size * spec.num_layers * 2
    seed_act = context * spec.hidden_size * spec.num_layers * 2
    seed = seed_w + seed_kv + seed_act + 2 * GB
    e = estimate(Scenario(model_id, weights=fmt, context=context, gpu=gpu))
    verdict = (f"Exact: weights {e.weights.bytes / GiB:.2f} GiB + KV {e.kv_cache.bytes / GiB:.2f} GiB + activations "
               f"{e.activations.bytes / GiB:.2f} GiB + overhead {e.overhead.bytes / GiB:.2f} GiB. "
               f"{'Fits' if e.fit.fits else 'Does not fit'} on one {e.fit.gpu.name} "
               f"({e.fit.capacity / GiB:.2f} GiB usable).")
    return WorkedExample(
        f"total-{model_id}-{fmt.lower()}-{context}", "total", f"{spec.name} in {fmt}, {context:,} tokens: total",
        f"{seed_w / GB:g} GB weights + {seed_kv / GB:.2f} GB KV + {seed_act / GB:.2f} GB activations + 2 GB overhead",
        seed, "", e.total, f"pycore, {e.engine.label}", verdict)


def _q4_k_m(model_id):
    spec = model(model_id)
    seed = NOMINAL[model_id] // 2
    exact = weight_storage(spec, weight_format("Q4_K_M")).total
    bpw = 8 * exact / parameter_count(spec).total
    return WorkedExample(
        f"weights-{model_id}-q4_k_m", "practical", f"{spec.name} as a Q4_K_M GGUF",
        f"{NOMINAL[model_id] / 1e9:g}B × 4 bits = {seed / GB:g} GB", seed, "4.0 bits per weight", exact,
        "llama.cpp's Q4_K_M recipe, tensor by tensor",
        f"Q4_K_M is a recipe, not a 4-bit type: Q4_K blocks are 4.5 bits, some tensors get Q6_K, and the "
        f"file averages {bpw:.2f} bits per weight — {exact / GiB:.2f} GiB, not {seed / GiB:.2f}.")


def worked_examples() -> list:
    return [
        *(_weights("llama-2-70b", f) for f in BYTES),
        *(_weights("llama-3-8b", f) for f in BYTES),
        _kv("llama-2-70b", 32768, printed="32 GB"),
        _kv("llama-3-8b", 8192),
        _activations("llama-2-70b", 4096),
        _activations("llama-3-8b", 8192),
        _total("llama-3-8b", "FP16", 8192, "rtx-4090"),
        _total("llama-2-70b", "FP16", 4096, "a100-80gb"),
        _q4_k_m("llama-3-8b"),
        _q4_k_m("llama-2-70b"),
    ]
