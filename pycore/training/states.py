"""Model states on one tensor-parallel rank, before sharding: the (trainable or frozen) weights, the
gradients, the optimizer's master copy and states, and LoRA's adapters built from the real shapes."""
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InputError
from ..formats import weight_format, weight_storage
from ..models import (EXPERT_ROLES, MATRIX, TP_REPLICATE, ModelSpec, Tensor, parameter_count, tp_share,
                      weight_tensors)
from .precision import ADAM8_QMAP_BYTES, OPTIMIZERS, PRECISIONS, _elem, _parameter_slices
from .scenario import DEFAULT_LORA_MODULES, _lora_modules


# Which LoRA target names cover which GGUF tensor roles. A fused matrix (GPT-NeoX/Phi-3 qkv, Phi-3
# gate_up) is one nn.Linear: any of its parts adapts it once. MLA's down/up projections belong to
# the query (q_a, q_b) or to keys and values (kv_a, kv_b), as PEFT targets them by module name.
_ROLE_TARGETS = {
    "attn_q": {"q"}, "attn_q_a": {"q"}, "attn_q_b": {"q"}, "attn_k": {"k"}, "attn_v": {"v"},
    "attn_qkv": {"q", "k", "v"}, "attn_kv_a_mqa": {"k", "v"}, "attn_kv_b": {"k", "v"}, "attn_output": {"o"},
    "ffn_gate": {"gate"}, "ffn_up": {"up"}, "ffn_down": {"down"},
    "ffn_gate_shexp": {"gate"}, "ffn_up_shexp": {"up"}, "ffn_down_shexp": {"down"},
    "ffn_gate_exps": {"gate"}, "ffn_up_exps": {"up"}, "ffn_down_exps": {"down"},
}


def _targets(spec: ModelSpec, role: str) -> set:
    if role == "ffn_up" and spec.fused_gate_up:
        return {"gate", "up"}
    return _ROLE_TARGETS.get(role, set())


@lru_cache(maxsize=256)
def adapter_tensors(spec: ModelSpec, modules: tuple, rank: int) -> tuple:
    """LoRA's A (in → r) and B (r → out) for every adapted linear, in ggml order (ne[0] = in features).
    A stacked expert tensor gets one adapter pair per expert (ne[2] stays), so r·(in + out)·experts."""
    chosen = set(modules)
    out = []
    for t in weight_tensors(spec):
        if t.kind != MATRIX or not t.name.endswith(".weight") or not (_targets(spec, t.role) & chosen):
            continue
        rest = t.ne[2:]
        base = t.name[:-len(".weight")]
        out.append(Tensor(base + ".lora_A.weight", t.role, t.layer, (t.ne[0], rank) + rest, MATRIX, TP_REPLICATE))
        out.append(Tensor(base + ".lora_B.weight", t.role, t.layer, (rank, t.ne[1]) + rest, MATRIX, TP_REPLICATE))
    return tuple(out)


def lora_parameters(spec: ModelSpec, modules=DEFAULT_LORA_MODULES, rank: int = 8) -> int:
    """Trainable LoRA parameters: Σ over adapted linears of r·(in + out) (× experts)."""
    return sum(t.numel for t in adapter_tensors(spec, _lora_modules(modules), rank))


# ---------------------------------------------------------------- model states (per tensor-parallel rank)

def _share(t: Tensor, amount: int, spec: ModelSpec, tp: int) -> int:
    """One tensor-parallel rank's share: the inference weights' layout rule (models.tp_share)."""
    return tp_share(t, amount, spec.num_kv_heads, tp)


@dataclass(frozen=True)
class ModelStates:
    """What the model and its optimizer hold on one tensor-parallel rank, before ZeRO sharding."""

    base_format: str  # format name of the (frozen or trainable) base weights
    weights: int  # base weights (trainable 16/32-bit copy for full fine-tuning, frozen base for LoRA)
    gradients: int
    master: int  # fp32 master copy (mixed precision, full fine-tuning)
    states: int  # optimizer states
    adapters: int  # LoRA A and B
    trainable: int  # trainable parameters (whole model)
    adapter_params: int
    adapted: tuple  # (layer, role) of every adapted linear
    largest_layer: int  # values of the largest single module on this rank (DeepSpeed's largest_layer_params)
    largest_layer_name: str
    largest_layer_bytes: int  # that module in the base format
    dequant: int  # QLoRA: values of the largest quantized matrix (dequantized to 16-bit per matmul)
    eight_bit: bool  # any 8-bit optimizer state (the shared quantization maps are then counted once)

    @property
    def optimizer(self) -> int:
        return self.master + self.states


@lru_cache(maxsize=512)
def model_states(spec: ModelSpec, method: str, precision: str, optimizer: str, tp: int = 1,
                 modules: tuple = DEFAULT_LORA_MODULES, rank: int = 8, double_quant: bool = True) -> ModelStates:
    prec, opt = PRECISIONS[precision], OPTIMIZERS[optimizer]
    base_name = {"full": prec.weights, "lora": prec.frozen}.get(method, "NF4-DQ" if double_quant else "NF4")
    base = weight_storage(spec, weight_format(base_name))
    weights = sum(_share(t, s.bytes, spec, tp) for t, s in base.tensors)
    if method == "full":
        grads = weight_storage(spec, weight_format(prec.grads))
        gradients = sum(_share(t, s.bytes, spec, tp) for t, s in grads.tensors)
        master = 0
        if prec.master:
            master = sum(_share(t, s.bytes, spec, tp) for t, s in weight_storage(spec, weight_format(prec.master)).tensors)
        elem = _elem(prec.state)
        trained = [t for t, _ in base.tensors]
        states = sum(_share(t, opt.state_bytes(t.ne, elem), spec, tp) for t in trained)
        adapters = adapter_params = 0
        adapted = ()
        trainable = parameter_count(spec).language
    else:
        lora = adapter_tensors(spec, modules, rank)
        if not lora:
            raise InputError("lora_modules", f"none of {', '.join(modules)} exist in {spec.name}")
        elem = _elem(prec.adapter)
        adapter_params = sum(t.numel for t in lora)
        adapters = gradients = adapter_params * elem  # adapters stay whole on every tensor-parallel rank
        master = 0
        trained = list(lora)
        states = sum(opt.state_bytes(t.ne, elem) for t in trained)
        adapted = tuple(sorted({(t.layer, t.role) for t in lora}))
        trainable = adapter_params
    eight_bit = any(opt.uses_8bit(t.ne) for t in trained)
    if eight_bit:
        states += ADAM8_QMAP_BYTES
    # DeepSpeed's largest layer: the most parameters any single module holds directly (weight + bias);
    # transformers keeps one Linear per expert, so a stacked expert tensor counts one expert.
    modules_seen = {}
    for t, s in base.tensors:
        per = t.ne[-1] if t.role in EXPERT_ROLES and len(t.ne) >= 2 else 1
        n, b = modules_seen.get((t.layer, t.role), (0, 0))
        modules_seen[(t.layer, t.role)] = (n + _share(t, t.numel // per, spec, tp), b + _share(t, s.bytes // per, spec, tp))
    (layer, role), (largest, largest_bytes) = max(modules_seen.items(), key=lambda kv: kv[1][0])
    dequant = 0
    if method == "qlora":
        for t, s in base.tensors:
            if s.label.startswith("nf4"):
                dequant = max(dequant, _share(t, _parameter_slices(t.ne)[0], spec, tp))
    name = role if layer < 0 else f"blk.{layer}.{role}"
    return ModelStates(base_name, weights, gradients, master, states, adapters, trainable, adapter_params, adapted,
                       largest, name, largest_bytes, dequant, eight_bit)
