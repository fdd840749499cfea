"""The 2025-26 families read from their published config.json (pycore/preset_data.py, sources there),
each against the parameter count its publisher states. A stated count is rounded ("355B"), so each
check allows exactly the rounding of the figure as printed, no more."""
import pytest

from pycore.importers.hf_config import spec_from_config
from pycore.models import parameter_count, weight_tensors
from pycore.presets import PRESETS, model

STATED = [  # (preset, stated total, digits it is printed with (round to), source of the figure)
    # GLM-4.5 model card / transformers docs/source/en/model_doc/glm4_moe.md: "355 billion total parameters
    # with 32 billion active"; 4.6/4.7 keep the architecture (their model cards). The main model, without MTP.
    ("glm-4.5", 355e9, 3e9, "zai-org/GLM-4.5 model card"),
    ("glm-4.6", 355e9, 3e9, "zai-org/GLM-4.6 model card"),
    ("glm-4.7", 355e9, 3e9, "zai-org/GLM-4.7 model card"),
    ("glm-4.5-air", 106e9, 1e9, "zai-org/GLM-4.5-Air model card: 106B total, 12B active"),
    ("glm-4-9b-0414", 9.4e9, 0.05e9, "zai-org/GLM-4-9B-0414 Hub page: 9.4B params (safetensors)"),
    ("glm-4-32b-0414", 32.6e9, 0.05e9, "zai-org/GLM-4-32B-0414 Hub page: 32.6B params (safetensors)"),
    ("kimi-k2", 1.0e12, 0.05e12, "moonshotai/Kimi-K2-Instruct model card: 1T total, 32B activated"),
    # transformers docs/source/en/model_doc/minimax_m2.md: "230 billion total parameters with 10 billion active"
    ("minimax-m2", 230e9, 2e9, "MiniMax-M2 model card"),
    ("ernie-4.5-21b-a3b", 21e9, 1e9, "baidu/ERNIE-4.5-21B-A3B-PT model card: 21B total, 3B activated"),
    ("olmo-2-7b", 7.3e9, 0.05e9, "allenai/OLMo-2-1124-7B Hub page: 7.3B params"),
    ("olmo-2-32b", 32.2e9, 0.05e9, "allenai/OLMo-2-0325-32B Hub page: 32.2B params"),
    ("olmo-3-7b", 7.3e9, 0.05e9, "allenai/Olmo-3-1025-7B Hub page: 7.3B params"),
    ("olmo-3-32b", 32.2e9, 0.05e9, "allenai/Olmo-3-1125-32B Hub page: 32.2B params"),
    ("smollm3-3b", 3.08e9, 0.005e9, "HuggingFaceTB/SmolLM3-3B Hub page: 3.08B params"),
    ("phi-4-mini", 3.84e9, 0.005e9, "microsoft/Phi-4-mini-instruct Hub page: 3.84B params"),
    ("ministral-8b", 8.02e9, 0.005e9, "mistralai/Ministral-8B-Instruct-2410 Hub page: 8.02B params"),
    ("magistral-small-2506", 23.6e9, 0.05e9, "mistralai/Magistral-Small-2506 Hub page: 23.6B params"),
]


@pytest.mark.parametrize("preset_id,stated,half_step,source", STATED, ids=[r[0] for r in STATED])
def test_language_model_matches_the_stated_count(preset_id, stated, half_step, source):
    by_part = dict(parameter_count(model(preset_id)).by_part)
    assert abs(by_part["language"] - stated) <= half_step, (by_part["language"], source)


def test_moe_active_counts_match_the_model_cards():
    # Active counts on the cards leave out the embedding lookup; GLM's also leave out the output head
    # (a vocab × hidden matrix): GLM-4.5 32B, Air 12B, MiniMax-M2 10B, ERNIE 3B, Kimi K2 32B.
    for pid, active, without_head in (("glm-4.5", 32, True), ("glm-4.5-air", 12, True), ("minimax-m2", 10, False),
                                      ("ernie-4.5-21b-a3b", 3, False), ("kimi-k2", 32, False)):
        spec = model(pid)
        n = parameter_count(spec)
        head = spec.vocab_size * spec.hidden_size if without_head else 0
        assert round((n.active - n.embedding - head) / 1e9) == active, pid


def _roles(spec, layer):
    return sorted(t.name.split(".", 2)[2] for t in weight_tensors(spec) if t.layer == layer)


def test_glm4_moe_layout():
    # modeling_glm4_moe.py: q/k/v biased (attention_bias), o_proj not; per-head q_norm/k_norm when
    # use_qk_norm; layers before first_k_dense_replace dense; the router keeps e_score_correction_bias.
    spec = model("glm-4.5")
    assert "attn_q.bias" in _roles(spec, 0) and "attn_output.bias" not in _roles(spec, 0)
    assert "attn_q_norm.weight" in _roles(spec, 0)
    assert "ffn_up.weight" in _roles(spec, 2) and "ffn_up_exps.weight" in _roles(spec, 3)
    assert {"exp_probs_b.bias", "ffn_gate_inp.weight", "ffn_up_shexp.weight"} <= set(_roles(spec, 3))
    assert "attn_q_norm.weight" not in _roles(model("glm-4.5-air"), 0)  # use_qk_norm false


def test_olmo2_norms_cover_all_heads():
    # Olmo2Attention: q_norm = RMSNorm(num_heads * head_dim), k_norm = RMSNorm(num_kv_heads * head_dim).
    spec = model("olmo-2-32b")
    shapes = {t.role: t.ne for t in weight_tensors(spec) if t.layer == 0}
    assert shapes["attn_q_norm"] == (40 * 128,) and shapes["attn_k_norm"] == (8 * 128,)


def test_olmo3_slides_three_layers_of_four():
    spec = model("olmo-3-7b")
    assert spec.layer_types.count("sliding") == 24 and spec.sliding_window == 4096


def test_glm4_dense_has_four_norms_and_fused_gate_up():
    # modeling_glm4.py Glm4DecoderLayer: input, post_self_attn, post_attention, post_mlp norms; gate_up_proj.
    # Hand count of one layer of GLM-4-9B-0414 (H 4096, 32 heads, 2 KV heads of 128, FFN 13696):
    q, kv, o = 4096 * 4096 + 4096, 2 * (4096 * 256 + 256), 4096 * 4096
    ffn = 4096 * 2 * 13696 + 13696 * 4096
    layer = q + kv + o + ffn + 4 * 4096
    spec = model("glm-4-9b-0414")
    assert sum(t.numel for t in weight_tensors(spec) if t.layer == 0) == layer
    assert parameter_count(spec).total == 40 * layer + 2 * 151552 * 4096 + 4096


def test_ernie_lists_per_modality_and_bad_layouts():
    base = dict(PRESETS["ernie-4.5-21b-a3b"].config)
    listed = spec_from_config({**base, "moe_num_experts": [64, 64], "moe_intermediate_size": [1536, 512]})
    assert listed.num_experts == 64 and listed.expert_intermediate_size == 1536
    from pycore.errors import InputError
    with pytest.raises(InputError):
        spec_from_config({**base, "moe_layer_interval": 2})


def test_smollm3_nope_layers_are_said():
    assert any("NoPE" in n for n in model("smollm3-3b").notes)


def test_gemma3n_e4b_hand_count_and_kv_sharing():
    # google/gemma-3n-E4B-it text_config through modeling_gemma3n.py's shapes (H 2048, 35 layers, PLE width 256,
    # vocab 262,400 and 262,144 for PLE, FFN 16384, 8 heads and 2 KV heads of 256, AltUp 4 inputs, LAuReL 64).
    H, L, P, n, r = 2048, 35, 256, 4, 64
    layer = (H * 2048 + 2 * H * 512 + 2048 * H + 2 * 256  # q, k, v, o; q_norm and k_norm (v_norm has no weight)
             + 3 * H * 16384 + 4 * H  # MLP and the four sandwich norms
             + H + n * n + n * n * n + H * n + H  # AltUp: output scale, correction, prediction, router, router norm
             + H * r + r * H + H  # LAuReL
             + H * P + P * H + H)  # per-layer input gate, projection, norm
    top = 262400 * H + 262144 * L * P + H * L * P + P + 2 * (n - 1) * H * H + H
    spec = model("gemma-3n-e4b")
    assert parameter_count(spec).total == top + L * layer == 6_866_696_688
    # the last 15 layers (num_kv_shared_layers) cache nothing: 20 attention layers keep KV, 16 of them sliding
    from pycore.models import attention_layers
    kinds = [a.kind for a in attention_layers(spec)]
    assert len(kinds) == 20 and kinds.count("sliding") == 16
    notes = " ".join(spec.notes)
    assert "share the KV cache" in notes and "gemma3n_vision" in notes and "audio" in notes


def test_gemma3n_per_layer_embeddings_stay_16_bit_under_linear_quantizers():
    # an nn.Embedding, not an nn.Linear: bitsandbytes/GPTQ/FP8 leave it alone, as they do embed_tokens
    from pycore.formats import weight_format, weight_storage
    stored = weight_storage(model("gemma-3n-e2b"), weight_format("NF4"))
    labels = {t.role: s.label for t, s in stored.tensors}
    assert labels["per_layer_token_embd"] == "BF16" and labels["inp_gate"] == "nf4"
