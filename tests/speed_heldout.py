"""Published llama-bench results that are NOT in shared/reference/speed_dev.json: a held-out check of the speed
model. Nothing in pycore/speed.py is fitted on these rows (bench/speed.py --fit reads tests/speed_reference.py
only); bench/speed.py --heldout prints the error per backend on them and tests/test_speed.py bounds it.

One tuple per row: (catalog device, backend, preset, weights, test, tokens per second, source URL, note).
Transcribed from the source as printed (t/s column, mean of the runs where several are given).

Mapping and caveats, row group by row group:
- XiongjieDai/GPU-Benchmarks-on-LLM-Inference README, "LLaMA 3" tables (snapshots of May 2024; `llama-bench
  -p 512,1024,4096,8192 -n 512,1024,4096,8192` on RunPod, CUDA 12.1, and on Apple machines): Llama 3 8B
  Q4_K_M and F16, pp512 and tg512. "3080 10GB" is the RTX 3080 10GB; "M1 7-Core GPU 8GB" the 7-core M1;
  builds of May 2024, when CUDA prefill of K-quants went through dequantization + cuBLAS rather than today's MMQ.
- kyuz0/amd-strix-halo-toolboxes benchmark/results logs (llama-bench -ngl 999 -mmp 0, pp512 and tg128, builds
  6119–6486 of August–September 2025) on a Ryzen AI Max+ 395 (Framework Desktop, 128 GB): Llama 3.3 70B Q4_K_M
  on ROCm 7 RC (hipBLASLt) and Vulkan RADV, Qwen3-30B-A3B BF16 on ROCm 7 RC.
- ggml-org/llama.cpp#4766 (JohannesGaessler, January 2024, performance table of the PR): Tesla P40 and RTX 3090,
  llama 7B Q4_0 (P40) and F16 (RTX 3090) (Llama 2 7B), pp512 and tg128, the master column (the RTX 3090's Q4_0
  rows of that table are left out: speed_dev.json holds that device, model and test from a later build).
- ggml-org/llama.cpp#5835 (Nindaleth, 2024-03-03): RX 6700 XT, ROCm 6.0, "llama 7B Q4_0 3.83 GiB 7.24 B" =
  Mistral 7B Instruct v0.2 (same shapes as the mistral-7b-v0.1 preset; v0.2 changes RoPE theta and drops the
  sliding window, neither of which changes the bytes or FLOPs at these depths).
- ggml-org/llama.cpp#2059 (0cc4m, 2024-01-22): RX 6800 XT, llama 13B Q6_K (Llama 2 13B), ROCm pp512.
- ggml-org/llama.cpp#13506 (0cc4m, 2025-05-14): RTX 3090 on Vulkan with NV_coopmat2, llama 8B Q4_0
  (4.33 GiB, 8.03 B: Llama 3.1 8B), flash attention off and on.
- ggml-org/llama.cpp#12833 (jeffbolznv, 2025-04): RTX 3070 on Vulkan with NV_coopmat2, llama 8B Q4_K_M, fa 1.
- ggml-org/llama.cpp#7676 (June 2024, "CUDA: use tensor cores for MMQ") and #7860 (June 2024, "CUDA: int8 tensor
  cores for MMQ (q4_K, q5_K, q6_K)"), JohannesGaessler: RTX 4090, "llama 8B" (Llama 3 8B), microbatch 512, the PR
  column (merged): the int8 MMQ path this model assumes; the master column of the same tables (6,280 and 5,611
  t/s) is the dequantization + cuBLAS path of May 2024 that the XiongjieDai rows were measured on.
- ggml-org/llama.cpp#17505 (JohannesGaessler, November 2025): RTX 3090, llama 8B Q4_0 (Llama 3.1 8B), microbatch
  512, pp512 after 32,768 cached tokens (flash attention), the master column: prefill at depth.
- ggml-org/llama.cpp#26284 ("HIP: tune rdna 3 mmq configs", IMbackK): RX 7900 XTX on ROCm, llama 8B Q4_K_M
  (Llama 3.1 8B shapes), microbatch 512, the master column: pp2048 and tg64, from an empty cache and after 4,096
  tokens (RDNA3 MMQ of today).
- ggml-org/llama.cpp#16634 (mweinbach, 2025-10-25, the PR adding the Metal 4 tensor API): Apple M5 (10-core GPU,
  memory not stated: the 16 GB entry, same bandwidth and GPU), "llama 7B Q4_0 3.83 GiB 7.24 B" = Mistral 7B v0.1.
"""

_XD = "https://github.com/XiongjieDai/GPU-Benchmarks-on-LLM-Inference/blob/00dd2bdeb2404263f22bd6c1cd46ce397e341db5/README.md"
_KY = "https://github.com/kyuz0/amd-strix-halo-toolboxes/blob/{}/benchmark/results/{}"

ROWS = (
    # XiongjieDai, LLaMA 3, NVIDIA GPUs (May 2024)
    ("rtx-3070", "CUDA", "llama-3-8b", "Q4_K_M", "tg512", 72.79, _XD, "3070 8GB"),
    ("rtx-3070", "CUDA", "llama-3-8b", "Q4_K_M", "pp512", 2402.51, _XD, "3070 8GB"),
    ("rtx-3080", "CUDA", "llama-3-8b", "Q4_K_M", "tg512", 109.57, _XD, "3080 10GB"),
    ("rtx-3080", "CUDA", "llama-3-8b", "Q4_K_M", "pp512", 3728.86, _XD, "3080 10GB"),
    ("rtx-3080-ti", "CUDA", "llama-3-8b", "Q4_K_M", "tg512", 110.60, _XD, "3080 Ti 12GB"),
    ("rtx-3080-ti", "CUDA", "llama-3-8b", "Q4_K_M", "pp512", 3690.30, _XD, "3080 Ti 12GB"),
    ("rtx-4070-ti", "CUDA", "llama-3-8b", "Q4_K_M", "tg512", 83.50, _XD, "4070 Ti 12GB"),
    ("rtx-4070-ti", "CUDA", "llama-3-8b", "Q4_K_M", "pp512", 3936.29, _XD, "4070 Ti 12GB"),
    ("rtx-4080", "CUDA", "llama-3-8b", "Q4_K_M", "tg512", 108.15, _XD, "4080 16GB"),
    ("rtx-4080", "CUDA", "llama-3-8b", "Q4_K_M", "pp512", 5389.74, _XD, "4080 16GB"),
    ("rtx-4080", "CUDA", "llama-3-8b", "F16", "tg512", 40.58, _XD, "4080 16GB"),
    ("rtx-4080", "CUDA", "llama-3-8b", "F16", "pp512", 7246.97, _XD, "4080 16GB"),
    ("rtx-3090", "CUDA", "llama-3-8b", "Q4_K_M", "tg512", 115.42, _XD, "3090 24GB"),
    ("rtx-3090", "CUDA", "llama-3-8b", "Q4_K_M", "pp512", 4030.40, _XD, "3090 24GB"),
    ("rtx-3090", "CUDA", "llama-3-8b", "F16", "tg512", 47.40, _XD, "3090 24GB"),
    ("rtx-3090", "CUDA", "llama-3-8b", "F16", "pp512", 4444.65, _XD, "3090 24GB"),
    ("rtx-4090", "CUDA", "llama-3-8b", "Q4_K_M", "tg512", 130.58, _XD, "4090 24GB"),
    ("rtx-4090", "CUDA", "llama-3-8b", "Q4_K_M", "pp512", 7138.99, _XD, "4090 24GB"),
    ("rtx-4090", "CUDA", "llama-3-8b", "F16", "tg512", 54.84, _XD, "4090 24GB"),
    ("rtx-4090", "CUDA", "llama-3-8b", "F16", "pp512", 9382.00, _XD, "4090 24GB"),
    # XiongjieDai, LLaMA 3, Apple silicon (May 2024)
    ("m1-7c-8gb", "Metal", "llama-3-8b", "Q4_K_M", "tg512", 10.20, _XD, "M1 7-Core GPU 8GB"),
    ("m1-7c-8gb", "Metal", "llama-3-8b", "Q4_K_M", "pp512", 94.48, _XD, "M1 7-Core GPU 8GB"),
    ("m1-max-64gb", "Metal", "llama-3-8b", "Q4_K_M", "tg512", 35.73, _XD, "M1 Max 32-Core GPU 64GB"),
    ("m1-max-64gb", "Metal", "llama-3-8b", "Q4_K_M", "pp512", 408.23, _XD, "M1 Max 32-Core GPU 64GB"),
    ("m1-max-64gb", "Metal", "llama-3-8b", "F16", "tg512", 18.75, _XD, "M1 Max 32-Core GPU 64GB"),
    ("m1-max-64gb", "Metal", "llama-3-8b", "F16", "pp512", 517.34, _XD, "M1 Max 32-Core GPU 64GB"),
    ("m2-ultra-192gb", "Metal", "llama-3-8b", "Q4_K_M", "tg512", 78.81, _XD, "M2 Ultra 76-Core GPU 192GB"),
    ("m2-ultra-192gb", "Metal", "llama-3-8b", "Q4_K_M", "pp512", 994.04, _XD, "M2 Ultra 76-Core GPU 192GB"),
    ("m2-ultra-192gb", "Metal", "llama-3-8b", "F16", "tg512", 36.90, _XD, "M2 Ultra 76-Core GPU 192GB"),
    ("m2-ultra-192gb", "Metal", "llama-3-8b", "F16", "pp512", 1175.40, _XD, "M2 Ultra 76-Core GPU 192GB"),
    ("m3-max-64gb", "Metal", "llama-3-8b", "Q4_K_M", "tg512", 48.97, _XD, "M3 Max 40-Core GPU 64GB"),
    ("m3-max-64gb", "Metal", "llama-3-8b", "Q4_K_M", "pp512", 693.32, _XD, "M3 Max 40-Core GPU 64GB"),
    ("m3-max-64gb", "Metal", "llama-3-8b", "F16", "tg512", 22.04, _XD, "M3 Max 40-Core GPU 64GB"),
    ("m3-max-64gb", "Metal", "llama-3-8b", "F16", "pp512", 769.84, _XD, "M3 Max 40-Core GPU 64GB"),
    # kyuz0, Strix Halo (Ryzen AI Max+ 395, 128 GB), August–September 2025
    ("ryzen-ai-max-395-128gb", "ROCm", "llama-3.3-70b", "Q4_K_M", "pp512", 99.16,
     _KY.format("a9618d881b187672421405c24d167ddaae8dbda1", "llama3.3-70.6B-Q4_K_M__rocm7_rc.log"), "ROCm 7 RC, build 79c1160b"),
    ("ryzen-ai-max-395-128gb", "ROCm", "llama-3.3-70b", "Q4_K_M", "tg128", 4.62,
     _KY.format("a9618d881b187672421405c24d167ddaae8dbda1", "llama3.3-70.6B-Q4_K_M__rocm7_rc.log"), "ROCm 7 RC, build 79c1160b"),
    ("ryzen-ai-max-395-128gb", "Vulkan", "llama-3.3-70b", "Q4_K_M", "pp512", 78.99,
     _KY.format("8972ef01ff7998aa217649d4689aa7fc1cf4bbd4", "llama3.3-70.6B-Q4_K_M__vulkan_radv.log"), "RADV, build cd6983d5"),
    ("ryzen-ai-max-395-128gb", "Vulkan", "llama-3.3-70b", "Q4_K_M", "tg128", 5.00,
     _KY.format("8972ef01ff7998aa217649d4689aa7fc1cf4bbd4", "llama3.3-70.6B-Q4_K_M__vulkan_radv.log"), "RADV, build cd6983d5"),
    ("ryzen-ai-max-395-128gb", "ROCm", "qwen3-30b-a3b", "BF16", "pp512", 431.29,
     _KY.format("006aaa64e166f656a21ce115f010e8f4fb93f8a8", "Qwen3-30B-A3B-BF16-00001-of-00002__rocm7_rc.log"), "ROCm 7 RC, build f1fbffb5"),
    ("ryzen-ai-max-395-128gb", "ROCm", "qwen3-30b-a3b", "BF16", "tg128", 25.10,
     _KY.format("006aaa64e166f656a21ce115f010e8f4fb93f8a8", "Qwen3-30B-A3B-BF16-00001-of-00002__rocm7_rc.log"), "ROCm 7 RC, build f1fbffb5"),
    # llama.cpp pull requests
    ("p40", "CUDA", "llama-2-7b", "Q4_0", "pp512", 912.41, "https://github.com/ggml-org/llama.cpp/pull/4766", "P40, master"),
    ("p40", "CUDA", "llama-2-7b", "Q4_0", "tg128", 56.79, "https://github.com/ggml-org/llama.cpp/pull/4766", "P40, master"),
    ("rtx-3090", "CUDA", "llama-2-7b", "F16", "pp512", 4184.85, "https://github.com/ggml-org/llama.cpp/pull/4766", "master"),
    ("rtx-3090", "CUDA", "llama-2-7b", "F16", "tg128", 48.52, "https://github.com/ggml-org/llama.cpp/pull/4766", "master"),
    ("rx-6700-xt", "ROCm", "mistral-7b-v0.1", "Q4_0", "pp512", 1017.28, "https://github.com/ggml-org/llama.cpp/pull/5835",
     "Mistral 7B v0.2, ROCm 6.0"),
    ("rx-6700-xt", "ROCm", "mistral-7b-v0.1", "Q4_0", "tg128", 58.97, "https://github.com/ggml-org/llama.cpp/pull/5835",
     "Mistral 7B v0.2, ROCm 6.0"),
    ("rx-6800-xt", "ROCm", "llama-2-13b", "Q6_K", "pp512", 684.11, "https://github.com/ggml-org/llama.cpp/pull/2059", "ngl 99"),
    ("rtx-3090", "Vulkan", "llama-3.1-8b", "Q4_0", "pp512", 4278.92, "https://github.com/ggml-org/llama.cpp/pull/13506",
     "NV_coopmat2, fa 0"),
    ("rtx-3090", "Vulkan", "llama-3.1-8b", "Q4_0", "tg128", 103.23, "https://github.com/ggml-org/llama.cpp/pull/13506",
     "NV_coopmat2, fa 0"),
    ("rtx-3090", "Vulkan", "llama-3.1-8b", "Q4_0", "pp512", 4569.20, "https://github.com/ggml-org/llama.cpp/pull/13506",
     "NV_coopmat2, fa 1"),
    ("rtx-3090", "Vulkan", "llama-3.1-8b", "Q4_0", "tg128", 105.69, "https://github.com/ggml-org/llama.cpp/pull/13506",
     "NV_coopmat2, fa 1"),
    ("rtx-3070", "Vulkan", "llama-3.1-8b", "Q4_K_M", "pp512", 2607.34, "https://github.com/ggml-org/llama.cpp/pull/12833",
     "NV_coopmat2, fa 1"),
    ("rtx-4090", "CUDA", "llama-3-8b", "Q4_0", "pp512", 10358.75, "https://github.com/ggml-org/llama.cpp/pull/7676",
     "ubatch 512, PR column"),
    ("rtx-4090", "CUDA", "llama-3-8b", "Q4_K_S", "pp2048", 9278.55, "https://github.com/ggml-org/llama.cpp/pull/7860",
     "ubatch 512, PR column"),
    ("rtx-3090", "CUDA", "llama-3.1-8b", "Q4_0", "pp512@d32768", 1470.93, "https://github.com/ggml-org/llama.cpp/pull/17505",
     "ubatch 512, master column"),
    ("rx-7900-xtx", "ROCm", "llama-3.1-8b", "Q4_K_M", "pp2048", 3189.36, "https://github.com/ggml-org/llama.cpp/pull/26284",
     "ubatch 512, master column"),
    ("rx-7900-xtx", "ROCm", "llama-3.1-8b", "Q4_K_M", "pp2048@d4096", 2677.85,
     "https://github.com/ggml-org/llama.cpp/pull/26284", "ubatch 512, master column"),
    ("rx-7900-xtx", "ROCm", "llama-3.1-8b", "Q4_K_M", "tg64", 105.75, "https://github.com/ggml-org/llama.cpp/pull/26284",
     "ubatch 512, master column"),
    ("rx-7900-xtx", "ROCm", "llama-3.1-8b", "Q4_K_M", "tg64@d4096", 98.67, "https://github.com/ggml-org/llama.cpp/pull/26284",
     "ubatch 512, master column"),
    ("m5-16gb", "Metal", "mistral-7b-v0.1", "Q4_0", "pp512", 608.05, "https://github.com/ggml-org/llama.cpp/pull/16634",
     "Metal 4 tensor API branch"),
    ("m5-16gb", "Metal", "mistral-7b-v0.1", "Q4_0", "tg128", 26.59, "https://github.com/ggml-org/llama.cpp/pull/16634",
     "Metal 4 tensor API branch"),
)
