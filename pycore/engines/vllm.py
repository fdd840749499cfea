"""vLLM's memory budget: what it profiles, what it leaves to the KV cache, and the lines it logs.

The identity (vllm/v1/worker/gpu_worker.py determine_available_memory, vllm/v1/worker/utils.py):

    requested = total GPU memory × gpu_memory_utilization
    KV cache  = requested − weights − non-torch memory − activation peak of the profiling run (− CUDA graphs)

- The profiling run pushes max_num_batched_tokens tokens through the model split over up to
  max_num_seqs requests (gpu_model_runner.py profile_run / _dummy_run), then samples one row per
  request (_dummy_sampler_run); the activation peak is the larger of the two.
- The KV cache is cut into blocks of 16 tokens (cache_config.block_size), one page per layer per block;
  `GPU KV cache size: N tokens` and `Maximum concurrency for L tokens per request: X.XXx`
  (vllm/v1/core/kv_cache_utils.py); when one request of max_model_len does not fit, vLLM stops with
  "To serve at least one request with the models's max seq len (L), (X GiB KV cache is needed, which
  is larger than the available KV cache memory (Y GiB)." (kv_cache_utils.py check_enough_kv_cache_memory).
- Sliding-window layers keep window − 1 + the tokens of the current step, plus one block because a window
  need not start on a block boundary (kv_cache_interface.py SlidingWindowSpec.max_memory_usage_bytes);
  the step's tokens (at most max_num_batched_tokens) are shared by all running sequences, so B sequences
  need B × (window − 1 + 1 block) + one chunk, not B chunks.
- Non-torch memory (CUDA context, cuBLAS/NCCL workspaces, custom all-reduce buffers) grows with the
  tensor-parallel size: 1.79 GiB at TP 1 and 3.58 GiB at TP 2 on H100 (vllm-project/vllm#10511);
  0.35 GiB on an RTX 3090 at TP 1 (vllm-project/vllm#10517). It is not derived from code here. These are
  the only logged points: beyond TP 2 the figure is held at the TP 2 one (the CUDA context is one per GPU
  whatever the TP size, and the communication buffers do not grow without bound with it), with a warning
  that it is an extrapolation.
"""
from functools import lru_cache

from ..errors import InputError
from ..models import tp_share
from ..monotone import largest
from ..units import GiB, MiB
from .plan import EnginePlan, Share
from .vllm_pool import make_pool

BLOCK = 16  # cache_config.block_size default
DEFAULT_UTILIZATION = 0.92  # vllm/config/cache.py (0.9 before v0.21)
DEFAULT_MAX_NUM_SEQS = 256  # vllm/config/scheduler.py
NON_TORCH_PER_RANK = int(1.79 * GiB)  # vllm-project/vllm#10511 (H100, TP 1: 1.79 GiB; TP 2: 3.58 GiB per GPU)
NON_TORCH_SMALL_GPU = int(0.35 * GiB)  # vllm-project/vllm#10517 (RTX 3090, TP 1)
# The sampler's dummy run over max_num_seqs rows × vocab (gpu_model_runner.py _dummy_sampler_run) with top-k
# and top-p on: tensors alive per logit at the peak of vllm/v1/sample/ops/topk_topp_sampler.py
# apply_top_k_top_p (its locals live until it returns): the bf16 logits (2) and their f32 copy (4), the sorted
# values (4) and int64 indices (8), the top-k mask (1), softmax of the sorted values (4), their cumulative sum
# (4), the top-p mask (1) and the scattered result (4). Logits are gathered whole on every tensor-parallel rank.
SAMPLER_BYTES_PER_LOGIT = 2 + 4 + 4 + 8 + 1 + 4 + 4 + 1 + 4


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


def rope_cache_bytes(spec, dtype_bytes: int) -> int:
    """Bytes of the rotary cos/sin cache every GPU holds beside the weights (counted by vLLM in "Model loading took",
    here in the per-GPU overhead, so that the weights stay the checkpoint's tensors):
    vllm/model_executor/layers/rotary_embedding/base.py@04458da0 RotaryEmbedding registers `cos_sin_cache`, a
    [max_position_embeddings, rotary_dim] tensor (cos and sin, rotary_dim / 2 each) cast to the model dtype, as a
    module buffer built with the model; get_rope returns one shared instance for all layers of the same rope
    (YaRN and DeepSeek's scaling: original × factor positions, the config's max_position_embeddings for the
    published checkpoints). Not split by tensor parallelism. Llama 3.1 8B: 131,072 × 128 × 2 B = 32 MiB, the
    difference between its 8,030,261,248 bf16 parameters (14.9575 GiB) and the logged 14.9889 GiB
    (vllm-project/vllm#17122)."""
    return spec.max_context * spec.rope_dim * dtype_bytes


# tests/test_published_logs.py holds both logs (xfail: the repacked layouts are not modelled)
MXFP4_NOTE = ("weights: vLLM repacks MXFP4 expert weights for its kernels (Marlin's layout, or triton_kernels' on "
              "Hopper) and keeps their biases in f32; the padding this adds is not counted: gpt-oss-120b on an H100 "
              "logged 'Model loading took' 65.97 GiB (vLLM 0.10, vllm-project/vllm#23278) and 64.38 GiB (0.14.1, "
              "#33155) where its checkpoint's tensors come to 60.8 GiB, so expect up to ~9 % more for the weights.")
ROPE_NOTE = ("overhead: besides its non-torch memory, each GPU holds vLLM's rotary cos/sin cache ({rows:,} positions × "
             "{dim} channels × {b} B = {size:,} B), which vLLM counts in 'Model loading took'; a model with a second "
             "rope (Gemma 3's local base) holds a second cache, and linear or dynamic rope scaling a longer one: not "
             "counted.")


NON_TORCH_LOGGED_TP = 2  # the largest tensor-parallel size with a logged non-torch figure (vllm#10511)


def non_torch_bytes(tp: int, usable: int) -> int:
    """Per GPU, bytes: the logged TP 1 figure for the GPU class, doubled at TP 2 as #10511 logs it, and held
    at that TP 2 figure for larger TP sizes (no log beyond TP 2: see non_torch_note)."""
    base = NON_TORCH_PER_RANK if usable >= 70 * GiB else NON_TORCH_SMALL_GPU
    return base * min(tp, NON_TORCH_LOGGED_TP)


def non_torch_note(tp: int, usable: int) -> str:
    """The warning for a non-torch figure that is not a logged point ('' when it is one)."""
    large = usable >= 70 * GiB
    if tp <= 1 or (large and tp <= NON_TORCH_LOGGED_TP):
        return ""
    held = non_torch_bytes(tp, usable) / GiB
    if large:
        return (f"overhead: vLLM's non-torch memory (CUDA context, NCCL and custom all-reduce buffers) is logged at "
                f"TP 1 and TP 2 only (1.79 and 3.58 GiB per H100, vllm-project/vllm#10511); at TP {tp} it is held at "
                f"the TP 2 figure, {held:.2f} GiB per GPU: an extrapolation beyond the logged points.")
    return (f"overhead: vLLM's non-torch memory on GPUs under 70 GiB is logged at TP 1 only (0.35 GiB on an RTX 3090, "
            f"vllm-project/vllm#10517); at TP {tp} it is taken as twice that, {held:.2f} GiB per GPU, as the H100 "
            f"figure doubles from TP 1 to TP 2 (vllm-project/vllm#10511): an extrapolation beyond the logged points.")


def kv_tokens_per_layer(layer, context: int, batch: int, chunk: int) -> int:
    """Tokens of KV a layer holds for `batch` sequences of `context` tokens, in whole 16-token blocks."""
    full = batch * cdiv(context, BLOCK) * BLOCK
    window = getattr(layer, "window", 0)
    if not window or window >= context:
        return full
    per_seq = window - 1 + BLOCK  # window − 1 tokens plus the block a window straddles
    return min(full, cdiv(batch * per_seq + chunk, BLOCK) * BLOCK)


def estimate_max_model_len(pools, max_model_len: int, chunk: int, available: int) -> int:
    """The longest max_model_len whose one request fits in `available` bytes, as vLLM finds it for its error
    message: a binary search over 1..max_model_len of "max_memory_usage_bytes(L) <= available", the sum over
    layers of each layer's pages for one request of L tokens (whole 16-token blocks), 0 when even one token
    does not fit (vllm/v1/core/kv_cache_utils.py@bbf906a8 estimate_max_model_len). Every pipeline stage
    (pool) must fit. The project's one bisection (pycore.monotone.largest): ⌈log2(max_model_len)⌉ + 3 steps."""
    if max_model_len < 1:
        return 0
    found = largest(lambda n: max(p.needed_one(n, chunk) for p in pools) <= available, 1, max_model_len)
    return found or 0


@lru_cache(maxsize=1024)
def rank_weights(spec, fmt, lay, dp: int, ep: bool) -> tuple:
    """Weight bytes on each GPU of one data-parallel engine (lay.tp × lay.pp GPUs).

    Without data parallelism or expert parallelism: tensor- and pipeline-parallel shares as elsewhere
    (pycore.memory._device_weights). With --data-parallel-size D (vllm/model_executor/layers/fused_moe/
    config.py@00c1c6a2 FusedMoEParallelConfig.make): attention, dense MLPs, shared experts, embeddings and
    head are split over the lay.tp ranks of an engine and replicated in each of the D engines, while the
    routed experts are spread over all D × tp GPUs: sharded like a tensor-parallel matrix (flatten_tp_across_dp)
    or, with --enable-expert-parallel, as whole experts, ⌈experts / (D × tp)⌉ on a GPU (ep_size = D × tp,
    tp_size 1 for the experts)."""
    from ..formats import weight_storage
    from ..memory import _device_weights
    from ..models import EXPERT_ROLES
    if dp == 1 and not ep:
        return _device_weights(spec, fmt, lay)
    ranks = dp * lay.tp
    per_gpu = 0
    for t, st in weight_storage(spec, fmt).tensors:
        if t.role in EXPERT_ROLES and spec.num_experts:
            if ep:
                per_gpu += st.bytes * cdiv(spec.num_experts, ranks) // spec.num_experts
            else:
                per_gpu += cdiv(st.bytes, ranks)
        else:
            per_gpu += tp_share(t, st.bytes, spec.num_kv_heads, lay.tp)
    return (per_gpu,) * lay.tp


@lru_cache(maxsize=512)
def estimate_plan(spec, fmt, kvf, s, lay, device, chunk):
    from ..formats import FILE
    from ..memory import _part_weights, _state, activation_phases
    from ..models import attention_groups, state_groups
    from ..engines import ENGINES
    from ..hardware import stage_layers
    from .speculative import draft as make_draft
    eng = ENGINES["vllm"]
    util = s.gpu_memory_utilization or DEFAULT_UTILIZATION
    usable = device.usable_bytes if device is not None else 80 * GiB
    tokens = s.max_num_batched_tokens or chunk or eng.chunk(usable)
    max_seqs = s.max_num_seqs or DEFAULT_MAX_NUM_SEQS
    dp, ep = s.data_parallel_size, s.enable_expert_parallel
    if dp > 1 and lay.pp > 1:
        raise InputError("data_parallel_size", "data parallelism with pipeline parallelism is not modelled: "
                         "use tensor parallelism inside each data-parallel engine")
    if (dp > 1 or ep) and not spec.is_moe and ep:
        raise InputError("enable_expert_parallel", "expert parallelism needs a mixture-of-experts model")
    B = cdiv(s.batch, dp)  # each data-parallel engine serves its share of the sequences
    S = s.context
    notes = ["compute: vLLM's activation peak is modelled from its profiling run (max_num_batched_tokens "
             "through the model, one sampled row per request); its non-torch memory is a logged figure "
             "(TP 1, and TP 2 on 70 GiB+ GPUs), not derived from code."]
    d = None
    if s.speculative_method:
        d = make_draft(spec, fmt, s.speculative_method, s.num_speculative_tokens, s.draft_model, lay.tp)
        notes += list(d.notes)
    w_dev = rank_weights(spec, fmt, lay, dp, ep)
    rope = rope_cache_bytes(spec, eng.activation_bytes)
    if rope:
        notes.append(ROPE_NOTE.format(rows=spec.max_context, dim=spec.rope_dim, b=eng.activation_bytes, size=rope))
    if fmt.name == "MXFP4" and spec.is_moe:
        notes.append(MXFP4_NOTE)
    if fmt.group != FILE:  # vision and audio towers load in 16-bit beside the language model (pycore/parts.py)
        w_dev = tuple(a + b for a, b in zip(w_dev, _part_weights(spec, "vllm", lay)[0]))
    if d is not None:  # the drafter sits with the last pipeline stage (it reads the target's last hidden states)
        w_dev = tuple(w + (d.weights if i // lay.tp == lay.pp - 1 else 0) for i, w in enumerate(w_dev))
    conv_b, ssm_b = eng.state_value_bytes(spec.ssm_dtype)
    spec_tokens = s.num_speculative_tokens if d is not None else 0
    pools = []
    for k, (lo, hi) in enumerate(stage_layers(spec.num_layers, lay.pp)):
        attn = attention_groups(spec, lo, hi)
        if d is not None and k == lay.pp - 1:
            attn = attn + d.attention
        pools.append(make_pool(attn, state_groups(spec, lo, hi), kvf, lay.tp, conv_b, ssm_b, spec_tokens, spec.is_mla))
    pool = pools[0]
    kv_dev, state_dev = [0] * lay.devices, [0] * lay.devices
    legacy_state = _state(spec, eng, s.with_(batch=B), lay)[0]  # one state slot per running sequence
    for k, p in enumerate(pools):
        for r in range(lay.tp):
            kv_dev[k * lay.tp + r] = p.kv_bytes(B, S, tokens)
            state_dev[k * lay.tp + r] = p.state_bytes(B) if p.hybrid else legacy_state[k * lay.tp + r]
    phases = activation_phases(spec, eng, 1, tokens, tokens, lay.tp)
    rows = min(max_seqs, tokens)
    sampler = rows * spec.vocab_size * SAMPLER_BYTES_PER_LOGIT + rows * spec.hidden_size * eng.activation_bytes
    peak = max(phases["attention"], phases["mlp"], sampler)
    if d is not None and d.spec is not None:  # the draft model's own forward pass in the same profiling run
        dph = activation_phases(d.spec, eng, 1, tokens, tokens, lay.tp)
        peak = max(peak, dph["attention"], dph["mlp"])
    non_torch = non_torch_bytes(lay.tp, usable)
    if non_torch_note(lay.tp, usable):
        notes.append(non_torch_note(lay.tp, usable))
    requested = int(usable * util)
    weights = max(w_dev)
    loaded = weights + rope  # what vLLM logs as the model's memory: its tensors and the rotary cache
    available = requested - loaded - non_torch - peak
    blocks = min(p.num_blocks(available) for p in pools)
    kv_tokens = pool.tokens(blocks)
    needed_one = max(p.needed_one(S, tokens) for p in pools)
    concurrency = pool.concurrency(blocks, S, tokens)
    gpus = tuple(Share(weights=w_dev[i], kv_cache=kv_dev[i], state=state_dev[i], compute=peak)
                 for i in range(lay.devices)) * dp
    if pool.hybrid:
        notes.append(f"kv: vLLM sizes attention blocks to hold one recurrent-state page: {pool.block_size}-token "
                     f"blocks of {pool.page:,} B per layer, the state page ({pool.state_page_bytes:,} B) padded to it; "
                     f"layers in groups of {pool.group_size} sharing one pool ({pool.groups} groups), each request "
                     f"holding {pool.state_blocks} block(s) per state group (mamba_cache_mode none: vLLM "
                     f"HybridAttentionMambaModelConfig, kv_cache_utils.py). With prefix caching on a model that "
                     f"supports it (mamba_cache_mode align/all) vLLM rounds blocks to the Mamba chunk size and "
                     f"keeps more state blocks per request: not modelled.")
        if pool.state_layers:
            n_groups = pool.groups_of(pool.state_layers)
            notes.append(f"state: vLLM allocates the state as pages of its KV pool: {B:,} sequences × {n_groups} state "
                         f"group(s) × {pool.group_size} layers × {pool.state_blocks} block(s) × {pool.page:,} B = "
                         f"{pool.state_bytes(B):,} B per GPU, against {pool.state_layers} layers × "
                         f"{pool.state_page_bytes:,} B of state per sequence.")
        if len({layer.bytes_per_token(kvf, lay.tp) for p in pools for layer, _ in p.attention}) > 1:
            notes.append("kv: attention layers of different page sizes beside recurrent layers (a draft model on a "
                         "hybrid target): the pool is sized on the largest; vLLM may refuse this layout.")
    if dp > 1 or ep:
        notes.append(f"weights: data parallelism ×{dp}{' with expert parallelism' if ep else ''}: each of the {dp} "
                     f"engines holds attention and dense weights split over its {lay.tp} GPU(s) and serves "
                     f"{B:,} of the {s.batch:,} sequences with its own KV pool; routed experts spread over all "
                     f"{dp * lay.tp} GPUs (vllm fused_moe/config.py FusedMoEParallelConfig). The all-to-all "
                     f"buffers of expert parallelism are not counted.")
    log = [f"Memory profiling takes: total_gpu_memory={usable / GiB:.2f}GiB, gpu_memory_utilization={util:.2f}, "
           f"requested={requested / GiB:.2f}GiB",
           f"Model loading took {loaded / GiB:.4f} GiB",
           f"non_torch_memory={non_torch / GiB:.2f}GiB, PyTorch activation peak memory={peak / GiB:.2f}GiB",
           f"Available KV cache memory: {max(available, 0) / GiB:.2f} GiB"]
    if d is not None and d.weights:
        log.insert(1, "Loading drafter model...")
    if ep and spec.num_experts:
        # vllm/model_executor/layers/fused_moe/layer.py determine_expert_map (linear placement): rank 0 holds
        # ⌈experts / ep_size⌉ (the first experts % ep_size ranks hold one more than the rest)
        log.insert(1, f"[EP Rank 0/{dp * lay.tp}] Expert parallelism is enabled. Expert placement strategy: linear. "
                      f"Local/global number of experts: {cdiv(spec.num_experts, dp * lay.tp)}/{spec.num_experts}.")
    log += list(pool.log())
    log += [f"GPU KV cache size: {kv_tokens:,} tokens",
            f"Maximum concurrency for {S:,} tokens per request: {concurrency:.2f}x"]
    if available <= 0:
        # kv_cache_utils.py@bbf906a8 check_enough_kv_cache_memory: available_memory <= 0 comes first
        log.append("ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` "
                   "when initializing the engine.")
    elif needed_one > available:
        est_len = estimate_max_model_len(pools, S, tokens, available)
        estimated = (f"Based on the available memory, the estimated maximum model length is {est_len}."
                     if est_len > 0 else "")
        log.append(f"ValueError: To serve at least one request with the models's max seq len ({S}), "
                   f"({needed_one / GiB:.2f} GiB KV cache is needed, which is larger than the available KV cache "
                   f"memory ({available / GiB:.2f} GiB). {estimated} Try increasing `gpu_memory_utilization` or "
                   f"decreasing `max_model_len` when initializing the engine.")
    fields = {"usable_bytes": requested, "gpu_memory_utilization": util, "non_torch_bytes": non_torch,
              "rope_cache_bytes": rope, "model_loading_bytes": loaded,
              "activation_peak_bytes": peak, "kv_cache_available_bytes": max(available, 0), "gpu_blocks": blocks,
              "kv_cache_tokens": kv_tokens, "max_concurrency": round(concurrency, 2),
              "max_num_batched_tokens": tokens, "max_num_seqs": max_seqs, "block_size": pool.block_size,
              "data_parallel_size": dp, "enable_expert_parallel": ep}
    if pool.hybrid:
        fields.update(page_bytes=pool.page, state_page_bytes=pool.state_page_bytes, kv_cache_groups=pool.groups,
                      group_size=pool.group_size, padding_layers=sum(p for p, _ in pool.padding()))
    if d is not None:
        fields["speculative"] = {"method": d.method, "num_speculative_tokens": d.tokens, "draft": d.label,
                                 "draft_weights_bytes": d.weights,
                                 "draft_kv_layers": sum(c for _, c in d.attention)}
    per_gpu = lay.tp * dp > 1
    caches = tuple((f"{'stage ' + str(k + 1) + ' ' if lay.pp > 1 else ''}{kind} attention"
                    f"{', each GPU' if per_gpu else ''}:", cells, layers, size)
                   for k, p in enumerate(pools) for kind, cells, layers, size in p.caches(B, S, tokens))
    return EnginePlan(gpus, Share(), caches, fields, tuple(log), tuple(notes), util, non_torch + rope)
