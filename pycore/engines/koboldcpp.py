"""KoboldCpp's memory rules: a llama.cpp fork (github.com/LostRuins/koboldcpp) that loads a GGUF through its own
adapter and then runs llama.cpp's code unchanged. Only what KoboldCpp decides differently lives here; the KV cells,
the placement of layers, the compute and output buffers are llama.cpp's (pycore.engines.llamacpp).

The newest KoboldCpp read is modelled (1.114 and later, by its adapter and its published logs). Sources
(LostRuins/koboldcpp):
- kcpp_src/gpttype_adapter.cpp@4fd0ceee30ce6e1d2ab625d4d8934ff9a3031ed9 (the newest adapter read), gpttype_load_model's
  GGUF branch: `llama_ctx_params.n_ctx = clamped_max_context_length; llama_ctx_params.n_ctx +=
  extra_context_handle_fragmentation` (128, added whatever the context-shift setting), `kv_unified = true`,
  `n_batch = n_ubatch = GetBatchSize(batchsize)` (n_batch doubled for pipeline parallelism, n_ubatch kept),
  `offload_kqv = !low_vram`, `n_seq_max` left at llama.cpp's 1 (continuous-batching slots + 1 only when asked),
  `flash_attn_type` ENABLED or DISABLED (never llama.cpp's auto), `swa_full = prevent_swa`, cache types
  type_k/type_v f16, bf16, q8_0, q5_1 or q4_0.
- src/llama-context.cpp@2e04e6509d3ccf41c7b329c1b6cea5c18bd74c63 (its vendored llama.cpp): `cparams.n_ctx =
  GGML_PAD(cparams.n_ctx, 256)`, n_ctx_seq = n_ctx with kv_unified, the output buffer for n_seq_max rows, and
  sched_reserve's worst-case graph of min(n_ctx, n_ubatch) tokens with min(n_tokens, n_outputs_max = n_batch)
  outputs: llama.cpp's rules as pycore.engines.llamacpp models them (cells, plan). Published KoboldCpp logs agree:
  n_ctx 8448 (1.114.1, LostRuins/koboldcpp#2330) and 12544 (1.117.1, #2347) are pad(8192 + 128, 256) and
  pad(12288 + 128, 256); 150272 (#1882) is pad(150000 + 128, 256).
- koboldcpp.py@000115dd90a88a25b2fd67cda2bbcf250cef629f (KoboldCpp 1.102): --batchsize (--blasbatchsize) 512, up to
  4096; --quantkv without flash attention quantizes K only (load_model: quant_v = 0); --gpulayers -1 = its own guess
  (autoset_gpu_layers: the file size, the GPU's total memory, the context, the batch and cache type; auto_gpu_layers
  below). Its --contextsize default is 8192 (this calculator's --context default stays 4096: give it).
- Flash attention: 1.102 turns it on only with --flashattention; the 1.114.1 and 1.117.1 logs (#2330, #2347) run with
  `flash_attn = enabled`, as later releases do by default (only --noflashattention is left): on unless --flash-attn
  off.
- Sliding-window layers: KoboldCpp kept every cell on them (swa_full unless --useswa, koboldcpp.py@000115dd
  swa_support) up to 1.113 and honours the window by default from the next release (LostRuins/koboldcpp#2235,
  LostRuins' answer); the newest rule is modelled, --swa-full gives the old one.
"""
from ..errors import InputError
from ..units import GiB, MiB
from . import llamacpp
from .layers import layer_weights
from .plan import EnginePlan

ADAPTER = "LostRuins/koboldcpp kcpp_src/gpttype_adapter.cpp@4fd0ceee30ce6e1d2ab625d4d8934ff9a3031ed9"
LAUNCHER = "LostRuins/koboldcpp koboldcpp.py@000115dd90a88a25b2fd67cda2bbcf250cef629f"
EXTRA_CONTEXT = 128  # extra_context_handle_fragmentation (ADAPTER; 80, and only with context shift, in 1.76)
DEFAULT_BATCH = 512  # --batchsize (LAUNCHER); n_batch = n_ubatch = it (ADAPTER GetBatchSize)
KV_TYPES = ("f16", "bf16", "q8_0", "q5_1", "q4_0")  # ADAPTER: type_k/type_v from --quantkv
MAX_GUESS_LAYERS = 200  # autoset_gpu_layers' cap when the GGUF's layer count is unread (LAUNCHER)
MAC_LAYERS = 200  # --gpulayers -1 on macOS (koboldcpp.py@2da346a5 main)
BATCH_CHOICES = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)  # --batchsize choices (LAUNCHER; -1 = off, not modelled)
CONTEXT_RANGE = (256, 262144)  # --contextsize's range (LAUNCHER argparse check_range)
GUESS_KV_DISCOUNT = {"q8_0": 1.6, "q4_0": 3.2}  # autoset_gpu_layers fattn_discount = 1 / this (--quantkv 1, 2)


def n_ctx(contextsize: int) -> int:
    """Cells of KoboldCpp's one unified cache: pad(--contextsize + 128, 256) (ADAPTER, then llama.cpp's pad)."""
    return llamacpp.pad(contextsize + EXTRA_CONTEXT)


def file_size(spec, fmt) -> int:
    """The GGUF's tensor bytes (a tied output head stored once): autoset_gpu_layers reads os.path.getsize, which adds
    the header (metadata and tensor table, a few MB) to these."""
    return layer_weights(spec, fmt).file_total


def auto_gpu_layers(spec, fmt, contextsize: int, batch: int, gpu_memory: int, kv_name: str = "f16",
                    used: int = 0) -> int:
    """KoboldCpp's --gpulayers -1 guess (LAUNCHER autoset_gpu_layers), in layers (0 = none offloaded).

    gpumem = the lowest total memory of the GPUs (nvidia-smi memory.total), used = total - free;
    reserved = max(1.25 GiB, 0.5 GiB + used); csmul = cs/4096 if cs ≥ 8192, 1.8 if cs > 4096, 1.2 if cs > 2048, else 1;
    ratio = (gpumem - used) / (fsize × csmul × 1.6 × (1 if batch ≤ 512 else 1.2));
    with the GGUF's head_count_kv read: ratio = max(ratio, (gpumem - reserved - mem1) / (fsize + mem2)),
      mem1 = layers × (4 if batch ≤ 512 else batch/128) × headkvlen × cs × d × 4 × 1.45,
      mem2 = layers × head_count_kv × headkvlen × cs × d × 4 × 1.15, headkvlen = max(key_length, value_length) or 128,
      d = 1/1.6 for a q8_0 cache, 1/3.2 for q4_0, else 1;
    layers = min(int(ratio × layers), layers + 1), and 0 when that is 2 or less.
    KoboldCpp reads head_count_kv and key_length only as a single uint32 (read_gguf_metadata: a per-layer array reads
    0); the head dimension stands for key_length here, the latent and its RoPE key for an MLA file."""
    fsize = file_size(spec, fmt)
    if fsize <= 10 * MiB:  # "dont bother with models < 10mb"
        return 0
    cs = contextsize
    csmul = (cs / 4096) if cs >= 8192 else 1.8 if cs > 4096 else 1.2 if cs > 2048 else 1.0
    reserved = max(1.25 * GiB, 0.5 * GiB + used)
    layers = spec.num_layers
    if layers <= 0:
        return max(0, int(min(MAX_GUESS_LAYERS, (gpu_memory - used) / (fsize * csmul * 0.052))))
    # what read_gguf_metadata finds in the GGUF: a per-layer head_count_kv array (the hybrids' converters write one,
    # pycore.gguf_recipes.PER_LAYER_KV_ARCHS) reads 0; DeepSeek's MLA files write head_count_kv 1 and key_length
    # kv_lora_rank + qk_rope_head_dim (576 for DeepSeek-V2/V3: the latent and its RoPE key, llama.cpp's MLA cache)
    from ..gguf_recipes import PER_LAYER_KV_ARCHS
    if spec.arch in PER_LAYER_KV_ARCHS:
        heads, headkvlen = 0, 128
    elif spec.is_mla:
        heads, headkvlen = 1, spec.kv_lora_rank + spec.qk_rope_head_dim
    else:
        heads, headkvlen = spec.num_kv_heads, spec.head_dim or 128
    ratio = (gpu_memory - used) / (fsize * csmul * 1.6 * (1.0 if batch <= 512 else 1.2))
    if heads > 0:
        d = 1.0 / GUESS_KV_DISCOUNT.get(kv_name, 1.0)
        mem1 = layers * (4 if batch <= 512 else batch / 128) * headkvlen * cs * d * 4 * 1.45
        mem2 = layers * heads * headkvlen * cs * d * 4 * 1.15
        ratio = max(ratio, (gpu_memory - reserved - mem1) / (fsize + mem2))
    limit = min(int(ratio * layers), layers + 1)
    return 0 if limit <= 2 else limit


def batch_size(s) -> int:
    """--batchsize: the scenario's --ubatch, else its prefill chunk, else KoboldCpp's 512 (LAUNCHER)."""
    return s.ubatch or s.prefill_chunk or DEFAULT_BATCH


def settings(spec, kvf, s, gpus: int, ngl: int) -> llamacpp.Settings:
    """llama.cpp's settings as KoboldCpp's adapter sets them: one sequence of --contextsize + 128 tokens, n_ubatch =
    n_batch = --batchsize (never cut to llama.cpp's 2048), flash attention on unless --flash-attn off (its newest
    default), --lowvram as --no-kv-offload. Raises InputError for a quantized cache without flash attention, where
    KoboldCpp quantizes K alone (LAUNCHER load_model), which these rules do not model."""
    flash = s.flash_attn != "off"
    if not flash and kvf.name not in ("f16", "bf16"):
        raise InputError("kv", f"KoboldCpp quantizes only the K cache without flash attention (V stays f16, {LAUNCHER} "
                               f"load_model): a {kvf.name} K with an f16 V is not modelled; use --flash-attn on")
    ubatch = batch_size(s)
    return llamacpp.Settings(batch=1, context=s.context + EXTRA_CONTEXT, ubatch=ubatch,
                             flash_attn="on" if flash else "off", ngl=ngl, n_cpu_moe=s.n_cpu_moe, swa_full=s.swa_full,
                             kv_offload=s.kv_offload, gpus=gpus,
                             split=s.tensor_split if gpus == len(s.tensor_split) else (), n_batch=ubatch)


def estimate_plan(spec, fmt, kvf, s, lay, device, chunk):
    """KoboldCpp's EnginePlan for a Scenario (context = --contextsize, ubatch = --batchsize, ngl = --gpulayers,
    None = its guess). Raises InputError for a batch of several sequences (KoboldCpp serves one)."""
    if batch_size(s) not in BATCH_CHOICES:
        raise InputError("ubatch" if s.ubatch else "prefill_chunk",
                         f"KoboldCpp's --batchsize takes {', '.join(map(str, BATCH_CHOICES))} ({LAUNCHER} argparse "
                         f"choices): {batch_size(s):,} is refused")
    if not CONTEXT_RANGE[0] <= s.context <= CONTEXT_RANGE[1]:
        raise InputError("context", f"KoboldCpp's --contextsize takes {CONTEXT_RANGE[0]:,} to {CONTEXT_RANGE[1]:,} "
                                    f"tokens ({LAUNCHER} argparse): {s.context:,} is refused")
    if s.batch != 1:
        raise InputError("batch", f"KoboldCpp runs one sequence (n_seq_max 1; --multiuser queues requests, "
                                  f"{ADAPTER}): a batch of {s.batch:,} is not modelled for it")
    llamacpp.check_limits(1, s.context + EXTRA_CONTEXT, lay.devices)
    n = lay.devices
    notes = []
    fsize = file_size(spec, fmt)
    guess = None
    mac = device is not None and device.vendor == "Apple"
    if s.ngl is not None:
        ngl = s.ngl
    elif mac:
        # koboldcpp.py@2da346a5 main: `--gpulayers -1` on macOS becomes 200 ("MacOS detected: Auto GPU layers set to
        # maximum"), no guess
        ngl = MAC_LAYERS
        notes.append(f"weights: on macOS KoboldCpp sets --gpulayers {MAC_LAYERS} instead of guessing (every layer on "
                     f"the GPU; LostRuins/koboldcpp koboldcpp.py@2da346a5ff2cfd1debac59066553d45d098e95a4).")
    elif device is not None and n > 0:
        guess = auto_gpu_layers(spec, fmt, s.context, batch_size(s), device.usable_bytes,
                                kvf.name)
        ngl = guess
        notes.append(f"weights: KoboldCpp guesses --gpulayers from the file size, the GPU's total memory, the context, "
                     f"the batch and the cache type ({LAUNCHER} autoset_gpu_layers, KoboldCpp 1.102's constants): "
                     f"{guess} layers here, as if the GPU were otherwise free (memory in use elsewhere lowers it), from "
                     f"the GGUF's tensor bytes ({fsize / MiB:,.0f} MiB; the file's header adds a few MB), with no image, "
                     f"speech or draft model loaded beside it (each takes its own share off first). Its constants "
                     f"change between releases (LostRuins/koboldcpp#1527: 1.90.2 printed one layer fewer than these give "
                     f"for Qwen3-30B-A3B Q8_0 on a 24 GiB GPU), and newer releases can fit with llama.cpp's own code "
                     f"instead (--autofit): --ngl gives the layers actually set.")
        if n > 1:
            notes.append("weights: KoboldCpp's guess sizes the layers on the smallest GPU's memory alone, "
                         "whatever the number of GPUs.")
    else:
        ngl = -1
        notes.append("weights: no GPU given, so KoboldCpp's --gpulayers guess (it needs the GPU's memory) is not "
                     "made: every layer is counted on the GPU.")
    st = settings(spec, kvf, s, n, ngl)
    gpus, host, caches, c, flash, T = llamacpp.plan(spec, fmt, kvf, st)
    L = spec.num_layers
    on_gpu = L + 1 if st.ngl < 0 else min(st.ngl, L + 1)
    if flash and s.flash_attn == "auto":
        notes.append("compute: Flash attention is on, KoboldCpp's default since about 1.114 (its 1.114.1 and 1.117.1 "
                     "logs print flash_attn = enabled, LostRuins/koboldcpp#2330, #2347; 1.102 and earlier turned it on "
                     "only with --flashattention): --flash-attn off models --noflashattention or an older release.")
    if c.n_swa and not st.swa_full:
        notes.append("kv: KoboldCpp up to 1.113 kept every cell on sliding-window layers unless --useswa was given "
                     "(LostRuins/koboldcpp#2235); later releases keep the window, as here (--swa-full gives the old "
                     "rule). Its SWA padding setting (swa_padding, which the adapter hands to llama.cpp as extra window cells), "
                     "when set, is not modelled.")
    notes.append(f"kv: KoboldCpp allocates --contextsize + {EXTRA_CONTEXT} tokens ({s.context:,} + {EXTRA_CONTEXT}), "
                 f"which llama.cpp pads to {c.n_ctx:,} cells ({ADAPTER} extra_context_handle_fragmentation; 80 tokens, "
                 f"and only with context shift, in 1.76).")
    fields = {"contextsize": s.context, "n_ctx": c.n_ctx, "n_ubatch": T, "n_batch": min(c.n_ctx, st.n_batch),
              "flash_attn": flash,
              "gpulayers": ngl if guess is None else -1, "auto_gpu_layers": guess,
              "layers_on_gpu": on_gpu if n else 0, "layers_total": L + 1,
              "kv_cells": c.n_ctx, "swa_cells": c.n_swa, "compute_buffer_bytes": [g.compute for g in gpus],
              "host_compute_buffer_bytes": host.compute, "output_buffer_bytes": host.output,
              "tensor_split": list(st.split), "gguf_tensor_bytes": fsize,
              "layers_per_gpu": [sum(1 for d in llamacpp.layer_devices(L, st.ngl, n, st.split) if d == g)
                                 for g in range(max(n, 0))]}
    from . import ENGINES
    overhead = s.overhead_bytes if s.overhead_bytes is not None else ENGINES["koboldcpp"].overhead_bytes
    if device is not None:
        budget = device.usable_bytes - overhead
        fields["max_ngl_that_fits"] = llamacpp.max_ngl(spec, fmt, kvf, st, budget)
        fields["min_n_cpu_moe_that_fits"] = (llamacpp.min_n_cpu_moe(spec, fmt, kvf, st, budget)
                                             if spec.is_moe else None)
    fields["system_ram_needed_bytes"] = host.total
    backend = device.backend if device is not None else "CUDA"
    log = llamacpp.log_lines(spec, kvf, st, gpus, host, caches, c, flash, T, backend)
    # KoboldCpp prints its guess before loading (koboldcpp.py: "Auto Recommended GPU Layers: N") and sets flash
    # attention ENABLED or DISABLED, never auto (ADAPTER flash_attn_type)
    log = tuple(f"llama_context: flash_attn = {'enabled' if flash else 'disabled'}"
                if line.startswith("llama_context: flash_attn") else line for line in log)
    if guess is not None:
        log = (f"Auto Recommended GPU Layers: {guess}",) + log
    elif mac and s.ngl is None:
        log = ("MacOS detected: Auto GPU layers set to maximum",) + log
    return EnginePlan(gpus, host, caches, fields, log,
                      tuple(notes) + llamacpp.notes(spec, kvf, st, c, flash, device is not None),
                      overhead_bytes=overhead)
