"""SGLang's memory rules: the static fraction, the KV pool it allocates whole at start, and the lines it logs.

Read in sgl-project/sglang: kv_cache_configurator.py and pool_configurator.py at commit 003fca80 (003fca8027387a3d
6565b2c08e497e3020ac6211), memory_hook.py at 031ed82d (031ed82d8b5ec8db9cf88cffb057c2e91c964262); the other files named
here (memory_pool.py, model_config.py, bootstrap.py, utils/common.py, mamba_utils.py, model_override_base.py,
overrides.py, cuda_graph_hook.py) as released in sglang 0.5.23 on PyPI, whose copies of the first three agree with those
commits on every rule used here.

- The budget (python/sglang/srt/mem_cache/kv_cache_configurator.py@003fca80 KVCacheConfigurator.
  _profile_available_bytes): before the weights load SGLang measures the free memory of each GPU,
  pre_model_load_memory (the minimum over ranks, python/sglang/srt/distributed/bootstrap.py
  measure_pre_model_load_memory); after loading it measures the free memory again and keeps for the KV pool

      rest_memory = available_after_weights − pre_model_load_memory × (1 − mem_fraction_static)

  i.e. weights + KV pool = pre_model_load_memory × mem_fraction_static, and pre × (1 − mem_fraction_static)
  stays free for activations, CUDA graphs and the runtime. Both are torch.cuda.mem_get_info()'s free bytes
  / 2**30 (python/sglang/srt/utils/common.py get_available_gpu_memory): SGLang's "GB" is GiB.
- The pool (python/sglang/srt/model_executor/pool_configurator.py@003fca80 _compute_cell_size,
  calculate_pool_sizes): cell_size = bytes of one token over all layers on one rank: MHA
  kv heads per attention-TP rank × (head_dim + v_head_dim) × layers × dtype bytes; MLA (kv_lora_rank +
  qk_rope_head_dim) × layers × dtype bytes, the latent whole on every rank; max_total_num_tokens =
  rest // cell_size, rounded down to a multiple of page_size. Each layer's buffer holds page_size more rows
  than that (the padded slot 0's page, python/sglang/srt/mem_cache/memory_pool.py (sglang 0.5.23)
  MHATokenToKVPool._create_buffers, MLATokenToKVPool._create_buffers), and the log prints its size:
  "KV Cache is allocated. #tokens: N, K size: a GB, V size: b GB" (MLA: "KV size"), GB = 1024**3
  (memory_pool.py _finalize_allocation_log).
- Sliding windows: only the architectures of SGLang's hybrid-SWA list (python/sglang/srt/configs/
  model_config.py (sglang 0.5.23) is_hybrid_swa_model: Llama 4, gpt-oss, MiMo-V2, Gemma 4, …) get a separate
  sliding pool, of swa_full_tokens_ratio (0.8) × the full layers' tokens (pool_configurator.py
  _recompute_cell_size: cell = full bytes + 0.8 × sliding bytes); every other model keeps every token in
  every attention layer, its windows notwithstanding (Gemma 2/3, Mistral).
- Recurrent state (Mamba, Gated DeltaNet: kv_cache_configurator.py _handle_max_mamba_cache): without
  speculative decoding the state pool takes rest × mamba_full_memory_ratio / (1 + ratio) (ratio 0.9),
  max_mamba_cache_size = (that − one request's state) // one request's state, the pool holds that + 1
  slots and the KV pool the rest; max_running_requests is capped at max_mamba_cache_size // 3
  (MAMBA_CACHE_SIZE_MAX_RUNNING_REQUESTS_RATIO). The conv state is bfloat16, the SSM state float32 unless the
  config's mamba_ssm_dtype says otherwise (python/sglang/srt/configs/mamba_utils.py mamba2_state_dtype).
- Defaults that depend on the GPU (python/sglang/srt/arg_groups/memory_hook.py@031ed82d
  handle_gpu_memory_settings): chunked_prefill_size and the decode CUDA-graph max batch by the GPU's
  memory (nvidia-smi MiB), then, when --mem-fraction-static is not given,
  reserved MiB = max(512 + 1.5 × max(chunked_prefill_size, 2048) + tp × pp / 8 × 1024 + graphs,
  10 GiB on GPUs over 60 GiB), graphs = 2 × decode max batch + 8 MiB per prefill graph size (1.5 GiB with
  MLA), and mem_fraction_static = round((gpu MiB − reserved) / gpu MiB, 3).
- max_running_requests (kv_cache_configurator.py resolve_max_num_reqs): int(tokens / context_len × 512)
  held in [2048, 4096], at most tokens // 2; SGLang runs at most that many requests at once, the rest wait.

What pre_model_load_memory is not, SGLang does not print before loading: the usable memory less the CUDA context,
NCCL and the custom all-reduce buffers. It is taken from logs at TP 1, 4 and 8 (PRE_LOAD_USED).
"""
from functools import lru_cache

from ..parts import AUDIO, VISION
from ..units import GiB, MiB
from .plan import EnginePlan, Share

DEFAULT_PAGE_SIZE = 1  # --page-size: None resolves to 1 with the default attention backends (FlashInfer, FA3, Triton)
# SM100-class GPUs (B200, GB200, B300, GB300): SGLang's default backend for MHA models is TRT-LLM MHA
# (python/sglang/srt/arg_groups/model_override_base.py get_default_attn_backend, "Use trtllm_mha for SM100/SM103"),
# which takes pages of 16, 32, 64 or 128 and turns the default into 64 (arg_groups/overrides.py
# _mla_backend_page_constraints: "changing page_size from None to 64")
SM100_DEVICES = ("b200", "gb200", "b300", "gb300")
TRTLLM_MHA_PAGE_SIZE = 64
SWA_FULL_TOKENS_RATIO = 0.8  # --swa-full-tokens-ratio fallback (arg_groups/fields/schedule.py)
MAMBA_FULL_MEMORY_RATIO = 0.9  # --mamba-full-memory-ratio fallback (arg_groups/fields/schedule.py)
MAMBA_SLOTS_PER_REQUEST = 3  # kv_cache_configurator.py MAMBA_CACHE_SIZE_MAX_RUNNING_REQUESTS_RATIO
MAX_PREFILL_TOKENS = 16384  # --max-prefill-tokens default
MM_CACHE_RESERVE = 100 * MiB  # SGLANG_VLM_CACHE_SIZE_MB default (environ.py), kv_cache_configurator.py@003fca80
# mm_runtime_reservation_gb: taken from the KV budget of a multimodal model
DSA_QUANT_BLOCK = 128  # python/sglang/srt/mem_cache/memory_pool.py DSATokenToKVPool.quant_block_size
# Architectures (pycore.models ModelSpec.arch) that SGLang serves with its hybrid sliding-window pool
# (model_config.py (sglang 0.5.23) is_hybrid_swa_model: Llama4ForConditionalGeneration, GptOssForCausalLM in SWA_SINK_ARCHS)
SWA_POOL_ARCHS = ("llama4", "gpt-oss")
# Memory in use on a GPU when SGLang measures pre_model_load_memory (CUDA context, driver reserve, NCCL and custom
# all-reduce), as usable memory − the free memory before loading (avail mem after loading + mem usage, or "Load weight
# begin. avail mem"), by TP size, one log each:
# - TP 1, H200: 140.40 − (131.08 + 8.13) = 1.19 GiB (sgl-project/sglang#4826: "avail mem=131.08 GB, mem usage=8.13 GB")
# - TP 4, B200: 179.06 − (160.78 + 15.50) = 2.78 GiB (sgl-project/sglang#22537: "avail mem=160.78 GB, mem usage=15.50 GB")
# - TP 8, H200: 140.40 − 137.29 = 3.11 GiB (sgl-project/sglang#11716: "Load weight begin. avail mem=137.29 GB", ranks 1-6)
PRE_LOAD_USED = ((1, int(1.19 * GiB)), (4, int(2.78 * GiB)), (8, int(3.11 * GiB)))


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def pre_load_used(tp: int) -> int:
    """Bytes in use per GPU before the weights load at `tp` GPUs: the logged figures (PRE_LOAD_USED), linear
    between two logged TP sizes and held at the largest one beyond it."""
    tp = min(max(tp, PRE_LOAD_USED[0][0]), PRE_LOAD_USED[-1][0])
    for (t0, b0), (t1, b1) in zip(PRE_LOAD_USED, PRE_LOAD_USED[1:]):
        if tp <= t1:
            return b0 + (b1 - b0) * (tp - t0) // (t1 - t0)
    return PRE_LOAD_USED[-1][1]


def gpu_defaults(gpu_mib: float, tp: int) -> tuple:
    """(chunked_prefill_size, decode CUDA-graph max batch) SGLang picks for a GPU of `gpu_mib` MiB
    (memory_hook.py@031ed82d handle_gpu_memory_settings)."""
    if gpu_mib < 20 * 1024:
        return 2048, 8
    if gpu_mib < 35 * 1024:
        return 4096, 48 if tp < 4 else 160
    if gpu_mib < 60 * 1024:
        return 4096, 32 if tp < 4 else 160
    if gpu_mib < 160 * 1024:
        return 8192, 256 if tp < 4 else 512
    return 16384, 512


def prefill_graph_sizes(max_bs: int) -> int:
    """How many token counts SGLang captures prefill CUDA graphs for, up to `max_bs` (python/sglang/srt/arg_groups/
    cuda_graph_hook.py generate_prefill_cuda_graph_batch_sizes: 4..32 by 4, 48..256 by 16, 288..512 by 32,
    576..1024 by 64, 1280..4096 by 256, 4608.. by 512)."""
    count = 0
    for first, last, step in ((4, 32, 4), (48, 256, 16), (288, 512, 32), (576, 1024, 64), (1280, 4096, 256),
                              (4608, max(max_bs, 4608), 512)):  # counted, not listed: max_bs may be 2**27
        top = min(last, max_bs)
        count += (top - first) // step + 1 if top >= first else 0
    return count


def default_mem_fraction_static(gpu_mib: float, tp: int, chunked: int, graph_bs: int, mla: bool) -> float:
    """mem_fraction_static when --mem-fraction-static is not given (memory_hook.py@031ed82d): the reserve for
    activations (1.5 MiB per token of the prefill chunk, at least 2048 tokens), metadata (512 MiB), parallel
    slack (tp / 8 GiB) and CUDA graphs (2 MiB per decode batch; 8 MiB per prefill graph, 1.5 GiB with MLA),
    at least 10 GiB on GPUs over 60 GiB, as a share of the GPU's memory, rounded to 3 decimals."""
    reserved = 512 + max(chunked, 2048) * 1.5 + tp / 8 * 1024 + graph_bs * 2
    reserved += 1.5 * 1024 if mla else prefill_graph_sizes(chunked) * 8
    if gpu_mib > 60 * 1024:
        reserved = max(reserved, 10 * 1024)
    return round((gpu_mib - reserved) / gpu_mib, 3)


def swa_pool_tokens(full_tokens: int, page: int, ratio: float = SWA_FULL_TOKENS_RATIO) -> int:
    """Tokens of the sliding-window pool beside `full_tokens` of the full pool: int(full × ratio) rounded down to
    the page (pool_configurator.py@003fca80 _solve_pool_sizes)."""
    return int(full_tokens * ratio) // page * page


def vlm_mem_fraction_static(mfs: float, vision) -> float:
    """The default mem_fraction_static lowered for a multimodal model (memory_hook.py@031ed82d
    adjust_mem_fraction_for_vlm): × 0.95 × a factor of the vision tower's size against ViT-L/14 (24 layers of 1024):
    1 − 0.1 × (layers × hidden² / (24 × 1024²) − 1), held in [0.8, 1.05]; unchanged without a vision tower. A tower
    that names no layer count or width counts as 24 layers of 1024, as SGLang's getattr defaults do."""
    if vision is None:
        return mfs
    layers = getattr(vision, "layers", None) or getattr(vision, "depth", None) or 24
    hidden = getattr(vision, "hidden", None) or 1024
    ratio = layers * hidden ** 2 / (24 * 1024 ** 2)
    return mfs * 0.95 * max(0.8, min(1.05, 1.0 - 0.1 * (ratio - 1.0)))


def max_running_requests(tokens: int, context_len: int) -> int:
    """kv_cache_configurator.py resolve_max_num_reqs without --max-running-requests."""
    estimated = max(min(int(tokens / max(context_len, 1) * 512), 4096), 2048)
    return min(estimated, tokens // 2)


def dsa_latent_bytes(kv_lora_rank: int, rope_dim: int, kvf) -> int:
    """Bytes of one token's latent in one layer of SGLang's DeepSeek-sparse-attention pool: in FP8 the latent's
    kv_lora_rank values, a float32 scale per 128 of them, and the RoPE key kept in bfloat16
    (kv_cache_configurator.py@003fca80 calculate_mla_kv_cache_dim: kv_lora_rank + kv_lora_rank //
    quant_block_size × 4 + qk_rope_head_dim × 2, DSATokenToKVPool.quant_block_size 128): 512 + 16 + 128 = 656 B
    for DeepSeek-V3.2; in 16 bits the plain latent."""
    if kvf.name == "fp8":
        return kv_lora_rank + kv_lora_rank // DSA_QUANT_BLOCK * 4 + rope_dim * 2
    return kvf.row_bytes(kv_lora_rank + rope_dim)


def _layer_bytes(layer, kvf, tp: int) -> tuple:
    """(K bytes, V bytes) of one token in one layer on one rank; MLA's latent is all 'K' (one buffer), and with
    DeepSeek sparse attention the indexer's FP8 key and scale (index_head_dim + index_head_dim // 128 × 4 B,
    pool_configurator.py@003fca80 _compute_cell_size) are counted with it, as SGLang's log does."""
    if hasattr(layer, "k_head_dim"):
        heads = cdiv(layer.n_kv_heads, tp)
        return kvf.row_bytes(heads * layer.k_head_dim), kvf.row_bytes(heads * layer.v_head_dim)
    if hasattr(layer, "indexer_bytes_per_token"):
        return dsa_latent_bytes(layer.kv_lora_rank, layer.rope_dim, kvf) + layer.indexer_bytes_per_token(), 0
    return layer.bytes_per_token(kvf, tp), 0


def _pool(rest: int, cell: tuple, page: int) -> tuple:
    """(rest, full tokens, sliding tokens, state slots, bytes per full token) of one rank's pool from its `rest`
    bytes (available after the weights − pre × (1 − mem_fraction_static)) and its per-token `cell` (see
    estimate_plan). A recurrent-state pool first takes rest × 0.9 / 1.9 in whole request slots
    (kv_cache_configurator.py _handle_max_mamba_cache: max_mamba_cache_size = (budget − one request) // one
    request, the pool one slot more); the KV pool gets what is left, rest // cell rounded down to the page."""
    kf, vf, ks, vs, _, per_req, _ = cell
    full_cell, swa_cell = kf + vf, ks + vs
    slots, kv_rest = 0, max(rest, 0)
    if per_req and rest > 0:
        budget = int(rest * MAMBA_FULL_MEMORY_RATIO / (1 + MAMBA_FULL_MEMORY_RATIO))
        slots = max((budget - per_req) // per_req, 0)
        kv_rest = rest - (slots + 1) * per_req
    bytes_per_token = full_cell + SWA_FULL_TOKENS_RATIO * swa_cell if swa_cell and full_cell else (full_cell or swa_cell)
    tokens = int(max(kv_rest, 0) // bytes_per_token) // page * page if bytes_per_token else 0
    swa_tokens = swa_pool_tokens(tokens, page) if swa_cell and full_cell else tokens
    return rest, tokens, swa_tokens, slots, bytes_per_token


@lru_cache(maxsize=512)
def estimate_plan(spec, fmt, kvf, s, lay, device, chunk):
    from ..formats import FILE
    from ..memory import _part_weights
    from ..models import attention_groups, state_groups
    from ..engines import ENGINES
    from ..hardware import stage_layers
    from .vllm import rank_weights
    eng = ENGINES["sglang"]
    # speculative decoding, data and expert parallelism are vLLM's here: ignored, with the estimate's warning
    # (pycore.memory._warnings)
    usable = device.usable_bytes if device is not None else 80 * GiB
    gpu_mib = usable / MiB
    tp = lay.tp
    # 64-token pages by default: DeepSeek sparse attention on CUDA ("Setting page size to 64 for DeepSeek DSA",
    # model_overrides/deepseek_v2.py, sglang 0.5.23), and MHA models on SM100 GPUs (TRT-LLM MHA, above); hybrids with
    # recurrent state keep FlashInfer/Triton there (server_args.py; mamba_hook.py asserts 1-token pages without a state
    # buffer)
    dsa = any(hasattr(layer, "indexer_bytes_per_token") for layer, _ in attention_groups(spec))
    sm100_mha = device is not None and device.id in SM100_DEVICES and not spec.is_mla and not state_groups(spec)
    page = s.page_size or (TRTLLM_MHA_PAGE_SIZE if sm100_mha or dsa else DEFAULT_PAGE_SIZE)
    auto_chunk, graph_bs = gpu_defaults(gpu_mib, tp)
    chunked = s.chunked_prefill_size or s.prefill_chunk or auto_chunk
    mla = spec.is_mla
    mfs = s.mem_fraction_static or default_mem_fraction_static(gpu_mib, tp * lay.pp, chunked, graph_bs, mla)
    multimodal = any(p.key in (VISION, AUDIO) for p in spec.parts)
    if multimodal and not s.mem_fraction_static:
        mfs = vlm_mem_fraction_static(mfs, next((p for p in spec.parts if p.key == VISION), None))
    mm_reserve = MM_CACHE_RESERVE if multimodal else 0
    B, S = s.batch, s.context
    context_len = spec.max_context
    notes = []

    w_dev = rank_weights(spec, fmt, lay, 1, False)
    if fmt.group != FILE:  # vision and audio towers load in 16-bit beside the language model (pycore/parts.py)
        w_dev = tuple(a + b for a, b in zip(w_dev, _part_weights(spec, "sglang", lay)[0]))
    used = pre_load_used(tp * lay.pp)
    pre = usable - used
    reserve = int(pre * (1 - mfs))

    conv_b, ssm_b = eng.state_value_bytes(spec.ssm_dtype)
    stages = stage_layers(spec.num_layers, lay.pp)
    swa_pool = spec.arch in SWA_POOL_ARCHS
    # per stage: K and V bytes per token of the full layers, of the sliding layers (SGLang's SWA pool), the
    # sliding window, and the conv + SSM and the conv bytes of one request's state
    cells = []
    for lo, hi in stages:
        kf = vf = ks = vs = window = 0
        for layer, count in attention_groups(spec, lo, hi):
            k, v = _layer_bytes(layer, kvf, tp)
            if swa_pool and getattr(layer, "window", 0):
                ks, vs, window = ks + k * count, vs + v * count, max(window, layer.window)
            else:
                kf, vf = kf + k * count, vf + v * count
        conv = sum(layer.conv_values(tp) * conv_b * count for layer, count in state_groups(spec, lo, hi))
        ssm = sum(layer.ssm_values(tp) * ssm_b * count for layer, count in state_groups(spec, lo, hi))
        cells.append((kf, vf, ks, vs, window, conv + ssm, conv))
    # each pipeline stage sizes its pool from its own weights and layers, and the stages keep the smallest
    # (kv_cache_configurator.py _apply_token_constraints: an all-reduce MIN over the PP ranks)
    stage_weights = [max(w_dev[k * tp:(k + 1) * tp]) for k in range(lay.pp)]
    pools = [_pool(int(pre * mfs) - stage_weights[k] - mm_reserve, cells[k], page) for k in range(lay.pp)]
    k_min = min(range(lay.pp), key=lambda k: (pools[k][1], k))
    rest, tokens, swa_tokens, state_slots, cell = pools[k_min]
    weights = stage_weights[k_min]
    kf, vf, ks, vs, window, per_req, conv_req = cells[k_min]
    full_cell, swa_cell = kf + vf, ks + vs
    hybrid_state = per_req > 0
    k_bytes = (tokens + page) * kf + ((swa_tokens + page) * ks if ks else 0)
    v_bytes = (tokens + page) * vf + ((swa_tokens + page) * vs if vs else 0)
    running = max_running_requests(tokens, context_len)
    if hybrid_state:
        running = min(running, state_slots // MAMBA_SLOTS_PER_REQUEST)

    # what this scenario's sequences take of the pool: whole pages per sequence
    seq_tokens = cdiv(S, page) * page
    need_full = B * seq_tokens
    need_swa = B * min(seq_tokens, cdiv(min(S, window or S) + page, page) * page) if swa_cell else 0
    kv_need = [0] * lay.devices
    state_need = [0] * lay.devices
    caches = []
    for k, (lo, hi) in enumerate(stages):
        ckf, cvf, cks, cvs, _, cst, _ = cells[k]
        for r in range(tp):
            kv_need[k * tp + r] = need_full * (ckf + cvf) + need_swa * (cks + cvs)
            state_need[k * tp + r] = B * cst
        label = f"{'stage ' + str(k + 1) + ' ' if lay.pp > 1 else ''}"
        for layer, count in attention_groups(spec, lo, hi):
            kb, vb = _layer_bytes(layer, kvf, tp)
            sliding = swa_pool and getattr(layer, "window", 0)
            n = need_swa if sliding else need_full
            caches.append((f"{label}{layer.kind} attention{', each GPU' if tp > 1 else ''}:", n, count,
                           n * count * (kb + vb)))
    # a hybrid's request holds up to MAMBA_SLOTS_PER_REQUEST state slots (radix cache on): B must fit in slots // 3
    state_cap = state_slots // MAMBA_SLOTS_PER_REQUEST
    fits_pool = rest > 0 and tokens > 0 and need_full <= tokens and (not swa_cell or need_swa <= swa_tokens) and \
        (not hybrid_state or B <= state_cap)
    # the compute share: what SGLang leaves free for activations and graphs, and a multimodal model's cache
    gpus = tuple(Share(weights=w_dev[i], kv_cache=kv_need[i], state=state_need[i], compute=reserve + mm_reserve)
                 for i in range(lay.devices))

    notes.append(f"compute: SGLang leaves pre_model_load_memory × (1 − mem_fraction_static) = "
                 f"{pre / GiB:.2f} GiB × {1 - mfs:.3f} = {reserve / GiB:.2f} GiB per GPU free for activations, CUDA "
                 f"graphs and the runtime (mem_fraction_static {mfs:.3f}"
                 f"{'' if s.mem_fraction_static else ', its default for this GPU'}); what they really take is not "
                 f"modelled: an OOM at capture or prefill is SGLang's own, lower --mem-fraction-static then.")
    logged = ", ".join(f"{b / GiB:.2f} GiB at TP {t}" for t, b in PRE_LOAD_USED)
    notes.append(f"overhead: the memory in use before SGLang loads the weights (CUDA context, NCCL, custom all-reduce: "
                 f"{used / GiB:.2f} GiB per GPU at TP {tp * lay.pp}) is taken from logs ({logged}: "
                 f"sgl-project/sglang#4826, #22537, #11716), linear between them; SGLang measures it at start, so "
                 f"its pool may differ by a few percent.")
    page_default = ((" (--page-size default: 64 for DeepSeek sparse attention)" if dsa else
                     " (--page-size default: 64 with the TRT-LLM backend, SGLang's attention backend for this model on "
                     "this GPU)") if sm100_mha or dsa else " (--page-size default 1 with FlashInfer, FA3 and Triton; FlashMLA and the "
                    "TRT-LLM backends use 64)")
    notes.append(f"kv: SGLang allocates its whole KV pool at start: {tokens:,} tokens ({(k_bytes + v_bytes) / GiB:.2f} "
                 f"GiB per GPU); the KV cache here is what {B:,} sequence(s) of {S:,} tokens take of it, in pages of "
                 f"{page} token(s){'' if s.page_size else page_default}.")
    if spec.sliding_window and not swa_pool and any(getattr(layer, "window", 0) for layer, _ in attention_groups(spec)):
        notes.append(f"kv: SGLang keeps every token in the sliding-window layers of {spec.arch} models too: its sliding "
                     "pool serves only the architectures of its hybrid-SWA list (configs/model_config.py "
                     "is_hybrid_swa_model), so those layers are counted at full context here.")
    if swa_cell and full_cell:
        notes.append(f"kv: SGLang's sliding-window pool holds {SWA_FULL_TOKENS_RATIO} × the full layers' tokens "
                     f"(--swa-full-tokens-ratio): {swa_tokens:,} tokens; a sequence is counted in it at its window "
                     f"plus one page.")
    if hybrid_state:
        notes.append(f"state: SGLang gives its recurrent-state pool {MAMBA_FULL_MEMORY_RATIO}/(1 + "
                     f"{MAMBA_FULL_MEMORY_RATIO}) of the rest: {state_slots + 1:,} slots of {per_req:,} B "
                     f"({(state_slots + 1) * per_req / GiB:.2f} GiB per GPU), and runs at most {state_slots:,} // "
                     f"{MAMBA_SLOTS_PER_REQUEST} = {state_slots // MAMBA_SLOTS_PER_REQUEST:,} requests at once "
                     f"(radix cache on; conv state bf16, SSM state {'f32' if ssm_b == 4 else 'bf16'}).")
    if any(hasattr(layer, "indexer_bytes_per_token") for layer, _ in attention_groups(spec)):
        notes.append("kv: DeepSeek sparse attention: SGLang's DSA pool keeps an FP8 latent with a float32 scale per 128 "
                     "values and its RoPE key in bfloat16 (656 B per layer for DeepSeek-V3.2), and the indexer's FP8 "
                     "key with its scales; the TileLang, TRT-LLM and ROCm backends keep the raw latent instead (not "
                     "modelled); SGLang's DSA backends use 64-token pages.")
    if device is None:
        notes.append("kv: no GPU chosen: SGLang's defaults, pool and log lines are those of an 80 GiB GPU.")
    if multimodal:
        notes.append(f"kv: a multimodal model: SGLang keeps {MM_CACHE_RESERVE // MiB} MiB of the rest for its multimodal "
                     f"cache (SGLANG_VLM_CACHE_SIZE_MB)" + ("" if s.mem_fraction_static else
                     f", and its default mem_fraction_static is lowered by the vision tower's size to {mfs:.3f} "
                     f"(memory_hook.py adjust_mem_fraction_for_vlm)") + "; --language-only serves it as text only.")
    if S > context_len:
        notes.append(f"kv: SGLang refuses --context-length {S:,} above the model's {context_len:,} unless "
                     "SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN=1 is set (configs/model_config.py).")
    if rest <= 0:
        notes.append(f"weights: the weights ({weights / GiB:.2f} GiB per GPU) exceed pre_model_load_memory × "
                     f"mem_fraction_static ({pre * mfs / GiB:.2f} GiB): SGLang stops with \"Loaded weights leave no "
                     f"GPU memory for the KV cache\"; raise --mem-fraction-static or add GPUs.")
    elif not fits_pool:
        if need_full > tokens or (swa_cell and need_swa > swa_tokens):
            why = (f"{B:,} × {seq_tokens:,} = {need_full:,} tokens exceed its pool of {tokens:,}" if need_full > tokens
                   else f"the sliding layers need {need_swa:,} of its {swa_tokens:,} sliding tokens")
            notes.append(f"kv: does not fit on SGLang: {why}; the sequences beyond the pool wait, and a prompt "
                         f"longer than {max(tokens - 1, 0):,} tokens (the pool less the one it generates) is refused "
                         f"(\"Input length ... exceeds the maximum allowed length\").")
        else:
            notes.append(f"state: does not fit on SGLang: {B:,} sequences exceed the {state_cap:,} it can run at once "
                         f"with {state_slots:,} state slots ({MAMBA_SLOTS_PER_REQUEST} per request); the others wait.")
    if B > running and fits_pool:
        notes.append(f"kv: SGLang runs at most {running:,} requests at once (max_running_requests); the other "
                     f"{B - running:,} wait.")

    gb = 1 << 30
    log = [f"Load weight end. avail mem={(pre - weights) / gb:.2f} GB, mem usage={weights / gb:.2f} GB."]
    if hybrid_state and rest > 0:
        slots = state_slots + 1
        log.append(f"Mamba Cache is allocated. max_mamba_cache_size: {state_slots}, conv_state size: "
                   f"{slots * conv_req / gb:.2f}GB, ssm_state size: {slots * (per_req - conv_req) / gb:.2f}GB")
    if swa_cell and full_cell:
        log.append(f"Use sliding window memory pool. full_layer_tokens={tokens}, swa_layer_tokens={swa_tokens}")
    if rest > 0:
        if v_bytes:
            log.append(f"KV Cache is allocated. #tokens: {tokens}, K size: {k_bytes / gb:.2f} GB, "
                       f"V size: {v_bytes / gb:.2f} GB")
        else:
            log.append(f"KV Cache is allocated. #tokens: {tokens}, KV size: {k_bytes / gb:.2f} GB")
        log.append(f"max_total_num_tokens={tokens}, chunked_prefill_size={chunked}, max_prefill_tokens="
                   f"{MAX_PREFILL_TOKENS}, max_running_requests={running}, context_len={context_len}")
    else:
        needed = 1 - (pre - weights) / pre
        log.append(f"ValueError: Loaded weights leave no GPU memory for the KV cache under --mem-fraction-static="
                   f"{mfs:.3f}. " + (f"Raise --mem-fraction-static above {needed:.3f}" if needed < 1 else
                                     "The weights exceed the GPU's free memory: add GPUs or choose a smaller format"))
    fields = {"mem_fraction_static": mfs, "pre_model_load_bytes": pre, "pre_load_used_bytes": used,
              "reserved_bytes": reserve, "rest_bytes": max(rest, 0), "cell_size_bytes": int(cell),
              "max_total_num_tokens": tokens, "kv_pool_bytes": k_bytes + v_bytes, "k_size_bytes": k_bytes,
              "v_size_bytes": v_bytes, "page_size": page, "chunked_prefill_size": chunked,
              "cuda_graph_max_bs": graph_bs, "max_running_requests": running, "context_len": context_len,
              "fits_pool": fits_pool}
    if swa_cell and full_cell:
        fields["swa_max_total_num_tokens"] = swa_tokens
    if hybrid_state:
        fields.update(max_mamba_cache_size=state_slots, state_pool_bytes=(state_slots + 1) * per_req,
                      state_bytes_per_request=per_req)
    return EnginePlan(gpus, Share(), tuple(caches), fields, tuple(log), tuple(notes), 1.0, used,
                      fits=None if fits_pool == (rest - max(kv_need) - max(state_need) >= 0) else fits_pool)
