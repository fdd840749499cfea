"""An Estimate written out: a JSON-able dict (CLI --json, page export), a text table, Markdown."""
from dataclasses import asdict

from .memory import ITEM_KEYS, Estimate
from .models import ModelSpec
from .units import BINARY, DECIMAL, format_bytes


def item_dict(it) -> dict:
    """A line item (inference or training) as JSON-able data."""
    return {"bytes": it.bytes, "label": it.label, "formula": it.formula, "substituted": it.substituted,
            "source": it.source, "notes": list(it.notes)}


def by_part_dict(params) -> dict:
    """Parameters of each part of the checkpoint (language, vision, audio, mtp), 0 for a part it lacks."""
    from .parts import PART_KEYS
    parts = dict(params.by_part) or {"language": params.total}
    return {key: parts.get(key, 0) for key in PART_KEYS}


def fit_dict(fit, gpus: int) -> dict:
    out = {"gpu": fit.gpu.id, "gpu_name": fit.gpu.name, "gpus": gpus, "memory_bytes": fit.gpu.memory_bytes,
           "usable_bytes": fit.gpu.usable_bytes, "capacity_bytes": fit.capacity, "fits": fit.fits,
           "headroom_bytes": fit.headroom}
    if getattr(fit, "ram", 0):
        out.update(ram_bytes=fit.ram, ram_headroom_bytes=fit.ram_headroom, unified_memory=fit.unified)
    return out


def host_dict(h) -> dict:
    """What stays in system RAM: weights, KV cache (and recurrent state), compute and output buffers."""
    return {"bytes": h.total, "weights": h.weights, "kv_cache": h.kv_cache + h.state, "state": h.state,
            "compute": h.compute + h.output, "compute_buffer": h.compute, "output_buffer": h.output}


def engine_dict(e) -> dict:
    out = {"name": e.engine.name, "label": e.engine.label}
    if e.engine_plan is not None:
        out.update(e.engine_plan.fields)
        out["log"] = list(e.engine_plan.log)
        out["notes"] = list(e.engine_plan.notes)
    else:
        out["log"] = []
    return out


def scenario_dict(e: Estimate) -> dict:
    s = asdict(e.scenario) if not isinstance(e.scenario.model, ModelSpec) else {
        **{k: v for k, v in asdict(e.scenario).items() if k != "model"}, "model": "custom"}
    s["engine"] = e.engine.name
    return s


def estimate_dict(e: Estimate) -> dict:
    out = {
        "model": {"id": e.model_id, "name": e.model.name, "max_context": e.model.max_context,
                  "source": e.model.source},
        "scenario": scenario_dict(e),
        "parameters": {"total": e.parameters.total, "active": e.parameters.active,
                       "embedding": e.parameters.embedding, "by_part": by_part_dict(e.parameters)},
        "bits_per_weight": round(e.bits_per_weight, 4),
        "weights_by_type": [{"type": label, "tensors": n, "elements": el, "bytes": b}
                            for label, n, el, b in e.weight_storage.by_type],
    }
    for key in ITEM_KEYS:
        out[key] = item_dict(e.item(key))
    out["total"] = {"bytes": e.total, "formula": "weights + KV cache + recurrent state + activations + overhead",
                    "substituted": " + ".join(f"{e.item(k).bytes:,}" for k in ITEM_KEYS) + f" = {e.total:,} B"}
    out["devices"] = [{"index": d.index, "weights": d.weights, "kv_cache": d.kv_cache, "state": d.state,
                       "activations": d.activations, "overhead": d.overhead, "total": d.total} for d in e.devices]
    if e.host is not None:
        out["host"] = host_dict(e.host)
    out["engine"] = engine_dict(e)
    if e.fit:
        out["fit"] = fit_dict(e.fit, e.layout.devices)
    # speed (issue #13): decode/prefill tokens per second when the device's bandwidth is known
    from .speed import estimate_speed, speed_caveats, speed_dict
    sp = estimate_speed(e)
    out["warnings"] = list(e.warnings)
    if sp is not None:
        caveats = speed_caveats(e, e.scenario.context)
        out["speed"] = {**speed_dict(sp), "fits": e.fit.fits, "warnings": list(caveats)}
        # the fit's caveat joins the estimate's warnings (the context's own warning is already there)
        if not e.fit.fits:
            out["warnings"].append(caveats[0])
    return out


def estimate_table(e: Estimate, system: str = BINARY) -> str:
    lines = [f"{e.model.name} · {e.weight_format.name} weights · {e.kv_format.name} KV cache · "
             f"batch {e.scenario.batch:,} × context {e.scenario.context:,} · {e.engine.label}",
             f"parameters: {e.parameters.total:,}" + (f" ({e.parameters.active:,} active)" if e.model.is_moe else "")
             + ("" if len(e.parameters.by_part) < 2 else
                " = " + " + ".join(f"{k} {n:,}" for k, n in e.parameters.by_part)),
             ""]
    width = max(len(it.label) for it in e.items)
    for it in e.items:
        lines.append(f"{it.label:<{width}}  {format_bytes(it.bytes, system):>12}  {it.bytes:>18,} B")
        lines.append(f"{'':<{width}}  {it.substituted}")
    lines.append(f"{'Total':<{width}}  {format_bytes(e.total, system):>12}  {e.total:>18,} B")
    if e.host is not None and e.engine_plan is not None and e.host.total:
        h = e.host
        lines.append("")
        lines.append(f"System RAM: {format_bytes(h.total, system)} (weights {format_bytes(h.weights, system)}, "
                     f"KV {format_bytes(h.kv_cache + h.state, system)}, compute and output buffers "
                     f"{format_bytes(h.compute + h.output, system)})")
    if len(e.devices) > 1 or (e.host is not None and e.host.total):
        lines.append("")
        for d in e.devices:
            lines.append(f"GPU {d.index}: {format_bytes(d.total, system)} (weights {format_bytes(d.weights, system)}, "
                         f"KV {format_bytes(d.kv_cache, system)}, state {format_bytes(d.state, system)}, activations {format_bytes(d.activations, system)}, "
                         f"overhead {format_bytes(d.overhead, system)})")
    if e.fit:
        lines.append("")
        lines.append(fit_sentence(e.fit, e.layout.devices, system))
    if e.engine_plan is not None:
        answers = _engine_answers(e.engine_plan.fields, system)
        if answers:
            lines += ["", *answers]
        lines += ["", f"{e.engine.label} will print (predicted):", *(f"  {line}" for line in e.engine_plan.log)]
    if e.warnings:
        lines += ["", "Notes:"] + [f"- {w}" for w in e.warnings]
    return "\n".join(lines)


def _engine_answers(f: dict, system: str = BINARY) -> list:
    out = []
    if f.get("max_ngl_that_fits") is not None:
        out.append(f"Largest --n-gpu-layers that fits: {f['max_ngl_that_fits']} of {f['layers_total']}")
    if f.get("min_n_cpu_moe_that_fits") is not None:
        out.append(f"Smallest --n-cpu-moe that fits (all layers offloaded): {f['min_n_cpu_moe_that_fits']}")
    if f.get("system_ram_needed_bytes") is not None:
        out.append(f"System RAM needed: {format_bytes(f['system_ram_needed_bytes'], system)}")
    return out


def fit_sentence(fit, gpus: int, system: str = BINARY) -> str:
    """The verdict for a fit on `gpus` GPUs of one kind (the capacity and headroom of each)."""
    where = f"{gpus} × {fit.gpu.name}" if gpus > 1 else fit.gpu.name
    usable = f"{format_bytes(fit.capacity, system)} usable" + (" per GPU" if gpus > 1 else "")
    ram = ""  # the system RAM's (or unified memory's) own clause, a sentence of its own after the GPU's
    if getattr(fit, "ram", 0):
        pool = "unified memory" if fit.unified else "system RAM"
        ram = (f"{pool} {format_bytes(fit.ram, system)}: " +
               (f"{format_bytes(fit.ram_headroom, system)} to spare." if fit.ram_headroom >= 0 else
                f"{format_bytes(-fit.ram_headroom, system)} short."))
    sentence = (" " + ram[0].upper() + ram[1:]) if ram else ""
    if fit.fits:
        return f"Fits on {where}: {usable}, {format_bytes(fit.headroom, system)} to spare." + sentence
    if fit.headroom >= 0 and getattr(fit, "ram_headroom", 0) >= 0:  # the engine's own pools refuse it (SGLang)
        return (f"Does not fit: the bytes fit on {where} ({usable}), but not the engine's own pools (see the notes)."
                + sentence)
    if fit.headroom >= 0:
        return f"Does not fit: the GPU part fits on {where} ({usable}) but {ram}"
    return f"Does not fit on {where}: {usable}, {format_bytes(-fit.headroom, system)} short." + sentence


def estimate_markdown(e: Estimate, system: str = BINARY) -> str:
    rows = ["| Item | Size | Bytes | Formula |", "|---|---:|---:|---|"]
    for it in e.items:
        rows.append(f"| {it.label} | {format_bytes(it.bytes, system)} | {it.bytes:,} | {md_text(it.substituted)} |")
    rows.append(f"| **Total** | **{format_bytes(e.total, system)}** | {e.total:,} | |")
    head = (f"**{md_text(e.model.name)}**, {e.weight_format.name} weights, {e.kv_format.name} KV cache, "
            f"batch {e.scenario.batch:,}, context {e.scenario.context:,} tokens ({e.engine.label})")
    out = [head, "", *rows]
    if e.fit:
        out += ["", fit_sentence(e.fit, e.layout.devices, system)]
    if e.warnings:
        out += ["", "Notes:"] + [f"- {md_text(w)}" for w in e.warnings]
    out += ["", f"Units: {'GiB = 2^30 bytes' if system == BINARY else 'GB = 10^9 bytes'}."]
    return "\n".join(out)


def md_text(text: str) -> str:
    """Text for a Markdown table cell: no column breaks, no markup."""
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["estimate_dict", "estimate_table", "estimate_markdown", "fit_dict", "fit_sentence", "item_dict", "md_text",
           "BINARY", "DECIMAL"]
