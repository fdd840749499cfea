"""DeepSpeed's published model-state estimators (estimate_zero2/zero3_model_states_mem_needs), restated as
bytes per parameter so the tests and the estimate's notes can set our ZeRO figures beside them."""

DEEPSPEED_ZERO2_SRC = "deepspeedai/DeepSpeed deepspeed/runtime/zero/stage_1_and_2.py @edaa7221 estimate_zero2_model_states_mem_needs"
DEEPSPEED_ZERO3_SRC = "deepspeedai/DeepSpeed deepspeed/runtime/zero/stage3.py @edaa7221 estimate_zero3_model_states_mem_needs"

# Bytes per parameter DeepSpeed shards over the GPUs when nothing is offloaded: 2 (16-bit grads) + 4 (fp32
# grads) + 4 (fp32 params) + 8 (Adam states) since PR #5099 (commit f4cb866c, 2024-06-04).
SHARDED_STATE_BYTES = 18


def deepspeed_zero2_estimate(total_params: int, gpus_per_node: int = 1, nodes: int = 1, cpu_offload: bool = True,
                             additional_buffer_factor: float = 1.5, before_pr5099: bool = False) -> tuple:
    """(cpu bytes, gpu bytes) as DeepSpeed's ZeRO-2 estimator gives them. Every GPU keeps the 16-bit
    parameters (2P) and, without offload, its shard of the rest: 2P + int(18P / GPUs). Before PR #5099
    the estimator charged 4P + int(16P / GPUs) (PR #965, commit 0c1802cc, 2021). The CPU figure is the
    fp32 staging it reserves, times the buffer factor."""
    gpus = nodes * gpus_per_node
    buffer = additional_buffer_factor
    if cpu_offload:
        # The optimizer states live on the CPU: 16 B per parameter, or a 4 B fp32 copy per GPU if larger.
        return int(total_params * max(4 * gpus, 16) * buffer), 2 * total_params
    replicated, sharded = (4, 16) if before_pr5099 else (2, SHARDED_STATE_BYTES)
    gpu = replicated * total_params + int(sharded * total_params / gpus)
    return int(total_params * 4 * gpus_per_node * buffer), gpu


def deepspeed_zero3_estimate(total_params: int, largest_layer_params: int, gpus_per_node: int = 1, nodes: int = 1,
                             cpu_offload: bool = True, cpu_offload_params: bool = True, zero_init: bool = True,
                             additional_buffer_factor: float = 1.5) -> tuple:
    """(cpu bytes, gpu bytes, gathered-layer bytes) as DeepSpeed's ZeRO-3 estimator gives them. Each GPU
    holds the largest layer gathered (16-bit parameters and gradients, 4 B per value) plus its shard:
    18 B per parameter without offload, 2 B (the 16-bit parameters) offloading the optimizer, none
    offloading both."""
    gpus = nodes * gpus_per_node
    buffer = additional_buffer_factor
    gathered = 4 * largest_layer_params
    if not cpu_offload:
        sharded_bytes = SHARDED_STATE_BYTES
        # zero_init builds the model already partitioned: the CPU only ever holds one layer per GPU.
        staged = largest_layer_params if zero_init else total_params
        cpu = staged * 4 * gpus_per_node * buffer
    else:
        sharded_bytes = 0 if cpu_offload_params else 2
        cpu_bytes = (18 if cpu_offload_params else 16) / nodes
        if not zero_init:
            cpu_bytes = max(4 * gpus_per_node, cpu_bytes)
        cpu = total_params * cpu_bytes * buffer
    gpu = gathered + int(sharded_bytes * total_params / gpus)
    return int(cpu), gpu, gathered
