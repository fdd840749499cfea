"""Hugging Face config.json (as a dict) -> ModelSpec.

Core sizes (hidden size, layers, heads, vocabulary, FFN width) must be in the config: a guess
there would be a wrong number, so their absence is an error naming the field. Optional fields
take the defaults of the family's transformers configuration class (cited per family below).
"""
import math

from ..errors import InputError
from ..models import (CHUNKED, DENSE, FULL, GATED_DELTANET, KDA, LIGHTNING, MAMBA, MAMBA2, MAX_LAYERS, MOE, NO_FFN,
                      NO_MIXER, PARALLEL_HYBRID, SHORT_CONV, SLIDING, ModelSpec)
from .quant_config import read_quantization

# model_type -> family settings. "defaults" are transformers' own for fields a config may omit
# (src/transformers/models/<family>/configuration_<family>.py); "layout" is how the family builds
# its blocks (from its modeling_<family>.py).
_FAMILIES = {
    "llama": dict(arch="llama", defaults=dict(max_position_embeddings=2048, tie_word_embeddings=False)),
    "mistral": dict(arch="llama", defaults=dict(max_position_embeddings=4096 * 32, tie_word_embeddings=False,
                                                sliding_window=4096)),
    "mixtral": dict(arch="llama", defaults=dict(max_position_embeddings=4096 * 32, tie_word_embeddings=False,
                                                num_local_experts=8, num_experts_per_tok=2)),
    "qwen2": dict(arch="qwen2", layout=dict(qkv_bias=True),
                  defaults=dict(max_position_embeddings=32768, tie_word_embeddings=False, use_sliding_window=False)),
    "qwen2_moe": dict(arch="qwen2moe", layout=dict(qkv_bias=True, shared_expert_gate=True),
                      defaults=dict(max_position_embeddings=32768, tie_word_embeddings=False, num_experts=60,
                                    num_experts_per_tok=4, decoder_sparse_step=1)),
    "qwen3": dict(arch="qwen3", layout=dict(qk_norm=True),
                  defaults=dict(max_position_embeddings=32768, tie_word_embeddings=False, use_sliding_window=False)),
    "qwen3_moe": dict(arch="qwen3moe", layout=dict(qk_norm=True),
                      defaults=dict(max_position_embeddings=32768, tie_word_embeddings=False, num_experts=128,
                                    num_experts_per_tok=8, decoder_sparse_step=1)),
    "gemma": dict(arch="gemma", defaults=dict(max_position_embeddings=8192, tie_word_embeddings=True, head_dim=256)),
    "gemma2": dict(arch="gemma2", layout=dict(norms_per_layer=4),
                   defaults=dict(max_position_embeddings=8192, tie_word_embeddings=True, head_dim=256,
                                 sliding_window=4096)),
    "gemma3_text": dict(arch="gemma3", layout=dict(norms_per_layer=4, qk_norm=True),
                        defaults=dict(max_position_embeddings=131072, tie_word_embeddings=True, head_dim=256,
                                      sliding_window=4096, sliding_window_pattern=6)),
    "phi3": dict(arch="phi3", layout=dict(fused_qkv=True, fused_gate_up=True),
                 defaults=dict(max_position_embeddings=4096, tie_word_embeddings=False)),
    "deepseek_v2": dict(arch="deepseek2", defaults=dict(max_position_embeddings=2048, tie_word_embeddings=False,
                                                        first_k_dense_replace=0, moe_layer_freq=1)),
    "deepseek_v3": dict(arch="deepseek2", layout=dict(expert_score_bias=True),
                        defaults=dict(max_position_embeddings=4096, tie_word_embeddings=False,
                                      first_k_dense_replace=3, moe_layer_freq=1, n_shared_experts=1)),
    "gpt_oss": dict(arch="gpt-oss", layout=dict(qkv_bias=True, o_bias=True, attention_sinks=True,
                                                router_bias=True, expert_bias=True),
                    defaults=dict(max_position_embeddings=131072, tie_word_embeddings=False, sliding_window=128,
                                  num_local_experts=128, num_experts_per_tok=4)),
    "gpt_neox": dict(arch="gptneox", layout=dict(fused_qkv=True, gated_mlp=False, norm_bias=True, qkv_bias=True,
                                                 o_bias=True, mlp_bias=True),
                     defaults=dict(max_position_embeddings=2048, tie_word_embeddings=False)),
    "falcon": dict(arch="falcon", layout=dict(fused_qkv=True, gated_mlp=False, norm_bias=True),
                   defaults=dict(max_position_embeddings=2048, tie_word_embeddings=True)),
    "starcoder2": dict(arch="starcoder2", layout=dict(gated_mlp=False, norm_bias=True),
                       defaults=dict(max_position_embeddings=4096, tie_word_embeddings=True)),
    "cohere": dict(arch="command-r", layout=dict(norms_per_layer=1),
                   defaults=dict(max_position_embeddings=8192, tie_word_embeddings=True)),
    # ---- families of 2025-26 (their own keys are read by _read_family below)
    # GLM-4-0414 (transformers models/glm4/modeling_glm4.py): q/k/v biased, o_proj not; fused gate_up_proj;
    # four norms per layer (input, post_self_attn, post_attention, post_mlp)
    "glm4": dict(arch="glm4", layout=dict(norms_per_layer=4, fused_gate_up=True),
                 defaults=dict(max_position_embeddings=131072, tie_word_embeddings=False, attention_bias=True)),
    # GLM-4.5/4.6/4.7 (models/glm4_moe/modeling_glm4_moe.py): DeepSeek-V3 MoE (sigmoid router with
    # e_score_correction_bias, shared expert, first_k_dense_replace dense layers) under GQA attention
    "glm4_moe": dict(arch="glm4moe", layout=dict(expert_score_bias=True),
                     defaults=dict(max_position_embeddings=131072, tie_word_embeddings=False, first_k_dense_replace=1,
                                   n_shared_experts=1, attention_bias=False)),
    # MiniMax-M2 (models/minimax_m2/modeling_minimax_m2.py): 256 routed experts, no shared expert, sigmoid
    # router with e_score_correction_bias, q_norm/k_norm over the whole q and k width (qk_norm_type per_layer)
    "minimax_m2": dict(arch="minimax-m2", layout=dict(expert_score_bias=True, qk_norm_per_layer=True),
                       defaults=dict(max_position_embeddings=196608, tie_word_embeddings=False)),
    # ERNIE 4.5 MoE (models/ernie4_5_moe/modeling_ernie4_5_moe.py): softmax router plus moe_statics
    # e_score_correction_bias, moe_num_shared_experts shared experts, dense layers before moe_layer_start_index
    "ernie4_5_moe": dict(arch="ernie4_5-moe", layout=dict(expert_score_bias=True),
                         defaults=dict(max_position_embeddings=131072, tie_word_embeddings=True)),
    # OLMo 2 / Olmo 3 (models/olmo2, models/olmo3): post-norms only (post_attention, post_feedforward),
    # q_norm/k_norm over the whole q and k width; Olmo 3 slides 3 of 4 layers (layer_types)
    "olmo2": dict(arch="olmo2", layout=dict(qk_norm_per_layer=True),
                  defaults=dict(max_position_embeddings=4096, tie_word_embeddings=False)),
    "olmo3": dict(arch="olmo3", layout=dict(qk_norm_per_layer=True),
                  defaults=dict(max_position_embeddings=65536, tie_word_embeddings=False)),
    # SmolLM3 (models/smollm3/modeling_smollm3.py): a Llama block; every 4th layer skips RoPE (no_rope_layers),
    # which changes no tensor and no cache
    "smollm3": dict(arch="smollm3", defaults=dict(max_position_embeddings=65536, tie_word_embeddings=True)),
    # Gemma 3n text model (models/gemma3n/modeling_gemma3n.py): Gemma 3 sandwich norms and per-head q/k norms,
    # plus per-layer embeddings, AltUp, LAuReL and KV-sharing layers (_gemma3n below)
    "gemma3n_text": dict(arch="gemma3n", layout=dict(norms_per_layer=4, qk_norm=True),
                         defaults=dict(max_position_embeddings=32768, tie_word_embeddings=True)),
}
# ---------------------------------------------------------------- hybrid families (layer kinds beyond attention)
# Families whose layers mix attention with recurrent, convolution or chunked layers, read by
# _read_hybrid below. Defaults from each family's transformers configuration_<family>.py.
_HYBRID_FAMILIES = {
    # Qwen3-Next: Gated DeltaNet + gated full attention every 4th layer, MoE with a gated shared expert
    "qwen3_next": dict(arch="qwen3next", layout=dict(qk_norm=True, attn_output_gate=True, shared_expert_gate=True),
                       defaults=dict(max_position_embeddings=32768, tie_word_embeddings=False, head_dim=256,
                                     full_attention_interval=4, num_experts=512, num_experts_per_tok=10,
                                     decoder_sparse_step=1, linear_conv_kernel_dim=4, linear_key_head_dim=128,
                                     linear_value_head_dim=128, linear_num_key_heads=16, linear_num_value_heads=32),
                       linear=GATED_DELTANET),
    # Qwen3.5 / 3.6 dense and MoE language models (text_config of qwen3_5 / qwen3_5_moe)
    "qwen3_5_text": dict(arch="qwen35", layout=dict(qk_norm=True, attn_output_gate=True),
                         defaults=dict(max_position_embeddings=262144, tie_word_embeddings=False, head_dim=256,
                                       full_attention_interval=4, linear_conv_kernel_dim=4),
                         linear=GATED_DELTANET),
    "qwen3_5_moe_text": dict(arch="qwen35moe", layout=dict(qk_norm=True, attn_output_gate=True, shared_expert_gate=True),
                             defaults=dict(max_position_embeddings=262144, tie_word_embeddings=False, head_dim=256,
                                           full_attention_interval=4, linear_conv_kernel_dim=4, decoder_sparse_step=1),
                             linear=GATED_DELTANET),
    # LFM2: gated short convolutions + GQA with q/k norms (configuration_lfm2.py)
    "lfm2": dict(arch="lfm2", layout=dict(qk_norm=True),
                 defaults=dict(max_position_embeddings=128000, tie_word_embeddings=True, conv_L_cache=3)),
    # Jamba: Mamba every layer but one in attn_layer_period, MoE every expert_layer_period (configuration_jamba.py)
    "jamba": dict(arch="jamba", layout=dict(ssm_inner_norms=True),
                  defaults=dict(max_position_embeddings=262144, tie_word_embeddings=False, attn_layer_period=8,
                                attn_layer_offset=4, expert_layer_period=2, expert_layer_offset=1, num_experts=16,
                                num_experts_per_tok=2, mamba_d_state=16, mamba_d_conv=4, mamba_expand=2,
                                mamba_conv_bias=True, mamba_proj_bias=False)),
    # Nemotron-H: one mixer per block from hybrid_override_pattern (configuration_nemotron_h.py)
    "nemotron_h": dict(arch="nemotron_h", layout=dict(gated_mlp=False),
                       defaults=dict(max_position_embeddings=4096, tie_word_embeddings=False, n_groups=8,
                                     conv_kernel=4, use_conv_bias=True, use_bias=False, mamba_num_heads=128,
                                     mamba_head_dim=64, ssm_state_size=128)),
    # Granite 4.0-H: Mamba-2 and attention layers, MoE with a shared MLP (configuration_granitemoehybrid.py)
    "granitemoehybrid": dict(arch="granitehybrid",
                             defaults=dict(max_position_embeddings=2048, tie_word_embeddings=True, mamba_n_heads=128,
                                           mamba_n_groups=1, mamba_d_state=256, mamba_d_conv=4, mamba_expand=2,
                                           mamba_conv_bias=True, mamba_proj_bias=False, num_local_experts=0,
                                           num_experts_per_tok=0, shared_intermediate_size=0)),
    # Falcon-H1: attention and Mamba-2 side by side in every block (configuration_falcon_h1.py)
    "falcon_h1": dict(arch="falcon-h1",
                      defaults=dict(max_position_embeddings=8192, tie_word_embeddings=False, mamba_d_state=256,
                                    mamba_n_heads=128, mamba_n_groups=1, mamba_d_conv=4, mamba_expand=2,
                                    mamba_conv_bias=True, mamba_proj_bias=False, mamba_rms_norm=False)),
    # Llama 4: chunked local attention on RoPE layers, NoPE full attention every 4th, MoE every
    # interleave_moe_layer_step layers with a shared expert (configuration_llama4.py Llama4TextConfig)
    "llama4_text": dict(arch="llama4", layout=dict(shared_expert_gate=False),
                        defaults=dict(max_position_embeddings=4096 * 32, tie_word_embeddings=False,
                                      attention_chunk_size=8192, interleave_moe_layer_step=1, num_local_experts=16,
                                      num_experts_per_tok=1, head_dim=128)),
    # MiniMax-01 / M1: lightning (linear) attention with a softmax-attention layer after every 7
    # (attn_type_list: 0 lightning, 1 softmax), MoE in every layer (MiniMax-M1 configuration_minimax_m1.py;
    # transformers' "minimax" spells the layout as layer_types)
    "minimax_m1": dict(arch="minimax", defaults=dict(max_position_embeddings=4096 * 32, tie_word_embeddings=False,
                                                     num_local_experts=8, num_experts_per_tok=2),
                       linear=LIGHTNING),
    "minimax": dict(arch="minimax", defaults=dict(max_position_embeddings=4096 * 32, tie_word_embeddings=False,
                                                  num_local_experts=8, num_experts_per_tok=2),
                    linear=LIGHTNING),
    # DeepSeek-V3.2: DeepSeek-V3 with DeepSeek sparse attention (the lightning indexer)
    "deepseek_v32": dict(arch="deepseek2", layout=dict(expert_score_bias=True),
                         defaults=dict(max_position_embeddings=163840, tie_word_embeddings=False,
                                       first_k_dense_replace=3, moe_layer_freq=1, n_shared_experts=1,
                                       index_n_heads=64, index_head_dim=128, index_topk=2048)),
    # Kimi Linear: Kimi Delta Attention layers (linear_attn_config.kda_layers) and NoPE MLA layers
    # (full_attn_layers), DeepSeek-V3-style MoE with a sigmoid router and e_score_correction_bias (vLLM
    # vllm/transformers_utils/configs/kimi_linear.py @6b065994 KimiLinearConfig defaults; the checkpoint states
    # its context as model_max_length, not max_position_embeddings)
    "kimi_linear": dict(arch="kimi-linear", layout=dict(expert_score_bias=True),
                        defaults=dict(tie_word_embeddings=False, first_k_dense_replace=0, moe_layer_freq=1,
                                      num_shared_experts=0)),
}
_FAMILIES.update({k: {kk: vv for kk, vv in v.items() if kk != "linear"} for k, v in _HYBRID_FAMILIES.items()})

# transformers' layer_types words -> pycore's layer kinds ("linear_attention" and "mamba" depend on the family)
_LAYER_WORDS = {"full_attention": FULL, "attention": FULL, "global": FULL, "sliding_attention": SLIDING,
                "chunked_attention": CHUNKED, "conv": SHORT_CONV, "hybrid": PARALLEL_HYBRID,
                "deepseek_sparse_attention": FULL}
# Fields that describe recurrent or convolution layers: a config of an unknown family that has them cannot
# be read as a plain decoder without inventing its state
_STATE_FIELD_PREFIXES = ("ssm_", "mamba", "linear_", "conv_", "time_step", "attn_type_list",
                         "hybrid_override_pattern", "layers_block_type", "attn_layer_period", "full_attn_idxs",
                         "full_attention_interval", "shortconv", "short_conv", "rwkv", "d_state", "d_conv")

# DeepSeek V4's compressed attentions (vllm/model_executor/models/deepseek_v4.py, DeepseekV4Indexer and
# DeepseekV4MultiHeadLatentAttentionWrapper; config fields compress_ratios, compress_rope_theta, hc_mult): a KV
# cache compressed per layer by its own ratio, plus hyper-connections. Not modelled: refused by name, never read
# as a plain decoder.
_COMPRESSED_LAYER_WORDS = ("compressed_sparse_attention", "heavily_compressed_attention")
_COMPRESSED_FIELDS = ("compress_ratios", "compress_rope_theta", "hc_mult")

# Multimodal wrappers whose language model sits in text_config
_TEXT_CONFIG_WRAPPERS = {"gemma3": "gemma3_text", "llava": None, "mistral3": None, "llama4": "llama4_text",
                         "qwen3_5": "qwen3_5_text", "gemma3n": "gemma3n_text", "qwen3_5_moe": "qwen3_5_moe_text", "lfm2_vl": "lfm2"}
# Alternative spellings of the core fields (GPT-2 / Falcon / Bloom style)
_ALIASES = {
    "hidden_size": ("n_embd", "d_model"),
    "num_hidden_layers": ("n_layer", "num_layers"),
    "num_attention_heads": ("n_head", "num_heads"),
    "max_position_embeddings": ("n_positions", "seq_length", "max_seq_len"),
}


def spec_from_config(config: dict, name: str = "", source: str = "") -> ModelSpec:
    """Build the architecture from a config.json dict. Unknown families are read as Llama-style
    decoders and say so in the spec's notes."""
    if not isinstance(config, dict):
        raise InputError("config", "expected a JSON object (the contents of config.json)")
    notes = []
    top = config
    model_type = config.get("model_type")
    if model_type in _TEXT_CONFIG_WRAPPERS and isinstance(config.get("text_config"), dict):
        text = dict(config["text_config"])
        text.setdefault("model_type", _TEXT_CONFIG_WRAPPERS[model_type] or "llama")
        if "tie_word_embeddings" in config and "tie_word_embeddings" not in config["text_config"]:
            text["tie_word_embeddings"] = config["tie_word_embeddings"]
        config, model_type = text, text["model_type"]
    if not isinstance(model_type, str):
        raise InputError("model_type", "missing: config.json must say which architecture it is")
    family = _FAMILIES.get(model_type)
    if family is None:
        _refuse_unknown_layers(config, model_type)
        notes.append(f"model_type {model_type[:40]!r} is not one pycore knows: read as a Llama-style decoder "
                     "(standard fields only)")
        family = _FAMILIES["llama"]
    c = _Reader(config, family.get("defaults", {}))
    layout = dict(family.get("layout", {}))

    hidden = c.required("hidden_size")
    layers = c.required("num_hidden_layers")
    heads = c.positive("num_attention_heads")
    vocab = c.required("vocab_size")
    # 0 is no head count: refused rather than read as "one KV head per attention head" or "derive it"
    kv_heads = c.positive("num_key_value_heads", None)
    head_dim = c.positive("head_dim", None)
    if head_dim is None:
        if hidden % heads:
            raise InputError("head_dim", f"hidden_size {hidden} is not a multiple of {heads} heads and no head_dim is given")
        head_dim = hidden // heads
    fields = dict(
        name=name or str(config.get("_name_or_path") or model_type)[:200], arch=family["arch"],
        vocab_size=vocab, hidden_size=hidden, num_layers=layers, num_heads=heads,
        head_dim=head_dim, rotary_dim=_rotary_dim(config, head_dim), max_context=c.optional("max_position_embeddings", None) or 0,
        tie_embeddings=bool(c.optional("tie_word_embeddings", True)), source=source,
    )
    if not fields["max_context"] and model_type == "kimi_linear":
        fields["max_context"] = c.optional("model_max_length", None) or 0
    if not fields["max_context"]:
        given = c._raw("max_position_embeddings") is not None
        raise InputError("max_position_embeddings", "must be a positive whole number, got 0" if given else
                         "missing: the model's maximum context is needed")
    if c._raw("max_position_embeddings") is None and model_type != "kimi_linear":
        whose = (f"the default of transformers' configuration for {model_type[:40]!r}" if model_type in _FAMILIES
                 else "the Llama default it is read with")
        notes.append(f"config.json gives no max_position_embeddings: the maximum context is taken as "
                     f"{fields['max_context']:,} tokens, {whose}; the default context and any cap follow it")

    if model_type == "gpt_neox":
        kv_heads = heads
        fields["intermediate_size"] = c.optional("intermediate_size", None) or 4 * hidden
        layout.update(qkv_bias=bool(c.optional("attention_bias", True)), o_bias=bool(c.optional("attention_bias", True)))
    elif model_type == "falcon":
        new_arch = bool(c.optional("new_decoder_architecture", False))
        if new_arch:
            kv_heads = c.positive("num_kv_heads", None) or heads
        else:
            kv_heads = 1 if c.optional("multi_query", True) else heads
        layout["norms_per_layer"] = 2 if new_arch else (1 if c.optional("parallel_attn", True) else 2)
        bias = bool(c.optional("bias", False))
        layout.update(qkv_bias=bias, o_bias=bias, mlp_bias=bias)
        fields["intermediate_size"] = c.optional("ffn_hidden_size", None) or 4 * hidden
    elif model_type == "starcoder2":
        bias = bool(c.optional("use_bias", True))
        layout.update(qkv_bias=bias, o_bias=bias, mlp_bias=bias, norm_bias=bias)
        fields["intermediate_size"] = c.required("intermediate_size")
    else:
        fields["intermediate_size"] = c.optional("intermediate_size", None)
    if "attention_bias" in config and model_type in ("llama", "mistral", "qwen3", "qwen3_moe", "cohere"):
        layout["qkv_bias"] = layout["o_bias"] = bool(config["attention_bias"])
    if config.get("mlp_bias") and model_type == "llama":
        layout["mlp_bias"] = True
    if model_type == "cohere" and config.get("use_qk_norm"):
        raise InputError("use_qk_norm", "Cohere models with per-head q/k norms are not supported yet")
    fields["num_kv_heads"] = kv_heads or heads

    _read_moe(c, model_type, fields, layout)
    _read_mla(c, model_type, fields)
    _read_family(c, model_type, fields, layout, notes)
    if model_type in _HYBRID_FAMILIES:
        _read_hybrid(c, model_type, fields, layout, layers, notes)
    else:
        _read_layer_types(c, model_type, fields, layers)
    if fields.get("intermediate_size") is None:
        ffn = fields.get("ffn_types")
        if (ffn and DENSE not in ffn) or (not ffn and fields.get("num_experts") and not fields.get("first_dense_layers")):
            fields["intermediate_size"] = 0
        else:
            raise InputError("intermediate_size", "missing: the FFN width is needed")
    fields.update(layout)
    fields["parts"] = read_parts(top, config, model_type, fields["hidden_size"], notes)
    quant = read_quantization(top)
    fields["quant_ignore"] = quant.ignore
    notes.extend(quant.notes)
    fields["notes"] = tuple(notes)
    return ModelSpec(**fields)


ROTARY_SHARE_DEFAULT = {"gpt_neox": 0.25}  # transformers GPTNeoXConfig rotary_pct=0.25


def _rotary_dim(config: dict, head_dim: int) -> int:
    """Channels of a head that RoPE rotates, when the config rotates only part of it: `rotary_dim` (MiniMax-M2),
    `partial_rotary_factor` (GLM-4.5, Phi-4-mini, Qwen3-Next; transformers modeling_rope_utils), the same key
    inside `rope_parameters` (transformers 5's layout: Qwen3.5) or `rotary_pct` (GPT-NeoX, 0.25 by default);
    0 (the whole head) otherwise. A share outside (0, 1] or a width outside 1..head_dim is refused by name."""
    if config.get("rotary_dim") is not None:
        dim = config["rotary_dim"]
        if not isinstance(dim, int) or isinstance(dim, bool) or not 0 < dim <= head_dim:
            raise InputError("rotary_dim", f"must be a whole number from 1 to head_dim ({head_dim}), got {_quote(dim)}")
        return 0 if dim == head_dim else dim
    rope = config.get("rope_parameters") if isinstance(config.get("rope_parameters"), dict) else {}
    for key, share in (("partial_rotary_factor", config.get("partial_rotary_factor")),
                       ("rope_parameters.partial_rotary_factor", rope.get("partial_rotary_factor")),
                       ("rotary_pct", config.get("rotary_pct", ROTARY_SHARE_DEFAULT.get(config.get("model_type"))))):
        if share is None:
            continue
        if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 < share <= 1:
            raise InputError(key, f"must be a share in (0, 1], got {_quote(share)}")
        dim = int(head_dim * share)
        return 0 if dim >= head_dim else max(dim, 1)
    return 0


_REQUIRED = object()


class _Reader:
    """Reads config fields with their family defaults, checking types as it goes."""

    def __init__(self, config, defaults):
        self.config, self.defaults = config, defaults

    def _raw(self, key):
        if key in self.config and self.config[key] is not None:
            return self.config[key]
        for alias in _ALIASES.get(key, ()):
            if self.config.get(alias) is not None:
                return self.config[alias]
        return None

    def required(self, key):
        value = self._raw(key)
        if value is None:
            raise InputError(key, "missing from config.json, and no default can stand in for it")
        return _whole(key, value)

    def positive(self, key, default=_REQUIRED):
        """A count that must be at least 1 when given (heads, head sizes): 0 is refused, never read as "none".
        Without a default the key is required; with one, an absent key (or null) gives the default."""
        value = self.required(key) if default is _REQUIRED else self.optional(key, default)
        if value is not None and value == 0:
            raise InputError(key, "must be a positive whole number, got 0")
        return value

    def divisor(self, key, default):
        """A period or step the layer index is divided by (sliding_window_pattern, decoder_sparse_step, …):
        at least 1, as the family's modeling code divides by it."""
        value = self.optional(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InputError(key, f"must be at least 1 (layers are counted in steps of it), got {_quote(value)}")
        return value

    def optional(self, key, default):
        """The config's value; the family default only when the key is absent (an explicit null
        means "none", e.g. Mistral NeMo's sliding_window: null)."""
        if key in self.config:
            value = self.config[key]
            if value is None:
                return default
        else:
            value = self._raw(key)
            if value is None:
                value = self.defaults.get(key, default)
        if isinstance(value, bool) or value is None or isinstance(value, (str, list, dict)):
            return value
        return _whole(key, value)


# Sane upper limits for the counts a config gives, checked before any per-layer loop or allocation.
# Each is well above every published model (the largest: ~126 layers, ~256k vocabulary, 384 experts,
# 10M-token contexts), so a value past it is a typo or a hostile file, refused by name.
MAX_COUNT = {
    "num_hidden_layers": MAX_LAYERS, "vocab_size": 1 << 22, "hidden_size": 1 << 17, "num_attention_heads": 1 << 12,
    "num_key_value_heads": 1 << 12, "head_dim": 1 << 13, "intermediate_size": 1 << 20,
    "moe_intermediate_size": 1 << 20, "shared_expert_intermediate_size": 1 << 20, "ffn_hidden_size": 1 << 20,
    "intermediate_size_mlp": 1 << 20, "shared_intermediate_size": 1 << 20, "block_ff_dim": 1 << 20,
    "num_experts": 1 << 14, "num_local_experts": 1 << 14, "n_routed_experts": 1 << 14, "num_experts_per_tok": 1 << 14,
    "num_experts_per_token": 1 << 14, "num_shared_experts": 1 << 10, "model_max_length": 1 << 27,
    "n_shared_experts": 1 << 10, "first_k_dense_replace": MAX_LAYERS, "max_position_embeddings": 1 << 27,
    "sliding_window": 1 << 27, "attention_chunk_size": 1 << 27, "max_window_layers": MAX_LAYERS,
    "kv_lora_rank": 1 << 16, "q_lora_rank": 1 << 16, "qk_rope_head_dim": 1 << 13, "qk_nope_head_dim": 1 << 13,
    "v_head_dim": 1 << 13, "index_n_heads": 1 << 12, "index_head_dim": 1 << 13,
    "linear_num_key_heads": 1 << 12, "linear_num_value_heads": 1 << 12, "linear_key_head_dim": 1 << 13,
    "linear_value_head_dim": 1 << 13, "linear_conv_kernel_dim": 1 << 10, "conv_L_cache": 1 << 10,
    "mamba_d_state": 1 << 14, "ssm_state_size": 1 << 14, "mamba_d_conv": 1 << 10, "conv_kernel": 1 << 10,
    "mamba_expand": 64, "expand": 64, "mamba_n_heads": 1 << 14, "mamba_num_heads": 1 << 14, "mamba_d_head": 1 << 14,
    "mamba_head_dim": 1 << 14, "mamba_n_groups": 1 << 12, "n_groups": 1 << 12, "mamba_d_ssm": 1 << 20,
    "mamba_dt_rank": 1 << 16, "image_size": 1 << 14, "patch_size": 1 << 10, "projector_input_dim": 1 << 17,
    "projector_output_dim": 1 << 17, "vision_output_dim": 1 << 17,
}
MAX_ANY = 1 << 40  # any other whole number in a config (ids, periods, …)
MAX_LIST = MAX_LAYERS  # entries in a per-layer list (layer_types, mlp_only_layers, …)


def _quote(value, limit: int = 40) -> str:
    """At most `limit` characters of a value, for an error message (a 300-digit number is not echoed)."""
    text = repr(value) if not isinstance(value, int) else str(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _whole(key, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(key, f"expected a whole number, got {_quote(str(value))}")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise InputError(key, f"expected a whole number, got {_quote(value)}")
        value = int(value)
    if value < 0:
        raise InputError(key, f"must not be negative, got {_quote(value)}")
    limit = MAX_COUNT.get(key, MAX_ANY)
    if value > limit:
        raise InputError(key, f"{_quote(value)} is more than {limit:,}, the most this calculator accepts")
    return value


def _list(c, key) -> list:
    """A per-layer list from the config, its length checked before anything iterates it."""
    value = c.optional(key, None)
    if value is None:
        return None
    if not isinstance(value, list):
        raise InputError(key, f"expected a list, got {_quote(value)}")
    if len(value) > MAX_LIST:
        raise InputError(key, f"{len(value):,} entries: more than {MAX_LIST:,}")
    return value


def _read_moe(c, model_type, fields, layout):
    if model_type in ("mixtral", "gpt_oss"):
        experts = c.positive("num_local_experts", 0)  # every layer's FFN is its experts: none is no model
        fields.update(num_experts=experts, experts_per_token=c.optional("num_experts_per_tok", 0),
                      expert_intermediate_size=fields["intermediate_size"])
        fields["intermediate_size"] = 0
    elif model_type in ("qwen2_moe", "qwen3_moe"):
        step, dense_only = c.divisor("decoder_sparse_step", 1), c.optional("mlp_only_layers", []) or []
        if step != 1 or dense_only:
            raise InputError("decoder_sparse_step", "MoE layers interleaved with dense layers are not supported yet")
        fields.update(num_experts=c.optional("num_experts", 0), experts_per_token=c.optional("num_experts_per_tok", 0),
                      expert_intermediate_size=c.required("moe_intermediate_size"))
        shared = c.optional("shared_expert_intermediate_size", 0) if model_type == "qwen2_moe" else 0
        fields["shared_expert_intermediate_size"] = shared
        layout["shared_expert_gate"] = bool(shared)
    elif model_type in ("deepseek_v2", "deepseek_v3", "deepseek_v32"):
        routed = c.optional("n_routed_experts", 0)
        if not routed:
            return
        if c.divisor("moe_layer_freq", 1) != 1:
            raise InputError("moe_layer_freq", "MoE every other layer is not supported yet")
        width = c.required("moe_intermediate_size")
        fields.update(num_experts=routed, experts_per_token=c.required("num_experts_per_tok"),
                      expert_intermediate_size=width,
                      shared_expert_intermediate_size=(c.optional("n_shared_experts", 0) or 0) * width,
                      first_dense_layers=c.optional("first_k_dense_replace", 0))
        if model_type == "deepseek_v2":
            layout["expert_score_bias"] = c.optional("topk_method", "") == "noaux_tc"


def _read_family(c, model_type, fields, layout, notes):
    """The keys of the 2025-26 families (see _FAMILIES), each in its own reader."""
    reader = _FAMILY_READERS.get(model_type)
    if reader:
        reader(c, fields, layout, notes)


def _glm4(c, fields, layout, notes):
    layout["qkv_bias"] = bool(c.optional("attention_bias", True))  # o_proj never has one


def _deepseek_style_moe(c, fields, layout):
    """n_routed_experts / n_shared_experts / first_k_dense_replace, as DeepSeek-V3 names them."""
    routed = c.required("n_routed_experts")
    width = c.required("moe_intermediate_size")
    fields.update(num_experts=routed, experts_per_token=c.required("num_experts_per_tok"),
                  expert_intermediate_size=width,
                  shared_expert_intermediate_size=(c.optional("n_shared_experts", 0) or 0) * width,
                  first_dense_layers=c.optional("first_k_dense_replace", 0))


def _glm4_moe(c, fields, layout, notes):
    _deepseek_style_moe(c, fields, layout)
    layout["qkv_bias"] = bool(c.optional("attention_bias", False))
    layout["qk_norm"] = bool(c.optional("use_qk_norm", False))


def _minimax_m2(c, fields, layout, notes):
    fields.update(num_experts=c.required("num_local_experts"), experts_per_token=c.required("num_experts_per_tok"),
                  expert_intermediate_size=c.required("intermediate_size"), intermediate_size=0)
    if c.optional("shared_intermediate_size", 0):
        raise InputError("shared_intermediate_size", "MiniMax shared experts are not supported yet")
    if c.optional("qk_norm_type", "per_layer") not in ("per_layer", None) or c.optional("use_qk_norm", True) is False:
        layout["qk_norm_per_layer"] = False
        layout["qk_norm"] = c.optional("use_qk_norm", True) is not False
    types = c.optional("attn_type_list", None)
    if isinstance(types, list) and any(t != 1 for t in types[:100000]):
        raise InputError("attn_type_list", "MiniMax lightning-attention layers (type 0) are not supported here")
    if c.optional("use_mtp", False):
        notes.append(f"minimax_m2: the config declares {c.optional('num_mtp_modules', 0)} multi-token-prediction "
                     "modules (use_mtp); the published checkpoint's tensors stop at the last decoder layer, so "
                     "they are not counted")


def _first_of(value):
    """ERNIE's MoE keys may hold one value per modality (a list): the text experts are the first."""
    return value[0] if isinstance(value, list) and value else value


def _ernie4_5_moe(c, fields, layout, notes):
    layers = fields["num_layers"]
    experts = _whole("moe_num_experts", _first_of(c.optional("moe_num_experts", 0)))
    width = _whole("moe_intermediate_size", _first_of(c.optional("moe_intermediate_size", 0)))
    start = c.optional("moe_layer_start_index", 0)
    end = c.optional("moe_layer_end_index", None)
    end = layers - 1 if end in (None, -1) else end
    if c.optional("moe_layer_interval", 1) != 1 or end != layers - 1:
        raise InputError("moe_layer_interval", "ERNIE MoE layers that are not one run up to the last layer "
                                               "are not supported yet")
    fields.update(num_experts=experts, experts_per_token=c.required("moe_k"), expert_intermediate_size=width,
                  shared_expert_intermediate_size=(c.optional("moe_num_shared_experts", 0) or 0) * width,
                  first_dense_layers=start)
    bias = bool(c.optional("use_bias", False))
    layout.update(qkv_bias=bias, o_bias=bias, mlp_bias=bias)


def _olmo(c, fields, layout, notes):
    bias = bool(c.optional("attention_bias", False))
    layout.update(qkv_bias=bias, o_bias=bias)


def _smollm3(c, fields, layout, notes):
    bias = bool(c.optional("attention_bias", False))
    layout.update(qkv_bias=bias, o_bias=bias)
    nope = c.optional("no_rope_layers", None)
    if isinstance(nope, list) and nope:
        notes.append(f"smollm3: {sum(1 for v in nope[:100000] if not v)} of {len(nope)} layers use no RoPE (NoPE); "
                     "this changes no tensor and no cache size")


def _gemma3n(c, fields, layout, notes):
    widths = fields.get("intermediate_size")
    if isinstance(widths, list):
        if not widths or len(widths) > MAX_LIST or len({str(w) for w in widths}) != 1:
            raise InputError("intermediate_size", "per-layer FFN widths that differ (MatFormer slices) are not "
                             "supported yet; the published checkpoints use one width")
        fields["intermediate_size"] = _whole("intermediate_size", widths[0])
    layers = fields["num_layers"]
    shared = c.optional("num_kv_shared_layers", 0)
    if shared >= layers:
        raise InputError("num_kv_shared_layers", f"{shared} shared-KV layers leave none of {layers} to cache")
    fields.update(kv_shared_layers=shared, per_layer_input_size=c.required("hidden_size_per_layer_input"),
                  per_layer_vocab=c.required("vocab_size_per_layer_input"),
                  altup_inputs=c.optional("altup_num_inputs", 4), laurel_rank=c.optional("laurel_rank", 64))
    if fields["altup_inputs"] > 64 or fields["laurel_rank"] > 1 << 16:
        raise InputError("altup_num_inputs", "beyond any Gemma 3n")
    layout["qkv_bias"] = layout["o_bias"] = bool(c.optional("attention_bias", False))
    notes.append(f"gemma3n: the last {shared} layers share the KV cache of earlier layers and keep none of their "
                 "own; the per-layer embeddings (PLE) are counted in the weights, though an engine may keep them "
                 "in CPU memory (Google's 'PLE caching'); activation sparsity and MatFormer slicing change no "
                 "stored tensor")


_FAMILY_READERS = {"gemma3n_text": _gemma3n, "glm4": _glm4, "glm4_moe": _glm4_moe, "minimax_m2": _minimax_m2,
                   "ernie4_5_moe": _ernie4_5_moe,
                   "olmo2": _olmo, "olmo3": _olmo, "smollm3": _smollm3}


# ---------------------------------------------------------------- parts besides the language model

_MTP_KEYS = ("num_nextn_predict_layers", "mtp_num_hidden_layers")
_MAX_PART_LAYERS = 1024


def _deepstack(vision) -> int:
    """Qwen3-VL's extra mergers, one per deepstack_visual_indexes entry."""
    idx = vision.get("deepstack_visual_indexes")
    if not idx:
        return 0
    if not isinstance(idx, list) or len(idx) > 64:
        raise InputError("vision_config.deepstack_visual_indexes", "expected a list of at most 64 layer indexes")
    return len(idx)


_GEMMA3N_AUDIO_FIELDS = ("hidden_size", "input_feat_size", "conf_num_hidden_layers", "conf_num_attention_heads",
                         "conf_conv_kernel_size", "sscp_conv_channel_size", "sscp_conv_kernel_size",
                         "sscp_conv_stride_size", "vocab_size")


def _gemma3n_defaults(sub: dict, name: str, fields: tuple, notes: list):
    missing = [k for k in fields if sub.get(k) is None]
    if missing:
        notes.append(f"{name} lacks {', '.join(missing)}: transformers' defaults (configuration_gemma3n.py, the "
                     "published E2B/E4B values) stand in")


def _gemma3n_audio(audio: dict, text_hidden: int, notes: list):
    """Gemma 3n's audio_config (transformers configuration_gemma3n.py @01854809 Gemma3nAudioConfig, whose defaults
    are the published E2B/E4B values) as a pycore.parts.Gemma3nAudioTower; each count checked before any loop."""
    from ..parts import Gemma3nAudioTower
    _gemma3n_defaults(audio, "audio_config", _GEMMA3N_AUDIO_FIELDS, notes)
    a = _Reader(audio, {})
    layers = a.optional("conf_num_hidden_layers", 12)
    if layers > _MAX_PART_LAYERS:
        raise InputError("audio_config.conf_num_hidden_layers", f"{layers} layers is beyond any audio tower")
    hidden, heads = a.optional("hidden_size", 1536), a.optional("conf_num_attention_heads", 8)
    if not heads or hidden % heads:
        raise InputError("audio_config.conf_num_attention_heads", f"{heads} heads do not divide hidden_size {hidden}")

    def pairs(key, default):
        value = audio.get(key, default)
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise InputError(f"audio_config.{key}", "expected the two subsample convolutions' values")
        return tuple(value)
    channels = tuple(_whole("audio_config.sscp_conv_channel_size", c)
                     for c in pairs("sscp_conv_channel_size", (128, 32)))
    kernels, strides = [], []
    for key, out, default in (("sscp_conv_kernel_size", kernels, (3, 3)), ("sscp_conv_stride_size", strides, (2, 2))):
        for pair in pairs(key, (default, default)):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                raise InputError(f"audio_config.{key}", "expected [time, frequency] pairs")
            out.append(tuple(_whole(f"audio_config.{key}", x) for x in pair))
    freq = a.optional("input_feat_size", 128)
    for (_, kf), (_, sf) in zip(kernels, strides):
        if sf < 1 or kf < 1 or kf > freq + 2:
            raise InputError("audio_config.sscp_conv_kernel_size",
                             f"a frequency kernel of {kf} with stride {sf} does not fit {freq} mel bins")
        freq = (freq + 2 - kf) // sf + 1
    return Gemma3nAudioTower(
        text_hidden=text_hidden, hidden=hidden, layers=layers, heads=heads,
        conv_kernel=a.optional("conf_conv_kernel_size", 5), input_features=a.optional("input_feat_size", 128),
        sscp_channels=channels, sscp_kernels=tuple(kernels), sscp_strides=tuple(strides),
        vocab_size=a.optional("vocab_size", 128))


def read_parts(top: dict, text: dict, model_type: str, text_hidden: int, notes: list) -> tuple:
    """The checkpoint's vision and audio towers (vision_config, audio_config) and MTP layers as pycore.parts
    specs; a tower of a kind pycore cannot lay out becomes a note rather than a silent zero."""
    from ..parts import (MOBILENET_V5, Llama4VisionTower, MobileNetV5Tower, MTPLayers, PixtralVisionTower,
                         QwenVisionTower, SiglipVisionTower)
    parts = []
    vision = top.get("vision_config") if isinstance(top, dict) else None
    if isinstance(vision, dict):
        v = _Reader(vision, {})
        kind = str(vision.get("model_type", ""))[:40]

        def layers(key):
            n = v.required(key)
            if n > _MAX_PART_LAYERS:
                raise InputError(f"vision_config.{key}", f"{n} layers is beyond any vision tower")
            return n
        if "depth" in vision and "out_hidden_size" in vision:  # Qwen3-VL / Qwen3.5 / Qwen3.6
            parts.append(QwenVisionTower(
                depth=layers("depth"), hidden=v.required("hidden_size"), intermediate=v.required("intermediate_size"),
                out_hidden=v.required("out_hidden_size"), channels=v.optional("in_channels", 3),
                patch_size=v.optional("patch_size", 16), temporal_patch_size=v.optional("temporal_patch_size", 2),
                num_position_embeddings=v.optional("num_position_embeddings", 2304),
                spatial_merge_size=v.optional("spatial_merge_size", 2),
                deepstack=_deepstack(vision), heads=v.optional("num_heads", 16)))
        elif kind == "siglip_vision_model" and model_type == "gemma3_text":
            parts.append(SiglipVisionTower(
                layers=layers("num_hidden_layers"), hidden=v.required("hidden_size"),
                intermediate=v.required("intermediate_size"), text_hidden=text_hidden,
                image_size=v.optional("image_size", 896), patch_size=v.optional("patch_size", 14),
                channels=v.optional("num_channels", 3), heads=v.optional("num_attention_heads", 16)))
        elif kind == "llama4_vision_model":
            parts.append(Llama4VisionTower(
                layers=layers("num_hidden_layers"), hidden=v.required("hidden_size"),
                intermediate=v.required("intermediate_size"), text_hidden=text_hidden,
                image_size=v.required("image_size"), patch_size=v.required("patch_size"),
                channels=v.optional("num_channels", 3), projector_input_dim=v.required("projector_input_dim"),
                projector_output_dim=v.required("projector_output_dim"),
                vision_output_dim=v.required("vision_output_dim"),
                projector_bias=bool(vision.get("multi_modal_projector_bias", False))))
        elif kind == "pixtral":
            parts.append(PixtralVisionTower(
                layers=layers("num_hidden_layers"), hidden=v.required("hidden_size"),
                intermediate=v.required("intermediate_size"), text_hidden=text_hidden,
                patch_size=v.optional("patch_size", 14), channels=v.optional("num_channels", 3),
                spatial_merge_size=_whole("spatial_merge_size", top.get("spatial_merge_size", 2)),
                projector_bias=bool(top.get("multimodal_projector_bias", False)),
                image_size=v.optional("image_size", 1540), heads=v.optional("num_attention_heads", 16)))
        elif kind == "gemma3n_vision" and str(vision.get("architecture", ""))[:40] in MOBILENET_V5:
            _gemma3n_defaults(vision, "vision_config", ("hidden_size", "vocab_size"), notes)
            parts.append(MobileNetV5Tower(
                text_hidden=text_hidden, architecture=vision["architecture"], hidden=v.optional("hidden_size", 2048),
                vocab_size=v.optional("vocab_size", 128)))
        else:
            arch = f" ({str(vision.get('architecture'))[:40]})" if "architecture" in vision else ""
            notes.append(f"vision tower {kind or '(no model_type)'!r}{arch} is not laid out by pycore: its "
                         "parameters are not counted")
    audio = top.get("audio_config") if isinstance(top, dict) else None
    if isinstance(audio, dict):
        if audio.get("model_type") == "gemma3n_audio":
            parts.append(_gemma3n_audio(audio, text_hidden, notes))
        else:
            notes.append(f"audio tower {str(audio.get('model_type', '(no model_type)'))[:40]!r} is not laid out by "
                         "pycore: its parameters are not counted")
    for key in _MTP_KEYS:
        n = text.get(key)
        if n is None:
            continue
        n = _whole(key, n)
        if n > _MAX_PART_LAYERS:
            raise InputError(key, f"{n} MTP layers is beyond any model")
        if n:
            # DeepSeek-V3 / GLM-4.5 store embed_tokens and shared_head.head in each NextN layer; Qwen3.5 shares
            # the model's unless mtp_use_dedicated_embeddings
            own = key == "num_nextn_predict_layers" or bool(text.get("mtp_use_dedicated_embeddings"))
            parts.append(MTPLayers(n, own_embeddings=own))
    return tuple(parts)


def _read_mla(c, model_type, fields):
    if model_type not in ("deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_linear"):
        return
    # a latent of 0 is no MLA at all (transformers DeepseekV3Attention always builds kv_a_proj_with_mqa of
    # kv_lora_rank + qk_rope_head_dim outputs and kv_a_layernorm over kv_lora_rank): refused, not read as GQA
    fields.update(kv_lora_rank=c.positive("kv_lora_rank"), q_lora_rank=c.optional("q_lora_rank", 0) or 0,
                  qk_rope_head_dim=c.required("qk_rope_head_dim"), qk_nope_head_dim=c.required("qk_nope_head_dim"),
                  v_head_dim=c.required("v_head_dim"))
    fields["head_dim"] = fields["qk_nope_head_dim"] + fields["qk_rope_head_dim"]


def _read_layer_types(c, model_type, fields, layers):
    """Which layers use sliding-window attention, and the window."""
    window = c.optional("sliding_window", None)
    explicit = _list(c, "layer_types")
    if explicit:
        kinds = _layer_kinds(c, model_type, layers)
        if any(k not in (FULL, SLIDING) for k in kinds):  # a recurrent or chunked layer in an attention-only family
            raise InputError("layer_types", f"{model_type} layers are full or sliding attention; "
                             f"{_quote(next(t for t, k in zip(explicit, kinds) if k not in (FULL, SLIDING)))} is not")
        types = kinds
    elif not window:
        return
    elif model_type in ("gemma2", "gpt_oss"):
        types = tuple(SLIDING if i % 2 == 0 else FULL for i in range(layers))  # even layers slide
    elif model_type == "gemma3_text":
        pattern = c.divisor("sliding_window_pattern", 6)
        types = tuple(FULL if (i + 1) % pattern == 0 else SLIDING for i in range(layers))
    elif model_type in ("qwen2", "qwen3", "qwen2_moe", "qwen3_moe"):
        if not c.optional("use_sliding_window", False):
            return
        first = c.optional("max_window_layers", layers)
        types = tuple(SLIDING if i >= first else FULL for i in range(layers))
    else:  # Mistral v0.1, Phi-3, StarCoder2: every layer slides
        types = (SLIDING,) * layers
    if SLIDING in types:
        if not window:
            raise InputError("sliding_window", "layer_types has sliding layers but no sliding_window size")
        if window >= fields["max_context"]:
            return  # a window as long as the context never caps anything
        fields.update(layer_types=types, sliding_window=window)


def checkpoint_format(config: dict) -> tuple:
    """(weight format name, why) for the weights as the checkpoint ships them: its quantization_config
    (pycore.importers.quant_config), else its torch_dtype."""
    info = read_quantization(config)
    return info.format, info.why


# ---------------------------------------------------------------- hybrid families

def _refuse_unknown_layers(config: dict, model_type: str):
    """An unknown model_type is read as a plain decoder only when nothing in it says otherwise. Fields of
    recurrent or convolution layers, or layer_types naming such layers, mean the layer kinds and their
    state cannot be known: say so rather than print a figure that looks exact."""
    types = config.get("layer_types")
    if isinstance(types, list):
        if len(types) > MAX_LIST:
            raise InputError("layer_types", f"{len(types):,} entries: more than {MAX_LIST:,}")
        compressed = sorted({str(t) for t in types if str(t) in _COMPRESSED_LAYER_WORDS})
        if compressed:
            raise InputError("layer_types", f"{', '.join(compressed)} layers (DeepSeek V4's compressed attentions) "
                             "are not modelled: their KV cache and weights cannot be counted here")
        unknown = sorted({str(t)[:30] for t in types if _LAYER_WORDS.get(str(t)) not in (FULL, SLIDING, CHUNKED)})
        if unknown:
            raise InputError("layer_types", f"model_type {model_type[:40]!r} is not one pycore knows, and its layer "
                             f"kinds {', '.join(unknown[:4])} keep a state whose size it cannot read")
    compressed_fields = sorted(k for k in _COMPRESSED_FIELDS if k in config)
    if compressed_fields or model_type == "deepseek_v4":
        raise InputError("model_type", f"{model_type[:40]!r} describes compressed attention "
                         f"({', '.join(compressed_fields) or 'DeepSeek V4'}): DeepSeek V4's compressed sparse and "
                         "heavily compressed attentions and hyper-connections are not modelled, so its KV cache and "
                         "weights cannot be counted here")
    state_fields = sorted(k[:40] for k in config if isinstance(k, str) and k.startswith(_STATE_FIELD_PREFIXES))
    if state_fields:
        raise InputError("model_type", f"{model_type[:40]!r} is not one pycore knows, and its config describes "
                         f"recurrent or convolution layers ({', '.join(state_fields[:4])}): their kinds and state "
                         "cannot be read from the standard fields")


def _layer_kinds(c, model_type, layers, linear_kind=None, mamba_kind=None) -> tuple:
    """The explicit layer_types of a config as pycore layer kinds, or None when it has none."""
    explicit = _list(c, "layer_types")
    if not explicit:
        return None
    if len(explicit) != layers:
        raise InputError("layer_types", f"{len(explicit)} entries for {layers} layers")
    words = dict(_LAYER_WORDS, linear_attention=linear_kind, mamba=mamba_kind)
    out = []
    for t in explicit:
        kind = words.get(t) if isinstance(t, str) else None
        if t in _COMPRESSED_LAYER_WORDS:
            raise InputError("layer_types", f"{t} layers (DeepSeek V4's compressed attentions) are not modelled: "
                             "their KV cache and weights cannot be counted here")
        if kind is None:
            raise InputError("layer_types", f"{_quote(t)} is not a layer kind pycore knows for {model_type}")
        out.append(kind)
    return tuple(out)


def _read_hybrid(c, model_type, fields, layout, layers, notes):
    """Layer kinds, state sizes and per-layer FFN kinds of the hybrid families (_HYBRID_FAMILIES)."""
    H = fields["hidden_size"]
    if model_type in ("qwen3_next", "qwen3_5_text", "qwen3_5_moe_text"):
        _read_qwen_gdn(c, model_type, fields, layers)
    elif model_type == "lfm2":
        types = _layer_kinds(c, model_type, layers)
        if types is None:
            idxs = _list(c, "full_attn_idxs")
            if idxs is None:
                raise InputError("layer_types", "missing: LFM2 needs layer_types or full_attn_idxs")
            attention = {_whole("full_attn_idxs", i) for i in idxs}
            types = tuple(FULL if i in attention else SHORT_CONV for i in range(layers))
        width = c.optional("block_ff_dim", None) or fields["intermediate_size"]
        if width is None:
            raise InputError("block_ff_dim", "missing: the FFN width is needed")
        if c.optional("block_auto_adjust_ff_dim", True):
            # transformers Lfm2MLP: 2/3 of the width, times the multiplier, rounded up to block_multiple_of
            width = int(2 * width / 3)
            multiplier = c.config.get("block_ffn_dim_multiplier")
            if isinstance(multiplier, (int, float)) and not isinstance(multiplier, bool) and 0 < multiplier < 64:
                width = int(multiplier * width)
            step = c.divisor("block_multiple_of", 256)
            width = step * -(-width // step)
        fields.update(layer_types=types, intermediate_size=width, conv_l_cache=c.required("conv_L_cache"))
        if isinstance(c.config.get("tie_embedding"), bool):  # LFM2's own spelling
            fields["tie_embeddings"] = c.config["tie_embedding"]
    elif model_type == "jamba":
        period, offset = c.required("attn_layer_period"), c.optional("attn_layer_offset", 0)
        e_period, e_offset = c.required("expert_layer_period"), c.optional("expert_layer_offset", 0)
        for key, p in (("attn_layer_period", period), ("expert_layer_period", e_period)):
            if p == 0:
                raise InputError(key, "must be at least 1")
        experts = c.optional("num_experts", 0)
        fields["layer_types"] = tuple(FULL if i % period == offset else MAMBA for i in range(layers))
        fields["ffn_types"] = tuple(MOE if experts > 1 and i % e_period == e_offset else DENSE for i in range(layers))
        if experts > 1:
            fields.update(num_experts=experts, experts_per_token=c.required("num_experts_per_tok"),
                          expert_intermediate_size=fields["intermediate_size"])
        expand = c.positive("mamba_expand")
        rank = c.config.get("mamba_dt_rank", "auto")
        fields.update(ssm_d_inner=expand * H, ssm_d_state=c.required("mamba_d_state"), ssm_d_conv=c.required("mamba_d_conv"),
                      ssm_dt_rank=-(-H // 16) if rank == "auto" else _whole("mamba_dt_rank", rank),
                      ssm_conv_bias=bool(c.optional("mamba_conv_bias", True)),
                      ssm_proj_bias=bool(c.optional("mamba_proj_bias", False)))
    elif model_type == "nemotron_h":
        pattern = c.config.get("hybrid_override_pattern")
        if not isinstance(pattern, str) or not pattern:
            raise InputError("hybrid_override_pattern", "missing: Nemotron-H needs its layer pattern")
        if len(pattern) != layers:
            raise InputError("hybrid_override_pattern", f"{min(len(pattern), 10**6):,} characters for {layers} layers")
        kinds = {"M": (MAMBA2, NO_FFN), "*": (FULL, NO_FFN), "-": (NO_MIXER, DENSE), "E": (NO_MIXER, MOE)}
        bad = sorted(set(pattern) - set(kinds))
        if bad:
            raise InputError("hybrid_override_pattern", f"unknown layer symbol {_quote(bad[0][:5])}: M, *, - and E are known")
        fields["layer_types"] = tuple(kinds[ch][0] for ch in pattern)
        fields["ffn_types"] = tuple(kinds[ch][1] for ch in pattern)
        if "E" in pattern:
            width = c.required("moe_intermediate_size")
            fields.update(num_experts=c.required("n_routed_experts"), experts_per_token=c.required("num_experts_per_tok"),
                          expert_intermediate_size=width,
                          shared_expert_intermediate_size=c.optional("moe_shared_expert_intermediate_size", 0) or 0)
            layout["expert_score_bias"] = True
        head_dim = c.positive("attention_head_dim", None) or c.positive("head_dim", None)
        if head_dim:
            fields["head_dim"] = head_dim
        heads = c.required("mamba_num_heads")
        fields.update(ssm_num_heads=heads, ssm_d_inner=heads * c.required("mamba_head_dim"),
                      ssm_d_state=c.required("ssm_state_size"), ssm_d_conv=c.required("conv_kernel"),
                      ssm_n_groups=c.required("n_groups"), ssm_conv_bias=bool(c.optional("use_conv_bias", True)),
                      ssm_proj_bias=bool(c.optional("use_bias", False)))
        layout["norms_per_layer"] = 2  # one norm per block: the mixer's or the FFN's (models.weight_tensors)
        layout["mlp_bias"] = bool(c.optional("mlp_bias", False))
    elif model_type == "granitemoehybrid":
        types = _layer_kinds(c, model_type, layers, mamba_kind=MAMBA2)
        if types is None:
            block = _list(c, "layers_block_type")
            if block is None:
                raise InputError("layer_types", "missing: Granite hybrid models need layer_types")
            types = tuple(MAMBA2 if t == "mamba" else FULL for t in block)
            if len(types) != layers:
                raise InputError("layers_block_type", f"{len(types)} entries for {layers} layers")
        experts = c.optional("num_local_experts", 0)
        shared = c.optional("shared_intermediate_size", 0)
        fields["layer_types"] = types
        if experts:
            fields.update(num_experts=experts, experts_per_token=c.required("num_experts_per_tok"),
                          expert_intermediate_size=fields["intermediate_size"], intermediate_size=0,
                          shared_expert_intermediate_size=shared)
        else:  # the dense variants: the shared MLP is the FFN
            fields["intermediate_size"] = shared or fields["intermediate_size"]
        _read_mamba2(c, fields, H)
    elif model_type == "falcon_h1":
        fields["layer_types"] = (PARALLEL_HYBRID,) * layers
        _read_mamba2(c, fields, H, d_ssm=c.optional("mamba_d_ssm", None))
        layout["ssm_gated_norm"] = bool(c.optional("mamba_rms_norm", False))
        bias = bool(c.optional("projectors_bias", False))
        layout.update(qkv_bias=bias, o_bias=bias)
    elif model_type == "llama4_text":
        types = _layer_kinds(c, model_type, layers)
        if types is None:
            no_rope = _list(c, "no_rope_layers")
            if not no_rope:  # transformers' default: every 4th layer is a NoPE full-attention layer
                no_rope = [int((i + 1) % 4 != 0) for i in range(layers)]
            if len(no_rope) != layers:
                raise InputError("no_rope_layers", f"{len(no_rope)} entries for {layers} layers")
            types = tuple(CHUNKED if r else FULL for r in no_rope)  # RoPE layers use chunked attention
        chunk = c.optional("attention_chunk_size", None)
        if not chunk or chunk >= fields["max_context"]:
            types = tuple(FULL if t == CHUNKED else t for t in types)
        fields.update(layer_types=types, attention_chunk=chunk or 0)
        step = c.divisor("interleave_moe_layer_step", 1)
        moe_layers = _list(c, "moe_layers")
        moe = ({_whole("moe_layers", i) for i in moe_layers} if moe_layers
               else set(range(step - 1, layers, step)))
        width = fields["intermediate_size"]
        fields.update(num_experts=c.required("num_local_experts"), experts_per_token=c.required("num_experts_per_tok"),
                      expert_intermediate_size=width, shared_expert_intermediate_size=width,
                      ffn_types=tuple(MOE if i in moe else DENSE for i in range(layers)),
                      intermediate_size=c.optional("intermediate_size_mlp", None) or width)
    elif model_type in ("minimax_m1", "minimax"):
        types = _layer_kinds(c, model_type, layers, linear_kind=LIGHTNING)
        if types is None:
            flags = _list(c, "attn_type_list")
            if flags is None:
                raise InputError("attn_type_list", "missing: MiniMax needs attn_type_list or layer_types")
            if len(flags) != layers or any(f not in (0, 1) or isinstance(f, bool) for f in flags):
                raise InputError("attn_type_list", f"expected {layers} entries of 0 (lightning) or 1 (softmax)")
            types = tuple(FULL if f == 1 else LIGHTNING for f in flags)
        width = fields["intermediate_size"]
        fields.update(layer_types=types, num_experts=c.required("num_local_experts"),
                      experts_per_token=c.required("num_experts_per_tok"), expert_intermediate_size=width,
                      intermediate_size=0, shared_expert_intermediate_size=c.optional("shared_intermediate_size", 0) or 0)
    elif model_type == "kimi_linear":
        _read_kimi_linear(c, fields, layers, notes)
    elif model_type == "deepseek_v32":
        fields.update(index_n_heads=c.positive("index_n_heads"), index_head_dim=c.positive("index_head_dim"))
        notes.append("DeepSeek sparse attention: the indexer's key cache is counted as vLLM keeps it (FP8 keys with "
                     "a float32 scale per 128 values) whatever the KV format chosen")


def _read_kimi_linear(c, fields, layers, notes):
    """Kimi Linear (vLLM vllm/model_executor/models/kimi_linear.py KimiDecoderLayer): layer i is KDA when i + 1 is
    in linear_attn_config.kda_layers (1-based), else MLA; MoE from first_k_dense_replace on, every moe_layer_freq
    layers, with num_shared_experts shared experts of moe_intermediate_size."""
    lin = c.config.get("linear_attn_config")
    if lin is None:  # KimiLinearConfig.is_linear_attn: no linear_attn_config, every layer is MLA
        types = (FULL,) * layers
    else:
        if not isinstance(lin, dict):
            raise InputError("linear_attn_config", "expected an object with kda_layers and full_attn_layers")
        sub = _Reader(lin, {})
        kda = _list(sub, "kda_layers")
        full = _list(sub, "full_attn_layers")
        if kda is None or full is None:
            raise InputError("linear_attn_config", "kda_layers and full_attn_layers are both needed")
        kda_set = {_whole("linear_attn_config.kda_layers", i) for i in kda}
        full_set = {_whole("linear_attn_config.full_attn_layers", i) for i in full}
        if kda_set & full_set or kda_set | full_set != set(range(1, layers + 1)):
            raise InputError("linear_attn_config", f"kda_layers and full_attn_layers must split layers 1 to {layers} "
                             "(1-based) between them, each layer once")
        types = tuple(KDA if i + 1 in kda_set else FULL for i in range(layers))
        if kda_set:
            def size(key):
                if lin.get(key) is None:
                    raise InputError(f"linear_attn_config.{key}", "missing: the KDA state size needs it")
                return _whole(f"linear_attn_config.{key}", lin[key])
            fields.update(kda_num_heads=size("num_heads"), kda_head_dim=size("head_dim"),
                          kda_conv_kernel=size("short_conv_kernel_size"))
            if fields["kda_num_heads"] > 1 << 12 or fields["kda_head_dim"] > 1 << 13 or fields["kda_conv_kernel"] > 1 << 10:
                raise InputError("linear_attn_config", "KDA heads, head_dim or kernel beyond any model")
            # vLLM mamba_utils.py MambaStateDtypeCalculator.kda_state_dtype: the recurrent state is float32
            fields["ssm_dtype"] = "float32"
            notes.append("kimi_linear: the KDA recurrent state is counted in float32 and the conv state in the "
                         "engine's state dtype (vLLM MambaStateDtypeCalculator.kda_state_dtype; llama.cpp: both f32)")
    fields["layer_types"] = types
    experts = c.optional("num_experts", 0) or 0
    if experts:
        width = c.required("moe_intermediate_size")
        first, freq = c.optional("first_k_dense_replace", 0) or 0, c.divisor("moe_layer_freq", 1)
        fields.update(num_experts=experts, experts_per_token=c.required("num_experts_per_token"),
                      expert_intermediate_size=width,
                      shared_expert_intermediate_size=(c.optional("num_shared_experts", 0) or 0) * width,
                      ffn_types=tuple(MOE if i >= first and i % freq == 0 else DENSE for i in range(layers)))
    if c.config.get("mla_use_nope"):
        notes.append("kimi_linear: the MLA layers use no positional encoding (mla_use_nope), but still cache the "
                     "qk_rope_head_dim values of each token beside the latent, as vLLM's MLA cache does")


def _read_mamba2(c, fields, H, d_ssm=None):
    """Mamba-2 sizes under the mamba_* names of Granite 4.0-H and Falcon-H1."""
    heads = c.required("mamba_n_heads")
    head = c.config.get("mamba_d_head", "auto")
    d_inner = d_ssm or (c.positive("mamba_expand") * H if head in ("auto", None) else heads * _whole("mamba_d_head", head))
    fields.update(ssm_num_heads=heads, ssm_d_inner=d_inner, ssm_d_state=c.required("mamba_d_state"),
                  ssm_d_conv=c.required("mamba_d_conv"), ssm_n_groups=c.required("mamba_n_groups"),
                  ssm_conv_bias=bool(c.optional("mamba_conv_bias", True)),
                  ssm_proj_bias=bool(c.optional("mamba_proj_bias", False)))


def _read_qwen_gdn(c, model_type, fields, layers):
    """Qwen3-Next and Qwen3.5/3.6: Gated DeltaNet layers and full attention every full_attention_interval-th
    layer (or as layer_types says); MoE layers by decoder_sparse_step and mlp_only_layers
    (transformers modeling_qwen3_next.py Qwen3NextDecoderLayer)."""
    types = _layer_kinds(c, model_type, layers, linear_kind=GATED_DELTANET)
    if types is None:
        interval = c.required("full_attention_interval")
        if interval == 0:
            raise InputError("full_attention_interval", "must be at least 1")
        types = tuple(FULL if (i + 1) % interval == 0 else GATED_DELTANET for i in range(layers))
    fields.update(layer_types=types, linear_num_key_heads=c.required("linear_num_key_heads"),
                  linear_num_value_heads=c.required("linear_num_value_heads"),
                  linear_key_head_dim=c.required("linear_key_head_dim"),
                  linear_value_head_dim=c.required("linear_value_head_dim"),
                  linear_conv_kernel=c.required("linear_conv_kernel_dim"))
    dtype = c.config.get("mamba_ssm_dtype")
    if isinstance(dtype, str):
        fields["ssm_dtype"] = dtype[:20]
    experts = c.optional("num_experts", 0) if model_type != "qwen3_5_text" else 0
    if experts:
        step = c.divisor("decoder_sparse_step", 1)
        dense_only = {_whole("mlp_only_layers", i) for i in (_list(c, "mlp_only_layers") or [])}
        fields.update(num_experts=experts, experts_per_token=c.required("num_experts_per_tok"),
                      expert_intermediate_size=c.required("moe_intermediate_size"),
                      shared_expert_intermediate_size=c.optional("shared_expert_intermediate_size", 0) or 0,
                      ffn_types=tuple(MOE if i not in dense_only and (i + 1) % step == 0 else DENSE
                                      for i in range(layers)))
        if DENSE not in fields["ffn_types"] and fields.get("intermediate_size") is None:
            fields["intermediate_size"] = 0
