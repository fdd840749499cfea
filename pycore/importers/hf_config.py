"""Hugging Face config.json (as a dict) -> ModelSpec.

Core sizes (hidden size, layers, heads, vocabulary, FFN width) must be in the config: a guess
there would be a wrong number, so their absence is an error naming the field. Optional fields
take the defaults of the family's transformers configuration class (cited per family below).
"""
import math

from ..errors import InputError
from .quant_config import read_quantization
from ..models import FULL, SLIDING, ModelSpec

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
}
# Multimodal wrappers whose language model sits in text_config
_TEXT_CONFIG_WRAPPERS = {"gemma3": "gemma3_text", "llava": None, "mistral3": None, "llama4": None}
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
        notes.append(f"model_type {model_type[:40]!r} is not one pycore knows: read as a Llama-style decoder")
        family = _FAMILIES["llama"]
    c = _Reader(config, family.get("defaults", {}))
    layout = dict(family.get("layout", {}))

    hidden = c.required("hidden_size")
    layers = c.required("num_hidden_layers")
    heads = c.required("num_attention_heads")
    vocab = c.required("vocab_size")
    kv_heads = c.optional("num_key_value_heads", None)
    head_dim = c.optional("head_dim", None)
    if head_dim is None:
        if hidden % heads:
            raise InputError("head_dim", f"hidden_size {hidden} is not a multiple of {heads} heads and no head_dim is given")
        head_dim = hidden // heads
    fields = dict(
        name=name or str(config.get("_name_or_path") or model_type)[:200], arch=family["arch"],
        vocab_size=vocab, hidden_size=hidden, num_layers=layers, num_heads=heads,
        head_dim=head_dim, max_context=c.optional("max_position_embeddings", None) or 0,
        tie_embeddings=bool(c.optional("tie_word_embeddings", True)), source=source,
    )
    if not fields["max_context"]:
        raise InputError("max_position_embeddings", "missing: the model's maximum context is needed")

    if model_type == "gpt_neox":
        kv_heads = heads
        fields["intermediate_size"] = c.optional("intermediate_size", None) or 4 * hidden
        layout.update(qkv_bias=bool(c.optional("attention_bias", True)), o_bias=bool(c.optional("attention_bias", True)))
    elif model_type == "falcon":
        new_arch = bool(c.optional("new_decoder_architecture", False))
        if new_arch:
            kv_heads = c.optional("num_kv_heads", None) or heads
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
    if fields.get("intermediate_size") is None:
        if fields.get("num_experts") and not fields.get("first_dense_layers"):
            fields["intermediate_size"] = 0
        else:
            raise InputError("intermediate_size", "missing: the FFN width is needed")
    _read_layer_types(c, model_type, fields, layers)
    fields.update(layout)
    fields["parts"] = read_parts(top, config, model_type, fields["hidden_size"], notes)
    quant = read_quantization(top)
    fields["quant_ignore"] = quant.ignore
    notes.extend(quant.notes)
    fields["notes"] = tuple(notes)
    return ModelSpec(**fields)


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


def _whole(key, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(key, f"expected a whole number, got {str(value)[:40]!r}")
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise InputError(key, f"expected a whole number, got {value!r}")
        value = int(value)
    if value < 0:
        raise InputError(key, f"must not be negative, got {value}")
    if value > 10**12:
        raise InputError(key, f"{value} is absurdly large")
    return value


def _read_moe(c, model_type, fields, layout):
    if model_type in ("mixtral", "gpt_oss"):
        experts = c.optional("num_local_experts", 0)
        fields.update(num_experts=experts, experts_per_token=c.optional("num_experts_per_tok", 0),
                      expert_intermediate_size=fields["intermediate_size"])
        fields["intermediate_size"] = 0
    elif model_type in ("qwen2_moe", "qwen3_moe"):
        step, dense_only = c.optional("decoder_sparse_step", 1), c.optional("mlp_only_layers", []) or []
        if step != 1 or dense_only:
            raise InputError("decoder_sparse_step", "MoE layers interleaved with dense layers are not supported yet")
        fields.update(num_experts=c.optional("num_experts", 0), experts_per_token=c.optional("num_experts_per_tok", 0),
                      expert_intermediate_size=c.required("moe_intermediate_size"))
        shared = c.optional("shared_expert_intermediate_size", 0) if model_type == "qwen2_moe" else 0
        fields["shared_expert_intermediate_size"] = shared
        layout["shared_expert_gate"] = bool(shared)
    elif model_type in ("deepseek_v2", "deepseek_v3"):
        routed = c.optional("n_routed_experts", 0)
        if not routed:
            return
        if c.optional("moe_layer_freq", 1) != 1:
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


_FAMILY_READERS = {"glm4": _glm4, "glm4_moe": _glm4_moe, "minimax_m2": _minimax_m2, "ernie4_5_moe": _ernie4_5_moe,
                   "olmo2": _olmo, "olmo3": _olmo, "smollm3": _smollm3}


# ---------------------------------------------------------------- parts besides the language model

_MTP_KEYS = ("num_nextn_predict_layers", "mtp_num_hidden_layers")
_MAX_PART_LAYERS = 1024


def read_parts(top: dict, text: dict, model_type: str, text_hidden: int, notes: list) -> tuple:
    """The checkpoint's vision tower (vision_config) and MTP layers as pycore.parts specs; a tower of a kind
    pycore cannot lay out, or an audio tower, becomes a note rather than a silent zero."""
    from ..parts import MTPLayers, PixtralVisionTower, QwenVisionTower, SiglipVisionTower
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
                deepstack=len(vision.get("deepstack_visual_indexes") or ()) % 1000))
        elif kind == "siglip_vision_model" and model_type == "gemma3_text":
            parts.append(SiglipVisionTower(
                layers=layers("num_hidden_layers"), hidden=v.required("hidden_size"),
                intermediate=v.required("intermediate_size"), text_hidden=text_hidden,
                image_size=v.optional("image_size", 896), patch_size=v.optional("patch_size", 14),
                channels=v.optional("num_channels", 3)))
        elif kind == "pixtral":
            parts.append(PixtralVisionTower(
                layers=layers("num_hidden_layers"), hidden=v.required("hidden_size"),
                intermediate=v.required("intermediate_size"), text_hidden=text_hidden,
                patch_size=v.optional("patch_size", 14), channels=v.optional("num_channels", 3),
                spatial_merge_size=_whole("spatial_merge_size", top.get("spatial_merge_size", 2)),
                projector_bias=bool(top.get("multimodal_projector_bias", False))))
        else:
            notes.append(f"vision tower {kind or '(no model_type)'!r} is not laid out by pycore: its parameters "
                         "are not counted")
    if isinstance(top, dict) and isinstance(top.get("audio_config"), dict):
        notes.append("audio tower (audio_config) is not laid out by pycore: its parameters are not counted")
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
    if model_type not in ("deepseek_v2", "deepseek_v3"):
        return
    fields.update(kv_lora_rank=c.required("kv_lora_rank"), q_lora_rank=c.optional("q_lora_rank", 0) or 0,
                  qk_rope_head_dim=c.required("qk_rope_head_dim"), qk_nope_head_dim=c.required("qk_nope_head_dim"),
                  v_head_dim=c.required("v_head_dim"))
    fields["head_dim"] = fields["qk_nope_head_dim"] + fields["qk_rope_head_dim"]


def _read_layer_types(c, model_type, fields, layers):
    """Which layers use sliding-window attention, and the window."""
    window = c.optional("sliding_window", None)
    explicit = c.optional("layer_types", None)
    if isinstance(explicit, list) and explicit:
        types = tuple(SLIDING if str(t).startswith("sliding") else FULL for t in explicit)
    elif not window:
        return
    elif model_type in ("gemma2", "gpt_oss"):
        types = tuple(SLIDING if i % 2 == 0 else FULL for i in range(layers))  # even layers slide
    elif model_type == "gemma3_text":
        pattern = c.optional("sliding_window_pattern", 6)
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
