"""Training's inverse questions: the largest micro-batch that fits, and the cheapest setup that fits.
Each answer agrees with the forward estimate (it fits; one more does not)."""
from dataclasses import dataclass

from ..errors import InputError
from ..scenario import MAX_BATCH, MAX_GPUS
from ..monotone import largest
from ..solve import Answer, _require_gpu
from ..units import format_bytes
from .estimate import estimate_training
from .scenario import TrainingScenario


def _fits(ts: TrainingScenario) -> bool:
    try:
        return estimate_training(ts).fit.fits
    except InputError:
        return False


def max_micro_batch(ts: TrainingScenario) -> Answer:
    """Largest micro-batch (sequences per GPU per step) that fits; memory grows with it, so the
    answer fits and one more does not."""
    _require_gpu(ts)
    best = largest(lambda n: _fits(ts.with_(micro_batch=n)), 1, MAX_BATCH)
    if best is None:
        return Answer(None, "not even one sequence fits: try checkpointing, LoRA/QLoRA, ZeRO or more GPUs")
    return Answer(best, f"a micro-batch of {best + 1:,} would not fit" if best < MAX_BATCH else "no limit found")


@dataclass(frozen=True)
class Setup:
    method: str
    gpus: int
    zero: int
    per_gpu_bytes: int
    alternatives: tuple = ()  # (method, fewest GPUs or None, per-GPU bytes there), per method


SETUP_METHODS = ("qlora", "lora", "full")


def cheapest_setup(ts: TrainingScenario, max_gpus: int = 64) -> Answer:
    """The cheapest way to train that fits, among QLoRA, LoRA and full fine-tuning, each on 1 GPU or with
    ZeRO-3 over N. Cheapest means fewest GPUs, then least memory per GPU. Every other setting (precision,
    optimizer, micro-batch, sequence, checkpointing, tensor parallel degree) is kept as given."""
    _require_gpu(ts)
    base = ts.with_(fsdp="none")
    found = {}
    for method in SETUP_METHODS:
        for n in range(ts.tp, min(max_gpus, MAX_GPUS) + 1, ts.tp):
            candidate = base.with_(method=method, gpus=n, zero=3 if n > ts.tp else 0)
            try:
                e = estimate_training(candidate)
            except InputError:
                break  # the method does not apply to this model (e.g. no adaptable module)
            if e.fit.fits:
                found[method] = (n, e.sharding.stage, e.per_gpu.total)
                break
    alternatives = tuple((m, *(found[m][::2] if m in found else (None, None))) for m in SETUP_METHODS)
    if not found:
        return Answer(None, f"nothing fits on {max_gpus} GPUs")
    method = min(found, key=lambda m: (found[m][0], found[m][2]))
    n, stage, per = found[method]
    where = f"{n} GPU" + ("s with ZeRO-3" if n > 1 else "")
    return Answer(Setup(method, n, stage, per, alternatives),
                  f"{method} on {where} ({format_bytes(per)} per GPU): fewest GPUs, then least memory per GPU")
