"""A training estimate written out: JSON-able data (CLI `train --json`, page export) and a text table."""
from ..memory import LineItem
from ..units import format_bytes
from .estimate import TrainingDevice, TrainingEstimate
from .scenario import TRAINING_FIELDS



def _item_dict(it: LineItem) -> dict:
    return {"bytes": it.bytes, "label": it.label, "formula": it.formula, "substituted": it.substituted,
            "source": it.source, "notes": list(it.notes)}


def training_dict(e: TrainingEstimate) -> dict:
    """The estimate as JSON-able data (CLI `train --json`, page export): one entry per item, each with
    `bytes` (all GPUs together), the total, per-GPU devices and the fit."""
    s = {f: getattr(e.scenario, f) for f in TRAINING_FIELDS}
    s["model"] = e.model_id
    s["lora_modules"] = list(e.scenario.lora_modules)
    out = {
        "model": {"id": e.model_id, "name": e.model.name, "source": e.model.source},
        "scenario": s,
        "parameters": {"total": e.parameters.total, "trainable": e.states.trainable, "adapters": e.states.adapter_params},
        "sharding": {"stage": e.sharding.stage, "shards": e.sharding.shards, "data_parallel": e.sharding.dp,
                     "tensor_parallel": e.scenario.tp, "label": e.sharding.label},
        "items": [{"key": it.key, "label": it.label, "bytes": it.bytes} for it in e.items],
    }
    for it in e.items:
        out[it.key] = _item_dict(it)
    out["total"] = _item_dict(e.total)
    out["per_gpu"] = _device_dict(e.per_gpu)
    out["devices"] = [_device_dict(d) for d in e.devices]
    if e.fit:
        out["fit"] = {"gpu": e.fit.gpu.id, "gpu_name": e.fit.gpu.name, "gpus": e.scenario.gpus,
                      "memory_bytes": e.fit.gpu.memory_bytes, "usable_bytes": e.fit.gpu.usable_bytes,
                      "capacity_bytes": e.fit.capacity, "fits": e.fit.fits, "headroom_bytes": e.fit.headroom}
    return out


def _device_dict(d: TrainingDevice) -> dict:
    return {"index": d.index, "weights": d.weights, "gradients": d.gradients, "optimizer": d.optimizer,
            "activations": d.activations, "adapters": d.adapters, "overhead": d.overhead, "total": d.total}


def training_table(e: TrainingEstimate) -> str:
    ts = e.scenario
    method = {"full": "full fine-tuning", "lora": f"LoRA r={ts.lora_rank} ({','.join(ts.lora_modules)})",
              "qlora": f"QLoRA r={ts.lora_rank} ({','.join(ts.lora_modules)})"}[ts.method]
    lines = [f"{e.model.name} · {method} · {e.precision.label} · {e.optimizer_kind.label} · micro-batch "
             f"{ts.micro_batch:,} × {ts.seq_len:,} tokens · checkpointing {ts.checkpointing}",
             f"{e.sharding.label}" + (f", tensor parallel {ts.tp}" if ts.tp > 1 else ""), ""]
    width = max(len(it.label) for it in e.items)
    per = e.per_gpu
    for it in e.items:
        lines.append(f"{it.label:<{width}}  {format_bytes(getattr(per, it.key)):>12} per GPU  {it.bytes:>18,} B")
        lines.append(f"{'':<{width}}  {it.substituted}")
    lines.append(f"{'Total':<{width}}  {format_bytes(per.total):>12} per GPU  {e.total.bytes:>18,} B")
    if e.fit:
        f = e.fit
        where = f"{ts.gpus} × {f.gpu.name}" if ts.gpus > 1 else f.gpu.name
        verdict = (f"Fits on {where}: {format_bytes(f.capacity)} usable per GPU, {format_bytes(f.headroom)} to spare."
                   if f.fits else
                   f"Does not fit on {where}: {format_bytes(f.capacity)} usable per GPU, {format_bytes(-f.headroom)} short.")
        lines += ["", verdict]
    return "\n".join(lines)


def training_markdown(e: TrainingEstimate) -> str:
    """The estimate as a Markdown table (the page's export), per GPU and for all GPUs."""
    ts, per = e.scenario, e.per_gpu
    rows = ["| Item | Per GPU | All GPUs (bytes) | Formula |", "|---|---:|---:|---|"]
    for it in e.items:
        rows.append(f"| {it.label} | {format_bytes(getattr(per, it.key))} | {it.bytes:,} | "
                    f"{it.substituted.replace('|', '/')} |")
    rows.append(f"| **Total** | **{format_bytes(per.total)}** | {e.total.bytes:,} | |")
    head = (f"**{e.model.name}**, {ts.method} training, {e.precision.label}, {e.optimizer_kind.label}, micro-batch "
            f"{ts.micro_batch:,} × {ts.seq_len:,} tokens, {e.sharding.label}")
    return "\n".join([head, "", *rows, "", "Units: GiB = 2^30 bytes."])
