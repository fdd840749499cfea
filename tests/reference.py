"""Published figures the tests check pycore against, transcribed with their sources.

Most come from the project's reference set (shared/reference/*.json), which cites each one:
byte-exact GGUF file sizes, llama.cpp CI logs and engine logs. They are independent of pycore:
nothing here was computed by the code under test.
"""
from pycore.units import GiB, MiB

# TheBloke GGUF file sizes in bytes (leliuga/cohere-configurations models/Llama-2-7B/manifest.yaml
# and models/Mistral-7B-v0.1/manifest.yaml @84408edf, variants.*.artifacts[].size). Files were made
# by llama.cpp in Sep 2023, so they follow the rules of that era (see gguf_recipes "2023").
THEBLOKE_GGUF_BYTES = {
    "llama-2-7b": {
        "Q2_K": 2825940672, "Q3_K_L": 3597110976, "Q3_K_M": 3298004672, "Q3_K_S": 2948304576,
        "Q4_0": 3825807040, "Q4_K_M": 4081004224, "Q4_K_S": 3856740032, "Q5_0": 4651691712,
        "Q5_K_M": 4783156928, "Q5_K_S": 4651691712, "Q6_K": 5529194176, "Q8_0": 7161089728,
    },
    "mistral-7b-v0.1": {
        "Q2_K": 3083097728, "Q3_K_L": 3822024320, "Q3_K_M": 3518985856, "Q3_K_S": 3164567168,
        "Q4_0": 4108916352, "Q4_K_M": 4368438912, "Q4_K_S": 4140373632, "Q5_0": 4997715584,
        "Q5_K_M": 5131409024, "Q5_K_S": 4997715584, "Q6_K": 5942064768, "Q8_0": 7695857280,
    },
}

# llama.cpp CI, Pythia 1.4B, build 4822 (ggml-org/ci llama.cpp/20/a9b8f5e1.../ggml-100-mac-m4/README.md
# @5ac8a446): "print_info: file size = ... (... BPW)" is the sum of tensor bytes, with the type counts.
PYTHIA_CI = {  # preset: (printed size in bytes' unit, unit, printed tensor type counts)
    "Q4_0": (786.31, MiB, {"F32": 194, "Q4_0": 97, "Q6_K": 1}),
    "Q5_0": (942.60, MiB, {"F32": 194, "Q5_0": 97, "Q6_K": 1}),
    "Q5_1": (1020.74, MiB, {"F32": 194, "Q5_1": 97, "Q6_K": 1}),
    "Q8_0": (1.40, GiB, {"F32": 194, "Q8_0": 98}),
    "Q2_K": (542.04, MiB, {"F32": 194, "Q2_K": 49, "Q3_K": 48, "Q6_K": 1}),
    "Q3_K_M": (724.27, MiB, {"F32": 194, "Q3_K": 25, "Q4_K": 71, "Q5_K": 1, "Q6_K": 1}),
    "Q4_K_M": (871.81, MiB, {"F32": 194, "Q4_K": 61, "Q5_K": 24, "Q6_K": 13}),
    "Q5_K_M": (1006.35, MiB, {"F32": 194, "Q5_K": 61, "Q6_K": 37}),
    "Q6_K": (1.08, GiB, {"F32": 194, "Q6_K": 98}),
}

# llama.cpp tools/quantize/README.md @311c2c9f, table for meta-llama/Llama-3.1-8B:
# bits per weight as printed by llama.cpp (tensor bytes × 8 / parameters) and size in GiB. Made with
# an importance matrix for the IQ types.
LLAMA31_8B_README = {
    "Q2_K_S": (2.9697, 2.78), "Q2_K": (3.1593, 2.95), "Q3_K_S": (3.6429, 3.41), "Q3_K_L": (4.2979, 4.02),
    "Q4_K_S": (4.6672, 4.36), "Q4_K_M": (4.8944, 4.58), "Q5_K_S": (5.5704, 5.21), "Q5_K_M": (5.7036, 5.33),
    "Q6_K": (6.5633, 6.14), "Q8_0": (8.5008, 7.95), "IQ4_XS": (4.4597, 4.17), "IQ4_NL": (4.6818, 4.38),
    "IQ3_M": (3.7628, 3.52), "IQ3_S": (3.6606, 3.42), "IQ3_XS": (3.4977, 3.27), "IQ3_XXS": (3.2548, 3.04),
    "IQ2_M": (2.9294, 2.74), "IQ2_S": (2.7403, 2.56), "IQ2_XS": (2.5882, 2.42), "IQ2_XXS": (2.3824, 2.23),
    "IQ1_M": (2.146, 2.01), "IQ1_S": (2.0042, 1.87),
}

# Logged KV-cache sizes (shared/reference/measured_dev.json).
# llama.cpp CI (same log as above): Pythia 1.4B, n_ctx 2048, f16: "KV self size = 384.00 MiB,
# K (f16): 192.00 MiB, V (f16): 192.00 MiB"; n_ctx 128: "24.00 MiB".
PYTHIA_KV = {2048: 384 * MiB, 128: 24 * MiB}
# The same log: bge-small (BERT, 12 layers, n_embd 384), n_ctx 512: "KV self size = 9.00 MiB".
BGE_SMALL_KV_512 = 9 * MiB
# vLLM (vllm-project/vllm#10517): Llama-3.1-8B-Instruct on an RTX 3090, "GPU blocks: 1952" of 16 tokens
# and "kv_cache_size=3.81GiB": 1952 × 16 tokens hold 3.81 GiB, i.e. 131,072 B per token to within rounding.
VLLM_LLAMA31_8B = {"blocks": 1952, "block_tokens": 16, "kv_cache_gib": 3.81,
                   "weights_gib": 14.9888, "peak_torch_gib": 17.06, "max_model_len": 20000}

# llama.cpp compute buffers in the same CI log: Pythia n_ctx 2048 (n_ubatch 512): 102.25 MiB;
# n_ctx 128 with n_batch = n_ubatch = 128: 25.56 MiB.
PYTHIA_COMPUTE_BUFFER = {(2048, 512): 102.25 * MiB, (128, 128): 25.56 * MiB}
