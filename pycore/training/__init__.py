"""Training and fine-tuning memory: full fine-tuning, LoRA and QLoRA; their precision and optimizer
states; activations with or without recomputation; ZeRO / FSDP sharding and tensor parallelism.

Every figure is a whole number of bytes built from the model's real tensors (`models.weight_tensors`)
and the format table (`formats.weight_storage`), never from a rounded parameter count. Each line item
carries its formula in words, the same formula with this scenario's numbers, and its source.

Where the bytes come from:
- Model states (ZeRO paper, Rajbhandari et al., arXiv:1910.02054 §3.1): mixed-precision Adam keeps
  16-bit weights (2 B) and gradients (2 B), and the optimizer keeps an fp32 master copy (4 B) and the
  two Adam moments (4 + 4 B): 16 bytes per parameter. The `optimizer` item holds master copy and
  states together, as ZeRO-1 partitions them together.
- Pure bf16: torch.optim keeps its states in the parameter's dtype (`torch.zeros_like(p)`,
  pytorch/pytorch torch/optim/adam.py @005941eb): Adam is 2 + 2 + 2 + 2 = 8 bytes per parameter.
- 8-bit Adam: bitsandbytes Optimizer2State (bitsandbytes/optim/optimizer.py @95f9af30): uint8 state1
  and state2, one fp32 absmax each per 256-value block (256 since #1365, aa57bd89, 2024-09; 2048 before);
  parameters under min_8bit_size = 4096 values keep fp32 states; two 256-entry fp32 quantization maps.
- Adafactor (Shazeer & Stern, arXiv:1804.04235; transformers src/transformers/optimization.py
  @005edacb defaults beta1=None): no first moment; a matrix keeps a row and a column vector of the
  second moment, a vector keeps it whole; states in fp32 (the gradient is upcast first).
- LoRA (Hu et al., arXiv:2106.09685): r·(in + out) parameters per adapted linear; PEFT upcasts 16-bit
  adapters to fp32 by default (huggingface/peft src/peft/tuners/tuners_utils.py @831fd03e,
  `_cast_adapter_dtype`, autocast_adapter_dtype=True). QLoRA (Dettmers et al., arXiv:2305.14314): the
  frozen base in NF4 with or without double quantization, from `formats`.
- Activations: Korthikanti et al., arXiv:2205.05198 §4 (Table 2), generalised to the model's real
  widths (see `layer_activation_bytes`).
- DeepSpeed's own estimators are restated in `deepspeed_zero2_estimate` / `deepspeed_zero3_estimate`.

Modules: `precision` (bytes per value: precisions and optimizers), `scenario` (the question, validated),
`states` (weights, gradients, optimizer states and LoRA adapters per rank), `activations`, `estimate`
(sharding, line items, fit), `deepspeed` (its estimators, for comparison), `solve` (inverse answers),
`report` (JSON and text).

    from pycore.training import TrainingScenario, estimate_training
    e = estimate_training(TrainingScenario("llama-3.1-8b", method="qlora", gpu="rtx-4090"))
    e.per_gpu.total, e.optimizer.bytes, e.fit.fits
"""
from .activations import (Activations, activations, korthikanti_layer_bytes, layer_activation_bytes, logits_bytes,
                          paper_formula)
from .deepspeed import deepspeed_zero2_estimate, deepspeed_zero3_estimate
from .estimate import ITEM_KEYS, Sharding, TrainingDevice, TrainingEstimate, estimate_training, sharding
from .precision import OPTIMIZERS, PRECISIONS, Optimizer, Precision
from .report import training_dict, training_markdown, training_table
from .scenario import (CHECKPOINTING, DEFAULT_LORA_MODULES, FSDP_MODES, LORA_MODULES, METHODS, TRAINING_FIELDS,
                       TrainingScenario)
from .solve import Setup, cheapest_setup, max_micro_batch
from .states import ModelStates, adapter_tensors, lora_parameters, model_states

__all__ = ["Activations", "CHECKPOINTING", "DEFAULT_LORA_MODULES", "FSDP_MODES", "ITEM_KEYS", "LORA_MODULES",
           "METHODS", "ModelStates", "OPTIMIZERS", "Optimizer", "PRECISIONS", "Precision", "Setup", "Sharding",
           "TRAINING_FIELDS", "TrainingDevice", "TrainingEstimate", "TrainingScenario", "activations",
           "adapter_tensors", "cheapest_setup", "deepspeed_zero2_estimate", "deepspeed_zero3_estimate",
           "estimate_training", "korthikanti_layer_bytes", "layer_activation_bytes", "logits_bytes",
           "lora_parameters", "max_micro_batch", "model_states", "paper_formula", "sharding", "training_dict",
           "training_markdown", "training_table"]
