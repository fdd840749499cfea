"""KoboldCpp's rules (pycore/engines/koboldcpp.py) against published KoboldCpp logs and hand calculations.

KV buffers are exact arithmetic and tested exactly; the --gpulayers guess is KoboldCpp's own formula
(LostRuins/koboldcpp koboldcpp.py@000115dd autoset_gpu_layers), checked by hand and against a logged guess.
"""
import json
import subprocess
import sys

import pytest

from pycore import presets
from pycore.engines import koboldcpp
from pycore.errors import InputError
from pycore.formats import weight_format
from pycore.importers.hf_config import spec_from_config
from pycore.memory import estimate
from pycore.scenario import Scenario
from pycore.units import GiB, MiB


def hybrid_40():
    """The attention geometry the KoboldCpp logs below print for a Qwen3.5/3.6 MoE-class hybrid: 40 layers, every
    4th full attention (10 KV layers, "10 layers"), head dim 256 ("n_embd_head_k_all = 256"), 2 KV heads (K of
    8,448 cells × 10 layers in f16 = 82.50 MiB → 82.50 MiB / (8,448 × 10 × 256 × 2 B) = 2 heads), vocab 248,320
    (output buffer 0.95 MiB = 248,320 × 4 B). Built on the Qwen3.5-9B config with those figures; the KV cache and
    the output buffer depend on nothing else."""
    cfg = json.loads(json.dumps(presets.PRESETS["qwen3.5-9b"].config))  # a deep copy
    t = cfg["text_config"]
    t["num_hidden_layers"] = 40
    t["layer_types"] = (["linear_attention"] * 3 + ["full_attention"]) * 10
    t["num_key_value_heads"] = 2
    return spec_from_config(cfg, "hybrid-40")


def test_n_ctx_is_contextsize_plus_128_padded_to_256():
    # kcpp_src/gpttype_adapter.cpp@4fd0ceee: n_ctx = max_context_length + 128 (extra_context_handle_fragmentation),
    # then llama.cpp pads to 256. Logged n_ctx: 8448 (KoboldCpp 1.114.1, https://github.com/LostRuins/koboldcpp/issues/2330),
    # 12544 (1.117.1, https://github.com/LostRuins/koboldcpp/issues/2347), 150272 (https://github.com/LostRuins/koboldcpp/issues/1882).
    # By hand: 8192 + 128 = 8320 → ⌈8320 / 256⌉ = 33 → 8448; 12288 + 128 = 12416 → 49 × 256 = 12544;
    # 150000 + 128 = 150128 → 587 × 256 = 150272. (Within the launcher's context choices, 8192 and 12288 are the
    # only sizes that give the first two.)
    assert koboldcpp.n_ctx(8192) == 8448
    assert koboldcpp.n_ctx(12288) == 12544
    assert koboldcpp.n_ctx(150000) == 150272
    assert koboldcpp.n_ctx(4096) == 4352  # the default --contextsize 4096: 4224 → 17 × 256


def test_kv_buffer_hybrid_f16_8448_cells():
    # https://github.com/LostRuins/koboldcpp/issues/2330 (KoboldCpp 1.114.1, flash attention enabled, f16):
    #   llama_context:  CUDA_Host  output buffer size =     0.95 MiB
    #   llama_kv_cache:      CUDA0 KV buffer size =   165.00 MiB
    #   llama_kv_cache: size =  165.00 MiB (  8448 cells,  10 layers,  1/1 seqs), K (f16):   82.50 MiB, V (f16):   82.50 MiB
    # By hand: 8,448 cells × 10 layers × (K + V: 2 × 2 heads × 256 × 2 B = 2,048 B) = 173,015,040 B = 165.00 MiB.
    e = estimate(Scenario(hybrid_40(), weights="Q4_K_M", context=8192, engine="koboldcpp", gpu="rtx-4090",
                          flash_attn="on", ngl=99))
    assert e.engine_plan.fields["n_ctx"] == 8448
    assert e.devices[0].kv_cache == 173_015_040 == 165 * MiB
    assert e.host.kv_cache == 0
    assert round(e.host.output / MiB, 2) == 0.95  # 248,320 × 4 B = 993,280 B
    log = e.engine_plan.log
    assert "llama_kv_cache:      CUDA0 KV buffer size =   165.00 MiB" in log
    assert ("llama_kv_cache: size =  165.00 MiB (  8448 cells,  10 layers,  1/1 seqs), K (f16):   82.50 MiB, "
            "V (f16):   82.50 MiB") in log
    assert "llama_context: flash_attn = enabled" in log


def test_kv_buffer_q8_0_12544_cells_over_cpu_and_two_gpus():
    # https://github.com/LostRuins/koboldcpp/issues/2347 (KoboldCpp 1.117.1, q8_0 cache, flash attention, 2 GPUs,
    # some layers in RAM):
    #   llama_kv_cache:        CPU KV buffer size =    13.02 MiB
    #   llama_kv_cache:      CUDA0 KV buffer size =    65.08 MiB
    #   llama_kv_cache:      CUDA1 KV buffer size =    52.06 MiB
    #   llama_kv_cache: size =  130.16 MiB ( 12544 cells,  10 layers,  1/1 seqs), K (q8_0):   65.08 MiB, V (q8_0):   65.08 MiB
    # By hand: a q8_0 row of 2 × 256 = 512 values is 16 blocks × 34 B = 544 B; per attention layer K + V =
    # 12,544 × 2 × 544 = 13,647,872 B = 13.02 MiB; 10 layers = 136,478,720 B = 130.16 MiB, split 1 + 5 + 4 layers.
    # The split over the devices depends on --gpulayers and --tensor_split, which the excerpt does not give: the
    # total and the per-layer figure are tested.
    e = estimate(Scenario(hybrid_40(), weights="Q4_K_M", kv="q8_0", context=12288, engine="koboldcpp",
                          gpu="rtx-4090", gpus=2, ngl=36))
    assert e.engine_plan.fields["n_ctx"] == 12544
    assert e.engine_plan.fields["flash_attn"] is True  # a quantized cache turns it on (koboldcpp.py load_model)
    total = e.host.kv_cache + sum(d.kv_cache for d in e.devices)
    assert total == 136_478_720
    assert round(total / MiB, 2) == 130.16
    for b in [e.host.kv_cache] + [d.kv_cache for d in e.devices]:
        assert b % 13_647_872 == 0  # whole attention layers of 13.02 MiB each
    assert round(13_647_872 / MiB, 2) == 13.02 and round(5 * 13_647_872 / MiB, 2) == 65.08
    assert round(4 * 13_647_872 / MiB, 2) == 52.06


def test_kv_buffer_mistral_small_24b_150272_cells_on_two_gpus():
    # https://github.com/LostRuins/koboldcpp/issues/1882 (Cydonia-24B-v4zk-Q8_0.gguf, a Mistral Small 24B
    # fine-tune: 40 layers, 8 KV heads of 128; flash attention enabled, f16 cache, 41/41 layers on two GPUs):
    #   llama_context: n_ctx         = 150272
    #   llama_kv_cache:      CUDA0 KV buffer size =  9979.00 MiB
    #   llama_kv_cache:      CUDA1 KV buffer size = 13501.00 MiB
    #   llama_kv_cache: size = 23480.00 MiB (150272 cells,  40 layers,  1/1 seqs), K (f16): 11740.00 MiB, V (f16): 11740.00 MiB
    # n_ctx 150272 = pad(contextsize + 128, 256) for any --contextsize in (149888, 150144]: 150000 is taken.
    # By hand: per layer 150,272 × (K + V: 2 × 8 × 128 × 2 B = 4,096 B) = 615,514,112 B = 587.00 MiB;
    # 40 layers = 24,620,564,480 B = 23,480.00 MiB; CUDA0 holds 17 layers (9,979.00 MiB), CUDA1 23 (13,501.00 MiB).
    # The split follows the run's --tensor_split, which the excerpt does not give: the total and the per-layer
    # figure are tested, and that some whole-layer split gives both logged buffers.
    e = estimate(Scenario("mistral-small-24b", weights="Q8_0", context=150000, engine="koboldcpp", gpu="rtx-4090",
                          gpus=2, ngl=99))
    assert e.engine_plan.fields["n_ctx"] == 150272
    per_layer = 150272 * 4096
    assert e.kv_cache.bytes == 40 * per_layer == 24_620_564_480
    assert round(e.kv_cache.bytes / MiB, 2) == 23480.00
    assert all(d.kv_cache % per_layer == 0 for d in e.devices)  # whole layers per GPU
    assert round(17 * per_layer / MiB, 2) == 9979.00 and round(23 * per_layer / MiB, 2) == 13501.00
    assert ("llama_kv_cache: size = 23480.00 MiB (150272 cells,  40 layers,  1/1 seqs), K (f16): 11740.00 MiB, "
            "V (f16): 11740.00 MiB") in e.engine_plan.log


def test_auto_gpu_layers_by_hand():
    # koboldcpp.py@000115dd (KoboldCpp 1.102) autoset_gpu_layers for Llama 3.1 8B Q4_K_M, --contextsize 8192,
    # --batchsize 512, f16 cache, nothing else on the GPU (used = 0, reserved = 1.25 GiB = 1,342,177,280 B):
    #   fsize = 4,912,898,048 B (the GGUF's tensor bytes), csmul = 8192 / 4096 = 2
    #   ratio1 = gpumem / (4,912,898,048 × 2 × 1.6) = gpumem / 15,721,273,753.6
    #   mem1 = 32 × 4 × 128 × 8192 × 4 × 1.45 = 778,462,822.4; mem2 = 32 × 8 × 128 × 8192 × 4 × 1.15 = 1,234,803,097.6
    #   ratio2 = (gpumem − 1,342,177,280 − 778,462,822.4) / (4,912,898,048 + 1,234,803,097.6 = 6,147,701,145.6)
    # RTX 4090 (nvidia-smi total 24,564 MiB = 25,757,220,864 B): ratio2 = 3.8448 → min(int(123.0), 32 + 1) = 33
    spec, fmt = presets.model("llama-3.1-8b"), weight_format("Q4_K_M")
    assert koboldcpp.file_size(spec, fmt) == 4_912_898_048
    assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, 24564 * MiB) == 33
    # 6 GiB: ratio1 = 0.4098, ratio2 = 4,321,810,841.6 / 6,147,701,145.6 = 0.7030 → int(22.50) = 22
    assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, 6 * GiB) == 22
    # 6 GiB with a q8_0 cache: mem1 and mem2 divided by 1.6 (fattn_discount) → 486,539,264 and 771,751,936;
    # ratio2 = 4,613,734,400 / 5,684,649,984 = 0.8116 → int(25.97) = 25
    assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, 6 * GiB, "q8_0") == 25
    # 4 GiB: ratio1 = 0.2732, ratio2 = 0.3537 → int(11.32) = 11
    assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, 4 * GiB) == 11
    # 2 GiB: ratio2 = 0.0044, ratio1 = 0.1366 → int(4.37) = 4; 1 GiB: 0.0683 → 2, and 2 or less means 0
    assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, 2 * GiB) == 4
    assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, 1 * GiB) == 0


def test_auto_gpu_layers_against_a_logged_guess():
    # https://github.com/LostRuins/koboldcpp/issues/1527 (KoboldCpp 1.90.2, RTX 3090, "Detected Free GPU Memory:
    # 24576 MB", Qwen3-30B-A3B-Q8_0.gguf, contextsize 4096, blasbatchsize 512): "Auto Recommended GPU Layers: 33".
    # By hand (1.102's constants): fsize 32,477,962,240 B, csmul 1.2 (4096 > 2048);
    #   ratio1 = 25,769,803,776 / (32,477,962,240 × 1.2 × 1.6) = 0.4133
    #   ratio2 = (25,769,803,776 − 1,342,177,280 − 48 × 4 × 128 × 4096 × 4 × 1.45)
    #            / (32,477,962,240 + 48 × 4 × 128 × 4096 × 4 × 1.15)
    #          = (25,769,803,776 − 1,342,177,280 − 583,847,116.8) / (32,477,962,240 + 463,051,161.6) = 0.7238
    #   → int(34.74) = 34 layers.
    # 1.90.2 printed 33: its constants are an earlier set (1.76's reserve 1.5 GiB and factors 1.55, 1.5 and 1.1
    # give 34 as well), and the real file carries its header: one layer apart.
    spec, fmt = presets.model("qwen3-30b-a3b"), weight_format("Q8_0")
    guess = koboldcpp.auto_gpu_layers(spec, fmt, 4096, 512, 24576 * MiB)
    assert guess == 34
    assert abs(guess - 33) <= 1
    e = estimate(Scenario("qwen3-30b-a3b", weights="Q8_0", context=4096, engine="koboldcpp", gpu="rtx-3090"))
    assert e.engine_plan.fields["auto_gpu_layers"] == koboldcpp.auto_gpu_layers(
        spec, fmt, 4096, 512, e.fit.gpu.usable_bytes)
    assert e.engine_plan.log[0].startswith("Auto Recommended GPU Layers: ")
    assert any("autoset_gpu_layers" in w for w in e.warnings)


def test_defaults_follow_llama_cpp_with_koboldcpps_settings():
    # one sequence of 4096 + 128 tokens, n_ubatch 512 (--batchsize), flash attention on (its newest default): the
    # same buffers as llama.cpp's rules at -c 4224 -ub 512 -fa on with the same layers
    k = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, engine="koboldcpp", gpu="rtx-4090", ngl=20))
    ll = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096 + 128, engine="llama.cpp", gpu="rtx-4090",
                           ngl=20, flash_attn="on"))
    assert k.engine_plan.fields["n_ctx"] == ll.engine_plan.fields["n_ctx"] == 4352
    assert k.engine_plan.fields["flash_attn"] is True
    # --gpulayers 20 = the output layer + 19 blocks: 19 × 4352 cells × (K + V: 2 × 8 heads × 128 × 2 B)
    assert k.devices[0].kv_cache == ll.devices[0].kv_cache == 19 * 4352 * 2 * 8 * 128 * 2 == 338_690_048
    assert k.devices[0].activations == ll.devices[0].activations
    assert k.host.total == ll.host.total
    assert "llama_context: flash_attn = enabled" in k.engine_plan.log
    assert any("Flash attention is on, KoboldCpp's default" in w for w in k.warnings)
    assert not any("not KoboldCpp's setting" in w for w in k.warnings)  # --ngl is its --gpulayers
    off = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=4096, engine="koboldcpp", gpu="rtx-4090",
                            ngl=20, flash_attn="off"))
    assert "llama_context: flash_attn = disabled" in off.engine_plan.log


def test_macos_offloads_every_layer_without_a_guess():
    # koboldcpp.py@2da346a5 main: `elif args.gpulayers==-1 and sys.platform=="darwin"`: "MacOS detected: Auto GPU
    # layers set to maximum", args.gpulayers = 200 (more than any model's layers: all of them)
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=8192, engine="koboldcpp", gpu="m4-max-64gb"))
    assert e.engine_plan.fields["auto_gpu_layers"] is None
    assert e.engine_plan.fields["layers_on_gpu"] == 33
    assert e.engine_plan.log[0] == "MacOS detected: Auto GPU layers set to maximum"


def test_blasbatchsize_is_not_cut_to_2048():
    # n_batch = n_ubatch = --batchsize (gpttype_adapter.cpp@4fd0ceee GetBatchSize; #1882 logs n_batch 4096,
    # n_ubatch 4096): llama.cpp's cut of n_ubatch to its default n_batch 2048 does not apply
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=16384, engine="koboldcpp", gpu="rtx-4090",
                          ubatch=4096, ngl=99))
    assert e.engine_plan.fields["n_ubatch"] == 4096
    assert not any("cuts n_ubatch" in w for w in e.warnings)


def test_quantized_cache_types_and_refusals():
    assert estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", kv="q5_1", engine="koboldcpp")).engine_plan.fields[
        "flash_attn"] is True
    with pytest.raises(InputError, match="KoboldCpp has no fp8 KV cache"):
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", kv="fp8", engine="koboldcpp"))
    with pytest.raises(InputError, match="quantizes only the K cache"):  # koboldcpp.py@000115dd load_model
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", kv="q8_0", engine="koboldcpp", flash_attn="off"))
    assert estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", kv="bf16", engine="koboldcpp", flash_attn="off"))
    with pytest.raises(InputError, match="one sequence"):
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", batch=2, engine="koboldcpp"))


def test_tensor_split_is_applied():
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="koboldcpp", gpu="rtx-4090", gpus=2, ngl=99,
                          tensor_split=(3, 1)))
    assert e.engine_plan.fields["layers_per_gpu"] == [25, 8]  # llama.cpp's split points, as --tensor_split 3 1
    assert not any("--tensor-split is llama.cpp's own setting" in w for w in e.warnings)


def test_cli_engine_koboldcpp():
    p = subprocess.run([sys.executable, "-m", "pycore", "estimate", "--model", "llama-3.1-8b", "--weights", "Q4_K_M",
                        "--context", "8192", "--gpu", "rtx-4090", "--engine", "koboldcpp", "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["engine"]["name"] == "koboldcpp" and d["engine"]["n_ctx"] == 8448
    assert d["engine"]["auto_gpu_layers"] == 33 and d["engine"]["layers_on_gpu"] == 33
    p = subprocess.run([sys.executable, "-m", "pycore", "estimate", "--model", "llama-3.1-8b", "--weights", "Q4_K_M",
                        "--engine", "koboldcpp", "--batch", "4"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1


def test_auto_gpu_layers_reads_the_gguf_as_koboldcpp_does():
    # read_gguf_metadata reads head_count_kv as one uint32: the hybrids' converters write a per-layer array
    # (pycore.gguf_recipes.PER_LAYER_KV_ARCHS), which it reads as 0, so only ratio1 = gpumem / (fsize × csmul × 1.6)
    # is used; a review found the config's KV heads used instead (Jamba 1.5 Mini: 10 layers where KoboldCpp's own
    # rule gives 4). RTX 3060 (12 GiB as its usable memory here), --contextsize 8192 (csmul 2), --batchsize 512:
    gpu = 12 * GiB
    for model in ("jamba-1.5-mini", "nemotron-h-8b", "granite-4.0-h-tiny", "kimi-linear-48b-a3b"):
        spec, fmt = presets.model(model), weight_format("Q4_K_M")
        ratio1 = gpu / (koboldcpp.file_size(spec, fmt) * 2 * 1.6)
        expected = min(int(ratio1 * spec.num_layers), spec.num_layers + 1)
        assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, gpu) == (0 if expected <= 2 else expected), model
    # DeepSeek's MLA files write head_count_kv 1 and key_length 576 (kv_lora_rank 512 + qk_rope_head_dim 64):
    # mem1 = 27 × 4 × 576 × 8192 × 4 × 1.45, mem2 = 27 × 1 × 576 × 8192 × 4 × 1.15 for DeepSeek-V2-Lite's 27 layers
    spec, fmt = presets.model("deepseek-v2-lite"), weight_format("Q4_K_M")
    fsize = koboldcpp.file_size(spec, fmt)
    mem1, mem2 = 27 * 4 * 576 * 8192 * 4 * 1.45, 27 * 1 * 576 * 8192 * 4 * 1.15
    ratio = max(gpu / (fsize * 2 * 1.6), (gpu - 1.25 * GiB - mem1) / (fsize + mem2))
    assert koboldcpp.auto_gpu_layers(spec, fmt, 8192, 512, gpu) == min(int(ratio * 27), 28)


@pytest.mark.parametrize("flags,field", [(dict(ubatch=8192), "ubatch"), (dict(ubatch=300), "ubatch"),
                                         (dict(context=100), "context"), (dict(context=300_000), "context")])
def test_values_koboldcpp_refuses_are_refused(flags, field):
    # koboldcpp.py@000115dd argparse: --batchsize choices -1, 16, 32, ..., 4096; --contextsize check_range 256..262144
    s = Scenario("llama-3.1-8b", weights="Q4_K_M", engine="koboldcpp", gpu="rtx-3060", **flags)
    with pytest.raises(InputError) as err:
        estimate(s)
    assert err.value.field == field and "KoboldCpp" in err.value.message
    assert estimate(s.with_(ubatch=4096 if field == "ubatch" else None, context=262144 if field == "context"
                            else 4096)).total > 0


def test_a_negative_ngl_says_to_leave_it_out():
    # KoboldCpp users write --gpulayers -1 for its guess; here that is --ngl left out
    p = subprocess.run([sys.executable, "-m", "pycore", "estimate", "--model", "llama-3.1-8b", "--engine", "koboldcpp",
                        "--ngl", "-1"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "leave --ngl out" in p.stderr and "Traceback" not in p.stderr


def test_a_prefill_chunk_stands_for_batchsize_and_is_checked_as_it():
    # --prefill-chunk is KoboldCpp's --batchsize when --ubatch is not given: a value outside its choices is refused
    with pytest.raises(InputError) as err:
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="koboldcpp", gpu="rtx-3060", prefill_chunk=300))
    assert err.value.field == "prefill_chunk" and "--batchsize" in err.value.message
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="koboldcpp", gpu="rtx-3060", prefill_chunk=256))
    assert e.engine_plan.fields["n_ubatch"] == 256
