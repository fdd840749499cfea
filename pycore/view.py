"""What the page shows, as plain values: the same dict fills the HTML at build time (Jinja) and the
page's slots at run time (browser Python), so no figure is formatted in two places.
"""
from . import charts
from .errors import InputError
from .formats import GROUPS, WEIGHT_FORMATS
from .memory import Estimate
from .models import layer_kinds
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
        "context_note": f"model maximum {e.model.max_context:,} tokens",
    }


def _verdict(e: Estimate, system) -> dict:
    if not e.fit:
        return {"state": "none", "text": f"Total {format_bytes(e.total, system)}. Choose a GPU to check the fit."}
    return {"state": "fits" if e.fit.fits else "short", "text": fit_sentence(e.fit, e.layout.devices, system)}


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
    return {"parameters": f"{p.total:,}",
            "active": (f"{p.active:,} ({spec.experts_per_token} of {spec.num_experts} experts)" if spec.is_moe
                       else "all (dense model)"),
            "layers": f"{spec.num_layers}: {attention}", "kv_heads": kv, "hidden": f"{spec.hidden_size:,}",
            "vocab": f"{spec.vocab_size:,}", "max_context": f"{spec.max_context:,} tokens",
            "bpw": f"{e.bits_per_weight:.3f} ({e.weight_format.name})"}


def answers_view(e: Estimate, system: str = BINARY) -> dict:
    """The inverse answers for the scenario's GPU; empty texts without one."""
    s = e.scenario
    if not e.fit:
        blank = "choose a GPU"
        return {"max_context": blank, "max_batch": blank, "best_format": blank, "fewest_gpus": blank}
    out = {}
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
    return row.bytes <= e.fit.capacity  # a custom GPU: compare with its capacity directly


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
    for key, value in view["facts"].items():
        out[f"fact.{key}"] = value
    return out


_FAMILIES = (("meta-llama", "Llama"), ("mistralai", "Mistral"), ("Qwen", "Qwen"), ("google", "Gemma"),
             ("microsoft", "Phi"), ("deepseek-ai", "DeepSeek"), ("openai", "gpt-oss"))


def model_groups() -> list:
    """(family, [(preset id, name)]) for the model picker."""
    from .presets import PRESETS
    groups = {}
    for p in PRESETS.values():
        org = p.hf_repo.split("/")[0]
        family = next((label for prefix, label in _FAMILIES if org == prefix), "Other")
        groups.setdefault(family, []).append((p.id, p.name))
    order = [label for _, label in _FAMILIES] + ["Other"]
    return [(f, groups[f]) for f in order if f in groups]


def gpu_groups() -> list:
    """(group, [(gpu id, label)]) for the GPU picker, labels with the capacity as sold."""
    from .hardware import GPUS
    groups = {}
    for g in GPUS.values():
        if g.vendor == "NVIDIA":
            group = ("NVIDIA GeForce" if "GeForce" in g.name else
                     "NVIDIA workstation" if g.id.startswith("rtx-") else "NVIDIA data center")
        elif g.vendor == "AMD":
            group = "AMD"
        else:
            group = "Apple silicon (unified memory)"
        sold = g.memory_bytes / GiB
        groups.setdefault(group, []).append((g.id, f"{g.name} · {sold:g} GiB"))
    return list(groups.items())


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
