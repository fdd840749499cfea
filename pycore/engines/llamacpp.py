"""llama.cpp's memory rules: KV cells, sliding windows, the output buffer and the compute buffer.

Each rule cites llama.cpp's source at commit 0c1e57098bba43ac29e6e3b677cdceebdd22334f (the copy that
llama-cpp-python 0.3.36 vendors, the one the tests run):

- n_ctx is padded to 256 cells (src/llama-context.cpp: `cparams.n_ctx = GGML_PAD(cparams.n_ctx, 256)`);
  sequences share one unified cache of n_ctx cells (llama-server's --kv-unified, the default with
  several slots), so --batch B sequences of C tokens need pad(B × C, 256) cells.
- A layer's K and V are tensors [n_embd_k_gqa, kv_size] and [n_embd_v_gqa, kv_size] in type_k/type_v
  (src/llama-kv-cache.cpp); MLA caches K only (the latent plus the RoPE key).
- Sliding-window layers keep pad(min(n_ctx, n_swa × n_seq + n_ubatch), 256) cells, or all n_ctx with
  --swa-full (src/llama-kv-cache-iswa.cpp), but only for architectures whose loader sets a window
  type: Phi-3 turns it off ("Phi SWA is currently disabled", src/models/phi3.cpp), and the Llama
  loader (Mistral v0.1) and StarCoder2 never read `sliding_window`, so their layers keep every cell.
- Recurrent state (Mamba, RWKV, Gated DeltaNet) is kept in f32, one cell per sequence
  (src/llama-model.cpp create_memory: llama_memory_recurrent(GGML_TYPE_F32, GGML_TYPE_F32, n_seq_max)).
- The output buffer holds n_vocab float32 logits for each of n_seq_max rows at start
  (src/llama-context.cpp output_reserve(n_seq_max)); it grows only when a batch asks for more logits.
- The compute buffer is what ggml-alloc needs for the worst-case graph: n_ubatch tokens, every one
  producing logits (sched_reserve: n_outputs_pp = min(n_tokens, n_outputs_max = n_batch)), with the
  whole cache in view. On the CPU it is replayed exactly (cpu_compute_buffer, pycore.engines.ggml_alloc
  and llamacpp_graph); on a GPU it is modelled from the graph's peaks (compute_buffer).
"""
import struct
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

from .. import monotone
from ..units import MiB

CELL_PAD = 256  # llama-context.cpp: GGML_PAD(n_ctx, 256); llama-kv-cache-iswa.cpp pads the SWA cache to 256
DEFAULT_UBATCH = 512  # common/common.h: n_ubatch = 512
DEFAULT_BATCH = 2048  # common/common.h: n_batch = 2048 (logical batch; n_outputs_max)
SOURCE_COMMIT = "llama.cpp 0c1e57098bba43ac29e6e3b677cdceebdd22334f"

# Architectures (GGUF names) whose llama.cpp loader reads `<arch>.attention.sliding_window` and sets a
# sliding-window type, so their sliding layers get the small SWA cache (src/models/<arch>.cpp).
# Every other architecture runs its sliding layers as full attention: Phi-3 disables its window on
# purpose (src/models/phi3.cpp), Mistral v0.1 converts to `llama` and StarCoder2 to `starcoder2`,
# whose loaders never read one.
SWA_ARCHS = frozenset({
    "gemma2", "gemma3", "gemma3n", "gemma4", "gemma-embedding", "gpt-oss", "cohere2", "cohere2moe",
    "exaone4", "exaone-moe", "olmo2", "granite-swa", "llama4", "afmoe", "laguna", "lfm2", "lfm2moe",
    "mimo2", "smallthinker", "step35", "plamo3", "modern-bert", "dots3note", "deepseek4",
})


def pad(n: int, step: int = CELL_PAD) -> int:
    return -(-n // step) * step


@dataclass(frozen=True)
class Cells:
    """KV cells llama.cpp allocates for one scenario."""

    n_ctx: int  # cells of the full-attention cache (all sequences)
    n_swa: int  # cells of the sliding-window cache (0 when the model or llama.cpp has none)
    swa_honoured: bool  # False: the model has sliding layers but llama.cpp runs them as full attention


def cells(spec, batch: int, context: int, ubatch: int, swa_full: bool = False) -> Cells:
    """n_ctx = pad(batch × context, 256); SWA cache = pad(min(n_ctx, window × batch + n_ubatch), 256).
    Chunked local attention (Llama 4) is llama.cpp's SWA type CHUNKED with the chunk as its window."""
    n_ctx = pad(batch * context)
    types = spec.layer_types or ()
    sliding = "sliding" in types or "chunked" in types
    honoured = sliding and spec.arch in SWA_ARCHS
    if not honoured:
        return Cells(n_ctx, 0, not sliding)
    window = spec.sliding_window if "sliding" in types else getattr(spec, "attention_chunk", 0)
    n_swa = n_ctx if swa_full else pad(min(n_ctx, window * batch + min(ubatch, n_ctx)))
    return Cells(n_ctx, n_swa, True)


def layer_cells(spec, c: Cells) -> tuple:
    """Cells each layer keeps (0 for a layer without a KV cache)."""
    if not c.n_swa:
        return (c.n_ctx,) * spec.num_layers
    return tuple(c.n_swa if spec.layer_type(i) in ("sliding", "chunked") else c.n_ctx for i in range(spec.num_layers))


def kv_row_bytes(spec, kvf) -> tuple:
    """(K bytes, V bytes) of one cell of one layer: rows of n_embd_k_gqa and n_embd_v_gqa values in the
    cache type (block types with their scales); MLA: K is the latent + RoPE key, no V."""
    if spec.is_mla:
        return kvf.row_bytes(spec.kv_lora_rank + spec.qk_rope_head_dim), 0
    width = spec.num_kv_heads * spec.head_dim
    return kvf.row_bytes(width), kvf.row_bytes(width)


def recurrent_state(spec, n_seq: int) -> tuple:
    """(R bytes, S bytes) of llama.cpp's recurrent memory: for each recurrent or convolution layer, an R tensor
    [n_embd_r, mem_size] and an S tensor [n_embd_s, mem_size], both f32, mem_size = max(1, n_seq_max) rows,
    one per sequence (src/llama-memory-recurrent.cpp: n_rows = mem_size × (1 + n_rs_seq), n_rs_seq 0 unless
    speculative rollback asks for it; src/llama-model.cpp create_memory: GGML_TYPE_F32 for both). The layers
    a hybrid's filter leaves out (attention, FFN-only) get none. n_embd_r / n_embd_s are each kind's conv and
    ssm values (src/llama-hparams.cpp; pycore.attention)."""
    from ..models import state_groups
    rows = max(1, n_seq)
    r = sum(count * k.conv_values() for k, count in state_groups(spec))
    s = sum(count * k.ssm_values() for k, count in state_groups(spec))
    return rows * r * 4, rows * s * 4


def output_buffer(spec, n_seq: int) -> int:
    """n_vocab × n_seq_max × 4 B (float32 logits), llama-context.cpp output_reserve."""
    return spec.vocab_size * n_seq * 4


def flash_attention(setting: str, kvf) -> bool:
    """auto = on where the backend runs the fused op for the layer's device (llama-context.cpp
    resolve_fused_ops; CPU, CUDA, Metal and Vulkan all do); on/off as given."""
    return setting != "off"


# ---------------------------------------------------------------- compute buffer

def cpu_compute_buffer(spec, kvf, c: Cells, T: int, n_seqs: int, flash: bool, n_batch: int = DEFAULT_BATCH):
    """The `CPU compute buffer size` of a CPU-only run, exactly: ggml-alloc replayed over llama.cpp's own
    graph (pycore.engines.llamacpp_graph) for the prompt graph (T tokens, rounded up to a multiple of the
    sequences, all producing logits up to n_batch) and the generation graph (one token per sequence),
    the larger of the two (llama-context.cpp sched_reserve). None when no builder reproduces the
    architecture's graph. A quantized cache makes llama.cpp add Hadamard rotations of Q, K and V
    (llama-kv-cache.cpp attn_rot_k/attn_rot_v), replayed except on DeepSeek-2's MLA path (a note says so)."""
    from . import llamacpp_graph
    sh = llamacpp_graph.shape(spec, bool(c.n_swa), 4 if kvf.name == "f32" else 2,
                              kv_rot=kvf.name not in ("f16", "bf16", "f32"))
    if sh is None:
        return None
    return llamacpp_graph.reserved_buffer(sh, T, n_seqs, n_batch, c.n_ctx, c.n_swa or c.n_ctx, flash)


def compute_buffer(spec, n_tokens: int, n_outputs: int, c: Cells, flash: bool, with_output: bool = True) -> int:
    """Bytes ggml-alloc reserves for llama.cpp's worst-case graph (sched_reserve) on one backend, modelled
    from the tensors alive at the graph's peaks: the rule for GPU compute buffers, and for the CPU when
    cpu_compute_buffer has no replay for the architecture.

    Where a GPU's buffer differs from the CPU's replay (cpu_compute_buffer): the CUDA buffer type aligns
    to 128 bytes, not 32 (ggml-cuda.cu ggml_backend_cuda_buffer_type_get_alignment); the scheduler splits
    the graph where the token embeddings (kept on the CPU) feed the GPU and adds copies of the split
    inputs (ggml-backend.cpp ggml_backend_sched_split_graph); with weights left in system RAM, op offload
    copies them into the GPU buffer for batches of 32+ tokens (ggml_backend_cuda_device_offload_op). The
    CUDA flash-attention and cuBLAS work memory comes from the backend's own pool, outside this buffer.

    ggml-alloc (ggml/src/ggml-alloc.c) places each intermediate tensor when its op runs and frees it
    after its last consumer; element-wise ops (softmax, RoPE, norms, add, mul) reuse their input's
    memory in place. The buffer is the high-water mark. Graph inputs are allocated first and live
    until their last consumer. What is alive at each peak of the llama.cpp graph (src/llama-graph.cpp):

    - attention: the mask(s) [n_kv, n_tokens] (f32, or an f16 copy with flash attention), the
      residual stream and the normed input [n_embd, n_tokens], Q [n_head × head_dim, n_tokens], and
      without flash attention the scores KQ [n_kv, n_tokens, n_head] f32 (softmax runs in place);
      with flash attention its f32 output [head_dim × n_head, n_tokens];
    - feed-forward: the residual, gate, up and their product [n_ff, n_tokens] (MoE: per used expert);
    - output: the logits [n_vocab, n_outputs] f32 and the final hidden states.
    """
    T, H, f32 = n_tokens, spec.hidden_size, 4
    n_kv_full, n_kv_swa = c.n_ctx, c.n_swa
    mask_bytes = 2 if flash else 4
    masks = _mask(n_kv_full, T, mask_bytes) + (_mask(n_kv_swa, T, mask_bytes) if n_kv_swa else 0)
    inputs = T * 4 * 2 + T * 8 * 2  # token ids and positions (i32), K and V row indices (i64)
    residual = T * H * f32
    if spec.is_mla:
        q_width = spec.num_heads * (spec.qk_nope_head_dim + spec.qk_rope_head_dim)
        v_width = spec.num_heads * spec.v_head_dim
    else:
        q_width = spec.num_heads * spec.head_dim
        v_width = q_width
    n_kv = max(n_kv_full if not n_kv_swa or "full" in (spec.layer_types or ("full",)) else 0, n_kv_swa)
    if flash:
        attention = residual * 2 + T * q_width * f32 + T * v_width * f32
    else:
        attention = residual * 2 + T * q_width * f32 + n_kv * T * spec.num_heads * f32
    if spec.is_moe:
        width = spec.expert_intermediate_size * spec.experts_per_token
        ffn = residual * 2 + 3 * T * width * f32 + T * spec.num_experts * f32 * 2
        if spec.first_dense_layers:
            ffn = max(ffn, residual * 2 + 3 * T * spec.intermediate_size * f32)
    else:
        ffn = residual * 2 + 3 * T * spec.intermediate_size * f32
    output = n_outputs * spec.vocab_size * f32 + residual
    return max(inputs + masks + max(attention, ffn), output if with_output else 0)


def _mask(n_kv: int, n_tokens: int, bytes_per: int) -> int:
    return n_kv * n_tokens * bytes_per


def host_inputs(spec, n_tokens: int) -> int:
    """With layers on a GPU, what the host compute buffer keeps (CUDA_Host): the token embeddings
    looked up on the CPU, where token_embd stays (src/llama-model.cpp: dev_input is the CPU),
    [n_embd, n_tokens] f32, and the token ids."""
    return n_tokens * spec.hidden_size * 4 + n_tokens * 4


def mib(n: int) -> str:
    return f"{n / MiB:8.2f} MiB"


# ---------------------------------------------------------------- placement over GPUs and the host

@dataclass(frozen=True)
class Settings:
    """llama.cpp's own settings, as llama-server spells them."""

    batch: int  # sequences (--parallel), sharing one unified cache
    context: int  # tokens per sequence
    ubatch: int = DEFAULT_UBATCH  # --ubatch-size
    flash_attn: str = "auto"  # --flash-attn auto|on|off
    ngl: int = -1  # --n-gpu-layers; -1 = all (the default, src/llama-model.cpp n_gpu_layers())
    n_cpu_moe: int = 0  # --n-cpu-moe: experts of the first N layers stay in system RAM
    swa_full: bool = False  # --swa-full
    kv_offload: bool = True  # False: --no-kv-offload
    gpus: int = 1  # GPUs the layers are split over; 0 = CPU only
    split: tuple = ()  # --tensor-split proportions, one per GPU; () = even (identical GPUs' free memory)
    n_batch: int = DEFAULT_BATCH  # --batch-size: the logical batch, n_outputs_max of the reserved graph


def _f32(x: float) -> float:
    """x rounded to IEEE single precision, as a C float holds it (one rounding after each float operation
    gives the float result: a double carries more than twice float's precision)."""
    return struct.unpack("f", struct.pack("f", x))[0]


def split_points(split: tuple) -> tuple:
    """llama.cpp's cumulative split points in float: splits[i] = Σ_{j≤i} split[j], then each divided by the
    sum (src/llama-model.cpp load_tensors, "sum and normalize the splits to get the split points")."""
    acc, cum = 0.0, []
    for v in split:
        acc = _f32(acc + _f32(v))
        cum.append(acc)
    return tuple(_f32(c / acc) for c in cum)


def layer_devices(n_layer: int, ngl: int, gpus: int, split: tuple = ()) -> tuple:
    """Device of each layer 0..n_layer (n_layer is the output layer): -1 for the CPU, else the GPU.

    src/llama-model.cpp load_tensors: i_gpu_start = max(n_layer + 1 - ngl, 0); layers from there on go
    to the GPUs by the cumulative --tensor-split points: GPU = upper_bound(splits, float(il - i_gpu_start) /
    act_gpu_layers), the first GPU whose point is above the layer's fraction. The output layer is offloaded
    first, then the last blocks. Without --tensor-split llama.cpp splits by each GPU's free memory: even here."""
    if gpus <= 0:
        return (-1,) * (n_layer + 1)
    ngl = n_layer + 1 if ngl < 0 else min(ngl, n_layer + 1)
    start = n_layer + 1 - ngl
    if ngl == 0:
        return (-1,) * (n_layer + 1)
    if not split:
        # upper_bound over the even splits (g + 1) / gpus of f = (il − start) / ngl is ⌊f × gpus⌋
        return (-1,) * start + tuple((il - start) * gpus // ngl for il in range(start, n_layer + 1))
    points = split_points(split)
    return (-1,) * start + tuple(bisect_right(points, _f32((il - start) / ngl)) for il in range(start, n_layer + 1))


@lru_cache(maxsize=2048)
def plan(spec, fmt, kvf, st: Settings):
    """Where llama.cpp puts every byte for this scenario: (gpus, host, caches, n_ctx, flash, T).

    Weights: token_embd always in system RAM (dev_input is the CPU; with a GPU it is the
    `CPU_Mapped model buffer`); block i on its layer's device, its experts in RAM when i < --n-cpu-moe;
    the output head on the output layer's device (a tied head is a second copy there, TENSOR_DUPLICATED).
    KV: each layer's cells on its device (in RAM with --no-kv-offload). Compute: every GPU holding layers
    reserves the worst-case graph; the host keeps the graph inputs (the token embeddings looked up on the
    CPU, the f32 masks, positions; sched assigns graph inputs to the CPU backend) or, when blocks run on
    the CPU, the whole graph. Output: the logits buffer in RAM."""
    from .layers import layer_weights
    from .plan import Share

    L = spec.num_layers
    c = cells(spec, st.batch, st.context, st.ubatch, st.swa_full)
    T = min(c.n_ctx, st.ubatch)
    flash = flash_attention(st.flash_attn, kvf)
    lw = layer_weights(spec, fmt)
    devs = layer_devices(L, st.ngl, st.gpus, st.split)
    k_row, v_row = kv_row_bytes(spec, kvf)
    layers_kv, layers_rs = _layer_memory(spec, kvf, c, st.batch)
    n = max(st.gpus, 0)
    w, kv, rs = [0] * n, [0] * n, [0] * n
    host_w, host_kv, host_rs = lw.token_embd, 0, 0
    first = 0
    while first < L:  # each device's layers, a contiguous range [first, end): devices never decrease along them
        d = devs[first]
        end = first + devs[first:L].count(d)
        home = min(end, st.n_cpu_moe)  # blocks whose experts stay in RAM (--n-cpu-moe)
        experts_home = sum(lw.experts[first:home]) if home > first else 0
        layer_kv, layer_rs = sum(layers_kv[first:end]), sum(layers_rs[first:end])
        if d < 0:
            host_w += sum(lw.layers[first:end])
        else:
            w[d] += sum(lw.layers[first:end]) - experts_home
            host_w += experts_home
        if d < 0 or not st.kv_offload:
            host_kv += layer_kv
            host_rs += layer_rs
        else:
            kv[d] += layer_kv
            rs[d] += layer_rs
        first = end
    out_dev = devs[L]
    if out_dev < 0:
        host_w += lw.output_own
    else:
        w[out_dev] += lw.output
    graph = compute_buffer(spec, T, T, c, flash)
    blocks_on_cpu = -1 in devs[:L] or (not st.kv_offload and n > 0)
    gpu_compute = [graph if g in devs else 0 for g in range(n)]
    if n and max(devs) >= 0 and st.n_cpu_moe and spec.is_moe and T >= 32:
        # op offload (--op-offload, on by default): matrix products of weights kept in RAM run on the GPU
        # for batches of 32+ tokens, so the scheduler copies such a weight into the GPU's compute buffer
        # (ggml-backend.cpp ggml_backend_sched offload_op); one expert tensor at a time
        gpu_compute = [g + (lw.largest if g else 0) for g in gpu_compute]
    if n == 0 or not any(d >= 0 for d in devs):
        host_compute = cpu_compute_buffer(spec, kvf, c, T, st.batch, flash, st.n_batch)
        host_compute = graph if host_compute is None else host_compute
    elif out_dev < 0:
        host_compute = graph
    elif blocks_on_cpu:  # the CPU runs its blocks; the logits are computed on the output layer's GPU
        host_compute = compute_buffer(spec, T, T, c, flash, with_output=False)
    else:
        mask_bytes = _mask(c.n_ctx, T, 4) + (_mask(c.n_swa, T, 4) if c.n_swa else 0)
        host_compute = host_inputs(spec, T) + mask_bytes + T * 8 * 2 + T * 4
    gpus = tuple(Share(weights=w[g], kv_cache=kv[g], state=rs[g], compute=gpu_compute[g]) for g in range(n))
    host = Share(weights=host_w, kv_cache=host_kv, state=host_rs, compute=host_compute,
                 output=output_buffer(spec, st.batch))
    caches = _caches(spec, c, kvf)
    return gpus, host, caches, c, flash, T


@lru_cache(maxsize=512)
def _layer_memory(spec, kvf, c: Cells, batch: int) -> tuple:
    """(KV-cache bytes, state bytes) of each layer, wherever it is placed: attention kinds cache per cell;
    recurrent/conv kinds keep f32 state, one cell per sequence (src/llama-model.cpp create_memory:
    llama_memory_recurrent(GGML_TYPE_F32, GGML_TYPE_F32, n_seq_max))."""
    from ..models import layer_kinds
    per_layer_cells = layer_cells(spec, c)
    kinds = layer_kinds(spec)
    per_kind = {}  # layers of one kind share their tuple of memory kinds: each is worked out once
    for ks in kinds:
        if id(ks) not in per_kind:
            per_kind[id(ks)] = (sum(k.bytes_per_token(kvf) for k in ks if k.grows),
                                sum(batch * k.state_bytes(4, 4) for k in ks if not k.grows))
    kv = tuple(n_cells * per_kind[id(ks)][0] for n_cells, ks in zip(per_layer_cells, kinds))
    rs = tuple(per_kind[id(ks)][1] for ks in kinds)
    return kv, rs


@lru_cache(maxsize=512)
def _caches(spec, c: Cells, kvf) -> tuple:
    """(label, cells, layers, bytes) per KV cache, in llama.cpp's order (iSWA: the base, then the SWA cache)."""
    from ..models import layer_kinds
    kinds = layer_kinds(spec)
    full = [k for ks in kinds for k in ks if k.grows and not (c.n_swa and k.kind in ("sliding", "chunked"))]
    swa = [k for ks in kinds for k in ks if k.grows and c.n_swa and k.kind in ("sliding", "chunked")]
    out = [("non-SWA" if swa else "", c.n_ctx, len(full), c.n_ctx * sum(k.bytes_per_token(kvf) for k in full))]
    if swa:
        out.append(("SWA", c.n_swa, len(swa), c.n_swa * sum(k.bytes_per_token(kvf) for k in swa)))
    return tuple(x for x in out if x[2])


# ---------------------------------------------------------------- the estimate's view

def requested_ubatch(s) -> int:
    """The micro-batch the user asked for (--ubatch, else --prefill-chunk, else llama.cpp's 512)."""
    return s.ubatch or s.prefill_chunk or DEFAULT_UBATCH


def settings_from(s, gpus: int) -> Settings:
    # llama.cpp cuts n_ubatch to n_batch: src/llama-context.cpp @0c1e5709 (llama-cpp-python 0.3.36's vendor
    # copy, line 248) `cparams.n_ubatch = std::min(cparams.n_batch, params.n_ubatch == 0 ? params.n_batch :
    # params.n_ubatch)`, n_batch 2048 by default (common/common.h); the estimate's scenario has no n_batch
    # of its own, so the default holds (see ubatch_note).
    return Settings(batch=s.batch, context=s.context, ubatch=min(requested_ubatch(s), DEFAULT_BATCH), flash_attn=s.flash_attn,
                    ngl=-1 if s.ngl is None else s.ngl, n_cpu_moe=s.n_cpu_moe, swa_full=s.swa_full,
                    kv_offload=s.kv_offload, gpus=gpus, split=s.tensor_split if gpus == len(s.tensor_split) else ())


@lru_cache(maxsize=512)
def estimate_plan(spec, fmt, kvf, s, lay, device, chunk):
    """llama.cpp's EnginePlan for a Scenario: placement, its figures, log lines and warnings. Raises InputError
    for what llama.cpp itself refuses (check_limits)."""
    from .plan import EnginePlan
    check_limits(s.batch, s.context, lay.devices)
    st = settings_from(s, lay.devices)
    gpus, host, caches, c, flash, T = plan(spec, fmt, kvf, st)
    L = spec.num_layers
    ngl = L + 1 if st.ngl < 0 else min(st.ngl, L + 1)
    fields = {"n_ctx": c.n_ctx, "n_ubatch": T, "flash_attn": flash, "layers_on_gpu": ngl if st.gpus else 0,
              "layers_total": L + 1, "compute_buffer_bytes": [g.compute for g in gpus],
              "host_compute_buffer_bytes": host.compute, "output_buffer_bytes": host.output,
              "kv_cells": c.n_ctx, "swa_cells": c.n_swa, "tensor_split": list(st.split),
              "layers_per_gpu": [sum(1 for d in layer_devices(L, st.ngl, st.gpus, st.split) if d == g)
                                 for g in range(max(st.gpus, 0))]}
    from . import ENGINES
    overhead = s.overhead_bytes if s.overhead_bytes is not None else ENGINES["llama.cpp"].overhead_bytes
    if device is not None:
        budget = device.usable_bytes - overhead
        fields["max_ngl_that_fits"] = max_ngl(spec, fmt, kvf, st, budget)
        fields["min_n_cpu_moe_that_fits"] = min_n_cpu_moe(spec, fmt, kvf, st, budget) if spec.is_moe else None
    fields["system_ram_needed_bytes"] = host.total
    cut = (ubatch_note(requested_ubatch(s)),) if requested_ubatch(s) > DEFAULT_BATCH else ()
    backend = device.backend if device is not None else "CUDA"
    return EnginePlan(gpus, host, caches, fields, log_lines(spec, kvf, st, gpus, host, caches, c, flash, T, backend),
                      cut + notes(spec, kvf, st, c, flash, device is not None), overhead_bytes=overhead)


LLAMA_MAX_SEQ = 256  # src/llama-cparams.h: #define LLAMA_MAX_SEQ 256
MAX_N_CTX = (1 << 31) - 1  # -c N is read with std::stoi into common_params' int32_t n_ctx (common/arg.cpp, common.h)
MAX_DEVICES = 16  # src/llama.cpp llama_max_devices(); ggml/include/ggml-cuda.h GGML_CUDA_MAX_DEVICES


def check_limits(batch: int, context: int, gpus: int) -> None:
    """What llama.cpp @0c1e5709 refuses before it allocates anything (InputError, one line each):
    - more than LLAMA_MAX_SEQ sequences: llama_context's constructor throws "n_seq_max must be <= 256"
      (src/llama-context.cpp; llama-server's --parallel sets n_seq_max);
    - a total context (batch × context, the unified cache's n_ctx) beyond -c's 32-bit int: common/arg.cpp parses
      it with std::stoi into `int32_t n_ctx` (common/common.h), which throws out_of_range;
    - more than 16 GPUs in one process: ggml-cuda.cu ggml_cuda_init asserts physical_device_count <=
      GGML_CUDA_MAX_DEVICES (16), and llama_max_devices() is 16 (src/llama.cpp)."""
    from ..errors import InputError
    if batch > LLAMA_MAX_SEQ:
        raise InputError("batch", f"llama.cpp serves at most {LLAMA_MAX_SEQ} sequences in one context "
                                  f"(\"n_seq_max must be <= {LLAMA_MAX_SEQ}\", src/llama-context.cpp): "
                                  f"{batch:,} needs several llama.cpp servers")
    if batch * context > MAX_N_CTX:
        raise InputError("context", f"llama.cpp's context (-c) is a 32-bit int: {batch:,} × {context:,} = "
                                    f"{batch * context:,} cells is beyond {MAX_N_CTX:,} (common/arg.cpp std::stoi)")
    if gpus > MAX_DEVICES:
        raise InputError("gpus", f"llama.cpp handles at most {MAX_DEVICES} GPUs in one process (GGML_CUDA_MAX_DEVICES, "
                                 f"llama_max_devices()): {gpus} needs several processes")


def ubatch_note(requested: int) -> str:
    return (f"compute: a micro-batch (--ubatch) of {requested:,} tokens is above llama.cpp's n_batch of "
            f"{DEFAULT_BATCH:,} (its default, common/common.h; llama-server -b raises it): llama.cpp cuts n_ubatch to "
            f"n_batch (src/llama-context.cpp: n_ubatch = min(n_batch, n_ubatch)), so {DEFAULT_BATCH:,} is used here.")


def fits(gpus, budget: int) -> bool:
    """Every GPU's buffers within `budget` (its usable memory less the runtime overhead); a GPU holding nothing
    (--n-gpu-layers 0 with nothing else on it) fits whatever its size, as the estimate counts no overhead there."""
    return all(g.total <= budget or not g.total for g in gpus)


def max_ngl(spec, fmt, kvf, st: Settings, budget: int):
    """The largest --n-gpu-layers whose GPUs each fit in `budget` bytes; None when not even 0 layers do (the
    GPU's compute buffer alone over the budget). GPU bytes grow with ngl."""
    from dataclasses import replace
    top = spec.num_layers + 1
    # every layer is --n-gpu-layers -1 (layer_devices), the plan the estimate has already made in the default case
    fits_at = lambda n: fits(plan(spec, fmt, kvf, replace(st, ngl=-1 if n == top else n))[0], budget)  # noqa: E731
    return monotone.largest(fits_at, 0, top)


def min_n_cpu_moe(spec, fmt, kvf, st: Settings, budget: int):
    """The smallest --n-cpu-moe (experts of the first N layers in RAM) that fits with every layer
    offloaded; None when even all experts in RAM do not fit."""
    from dataclasses import replace
    full = replace(st, ngl=-1)
    fits_at = lambda n: fits(plan(spec, fmt, kvf, replace(full, n_cpu_moe=n))[0], budget)  # noqa: E731
    return monotone.smallest(fits_at, 0, spec.num_layers)


def notes(spec, kvf, st: Settings, c: Cells, flash: bool, has_gpu: bool = True) -> tuple:
    out = []
    if not c.swa_honoured:
        out.append(f"kv: llama.cpp runs {spec.arch}'s sliding-window layers as full attention (no SWA in its "
                   f"loader, src/models/): every layer keeps all {c.n_ctx:,} cells, not the "
                   f"{spec.sliding_window:,}-token window.")
    if not flash and kvf.ggml and kvf.ggml not in ("F16", "BF16", "F32") and kvf.name not in ("f16", "bf16", "f32"):
        out.append("kv: llama.cpp refuses a quantized V cache without flash attention "
                   "(\"quantized V cache was requested, but this requires Flash Attention\").")
    from . import llamacpp_graph
    sh = llamacpp_graph.shape(spec, bool(c.n_swa))
    replay = sh is not None
    on_gpu = st.gpus > 0 and st.ngl != 0
    if on_gpu:
        out.append("compute: llama.cpp's GPU compute buffer is modelled from the tensors alive at the graph's peaks, "
                   "not replayed: the CUDA allocator aligns to 128 bytes and the scheduler adds copies of the "
                   "split inputs; on the CPU the same rules come out 2-7 MiB under llama.cpp's figure for dense, "
                   "GQA, sliding-window and MoE shapes and up to 33 MiB under for MLA without flash attention.")
    elif not replay:
        out.append(f"compute: llama.cpp's {spec.arch} graph is not replayed here: the CPU compute buffer is modelled "
                   "from the tensors alive at the graph's peaks, which against the real llama.cpp comes out 2-7 MiB "
                   "under for dense, GQA, sliding-window and MoE shapes, up to 33 MiB under for MLA without flash "
                   "attention and more for recurrent mixers.")
    elif sh.builder == "deepseek2" and spec.expert_score_bias:
        out.append("compute: DeepSeek-V3's routing (sigmoid scores, the selection bias, normalized and scaled weights) "
                   "is replayed, its grouped expert selection (n_group, topk_group: tensors of n_expert values per "
                   "token) is not, so the CPU compute buffer may come out a little under.")
    elif sh.builder == "granitehybrid":
        out.append("compute: Granite 4.0-H's graph is replayed with RoPE on its attention layers (llama.cpp's default "
                   "unless the GGUF sets rope.scaling.finetuned = false, src/models/granite-hybrid.cpp); without it the "
                   "CPU compute buffer can be a little smaller.")
    if replay and not on_gpu and kvf.name not in ("f16", "bf16", "f32") and sh.builder == "deepseek2":
        out.append("compute: with a quantized KV cache llama.cpp rotates Q, K and V by Hadamard matrices "
                   "(llama-kv-cache.cpp attn_rot_k/attn_rot_v); the replay follows them in standard attention but "
                   "not in DeepSeek-2's MLA attention, so its CPU compute buffer comes out a little under.")
    if replay and not on_gpu and st.gpus > 0 and has_gpu:
        out.append("compute: with a GPU present and --ngl 0, llama.cpp still offloads the matrix products of "
                   "batches of 32+ tokens to the GPU (op offload), so its CPU compute buffer may be smaller than "
                   "this CPU-only replay.")
    if st.gpus and st.n_cpu_moe and spec.is_moe:
        out.append("compute: with experts in system RAM, llama.cpp copies a weight into the GPU compute buffer "
                   "for large batches (op offload); one expert tensor is counted.")
    if st.gpus > 1:
        devs = layer_devices(spec.num_layers, st.ngl, st.gpus, st.split)
        counts = ", ".join(str(devs.count(g)) for g in range(st.gpus))
        how = (f"--tensor-split {','.join(f'{v:g}' for v in st.split)}" if st.split else
               "evenly, as llama.cpp's default split by free memory does for identical GPUs")
        out.append(f"weights: llama.cpp splits layers over GPUs (--split-mode layer), {how}: {counts} of the "
                   f"{spec.num_layers + 1} layers (the output layer counts as one) per GPU.")
    return tuple(out)


# The names ggml's GPU backends give their devices and buffer types, as the log prints them:
# (device i's name, its host (pinned) buffer type, the buffer its mmap-loaded weights print as).
# CUDA/ROCm/MUSA: ggml/include/ggml-cuda.h@dee003ea GGML_CUDA_NAME "CUDA" ("ROCm" with GGML_USE_HIP, "MUSA"),
#   devices GGML_CUDA_NAME + index, host buffer GGML_CUDA_NAME "_Host" (ggml/src/ggml-cuda/ggml-cuda.cu);
# Vulkan: ggml/src/ggml-vulkan/ggml-vulkan.cpp@80ec54e9 GGML_VK_NAME + index, GGML_VK_NAME "_Host";
# SYCL: ggml/src/ggml-sycl/ggml-sycl.cpp@3c1bcf26 GGML_SYCL_NAME + index, GGML_SYCL_NAME "_Host";
# Metal: ggml/src/ggml-metal/ggml-metal.cpp@0c1e5709 GGML_METAL_NAME "MTL": device i "MTL<i>", its buffer type
#   "MTL<i>" (shared buffers, ggml-metal-device.m: use_shared_buffers = has_unified_memory, every Apple-silicon
#   Mac; "MTL<i>_Private" only without unified memory), mmap-loaded weights "MTL<i>_Mapped" (buffer_from_host_ptr),
#   and no host buffer type (get_host_buffer_type NULL): the output and host compute buffers stay "CPU". Builds
#   before ggml-metal's multi-device rework (e.g. @3c1bcf26) printed "Metal" and "Metal_Mapped", as in the M4 log
#   of shared/reference/measured_dev.json.
BACKEND_NAMES = {
    "CUDA": ("CUDA{}", "CUDA_Host", "CUDA{}"),
    "ROCm": ("ROCm{}", "ROCm_Host", "ROCm{}"),
    "MUSA": ("MUSA{}", "MUSA_Host", "MUSA{}"),
    "Vulkan": ("Vulkan{}", "Vulkan_Host", "Vulkan{}"),
    "SYCL": ("SYCL{}", "SYCL_Host", "SYCL{}"),
    "Metal": ("MTL{}", "CPU", "MTL{}_Mapped"),
}


def backend_names(backend: str) -> tuple:
    """(device name pattern, host buffer name, weights buffer pattern) of a llama.cpp backend; CUDA's for an
    unknown one (no device chosen, a custom GPU)."""
    return BACKEND_NAMES.get(backend, BACKEND_NAMES["CUDA"])


def _by_buffer_name(host_bytes: int, gpu_bytes: list, device: str = "CUDA{}") -> list:
    """(buffer name, bytes) of the non-empty buffers in strcmp order of their names (CPU, CUDA0, CUDA1, CUDA10, CUDA2...)."""
    named = [("CPU", host_bytes)] + [(device.format(i), b) for i, b in enumerate(gpu_bytes)]
    return sorted(((n, b) for n, b in named if b), key=lambda x: x[0].encode())


def log_lines(spec, kvf, st: Settings, gpus, host, caches, c: Cells, flash: bool, T: int, backend: str = "CUDA") -> tuple:
    """The lines llama.cpp prints for these buffers (src/llama-model.cpp, llama-context.cpp, llama-kv-cache.cpp),
    with the device and buffer names of `backend` (BACKEND_NAMES)."""
    L = spec.num_layers
    ngl = L + 1 if st.ngl < 0 else min(st.ngl, L + 1)
    dev, host_buffer, mapped = backend_names(backend)
    host_name = host_buffer if st.gpus and ngl else "CPU"
    out = [f"load_tensors: offloaded {ngl if st.gpus else 0}/{L + 1} layers to GPU"]
    out.append(f"load_tensors: {'CPU_Mapped':>12} model buffer size = {mib(host.weights)}")
    out += [f"load_tensors: {mapped.format(i):>12} model buffer size = {mib(g.weights)}"
            for i, g in enumerate(gpus) if g.weights]
    out.append(f"llama_context: n_ctx = {c.n_ctx}")
    # causal models: n_batch = min(n_ctx, n_batch), n_ubatch = min(n_batch, n_ubatch) (llama-context.cpp)
    out.append(f"llama_context: n_batch = {min(c.n_ctx, st.n_batch)}")
    out.append(f"llama_context: n_ubatch = {T}")
    out.append(f"llama_context: flash_attn = {st.flash_attn}" + (" (resolved: enabled)" if st.flash_attn == "auto" and flash else ""))
    out.append(f"llama_context: {host_name:>10}  output buffer size = {mib(host.output)}")
    # one buffer per buffer type, in the order of their names: CPU before CUDA0, CUDA1, ... (llama-kv-cache.cpp and
    # llama-memory-recurrent.cpp keep them in a std::map ordered by ggml_backend_buft_comparator, strcmp of the names)
    for name, size in _by_buffer_name(host.kv_cache, [g.kv_cache for g in gpus], dev):
        out.append(f"llama_kv_cache: {name:>10} KV buffer size = {mib(size)}")
    k_row, v_row = kv_row_bytes(spec, kvf)
    for label, n_cells, layers, size in caches:
        k = n_cells * layers * k_row
        v = size - k
        out.append(f"llama_kv_cache: size = {size / MiB:7.2f} MiB ({n_cells:6d} cells, {layers:3d} layers, "
                   f"{st.batch:2d}/1 seqs), K ({kvf.name}): {k / MiB:7.2f} MiB, V ({kvf.name}): {v / MiB:7.2f} MiB")
    states = sum(g.state for g in gpus) + host.state
    if states:  # src/llama-memory-recurrent.cpp: a buffer per device, then the sizes; "layers" is the model's n_layer
        for name, size in _by_buffer_name(host.state, [g.state for g in gpus], dev):
            out.append(f"llama_memory_recurrent: {name:>10} RS buffer size = {mib(size)}")
        r, s = recurrent_state(spec, st.batch)
        out.append(f"llama_memory_recurrent: size = {states / MiB:7.2f} MiB ({max(1, st.batch):6d} cells, "
                   f"{L:3d} layers, {st.batch:2d} seqs  0 rs_seq), R (f32): {r / MiB:7.2f} MiB, "
                   f"S (f32): {s / MiB:7.2f} MiB, P (f32): {0:7.2f} MiB")
    for i, g in enumerate(gpus):
        if g.compute:
            out.append(f"sched_reserve: {dev.format(i):>10} compute buffer size = {mib(g.compute)}")
    out.append(f"sched_reserve: {host_name:>10} compute buffer size = {mib(host.compute)}")
    return tuple(out)
