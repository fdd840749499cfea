"""Inference engines: one profile per engine (pycore.engines.profile.Engine), and per engine a module
of its own memory rules (llamacpp, ollama, koboldcpp, vllm, sglang) that places weights, KV cache and compute buffers on
each GPU and in system RAM, and predicts the log lines the engine prints.

`from pycore.engines import Engine, ENGINES, engine` is the public surface.
"""
from ..errors import UnknownNameError
from ..units import GiB, MiB
from .profile import Engine

ENGINES = {e.name: e for e in (
    Engine("llama.cpp", "llama.cpp", 4, 512, 0, True, 1.0, 512 * MiB, 256, (True, 0, 0),
           "llama.cpp: f32 compute graph reserved for n_ubatch = 512 tokens all producing logits "
           "(common/common.h, llama-context.cpp sched_reserve); n_ctx padded to 256 cells, SWA layers "
           "keep window + n_ubatch cells (llama-context.cpp, llama-kv-cache-iswa.cpp, PR #17046); "
           "CUDA context about 300-400 MB (pytorch/pytorch#86509, #109888)", "llamacpp",
           state_dtype="f32", state_source="llama.cpp keeps the conv (R) and recurrent (S) state in f32, one cell "
           "per sequence (src/llama-model.cpp create_memory: GGML_TYPE_F32 for both; src/llama-memory-recurrent.cpp)",
           kv_types=("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"),
           kv_types_source="llama.cpp --cache-type-k/-v: common/arg.cpp kv_cache_types @0c1e5709 (f32, f16, bf16, "
           "q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1; any other: \"Unsupported cache type\")"),
    Engine("ollama", "Ollama", 4, 512, 0, True, 1.0, 457 * MiB, 256, (True, 0, 0),
           "Ollama: num_ctx × num_parallel cells, num_batch 512 (api/types.go), its estimate "
           "(llm/memory.go estimateGPULayers, fs/ggml/ggml.go GraphSize) and its minimum of 457 MiB per "
           "CUDA/ROCm GPU (ml/device.go MinimumMemory), ollama/ollama@f560bd077^", "ollama",
           state_dtype="f32", state_source="Ollama's llama.cpp runner keeps recurrent state in f32 (fs/ggml/ggml.go "
           "GraphSize: 'recurrent always uses F32 in llama.cpp backend')"),
    Engine("koboldcpp", "KoboldCpp", 4, 512, 0, True, 1.0, 512 * MiB, 256, (True, 0, 0),
           "KoboldCpp: llama.cpp's rules for one sequence of --contextsize + 128 tokens (pad 256), n_ubatch = "
           "--batchsize 512, flash attention on (its newest default), its own --gpulayers guess (LostRuins/koboldcpp "
           "kcpp_src/gpttype_adapter.cpp@4fd0ceee, koboldcpp.py@000115dd autoset_gpu_layers)", "koboldcpp",
           state_dtype="f32", state_source="KoboldCpp runs llama.cpp's code: recurrent state in f32, one cell per "
           "sequence (src/llama-model.cpp create_memory)",
           kv_types=("f16", "bf16", "q8_0", "q5_1", "q4_0"),
           kv_types_source="KoboldCpp --quantkv: LostRuins/koboldcpp kcpp_src/gpttype_adapter.cpp@4fd0ceee type_k/type_v "
           "(GGML_TYPE_F16, BF16, Q8_0, Q5_1, Q4_0)"),
    Engine("vllm", "vLLM", 2, 2048, 8192, False, 0.92, 1 * GiB, 16, (True, -1, 1),
           "vLLM: gpu_memory_utilization 0.92 (vllm/config/cache.py, 0.9 before v0.21), API-server "
           "max_num_batched_tokens 2048, 8192 on GPUs of 70 GiB+ (engine/arg_utils.py get_batch_defaults), "
           "one logit row per sequence, 16-token KV blocks, sliding layers window-1+chunk tokens plus one "
           "block (v1/kv_cache_interface.py); non-torch memory 0.07-0.39 GiB and CUDA graphs 0.36-1.28 GiB "
           "in logs (vllm-project/vllm#11251, #21489)", "vllm",
           state_source="vLLM: conv state in the model dtype, SSM state in mamba_ssm_cache_dtype (the config's "
           "mamba_ssm_dtype when given) else the model dtype (vllm/model_executor/layers/mamba/mamba_utils.py "
           "MambaStateDtypeCalculator); one state slot per running sequence",
           kv_types=("f16", "bf16", "f32", "fp8"),
           kv_types_source="vLLM --kv-cache-dtype: vllm/config/cache.py@c1d86421 CacheDType (auto = the model dtype, "
           "bfloat16, fp8, fp8_e4m3, fp8_e5m2, fp8_inc, fp8_ds_mla): 16- or 32-bit as the model, or FP8"),
    Engine("sglang", "SGLang", 2, 4096, 8192, False, 1.0, int(1.19 * GiB), 1, (False, 0, 0),
           "SGLang: weights + KV pool = free memory at start × mem_fraction_static, the KV pool allocated whole "
           "(python/sglang/srt/mem_cache/kv_cache_configurator.py@003fca80 _profile_available_bytes, "
           "model_executor/pool_configurator.py@003fca80), mem_fraction_static and chunked_prefill_size (4096, 8192 "
           "on 60 GiB+ GPUs) by GPU memory (arg_groups/memory_hook.py@031ed82d), pages of 1 token, sliding layers kept "
           "whole outside its hybrid-SWA architectures (configs/model_config.py (sglang 0.5.23)); memory in use before "
           "loading 1.19, 2.78 and 3.11 GiB at TP 1, 4 and 8 in logs (sgl-project/sglang#4826, #22537, #11716)", "sglang",
           state_dtype="ssm-f32", state_source="SGLang: conv state bfloat16, SSM state float32 unless the config's "
           "mamba_ssm_dtype says otherwise (python/sglang/srt/configs/mamba_utils.py mamba2_state_dtype), in a pool of "
           "slots sized at start (mem_cache/kv_cache_configurator.py _handle_max_mamba_cache)",
           kv_types=("f16", "bf16", "fp8"),
           kv_types_source="SGLang --kv-cache-dtype: python/sglang/srt/arg_groups/fields/model.py (auto = the model "
           "dtype, bf16/bfloat16, fp8_e5m2, fp8_e4m3; mxfp8 and the FP4 recipes nvfp4, fp4_mx_block16 are not modelled "
           "here)"),
    Engine("transformers", "Hugging Face transformers", 2, 0, 0, False, 1.0, 512 * MiB, 1, (False, 0, 0),
           "transformers generate(): the whole prompt in one forward pass, logits_to_keep=1 "
           "(generation/utils.py), sliding layers keep the window (cache_utils.py DynamicSlidingWindowLayer); "
           "CUDA context about 300-400 MB (pytorch/pytorch#86509, #109888)",
           state_source="transformers: conv and recurrent states in the model dtype, one per sequence "
           "(cache_utils.py linear-attention layers; the SSM state in the config's mamba_ssm_dtype when given)",
           mla_cache="expanded",
           kv_types=("f16", "bf16", "f32", "int8", "int4"),
           kv_types_source="transformers: the cache in the model dtype, or its QuantizedCache (cache_implementation "
           "\"quantized\": quanto nbits 2 or 4, HQQ 1, 2, 3, 4 or 8; src/transformers/cache_utils.py@67dd5524 "
           "QuantoQuantizedCache, HQQQuantizedCache)"),
)}


# What each engine loads, by format group (pycore.formats): the llama.cpp family reads GGUF files and nothing else
# (ggml-org/llama.cpp src/llama-model-loader.cpp@0c1e5709: gguf_init_from_file; checkpoints are converted first with
# convert_hf_to_gguf.py; Ollama and KoboldCpp load through it); vLLM and SGLang load Hugging Face checkpoints in
# every group but GGUF, which both take as an experimental format (https://docs.vllm.ai/en/latest/features/
# quantization/gguf.html "GGUF support in vLLM is highly experimental"; sglang --load-format gguf, python/sglang/srt/
# server_args.py in sglang 0.5.23); transformers loads checkpoints, and dequantizes a GGUF file as it reads it
# (https://huggingface.co/docs/transformers/gguf: "the model is dequantized to fp32"), so a GGUF size says nothing
# of what it holds. The nominal INT8/INT4 formats stand for any engine's 8- and 4-bit weights: not checked.
GGUF_LOADERS = ("llama.cpp", "ollama", "koboldcpp")


def check_weights(eng: Engine, fmt, spec=None) -> str:
    """Refuse weights `eng` cannot load (InputError on field "weights", naming what it loads); "" when it loads
    them, or a note (a warning's text) when it loads them only as an experimental format (GGUF on vLLM, SGLang)."""
    from ..errors import InputError
    from ..formats import FILE, FLOAT, GGUF_PRESET, GGUF_TYPE, NOMINAL
    if fmt.group == NOMINAL:
        return ""
    gguf = fmt.group in (GGUF_PRESET, GGUF_TYPE) or (fmt.group == FILE and getattr(spec, "file_kind", "") == "gguf")
    if eng.name in GGUF_LOADERS:
        # MXFP4 is a ggml type as well (GGML_TYPE_MXFP4): gpt-oss's GGUF files keep the checkpoint's MXFP4 experts
        if gguf or fmt.group == FLOAT or fmt.name == "MXFP4":
            return ""
        what = "this safetensors checkpoint" if fmt.group == FILE else f"{fmt.name} ({fmt.group})"
        raise InputError("weights", f"{eng.label} loads GGUF files only (llama.cpp's loader): {what} is not one; "
                                    f"convert the checkpoint to GGUF (convert_hf_to_gguf.py) and choose a GGUF preset "
                                    f"or BF16, or choose vLLM, SGLang or transformers")
    if not gguf:
        return ""
    if eng.name == "transformers":
        raise InputError("weights", "transformers dequantizes a GGUF file as it loads it (to fp32 unless a torch dtype "
                                    "is given): its memory is that of BF16 or FP32, choose that format")
    return (f"weights: {eng.label} loads GGUF weights as an experimental format (vLLM's docs: 'highly experimental'; "
            f"SGLang --load-format gguf): the bytes are the file's, but its kernels and what it supports for this "
            f"architecture are not checked here.")


def check_kv_type(eng: Engine, kv_name: str) -> None:
    """Refuse a KV cache format `eng` cannot store (InputError on field "kv", naming its types and the engines
    that have this one); engines without a list (Ollama: its own fallback, pycore.engines.ollama) pass."""
    from ..errors import InputError
    if not eng.kv_types or kv_name in eng.kv_types:
        return
    others = [e.label for e in ENGINES.values() if kv_name in e.kv_types]
    raise InputError("kv", f"{eng.label} has no {kv_name} KV cache (its types: {', '.join(eng.kv_types)})" +
                     (f"; {kv_name} is a {', '.join(others[:-1]) + ' and ' + others[-1] if len(others) > 1 else others[0]} "
                      f"type: choose {'one of those engines' if len(others) > 1 else 'that engine'}" if others else ""))


def engine(name: str) -> Engine:
    try:
        return ENGINES[name]
    except (KeyError, TypeError):
        raise UnknownNameError("engine", f"unknown engine {str(name)[:40]!r} (one of {', '.join(ENGINES)}, auto)") from None


__all__ = ["Engine", "ENGINES", "check_kv_type", "check_weights", "engine"]
