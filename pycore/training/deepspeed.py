"""DeepSpeed's published memory estimators, reproduced line for line so the tests and the estimate's notes
can set our model states beside them."""

DEEPSPEED_ZERO2_SRC = "deepspeedai/DeepSpeed deepspeed/runtime/zero/stage_1_and_2.py @edaa7221 estimate_zero2_model_states_mem_needs"
DEEPSPEED_ZERO3_SRC = "deepspeedai/DeepSpeed deepspeed/runtime/zero/stage3.py @edaa7221 estimate_zero3_model_states_mem_needs"



def deepspeed_zero2_estimate(total_params: int, gpus_per_node: int = 1, nodes: int = 1, cpu_offload: bool = True,
                             additional_buffer_factor: float = 1.5, before_pr5099: bool = False) -> tuple:
    """(cpu bytes, gpu bytes) exactly as DeepSpeed's estimate_zero2_model_states_mem_needs computes them
    (deepspeed/runtime/zero/stage_1_and_2.py @edaa7221). Without offload: 2P + int(18P / GPUs), where 18 =
    2 (16-bit grads) + 4 (fp32 grads) + 4 (fp32 params) + 8 (Adam states), since DeepSpeed PR #5099
    (commit f4cb866c, 2024-06-04); before it, 4P + int(16P / GPUs) (PR #965, commit 0c1802cc, 2021)."""
    total_gpus = nodes * gpus_per_node
    if cpu_offload:
        gpu_mem = 2 * total_params
        cpu_mem = total_params * max(4 * total_gpus, 16) * additional_buffer_factor
    else:
        if before_pr5099:
            gpu_mem = 4 * total_params + int(16 * total_params / total_gpus)
        else:
            gpu_mem = 2 * total_params + int(18 * total_params / total_gpus)
        cpu_mem = total_params * 4 * gpus_per_node * additional_buffer_factor
    return int(cpu_mem), int(gpu_mem)


def deepspeed_zero3_estimate(total_params: int, largest_layer_params: int, gpus_per_node: int = 1, nodes: int = 1,
                             cpu_offload: bool = True, cpu_offload_params: bool = True, zero_init: bool = True,
                             additional_buffer_factor: float = 1.5) -> tuple:
    """(cpu bytes, gpu bytes, largest layer bytes) exactly as DeepSpeed's estimate_zero3_model_states_mem_needs
    (deepspeed/runtime/zero/stage3.py @edaa7221): largest_layer_memory = 4 × largest_layer_params (16-bit
    parameters and gradients of the gathered layer); without offload gpu = that + int(18P / GPUs)."""
    total_gpus = nodes * gpus_per_node
    gpus_factor = 1 / nodes
    largest_layer_memory = 4 * largest_layer_params
    if cpu_offload:
        if cpu_offload_params:
            gpu_mem = largest_layer_memory
            if zero_init:
                cpu_mem = total_params * 18 * gpus_factor * additional_buffer_factor
            else:
                cpu_mem = total_params * max(4 * gpus_per_node, 18 * gpus_factor) * additional_buffer_factor
        else:
            gpu_mem = largest_layer_memory + int(2 * total_params / total_gpus)
            if zero_init:
                cpu_mem = total_params * 16 * gpus_factor * additional_buffer_factor
            else:
                cpu_mem = total_params * max(4 * gpus_per_node, 16 * gpus_factor) * additional_buffer_factor
    else:
        gpu_mem = largest_layer_memory + int(18 * total_params / total_gpus)
        if zero_init:
            cpu_mem = largest_layer_params * 4 * gpus_per_node * additional_buffer_factor
        else:
            cpu_mem = total_params * 4 * gpus_per_node * additional_buffer_factor
    return int(cpu_mem), int(gpu_mem), largest_layer_memory
