"""Ollama's memory rules: its own estimate (how many layers it offloads, memory.required.full, the
graph sizes it logs) and what it then allocates.

Sources: ollama/ollama at f560bd077^ (the last commit with llm/memory.go, Nov 2025, Ollama 0.12):
llm/memory.go estimateGPULayers, fs/ggml/ggml.go GraphSize / FlashAttention / SupportsFlashAttention /
kvCacheBytesPerElement, ml/device.go MinimumMemory (457 MiB per CUDA/ROCm GPU, 512 MiB Metal),
envconfig/config.go (OLLAMA_FLASH_ATTENTION, OLLAMA_KV_CACHE_TYPE, OLLAMA_GPU_OVERHEAD,
OLLAMA_CONTEXT_LENGTH 4096), api/types.go (num_batch 512), format/bytes.go HumanBytes2.

- Ollama runs num_parallel sequences of num_ctx tokens: the cache has num_ctx × num_parallel cells.
- Flash attention is on when OLLAMA_FLASH_ATTENTION says so, or by default for the architectures
  FlashAttention() lists (gemma3, gpt-oss, qwen3, qwen3moe, qwen3vl); never for gemma2, and only when
  K and V heads are the same size. OLLAMA_KV_CACHE_TYPE applies only with flash attention.
- Its estimate charges every layer its weights + its KV, one extra layer as a buffer, the output
  layer, the graph (full or partial offload) and 457 MiB per GPU, and offloads layers from the last
  one down while they fit (llm/memory.go).
- Its own engine (gpt-oss, gemma3) keeps sliding-window layers at num_parallel × window + num_batch
  cells (gpt-oss: a 4,096-token window memory); other models run on its llama.cpp runner with
  llama.cpp's rules (pycore.engines.llamacpp).
"""
from functools import lru_cache

from ..units import GiB, KiB, MiB
from . import llamacpp
from .layers import layer_weights
from .plan import EnginePlan, Share

OLLAMA_KV_TYPES = ("f16", "q8_0", "q4_0")  # ollama docs/faq.md, "How can I set the quantization type for the K/V cache?"

MINIMUM_MEMORY = 457 * MiB  # ml/device.go MinimumMemory (CUDA, ROCm)
MINIMUM_MEMORY_METAL = 512 * MiB
DEFAULT_BATCH = 512  # api/types.go NumBatch
FLASH_DEFAULT_ARCHS = ("gemma3", "gptoss", "gpt-oss", "qwen3", "qwen3moe", "qwen3vl", "qwen3vlmoe")
OWN_ENGINE_ARCHS = ("gpt-oss", "gptoss", "gemma3")  # sliding-window memory of Ollama's own engine


def human(b: int) -> str:
    """format/bytes.go HumanBytes2."""
    if b >= GiB:
        return f"{b / GiB:.1f} GiB"
    if b >= MiB:
        return f"{b / MiB:.1f} MiB"
    if b >= KiB:
        return f"{b / KiB:.1f} KiB"
    return f"{b} B"


def flash_attention(spec, setting: str) -> bool:
    """envconfig.FlashAttention(f.FlashAttention()) && f.SupportsFlashAttention()."""
    wanted = setting == "on" or (setting == "auto" and spec.arch in FLASH_DEFAULT_ARCHS)
    supported = spec.arch != "gemma2" and not spec.is_mla  # K and V head sizes must match
    return wanted and supported


def kv_bytes_per_element(kv_name: str) -> float:
    """kvCacheBytesPerElement: q8_0 1, q4_0 0.5, f32 4, anything else 2."""
    return {"q8_0": 1, "q4_0": 0.5, "f32": 4}.get(kv_name, 2)


def graph_size(spec, context: int, batch: int, parallel: int, kv_name: str, flash: bool):
    """fs/ggml/ggml.go GraphSize: (kv per layer, partialOffload, fullOffload), in bytes."""
    context *= parallel
    E, heads, heads_kv = spec.hidden_size, spec.num_heads, spec.num_kv_heads
    vocab = spec.vocab_size
    if spec.is_mla:  # as Ollama reads the GGUF: key_length / value_length of the latent MQA
        hk, hv, heads_kv_file = spec.kv_lora_rank + spec.qk_rope_head_dim, spec.kv_lora_rank, 1
    else:
        hk = hv = spec.head_dim
        heads_kv_file = heads_kv
    eh = max(hk, hv)
    bpe = kv_bytes_per_element(kv_name)
    kv = [int(context * (hk + hv) * heads_kv_file * bpe)] * spec.num_layers
    kv_total = sum(kv)
    full = partial = 0
    arch = spec.arch
    if arch in ("llama", "llama4"):
        full = max(4 * batch * (1 + 4 * E + context * (1 + heads)), 4 * batch * (E + vocab))
        partial = 4 * batch * E + max(
            4 * batch * (1 + E + max(context, E)) + E * E * 9 // 16 + 4 * context * (batch * heads + eh * heads_kv),
            4 * batch * (E + vocab) + E * vocab * 105 // 128)
    elif arch in ("gemma", "gemma2", "gemma3", "gemma3n"):
        full = max(4 * batch * (E + vocab), 4 * batch * (2 + context + context * heads + 2 * E + 2 * hk * heads))
        partial = max(4 * E * batch + E * vocab * 105 // 128 + 4 * vocab * batch,
                      4 * batch * (2 * E + 1 + 2 * hk * heads + context + context * heads)
                      + 4 * hk * context * 8 + E * hk * heads * 9 // 16)
        if arch == "gemma3n":
            full, partial = full * 4, partial * 4
        if arch == "gemma3":
            window = parallel * spec.sliding_window + batch
            kv = [kv[i] if (i + 1) % 6 == 0 else int(window * (hk + hv) * heads_kv * bpe) for i in range(len(kv))]
    elif arch == "command-r":
        full = max(4 * batch * (E + vocab), 4 * batch * (2 + 4 * E + context * (1 + heads)))
        partial = max(4 * batch * (E + vocab) + E * vocab * 105 // 128,
                      4 * batch * (1 + 2 * E + context * (1 + heads)) + 4 * E * context + E * E * 9 // 16)
    elif arch == "qwen2":
        full = max(4 * batch * (E + vocab), 4 * batch * (1 + 2 * E + context + context * heads))
        partial = max(4 * batch * (E + vocab) + E * vocab * 105 // 128,
                      4 * (batch * (1 + 2 * E + context * (1 + heads)) + E * (1 + context)))
    elif arch == "deepseek2":
        full = max(4 * batch * (3 * E + vocab),
                   4 * batch * (3 * E + 2 + context * (1 + heads_kv_file) + 2 * hk * heads_kv_file))
        partial = max(4 * batch * (3 * E + vocab) + E * vocab * 105 // 128,
                      4 * batch * (2 * E + 1 + 2 * hk * heads_kv_file + context + context * heads_kv_file)
                      + 4 * hk * context * heads_kv_file + E * hk * heads_kv_file * 9 // 16)
    elif arch in ("gptoss", "gpt-oss"):
        per = int((hk + hv) * heads_kv * bpe)
        kv = [per * (parallel * 4096 + batch) if i % 2 == 0 else per * context for i in range(spec.num_layers)]
        partial = 2 * heads // max(heads_kv, 1) * kv_total // 6
        if flash:
            partial = (4 * parallel + (context >> 10) + 110) * MiB
    if partial == 0:  # llm/memory.go: gqa × kvTotal / 6 for architectures GraphSize does not list
        partial = spec.num_heads // max(heads_kv, 1) * sum(kv) // 6
    if full == 0:
        full = partial
    return kv, partial, full


def projector(spec) -> tuple:
    """(weights, graph, Ollama architecture, bytes loaded) of a vision tower as Ollama's estimate counts it (fs/ggml/ggml.go
    VisionGraphSize, llm/memory.go estimateGPULayers, ollama/ollama@4372d0bfe): its engine's GGUF holds the tower
    ("v." and "mm." tensors), left unquantized (server/quantization.go: "don't quantize vision stuff"): 16-bit
    matrices and f32 vectors here. The estimate sums the "v" layer group only, so the projector's "mm." tensors
    load (ml/backend/ggml/ggml.go) without being estimated. The graph, gemma3 and mistral3: 4 × (image_size² ×
    channels + vision width × patch_size + patches² × heads), patches = (image_size / patch_size)²; other towers
    (Qwen-VL): none."""
    from ..parts import VISION
    # a tower whose model Ollama runs as text only (ollama_loads False: gemma3n) is not in its GGUF
    towers = [p for p in spec.parts if p.key == VISION and getattr(p, "ollama_loads", True)]
    if not towers:
        return 0, 0, "", 0
    t = towers[0]
    sizes = [(x.name, x.numel * (2 if len(x.ne) >= 2 else 4)) for x in t.tensors(spec)]
    loaded = sum(b for _, b in sizes)
    weights = sum(b for name, b in sizes if not name.startswith("v.mm."))  # pycore names Ollama's mm.* "v.mm."
    graph = 0
    arch = getattr(t, "ollama_arch", "")
    if arch in ("gemma3", "mistral3") and t.patch_size > 0:
        size = max(t.image_size, 0)
        patches = (size // t.patch_size) ** 2
        graph = 4 * (size * size * t.channels + t.hidden * t.patch_size + patches * patches * max(t.heads, 0))
    return weights, graph, arch, loaded


def estimate_gpu_layers(spec, fmt, kv_name: str, s, n_gpus: int, free: int, overhead: int, metal: bool = False,
                        proj: tuple = (0, 0)):
    """llm/memory.go estimateGPULayers for n_gpus GPUs of `free` bytes each: a dict of its figures."""
    num_ctx, parallel = s.context, s.batch
    batch = min(num_ctx, s.ubatch or DEFAULT_BATCH)
    flash = flash_attention(spec, s.flash_attn)
    kvct = kv_name if flash and kv_name in ("f16", "q8_0", "q4_0") else ""
    kv, partial, full = graph_size(spec, num_ctx, batch, parallel, kvct, flash)
    lw = layer_weights(spec, fmt)
    minimum = MINIMUM_MEMORY_METAL if metal else MINIMUM_MEMORY
    if metal:
        partial = full
    elif n_gpus > 1:
        full = partial
    graph_max = max(partial, full)
    layer_size = lw.layers[0] + kv[0] if spec.num_layers else 0
    # output_norm + output (or token_embd when tied), with the projector's weights and graph (memoryLastLayer)
    output = lw.output + proj[0] + proj[1]
    alloc = [0] * n_gpus
    split = [0] * n_gpus
    with_space = [g for g in range(n_gpus) if free >= overhead + graph_max + minimum + 2 * layer_size]
    for g in with_space:
        alloc[g] += minimum + layer_size
    overflow = 0
    layer_count = 0
    weights = 0
    ngl = -1 if s.ngl is None else s.ngl
    for i in range(spec.num_layers - 1, -1, -1):
        layer_size = lw.layers[i] + kv[i]
        weights += lw.layers[i]
        if ngl >= 0 and layer_count >= ngl:
            overflow += layer_size
            continue
        placed = False
        for j in range(len(with_space), 0, -1):
            g = with_space[i % j]
            if free > overhead + alloc[g] + graph_max + layer_size:
                alloc[g] += layer_size
                split[g] += 1
                layer_count += 1
                placed = True
                break
            with_space.pop(i % j)
        if not placed and not with_space:
            overflow += layer_size
    fully = layer_count >= spec.num_layers
    if output > 0:
        if ngl < 0 or layer_count < ngl:
            for j in range(len(with_space), 0, -1):
                g = with_space[layer_count % j]
                if free > overhead + alloc[g] + graph_max + output:
                    alloc[g] += output
                    split[g] += 1
                    layer_count += 1
                    break
        if layer_count < spec.num_layers + 1:
            fully = False
            overflow += output
    graph = full if fully else partial
    for g in range(n_gpus):
        if split[g] > 0:
            alloc[g] += graph
    partial_total = sum(alloc)
    return {"layers": layer_count if n_gpus else 0, "layers_model": spec.num_layers + 1, "split": split,
            "required_full": partial_total + overflow, "required_partial": partial_total, "kv": sum(kv),
            "kv_layers": kv, "allocations": alloc, "weights_repeating": weights, "weights_nonrepeating": lw.output,
            "projector_weights": proj[0], "projector_graph": proj[1],
            "graph_full": full, "graph_partial": partial, "graph": graph, "flash": flash,
            "kv_type": kvct or "f16", "fully_loaded": fully}


@lru_cache(maxsize=512)
def estimate_plan(spec, fmt, kvf, s, lay, device, chunk):
    """What Ollama decides and allocates for a Scenario (num_ctx = context, num_parallel = batch)."""
    n = lay.devices
    metal = device is not None and device.vendor == "Apple"
    free = device.usable_bytes if device is not None else 1 << 60
    gpu_overhead = s.overhead_bytes or 0  # OLLAMA_GPU_OVERHEAD
    from ..formats import FILE
    proj_w, proj_g, proj_arch, proj_loaded = projector(spec) if fmt.group != FILE else (0, 0, "", 0)
    est = estimate_gpu_layers(spec, fmt, kvf.name, s, n, free, gpu_overhead, metal, (proj_w, proj_g))
    from dataclasses import replace
    from .. import formats
    kv_used = formats.kv_format(est["kv_type"])
    st = llamacpp.Settings(batch=s.batch, context=s.context, ubatch=min(s.context, s.ubatch or DEFAULT_BATCH),
                           flash_attn="on" if est["flash"] else "off", ngl=est["layers"], gpus=n)
    gpus, host, caches, c, flash, T = llamacpp.plan(spec, fmt, kv_used, st)
    notes = ["compute: Ollama's graph sizes are its own estimates (fs/ggml/ggml.go GraphSize); what its "
             "runner allocates follows llama.cpp's rules, or Ollama's engine for gpt-oss and gemma3."]
    if spec.arch in OWN_ENGINE_ARCHS:
        # Ollama's own engine: the KV cache it allocates is the one it estimates (engine_logs_dev.json:
        # gpt-oss-120b, 450.0 MiB both), its compute graph the estimate's graph
        devs = llamacpp.layer_devices(spec.num_layers, est["layers"], n)
        kv_gpu = [0] * n
        kv_host = 0
        for i, b in enumerate(est["kv_layers"]):
            if devs[i] >= 0:
                kv_gpu[devs[i]] += b
            else:
                kv_host += b
        gpus = tuple(replace(g, kv_cache=kv_gpu[i], compute=est["graph"] if g.weights else 0)
                     for i, g in enumerate(gpus))
        host = replace(host, kv_cache=kv_host)
        notes.append("kv: Ollama's own engine keeps sliding-window layers at num_parallel × window memory "
                     "+ num_batch cells.")
    if proj_w:
        # the runner puts "v." and "mm." tensors with the output layer (ml/backend/ggml/ggml.go New) and reserves
        # its worst-case graph with a 2048 × 2048 image encoded (runner/ollamarunner/runner.go reserveWorstCaseGraph)
        on_gpu = est["fully_loaded"] and any(g.weights for g in gpus)
        last = max((i for i, g in enumerate(gpus) if g.weights), default=0)
        if on_gpu:
            gpus = tuple(replace(g, weights=g.weights + proj_loaded, compute=max(g.compute, proj_g)) if i == last else g
                         for i, g in enumerate(gpus))
        else:
            host = replace(host, weights=host.weights + proj_loaded, compute=max(host.compute, proj_g))
        notes.append(f"weights: Ollama loads the vision tower ({proj_arch}) from the model's GGUF, unquantized "
                     f"({human(proj_loaded)}; its estimate counts the 'v.' tensors, {human(proj_w)}), with the output layer, and budgets its own projector graph "
                     f"({human(proj_g)}, fs/ggml/ggml.go VisionGraphSize); its runner reserves one graph that encodes a 2048 × 2048 "
                     f"image beside a text batch, taken here as the larger of its projector and text graph estimates "
                     f"(gemma3 27B, Ollama 0.9.6: 1.1 GiB logged, 1.0 GiB here).")
    if kvf.name not in OLLAMA_KV_TYPES:
        notes.append(f"kv: Ollama has no {kvf.name} KV cache (OLLAMA_KV_CACHE_TYPE takes {', '.join(OLLAMA_KV_TYPES)}: "
                     f"ollama docs/faq.md); it uses {est['kv_type']}.")
    elif kvf.name != est["kv_type"]:
        notes.append(f"kv: OLLAMA_KV_CACHE_TYPE={kvf.name} needs flash attention and a model that supports it; "
                     f"Ollama falls back to {est['kv_type']}.")
    fields = {"projector_weights_bytes": proj_w, "projector_graph_bytes": proj_g, "n_ctx": s.context * s.batch, "num_ctx": s.context, "num_parallel": s.batch, "flash_attn": est["flash"],
              "kv_cache_type": est["kv_type"], "layers_on_gpu": est["layers"], "layers_total": est["layers_model"],
              "compute_buffer_bytes": [g.compute for g in gpus], "host_compute_buffer_bytes": host.compute,
              "required_full_bytes": est["required_full"], "required_partial_bytes": est["required_partial"],
              "graph_full_bytes": est["graph_full"], "graph_partial_bytes": est["graph_partial"],
              "kv_bytes": est["kv"], "system_ram_needed_bytes": host.total}
    minimum = MINIMUM_MEMORY_METAL if metal else MINIMUM_MEMORY
    if device is not None:
        budget = device.usable_bytes - gpu_overhead - minimum
        # Ollama's runner sets n_batch to num_batch, so llama.cpp's cut of n_ubatch to 2048 does not apply
        st_all = replace(llamacpp.settings_from(s, n), ubatch=llamacpp.requested_ubatch(s))
        fields["max_ngl_that_fits"] = llamacpp.max_ngl(spec, fmt, kv_used, replace(st_all, flash_attn=st.flash_attn), budget)
        fields["min_n_cpu_moe_that_fits"] = (llamacpp.min_n_cpu_moe(spec, fmt, kv_used, replace(st_all, flash_attn=st.flash_attn), budget)
                                             if spec.is_moe else None)
    backend = device.backend if device is not None and device.backend else "CUDA"
    lib = backend.lower()  # Ollama 0.11 logs the library lower-case: "library=rocm" (engine_logs_dev.json)
    log = (f"msg=offload library={lib} layers.requested={-1 if s.ngl is None else s.ngl} "
           f"layers.model={est['layers_model']} layers.offload={est['layers']} layers.split={est['split']} "
           f"memory.available=\"[{human(free) if device is not None else 'unknown'}]\" "
           f"memory.gpu_overhead=\"{human(gpu_overhead)}\" memory.required.full=\"{human(est['required_full'])}\" "
           f"memory.required.partial=\"{human(est['required_partial'])}\" memory.required.kv=\"{human(est['kv'])}\" "
           f"memory.required.allocations=\"[{' '.join(human(a) for a in est['allocations'])}]\" "
           f"memory.weights.total=\"{human(est['weights_repeating'] + est['weights_nonrepeating'])}\" "
           f"memory.weights.repeating=\"{human(est['weights_repeating'])}\" "
           f"memory.weights.nonrepeating=\"{human(est['weights_nonrepeating'])}\" "
           f"memory.graph.full=\"{human(est['graph_full'])}\" memory.graph.partial=\"{human(est['graph_partial'])}\""
           + (f" projector.weights=\"{human(proj_w)}\" projector.graph=\"{human(proj_g)}\"" if proj_w else ""),)
    log += memory_lines(gpus, host, backend)
    # per GPU: Ollama's minimum (457 MiB CUDA/ROCm, 512 MiB Metal) and OLLAMA_GPU_OVERHEAD
    return EnginePlan(gpus, host, caches, fields, log, tuple(notes), 1.0, minimum + gpu_overhead)


def device_name(backend: str, i: int) -> str:
    """The name Ollama's slog lines give GPU `i` (ml/backend/ggml/ggml.go: ggml_backend_dev_name): ggml's device
    names (CUDA0, ROCm0, Vulkan0: pycore.engines.llamacpp.BACKEND_NAMES), except Metal, one device named "Metal"
    in the ggml Ollama vendors (ml/backend/ggml/ggml/src/ggml-metal/ggml-metal.cpp GGML_METAL_NAME, at
    ollama/ollama@f560bd077^)."""
    return "Metal" if backend == "Metal" else llamacpp.backend_names(backend)[0].format(i)


def memory_lines(gpus, host, backend: str) -> tuple:
    """ml/device.go BackendMemory.Log (ollama/ollama@f560bd077^): the model weights, KV cache and compute graph of
    each GPU, then of the CPU, each printed only when it is not empty, then their total."""
    lines, total = [], 0
    for what, field in (("model weights", "weights"), ("kv cache", "kv_cache"), ("compute graph", "compute")):
        named = [(device_name(backend, i), getattr(g, field)) for i, g in enumerate(gpus)] + [("CPU", getattr(host, field))]
        for name, size in named:
            if size > 0:
                lines.append(f"msg=\"{what}\" device={name} size=\"{human(size)}\"")
                total += size
    if total:
        lines.append(f"msg=\"total memory\" size=\"{human(total)}\"")
    return tuple(lines)
