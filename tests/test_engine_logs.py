"""Engine logs (shared/reference/engine_logs_dev.json, entries cited by source) reproduced by the engine
rules: KV caches exactly, compute buffers and vLLM budgets closely (each tolerance says how close and why).
"""
import json
from pathlib import Path

import pytest

from pycore.memory import estimate
from pycore.scenario import Scenario
from pycore.units import GiB, MiB

LOGS = Path(__file__).resolve().parents[3] / "shared" / "reference" / "engine_logs_dev.json"
if not LOGS.exists():
    LOGS = Path("/work/shared/reference/engine_logs_dev.json")


def entry(source_part: str, engine: str) -> dict:
    data = json.loads(LOGS.read_text())
    return next(e for e in data["entries"] if source_part in e["source"] and e["engine"] == engine)


def test_llama_cpp_mistral_7b_32000_flash_off():
    # ggml-org/llama.cpp#7450: Mistral 7B (v0.2/v0.3 geometry, vocab 32,000), n_ctx 32,000, n_ubatch 512,
    # flash attention off, 33/33 layers on CUDA0. mistral-7b-v0.1 has the same geometry; llama.cpp's
    # llama loader ignores its sliding window, so the cache is the whole 32,000 cells.
    f = entry("llama.cpp/issues/7450", "llama.cpp")["figures"]
    e = estimate(Scenario("mistral-7b-v0.1", weights="Q3_K_S", context=32000, engine="llama.cpp",
                          flash_attn="off", ubatch=512, gpu="rtx-4090"))
    assert e.kv_cache.bytes == f["kv_bytes"] * 2  # "KV self size = 4000.00 MiB" (figures hold K alone)
    assert e.devices[0].kv_cache == 4000 * MiB
    assert round(e.host.output / MiB, 2) == 0.12  # "CUDA_Host output buffer size = 0.12 MiB"
    # "CUDA0 compute buffer size = 2094.50 MiB": the f32 KQ scores 32,000 × 512 × 32 × 4 B = 2,000 MiB and the
    # f32 mask 62.5 MiB dominate; we are 8 MiB (0.4 %) under that b2950 build's graph.
    gpu = e.devices[0].activations
    assert abs(gpu - f["compute_gpu_bytes"]) / f["compute_gpu_bytes"] < 0.01, gpu / MiB
    # "CUDA_Host compute buffer size = 70.51 MiB": token embeddings looked up on the CPU (8 MiB) + the f32 mask
    assert abs(e.host.compute - f["compute_host_bytes"]) < 0.05 * MiB, e.host.compute / MiB
    # the sliding window in mistral-7b-v0.1's config is ignored by llama.cpp, and the user is told so
    assert any("sliding-window layers as full attention" in w for w in e.warnings)


def test_ollama_gpt_oss_120b_8192():
    # Ollama 0.11.10, gpt-oss:120b on a 64 GiB Strix Halo (63.8 GiB available), num_ctx 8192, parallel 1,
    # flash attention on (its default for gpt-oss), f16 cache: the `msg=offload` line.
    f = entry("journalctl dump of Ollama 0.11.10", "ollama")["figures"]
    e = estimate(Scenario("gpt-oss-120b", weights="MXFP4", context=8192, engine="ollama",
                          gpu_memory_bytes=int(63.8 * GiB)))
    p = e.engine_plan.fields
    assert p["flash_attn"] is True
    assert p["kv_bytes"] == f["ollama_kv_bytes"]  # memory.required.kv="450.0 MiB", exactly 471,859,200 B
    assert e.kv_cache.bytes == f["kv_bytes"]  # msg="kv cache" device=ROCm0 size="450.0 MiB"
    assert p["graph_full_bytes"] == p["graph_partial_bytes"] == 122 * MiB  # "122.0 MiB": (4 + 8 + 110) MiB
    assert p["layers_on_gpu"] == 37
    log = e.engine_plan.log[0]
    for text in ('memory.weights.total="59.7 GiB"', 'memory.weights.repeating="58.6 GiB"',
                 'memory.weights.nonrepeating="1.1 GiB"', 'memory.required.kv="450.0 MiB"',
                 'memory.graph.full="122.0 MiB"'):
        assert text in log, log
    # memory.required.full="62.4 GiB": weights, KV, graph, one layer as a buffer and 457 MiB; our MXFP4
    # weights are within 0.2 % of its file, so the total is within 0.2 GiB
    assert abs(p["required_full_bytes"] - f["ollama_required_full_bytes"]) < 0.2 * GiB, p["required_full_bytes"] / GiB


def test_ollama_memory_lines_as_ollama_prints_them():
    # The same Ollama 0.11.10 log: after `msg=offload`, ml/device.go BackendMemory.Log prints weights, KV cache and
    # graph per device (GPUs by ggml's device name, ROCm0 here; then the CPU), each only when not empty, then the
    # total. Our lines for that scenario on a ROCm device, line by line against the quote.
    import re
    from pycore.engines.ollama import memory_lines
    quote = entry("journalctl dump of Ollama 0.11.10", "ollama")["quote"]
    logged = [line for line in quote.splitlines() if re.match(r'msg="(model weights|kv cache|compute graph|total memory)"', line)]
    e = estimate(Scenario("gpt-oss-120b", weights="MXFP4", context=8192, engine="ollama",
                          gpu_memory_bytes=int(63.8 * GiB)))
    ours = memory_lines(e.engine_plan.gpus, e.engine_plan.host, "ROCm")
    shape = lambda line: re.sub(r'size="[^"]*"', "size", line)  # noqa: E731
    assert [shape(x) for x in ours] == [shape(x) for x in logged]  # same lines, devices and order
    assert 'msg="kv cache" device=ROCm0 size="450.0 MiB"' in ours  # exact
    size = lambda line: float(re.search(r'size="([0-9.]+) GiB"', line).group(1))  # noqa: E731
    assert abs(size(ours[-1]) - size(logged[-1])) <= 0.2  # total memory 61.4 GiB logged (weights within 0.2 %)
    assert 'library=rocm' in quote and e.engine_plan.log[0].startswith("msg=offload library=cuda")  # a custom GPU: CUDA
    rocm = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="ollama", gpu="mi300x")).engine_plan.log
    metal = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="ollama", gpu="m2-max-64gb")).engine_plan.log
    assert rocm[0].startswith("msg=offload library=rocm") and 'msg="kv cache" device=ROCm0' in "\n".join(rocm)
    # Ollama's vendored ggml names its one Metal device "Metal" (ggml-metal.cpp GGML_METAL_NAME, f560bd077^)
    assert metal[0].startswith("msg=offload library=metal") and 'msg="kv cache" device=Metal ' in "\n".join(metal)


@pytest.mark.parametrize("tp", [1, 2])
def test_vllm_llama3_8b_h100_budget(tp):
    # vllm-project/vllm#10511: Meta-Llama-3-8B bf16 on H100 (total_gpu_memory 79.22 GiB), utilization 0.9,
    # max_model_len 8192 and a profiling pass of 8,192 tokens (V0: max_num_batched_tokens = max_model_len).
    f = entry("vllm/pull/10511", "vllm")["figures"] if tp == 1 else \
        [e for e in json.loads(LOGS.read_text())["entries"] if e["engine"] == "vllm" and e["n_gpus"] == 2][0]["figures"]
    e = estimate(Scenario("llama-3-8b", weights="BF16", context=8192, engine="vllm", gpus=tp,
                          gpu_memory_bytes=f["total_gpu_memory_bytes"], gpu_memory_utilization=0.9,
                          max_num_batched_tokens=8192))
    p = e.engine_plan.fields
    assert abs(e.devices[0].weights - f["vllm_weights_bytes"]) / f["vllm_weights_bytes"] < 0.001
    assert abs(p["non_torch_bytes"] - f["vllm_non_torch_bytes"]) < 0.01 * GiB  # the logged figure, by TP size
    # "PyTorch activation peak memory 1.26GiB" at TP 1 and TP 2 alike: the peak is the sampler's dummy run over
    # 256 rows × 128,256 logits (gathered whole on every rank), not the MLP (which halves at TP 2). Our count of
    # the V1 sampler's tensors gives 32 B per logit = 0.98 GiB, 78 % of this V0 log (its sampler kept more).
    assert 0.75 < p["activation_peak_bytes"] / f["vllm_activation_peak_bytes"] < 0.85
    if tp == 1:
        assert abs(p["usable_bytes"] - f["vllm_usable_bytes"]) < 0.01 * GiB  # 71.29 GiB
        # available_kv_cache_memory 53.29 GiB: within 0.3 GiB (the activation peak's shortfall)
        assert abs(p["kv_cache_available_bytes"] - f["vllm_kv_available_bytes"]) < 0.3 * GiB


def test_vllm_sliding_window_shares_the_prefill_chunk():
    # gpt-oss-20b, two sequences: the step's tokens (max_num_batched_tokens) are shared by all running
    # sequences, so sliding layers need 2 × (127 + 16) + one chunk, not 2 × (127 + 16 + chunk).
    one = estimate(Scenario("gpt-oss-20b", weights="MXFP4", context=32768, engine="vllm", batch=1,
                            max_num_batched_tokens=2048))
    two = estimate(Scenario("gpt-oss-20b", weights="MXFP4", context=32768, engine="vllm", batch=2,
                            max_num_batched_tokens=2048))
    spec = one.model
    per_token = 2 * spec.num_kv_heads * spec.head_dim * 2
    n_sliding = spec.layer_types.count("sliding")
    n_full = spec.num_layers - n_sliding
    full = 32768 * per_token * n_full
    assert one.kv_cache.bytes == full + n_sliding * per_token * (-(-(127 + 16 + 2048) // 16) * 16)
    assert two.kv_cache.bytes == 2 * full + n_sliding * per_token * (-(-(2 * (127 + 16) + 2048) // 16) * 16)


# ---------------------------------------------------------------- Ollama: a vision model's projector

GEMMA3_27B_VISION = {"hidden_size": 1152, "image_size": 896, "intermediate_size": 4304,
                     "model_type": "siglip_vision_model", "num_attention_heads": 16, "num_hidden_layers": 27,
                     "patch_size": 14}  # https://huggingface.co/google/gemma-3-27b-it/blob/main/config.json


def test_ollama_gemma3_27b_vision_projector():
    # Ollama 0.9.6, gemma3 27B (Q4_K_M, --ollama-engine), num_ctx 4096 × 2 parallel on a 33.6 GiB ROCm iGPU (a log in
    # a public GitHub repository's notes; the search index did not record which):
    #   msg=offload ... layers.offload=63 ... memory.required.full="20.1 GiB" memory.required.kv="1.6 GiB"
    #   memory.weights.total="15.4 GiB" memory.weights.repeating="14.3 GiB" memory.weights.nonrepeating="1.1 GiB"
    #   memory.graph.full="565.0 MiB" memory.graph.partial="1.6 GiB" projector.weights="795.9 MiB"
    #   projector.graph="1.0 GiB"; msg="model weights" buffer=ROCm0 size="16.2 GiB", buffer=CPU size="1.1 GiB";
    #   msg="compute graph" backend=ROCm0 size="1.1 GiB"
    from pycore.engines.ollama import projector
    from pycore.importers.hf_config import spec_from_config
    from pycore.presets import PRESETS
    spec = spec_from_config({"model_type": "gemma3", "text_config": dict(PRESETS["gemma-3-27b"].config),
                             "vision_config": GEMMA3_27B_VISION})
    weights, graph, arch, loaded = projector(spec)
    # graph (fs/ggml/ggml.go VisionGraphSize, gemma3): patches (896 / 14)² = 4,096;
    # 4 × (896² × 3 + 1152 × 14 + 4096² × 16) = 4 × (2,408,448 + 16,128 + 268,435,456) = 1,083,440,128 B
    assert graph == 1_083_440_128 and arch == "gemma3"
    # weights: the "v." tensors unquantized; the projector's mm.* (1152 × 5376 f16 + 1152 f32) load but are not
    # in the estimate: 846,922,176 − 12,386,304 − 4,608 = 834,531,264 B = 795.87 MiB
    assert loaded - weights == 1152 * 5376 * 2 + 1152 * 4
    assert f"{weights / MiB:.1f}" == "795.9"
    e = estimate(Scenario(spec, weights="Q4_K_M", engine="ollama", context=4096, batch=2,
                          gpu_memory_bytes=int(33.6 * GiB)))
    line = e.engine_plan.log[0]
    for text in ('layers.offload=63', 'memory.required.full="20.1 GiB"', 'memory.required.kv="1.6 GiB"',
                 'memory.weights.total="15.4 GiB"', 'memory.graph.full="565.0 MiB"', 'memory.graph.partial="1.6 GiB"',
                 'projector.weights="795.9 MiB"', 'projector.graph="1.0 GiB"'):
        assert text in line, text
    assert f"{e.devices[0].weights / GiB:.1f}" == "16.2" and f"{e.host.weights / GiB:.1f}" == "1.1"
    # the runner's graph with a 2048 × 2048 image encoded: 1.1 GiB logged; the larger of the projector graph
    # (1.0 GiB) and the text graph (565 MiB) here, 9 % under
    assert 0.85 < e.devices[0].activations / (1.1 * GiB) < 1.0


def test_ollama_without_vision_prints_no_projector():
    e = estimate(Scenario("gemma-3-27b", weights="Q4_K_M", engine="ollama", context=4096, gpu="rtx-4090"))
    assert "projector" not in e.engine_plan.log[0]
    assert e.engine_plan.fields["projector_weights_bytes"] == 0


@pytest.mark.parametrize("tp", [4, 8])
def test_vllm_non_torch_memory_is_held_at_the_last_logged_point(tp):
    # vllm-project/vllm#10511 logs non_torch_memory 1.79 GiB at TP 1 and 3.58 GiB at TP 2 per H100 and nothing
    # beyond; it is the CUDA context plus communication buffers, not a cost that grows linearly with the TP size
    # (TP 8 × 1.79 would be 14.32 GiB per GPU). Beyond TP 2 the TP 2 figure is kept and the estimate says so.
    f = [e for e in json.loads(LOGS.read_text())["entries"] if e["engine"] == "vllm" and e["n_gpus"] == 2][0]["figures"]
    e = estimate(Scenario("llama-3.1-70b", weights="BF16", context=8192, engine="vllm", gpus=tp, gpu="h100-sxm"))
    assert abs(e.engine_plan.fields["non_torch_bytes"] - f["vllm_non_torch_bytes"]) < 0.01 * GiB
    # each GPU's overhead is that figure plus the rotary cos/sin cache it holds (131,072 × 128 × 2 B, vllm.py
    # rope_cache_bytes)
    assert e.engine_plan.fields["rope_cache_bytes"] == 131_072 * 128 * 2
    assert all(abs(d.overhead - 131_072 * 128 * 2 - f["vllm_non_torch_bytes"]) < 0.01 * GiB for d in e.devices)
    assert any("extrapolation beyond the logged points" in w and f"TP {tp}" in w for w in e.warnings)
    assert any("extrapolation" in n for n in e.overhead.notes)
    # at the logged TP sizes there is no such warning
    two = estimate(Scenario("llama-3.1-70b", weights="BF16", context=8192, engine="vllm", gpus=2, gpu="h100-sxm"))
    assert not any("extrapolation beyond the logged points" in w for w in two.warnings)


def test_vllm_estimated_maximum_model_length_is_block_granular():
    # vllm/v1/core/kv_cache_utils.py@bbf906a8 estimate_max_model_len binary-searches the largest L in 1..max_model_len
    # with max_memory_usage_bytes(L) <= available, and a full-attention layer needs cdiv(L, 16) pages of 16 tokens.
    # Llama 3.1 8B: a page over all 32 layers is 16 tokens × 131,072 B = 2,097,152 B, so L = ⌊available / 2 MiB⌋ × 16,
    # not available // 131,072 (the review's 47,359 against vLLM's 47,344 = 2,959 × 16 on an RTX 4090).
    e = estimate(Scenario("llama-3.1-8b", weights="BF16", context=131072, engine="vllm", gpu="rtx-4090"))
    available = e.engine_plan.fields["kv_cache_available_bytes"]
    expected = available // (16 * 131_072) * 16
    assert expected % 16 == 0 and expected * 131_072 <= available < (expected + 16) * 131_072
    (err,) = [line for line in e.engine_plan.log if line.startswith("ValueError")]
    assert f"the estimated maximum model length is {expected}." in err
    # a request of the estimated length fits (no error), one block more does not
    assert not any(line.startswith("ValueError") for line in estimate(Scenario(
        "llama-3.1-8b", weights="BF16", context=expected, engine="vllm", gpu="rtx-4090")).engine_plan.log)
    # nothing left for the cache: vLLM's first check says so instead (check_enough_kv_cache_memory)
    big = estimate(Scenario("llama-3.1-70b", weights="BF16", context=8192, engine="vllm", gpu="rtx-4090"))
    assert "ValueError: No available memory for the cache blocks." in " ".join(big.engine_plan.log)
