"""Hardware first: given a machine (a catalog device or a custom one, a GPU count, free system RAM and a
context), every catalog model with the best llama.cpp format that fits, its speed, and whether it needs
layers offloaded to system RAM. A model is listed only when an estimate says it fits.
"""
from .errors import InputError
from .memory import estimate
from .scenario import Scenario

# Formats tried, best first: llama.cpp's GGUF presets in order of quality. The factor is a rough relative
# quality used only to sort models of different sizes (parameters × factor): perplexity rises slowly down
# to Q4_K_M and steeply below Q3 (llama.cpp tools/quantize/README.md, Llama-3.1-8B table: Q8_0 +0.01,
# Q6_K +0.03, Q5_K_M +0.06, Q4_K_M +0.17, Q3_K_M +0.60, Q2_K +2.0 PPL over F16 at about 7.3).
FORMAT_QUALITY = (("BF16", 1.00), ("Q8_0", 0.995), ("Q6_K", 0.99), ("Q5_K_M", 0.98), ("Q4_K_M", 0.96),
                  ("Q3_K_M", 0.90), ("Q2_K", 0.75))
# Bits per weight of the narrowest type each preset uses for its matrices (ggml block sizes:
# Q8_0 34 B / 32, Q6_K 210 B / 256, Q5_K 176 B / 256, Q4_K 144 B / 256, Q3_K 110 B / 256, Q2_K 84 B / 256).
# parameters × this is a lower bound of the weights, used only to skip formats that cannot fit before
# their per-tensor storage is computed; what is listed is always checked by a full estimate.
MIN_BITS = {"BF16": 16, "Q8_0": 8.5, "Q6_K": 6.5625, "Q5_K_M": 5.5, "Q4_K_M": 4.5, "Q3_K_M": 3.4375, "Q2_K": 2.625}
# Partial offload: the best format whose share left in system RAM is at most this; beyond it decode runs
# at RAM speed, so a smaller format on the GPU side is the better answer.
MAX_HOST_SHARE = 0.5
ENGINE = "llama.cpp"


# Typical bits per weight of each preset on a whole model (llama.cpp quantize README, Llama-3.1-8B: Q8_0 8.50,
# Q6_K 6.56, Q5_K_M 5.70, Q4_K_M 4.89, Q3_K_M 3.91, Q2_K 3.16), only to guess where to start looking.
TYPICAL_BITS = {"BF16": 16, "Q8_0": 8.5, "Q6_K": 6.56, "Q5_K_M": 5.7, "Q4_K_M": 4.89, "Q3_K_M": 3.91, "Q2_K": 3.16}


def _guess(candidates, params, capacity) -> int:
    """The first candidate whose typical weight size leaves a tenth of the capacity for the rest."""
    for i, (name, _) in enumerate(candidates):
        if params * TYPICAL_BITS[name] / 8 <= 0.9 * capacity:
            return i
    return None


def _choose(candidates, base, gpus, ram_bytes, guess=None, unified=False):
    """(format, quality factor, estimate, host share) or None. Formats are in decreasing size, so "fits" is
    false then true along the list: a binary search finds the best that fits in about log2(7) estimates.
    Without a GPU-only fit, the best format whose share in system RAM is at most MAX_HOST_SHARE, else the
    smallest format if its overflow fits in RAM at all. unified: the RAM is the device's own memory, so what
    the GPU holds counts against it too."""
    memo = {}

    def est(i):
        if i not in memo:
            memo[i] = estimate(base.with_(weights=candidates[i][0]))
        return memo[i]

    def over(i):
        e = est(i)
        return (max(d.total for d in e.devices) - e.fit.capacity) * gpus

    def need(i):  # RAM that placing format i needs: the overflow; on a unified device everything (one pool)
        return est(i).total if unified else over(i)

    def first(pred):
        lo, hi = 0, len(candidates)
        while lo < hi:
            mid = (lo + hi) // 2
            if pred(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo if lo < len(candidates) else None

    if not candidates:
        return None
    fits = lambda k: est(k).fit.fits  # noqa: E731
    # Most models fit at the format a rough size predicts: check it and the one above it first (2
    # estimates); the binary search below then reuses them (memo) when the guess was wrong.
    if guess is not None and 0 <= guess < len(candidates) and fits(guess) and (guess == 0 or not fits(guess - 1)):
        return (*candidates[guess], est(guess), 0.0)
    i = first(fits)
    if i is not None:
        return (*candidates[i], est(i), 0.0)
    if not ram_bytes:
        return None
    i = first(lambda k: need(k) <= ram_bytes and over(k) <= MAX_HOST_SHARE * est(k).weights.bytes)
    if i is None:
        i = len(candidates) - 1
        if need(i) > ram_bytes or over(i) >= est(i).weights.bytes:
            return None
    if over(i) <= 0:  # the GPUs have room: the fit failed on system RAM, which offloading cannot help
        return None
    return (*candidates[i], est(i), over(i) / est(i).weights.bytes)


def fit_table(device, gpus: int = 1, ram_bytes: int = 0, context: int = 4096, host=None, family=None,
              max_params=None, moe=None, presets=None) -> list:
    """One row per catalog model that fits (dicts: id, name, format, parameters, active, total_bytes, offload,
    host_share, decode_tokens_per_s, prefill_tokens_per_s, quality), sorted by quality then decode speed.

    Fits on the device(s): the largest per-GPU total ≤ usable memory × the engine's memory fraction. With
    ram_bytes > 0, a model also fits when the weights that do not fit stay in system RAM (llama.cpp's
    partial offload): total over the GPUs' capacity ≤ ram_bytes. Decode speed is at `context` tokens deep,
    prefill for a prompt that fills the context."""
    from . import presets as P
    from .speed import speed
    if not isinstance(gpus, int) or not 1 <= gpus <= 64:
        raise InputError("gpus", "1 to 64 devices for the hardware-first list")
    if not isinstance(context, int) or not 1 <= context <= 1 << 24:
        raise InputError("context", "1 to 16,777,216 tokens")
    if max_params is not None and not (max_params > 0):
        raise InputError("max_params", "must be a positive number of billions")
    from .memory import check_unified_ram
    check_unified_ram(device, -(-ram_bytes // gpus) if ram_bytes else 0)
    if ram_bytes and host is None and device.kind not in ("unified", "cpu"):
        raise InputError("host", "offloading to system RAM needs the host's memory bandwidth (a CPU system id)")
    custom = device.id == "custom"
    rows = []
    for p in (presets or P.PRESETS.values()):
        spec = P.model(p.id)
        if family and not p.id.startswith(family.lower()):
            continue
        if moe is not None and spec.is_moe != (moe == "yes"):
            continue
        if context > spec.max_context:
            continue
        base = Scenario(p.id, context=context, engine=ENGINE, gpus=gpus, parallel="pipeline",
                        **({"gpu_memory_bytes": device.memory_bytes} if custom else {"gpu": device.id}))
        from .models import parameter_count
        total_params = parameter_count(spec).total
        if max_params is not None and total_params > max_params * 1e9:
            continue
        room = (device.usable_bytes * gpus + ram_bytes) * 8
        # cannot fit even with no KV cache and no overhead: skipped before any per-tensor work
        candidates = [(n, q) for n, q in FORMAT_QUALITY if total_params * MIN_BITS[n] <= room]
        try:
            chosen = _choose(candidates, base, gpus, ram_bytes, _guess(candidates, total_params,
                                                                     device.usable_bytes * gpus),
                             unified=device.kind == "unified")
        except InputError:
            continue  # e.g. more pipeline stages than layers: no format helps
        if chosen is None:
            continue
        name, quality, e, host_share = chosen
        sp = None
        if device.bandwidth_gbps:
            host_bw = (device.bandwidth_gbps if device.kind in ("unified", "cpu") else
                       (host.bandwidth_gbps if host is not None else None))
            sp = speed(e, device, depth=context, prompt_tokens=context, prefill_depth=0, gpus=gpus,
                       parallel="pipeline", host_share=host_share, host_bandwidth_gbps=host_bw if host_share else None,
                       batch=1)
        rows.append({"id": p.id, "name": e.model.name, "format": name, "parameters": e.parameters.total,
                     "active": e.parameters.active, "moe": spec.is_moe,
                     "total_bytes": max(d.total for d in e.devices) * gpus if not host_share else e.total,
                     "capacity_bytes": e.fit.capacity * gpus, "offload": host_share > 0,
                     "host_share": round(host_share, 4),
                     "decode_tokens_per_s": round(sp.decode_tokens_per_s, 2) if sp else None,
                     "prefill_tokens_per_s": round(sp.prefill_tokens_per_s, 1) if sp and sp.prefill_tokens_per_s else None,
                     "decode_bound": sp.decode_bound if sp else None,
                     "quality": round(e.parameters.total / 1e9 * quality, 3)})
    rows.sort(key=lambda r: (-r["quality"], -(r["decode_tokens_per_s"] or 0)))
    return rows
