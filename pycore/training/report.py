"""A training estimate written out: JSON-able data (CLI `train --json`, page export) and a text table."""
from ..report import fit_dict, fit_sentence, item_dict, md_text
from ..units import BINARY, format_bytes
from .estimate import TrainingDevice, TrainingEstimate
from .scenario import TRAINING_FIELDS, TrainingScenario


def method_label(ts: TrainingScenario, modules: bool = False) -> str:
    """'full fine-tuning', 'LoRA r=8' or 'QLoRA r=8', with the adapted modules if asked."""
    if ts.method == "full":
        return "full fine-tuning"
    which = f" ({','.join(ts.lora_modules)})" if modules else ""
    return f"{'QLoRA' if ts.method == 'qlora' else 'LoRA'} r={ts.lora_rank}{which}"


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
        out[it.key] = item_dict(it)
    out["total"] = item_dict(e.total)
    out["per_gpu"] = _device_dict(e.per_gpu)
    out["devices"] = [_device_dict(d) for d in e.devices]
    if e.fit:
        out["fit"] = fit_dict(e.fit, e.scenario.gpus)
    return out


def _device_dict(d: TrainingDevice) -> dict:
    return {"index": d.index, "weights": d.weights, "gradients": d.gradients, "optimizer": d.optimizer,
            "activations": d.activations, "adapters": d.adapters, "overhead": d.overhead, "total": d.total}


def training_table(e: TrainingEstimate, system: str = BINARY) -> str:
    """The training estimate as text; sizes in GiB (BINARY) or GB (DECIMAL), bytes exact beside them."""
    ts = e.scenario
    lines = [f"{e.model.name} · {method_label(ts, modules=True)} · {e.precision.label} · {e.optimizer_kind.label} · micro-batch "
             f"{ts.micro_batch:,} × {ts.seq_len:,} tokens · checkpointing {ts.checkpointing}",
             f"{e.sharding.label}" + (f", tensor parallel {ts.tp}" if ts.tp > 1 else ""), ""]
    width = max(len(it.label) for it in e.items)
    per, g = e.per_gpu, ts.gpus
    # each row: one GPU's share in GiB and in bytes (the same quantity), then all GPUs' bytes where there are several
    every = f"  {f'all {g:,} GPUs':>20}" if g > 1 else ""
    lines.append(f"{'':<{width}}  {'per GPU':>12}  {'per GPU':>20}" + every)
    for it in e.items:
        mine = getattr(per, it.key)
        lines.append(f"{it.label:<{width}}  {format_bytes(mine, system):>12}  {mine:>18,} B" +
                     (f"  {it.bytes:>18,} B" if g > 1 else ""))
        lines.append(f"{'':<{width}}  {it.substituted}")
    lines.append(f"{'Total':<{width}}  {format_bytes(per.total, system):>12}  {per.total:>18,} B" +
                 (f"  {e.total.bytes:>18,} B" if g > 1 else ""))
    if e.fit:
        lines += ["", fit_sentence(e.fit, ts.gpus, system)]
    return "\n".join(lines)


def training_markdown(e: TrainingEstimate) -> str:
    """The estimate as a Markdown table (the page's export), per GPU and for all GPUs."""
    ts, per = e.scenario, e.per_gpu
    rows = ["| Item | Per GPU | All GPUs (bytes) | Formula |", "|---|---:|---:|---|"]
    for it in e.items:
        rows.append(f"| {it.label} | {format_bytes(getattr(per, it.key))} | {it.bytes:,} | "
                    f"{md_text(it.substituted)} |")
    rows.append(f"| **Total** | **{format_bytes(per.total)}** | {e.total.bytes:,} | |")
    head = (f"**{md_text(e.model.name)}**, {method_label(ts)}, {e.precision.label}, {e.optimizer_kind.label}, micro-batch "
            f"{ts.micro_batch:,} × {ts.seq_len:,} tokens, {e.sharding.label}")
    return "\n".join([head, "", *rows, "", "Units: GiB = 2^30 bytes."])
