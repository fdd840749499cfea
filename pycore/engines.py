"""Inference engine profiles: the few engine facts that change the memory figures, each with its source.

An engine decides how many tokens go through the model at once (the prefill chunk), the width of
its activations, which logits it materialises, how much of the GPU it lets itself use, what its
runtime costs before any tensor is allocated, and in what units it hands out KV-cache cells.
The architecture says how many tokens a layer must keep; the engine rounds that up to its cells.
"""
from dataclasses import dataclass

from .errors import UnknownNameError
from .units import GiB, MiB


def _round_up(n: int, step: int) -> int:
    return -(-n // step) * step


@dataclass(frozen=True)
class Engine:
    name: str
    label: str
    activation_bytes: int  # bytes per activation value
    prefill_chunk: int  # tokens per forward pass; 0 = the whole batch × context at once
    large_gpu_chunk: int  # prefill chunk on GPUs of 70 GiB and more (vLLM), else same as prefill_chunk
    logits_for_every_token: bool  # True: the logits buffer holds a row per token of the chunk
    memory_fraction: float  # share of the GPU the engine allows itself
    overhead_bytes: int  # runtime and CUDA context per GPU, before weights
    cell_multiple: int  # KV cells are allocated in multiples of this many tokens
    window_cells: tuple  # sliding layers: (add the prefill chunk?, tokens added, extra cell blocks)
    source: str
    # Recurrent (conv and SSM) state: "f32" (llama.cpp), or "model" (the model dtype, the SSM state in the
    # checkpoint's mamba_ssm_dtype when it names one), with where that comes from
    state_dtype: str = "model"
    state_source: str = ""

    def state_value_bytes(self, ssm_dtype: str = "") -> tuple:
        """(conv, ssm) bytes per state value this engine keeps for a model whose config asks for
        `ssm_dtype` ("float32", "bfloat16", … or "" for the model dtype)."""
        if self.state_dtype == "f32":
            return 4, 4
        ssm = {"float32": 4, "float": 4, "fp32": 4}.get(ssm_dtype, self.activation_bytes)
        return self.activation_bytes, ssm

    def chunk(self, gpu_usable_bytes: int = 0) -> int:
        if self.large_gpu_chunk and gpu_usable_bytes >= 70 * GiB:
            return self.large_gpu_chunk
        return self.prefill_chunk

    def kv_cells(self, context: int, window: int, chunk: int) -> int:
        """KV cells one sequence gets in a layer that must keep `window` tokens (its context, or its
        sliding window when smaller)."""
        full = _round_up(context, self.cell_multiple)
        if window >= context:
            return full
        # A sliding layer also holds the tokens of the chunk being processed (llama.cpp, vLLM), and
        # vLLM adds a block because the window need not start on a block boundary.
        with_chunk, offset, extra_blocks = self.window_cells
        needed = min(window + offset + (chunk if with_chunk else 0), context)
        return min(full, _round_up(needed, self.cell_multiple) + extra_blocks * self.cell_multiple)


ENGINES = {e.name: e for e in (
    Engine("llama.cpp", "llama.cpp / Ollama", 4, 512, 0, True, 1.0, 512 * MiB, 256, (True, 0, 0),
           "llama.cpp: f32 compute graph reserved for n_ubatch = 512 tokens all producing logits "
           "(common/common.h, llama-context.cpp graph_reserve); n_ctx padded to 256 cells, SWA layers "
           "keep window + n_ubatch cells (llama-context.cpp, llama-kv-cache-iswa.cpp, PR #17046); "
           "CUDA context about 300-400 MB (pytorch/pytorch#86509, #109888)",
           state_dtype="f32", state_source="llama.cpp keeps the conv (R) and recurrent (S) state in f32, one cell "
           "per sequence (src/llama-model.cpp create_memory: GGML_TYPE_F32 for both; src/llama-memory-recurrent.cpp)"),
    Engine("vllm", "vLLM", 2, 2048, 8192, False, 0.92, 1 * GiB, 16, (True, -1, 1),
           "vLLM: gpu_memory_utilization 0.92 (vllm/config/cache.py, 0.9 before v0.21), API-server "
           "max_num_batched_tokens 2048, 8192 on GPUs of 70 GiB+ (engine/arg_utils.py get_batch_defaults), "
           "one logit row per sequence, 16-token KV blocks, sliding layers window-1+chunk tokens plus one "
           "block (v1/kv_cache_interface.py); non-torch memory 0.07-0.39 GiB and CUDA graphs 0.36-1.28 GiB "
           "in logs (vllm-project/vllm#11251, #21489)",
           state_source="vLLM: conv state in the model dtype, SSM state in mamba_ssm_cache_dtype (the config's "
           "mamba_ssm_dtype when given) else the model dtype (vllm/model_executor/layers/mamba/mamba_utils.py "
           "MambaStateDtypeCalculator); one state slot per running sequence"),
    Engine("transformers", "Hugging Face transformers", 2, 0, 0, False, 1.0, 512 * MiB, 1, (False, 0, 0),
           "transformers generate(): the whole prompt in one forward pass, logits_to_keep=1 "
           "(generation/utils.py), sliding layers keep the window (cache_utils.py DynamicSlidingWindowLayer); "
           "CUDA context about 300-400 MB (pytorch/pytorch#86509, #109888)",
           state_source="transformers: conv and recurrent states in the model dtype, one per sequence "
           "(cache_utils.py linear-attention layers; the SSM state in the config's mamba_ssm_dtype when given)"),
)}


def engine(name: str) -> Engine:
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        raise UnknownNameError("engine", f"unknown engine {str(name)[:40]!r} (one of {', '.join(ENGINES)}, auto)") from None
