"""Bytes per value of everything training keeps: the precision recipes (which format each tensor is
stored in) and the optimizers (what state they keep per parameter), each with its source."""
import math
from dataclasses import dataclass

from ..formats import weight_format

ZERO_SRC = "ZeRO (Rajbhandari et al., arXiv:1910.02054) §3.1 and §5"


def _elem(fmt_name: str) -> int:
    """Bytes per value of a plain float format, read from the format table (one place for sizes)."""
    return weight_format(fmt_name).bits // 8


# ---------------------------------------------------------------- precision

@dataclass(frozen=True)
class Precision:
    """Which format each training tensor is kept in (names from the format table)."""

    name: str
    label: str
    weights: str  # trainable weights the forward pass reads
    grads: str  # their gradients
    master: str  # the optimizer's own fp32 copy of the weights, or ""
    state: str  # optimizer states that follow the parameter (Adam moments, SGD momentum)
    adapter: str  # LoRA adapters, their gradients and states
    frozen: str  # frozen base weights under LoRA
    activations: str
    source: str


_MIXED_SRC = (f"{ZERO_SRC}: 16-bit weights and gradients, fp32 master weights and fp32 Adam states "
              "(2 + 2 + 4 + 4 + 4 = 16 B per parameter); Micikevicius et al., arXiv:1710.03740")
PRECISIONS = {p.name: p for p in (
    Precision("fp32", "fp32", "FP32", "FP32", "", "FP32", "FP32", "FP32", "FP32",
              "everything in fp32: weights 4, gradients 4, Adam moments 4 + 4 B per parameter"),
    Precision("mixed_bf16", "mixed precision (bf16)", "BF16", "BF16", "FP32", "FP32", "FP32", "BF16", "BF16", _MIXED_SRC),
    Precision("mixed_fp16", "mixed precision (fp16)", "FP16", "FP16", "FP32", "FP32", "FP32", "FP16", "FP16",
              _MIXED_SRC + "; the loss scaler is a few scalars"),
    Precision("bf16", "pure bf16", "BF16", "BF16", "", "BF16", "BF16", "BF16", "BF16",
              "pure bf16: no fp32 copy; torch.optim keeps states in the parameter dtype "
              "(torch.zeros_like(p), pytorch/pytorch torch/optim/adam.py @005941eb): Adam 2 + 2 + 2 + 2 = 8 B per parameter"),
)}


# ---------------------------------------------------------------- optimizers

ADAM8_MIN_SIZE = 4096  # bitsandbytes Optimizer2State min_8bit_size
ADAM8_BLOCK = 256  # absmax block of the 8-bit states since bitsandbytes #1365 (2048 before)
ADAM8_QMAP_BYTES = 2 * 256 * 4  # the signed and unsigned 256-entry fp32 dynamic maps, shared by all parameters
FP32_STATE = 4  # Adafactor and the 8-bit absmax are fp32 whatever the parameter dtype


@dataclass(frozen=True)
class Optimizer:
    name: str
    label: str
    states: str  # what it keeps, in words
    source: str

    def state_bytes(self, ne: tuple, state_elem: int) -> int:
        """Bytes of this optimizer's states for one parameter of ggml shape `ne`. A stacked expert
        tensor counts as one parameter per expert, as transformers stores experts (one Linear each)."""
        per, count = _parameter_slices(ne)
        if self.name == "adamw":
            return 2 * per * count * state_elem
        if self.name == "sgd_momentum":
            return per * count * state_elem
        if self.name == "sgd":
            return 0
        if self.name == "adam8bit":
            if per < ADAM8_MIN_SIZE:
                return count * 2 * per * FP32_STATE
            return count * (2 * per + 2 * FP32_STATE * -(-per // ADAM8_BLOCK))
        if self.name == "adafactor":
            if len(ne) >= 2:  # torch shape (..., rows, cols) = reversed ne: a row vector and a column vector
                return count * FP32_STATE * (ne[0] + ne[1])
            return FP32_STATE * per
        raise AssertionError(self.name)

    def uses_8bit(self, ne: tuple) -> bool:
        return self.name == "adam8bit" and _parameter_slices(ne)[0] >= ADAM8_MIN_SIZE


OPTIMIZERS = {o.name: o for o in (
    Optimizer("adamw", "AdamW", "two moments (m, v) per parameter",
              "Loshchilov & Hutter, arXiv:1711.05101; torch/optim/adam.py @005941eb zeros_like(p) for exp_avg, exp_avg_sq"),
    Optimizer("adam8bit", "8-bit AdamW (bitsandbytes)",
              f"uint8 m and v, one fp32 absmax each per {ADAM8_BLOCK} values; parameters under "
              f"{ADAM8_MIN_SIZE:,} values keep fp32 m and v",
              "Dettmers et al., arXiv:2110.02861; bitsandbytes bitsandbytes/optim/optimizer.py @95f9af30 "
              "Optimizer2State.init_state (blocksize 256 since #1365, aa57bd89; 2048 before)"),
    Optimizer("sgd_momentum", "SGD with momentum", "one momentum buffer per parameter",
              "torch/optim/sgd.py: momentum_buffer = clone(grad), the parameter's dtype"),
    Optimizer("adafactor", "Adafactor", "factored second moment: a row and a column vector per matrix, "
              "the whole second moment for vectors; no first moment (beta1=None)",
              "Shazeer & Stern, arXiv:1804.04235; transformers src/transformers/optimization.py @005edacb Adafactor "
              "(states zeros(...).to(grad) after grad.float(): fp32)"),
    Optimizer("sgd", "SGD (no momentum)", "no state", "torch/optim/sgd.py with momentum=0"),
)}


def _parameter_slices(ne: tuple) -> tuple:
    """(values per parameter, parameters): a 3-D stacked expert tensor is ne[2] parameters of ne[0]·ne[1]."""
    if len(ne) > 2:
        return ne[0] * ne[1], math.prod(ne[2:])
    return math.prod(ne), 1
