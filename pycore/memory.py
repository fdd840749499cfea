"""The estimate: weights, KV cache, recurrent state, activations and overhead, each with its formula in
words, the same formula with the numbers in, and its source; their total; per-GPU figures and the fit;
and the warnings (every approximation, unread field or uncounted part, in words).
"""
from dataclasses import dataclass, replace
from functools import lru_cache

from . import presets
from .engines import Engine, check_kv_type, check_weights, engine as engine_named
from .engines.plan import EnginePlan, Share
from .errors import InputError
from .formats import (BNB, FILE, GGUF_PRESET, GGUF_TYPE, KVFormat, WeightFormat, kv_format, weight_format,
                      weight_storage)
from .hardware import GPU, Layout, custom_gpu, gpu as gpu_named, layout as make_layout, stage_layers
from .models import (MLA_EXPANDED, ModelSpec, ParameterCount, attention_groups, attention_layers, beyond_context,
                     parameter_count, state_groups, state_layers, tp_share)
from .scenario import Scenario
from .units import GiB, format_bytes

ITEM_KEYS = ("weights", "kv_cache", "state", "activations", "overhead")
DEFAULT_RAM = 32 * GiB  # system RAM when the user gives none: a common desktop/workstation size
LOGIT_BYTES = 4  # logits are float32 when sampled (llama.cpp output buffer, vLLM sampler .to(float32))


@dataclass(frozen=True)
class LineItem:
    key: str
    label: str
    bytes: int
    formula: str  # in words
    substituted: str  # the same formula with this scenario's numbers
    source: str
    notes: tuple = ()


@dataclass(frozen=True)
class Device:
    index: int
    weights: int
    kv_cache: int
    activations: int  # llama.cpp / Ollama: this GPU's compute buffer
    overhead: int
    state: int = 0  # recurrent and conv state (fixed per sequence)

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.state + self.activations + self.overhead


@dataclass(frozen=True)
class Fit:
    gpu: GPU
    capacity: int  # per GPU, what the engine may use: usable × memory fraction
    fits: bool
    headroom: int  # smallest (capacity − device total) over the GPUs; negative when it does not fit
    ram: int = 0  # system RAM checked (0: not checked); unified memory: the one pool
    ram_headroom: int = 0  # ram − what stays in system RAM (unified: − everything)
    unified: bool = False


@dataclass(frozen=True)
class Estimate:
    scenario: Scenario
    model_id: str
    model: ModelSpec
    weight_format: WeightFormat
    kv_format: KVFormat
    engine: Engine
    layout: Layout
    parameters: ParameterCount
    weights: LineItem
    kv_cache: LineItem
    activations: LineItem
    overhead: LineItem
    devices: tuple
    fit: object  # Fit, or None without a GPU
    state: LineItem = None  # recurrent + conv state, fixed per sequence (0 B without such layers)
    warnings: tuple = ()  # str each: approximations, unread fields, parts not counted (never silent)
    host: object = None  # Share kept in system RAM (engines with placement rules), else None
    engine_plan: object = None  # EnginePlan of engines with placement rules, else None

    @property
    def items(self) -> tuple:
        return (self.weights, self.kv_cache, self.state, self.activations, self.overhead)

    @property
    def total(self) -> int:
        return sum(it.bytes for it in self.items)

    def item(self, key: str) -> LineItem:
        return getattr(self, key)

    @property
    def weight_storage(self):
        """Per-tensor storage of the whole model (cached)."""
        return weight_storage(self.model, self.weight_format)

    @property
    def bits_per_weight(self) -> float:
        return self.weight_storage.bits_per_weight(self.parameters.language)


# ---------------------------------------------------------------- entry point

def resolve_model(model) -> tuple:
    """(id, spec) for a preset id or a ModelSpec."""
    if isinstance(model, ModelSpec):
        return "custom", model
    return model, presets.model(model)


def auto_engine(fmt: WeightFormat, spec: ModelSpec = None) -> str:
    """GGUF files run on llama.cpp, bitsandbytes on transformers, the rest is served by vLLM."""
    if fmt.group in (GGUF_PRESET, GGUF_TYPE) or (fmt.group == FILE and spec is not None and spec.file_kind == "gguf"):
        return "llama.cpp"
    if fmt.group == BNB:
        return "transformers"
    return "vllm"


def estimate(s: Scenario) -> Estimate:
    model_id, spec = resolve_model(s.model)
    fmt = weight_format(s.weights)
    kvf = kv_format(s.kv)
    eng = engine_named(auto_engine(fmt, spec) if s.engine == "auto" else s.engine)
    check_kv_type(eng, kvf.name)
    check_weights(eng, fmt, spec)
    device = resolve_device(s)
    check_unified_ram(device, s.ram_bytes)
    lay = make_layout(s.parallel, s.gpus, spec)
    chunk = s.prefill_chunk or eng.chunk(device.usable_bytes if device else 0)
    params = parameter_count(spec)

    if eng.planner and s.kv_method == "exact" and s.activations == "peak":
        return _planned(s, model_id, spec, fmt, kvf, eng, device, lay, params, chunk)

    w_dev = _device_weights(spec, fmt, lay)
    # a model file's own tensors already hold its towers and MTP layers
    parts_dev, parts_note = _part_weights(spec, eng.name, lay) if fmt.group != FILE else ((0,) * lay.devices, ())
    w_dev = tuple(a + b for a, b in zip(w_dev, parts_dev))
    kv_dev, kv_item = _kv_cache(spec, kvf, eng, s, lay, chunk)
    state_dev, state_item = _state(spec, eng, s, lay)
    act_dev, act_item = _activations(spec, eng, s, lay, chunk)
    overhead = eng.overhead_bytes if s.overhead_bytes is None else s.overhead_bytes
    devices = tuple(Device(i, w_dev[i], kv_dev[i], act_dev[i], overhead, state_dev[i]) for i in range(lay.devices))

    weights_item = _weights_item(spec, fmt, params, w_dev, lay)
    if parts_note:
        weights_item = replace(weights_item, notes=weights_item.notes + parts_note)
    overhead_item = _overhead_item(s, eng, overhead, lay.devices)
    fit = None
    if device:
        capacity = int(device.usable_bytes * eng.memory_fraction)
        headroom = min(capacity - d.total for d in devices)
        fit = Fit(device, capacity, headroom >= 0, headroom)
    warnings = _warnings(spec, eng, s, fmt)
    if s.kv_method == "seed":  # the seed's KV figure beside the exact one (its line item's note)
        warnings += kv_item.notes
    return Estimate(s, model_id, spec, fmt, kvf, eng, lay, params, weights_item, kv_item, act_item,
                    overhead_item, devices, fit, state_item, warnings)


# Engine settings and the engines that read them (pycore/engines/llamacpp.py, ollama.py, vllm.py): given for
# another engine, they are ignored, and a warning says so. (--tensor-split has its own warning.)
_ENGINE_FLAGS = (
    ("--ngl", ("llama.cpp", "ollama", "koboldcpp"), lambda s: s.ngl is not None),
    ("--ubatch", ("llama.cpp", "ollama", "koboldcpp"), lambda s: s.ubatch is not None),
    ("--flash-attn", ("llama.cpp", "ollama", "koboldcpp"), lambda s: s.flash_attn != "auto"),
    ("--n-cpu-moe", ("llama.cpp", "koboldcpp"), lambda s: bool(s.n_cpu_moe)),
    ("--swa-full", ("llama.cpp", "koboldcpp"), lambda s: s.swa_full),
    ("--no-kv-offload", ("llama.cpp", "koboldcpp"), lambda s: not s.kv_offload),
    ("--gpu-memory-utilization", ("vllm",), lambda s: s.gpu_memory_utilization is not None),
    ("--max-num-batched-tokens", ("vllm",), lambda s: s.max_num_batched_tokens is not None),
    ("--max-num-seqs", ("vllm",), lambda s: s.max_num_seqs is not None),
    ("--mem-fraction-static", ("sglang",), lambda s: s.mem_fraction_static is not None),
    ("--chunked-prefill-size", ("sglang",), lambda s: s.chunked_prefill_size is not None),
    ("--page-size", ("sglang",), lambda s: s.page_size is not None),
)


def resolve_device(s):
    """The Scenario's device: a catalog GPU, a custom one of gpu_memory_bytes, or the catalog GPU with its memory
    replaced when both are given (its bandwidth, compute and backend kept; a warning says so); None without either."""
    if s.gpu and s.gpu_memory_bytes:
        g = gpu_named(s.gpu)
        custom_gpu(s.gpu_memory_bytes)  # the same bounds as a custom GPU's
        return replace(g, name=f"{g.name} ({format_bytes(s.gpu_memory_bytes)} entered)",
                       memory_bytes=s.gpu_memory_bytes, usable_bytes=s.gpu_memory_bytes)
    return custom_gpu(s.gpu_memory_bytes) if s.gpu_memory_bytes else (gpu_named(s.gpu) if s.gpu else None)


def check_unified_ram(device, ram_bytes) -> None:
    """A unified-memory device (Apple silicon, DGX Spark, Ryzen AI Max, Jetson) has no system RAM beside its own
    memory: the CPU and the GPU share it. --ram may say how much of it is free (less), never more: raises
    InputError("ram") when ram_bytes exceeds the device's memory."""
    if device is not None and device.kind == "unified" and ram_bytes and ram_bytes > device.memory_bytes:
        raise InputError("ram", f"{device.name} has {format_bytes(device.memory_bytes)} of unified memory, shared "
                         f"by its CPU and GPU: --ram {format_bytes(ram_bytes)} cannot exceed it (give what is free "
                         "of it, or leave --ram out)")


def _warnings(spec: ModelSpec, eng: Engine, s: Scenario, fmt: WeightFormat = None, planned: bool = False) -> tuple:
    """What the figures leave out or approximate, in words: the model's own notes (unknown model_type,
    unread fields, parts not counted) and the estimate's approximations for this scenario."""
    out = list(spec.notes)
    if fmt is not None and fmt.group == GGUF_PRESET:
        # a preset name fixes the file type, not each tensor's: uploaders may override types per tensor
        # (bartowski's Kimi-Linear Q4_K_M has Q8_0 shared experts, 358 MB over the stock recipe, tests/test_kimi_linear.py)
        out.append(f"{fmt.name} is predicted with llama-quantize's stock per-tensor rules ({fmt.rules}); a file made "
                   "with --tensor-type overrides, as some MoE uploads are, or with another era's rules differs: "
                   "loading the GGUF itself (--gguf FILE) gives its exact types.")
    if spec.has_state:
        out.append("Activations of the recurrent/convolution layers are not modelled separately: the activation "
                   "peak is taken from the attention and MLP phases.")
        if eng.name == "vllm" and not planned:  # the planner models the padding (pycore/engines/vllm_pool.py)
            out.append("vLLM pads each recurrent-state slot to its attention page size and keeps a few spare slots: "
                       "its state allocation can be larger than the state counted here.")
    if eng.name == "sglang" and not planned:
        out.append("SGLang's own rules (its static memory fraction and the KV pool it allocates at start, "
                   "pycore/engines/sglang.py) apply with the exact KV formula and the peak activations only: these "
                   "figures are the generic ones, sliding layers trimmed to their window.")
    if (s.speculative_method or s.data_parallel_size > 1 or s.enable_expert_parallel) and not (
            eng.name == "vllm" and planned):
        out.append(f"Speculative decoding, data parallelism and expert parallelism are modelled for vLLM's own "
                   f"memory rules only: ignored here ({eng.label}"
                   f"{'' if eng.name != 'vllm' else ' with the seed or no-activation methods'}).")
    loading = check_weights(eng, fmt, spec) if fmt is not None else ""
    if loading:
        out.append(loading.split(": ", 1)[1])
    ignored = [flag for flag, engines, given in _ENGINE_FLAGS if given(s) and eng.name not in engines]
    if ignored:
        out.append(f"{', '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} not {eng.label}'s setting"
                   f"{'' if len(ignored) == 1 else 's'}: ignored here (llama.cpp's, KoboldCpp's and Ollama's: --ngl, "
                   "--ubatch, --flash-attn; llama.cpp's and KoboldCpp's: --n-cpu-moe, --swa-full, --no-kv-offload; vLLM's: "
                   "--gpu-memory-utilization, --max-num-batched-tokens, --max-num-seqs; SGLang's: "
                   "--mem-fraction-static, --chunked-prefill-size, --page-size).")
    if s.gpu and s.gpu_memory_bytes:
        out.append(f"--gpu-memory {format_bytes(s.gpu_memory_bytes)} given with --gpu {s.gpu}: the device's memory "
                   "is taken as entered; its bandwidth, compute and backend stay the catalog device's.")
    if s.overhead_bytes is not None and eng.name in ("vllm", "sglang"):
        out.append(f"--overhead is not {eng.label}'s: its overhead per GPU is what it measures at start (vLLM's "
                   f"non-torch memory, SGLang's memory in use before loading), taken from its logs; the overhead "
                   f"given is not applied.")
    if s.tensor_split and eng.name not in ("llama.cpp", "koboldcpp"):  # KoboldCpp --tensor_split
        out.append(f"--tensor-split is llama.cpp's own setting: {eng.name} places layers by its own rules, so the "
                   "split given is not applied.")
    beyond = beyond_context(spec, s.context)
    if beyond:
        out.append(beyond + ". Positions past it were never trained; the bytes are shown as if it could hold "
                   "them." + (
                       " vLLM refuses a max_model_len above it unless VLLM_ALLOW_LONG_MAX_MODEL_LEN=1 is set "
                       "(vllm/config/model.py@0052a5b8 _get_and_verify_max_len: \"User-specified max_model_len is "
                       "greater than the derived max_model_len\")." if eng.name == "vllm" else ""))
    if s.kv_method == "seed" and spec.layer_types and any(t != "full" for t in spec.layer_types):
        out.append("The seed's KV formula counts every layer as full attention; this model's layers differ.")
    seen, unique = set(), []
    for w in out:
        if w not in seen:
            seen.add(w)
            unique.append(w)
    return tuple(unique)


def _overhead_item(s, eng, overhead, n_gpus) -> LineItem:
    return LineItem(
        "overhead", "Overhead", overhead * n_gpus,
        "runtime and CUDA context per GPU × GPUs",
        f"{format_bytes(overhead)} × {n_gpus} = {overhead * n_gpus:,} B",
        "entered by the user" if s.overhead_bytes is not None else eng.source,
        ("The seed allows 1–2 GB for CUDA context and runtime; a bare CUDA context measures about 0.3–0.4 GB.",))


def _planned(s, model_id, spec, fmt, kvf, eng, device, lay, params, chunk) -> Estimate:
    """An engine with its own placement rules (pycore.engines.<planner>.estimate_plan) decides each
    GPU's and the host's share; the line items are their sums, so GPUs + host = the total."""
    import importlib
    rules = importlib.import_module(f"pycore.engines.{eng.planner}")
    plan: EnginePlan = rules.estimate_plan(spec, fmt, kvf, s, lay, device, chunk)
    n_gpus = len(plan.gpus)
    # the per-GPU overhead the engine's rules budgeted (the user's --overhead included)
    overhead = eng.overhead_bytes if plan.overhead_bytes is None else plan.overhead_bytes
    h = plan.host
    # the parts the engine loads besides the language model (a vLLM vision tower) are in its plan's weights
    # (pycore/engines/vllm.py); here only their note. A model file's own tensors already hold them.
    parts_note = _part_weights(spec, eng.name, lay)[1] if fmt.group != FILE else ()
    gpus = plan.gpus
    devices = tuple(Device(i, g.weights, g.kv_cache, g.compute, overhead if g.total else 0, g.state)
                    for i, g in enumerate(gpus))
    notes = plan.notes
    gpu_w = sum(g.weights for g in gpus)
    w_formula, rows, w_source, w_notes = _weights_text(spec, fmt)
    weights_item = LineItem(
        "weights", "Weights", gpu_w + h.weights, w_formula,
        f"{rows}; placed by {eng.label}: GPUs {gpu_w:,} B + system RAM {h.weights:,} B",
        w_source, w_notes + parts_note + tuple(n.split(": ", 1)[1] for n in notes if n.startswith("weights:")))
    gpu_kv = sum(g.kv_cache for g in gpus)
    caches = "; ".join(f"{label + ' ' if label else ''}{cells:,} cells × {layers} layers = {size:,} B"
                       for label, cells, layers, size in plan.caches) or "no attention layers"
    kv_item = LineItem(
        "kv_cache", "KV cache", gpu_kv + h.kv_cache,
        f"cells {eng.label} allocates × Σ over layers (K + V bytes per cell), in the cache format",
        f"{caches} → GPUs {gpu_kv:,} B + system RAM {h.kv_cache:,} B",
        f"{eng.label}: {eng.source}", tuple(n.split(": ", 1)[1] for n in notes if n.startswith("kv:")))
    gpu_rs = sum(g.state for g in gpus)
    state_item = _state(spec, eng, s, lay)[1]
    state_item = replace(state_item, bytes=gpu_rs + h.state,
                         notes=state_item.notes + tuple(n.split(": ", 1)[1] for n in notes if n.startswith("state:")),
                         substituted=state_item.substituted + (f"; placed by {eng.label}: GPUs {gpu_rs:,} B + "
                                                               f"system RAM {h.state:,} B" if gpu_rs + h.state else ""))
    gpu_c = sum(g.compute for g in gpus)
    act_item = LineItem(
        "activations", "Activations", gpu_c + h.compute + h.output,
        "the engine's compute buffers (per GPU and on the host) and its logits output buffer",
        f"GPU compute buffers {', '.join(f'{g.compute:,}' for g in gpus) or 'none'} B + host compute "
        f"{h.compute:,} B + output {h.output:,} B",
        f"{eng.label}: {eng.source}", tuple(n.split(": ", 1)[1] for n in notes if n.startswith("compute:")))
    overhead_item = _overhead_item(s, eng, overhead, sum(1 for d in devices if d.overhead))
    overhead_item = replace(overhead_item, notes=overhead_item.notes + tuple(
        n.split(": ", 1)[1] for n in notes if n.startswith("overhead:")))
    fit = None
    if device:
        capacity = int(device.usable_bytes * plan.capacity_fraction)
        headroom = min((capacity - d.total for d in devices), default=capacity)
        unified = device.kind == "unified"
        ram = s.ram_bytes or (device.memory_bytes if unified else DEFAULT_RAM)
        ram_headroom = ram - (h.total + (sum(d.total for d in devices) if unified else 0))
        fits = headroom >= 0 if plan.fits is None else plan.fits
        fit = Fit(device, capacity, fits and ram_headroom >= 0, headroom, ram, ram_headroom, unified)
    warnings = _warnings(spec, eng, s, fmt, planned=True) + tuple(n.split(": ", 1)[1] for n in notes)
    if n_gpus != lay.devices and n_gpus % lay.devices == 0:  # vLLM data-parallel engines, each on lay.devices GPUs
        lay = replace(lay, dp=n_gpus // lay.devices)
    return Estimate(s, model_id, spec, fmt, kvf, eng, lay, params, weights_item, kv_item, act_item,
                    overhead_item, devices, fit, state=state_item, warnings=warnings, host=h, engine_plan=plan)


# ---------------------------------------------------------------- weights

@lru_cache(maxsize=1024)
def _device_weights(spec: ModelSpec, fmt: WeightFormat, lay: Layout) -> tuple:
    """Weight bytes on each GPU. Tensor parallelism splits matrices and keeps norms and routers whole;
    pipeline parallelism gives each stage its layers, the embeddings to the first and the head to the last."""
    stored = weight_storage(spec, fmt)
    if lay.devices == 1:
        return (stored.total,)
    if lay.tp > 1:
        per_rank = sum(tp_share(t, s.bytes, spec.num_kv_heads, lay.tp) for t, s in stored.tensors)
        return (per_rank,) * lay.tp
    stages = stage_layers(spec.num_layers, lay.pp)
    per_stage = [0] * lay.pp
    stage_of = {}
    for k, (lo, hi) in enumerate(stages):
        for i in range(lo, hi):
            stage_of[i] = k
    for t, s in stored.tensors:
        if t.layer >= 0:
            per_stage[stage_of[t.layer]] += s.bytes
        elif t.role in ("token_embd", "position_embd"):
            per_stage[0] += s.bytes
            if t.role == "token_embd" and spec.tie_embeddings:
                per_stage[-1] += s.bytes  # the last stage needs its own copy as the output head
        else:
            per_stage[-1] += s.bytes
    return tuple(per_stage)


@lru_cache(maxsize=1024)
def _part_weights(spec: ModelSpec, engine_name: str, lay: Layout) -> tuple:
    """(bytes per device, notes) of the parts the engine loads besides the language model. Towers stay in
    16-bit under every checkpoint quantizer (their ignore lists) and llama.cpp keeps them out of the text
    GGUF; tensor parallelism splits their matrices, pipeline parallelism puts them on the first stage."""
    from .parts import LOADED_BY, PART_KEYS, loaded_parts, part_sizes, part_tensors
    sizes = part_sizes(spec)
    if not sizes:
        return (0,) * lay.devices, ()
    loaded = loaded_parts(engine_name)
    per_device = [0] * lay.devices
    words = []
    for key, n in sizes:
        if key in loaded:
            tensors = part_tensors(spec, key)
            if lay.tp > 1:
                share = sum(tp_share(t, 2 * t.numel, spec.num_kv_heads, lay.tp) for t in tensors)
                per_device = [b + share for b in per_device]
            else:
                per_device[0] += 2 * n
            words.append(f"{key} {n:,} parameters loaded in 16-bit ({format_bytes(2 * n)})")
        else:
            words.append(f"{key} {n:,} parameters in the checkpoint, not loaded")
    source = LOADED_BY.get(engine_name, ((), ""))[1]
    return tuple(per_device), ("Besides the language model: " + "; ".join(words) + f". {source}",)


def _weights_item(spec, fmt, params, per_device, lay) -> LineItem:
    formula, rows, source, notes = _weights_text(spec, fmt)
    total = sum(per_device)
    split = ""
    if lay.devices > 1:
        split = (f"; over {lay.devices} GPUs: " + ", ".join(f"{b:,}" for b in per_device) + f" B = {total:,} B"
                 + (" (norms, routers and the replicated parts are held by every GPU)" if lay.tp > 1 else
                    " (the last stage also holds the tied output head)" if spec.tie_embeddings else ""))
    return LineItem("weights", "Weights", total, formula, f"{rows}{split}", source, notes)


@lru_cache(maxsize=1024)
def _weights_text(spec, fmt) -> tuple:
    """The parts of the weights explanation that depend on the model and format only."""
    stored = weight_storage(spec, fmt)
    params = parameter_count(spec)
    bpw = stored.bits_per_weight(params.language)
    rows = " + ".join(f"{label} {count:,} tensors {elements:,} el → {size:,} B"
                      for label, count, elements, size in stored.by_type)
    notes = [f"{params.language:,} parameters ({params.active:,} active per token)" if spec.is_moe
             else f"{params.language:,} parameters", f"{bpw:.3f} bits per weight on average"]
    if fmt.group == GGUF_PRESET:
        notes.append(f"{fmt.name} is a recipe: " + ", ".join(f"{count} {label}" for label, count, _, _ in stored.by_type))
    formula = ("Σ over every weight tensor: elements × bytes per element of the type it is stored in"
               if len(stored.by_type) > 1 else "parameters × bytes per parameter")
    return (formula, f"{rows} = {stored.total:,} B ({format_bytes(stored.total)})",
            f"{fmt.description}; {fmt.source}; architecture: {spec.source or spec.name}", tuple(notes))


# ---------------------------------------------------------------- KV cache

def _kv_cache(spec, kvf, eng, s: Scenario, lay: Layout, chunk: int):
    groups = attention_groups(spec, mla=eng.mla_cache)
    B, S = s.batch, s.context
    single = sum(B * eng.kv_cells(S, layer.cached_tokens(S), chunk) * count * layer.bytes_per_token(kvf)
                 for layer, count in groups)
    if s.kv_method == "seed":
        # The seed's 2 · B · S · H · L · bytes: every attention head caches K and V (the MHA case).
        per_token_layer = 2 * kvf.row_bytes(spec.hidden_size)
        total = B * S * spec.num_layers * per_token_layer
        item = LineItem(
            "kv_cache", "KV cache", total, "2 (K and V) × batch × context × hidden size × layers × bytes "
            "(the seed's formula: true only for multi-head attention)",
            f"2 × {B:,} × {S:,} × {spec.hidden_size:,} × {spec.num_layers} × {kvf.bits_per_value / 8:g} B "
            f"= {total:,} B ({format_bytes(total)})", "the seed's worked-example formula",
            (_seed_kv_note(total, single),))
        return _split_evenly(total, lay), item

    cells = {layer: eng.kv_cells(S, layer.cached_tokens(S), chunk) for layer, _ in groups}
    per_device = [0] * lay.devices
    for k, (lo, hi) in enumerate(stage_layers(spec.num_layers, lay.pp)):
        stage = sum(B * cells[layer] * count * layer.bytes_per_token(kvf, lay.tp)
                    for layer, count in attention_groups(spec, lo, hi, eng.mla_cache))
        for r in range(lay.tp):
            per_device[k * lay.tp + r] = stage
    total = sum(per_device)
    parts = " + ".join(f"{B:,} × {cells[layer]:,} cells × {count} layers × {layer.bytes_per_token(kvf):,} B/token "
                       f"[{layer.describe()}, {kvf.name}]" for layer, count in groups)
    substituted = f"{parts} = {single:,} B ({format_bytes(single)})"
    if lay.tp > 1:
        substituted += (f"; tensor parallel over {lay.tp} GPUs: {per_device[0]:,} B each" +
                        (" (KV heads or the MLA latent replicated)" if total != single else ""))
    elif lay.pp > 1:
        substituted += "; pipeline stages hold their layers' share: " + ", ".join(f"{b:,}" for b in per_device) + " B"
    item = LineItem(
        "kv_cache", "KV cache", total,
        "batch × cached tokens × Σ over layers (K + V bytes per token); a token's K or V row is "
        "KV heads × head dim values in the cache format, a sliding layer keeps at most its window (a chunked "
        "layer one chunk), an MLA layer one latent; recurrent and convolution layers keep none",
        substituted, f"per-layer KV layout (vLLM kv_cache_interface.py, llama.cpp llama-kv-cache.cpp); "
        f"cells as {eng.label} allocates them: {eng.source}", _kv_notes(spec, kvf, s, eng, single))
    return tuple(per_device), item


def _seed_kv_note(seed: int, exact: int) -> str:
    """The warning of --kv-method seed: its figure beside the exact per-layer form's, and their ratio."""
    ratio = f" ({seed / exact:,.1f}× it)" if exact and seed != exact else ""
    return (f"KV cache by the seed's formula (--kv-method seed): {format_bytes(seed)}; the exact per-layer form "
            f"gives {format_bytes(exact)} for this model{ratio}.")


def _kv_notes(spec, kvf, s, eng, total) -> tuple:
    notes = []
    seed = 2 * s.batch * s.context * spec.num_layers * kvf.row_bytes(spec.hidden_size)
    if seed != total:
        ratio = seed / total if total else 0
        notes.append(f"The seed's MHA formula 2·B·S·H·L·bytes would give {format_bytes(seed)} "
                     f"({ratio:.1f}× this): it caches all {spec.num_heads} heads of {spec.hidden_size // spec.num_heads} "
                     f"dims, while this model caches " +
                     (f"{spec.num_heads} heads of ({spec.qk_nope_head_dim + spec.qk_rope_head_dim} K + "
                      f"{spec.v_head_dim} V) dims, MLA expanded by kv_b_proj as {eng.label} caches it"
                      if spec.is_mla and eng.mla_cache == MLA_EXPANDED else
                      f"one {spec.kv_lora_rank + spec.qk_rope_head_dim}-value latent per token and layer (MLA)"
                      if spec.is_mla else f"{spec.num_kv_heads} KV heads of {spec.head_dim} dims") + ".")
    if spec.layer_types and "sliding" in spec.layer_types:
        n = spec.layer_types.count("sliding")
        notes.append(f"{n} of {spec.num_layers} layers use a {spec.sliding_window:,}-token sliding window: "
                     "their cache stops growing there.")
    if spec.layer_types and "chunked" in spec.layer_types:
        n = spec.layer_types.count("chunked")
        notes.append(f"{n} of {spec.num_layers} layers use chunked local attention ({spec.attention_chunk:,}-token "
                     "chunks): their cache stops growing at one chunk.")
    if spec.is_mla and eng.mla_cache == MLA_EXPANDED:
        latent = spec.kv_lora_rank + spec.qk_rope_head_dim
        notes.append(f"{eng.label} caches MLA's per-head keys and values ({spec.num_heads} × "
                     f"({spec.qk_nope_head_dim + spec.qk_rope_head_dim} + {spec.v_head_dim}) values per token and "
                     f"layer), not the {latent}-value latent vLLM and llama.cpp keep: "
                     f"{spec.num_heads * (spec.qk_nope_head_dim + spec.qk_rope_head_dim + spec.v_head_dim) / latent:.1f}× "
                     f"their KV cache.")
    attention = len(attention_layers(spec))
    if attention < spec.num_layers:
        notes.append(f"Only {attention} of {spec.num_layers} layers are attention layers with a KV cache; the others "
                     "keep a fixed state (the recurrent state item) or nothing.")
    if eng.cell_multiple > 1:
        notes.append(f"{eng.label} allocates KV cells in multiples of {eng.cell_multiple} tokens.")
    return tuple(notes)


# ---------------------------------------------------------------- recurrent state

def _state(spec, eng, s: Scenario, lay: Layout):
    """Conv and recurrent (SSM) state: fixed per sequence, one slot per sequence in every recurrent or
    convolution layer (llama.cpp llama-memory-recurrent.cpp: n_seq_max cells of n_embd_r() + n_embd_s()
    values per layer; vLLM one MambaSpec slot per running request)."""
    groups = state_groups(spec)
    B = s.batch
    if not groups:
        return (0,) * lay.devices, LineItem(
            "state", "Recurrent state", 0, "batch × Σ over recurrent and convolution layers (conv + SSM state)",
            "no recurrent or convolution layers: 0 B", "architecture")
    conv_b, ssm_b = eng.state_value_bytes(spec.ssm_dtype)
    conv = sum(B * count * layer.conv_values() * conv_b for layer, count in groups)
    ssm = sum(B * count * layer.ssm_values() * ssm_b for layer, count in groups)
    per_device = [0] * lay.devices
    for k, (lo, hi) in enumerate(stage_layers(spec.num_layers, lay.pp)):
        stage = sum(B * count * layer.state_bytes(conv_b, ssm_b, lay.tp) for layer, count in state_groups(spec, lo, hi))
        for r in range(lay.tp):
            per_device[k * lay.tp + r] = stage
    total = sum(per_device)
    parts = " + ".join(f"{B:,} × {count} layers × ({layer.conv_values():,} conv × {conv_b} B + "
                       f"{layer.ssm_values():,} state × {ssm_b} B) [{layer.describe()}]" for layer, count in groups)
    substituted = (f"{parts} = {conv + ssm:,} B ({format_bytes(conv + ssm)}): conv (R) {format_bytes(conv)}, "
                   f"recurrent (S) {format_bytes(ssm)}")
    if lay.tp > 1:
        substituted += f"; tensor parallel over {lay.tp} GPUs: {per_device[0]:,} B each"
    elif lay.pp > 1:
        substituted += "; pipeline stages hold their layers' share: " + ", ".join(f"{b:,}" for b in per_device) + " B"
    n = len(state_layers(spec))
    dtypes = "f32" if eng.state_dtype == "f32" else f"{conv_b} B conv / {ssm_b} B state values"
    item = LineItem(
        "state", "Recurrent state", total,
        "batch × Σ over recurrent and convolution layers (conv state + recurrent/SSM state per sequence); "
        "fixed per sequence: it does not grow with the context",
        substituted, f"per-layer state shapes (attention.py: llama.cpp src/llama-hparams.cpp n_embd_r()/n_embd_s(), "
        f"vLLM mamba_utils.py); dtypes: {eng.state_source}",
        (f"{n} of {spec.num_layers} layers keep a fixed state per sequence ({dtypes}) and no KV cache.",))
    return tuple(per_device), item


def _split_evenly(total: int, lay: Layout) -> tuple:
    share = -(-total // lay.devices)
    return (share,) * lay.devices


# ---------------------------------------------------------------- activations

def _activations(spec, eng, s: Scenario, lay: Layout, chunk: int):
    B, S = s.batch, s.context
    if s.activations == "none":
        return (0,) * lay.devices, LineItem("activations", "Activations", 0, "not counted", "0 B", "chosen by the user")
    if s.activations == "seed":
        total = B * S * spec.hidden_size * spec.num_layers * 2
        item = LineItem(
            "activations", "Activations", total, "batch × context × hidden size × layers × 2 bytes (the seed's formula)",
            f"{B:,} × {S:,} × {spec.hidden_size:,} × {spec.num_layers} × 2 B = {total:,} B ({format_bytes(total)})",
            "the seed's worked-example formula",
            ("Keeps every layer's hidden state for every token at once; inference frees each layer's "
             "activations before the next, so engines measure far less (see the 'peak' method).",))
        return _split_evenly(total, lay), item
    phases = activation_phases(spec, eng, B, S, chunk, lay.tp)
    tokens = phases["tokens"]
    worst = max(phases["attention"], phases["mlp"])
    peak = max(worst, phases["logits"])
    per_device = []
    for d in range(lay.devices):
        last_stage = d // lay.tp == lay.pp - 1
        per_device.append(max(worst, phases["logits"]) if last_stage else worst)
    total = sum(per_device)
    b = eng.activation_bytes
    substituted = ("tokens per pass T = " + (f"min(batch × context, chunk) = min({B * S:,}, {chunk:,}) = {tokens:,}"
                                              if chunk else f"batch × context = {tokens:,}") +
                   f"; attention {phases['attention']:,} B, MLP {phases['mlp']:,} B, logits {phases['logits']:,} B "
                   f"→ peak {peak:,} B ({format_bytes(peak)})" +
                   (f" per GPU; {lay.devices} GPUs = {total:,} B" if lay.devices > 1 else ""))
    item = LineItem(
        "activations", "Activations", total,
        "largest working set of one forward pass: one layer's attention or MLP intermediates for T tokens "
        f"({b} B each), or the float32 logits buffer",
        substituted,
        f"{eng.label}: {eng.source}; checked against logged compute buffers (shared/reference/measured_dev.json)",
        (f"attention: T × (2H + q + k + v + attn out); MLP: T × (2H + up/gate + act); "
         f"logits: {phases['logit_rows']:,} rows × {spec.vocab_size:,} vocab × 4 B + T × H × {b} B",))
    return tuple(per_device), item


def activation_phases(spec: ModelSpec, eng: Engine, batch: int, context: int, chunk: int, tp: int = 1) -> dict:
    """Bytes alive at the peak of each phase of a forward pass over T tokens, per tensor-parallel rank."""
    H, b = spec.hidden_size, eng.activation_bytes
    T = min(batch * context, chunk) if chunk else batch * context
    heads = spec.num_heads // tp
    if spec.is_mla:
        qk = spec.qk_nope_head_dim + spec.qk_rope_head_dim
        q = k = heads * qk
        v = out = heads * spec.v_head_dim
    else:
        q = out = heads * spec.head_dim
        k = v = -(-spec.num_kv_heads // tp) * spec.head_dim
    attention = T * (2 * H + q + k + v + out) * b
    mlp = 0
    if spec.first_dense_layers or not spec.is_moe:
        width = spec.intermediate_size // tp
        mlp = T * (2 * H + (3 if spec.gated_mlp else 2) * width) * b
    if spec.is_moe:
        w = spec.expert_intermediate_size // tp
        routed = T * spec.experts_per_token * ((3 if spec.gated_mlp else 2) * w + H)
        shared = T * 3 * (spec.shared_expert_intermediate_size // tp)
        mlp = max(mlp, (T * (2 * H + spec.num_experts) + routed + shared) * b)
    rows = T if eng.logits_for_every_token else min(batch, T)
    logits = rows * spec.vocab_size * LOGIT_BYTES + T * H * b
    return {"tokens": T, "attention": attention, "mlp": mlp, "logits": logits, "logit_rows": rows}
