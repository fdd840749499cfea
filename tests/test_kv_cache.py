"""KV cache against sizes logged by real engines, and the architecture cases the seed's formula misses."""
from pycore.memory import estimate
from pycore.models import ModelSpec
from pycore.scenario import Scenario
from pycore.units import GiB, MiB
from reference import BGE_SMALL_KV_512, PYTHIA_KV, VLLM_LLAMA31_8B


def kv(model, context, batch=1, kv="f16", engine="transformers", **kw):
    return estimate(Scenario(model, weights="FP16", kv=kv, context=context, batch=batch, engine=engine, **kw)).kv_cache.bytes


def test_pythia_llama_cpp_log():
    # "llama_kv_cache_init: kv_size = 2048 ... KV self size = 384.00 MiB, K (f16): 192.00 MiB"
    assert kv("pythia-1.4b", 2048, engine="llama.cpp") == PYTHIA_KV[2048] == 384 * MiB
    # n_ctx 128: "KV self size = 24.00 MiB" — 128 cells. Build 4822 padded the context to 32 cells
    # without flash attention; llama.cpp since PR #17046 (Nov 2025) pads to 256, so today's
    # llama.cpp allocates twice that. The architecture's own figure is the logged one.
    assert kv("pythia-1.4b", 128) == PYTHIA_KV[128]
    assert kv("pythia-1.4b", 128, engine="llama.cpp") == 2 * PYTHIA_KV[128]


def test_bert_embedding_model_log():
    # bge-small (12 layers, n_embd 384, 12 heads) at n_ctx 512: "KV self size = 9.00 MiB"
    bge = ModelSpec(name="bge-small", arch="bert", vocab_size=30522, hidden_size=384, num_layers=12, num_heads=12,
                    num_kv_heads=12, head_dim=32, intermediate_size=1536, max_context=512)
    assert kv(bge, 512, engine="llama.cpp") == BGE_SMALL_KV_512


def test_vllm_blocks_log():
    # vLLM: 1952 blocks × 16 tokens for Llama 3.1 8B = "kv_cache_size=3.81GiB": 131,072 B per token
    # = 2 × 32 layers × 8 KV heads × 128 × 2 B (GQA, not 2 × 4096 × 32 × 2).
    tokens = VLLM_LLAMA31_8B["blocks"] * VLLM_LLAMA31_8B["block_tokens"]
    size = kv("llama-3.1-8b", tokens, engine="vllm")
    assert size == tokens * 131_072
    assert round(size / GiB, 2) == VLLM_LLAMA31_8B["kv_cache_gib"]


def test_explicit_head_dim_is_used():
    # Mistral NeMo: hidden 5120 / 32 heads = 160, but the config says head_dim 128.
    # 2 × 40 layers × 8 KV heads × 128 × 2 B = 163,840 B per token.
    assert kv("mistral-nemo-12b", 1000) == 1000 * 163_840


def test_mla_caches_the_latent_without_a_factor_two():
    # DeepSeek-V3 on llama.cpp and vLLM: (512 + 64) values per token per layer, 61 layers, 2 B: 70,272 B
    # per token, not 2 × 128 heads × 192 × 61 × 2 B. (4096 is a whole number of llama.cpp's 256-cell pads
    # and of vLLM's 16-token blocks.)
    assert kv("deepseek-v3", 4096, engine="llama.cpp") == 4096 * 576 * 61 * 2
    assert kv("deepseek-v3", 4096, engine="vllm") == 4096 * 576 * 61 * 2


def test_transformers_caches_mla_expanded_per_head():
    # Hugging Face transformers expands the latent with kv_b_proj and caches per-head K (qk_nope 128 +
    # qk_rope 64 = 192) and V (v_head_dim 128): src/transformers/models/deepseek_v2/modeling_deepseek_v2.py
    # @0233e509 DeepseekV2Attention.forward, past_key_values.update(key_states, value_states) with
    # key_states (batch, heads, seq, 192) and value_states (batch, heads, seq, 128); deepseek_v3 @00b676f8 alike.
    # DeepSeek-V2-Lite (16 heads, 27 layers), 32,768 tokens, f16:
    #   16 heads × (192 + 128) values × 2 B = 10,240 B per token and layer
    #   × 27 layers × 32,768 tokens = 9,059,696,640 B = 8.4375 GiB (the latent would be 576 × 2 × 27 × 32,768
    #   = 1,019,215,872 B = 972 MiB).
    assert kv("deepseek-v2-lite", 32768) == 16 * (192 + 128) * 2 * 27 * 32768 == 9_059_696_640
    assert kv("deepseek-v2-lite", 32768, engine="llama.cpp") == 576 * 2 * 27 * 32768
    # DeepSeek-V3 (128 heads, 61 layers) over 8 GPUs: heads split, 16 per GPU: 16 × 320 × 2 B × 61 × 4096.
    e = estimate(Scenario("deepseek-v3", weights="FP16", context=4096, gpus=8, engine="transformers"))
    assert [d.kv_cache for d in e.devices] == [16 * 320 * 2 * 61 * 4096] * 8
    assert any("not the 576-value latent" in n for n in e.kv_cache.notes)


def test_mla_is_replicated_under_tensor_parallelism():
    one = estimate(Scenario("deepseek-v3", weights="FP8-block", context=4096))
    eight = estimate(Scenario("deepseek-v3", weights="FP8-block", context=4096, gpus=8, gpu="h200"))
    assert all(d.kv_cache == one.kv_cache.bytes for d in eight.devices)


def test_gqa_heads_split_then_replicated():
    # Llama 3.1 8B has 8 KV heads: over 2 GPUs each holds 4; over 16 (if the heads allowed it) each
    # would hold one. 32 query heads allow tp 32: 8 KV heads are then replicated 4×.
    base = kv("llama-3.1-8b", 4096)
    two = estimate(Scenario("llama-3.1-8b", context=4096, gpus=2, engine="transformers"))
    assert [d.kv_cache for d in two.devices] == [base // 2, base // 2]
    many = estimate(Scenario("llama-3.1-8b", context=4096, gpus=32, engine="transformers"))
    assert all(d.kv_cache == base // 8 for d in many.devices)


def test_sliding_window_layers_stop_at_the_window():
    # Gemma 2 9B: 21 of 42 layers slide over 4096 tokens. Per layer and token: 2 × 8 × 256 × 2 = 8,192 B.
    per_layer_token = 2 * 8 * 256 * 2
    assert kv("gemma-2-9b", 8192) == 21 * 8192 * per_layer_token + 21 * 4096 * per_layer_token
    # Mistral 7B v0.1 slides on every layer: beyond 4096 tokens the cache does not grow.
    assert kv("mistral-7b-v0.1", 32768) == kv("mistral-7b-v0.1", 4096)


def test_gpt_oss_engines_keep_slack_beyond_the_window():
    # gpt-oss-20b: 12 sliding layers (128 tokens) and 12 full layers, 8 KV heads × 64 dims.
    per = 2 * 8 * 64 * 2
    ctx = 8192
    assert kv("gpt-oss-20b", ctx) == 12 * ctx * per + 12 * 128 * per
    # llama.cpp keeps window + n_ubatch cells, padded to 256: 128 + 512 -> 768 (llama-kv-cache-iswa.cpp)
    assert kv("gpt-oss-20b", ctx, engine="llama.cpp") == 12 * ctx * per + 12 * 768 * per
    # vLLM: window - 1 + chunk tokens rounded to 16-token blocks, plus one block (kv_cache_interface.py)
    chunk = 2048
    assert kv("gpt-oss-20b", ctx, engine="vllm") == 12 * ctx * per + 12 * ((128 - 1 + chunk + 15) // 16 * 16 + 16) * per


def test_quantized_kv_carries_block_scales():
    # q8_0: 34 bytes per 32 values. Llama 3.1 8B K row = 8 × 128 = 1024 values = 32 blocks = 1088 B.
    # (llama.cpp's types on llama.cpp, 1024 = 4 × its 256-cell pad; FP8 on vLLM, 1024 = 64 blocks of 16)
    assert kv("llama-3.1-8b", 1024, kv="q8_0", engine="llama.cpp") == 1024 * 32 * 2 * 1088
    assert kv("llama-3.1-8b", 1024, kv="q4_0", engine="llama.cpp") == 1024 * 32 * 2 * 32 * 18
    assert kv("llama-3.1-8b", 1024, kv="fp8", engine="vllm") == 1024 * 32 * 2 * 1024


def test_seed_method_is_the_mha_case():
    # For multi-head attention (Llama 2 7B: 32 KV heads of 128 = hidden 4096) both forms agree.
    exact = kv("llama-2-7b", 4096)
    seed = estimate(Scenario("llama-2-7b", context=4096, kv_method="seed", engine="transformers")).kv_cache.bytes
    assert exact == seed == 2 * 1 * 4096 * 4096 * 32 * 2


def test_vllm_kv_line_gives_its_cells_and_layers():
    # vLLM's KV line names the cells and layers it sizes, never "no attention layers" for a model that has them.
    # Llama 3.1 8B, one 4,096-token sequence (256 blocks of 16): per layer and token K + V = 2 × 8 KV heads × 128
    # × 2 B = 4,096 B; × 32 layers × 4,096 tokens = 536,870,912 B. At TP 2 each GPU keeps 4 KV heads: 268,435,456 B.
    one = estimate(Scenario("llama-3.1-8b", weights="BF16", context=4096, engine="vllm", gpu="h100-sxm"))
    assert "full attention: 4,096 cells × 32 layers = 536,870,912 B" in one.kv_cache.substituted
    assert one.kv_cache.bytes == 4096 * 32 * 2 * 8 * 128 * 2
    two = estimate(Scenario("llama-3.1-8b", weights="BF16", context=4096, engine="vllm", gpu="h100-sxm", gpus=2))
    assert "full attention, each GPU: 4,096 cells × 32 layers = 268,435,456 B" in two.kv_cache.substituted
    # Gemma 2 9B at 8,192 tokens with max_num_batched_tokens 2,048: the 21 sliding layers keep (4,096 − 1 + 16)
    # + 2,048 = 6,159 tokens, rounded up to 16-token blocks: 6,160 (SlidingWindowSpec.max_memory_usage_bytes);
    # per layer and token 2 × 8 × 256 × 2 = 8,192 B.
    g = estimate(Scenario("gemma-2-9b", weights="BF16", context=8192, engine="vllm", gpu="h100-sxm",
                          max_num_batched_tokens=2048))
    assert f"sliding attention: 6,160 cells × 21 layers = {6160 * 21 * 8192:,} B" in g.kv_cache.substituted
    assert f"full attention: 8,192 cells × 21 layers = {8192 * 21 * 8192:,} B" in g.kv_cache.substituted
    for e in (one, two, g):
        assert "no attention layers" not in e.kv_cache.substituted
