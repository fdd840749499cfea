"""How fast: decode and prefill tokens per second from the same byte counts as the memory estimate.

Decode (text generation, one token per step) reads every active weight once per step and each sequence's
KV cache up to the current depth, so its ceiling is memory bandwidth:

    step time = Σ over memories (bytes read there / (bandwidth × efficiency)) + fixed per-token cost
    decode tokens/s = batch / max(step time, batch × FLOPs per token / compute reached)

Prefill (prompt processing) multiplies every weight by a whole micro-batch of tokens, so its ceiling is
compute: FLOPs = 2 × active parameters per token + attention (QKᵀ and AV over the tokens already cached),
over the dense FP16 tensor throughput × efficiency; the weights are still read once per micro-batch, and
the slower of the two bounds applies.

Every figure is returned with its formula in words and with the numbers substituted, like the memory
LineItems. Pure: stdlib only, no I/O.
"""
from dataclasses import dataclass
from functools import lru_cache

from .errors import InputError
from .models import MLA_LATENT, attention_groups

# ---------------------------------------------------------------- efficiency tables
# Keys: a backend, or (backend, device class, kind or vendor) where a class of devices behaves differently;
# the most specific key present applies (see `efficiency_key`). Every value is fitted by `bench/speed.py
# --fit` on the published llama-bench results of shared/reference/speed_dev.json: for each key, the value
# that minimises the median absolute error over all of its rows (never one device): CUDA 9 GeForce/
# workstation/Spark devices, CUDA wide-tensor data-center parts 2 (A100, H100), Metal 26 Apple chips M1 to
# M4 Ultra, Vulkan 10 NVIDIA/AMD/Intel devices (decode: Intel's 2 Arc cards apart), ROCm 2 (RX 7900 XT, Strix
# Halo). The CPU backend has one published row (Strix Halo): its values are set from it and stated as such;
# SYCL has none. Fitted in this order: bandwidth efficiency and fixed cost per key (tg rows), the MoE layer
# cost (MoE tg rows), the prefill efficiency of every key with 2 or more rows off power-limited SoCs (on those
# rows), the sustained fraction of power-limited SoCs (SOC_SUSTAINED_COMPUTE, on the SoC rows of those keys),
# then the prefill efficiency of the other keys (ROCm) on all their rows; the grid caps bandwidth efficiency
# at 0.90. The held-out rows
# of tests/speed_heldout.py (published results not in speed_dev.json) are never fitted on: bench/speed.py
# prints the error on both sets.
#
# Fraction of the datasheet bandwidth that llama.cpp's decode kernels reach.
DECODE_BANDWIDTH_EFFICIENCY = {
    "CUDA": 0.85,
    "Metal": 0.90,  # Apple's unified memory: the grid's upper bound; streaming reads reach about 90% there
    "Vulkan": 0.80,
    ("Vulkan", "Intel"): 0.60,  # Arc: Vulkan's matrix-vector kernels reach well under GDDR6's peak
    "ROCm": 0.85,  # 3 rows on 2 devices (RX 7900 XT, Strix Halo): the least certain figure of the table
    "SYCL": 0.60,  # no published row read: taken as Vulkan on Intel
    "CPU": 0.50,  # Strix Halo CPU row: 16 Zen 5 cores reach about half the 256 GB/s of the shared LPDDR5X
}
# Fixed cost of one decode step in seconds: several hundred small kernels (norms, RoPE, adds, softmax),
# launch and synchronisation, sampling. Latency-bound, so it does not shrink with bandwidth; data-center
# parts run their SMs at lower clocks (1.4–2.0 GHz against 2.5–2.8 GHz on GeForce) and pay more.
DECODE_FIXED_SECONDS = {
    "CUDA": 0.0010,
    ("CUDA", "datacenter"): 0.0025,
    "Metal": 0.0045,
    "Vulkan": 0.0005,
    ("Vulkan", "Intel"): 0.0075,
    "ROCm": 0.0050,
    "SYCL": 0.0075,  # no published row read: taken as Vulkan on Intel
    "CPU": 0.0010,  # one row: not fitted, a CPU step has no launches to pay for
}
# Extra cost per MoE layer of a decode step (seconds): the router's softmax and top-k, and the indirect
# expert matmuls (llama.cpp's mul_mat_id), which gather their experts' rows and launch per expert. Fitted
# by bench/speed.py --fit on the MoE rows only (gpt-oss 20B/120B, Qwen3-30B-A3B), after the tables above.
DECODE_MOE_LAYER_SECONDS = {
    "CUDA": 40e-6,  # 7 rows: gpt-oss 20B on six GeForce cards, gpt-oss 120B on an RTX PRO 6000
    "Metal": 40e-6,  # 5 rows: gpt-oss 20B on M1 Pro to M3 Ultra
    "Vulkan": 45e-6,  # 2 rows: Qwen3-30B-A3B on Strix Halo (RADV, AMDVLK)
    "ROCm": 40e-6,  # 2 rows: gpt-oss 20B on an RX 7900 XT, Qwen3-30B-A3B on Strix Halo
    "SYCL": 40e-6,  # no published row read
    "CPU": 40e-6,  # no published row read
}
# Fraction of the FP16-equivalent peak of the matmul path (see MATMUL_PATHS below) that prefill reaches.
# llama.cpp's quantized matrix kernels (MMQ, mma.sync) do not use Hopper's wgmma and leave data-center parts
# far from peak (WIDE_TENSOR_CORE_IDS); Vulkan on Intel runs on the vector engines (ARC_XMX_TO_VECTOR).
PREFILL_COMPUTE_EFFICIENCY = {
    "CUDA": 0.44,
    ("CUDA", "wide-tensor"): 0.14,  # A100, H100 (see WIDE_TENSOR_CORE_IDS)
    "Metal": 0.74,  # of the FP16 rate, F16 weights; quantized ones × METAL_QUANTIZED_MATMUL
    "Vulkan": 0.40,
    "ROCm": 0.80,  # of INT8 / 2 on RDNA3 (MMQ): 7900 XT, Strix Halo; the least certain entry (3 rows)
    "SYCL": 0.10,  # no published row read: of XMX, as Vulkan on Intel reaches of it (0.38 / ARC_XMX_TO_VECTOR)
    "CPU": 0.60,
}
# Which kernel multiplies a weight matrix by a micro-batch, and so which peak bounds prefill. llama.cpp's
# ggml_cuda_should_use_mmq (ggml/src/ggml-cuda/mmq.cu, ggml-org/llama.cpp@027ef8769913a5f665e287c5e1f13d9d633a9d57)
# sends a ggml block-quantized weight (Q4_0 … Q8_0, the K-quants, IQ types, MXFP4) on CUDA and ROCm to MMQ,
# which quantizes the activations to 8 bits and multiplies with int8 tensor cores (NVIDIA Turing and later),
# int8 WMMA/MFMA (AMD RDNA3, RDNA4, CDNA) or dp4a dot products (Pascal, RDNA2): its peak is the INT8 rate.
# A float weight (F16, BF16, F32), or a GPU without an int8 path (V100: FP16 tensor cores only; the catalog's
# INT8 figure is 0), goes to cuBLAS/hipBLAS FP16 GEMM: the FP16 rate. Metal, Vulkan and SYCL dequantize inside
# their FP16 matrix kernels (simdgroup matrices, cooperative matrices, XMX): the FP16 rate.
# A path's FP16-equivalent peak is FP16 TFLOPS, or INT8 TOPS / 2 for MMQ: every tensor core since Turing does
# two int8 operations per FP16 FLOP (RTX 4090: 660.6 TOPS / 330.3 TFLOPS), so one efficiency per backend
# covers both paths where that ratio holds, and the paths differ where it does not: Pascal (INT8 by dp4a = 4 ×
# its FP32 rate; a Tesla P40 ran Llama 2 7B Q4_0 at pp512 = 912 t/s, ggml-org/llama.cpp#4766: 12.3 TOPS, over
# its 11.8 TFLOPS FP32 peak, so MMQ is not bound by the float rate) and RDNA3 (int8 WMMA at the FP16 rate).
MMQ_BACKENDS = ("CUDA", "ROCm")
MATMUL_PATHS = {
    "mmq": "MMQ: int8 activations × quantized weights on the INT8 units (peak INT8 TOPS / 2)",
    "fp16": "FP16 matrix units (dequantize + BLAS GEMM, or the backend's FP16 matrix kernels)",
    "cpu": "the CPU cores' SIMD rate",
    "vector": "the vector engines (FP16 or int8 dot products), no matrix units",
}
# Vulkan on Intel Arc: llama.cpp's ggml_vk_khr_cooperative_matrix_support (ggml/src/ggml-vulkan/ggml-vulkan.cpp)
# allows cooperative matrices on Intel for the Xe2 architecture only, and the published Arc results (A770,
# B580 in speed_dev.json) ran without them: the matmuls run on the vector engines (FP16 FMA, or int8 dot
# products for quantized weights), not on the XMX units the catalog's FP16 figure counts. Per Xe-core and clock
# XMX does 2,048 FP16 FLOPs (Alchemist: 16 engines × 128; Battlemage: 8 × 256) and the vector engines 512 FP16
# FLOPs (Alchemist 16 × 8 FP32 lanes × 2 FMA × 2 for FP16; Battlemage 8 × 16 × 2 × 2), the same FP16-equivalent
# rate as their int8 dot products (4 int8 products per FP32 lane, / 2): the vector rate is the XMX figure / 4
# (A770: 137.6 / 4 = 34.4 TFLOPS).
ARC_XMX_TO_VECTOR = 4
# Metal's matrix kernels dequantize each tile of a quantized weight on the GPU's ALUs before the simdgroup (or
# tensor) multiply, so a quantized weight multiplies slower than an F16 one. The factor per Apple GPU generation
# is the median ratio of quantized (Q8_0, Q4_0) to F16 pp512 over the chips of speed_dev.json that have both:
# 0.885 on M1 and M2 (13 chips: e.g. M1 Max 530.06 / 599.53, M2 Ultra 1238.48 / 1401.85), 0.96 on M3 and M4
# (10 chips: e.g. M3 Ultra 1471.24 / 1538.34, M4 Max 885.68 / 922.83); later chips take the M3/M4 value.
METAL_QUANTIZED_MATMUL = {"m1": 0.885, "m2": 0.885}
METAL_QUANTIZED_MATMUL_DEFAULT = 0.96
# Systems on a chip that share one package power limit between CPU and GPU (NVIDIA DGX Spark and Jetson, AMD
# Ryzen AI Max "Strix Halo") run long matrix work below the boost clock their datasheet peak assumes: the
# fraction of that peak they sustain. Fitted by bench/speed.py --fit after the CUDA and Vulkan efficiencies
# (fitted on discrete GPUs), as the median ratio of published to predicted prefill over the SoC rows of
# speed_dev.json on those backends (DGX Spark on CUDA, Strix Halo on Vulkan: 2 devices of 2 vendors, 5 rows).
# Apple chips are not covered: the Metal efficiency is fitted on Apple chips alone, so it already holds their
# sustained clock.
SOC_SUSTAINED_COMPUTE = 0.52
# Softmax inside attention, per score (one query, one key, one head): the exponential on the special-function
# units (16 per clock per SM on NVIDIA compute capability 7.5–12.x, CUDA C++ Programming Guide, "Arithmetic
# Instructions" throughput table) and about six FP32 operations (scale, running max, subtract, sum, rescale,
# convert; 128 per clock per SM) take 1/16 + 6/128 = 0.109 SM-clocks, which the flash-attention kernels spend
# between their two matrix products; at the 1,024 dense FP16 FLOPs per clock per SM of Turing to Blackwell
# GeForce tensor cores that is the time of 112 FLOPs. Counted as 112 FLOP-equivalents per score on the FP16
# path, on every GPU backend (derived, not fitted: +22% on the 4 × 128 = 512 FLOPs of a head_dim-128 score).
SOFTMAX_FLOPS_PER_SCORE = 112
# Routed experts in prefill: each expert's matmul sees only tokens × experts_per_token / num_experts rows
# of a pass; tensor-core tiles are MOE_TILE_ROWS rows, so a thinner matmul wastes the rest of the tile.
MOE_TILE_ROWS = 128
# How many tokens llama.cpp processes per prefill pass (n_ubatch default 512): the weights are read
# once per pass, which bounds prefill on slow-memory, fast-compute devices.
UBATCH = 512
# Tensor parallelism: one all-reduce after attention and one after the MLP of every layer; each costs at
# least a link latency: 10 µs per all-reduce over NVLink/PCIe (NCCL small-message latency, order of).
ALLREDUCE_SECONDS = 10e-6
# Pipeline / llama.cpp layer split: the activations cross to the next GPU once per step (a few KiB):
# a launch and a copy, about 20 µs.
HOP_SECONDS = 20e-6


# Data-center GPUs whose SMs carry wider tensor cores than the GeForce parts of their generation (GA100: 1,024
# dense FP16 FMA per clock per SM against 512 on GA10x; GH100 and GB100 feed theirs through wgmma/tcgen05):
# llama.cpp's MMQ issues mma.sync and does its loads, unpacking and scaling on the SIMT units, which do not
# widen with the tensor cores, so it reaches a smaller share of these parts' peak (PREFILL_COMPUTE_EFFICIENCY's
# ("CUDA", "wide-tensor") entry, fitted on the A100 and H100 rows). Catalog ids by prefix; the H20 (a GH100
# with its tensor rate cut to 148 TFLOPS) and the PCIe/inference parts of other dies are not in the class.
WIDE_TENSOR_CORE_IDS = ("a100", "a800", "h100", "h800", "h200", "gh200", "b200", "gb200", "b300", "gb300")


def device_class(device) -> str:
    """The device's class for the efficiency tables: "wide-tensor" (WIDE_TENSOR_CORE_IDS), else its kind."""
    return "wide-tensor" if device.id.startswith(WIDE_TENSOR_CORE_IDS) else device.kind


def efficiency_key(table: dict, backend: str, device):
    """The most specific key of `table` for this backend and device: (backend, class), (backend, kind),
    (backend, vendor), then backend."""
    for key in ((backend, device_class(device)), (backend, device.kind), (backend, device.vendor)):
        if key in table:
            return key
    return backend


def efficiency(table: dict, backend: str, device) -> float:
    """The entry of `table` for this backend and device (see efficiency_key)."""
    return table[efficiency_key(table, backend, device)]


BACKENDS = tuple(k for k in DECODE_BANDWIDTH_EFFICIENCY if isinstance(k, str))


@dataclass(frozen=True)
class Figure:
    """One speed figure: value with unit, formula in words, the same with numbers, its source."""

    key: str
    label: str
    value: float
    unit: str
    formula: str
    substituted: str
    source: str = "pycore.speed: bandwidth and compute roofline with efficiencies fitted on llama-bench results"
    notes: tuple = ()


@dataclass(frozen=True)
class Speed:
    decode_tokens_per_s: float  # all sequences together (batch × per-sequence)
    prefill_tokens_per_s: float
    time_to_first_token_s: float
    decode_bound: str  # "memory" or "compute"
    prefill_bound: str
    bytes_per_step: int  # bytes each decode step reads (all memories)
    figures: tuple  # Figure, ...

    def figure(self, key):
        return next(f for f in self.figures if f.key == key)


# ---------------------------------------------------------------- bytes and FLOPs per token

@lru_cache(maxsize=1024)
def weight_reads(spec, fmt) -> tuple:
    """(bytes read per decode token, bytes of all weights read per prefill pass, active matmul parameters
    per token, of which routed-expert parameters, of which output-head parameters, bytes of all routed experts).

    A decode token reads every non-expert tensor, experts_per_token / num_experts of each routed-expert
    tensor, and not the token-embedding table (a lookup of one row), unless it is tied to the output head.
    Sizes are the estimate's per-tensor storage (formats.weight_storage), so scales and mixed types count.
    The terms of each run of tensors (a kind of block) are worked out once; the sums add them tensor by
    tensor in file order, as a loop over every tensor would (the fractional expert shares round alike)."""
    from .formats import by_run, weight_storage
    stored = weight_storage(spec, fmt)
    share = spec.experts_per_token / spec.num_experts if spec.is_moe else 1.0
    decode = prefill = params = expert = head = expert_bytes = 0
    for d_terms, p_terms, e_terms, prefill_bytes, head_params, e_bytes in by_run(
            stored.runs, lambda pairs: _read_terms(spec, pairs, share)):
        for x in d_terms:
            decode += x
        for x in p_terms:
            params += x
        for x in e_terms:
            expert += x
        prefill += prefill_bytes
        head += head_params
        expert_bytes += e_bytes
    return int(decode), prefill, int(params), int(expert), head, expert_bytes


def _read_terms(spec, pairs, share) -> tuple:
    """weight_reads' terms for one run of (Tensor, TensorStorage) pairs: the decode, parameter and expert-parameter
    terms in order, and the run's prefill bytes, output-head parameters and routed-expert bytes (whole numbers)."""
    decode, params, expert = [], [], []
    prefill = head = expert_bytes = 0
    for t, s in pairs:
        if t.role in ("token_embd", "position_embd") and not (t.role == "token_embd" and spec.tie_embeddings):
            continue
        if t.kind != "matrix" and t.role not in ("output",):
            decode.append(s.bytes)  # norms, biases: tiny, read all the same
            prefill += s.bytes
            continue
        if t.is_expert:
            expert_bytes += s.bytes
            decode.append(s.bytes * share)
            params.append(t.numel * share)
            expert.append(t.numel * share)
        else:
            decode.append(s.bytes)
            params.append(t.numel)
            if t.role == "output" or (t.role == "token_embd" and spec.tie_embeddings):
                head += t.numel
        prefill += s.bytes
    return tuple(decode), tuple(params), tuple(expert), prefill, head, expert_bytes


def kv_bytes_per_token(spec, kvf, depth: int, mla: str = MLA_LATENT) -> int:
    """KV-cache bytes one decode step reads for one sequence at `depth` cached tokens: Σ over layers of
    cached tokens (capped by a sliding window) × that layer's K + V bytes per token; `mla`: how the engine
    caches MLA layers (Engine.mla_cache: the latent, or transformers' expanded per-head K and V)."""
    return sum(count * layer.cached_tokens(depth) * layer.bytes_per_token(kvf)
               for layer, count in attention_groups(spec, mla=mla))


def attended_keys(spec, tokens: int, depth: int) -> int:
    """Σ over attention layers of the keys the `tokens` new tokens after `depth` cached ones attend to: each
    query position p sees min(p, window) keys (itself included). Per head: × num_heads for the scores."""
    total = 0
    for layer, count in attention_groups(spec):
        window = layer.cached_tokens(1 << 62)
        lo, hi = depth + 1, depth + tokens  # keys seen by each new token (itself included)
        if hi <= window:
            keys = (lo + hi) * tokens // 2
        elif lo >= window:
            keys = window * tokens
        else:
            inside = window - lo + 1
            keys = (lo + window) * inside // 2 + window * (tokens - inside)
        total += count * keys
    return total


def attention_flops(spec, tokens: int, depth: int) -> int:
    """FLOPs of QKᵀ and AV for `tokens` new tokens after `depth` cached ones: each query position p
    attends to min(p, window) keys, 2 FLOPs per multiply-add, once for scores and once for values."""
    if spec.is_mla:
        per_key = 2 * spec.num_heads * (spec.qk_nope_head_dim + spec.qk_rope_head_dim + spec.v_head_dim)
    else:
        per_key = 2 * spec.num_heads * 2 * spec.head_dim
    return per_key * attended_keys(spec, tokens, depth)


# ---------------------------------------------------------------- the model

def _check(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
        raise InputError(name, f"{value!r} is outside {low}…{high}")
    return value


def speed(e, device, depth: int = None, prompt_tokens: int = 512, backend: str = None, gpus: int = 1,
          parallel: str = "tensor", host_share: float = 0.0, host_bandwidth_gbps: float = None,
          batch: int = None, flash_attn: bool = True, prefill_depth: int = None) -> Speed:
    """Decode and prefill speed of the estimate `e` on `device` (a hardware.GPU with bandwidth_gbps and
    fp16_tflops).

    depth: cached tokens when decoding (default: the estimate's context); prompt_tokens: prefill length,
    processed after prefill_depth cached tokens (default `depth`) for `pp @ d` figures; the time to first
    token is prompt_tokens from an empty cache plus one decode step.
    backend: CUDA, ROCm, Metal, Vulkan, SYCL or CPU (default: the device's usual one).
    gpus/parallel: "tensor" splits every matrix (bandwidths add, plus two all-reduces per layer);
    "pipeline" (llama.cpp's layer split) runs one GPU after another for one stream: no gain per stream.
    host_share: fraction of the weight bytes kept in system RAM (partial offload), read at
    host_bandwidth_gbps. Raises InputError when the device has no bandwidth figure."""
    spec = e.model
    depth = e.scenario.context if depth is None else depth
    batch = e.scenario.batch if batch is None else batch
    _check("depth", depth, 0, 1 << 27)
    _check("prompt_tokens", prompt_tokens, 1, 1 << 27)
    _check("batch", batch, 1, 1 << 20)
    _check("gpus", gpus, 1, 4096)
    _check("host_share", host_share, 0.0, 1.0)
    if parallel not in ("tensor", "pipeline"):
        raise InputError("parallel", "must be 'tensor' or 'pipeline'")
    if host_bandwidth_gbps is not None:
        _check("host_bandwidth_gbps", host_bandwidth_gbps, 0.001, 1e6)
    if not device.bandwidth_gbps:
        raise InputError("gpu", f"{device.name} has no bandwidth figure: speed cannot be estimated")
    backend = backend or device.backend or "CUDA"
    if backend not in BACKENDS:
        raise InputError("backend", f"must be one of {', '.join(BACKENDS)}")
    runs = device_backends(device)
    if runs and backend not in runs:
        raise InputError("backend", f"{device.name} does not run llama.cpp's {backend} backend: "
                         f"{', '.join(runs)} {'do' if len(runs) > 1 else 'does'}")
    if host_share > 0 and not host_bandwidth_gbps:
        raise InputError("ram_bandwidth", "a partial offload needs the system RAM bandwidth")
    tp = gpus if parallel == "tensor" else 1
    eff = efficiency(DECODE_BANDWIDTH_EFFICIENCY, backend, device)
    fixed = efficiency(DECODE_FIXED_SECONDS, backend, device)
    ceff = efficiency(PREFILL_COMPUTE_EFFICIENCY, backend, device)
    bw = device.bandwidth_gbps * 1e9
    float_dense, float_expert = float_matmul_shares(spec, e.weight_format)
    peak_tflops = _peak_tflops(device, backend)
    if peak_tflops:  # batched decode multiplies the weights on the same path as prefill
        peak_tflops = matmul_peak(device, backend, float_dense < 0.5)[0] or peak_tflops
    flops_peak = (peak_tflops or 0) * 1e12 * sustained_compute(device, backend)

    w_decode, w_pass, params, expert_params, head_params, expert_bytes = weight_reads(spec, e.weight_format)
    coverage = 1.0
    if spec.is_moe and batch > 1:
        # B sequences each pick k of E experts per layer: on average E × (1 − (1 − k/E)^B) distinct experts
        # are read per step (independent routing), from k at B = 1 up to all E.
        share = spec.experts_per_token / spec.num_experts
        coverage = 1 - (1 - share) ** batch
        w_decode += int(expert_bytes * (coverage - share))
    kv = kv_bytes_per_token(spec, e.kv_format, depth, e.engine.mla_cache)
    host_w = int(w_decode * host_share)
    gpu_w = w_decode - host_w
    # A recurrent layer (Mamba, Gated DeltaNet, short conv) reads its state and writes it back every step, for
    # every sequence: the state item (already × batch) twice.
    state = 2 * e.state.bytes
    gpu_bytes = gpu_w + batch * kv + state  # KV cache stays on the GPU with the offloaded layers' share counted there
    t_gpu = gpu_bytes / (tp * bw * eff)
    host_eff = DECODE_BANDWIDTH_EFFICIENCY["CPU"]
    t_host = host_w / (host_bandwidth_gbps * 1e9 * host_eff) if host_w else 0.0
    comm = 2 * spec.num_layers * ALLREDUCE_SECONDS if tp > 1 else (gpus - 1) * HOP_SECONDS
    moe_layers = sum(1 for i in range(spec.num_layers) if spec.is_moe_layer(i)) if spec.is_moe else 0
    fixed += moe_layers * efficiency(DECODE_MOE_LAYER_SECONDS, backend, device)
    t_mem = t_gpu + t_host
    flops_token = 2 * params + attention_flops(spec, 1, depth)
    t_compute = batch * flops_token / (tp * flops_peak * ceff) if flops_peak else 0.0
    step = max(t_mem, t_compute) + fixed + comm
    decode_bound = "compute" if t_compute > t_mem else "memory"
    decode = batch / step

    where = f"{gpus} × {device.name}" if gpus > 1 else device.name
    split = (f" ÷ {tp} GPUs (tensor parallel: each reads 1/{tp})" if tp > 1 else
             f"; layer split over {gpus} GPUs: they run one after another, no gain for one stream" if gpus > 1 else "")
    host_txt = (f" + {host_w:,} B in system RAM / ({host_bandwidth_gbps:g} GB/s × {host_eff})"
                f" = {t_host * 1e3:.3f} ms" if host_w else "")
    figs = [Figure(
        "decode", "Decode (text generation)", decode, "tokens/s",
        "batch / (max(memory time, compute time) + fixed per-token cost + communication); memory time = "
        "(active weights + batch × KV cache at depth + 2 × recurrent state, read and written) / (bandwidth × efficiency)",
        f"({gpu_w:,} B weights + {batch:,} × {kv:,} B KV at depth {depth:,}"
        f"{f' + 2 × {e.state.bytes:,} B state' if state else ''}) / ({device.bandwidth_gbps:g} GB/s × "
        f"{eff}){split} = {t_gpu * 1e3:.3f} ms{host_txt}; compute {batch:,} × {flops_token:,} FLOPs / "
        f"({peak_tflops or 0:g} TFLOPS × {ceff}{f' × {tp}' if tp > 1 else ''}) = {t_compute * 1e3:.3f} ms; "
        f"fixed {fixed * 1e3:.2f} ms ({backend}{f', incl. {moe_layers} MoE layers' if moe_layers else ''}){f' + communication {comm * 1e3:.2f} ms' if comm else ''} → "
        f"{batch:,} / {step * 1e3:.3f} ms = {decode:,.1f} tokens/s ({decode_bound}-bound)",
        notes=_decode_notes(spec, backend, host_share, batch, decode_bound))]

    if not peak_tflops:  # a custom device given by memory and bandwidth only: no prefill figure
        return Speed(decode, None, None, decode_bound, None, gpu_bytes + host_w, tuple(figs))
    counts = (params, expert_params, head_params, w_pass, float_dense, float_expert)
    pdepth = depth if prefill_depth is None else _check("prefill_depth", prefill_depth, 0, 1 << 27)
    pp, pbound, pfig = _prefill(spec, device, backend, prompt_tokens, pdepth, tp, counts, host_share,
                                host_bandwidth_gbps, flash_attn, where)
    figs.append(pfig)
    ttft_pp, _, _ = _prefill(spec, device, backend, prompt_tokens, 0, tp, counts, host_share,
                             host_bandwidth_gbps, flash_attn, where)
    ttft = prompt_tokens / ttft_pp + 1 / (decode / batch)
    figs.append(Figure("ttft", "Time to first token", ttft, "s",
                       "prompt tokens / prefill speed from an empty cache + one decode step",
                       f"{prompt_tokens:,} / {ttft_pp:,.1f} tokens/s + 1 / {decode / batch:,.1f} tokens/s = {ttft:.3f} s"))
    return Speed(decode, pp, ttft, decode_bound, pbound, gpu_bytes + host_w, tuple(figs))


def _peak_tflops(device, backend) -> float:
    """Dense FP16 throughput of what runs the matmuls: the GPU, or the CPU cores for the CPU backend on a
    device that has a GPU too (host_tflops)."""
    if not device.fp16_tflops:
        return None
    if backend == "CPU" and device.kind != "cpu":
        if not device.host_tflops:
            raise InputError("backend", f"{device.name} has no CPU throughput figure for the CPU backend")
        return device.host_tflops
    return device.fp16_tflops


_MMQ_LABELS = ("Q", "IQ", "TQ", "MXFP4", "NVFP4")  # ggml block-quantized types (labels as formats.py prints them)


def _is_block_quantized(label: str) -> bool:
    return label.startswith(_MMQ_LABELS) and not label.startswith("QLORA")


@lru_cache(maxsize=1024)
def float_matmul_shares(spec, fmt) -> tuple:
    """(share of the non-expert, share of the routed-expert) matrix parameters a token multiplies that are
    stored as floats (F16, BF16, F32, FP8…) rather than a ggml block-quantized type: the part of prefill that
    runs on the FP16 path even on a backend with MMQ (see MATMUL_PATHS). Same tensors as weight_reads."""
    from .formats import by_run, weight_storage
    tied = spec.tie_embeddings

    def counts(pairs) -> tuple:  # (dense, dense float, expert, expert float) elements of one run
        dense = dense_f = expert = expert_f = 0
        for t, s in pairs:
            if t.role in ("token_embd", "position_embd") and not (t.role == "token_embd" and tied):
                continue
            if t.kind != "matrix" and t.role != "output":
                continue
            is_float = not _is_block_quantized(s.label)
            if t.is_expert:
                expert += t.numel
                expert_f += t.numel if is_float else 0
            else:
                dense += t.numel
                dense_f += t.numel if is_float else 0
        return dense, dense_f, expert, expert_f

    # blocks that store alike share their pairs: each kind of block is counted once (formats.by_run)
    per_run = by_run(weight_storage(spec, fmt).runs, counts)
    dense, dense_f, expert, expert_f = (sum(run[i] for run in per_run) for i in range(4))
    return (dense_f / dense if dense else 0.0), (expert_f / expert if expert else 0.0)


def matmul_peak(device, backend: str, quantized: bool) -> tuple:
    """(FP16-equivalent peak in TFLOPS, path key of MATMUL_PATHS) of the kernel that multiplies a weight by a
    micro-batch: MMQ at INT8 TOPS / 2 for a block-quantized weight on CUDA/ROCm where the device has an int8
    path, else the FP16 rate (the CPU cores' rate for the CPU backend). None for the peak when unknown."""
    if backend == "CPU":
        return _peak_tflops(device, backend), "cpu"
    if quantized and backend in MMQ_BACKENDS and device.int8_tops:
        return device.int8_tops / 2, "mmq"
    if backend == "Vulkan" and device.vendor == "Intel" and device.fp16_tflops:
        return device.fp16_tflops / ARC_XMX_TO_VECTOR, "vector"
    return device.fp16_tflops, "fp16"


def quantized_matmul_factor(device, backend: str) -> float:
    """Throughput of a quantized weight's matmul relative to an F16 one on the same units: METAL_QUANTIZED_MATMUL
    on Metal (by the chip generation of the catalog id), 1 elsewhere (MMQ's cost is in its efficiency)."""
    if backend != "Metal" or device.vendor != "Apple":
        return 1.0
    return METAL_QUANTIZED_MATMUL.get(device.id[:2], METAL_QUANTIZED_MATMUL_DEFAULT)


def sustained_compute(device, backend: str) -> float:
    """SOC_SUSTAINED_COMPUTE on a power-limited system on a chip (a unified-memory device that is not Apple's,
    on a GPU backend), else 1."""
    if device.kind == "unified" and device.vendor != "Apple" and backend not in ("Metal", "CPU"):
        return SOC_SUSTAINED_COMPUTE
    return 1.0


def _prefill(spec, device, backend, tokens, depth, tp, counts, host_share, host_bw, flash_attn, where):
    params, expert_params, head_params, w_pass, float_dense, float_expert = counts
    ceff = efficiency(PREFILL_COMPUTE_EFFICIENCY, backend, device)
    eff = efficiency(DECODE_BANDWIDTH_EFFICIENCY, backend, device)
    q_peak, q_path = matmul_peak(device, backend, True)
    f_peak, f_path = matmul_peak(device, backend, False)
    q_peak = (q_peak or f_peak) * quantized_matmul_factor(device, backend)
    sus = sustained_compute(device, backend)
    passes = -(-tokens // UBATCH)
    per_pass = min(tokens, UBATCH)
    # The output head runs for the last token of a pass only (llama.cpp computes the logits it returns).
    dense = params - expert_params - head_params
    tile = 1.0
    if expert_params:
        rows = per_pass * spec.experts_per_token / spec.num_experts
        tile = min(1.0, rows / MOE_TILE_ROWS)
    matmul = 2 * dense * tokens + 2 * head_params * passes
    experts = 2 * expert_params * tokens
    attn = attention_flops(spec, tokens, depth)
    softmax = SOFTMAX_FLOPS_PER_SCORE * spec.num_heads * attended_keys(spec, tokens, depth) if backend != "CPU" else 0
    flops = matmul + experts + attn

    def on_paths(f, share_float):  # FLOPs → FP16-equivalent TFLOP-seconds at unit efficiency
        return f * (1 - share_float) / q_peak + f * share_float / f_peak

    # attention (QKᵀ, AV) runs on the FP16 units (flash attention's tensor-core kernels, or BLAS)
    t_compute = (on_paths(matmul, float_dense) + on_paths(experts / tile, float_expert) + (attn + softmax) / f_peak) / (
        tp * 1e12 * ceff * sus)
    # Every pass runs the whole graph once: the same per-step launches and small kernels as a decode step.
    moe_layers = sum(1 for i in range(spec.num_layers) if spec.is_moe_layer(i)) if spec.is_moe else 0
    graph = (efficiency(DECODE_FIXED_SECONDS, backend, device)
             + moe_layers * efficiency(DECODE_MOE_LAYER_SECONDS, backend, device))
    host_w = int(w_pass * host_share)
    reads = passes * (w_pass - host_w)
    scores = 0
    if not flash_attn:
        # Without flash attention llama.cpp writes and reads an f32 score matrix per layer and pass:
        # new tokens × cached tokens × heads × 4 B, twice.
        scores = 2 * 4 * spec.num_heads * sum(count * tokens * layer.cached_tokens(depth + tokens)
                                              for layer, count in attention_groups(spec))
        reads += scores
    t_mem = reads / (tp * device.bandwidth_gbps * 1e9 * eff)
    if host_w:
        # Layers left in system RAM: llama.cpp copies their weights to the GPU for each large pass
        # (or computes on the CPU); either way they cross at host speed once per pass.
        t_mem += passes * host_w / (host_bw * 1e9 * DECODE_BANDWIDTH_EFFICIENCY["CPU"])
    t = max(t_compute, t_mem) + passes * graph
    bound = "compute" if t_compute >= t_mem else "memory"
    rate = tokens / t
    all_float = float_dense >= 1 and (float_expert >= 1 or not expert_params)
    none_float = float_dense == 0 and float_expert == 0
    qf = quantized_matmul_factor(device, backend)
    if all_float:
        path_txt = f"{f_peak:g} TFLOPS ({MATMUL_PATHS[f_path]})"
    elif q_path == f_path:
        path_txt = (f"{f_peak:g} TFLOPS ({MATMUL_PATHS[f_path]}){f', quantized weights at × {qf} (dequantization)' if qf != 1 else ''}")
    elif none_float:
        path_txt = f"{q_peak:g} TFLOPS ({MATMUL_PATHS[q_path]}); attention at {f_peak:g} TFLOPS ({MATMUL_PATHS[f_path]})"
    else:
        path_txt = (f"{q_peak:g} TFLOPS ({MATMUL_PATHS[q_path]}) for quantized weights, {f_peak:g} TFLOPS "
                    f"({MATMUL_PATHS[f_path]}) for float weights ({float_dense:.0%} of dense parameters) and attention")
    notes = []
    if expert_params and float_expert > 0 and backend in MMQ_BACKENDS:
        notes.append("Float (F16/BF16) expert weights on CUDA/ROCm: llama.cpp has no MMQ kernel for them and "
                     "multiplies each expert with its own BLAS call, which adds a launch and synchronisation per "
                     "expert and layer that this estimate does not count: expect prefill to be slower.")
    if sus != 1:
        notes.append(f"{device.name} shares one power limit between CPU and GPU: prefill is taken at "
                     f"{SOC_SUSTAINED_COMPUTE:.0%} of the datasheet peak (fitted on DGX Spark and Strix Halo results).")
    if backend == "ROCm":
        notes.append("ROCm prefill depends on the ROCm release: on a new GPU generation an early rocBLAS/hipBLASLt "
                     "can be several times slower (Strix Halo: 34 vs 99 tokens/s on Llama 3.3 70B pp512 between "
                     "ROCm 6.4 and 7.0).")
    fig = Figure(
        "prefill", "Prefill (prompt processing)", rate, "tokens/s",
        "tokens / (max(FLOPs / (peak of the matmul path × efficiency), weight and score bytes / (bandwidth × "
        "efficiency)) + passes × graph cost); FLOPs = 2 × active parameters × tokens + attention (QKᵀ and AV "
        "over the cached tokens); path: MMQ (INT8 TOPS / 2) for quantized weights on CUDA/ROCm, else FP16",
        f"FLOPs = 2 × {dense:,} dense × {tokens:,} + 2 × {head_params:,} head × {passes} + 2 × {expert_params:,} "
        f"expert × {tokens:,}{f' (at {tile:.2f} of a {MOE_TILE_ROWS}-row tile)' if expert_params else ''} + {attn:,} "
        f"attention at depth {depth:,} = {flops:,}{f' (+ {softmax:,} softmax FLOP-equivalents)' if softmax else ''}; / ({path_txt} × {ceff}"
        f"{f' × {sus} sustained (power-limited SoC)' if sus != 1 else ''}{f' × {tp}' if tp > 1 else ''}) = "
        f"{t_compute * 1e3:.2f} ms; memory {passes} pass(es) × {w_pass - host_w:,} B"
        f"{f' + {scores:,} B scores (no flash attention)' if scores else ''} → {t_mem * 1e3:.2f} ms; graph "
        f"{passes} × {graph * 1e3:.2f} ms; {tokens:,} tokens / {t * 1e3:.2f} ms = {rate:,.1f} tokens/s on {where} "
        f"({bound}-bound)", notes=tuple(notes))
    return rate, bound, fig


def _decode_notes(spec, backend, host_share, batch, bound) -> tuple:
    notes = [f"Efficiencies for {backend} are fitted on published llama-bench results (see bench/speed.py for "
             "the error per backend); a single device can differ by tens of percent."]
    if spec.is_moe:
        notes.append(f"MoE: each token reads {spec.experts_per_token} of {spec.num_experts} experts per layer; "
                     "which ones changes per token, so every expert must be resident.")
    if host_share:
        notes.append(f"{host_share:.0%} of the weights are read from system RAM each token: the slowest memory "
                     "sets the pace.")
    if batch > 1:
        notes.append(f"Batch {batch:,}: the weights are read once per step for all sequences, so throughput "
                     f"rises with batch until compute-bound (now {bound}-bound).")
    return tuple(notes)


def speed_dict(sp: Speed) -> dict:
    """The `speed` block of `estimate --json`."""
    def r(x, n):
        return None if x is None else round(x, n)
    return {"decode_tokens_per_s": r(sp.decode_tokens_per_s, 3),
            "prefill_tokens_per_s": r(sp.prefill_tokens_per_s, 3),
            "time_to_first_token_s": r(sp.time_to_first_token_s, 6),
            "decode_bound": sp.decode_bound, "prefill_bound": sp.prefill_bound,
            "bytes_per_step": sp.bytes_per_step,
            "figures": [{"key": f.key, "label": f.label, "value": round(f.value, 6), "unit": f.unit,
                         "formula": f.formula, "substituted": f.substituted, "source": f.source,
                         "notes": list(f.notes)} for f in sp.figures]}


# The llama.cpp backends a vendor's devices run (ggml/src: ggml-cuda for NVIDIA, built with HIP for AMD as "ROCm";
# ggml-sycl for Intel GPUs; ggml-metal for Apple silicon; ggml-vulkan on any of them with a Vulkan driver, Apple's
# through MoltenVK; the CPU backend everywhere). A CPU system runs the CPU backend only.
VENDOR_BACKENDS = {"NVIDIA": ("CUDA", "Vulkan", "CPU"), "AMD": ("ROCm", "Vulkan", "CPU"),
                   "Intel": ("SYCL", "Vulkan", "CPU"), "Apple": ("Metal", "Vulkan", "CPU"), "CPU": ("CPU",)}


def device_backends(device) -> tuple:
    """The backends `device` can run (VENDOR_BACKENDS), () when its vendor is not known (a custom device)."""
    return VENDOR_BACKENDS.get(getattr(device, "vendor", ""), ())


def speed_caveats(e, depth: int = None) -> tuple:
    """Warnings a speed figure needs (str each): the estimate `e` does not fit its device at its settings (the
    speeds are what the device would reach if it did; the engine would fail to load), and a `depth` beyond the
    model's context window (pycore.models.beyond_context). Empty when neither applies."""
    from .models import beyond_context
    from .units import format_bytes
    out = []
    fit = e.fit
    if fit and not fit.fits:
        gpus = e.layout.devices
        where = f"{gpus} × {fit.gpu.name}" if gpus > 1 else fit.gpu.name
        short = (f"{format_bytes(-fit.headroom)} short{' per GPU' if gpus > 1 else ''}" if fit.headroom < 0 else
                 f"{'unified memory' if getattr(fit, 'unified', False) else 'system RAM'} "
                 f"{format_bytes(-fit.ram_headroom)} short")
        out.append(f"Speed: {e.model.name} ({e.weight_format.name}) does not fit {where} at these settings ({short}): "
                   "the speeds are what it would run at if it fitted, not what this setup can run; the engine would "
                   "fail to load it.")
    beyond = beyond_context(e.model, depth) if depth is not None else ""
    if beyond:
        out.append(f"Speed: {beyond}: the speed at that depth extrapolates the KV reads past the window the "
                   "model was trained for.")
    return tuple(out)


def estimate_speed(e):
    """Speed for an estimate on its own device (the `speed` block of `estimate --json`), or None when the
    estimate has no device or the device has no bandwidth figure."""
    if not e.fit or not e.fit.gpu.bandwidth_gbps:
        return None
    parallel = "tensor" if e.layout.tp > 1 else "pipeline"
    # decode at the full context; prefill and time to first token for a prompt that fills it
    # one engine's GPUs: vLLM data-parallel engines each serve their own requests (layout.dp)
    return speed(e, e.fit.gpu, gpus=e.layout.devices // e.layout.dp, parallel=parallel, prompt_tokens=e.scenario.context,
                 prefill_depth=0)
