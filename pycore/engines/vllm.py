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
  0.35 GiB on an RTX 3090 at TP 1 (vllm-project/vllm#10517). It is not derived from code here.
"""
from functools import lru_cache

from ..units import GiB, MiB
from .plan import EnginePlan, Share

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


def non_torch_bytes(tp: int, usable: int) -> int:
    """Per GPU: the logged figure for the GPU class, × the tensor-parallel size (#10511 doubles at TP 2)."""
    base = NON_TORCH_PER_RANK if usable >= 70 * GiB else NON_TORCH_SMALL_GPU
    return base * tp


def kv_tokens_per_layer(layer, context: int, batch: int, chunk: int) -> int:
    """Tokens of KV a layer holds for `batch` sequences of `context` tokens, in whole 16-token blocks."""
    full = batch * cdiv(context, BLOCK) * BLOCK
    window = getattr(layer, "window", 0)
    if not window or window >= context:
        return full
    per_seq = window - 1 + BLOCK  # window − 1 tokens plus the block a window straddles
    return min(full, cdiv(batch * per_seq + chunk, BLOCK) * BLOCK)


@lru_cache(maxsize=512)
def estimate_plan(spec, fmt, kvf, s, lay, device, chunk):
    from ..formats import FILE
    from ..memory import _device_weights, _part_weights, _state, activation_phases
    from ..models import attention_groups
    from ..engines import ENGINES
    from ..hardware import stage_layers
    eng = ENGINES["vllm"]
    util = s.gpu_memory_utilization or DEFAULT_UTILIZATION
    usable = device.usable_bytes if device is not None else 80 * GiB
    tokens = s.max_num_batched_tokens or chunk or eng.chunk(usable)
    max_seqs = s.max_num_seqs or DEFAULT_MAX_NUM_SEQS
    B, S = s.batch, s.context
    w_dev = _device_weights(spec, fmt, lay)
    if fmt.group != FILE:  # vision and audio towers load in 16-bit beside the language model (pycore/parts.py)
        w_dev = tuple(a + b for a, b in zip(w_dev, _part_weights(spec, "vllm", lay)[0]))
    kv_dev = [0] * lay.devices
    per_token_all = 0  # KV bytes of one token over all layers of one rank (for the pool's token count)
    for k, (lo, hi) in enumerate(stage_layers(spec.num_layers, lay.pp)):
        stage = 0
        for layer, count in attention_groups(spec, lo, hi):
            per = layer.bytes_per_token(kvf, lay.tp)
            stage += kv_tokens_per_layer(layer, S, B, tokens) * count * per
            if k == 0:
                per_token_all += count * per
        for r in range(lay.tp):
            kv_dev[k * lay.tp + r] = stage
    phases = activation_phases(spec, eng, 1, tokens, tokens, lay.tp)
    rows = min(max_seqs, tokens)
    sampler = rows * spec.vocab_size * SAMPLER_BYTES_PER_LOGIT + rows * spec.hidden_size * eng.activation_bytes
    peak = max(phases["attention"], phases["mlp"], sampler)
    non_torch = non_torch_bytes(lay.tp, usable)
    requested = int(usable * util)
    weights = max(w_dev)
    available = requested - weights - non_torch - peak
    page = BLOCK * max(per_token_all, 1)
    blocks = max(available, 0) // page
    kv_tokens = blocks * BLOCK
    needed_one = sum(kv_tokens_per_layer(layer, S, 1, tokens) * count * layer.bytes_per_token(kvf, lay.tp)
                     for layer, count in attention_groups(spec))
    concurrency = kv_tokens / (cdiv(S, BLOCK) * BLOCK) if S else 0.0
    state_dev = _state(spec, eng, s, lay)[0]  # one state slot per running sequence, in vLLM's state dtypes
    gpus = tuple(Share(weights=w_dev[i], kv_cache=kv_dev[i], state=state_dev[i], compute=peak)
                 for i in range(lay.devices))
    notes = ["compute: vLLM's activation peak is modelled from its profiling run (max_num_batched_tokens "
             "through the model, one sampled row per request); its non-torch memory is a logged figure "
             "scaled by the tensor-parallel size, not derived from code."]
    log = [f"Memory profiling takes: total_gpu_memory={usable / GiB:.2f}GiB, gpu_memory_utilization={util:.2f}, "
           f"requested={requested / GiB:.2f}GiB",
           f"Model loading took {weights / GiB:.4f} GiB",
           f"non_torch_memory={non_torch / GiB:.2f}GiB, PyTorch activation peak memory={peak / GiB:.2f}GiB",
           f"Available KV cache memory: {max(available, 0) / GiB:.2f} GiB",
           f"GPU KV cache size: {kv_tokens:,} tokens",
           f"Maximum concurrency for {S:,} tokens per request: {concurrency:.2f}x"]
    if needed_one > max(available, 0):
        est_len = 0
        if per_token_all:
            est_len = max(available, 0) // per_token_all
        log.append(f"ValueError: To serve at least one request with the models's max seq len ({S}), "
                   f"({needed_one / GiB:.2f} GiB KV cache is needed, which is larger than the available KV cache "
                   f"memory ({max(available, 0) / GiB:.2f} GiB). Based on the available memory, the estimated "
                   f"maximum model length is {est_len}. Try increasing `gpu_memory_utilization` or decreasing "
                   f"`max_model_len` when initializing the engine.")
    fields = {"usable_bytes": requested, "gpu_memory_utilization": util, "non_torch_bytes": non_torch,
              "activation_peak_bytes": peak, "kv_cache_available_bytes": max(available, 0), "gpu_blocks": blocks,
              "kv_cache_tokens": kv_tokens, "max_concurrency": round(concurrency, 2),
              "max_num_batched_tokens": tokens, "max_num_seqs": max_seqs, "block_size": BLOCK}
    return EnginePlan(gpus, Share(), (), fields, tuple(log), tuple(notes), util, non_torch)
