"""What the page shows, as plain values: the same dict fills the HTML at build time (Jinja) and the
page's slots at run time (browser Python), so no figure is formatted in two places.
"""
from . import charts
from .errors import InputError
from .formats import GROUPS, WEIGHT_FORMATS
from .memory import Estimate
from .models import SLIDING, layer_kinds
from .report import fit_sentence
from .solve import best_format, fewest_gpus, format_table, max_batch, max_context
from .units import BINARY, DECIMAL, GiB, format_bytes


def system_of(units: str) -> str:
    return DECIMAL if units == "GB" else BINARY


def _item_view(it, size: int, total: int, system: str) -> dict:
    """A line item for the page, shown at `size` bytes (the whole, or one GPU's share) of `total`."""
    return {"key": it.key, "label": it.label, "bytes": size, "size": format_bytes(size, system),
            "share": f"{100 * size / total:.1f} %" if total else "–", "formula": it.formula,
            "substituted": it.substituted, "source": it.source, "notes": " ".join(it.notes)}


def estimate_view(e: Estimate, system: str = BINARY) -> dict:
    total = e.total
    items = [_item_view(it, it.bytes, total, system) for it in e.items]
    multi = len(e.devices) > 1
    return {
        "items": items,
        "total": {"key": "total", "bytes": total, "size": format_bytes(total, system),
                  "substituted": " + ".join(format_bytes(it.bytes, system) for it in e.items) +
                  f" = {format_bytes(total, system)} ({total:,} B)"},
        "verdict": _verdict(e, system),
        "speed": speed_view(e),
        "warnings": list(e.warnings),
        "summary": _summary(e),
        "facts": _facts(e),
        "devices": [{"index": str(d.index), "weights": format_bytes(d.weights, system),
                     "kv_cache": format_bytes(d.kv_cache, system), "state": format_bytes(d.state, system),
                     "activations": format_bytes(d.activations, system),
                     "overhead": format_bytes(d.overhead, system), "total": format_bytes(d.total, system),
                     "total_bytes": d.total,
                     "fits": "" if not e.fit else ("fits" if d.total <= e.fit.capacity else "over")}
                    for d in e.devices] if multi else [],
        "devices_caption": (f"{len(e.devices)} GPUs, {'tensor' if e.layout.tp > 1 else 'pipeline'} parallel: "
                            "per-GPU figures" if multi else ""),
        "bar_svg": charts.breakdown_bar(e, system),
        "engine": e.engine.label,
        "engine_name": e.engine.name,
        **engine_view(e, system),
        "context_note": f"model maximum {e.model.max_context:,} tokens",
        # shown in the context field only while it is empty, i.e. while the estimate uses the default
        "context_placeholder": f"{e.scenario.context:,} (default)",
    }


def _verdict(e: Estimate, system) -> dict:
    if not e.fit:
        return {"state": "none", "text": f"Total {format_bytes(e.total, system)}. Choose a GPU to check the fit."}
    return {"state": "fits" if e.fit.fits else "short", "text": fit_sentence(e.fit, e.layout.devices, system)}


def speed_view(e: Estimate) -> dict:
    """Speed beside the verdict (issue #13): decode at the full context and the prompt that fills it, on
    the chosen device; a hint when there is no device or no bandwidth figure."""
    from .speed import estimate_speed
    try:
        sp = estimate_speed(e)
    except InputError as err:
        return {"text": f"Speed: {err.message}", "formula": ""}
    if sp is None:
        return {"text": ("Speed: choose a catalog GPU (its memory bandwidth sets the decode speed)." if not e.fit
                         else "Speed: a custom GPU has no bandwidth figure; pick a catalog device."), "formula": ""}
    s = e.scenario
    per_seq = sp.decode_tokens_per_s / s.batch
    text = (f"Speed (llama.cpp-class estimate): about {per_seq:,.0f} tokens/s generating at {s.context:,} tokens "
            f"deep ({sp.decode_bound}-bound)" +
            (f", {sp.decode_tokens_per_s:,.0f} tokens/s for all {s.batch:,} sequences" if s.batch > 1 else ""))
    if sp.prefill_tokens_per_s:
        text += (f"; the {s.context:,}-token prompt reads in {sp.time_to_first_token_s:,.2f} s "
                 f"({sp.prefill_tokens_per_s:,.0f} tokens/s, {sp.prefill_bound}-bound)")
    return {"text": text + ".", "formula": " · ".join(f.substituted for f in sp.figures)}


def _summary(e: Estimate) -> str:
    s = e.scenario
    return (f"{e.model.name} · {e.weight_format.name} weights ({e.bits_per_weight:.2f} bits/weight) · "
            f"{e.kv_format.name} KV cache · batch {s.batch:,} × {s.context:,} tokens · {e.engine.label}")


FACT_LABELS = {"parameters": "Parameters", "active": "Active per token", "layers": "Layers", "kv_heads": "KV cache",
               "hidden": "Hidden size", "vocab": "Vocabulary", "max_context": "Maximum context",
               "bpw": "Bits per weight"}


_KIND_WORDS = {"full": "full attention", "sliding": "sliding-window {window:,}", "chunked": "chunked-attention {chunk:,}",
               "latent": "MLA", "sparse_latent": "MLA with sparse-attention indexer", "mamba": "Mamba",
               "mamba2": "Mamba-2", "gated_deltanet": "Gated DeltaNet", "lightning": "lightning attention",
               "short_conv": "short convolution", "full+mamba2": "attention + Mamba-2", "ffn": "FFN-only"}


def _facts(e: Estimate) -> dict:
    spec, p = e.model, e.parameters
    kinds = {}
    for layer in layer_kinds(spec):
        key = "+".join(k.kind for k in layer) or "ffn"
        kinds[key] = kinds.get(key, 0) + 1
    attention = ", ".join(f"{n} {_KIND_WORDS.get(k, k).format(window=spec.sliding_window, chunk=spec.attention_chunk)}"
                          for k, n in kinds.items())
    kv = (f"latent {spec.kv_lora_rank} + RoPE {spec.qk_rope_head_dim} per token (MLA)" if spec.is_mla else
          f"{spec.num_kv_heads} of {spec.num_heads} heads × {spec.head_dim} dims"
          + (f" (GQA {spec.gqa_ratio}:1)" if spec.gqa_ratio > 1 else " (MHA)"))
    parts = [(k, n) for k, n in p.by_part if k != "language"]
    total = f"{p.total:,}" + (" (language " + f"{p.language:,}" + "".join(f" + {k} {n:,}" for k, n in parts) + ")"
                              if parts else "")
    return {"parameters": total,
            "active": (f"{p.active:,} ({spec.experts_per_token} of {spec.num_experts} experts)" if spec.is_moe
                       else "all (dense model)"),
            "layers": f"{spec.num_layers}: {attention}", "kv_heads": kv, "hidden": f"{spec.hidden_size:,}",
            "vocab": f"{spec.vocab_size:,}", "max_context": f"{spec.max_context:,} tokens",
            "bpw": f"{e.bits_per_weight:.3f} ({e.weight_format.name})"}


def engine_view(e: Estimate, system: str = BINARY) -> dict:
    """The engine's placement (GPU / system RAM figure) and the log lines it will print (issue #10):
    `placement_svg` is "" and `log` empty for an engine without placement rules (transformers)."""
    plan = e.engine_plan
    if plan is None:
        return {"placement_svg": "", "log": "", "log_title": "", "host_bytes": 0,
                "no_plan": f"{e.engine.label} has no placement rules here: everything is counted on the GPUs."}
    return {"placement_svg": charts.placement_bars(e, system), "log": "\n".join(plan.log),
            "log_title": f"What {e.engine.label} will print (predicted)", "no_plan": "", "host_bytes": e.host.total}


def offload_answers(e: Estimate, system: str = BINARY) -> dict:
    """The offload answers (llama.cpp, Ollama): the largest --n-gpu-layers that fits, the smallest
    --n-cpu-moe that fits, and the system RAM this setting needs; words for engines without offload."""
    plan = e.engine_plan
    if plan is None or "layers_total" not in plan.fields:
        words = f"{e.engine.label} keeps every layer on the GPUs (no partial offload)"
        return {"max_ngl": words, "min_n_cpu_moe": words,
                "ram_needed": (f"{format_bytes(e.host.total, system)}: {e.engine.label} keeps the model on the GPUs"
                               if e.host is not None else words)}
    f, total = plan.fields, plan.fields["layers_total"]
    ram = f.get("system_ram_needed_bytes", 0)
    ram_text = format_bytes(ram, system) + " at this setting"
    if e.fit and e.fit.ram:
        pool = "unified memory" if e.fit.unified else "system RAM"
        ram_text += (f" (of {format_bytes(e.fit.ram, system)} {pool}: " +
                     ("fits)" if e.fit.ram_headroom >= 0 else f"{format_bytes(-e.fit.ram_headroom, system)} short)"))
    if not e.fit:
        blank = "choose a GPU"
        return {"max_ngl": blank, "min_n_cpu_moe": blank if e.model.is_moe else "dense model: no experts to move",
                "ram_needed": ram_text}
    n = f.get("max_ngl_that_fits")
    if n is None:
        max_ngl = "none"
    elif n >= total:
        max_ngl = f"{n} of {n} layers: all on the GPU"
    else:
        max_ngl = f"{n} of {total} layers: the other {total - n} in system RAM"
    m = f.get("min_n_cpu_moe_that_fits")
    if not e.model.is_moe:
        moe = "dense model: no experts to move"
    elif m is None:
        moe = "none: even with every layer's experts in system RAM the rest does not fit"
    elif m == 0:
        moe = "0: every expert fits on the GPU"
    else:
        moe = f"{m}: the experts of the first {m} layers in system RAM, all else on the GPU"
    return {"max_ngl": max_ngl, "min_n_cpu_moe": moe, "ram_needed": ram_text}


def answers_view(e: Estimate, system: str = BINARY) -> dict:
    """The inverse answers for the scenario's GPU; empty texts without one."""
    s = e.scenario
    if not e.fit:
        blank = "choose a GPU"
        return {"max_context": blank, "max_batch": blank, "best_format": blank, "fewest_gpus": blank,
                **offload_answers(e, system)}
    out = offload_answers(e, system)
    for key, fn, fmt in (("max_context", max_context, lambda v: f"{v:,} tokens"),
                         ("max_batch", max_batch, lambda v: f"{v:,} sequences of {s.context:,} tokens"),
                         ("best_format", best_format, str),
                         ("fewest_gpus", fewest_gpus, lambda v: f"{v[0]} × {e.fit.gpu.name} ({v[1]} parallel)")):
        try:
            answer = fn(s)
        except InputError as err:
            out[key] = err.message
            continue
        out[key] = (fmt(answer.value) + f" — {answer.reason}") if answer.value is not None else answer.reason
    return out


def formats_view(e: Estimate, system: str = BINARY) -> dict:
    """Every weight format for this model and GPU: total, bits per weight, fit; the best fitting one marked."""
    s = e.scenario
    gpu_id = e.fit.gpu.id if e.fit and e.fit.gpu.id != "custom" else ""
    rows = format_table(s, [gpu_id] if gpu_id else [])
    best = best_format(s).value if e.fit else None
    return {"rows": {r.format: {"size": format_bytes(r.bytes, system), "bytes": r.bytes,
                                "bpw": f"{r.bits_per_weight:.2f}",
                                "fit": "" if not e.fit else ("fits" if _row_fits(r, e, gpu_id) else "too big"),
                                "best": r.format == best} for r in rows},
            "best": best or ""}


def _row_fits(row, e, gpu_id) -> bool:
    if gpu_id:
        return row.fits[gpu_id]
    return row.per_gpu <= e.fit.capacity  # a custom GPU: compare with its capacity directly


def format_groups() -> list:
    """(group, [format names]) in display order, for the select and the table."""
    return [(g, [f.name for f in WEIGHT_FORMATS.values() if f.group == g]) for g in GROUPS]


def _item_slots(view: dict) -> dict:
    """The slots an inference or a training view share: the verdict, summary, total and each item."""
    out = {"verdict": view["verdict"]["text"], "summary": view["summary"], "total.size": view["total"]["size"],
           "total.bytes": f"{view['total']['bytes']:,} B", "total.substituted": view["total"]["substituted"]}
    for it in view["items"]:
        for field in ("size", "share", "formula", "substituted", "source", "notes"):
            out[f"{it['key']}.{field}"] = it[field]
        out[f"{it['key']}.bytes"] = f"{it['bytes']:,} B"
    return out


def slots(view: dict) -> dict:
    """The view as {slot name: text}: the names the page's data-slot attributes use."""
    out = _item_slots(view)
    out.update(engine=view["engine"], context_note=view["context_note"], devices_caption=view["devices_caption"])
    out["engine.log"], out["engine.log_title"], out["engine.no_plan"] = view["log"], view["log_title"], view["no_plan"]
    out["speed"], out["speed.formula"] = view["speed"]["text"], view["speed"]["formula"]
    for key, value in view["facts"].items():
        out[f"fact.{key}"] = value
    return out


_FAMILIES = (("meta-llama", "Llama"), ("mistralai", "Mistral"), ("Qwen", "Qwen"), ("google", "Gemma"),
             ("microsoft", "Phi"), ("deepseek-ai", "DeepSeek"), ("openai", "gpt-oss"))


def model_terms(spec) -> str:
    """The words the model picker's search also finds a model by (its kind, which its name may not say)."""
    words = [("moe", spec.is_moe), ("mixture-of-experts", spec.is_moe), ("hybrid", spec.has_state),
             ("mla", spec.kv_lora_rank > 0), ("sliding-window", SLIDING in spec.layer_types)]
    return " ".join(word for word, has in words if has)


def model_groups() -> list:
    """(family, [(preset id, name, search terms)]) for the model picker."""
    from .presets import PRESETS, model
    groups = {}
    for p in PRESETS.values():
        org = p.hf_repo.split("/")[0]
        family = next((label for prefix, label in _FAMILIES if org == prefix), "Other")
        groups.setdefault(family, []).append((p.id, p.name, f"{family} {model_terms(model(p.id))}".lower()))
    order = [label for _, label in _FAMILIES] + ["Other"]
    return [(f, groups[f]) for f in order if f in groups]


def gpu_groups() -> list:
    """(group, [(gpu id, label)]) for the GPU picker, grouped by vendor and kind (devices.GROUPS order),
    labels with the capacity as sold."""
    from .devices import GROUPS
    from .hardware import GPUS
    groups = {name: [] for name in GROUPS}
    for g in GPUS.values():
        sold = g.memory_bytes / GiB
        groups.setdefault(g.group or g.vendor, []).append((g.id, f"{g.name} · {sold:g} GiB"))
    return [(name, rows) for name, rows in groups.items() if rows]


def host_choices() -> list:
    """(id, label) of the CPU systems that can hold offloaded layers, for the hardware-first panel."""
    from .hardware import GPUS
    return [(g.id, f"{g.name} · {g.bandwidth_gbps:g} GB/s") for g in GPUS.values() if g.kind == "cpu"]


def hwfirst_rows(fields: dict, ram_text: str, host_id: str) -> tuple:
    """(rows, note) for the page's hardware-first panel from the form's fields (gpu, gpumem, gpus, context)
    and the panel's RAM and host inputs. Rows are display strings; raises InputError on bad input."""
    from .hardware import custom_gpu, gpu
    from .hwfirst import fit_table
    try:
        ram = float(ram_text or 0)
        context, gpus = int(fields.get("context") or 4096), int(fields.get("gpus") or 1)
    except ValueError:
        raise InputError("hwfirst", "RAM, context and GPU count must be numbers") from None
    if ram != ram or not 0 <= ram <= 1 << 20:
        raise InputError("hwfirst", "RAM must be 0 or more GiB")
    gid = fields.get("gpu") or ""
    if gid == "custom":
        try:
            memory = float(fields.get("gpumem") or 0)
        except ValueError:
            raise InputError("hwfirst", "the custom GPU memory must be a number") from None
        if not 0 < memory <= 1 << 20:
            raise InputError("hwfirst", "give the custom GPU's memory")
        device = custom_gpu(int(memory * GiB))
    elif gid:
        device = gpu(gid)
    else:
        raise InputError("hwfirst", "choose a GPU above first")
    rows = fit_table(device, gpus=gpus, ram_bytes=int(ram * GiB), context=context, host=gpu(host_id))
    out = [{"model": r["name"], "format": r["format"], "params": f"{r['parameters'] / 1e9:,.1f} B",
            "memory": format_bytes(r["total_bytes"]),
            "where": f"offload {r['host_share']:.0%} to RAM" if r["offload"] else "GPU",
            "decode": f"{r['decode_tokens_per_s']:,.1f}" if r["decode_tokens_per_s"] else "–",
            "prefill": f"{r['prefill_tokens_per_s']:,.0f}" if r["prefill_tokens_per_s"] else "–"} for r in rows]
    where = f"{gpus} × {device.name}" if gpus > 1 else device.name
    note = (f"{len(out)} models fit {where} at {context:,} tokens" + (f" with {ram:g} GiB of RAM for offload" if ram else "")
            + ("." if device.bandwidth_gbps else "; speeds need a catalog device (bandwidth)."))
    return out, note


# ---------------------------------------------------------------- training mode

def training_view(e, system: str = BINARY) -> dict:
    """The training estimate for the page: the figures of one GPU (the question is whether each GPU holds
    its share), each item with its formula (which states the all-GPU figures too)."""
    from .training.report import method_label
    per = e.per_gpu
    total = per.total
    items = [_item_view(it, getattr(per, it.key), total, system) for it in e.items]
    ts = e.scenario
    if e.fit:
        verdict = {"state": "fits" if e.fit.fits else "short", "text": fit_sentence(e.fit, ts.gpus, system)}
    else:
        verdict = {"state": "none", "text": f"{format_bytes(total, system)} per GPU. Choose a GPU to check the fit."}
    return {
        "items": items,
        "total": {"key": "total", "bytes": total, "size": format_bytes(total, system),
                  "substituted": " + ".join(format_bytes(it["bytes"], system) for it in items) +
                  f" = {format_bytes(total, system)} per GPU ({total:,} B); all {ts.gpus} GPUs: {e.total.bytes:,} B"},
        "verdict": verdict,
        "summary": (f"{e.model.name} · {method_label(ts)} · {e.precision.label} · {e.optimizer_kind.label} · micro-batch "
                    f"{ts.micro_batch:,} × {ts.seq_len:,} tokens · checkpointing {ts.checkpointing} · "
                    f"{e.sharding.label}"),
        "bar_svg": charts.stacked_bar(e.model.name, [(it["key"], it["label"], it["bytes"]) for it in items], e.fit,
                                      ts.gpus > 1, system),
    }


def training_slots(view: dict) -> dict:
    return _item_slots(view)


def training_answers(e) -> dict:
    from .training import cheapest_setup, max_micro_batch
    out = {}
    for key, fn in (("max_micro_batch", max_micro_batch), ("cheapest", cheapest_setup)):
        try:
            answer = fn(e.scenario)
        except InputError as err:
            out[key] = err.message
            continue
        value = answer.value
        if value is None:
            out[key] = answer.reason
        elif key == "max_micro_batch":
            out[key] = f"{value:,} sequences of {e.scenario.seq_len:,} tokens — {answer.reason}"
        else:
            out[key] = answer.reason
    return out
