"""Warnings a new user's review found missing (2026-11-30): speeds for a model that does not fit, a context or a
depth beyond the model's window, the seed KV method's over-estimate. Each test fails without its warning."""
import json

from pycore.cli import run
from pycore.memory import estimate
from pycore.models import beyond_context
from pycore.presets import model
from pycore.scenario import Scenario


def test_bench_says_when_the_model_does_not_fit():
    # Llama 3.1 70B Q4_K_M is 39.59 GiB of weights (the bench table's size column): more than a 24 GB RTX 4090
    rows = json.loads(run(["bench", "--model", "llama-3.1-70b", "--weights", "Q4_K_M", "--gpu", "rtx-4090", "--json"]))
    assert all(r["fits"] is False and "does not fit" in r["warnings"][0] for r in rows)
    text = run(["bench", "--model", "llama-3.1-70b", "--weights", "Q4_K_M", "--gpu", "rtx-4090"])
    assert "Notes:" in text and "does not fit NVIDIA GeForce RTX 4090" in text
    # the 8B (4.58 GiB) fits: no warning
    rows = json.loads(run(["bench", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--gpu", "rtx-4090", "--json"]))
    assert all(r["fits"] is True and r["warnings"] == [] for r in rows)
    # 10 of 80 layers on the GPU (the rest in the host's 96 GiB): the 70B fits, as llama-bench -ngl 10 runs it
    rows = json.loads(run(["bench", "--model", "llama-3.1-70b", "--weights", "Q4_K_M", "--gpu", "rtx-4090",
                           "--ngl", "10", "--json"]))
    assert all(r["fits"] is True for r in rows)


def test_bench_depth_beyond_the_context_window():
    # Llama 3.1 8B: max_position_embeddings 131,072; -d 1,048,576 with tg128 reads a cache of 1,048,576 + 128
    rows = json.loads(run(["bench", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--gpu", "rtx-4090",
                           "-d", "1048576", "--ngl", "0", "--json"]))
    assert any("context window is 131,072 tokens" in w for w in rows[0]["warnings"])
    rows = json.loads(run(["bench", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--gpu", "rtx-4090",
                           "-d", "4096", "--json"]))
    assert rows[0]["warnings"] == []


def test_estimate_speed_block_carries_the_fit():
    d = json.loads(run(["estimate", "--model", "deepseek-v3", "--gpu", "rtx-4090", "--json"]))
    assert d["fit"]["fits"] is False and d["speed"]["fits"] is False
    assert "does not fit" in d["speed"]["warnings"][0] and d["speed"]["warnings"][0] in d["warnings"]
    d = json.loads(run(["estimate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--json"]))
    assert d["speed"]["fits"] is True and d["speed"]["warnings"] == []
    assert not any(w.startswith("Speed:") for w in d["warnings"])


def test_context_beyond_the_model_maximum_is_a_warning():
    # Llama 3.1 8B: 131,072 tokens (max_position_embeddings); 200,000 is 1.5× that
    e = estimate(Scenario("llama-3.1-8b", context=200_000, engine="vllm"))
    w = [x for x in e.warnings if "context window" in x]
    assert len(w) == 1 and "131,072 tokens: 200,000 is 1.5× that" in w[0]
    assert "VLLM_ALLOW_LONG_MAX_MODEL_LEN=1" in w[0]  # vllm/config/model.py _get_and_verify_max_len
    # Llama 2 7B on llama.cpp: 4,096 tokens; 16,384 warned, without vLLM's variable
    e = estimate(Scenario("llama-2-7b", context=16_384, engine="llama.cpp"))
    w = [x for x in e.warnings if "context window" in x]
    assert len(w) == 1 and "4.0× that" in w[0] and "VLLM" not in w[0]
    # at the maximum: nothing
    assert not any("context window" in x for x in estimate(Scenario("llama-2-7b", context=4096)).warnings)
    # in --json and in the text's Notes
    assert any("context window" in x for x in json.loads(run(["estimate", "--model", "llama-2-7b", "--context",
                                                               "16384", "--json"]))["warnings"])
    assert "context window is 4,096" in run(["estimate", "--model", "llama-2-7b", "--context", "16384"])


def test_examples_and_estimate_share_the_context_check():
    from pycore.seed import _context_note
    flags = []
    note = _context_note("llama-2-7b", 16_384, flags)
    assert flags == ["beyond-context"] and note.startswith(beyond_context(model("llama-2-7b"), 16_384))
    assert beyond_context(model("llama-2-7b"), 4096) == "" and _context_note("llama-2-7b", 4096, []) == ""


def test_seed_kv_method_reaches_the_warnings():
    # Llama 3.1 8B, 4,096 tokens, f16: the seed's 2 × 4,096 × 4,096 (hidden) × 32 layers × 2 B = 2 GiB; the exact
    # form 2 × 8 KV heads × 128 × 2 B × 32 layers × 4,096 = 512 MiB: 4.0× less (32 heads over 8 KV heads)
    e = estimate(Scenario("llama-3.1-8b", context=4096, kv_method="seed", engine="vllm"))
    assert e.kv_cache.bytes == 2 * 4096 * 4096 * 32 * 2
    w = [x for x in e.warnings if "seed's formula" in x]
    assert len(w) == 1 and "2.00 GiB" in w[0] and "512.00 MiB" in w[0] and "4.0×" in w[0]
    assert "seed's formula" in run(["estimate", "--model", "llama-3.1-8b", "--kv-method", "seed"]).split("Notes:")[1]
    assert not any("seed's formula" in x for x in estimate(Scenario("llama-3.1-8b", engine="vllm")).warnings)


def test_unified_memory_caps_ram():
    # Apple M2 8 GB: the CPU and GPU share 8 GiB; --ram 999 was taken as "unified memory 999 GiB"
    import pytest
    from pycore.cli import main
    from pycore.errors import InputError
    with pytest.raises(InputError, match="8.00 GiB of unified memory"):
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpu="m2-8gb", ram_bytes=999 << 30))
    assert main(["estimate", "--model", "llama-3.1-8b", "--gpu", "m2-8gb", "--ram", "999"]) == 2
    # less than the device's memory: what is free of it, used as the pool
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpu="m2-8gb", ram_bytes=6 << 30))
    assert e.fit.unified and e.fit.ram == 6 << 30
    assert e.fit.ram_headroom == (6 << 30) - e.total  # one pool: everything counts against it
    # other unified-memory devices too (DGX Spark: 128 GB LPDDR5X shared): the pool is the device's memory
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpu="dgx-spark"))
    assert e.fit.unified and e.fit.ram == e.fit.gpu.memory_bytes


def test_fit_on_an_8gb_mac_lists_only_what_fits_in_8gb():
    from pycore.cli import main
    from pycore.hardware import gpu
    from pycore.hwfirst import fit_table
    assert main(["fit", "--gpu", "m2-8gb", "--ram", "999"]) == 2  # listed Kimi K2 (348 GiB) before
    rows = fit_table(gpu("m2-8gb"), ram_bytes=8 << 30, context=4096)
    assert rows and all(r["total_bytes"] <= 8 << 30 for r in rows)  # was 13.3 GiB models at --ram 8
    assert not any(r["id"] == "kimi-k2" for r in rows)


def test_train_rows_give_one_quantity_per_column():
    # Llama 3.1 8B, ZeRO-1 over 8 A100s: bf16 weights 8,030,261,248 × 2 B = 16,060,522,496 B on each GPU
    # (14.96 GiB), 128,484,179,968 B on all 8; the row printed "14.96 GiB per GPU  128,484,179,968 B"
    text = run(["train", "--model", "llama-3.1-8b", "--zero", "1", "--gpus", "8", "--gpu", "a100-80gb"])
    lines = text.splitlines()
    head = next(line for line in lines if "all 8 GPUs" in line)
    assert head.split() == ["per", "GPU", "per", "GPU", "all", "8", "GPUs"]
    row = next(line for line in lines if line.startswith("Weights"))
    assert row.split()[1:] == ["14.96", "GiB", "16,060,522,496", "B", "128,484,179,968", "B"]
    # one GPU: no third column
    one = run(["train", "--model", "llama-3.1-8b", "--gpu", "a100-80gb"])
    assert next(line for line in one.splitlines() if line.startswith("Weights")).split()[1:] == [
        "14.96", "GiB", "16,060,522,496", "B"]


def test_llamacpp_log_names_the_backend_devices():
    # ggml's names: CUDA0/CUDA_Host (ggml-cuda.h GGML_CUDA_NAME), ROCm0/ROCm_Host (the same with GGML_USE_HIP),
    # Vulkan0/Vulkan_Host (ggml-vulkan.cpp GGML_VK_NAME), Metal's MTL0 with mmap-loaded weights in MTL0_Mapped and
    # no host buffer type, so the output buffer stays CPU (ggml-metal.cpp@0c1e5709 GGML_METAL_NAME "MTL"; older
    # builds printed "Metal"); the log always said CUDA before
    def log(gpu):
        e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpu=gpu))
        return "\n".join(e.engine_plan.log)
    rocm, metal, vulkan, cuda = log("mi300x"), log("m2-max-64gb"), log("arc-a380"), log("rtx-4090")
    assert "ROCm0 model buffer size" in rocm and "ROCm0 KV buffer size" in rocm and "ROCm_Host  output" in rocm
    assert "MTL0_Mapped model buffer size" in metal and "MTL0 KV buffer size" in metal
    assert "MTL0 compute buffer size" in metal and "CPU  output buffer" in metal and "_Host" not in metal
    assert "Vulkan0 KV buffer size" in vulkan and "Vulkan_Host compute buffer size" in vulkan
    assert "CUDA0 KV buffer size" in cuda and "CUDA_Host compute buffer size" in cuda
    assert not any("CUDA" in text for text in (rocm, metal, vulkan))


def test_bench_refuses_a_backend_the_device_does_not_run():
    from pycore.cli import main
    # Metal is Apple silicon's (ggml-metal); an RTX 4090 runs CUDA, Vulkan or the CPU backend
    assert main(["bench", "--model", "llama-2-7b", "--weights", "Q4_0", "--gpu", "rtx-4090", "--backend", "Metal"]) == 2
    assert main(["bench", "--model", "llama-2-7b", "--weights", "Q4_0", "--gpu", "m2-max-64gb", "--backend", "CUDA"]) == 2
    for ok in ("CUDA", "Vulkan"):
        assert json.loads(run(["bench", "--model", "llama-2-7b", "--weights", "Q4_0", "--gpu", "rtx-4090",
                               "--backend", ok, "--json"]))


def test_largest_ngl_is_given_when_only_zero_layers_fit():
    # a 0.3 GiB custom GPU: the llama.cpp runtime's 512 MiB alone is over it, yet with --ngl 0 the GPU holds
    # nothing and the estimate fits (no overhead on an empty GPU): the largest --n-gpu-layers is 0, not absent
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpu_memory_bytes=int(0.3 * (1 << 30))))
    assert e.engine_plan.fields["max_ngl_that_fits"] == 0
    assert estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", ngl=0,
                             gpu_memory_bytes=int(0.3 * (1 << 30)))).fit.fits
    assert "Largest --n-gpu-layers that fits: 0 of 33" in run(["estimate", "--model", "llama-3.1-8b", "--weights",
                                                                "Q4_K_M", "--engine", "llama.cpp", "--gpu-memory", "0.3"])


def test_engine_flags_for_another_engine_are_warned():
    e = estimate(Scenario("llama-3.1-8b", engine="vllm", gpu="h100-sxm", ngl=10, n_cpu_moe=2))
    w = [x for x in e.warnings if "not vLLM's settings" in x]
    assert len(w) == 1 and w[0].startswith("--ngl, --n-cpu-moe are not")
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="llama.cpp", gpu="rtx-4090",
                          gpu_memory_utilization=0.8, max_num_seqs=8))
    assert any(x.startswith("--gpu-memory-utilization, --max-num-seqs are not llama.cpp's settings") for x in e.warnings)
    # Ollama reads --ngl (num_gpu) but not --swa-full
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="ollama", gpu="rtx-4090", ngl=10, swa_full=True))
    assert any(x.startswith("--swa-full is not") for x in e.warnings)
    assert not any("--ngl" in x.split(" is not")[0] for x in e.warnings if " is not" in x)
    # nothing given: no such warning
    assert not any("settings: ignored" in x or "setting: ignored" in x
                   for x in estimate(Scenario("llama-3.1-8b", engine="vllm", gpu="h100-sxm")).warnings)


def test_gpu_memory_with_a_catalog_gpu_keeps_its_figures():
    # --gpu rtx-4090 --gpu-memory 20: a 20 GiB RTX 4090 (its 1,008 GB/s kept), not a "Custom GPU" with no speed
    d = json.loads(run(["estimate", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--gpu", "rtx-4090",
                        "--gpu-memory", "20", "--json"]))
    assert d["fit"]["memory_bytes"] == 20 << 30 and "RTX 4090" in d["fit"]["gpu_name"]
    assert d["speed"]["decode_tokens_per_s"] > 0
    assert any("--gpu-memory 20.00 GiB given with --gpu rtx-4090" in w for w in d["warnings"])
    # fit --gpu X --memory M: the device's bandwidth, so speeds are given (they were "-")
    rows = json.loads(run(["fit", "--gpu", "rtx-4090", "--memory", "48", "--json"]))
    assert rows and all(r["decode_tokens_per_s"] for r in rows)


def test_model_with_config_is_refused_not_silently_dropped(tmp_path):
    # --model llama-3.1-8b --config X estimated X's architecture under the preset's name in the command
    from pycore.cli import main
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 2048, "num_hidden_layers": 16,
                               "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 8192,
                               "vocab_size": 128256, "max_position_embeddings": 131072}))
    assert main(["estimate", "--model", "llama-3.1-8b", "--config", str(cfg)]) == 2
    assert main(["estimate", "--config", str(cfg)]) == 0


def test_ollama_names_a_kv_cache_type_it_does_not_have():
    # OLLAMA_KV_CACHE_TYPE takes f16, q8_0 and q4_0 (ollama docs/faq.md); fp8 is none of them, not a type that
    # "needs flash attention", which q8_0 without flash attention is
    from pycore import Scenario, estimate
    fp8 = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", kv="fp8", engine="ollama", gpu="rtx-4090"))
    assert any("Ollama has no fp8 KV cache" in w for w in fp8.warnings), fp8.warnings
    assert not any("needs flash attention" in w for w in fp8.warnings)
    q8 = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", kv="q8_0", engine="ollama", gpu="rtx-4090",
                           flash_attn="off"))
    assert any("OLLAMA_KV_CACHE_TYPE=q8_0 needs flash attention" in w for w in q8.warnings), q8.warnings
