"""The training estimate: model states, activations and overhead per GPU under ZeRO / FSDP sharding and
tensor parallelism; each item with its formula in words, the numbers substituted, and its source."""
from dataclasses import dataclass, replace

from ..engines import ENGINES
from ..errors import InputError
from ..formats import weight_format, weight_storage
from ..hardware import TENSOR, custom_gpu, gpu as gpu_named, layout as make_layout
from ..memory import Fit, LineItem, resolve_model
from ..models import EXPERT_ROLES, ModelSpec, ParameterCount, parameter_count, weight_tensors
from ..units import format_bytes
from .activations import KORTHIKANTI_SRC, Activations, activations, korthikanti_layer_bytes, paper_formula
from .deepspeed import deepspeed_zero2_estimate, deepspeed_zero3_estimate
from .precision import (ADAM8_BLOCK, ADAM8_MIN_SIZE, ADAM8_QMAP_BYTES, OPTIMIZERS, PRECISIONS, ZERO_SRC, Optimizer,
                        Precision, _elem, _parameter_slices)
from .scenario import TrainingScenario
from .states import ModelStates, adapter_tensors, model_states

ITEM_KEYS = ("weights", "gradients", "optimizer", "activations", "adapters", "overhead")


# ---------------------------------------------------------------- sharding

@dataclass(frozen=True)
class Sharding:
    stage: int  # ZeRO stage in effect (FSDP mapped to 3)
    shards: int  # ranks the sharded states are split over
    dp: int  # data-parallel ranks
    label: str


def sharding(ts: TrainingScenario) -> Sharding:
    """DDP / ZeRO-1/2/3 over the data-parallel ranks; FSDP full shard = ZeRO-3 over them, hybrid shard =
    ZeRO-3 within a node (gpus_per_node / tp ranks), replicated across nodes (PyTorch FSDP
    ShardingStrategy.FULL_SHARD / HYBRID_SHARD)."""
    dp = ts.gpus // ts.tp
    if ts.fsdp == "full":
        return Sharding(3, dp, dp, f"FSDP full shard over {dp} ranks (= ZeRO-3)")
    if ts.fsdp == "hybrid":
        n = min(dp, max(1, ts.gpus_per_node // ts.tp))
        return Sharding(3, n, dp, f"FSDP hybrid shard: ZeRO-3 within a node of {n} ranks, replicated across "
                                  f"{-(-dp // n)} node(s)")
    if ts.zero == 0:
        return Sharding(0, 1, dp, "DDP: every data-parallel rank holds everything" if dp > 1 else
                        "one data-parallel rank: nothing sharded")
    return Sharding(ts.zero, dp, dp, f"ZeRO-{ts.zero} over {dp} data-parallel ranks")


def _ceil(n: int, d: int) -> int:
    return -(-n // d)


# ---------------------------------------------------------------- the estimate

@dataclass(frozen=True)
class TrainingDevice:
    index: int
    weights: int
    gradients: int
    optimizer: int
    activations: int
    adapters: int
    overhead: int

    @property
    def total(self) -> int:
        return self.weights + self.gradients + self.optimizer + self.activations + self.adapters + self.overhead


@dataclass(frozen=True)
class TrainingEstimate:
    scenario: TrainingScenario
    model_id: str
    model: ModelSpec
    precision: Precision
    optimizer_kind: Optimizer
    parameters: ParameterCount
    states: ModelStates  # per tensor-parallel rank, before sharding
    sharding: Sharding
    activation_parts: Activations
    weights: LineItem
    gradients: LineItem
    optimizer: LineItem
    activations: LineItem
    adapters: LineItem
    overhead: LineItem
    total: LineItem  # all GPUs together; `per_gpu.total` is one GPU's
    devices: tuple
    fit: object  # memory.Fit, or None without a GPU

    @property
    def items(self) -> tuple:
        return tuple(getattr(self, k) for k in ITEM_KEYS)

    @property
    def per_gpu(self) -> TrainingDevice:
        return self.devices[0]


def estimate_training(ts: TrainingScenario) -> TrainingEstimate:
    model_id, spec = resolve_model(ts.model)
    if ts.tp > 1:
        try:
            make_layout(TENSOR, ts.tp, spec)
        except InputError as err:  # the inference layout's rule, without its pipeline-parallel hint
            raise InputError("tp", err.message.replace(" (try pipeline parallelism)", "")) from None
    prec, opt = PRECISIONS[ts.precision], OPTIMIZERS[ts.optimizer]
    device = custom_gpu(ts.gpu_memory_bytes) if ts.gpu_memory_bytes else (gpu_named(ts.gpu) if ts.gpu else None)
    lora = (ts.lora_modules, ts.lora_rank, ts.qlora_double_quant) if ts.method != "full" else ()
    st = model_states(spec, ts.method, ts.precision, ts.optimizer, ts.tp, *lora)
    sh = sharding(ts)
    e = _elem(prec.activations)
    acts = activations(spec, ts.micro_batch, ts.seq_len, act_bytes=e, tp=ts.tp,
                       sequence_parallel=ts.sequence_parallel and ts.tp > 1, checkpointing=ts.checkpointing,
                       flash_attention=ts.flash_attention, dropout=ts.dropout,
                       lora_rank=ts.lora_rank if ts.method != "full" else 0, adapted=st.adapted,
                       dequant_values=st.dequant)

    n, stage, G = sh.shards, sh.stage, ts.gpus
    full = ts.method == "full"
    gather = stage == 3 and n > 1  # with one shard nothing is partitioned, so nothing is gathered
    w_elem, g_elem = (_elem(prec.weights), _elem(prec.grads)) if full else (0, 0)
    gathered_w = (st.largest_layer * w_elem if full else st.largest_layer_bytes) if gather else 0
    gathered_g = st.largest_layer * g_elem if gather and full else 0
    w_gpu = (_ceil(st.weights, n) if stage == 3 else st.weights) + gathered_w
    a_gpu = _ceil(st.adapters, n) if stage == 3 else st.adapters
    g_gpu = (_ceil(st.gradients, n) if stage >= 2 else st.gradients) + gathered_g
    o_gpu = _ceil(st.optimizer, n) if stage >= 1 else st.optimizer
    overhead = ENGINES["transformers"].overhead_bytes if ts.overhead_bytes is None else ts.overhead_bytes
    per = TrainingDevice(0, w_gpu, g_gpu, o_gpu, acts.total, a_gpu, overhead)
    devices = tuple(replace(per, index=i) for i in range(G))

    params = parameter_count(spec)
    ctx = _Ctx(ts, spec, prec, opt, st, sh, params)
    weights_item = _weights_item(ctx, w_gpu, gathered_w)
    grads_item = _gradients_item(ctx, g_gpu, gathered_g)
    opt_item = _optimizer_item(ctx, o_gpu)
    act_item = _activations_item(ctx, acts, e)
    adapters_item = _adapters_item(ctx, a_gpu)
    overhead_item = LineItem(
        "overhead", "Overhead", overhead * G, "CUDA context and runtime per GPU × GPUs",
        f"{format_bytes(overhead)} × {G} = {overhead * G:,} B",
        "entered by the user" if ts.overhead_bytes is not None else
        "CUDA context about 300-400 MB (pytorch/pytorch#86509, #109888): the PyTorch runtime allowance of the "
        "transformers profile (engines.py)",
        ("Not counted: the caching allocator's fragmentation, NCCL buffers and DeepSpeed's bucket buffers "
         "(reduce_bucket_size 5e8 values by default).",))
    parts = (weights_item, grads_item, opt_item, act_item, adapters_item, overhead_item)
    grand = sum(p.bytes for p in parts)
    total_item = LineItem(
        "total", "Total", grand, "weights + gradients + optimizer + activations + adapters + overhead",
        " + ".join(f"{p.bytes:,}" for p in parts) + f" = {grand:,} B ({format_bytes(grand)})"
        + (f"; per GPU {per.total:,} B ({format_bytes(per.total)})" if G > 1 else ""),
        "sum of the items", _total_notes(ctx, per))
    fit = None
    if device:
        capacity = device.usable_bytes  # PyTorch may allocate all the memory the driver reports
        headroom = capacity - per.total
        fit = Fit(device, capacity, headroom >= 0, headroom)
    return TrainingEstimate(ts, model_id, spec, prec, opt, params, st, sh, acts, weights_item, grads_item, opt_item,
                            act_item, adapters_item, overhead_item, total_item, devices, fit)


@dataclass(frozen=True)
class _Ctx:
    ts: TrainingScenario
    spec: ModelSpec
    prec: Precision
    opt: Optimizer
    st: ModelStates
    sh: Sharding
    params: ParameterCount

    @property
    def G(self) -> int:
        return self.ts.gpus

    def times_gpus(self, per_gpu: int) -> str:
        return f"; × {self.G} GPUs = {per_gpu * self.G:,} B" if self.G > 1 else ""

    def tp_note(self) -> str:
        return f" on each of {self.ts.tp} tensor-parallel ranks" if self.ts.tp > 1 else ""


def _shard_words(ctx: _Ctx, rank_bytes: int, sharded: bool) -> str:
    if not sharded or ctx.sh.shards == 1:
        return ""
    return f"; {ctx.sh.label.split(':')[0]}: ⌈{rank_bytes:,} / {ctx.sh.shards}⌉ = {_ceil(rank_bytes, ctx.sh.shards):,} B"


def _weights_item(ctx: _Ctx, per_gpu: int, gathered: int) -> LineItem:
    ts, st, spec = ctx.ts, ctx.st, ctx.spec
    stored = weight_storage(spec, weight_format(st.base_format))
    rows = " + ".join(f"{label} {count:,} tensors {el:,} values → {size:,} B" for label, count, el, size in stored.by_type)
    sub = f"{rows} = {stored.total:,} B ({format_bytes(stored.total)})"
    if ts.tp > 1:
        sub += f"; per tensor-parallel rank {st.weights:,} B (matrices split, norms and routers whole)"
    sub += _shard_words(ctx, st.weights, ctx.sh.stage == 3)
    if gathered:
        sub += f" + the largest layer gathered ({st.largest_layer_name}, {st.largest_layer:,} values) {gathered:,} B"
    sub += ctx.times_gpus(per_gpu)
    if ts.method == "full":
        formula = f"parameters × {_elem(ctx.prec.weights)} B ({ctx.prec.weights} working copy the forward pass reads)"
        notes = [f"{ctx.params.total:,} parameters, all trained"]
    else:
        kind = "NF4 with double quantization" if st.base_format == "NF4-DQ" else st.base_format
        formula = (f"frozen base in {kind}: Σ over tensors of their stored bytes (no gradients, no optimizer states)"
                   if ts.method == "qlora" else
                   f"frozen base: parameters × {_elem(st.base_format)} B ({st.base_format}); no gradients, no optimizer states")
        notes = [f"{ctx.params.total:,} frozen parameters"]
        if ts.method == "qlora":
            notes.append("Linear layers in 4-bit NF4 (bitsandbytes Linear4bit, one absmax per 64 values); embeddings, "
                         "LM head and norms stay 16-bit. PEFT's prepare_model_for_kbit_training also casts the remaining "
                         "16-bit parameters to fp32, which is not counted here.")
    if ctx.sh.stage == 3 and ctx.sh.shards > 1:
        formula += ", ÷ shards (ZeRO-3 / FSDP), plus the largest layer gathered in full for its forward and backward"
        notes.append("ZeRO-3 gathers at least the largest layer (DeepSpeed's estimator); its prefetch buckets and "
                     "stage3_max_live_parameters can hold more at once. FSDP gathers a whole wrapped unit "
                     "(a transformer block with the usual wrap policy).")
    return LineItem("weights", "Weights", per_gpu * ctx.G, formula, sub,
                    f"{weight_format(st.base_format).description}; {weight_format(st.base_format).source}; "
                    f"architecture: {spec.source or spec.name}", tuple(notes))


def _gradients_item(ctx: _Ctx, per_gpu: int, gathered: int) -> LineItem:
    ts, st = ctx.ts, ctx.st
    fmt = ctx.prec.grads if ts.method == "full" else ctx.prec.adapter
    b = _elem(fmt)
    what = "parameters" if ts.method == "full" else "adapter parameters"
    sub = f"{st.trainable:,} {what} × {b} B = {st.trainable * b:,} B"
    if ts.tp > 1 and ts.method == "full":
        sub += f"; per tensor-parallel rank {st.gradients:,} B"
    sub += _shard_words(ctx, st.gradients, ctx.sh.stage >= 2)
    if gathered:
        sub += f" + the gathered layer's full gradient {gathered:,} B"
    sub += ctx.times_gpus(per_gpu)
    formula = f"trainable {what} × {b} B ({fmt} gradients)"
    if ctx.sh.stage >= 2 and ctx.sh.shards > 1:
        formula += ", ÷ shards (ZeRO-2 and up reduce-scatter them)"
    return LineItem("gradients", "Gradients", per_gpu * ctx.G, formula, sub,
                    ZERO_SRC if ts.method == "full" else "LoRA: only the adapters are trained (PEFT)",
                    ("The frozen base has no gradients.",) if ts.method != "full" else ())


def _optimizer_item(ctx: _Ctx, per_gpu: int) -> LineItem:
    ts, st, opt, prec = ctx.ts, ctx.st, ctx.opt, ctx.prec
    parts = []
    if st.master:
        parts.append(f"fp32 master copy {st.trainable:,} × 4 B = {st.master:,} B" if ts.tp == 1 else
                     f"fp32 master copy {st.master:,} B")
    state_fmt = prec.state if ts.method == "full" else prec.adapter
    parts.append(_states_words(ctx, _elem(state_fmt), state_fmt))
    sub = " + ".join(parts) + (f" = {st.optimizer:,} B" if len(parts) > 1 else "")
    sub += _shard_words(ctx, st.optimizer, ctx.sh.stage >= 1)
    sub += ctx.times_gpus(per_gpu)
    formula = (("fp32 master copy (4 B per parameter) + " if st.master else "") + f"{opt.label}: {opt.states}")
    if ctx.sh.stage >= 1 and ctx.sh.shards > 1:
        formula += ", ÷ shards (ZeRO-1 and up partition the optimizer)"
    notes = [_accounting_line(ctx)]
    if opt.name == "adam8bit":
        notes.append(f"8-bit states: {2 + 8 / ADAM8_BLOCK:.5g} B per value for tensors of {ADAM8_MIN_SIZE:,}+ values "
                     "(2 uint8 states + 2 fp32 absmax per 256); bitsandbytes before #1365 used blocks of 2048.")
    if opt.name == "adafactor":
        notes.append("Under ZeRO the optimizer sees flat partitions, which Adafactor cannot factor; the factored "
                     "figure is computed per tensor and divided by the shards.")
    source = opt.source + ("; " + prec.source if ts.method == "full" else
                           "; LoRA: states for the adapters only, in the adapters' dtype (PEFT)")
    return LineItem("optimizer", "Optimizer states", per_gpu * ctx.G, formula, sub, source, tuple(notes))


def _states_words(ctx: _Ctx, elem: int, fmt: str) -> str:
    """The optimizer states' arithmetic over the trained tensors (whole model, then per rank under TP).
    The terms are spelled out here; their sum is Optimizer.state_bytes', the one formula."""
    ts, st, opt = ctx.ts, ctx.st, ctx.opt
    trained = (weight_tensors(ctx.spec) if ts.method == "full"
               else adapter_tensors(ctx.spec, ts.lora_modules, ts.lora_rank))
    n = sum(t.numel for t in trained)
    eight_bit = any(opt.uses_8bit(t.ne) for t in trained)
    total = sum(opt.state_bytes(t.ne, elem) for t in trained) + (ADAM8_QMAP_BYTES if eight_bit else 0)
    if opt.name in ("adamw", "sgd_momentum"):
        k = 2 if opt.name == "adamw" else 1
        words = f"{opt.label} {k} × {n:,} × {elem} B ({fmt}) = {total:,} B"
    elif opt.name == "sgd":
        words = "SGD keeps no state: 0 B"
    elif opt.name == "adam8bit":
        big = [t for t in trained if opt.uses_8bit(t.ne)]
        n8 = sum(t.numel for t in big)
        blocks = sum(c * -(-per // ADAM8_BLOCK) for per, c in (_parameter_slices(t.ne) for t in big))
        n32 = n - n8
        words = (f"uint8 m, v {n8:,} × 2 B + fp32 absmax {blocks:,} blocks × 2 × 4 B"
                 + (f" + fp32 m, v for {n32:,} values of tensors under {ADAM8_MIN_SIZE:,} × 8 B" if n32 else "")
                 + (f" + quantization maps {ADAM8_QMAP_BYTES:,} B" if eight_bit else "") + f" = {total:,} B")
    else:
        factored = sum(_parameter_slices(t.ne)[1] * (t.ne[0] + t.ne[1]) for t in trained if len(t.ne) >= 2)
        vectors = sum(t.numel for t in trained if len(t.ne) < 2)
        words = (f"Adafactor row + column vectors {factored:,} values"
                 + (f" + whole second moment of {vectors:,} vector values" if vectors else "")
                 + f" × 4 B = {total:,} B")
    if ts.tp > 1 and ts.method == "full":
        words += f"; per tensor-parallel rank {st.states:,} B"
    return words


def _accounting_line(ctx: _Ctx) -> str:
    """Bytes per trained parameter, broken down, for the scenario's precision and optimizer."""
    ts, prec, opt = ctx.ts, ctx.prec, ctx.opt
    if ts.method == "full":
        w, g, m, s = _elem(prec.weights), _elem(prec.grads), (4 if prec.master else 0), _elem(prec.state)
    else:
        w = g = s = _elem(prec.adapter)
        m = 0
    per_state = {"adamw": f"{s} + {s}", "sgd_momentum": f"{s}", "sgd": "0",
                 "adam8bit": f"{2 + 8 / ADAM8_BLOCK:.5g}", "adafactor": "4·(rows + cols)/(rows·cols)"}[opt.name]
    state_total = {"adamw": 2 * s, "sgd_momentum": s, "sgd": 0}.get(opt.name)
    words = f"{w} weight + {g} gradient" + (f" + {m} master" if m else "") + f" + {per_state} {opt.label} state"
    if state_total is not None:
        return f"Per trained parameter: {words} = {w + g + m + state_total} B."
    return f"Per trained parameter: {words}."


def _activations_item(ctx: _Ctx, acts: Activations, e: int) -> LineItem:
    ts, spec = ctx.ts, ctx.spec
    rows = " + ".join(f"{count} {desc} × {per:,} B" for per, count, desc in acts.layers)
    sub = f"tokens per GPU {ts.micro_batch:,} × {ts.seq_len:,} = {acts.tokens:,}; {rows} = {acts.stored:,} B"
    if ts.checkpointing == "full":
        sub += f"; + max(one layer's working set {acts.working:,} B, logits and loss {acts.logits:,} B)"
    else:
        sub += f"; + logits and loss {acts.logits:,} B"
    if acts.dequant:
        sub += f"; + one NF4 matrix dequantized to 16-bit {acts.dequant:,} B"
    sub += f" = {acts.total:,} B ({format_bytes(acts.total)}) per GPU" + ctx.times_gpus(acts.total)
    mode = {"none": "every layer keeps its activations",
            "selective": "selective recomputation: the attention core is recomputed, the rest kept",
            "full": "full recomputation: each layer keeps its input, e·h per token, and is rebuilt in the backward pass"}
    formula = (f"per layer (Korthikanti et al., with this model's widths): s·b·(whole-rank terms + split terms) "
               f"+ the attention core; {mode[ts.checkpointing]}; + logits (e + 4 + 4 B per vocabulary entry per token)")
    paper = korthikanti_layer_bytes(ts.seq_len, ts.micro_batch, spec.hidden_size, spec.num_heads, ts.tp,
                                    ts.sequence_parallel and ts.tp > 1, ts.checkpointing)
    notes = [f"The paper's GPT-3-shaped per-layer formula (MHA, MLP 4h, dropout, eager attention: "
             f"{paper_formula(ts.tp, ts.sequence_parallel and ts.tp > 1, ts.checkpointing)}) would give {paper:,} B per layer "
             f"({format_bytes(paper)}) for this model; the figure above uses its real widths "
             f"({'gated' if spec.gated_mlp else 'plain'} MLP of {spec.intermediate_size or spec.expert_intermediate_size:,}, "
             f"{spec.num_kv_heads} KV heads, dropout {'on' if ts.dropout else 'off'}, "
             f"{'fused' if ts.flash_attention else 'eager'} attention).",
             f"Activations in {ctx.prec.activations} ({e} B); norms counted as keeping their input (fused kernels); "
             "transformers' unfused RMSNorm keeps float32 intermediates as well."]
    if ts.flash_attention:
        notes.append("FlashAttention never stores the a·s² score matrix: only a float32 log-sum-exp per head and token.")
    if ts.seq_len > spec.max_context:
        notes.append(f"{ts.seq_len:,} tokens is beyond the model's maximum context of {spec.max_context:,}.")
    if ts.method != "full":
        notes.append("LoRA trains only the adapters, but the frozen layers' activations are still kept for the "
                     "input gradients; each adapter adds its rank-r intermediate.")
    return LineItem("activations", "Activations", acts.total * ctx.G, formula, sub, KORTHIKANTI_SRC, tuple(notes))


def _adapters_item(ctx: _Ctx, per_gpu: int) -> LineItem:
    ts, st = ctx.ts, ctx.st
    if ts.method == "full":
        return LineItem("adapters", "Adapters", 0, "none: full fine-tuning trains the weights themselves", "0 B",
                        "—")
    b = _elem(ctx.prec.adapter)
    counts = {}
    for _, role in st.adapted:
        counts[role] = counts.get(role, 0) + 1
    sub = (f"r = {ts.lora_rank}: {st.adapter_params:,} adapter parameters "
           f"({', '.join(f'{c} × {r}' for r, c in counts.items())}) × {b} B = {st.adapters:,} B")
    sub += _shard_words(ctx, st.adapters, ctx.sh.stage == 3) + ctx.times_gpus(per_gpu)
    notes = [f"LoRA alpha {ts.lora_alpha} scales the update by alpha / r = {ts.lora_alpha / ts.lora_rank:g}; it takes no memory.",
             f"{st.adapter_params / ctx.params.total:.4%} of the model's {ctx.params.total:,} parameters are trained."]
    if ctx.prec.adapter == "FP32" and ctx.prec.name != "fp32":
        notes.append("PEFT keeps adapters in fp32 under mixed precision (autocast_adapter_dtype=True), so they need no "
                     "separate master copy.")
    if any(role in EXPERT_ROLES for _, role in st.adapted):
        notes.append("MoE experts adapted: one A/B pair per expert.")
    if ts.tp > 1:
        notes.append("Adapters are kept whole on every tensor-parallel rank.")
    return LineItem("adapters", "Adapters", per_gpu * ctx.G,
                    f"Σ over adapted linears (in K, out N) of r·(K + N) × {b} B ({ctx.prec.adapter})", sub,
                    "Hu et al., arXiv:2106.09685; huggingface/peft src/peft/tuners/tuners_utils.py @831fd03e "
                    "_cast_adapter_dtype" + ("; QLoRA: Dettmers et al., arXiv:2305.14314" if ts.method == "qlora" else ""),
                    tuple(notes))


def _total_notes(ctx: _Ctx, per: TrainingDevice) -> tuple:
    ts, st, sh = ctx.ts, ctx.st, ctx.sh
    notes = [f"{sh.label}" + (f"; tensor parallel over {ts.tp}" if ts.tp > 1 else "") + "."]
    if ts.fsdp != "none":
        notes.append("FSDP is counted as its ZeRO equivalent: full shard = ZeRO-3 (parameters, gradients and optimizer "
                     "states sharded), hybrid shard = ZeRO-3 within a node, replicated across nodes.")
    if sh.stage == 3 and sh.shards > 1:
        unsharded = st.weights + st.adapters + _ceil(st.gradients, sh.shards) + _ceil(st.optimizer, sh.shards)
        sharded = per.weights + per.adapters + per.gradients + per.optimizer
        if sharded > unsharded:
            notes.append(f"Here ZeRO-3 holds more than ZeRO-2 would ({format_bytes(sharded)} vs {format_bytes(unsharded)} "
                         f"of model states per GPU): the gathered {st.largest_layer_name} outweighs what sharding the "
                         "weights saves over so few GPUs.")
    if ts.method == "full" and ts.precision.startswith("mixed") and ts.optimizer == "adamw" and sh.stage >= 2 and ts.tp == 1:
        p, n = st.trainable, sh.shards
        ours = per.weights + per.gradients + per.optimizer
        if sh.stage == 2:
            _, ds = deepspeed_zero2_estimate(p, gpus_per_node=n, cpu_offload=False)
            why = "it adds the fp32 gradient partition made at the optimizer step (4P/N)"
        else:
            _, ds, _ = deepspeed_zero3_estimate(p, st.largest_layer, gpus_per_node=n, cpu_offload=False)
            why = "it charges 18 B per parameter over N where the ZeRO paper has 16"
        notes.append(f"DeepSpeed's estimator gives {ds:,} B ({format_bytes(ds)}) of model states per GPU here "
                     f"against {ours:,} B; {why}.")
    if ts.precision.startswith("mixed") and ts.method == "full":
        notes.append("PyTorch AMP without DeepSpeed/FSDP (e.g. the HF Trainer's --bf16) keeps fp32 weights and fp32 "
                     "gradients instead, with bf16 copies made by autocast during the step: 4 + 2 + 4 + 8 = 18 B per "
                     "parameter (transformers docs, 'Model training anatomy').")
    return tuple(notes)
