"""An inference engine profile: the few engine facts that change the memory figures, each with its source.

An engine decides how many tokens go through the model at once (the prefill chunk), the width of
its activations, which logits it materialises, how much of the GPU it lets itself use, what its
runtime costs before any tensor is allocated, and in what units it hands out KV-cache cells.
The architecture says how many tokens a layer must keep; the engine rounds that up to its cells.
"""
from dataclasses import dataclass

from ..units import GiB


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
    planner: str = ""  # module of pycore.engines with this engine's placement rules (a plan() function); "" = none
    # Recurrent (conv and SSM) state: "f32" (llama.cpp), or "model" (the model dtype, the SSM state in the
    # checkpoint's mamba_ssm_dtype when it names one), with where that comes from
    state_dtype: str = "model"
    state_source: str = ""
    # Multi-head latent attention (DeepSeek-V2/V3, Kimi K2): "latent" caches the compressed latent
    # (vLLM MLAAttentionSpec, llama.cpp), "expanded" the per-head K and V kv_b_proj makes of it
    # (transformers: pycore.attention.ExpandedLatentAttention)
    mla_cache: str = "latent"
    # KV cache formats (pycore.formats.KV_FORMATS names) the engine can store, with where that list comes from;
    # () = not checked
    kv_types: tuple = ()
    kv_types_source: str = ""

    def state_value_bytes(self, ssm_dtype: str = "") -> tuple:
        """(conv, ssm) bytes per state value this engine keeps for a model whose config asks for
        `ssm_dtype` ("float32", "bfloat16", … or "" for the model dtype)."""
        if self.state_dtype == "f32":
            return 4, 4
        if self.state_dtype == "ssm-f32":  # SGLang: conv in the model dtype, SSM state f32 unless the config says
            return self.activation_bytes, {"bfloat16": 2, "float16": 2, "bf16": 2, "fp16": 2}.get(ssm_dtype, 4)
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
