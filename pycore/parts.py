"""What a checkpoint ships besides its language model: vision and audio towers with their projectors,
and multi-token-prediction (MTP) layers. One small frozen spec per kind of part; each lists its weight
tensors (ggml order: ne[0] is a linear layer's input features), from which its parameter count follows.

Which parts an engine loads for text-only use is the engine's business (`LOADED_BY`); the language model
itself stays in pycore.models.
"""
from dataclasses import dataclass, replace
from functools import lru_cache

from .models import MATRIX, SMALL, TP_REPLICATE, TP_SPLIT, ModelSpec, Tensor, weight_tensors

LANGUAGE, VISION, AUDIO, MTP = "language", "vision", "audio", "mtp"
PART_KEYS = (LANGUAGE, VISION, AUDIO, MTP)

# What each engine loads of a checkpoint when it serves text, with where that is decided.
LOADED_BY = {
    "llama.cpp": ((LANGUAGE,),
                  "llama.cpp: the text GGUF holds the language model; vision/audio towers go to a separate mmproj "
                  "GGUF loaded only with --mmproj (convert_hf_to_gguf.py --mmproj); MTP/NextN layers are skipped by "
                  "the converter (DeepSeek, Qwen3.5) or kept in the file but not loaded (GLM-4.5: TENSOR_SKIP in "
                  "src/llama-model.cpp)"),
    "koboldcpp": ((LANGUAGE,),
                  "KoboldCpp: llama.cpp's text GGUF holds the language model; a vision or audio projector loads only "
                  "with --mmproj, from its own GGUF into its own context (LostRuins/koboldcpp "
                  "kcpp_src/gpttype_adapter.cpp@4fd0ceee init_mtmd_ctx_params), not counted here"),
    "vllm": ((LANGUAGE, VISION, AUDIO),
             "vLLM: a multimodal architecture loads its encoders (unless --limit-mm-per-prompt sets every modality "
             "to 0); MTP layers load only as a speculative-decoding draft (--speculative-config method mtp; "
             "model loaders skip 'mtp.' and layers past num_hidden_layers)"),
    "sglang": ((LANGUAGE, VISION, AUDIO),
               "SGLang: a multimodal architecture loads its encoders unless --language-only is given "
               "(python/sglang/srt/arg_groups/memory_hook.py@031ed82d is_vlm); MTP/NextN layers load only as a "
               "speculative draft (--speculative-algorithm EAGLE/NEXTN)"),
    "transformers": ((LANGUAGE, VISION, AUDIO),
                     "transformers: from_pretrained of the checkpoint's architecture loads its towers; MTP layers "
                     "are unexpected keys, ignored (DeepseekV3 _keys_to_ignore_on_load_unexpected)"),
}


def _tensor(name, ne, small=False, replicated=False):
    kind = SMALL if small or len(ne) < 2 else MATRIX
    return Tensor(name, name.rsplit(".", 2)[-2] if "." in name else name, -1, tuple(ne), kind,
                  TP_REPLICATE if replicated or kind == SMALL else TP_SPLIT)


class _Builder:
    def __init__(self, prefix):
        self.prefix, self.out = prefix, []

    def linear(self, name, n_in, n_out, bias=True):
        self.out.append(_tensor(f"{self.prefix}{name}.weight", (n_in, n_out)))
        if bias:
            self.out.append(_tensor(f"{self.prefix}{name}.bias", (n_out,), small=True))

    def norm(self, name, width, bias=True):
        self.out.append(_tensor(f"{self.prefix}{name}.weight", (width,), small=True))
        if bias:
            self.out.append(_tensor(f"{self.prefix}{name}.bias", (width,), small=True))

    def raw(self, name, ne, small=False):
        self.out.append(_tensor(f"{self.prefix}{name}", ne, small=small, replicated=True))


def _vit_block(b, i, hidden, intermediate, fused_qkv, bias=True, gated=False, layer_norm=True):
    """One pre-norm ViT block: two norms, attention (fused qkv or q/k/v) and an MLP."""
    p = f"blk.{i}."
    b.norm(p + "ln1", hidden, bias=layer_norm)
    if fused_qkv:
        b.linear(p + "attn_qkv", hidden, 3 * hidden, bias)
    else:
        for name in ("attn_q", "attn_k", "attn_v"):
            b.linear(p + name, hidden, hidden, bias)
    b.linear(p + "attn_out", hidden, hidden, bias)
    b.norm(p + "ln2", hidden, bias=layer_norm)
    if gated:
        b.linear(p + "ffn_gate", hidden, intermediate, bias)
    b.linear(p + "ffn_up", hidden, intermediate, bias)
    b.linear(p + "ffn_down", intermediate, hidden, bias)


@dataclass(frozen=True)
class QwenVisionTower:
    """Qwen3-VL / Qwen3.5 vision tower (transformers models/qwen3_vl/modeling_qwen3_vl.py Qwen3VLVisionModel):
    a Conv3d patch embedding with bias (hidden × channels × temporal_patch × patch²), a learned position
    embedding of num_position_embeddings rows, `depth` LayerNorm ViT blocks (fused qkv, biased
    linear_fc1/fc2), and a patch merger (LayerNorm, fc1 of merge²·hidden square, fc2 to the language width);
    Qwen3-VL adds one merger per deepstack_visual_indexes entry."""

    depth: int
    hidden: int
    intermediate: int
    out_hidden: int
    channels: int = 3
    patch_size: int = 16
    temporal_patch_size: int = 2
    num_position_embeddings: int = 2304
    spatial_merge_size: int = 2
    deepstack: int = 0
    heads: int = 16
    image_size: int = 0  # the Qwen towers take any size (max_pixels); Ollama estimates no graph for them
    key = VISION
    ollama_arch = "qwen3vl"
    label = "vision tower (Qwen-VL ViT + merger)"

    def tensors(self, spec=None) -> tuple:
        b = _Builder("v.")
        h = self.hidden
        b.raw("patch_embd.weight", (self.patch_size, self.patch_size, self.temporal_patch_size * self.channels, h))
        b.raw("patch_embd.bias", (h,), small=True)
        b.raw("position_embd.weight", (h, self.num_position_embeddings))
        for i in range(self.depth):
            _vit_block(b, i, h, self.intermediate, fused_qkv=True)
        merged = h * self.spatial_merge_size ** 2
        for m in range(1 + self.deepstack):
            p = "merger." if m == 0 else f"deepstack.{m - 1}."
            b.norm(p + "norm", h if m == 0 else merged)  # deepstack mergers normalise after the shuffle
            b.linear(p + "fc1", merged, merged)
            b.linear(p + "fc2", merged, self.out_hidden)
        return tuple(b.out)


@dataclass(frozen=True)
class SiglipVisionTower:
    """SigLIP vision tower as Gemma 3 uses it (transformers models/siglip/modeling_siglip.py, vision_use_head
    false): Conv2d patch embedding with bias, a position embedding of (image_size / patch_size)² rows,
    LayerNorm blocks with biased q/k/v/out and fc1/fc2, a post LayerNorm; then Gemma 3's projector
    (models/gemma3/modeling_gemma3.py Gemma3MultiModalProjector: mm_soft_emb_norm RMSNorm of the vision
    width, mm_input_projection_weight vision width × text width)."""

    layers: int
    hidden: int
    intermediate: int
    text_hidden: int
    image_size: int = 896
    patch_size: int = 14
    channels: int = 3
    heads: int = 16  # vision_config.num_attention_heads (the graph size Ollama estimates)
    key = VISION
    label = "vision tower (SigLIP + projector)"
    ollama_arch = "gemma3"

    def tensors(self, spec=None) -> tuple:
        b = _Builder("v.")
        h = self.hidden
        b.raw("patch_embd.weight", (self.patch_size, self.patch_size, self.channels, h))
        b.raw("patch_embd.bias", (h,), small=True)
        b.raw("position_embd.weight", (h, (self.image_size // self.patch_size) ** 2))
        for i in range(self.layers):
            _vit_block(b, i, h, self.intermediate, fused_qkv=False)
        b.norm("post_ln", h)
        b.norm("mm.soft_emb_norm", h, bias=False)
        b.raw("mm.input_projection.weight", (h, self.text_hidden))
        return tuple(b.out)


@dataclass(frozen=True)
class PixtralVisionTower:
    """Pixtral vision tower with Mistral 3's projector (transformers models/pixtral/modeling_pixtral.py,
    models/mistral3/modeling_mistral3.py): Conv2d patch embedding without bias, ln_pre RMSNorm, RMSNorm blocks
    with unbiased q/k/v/o and a gated MLP; projector: RMSNorm, patch merger (merge²·hidden → hidden) and two
    linears to the language width (biased when multimodal_projector_bias)."""

    layers: int
    hidden: int
    intermediate: int
    text_hidden: int
    patch_size: int = 14
    channels: int = 3
    spatial_merge_size: int = 2
    projector_bias: bool = False
    image_size: int = 1540  # vision_config.image_size (Mistral Small 3.1: 1540)
    heads: int = 16
    key = VISION
    ollama_arch = "mistral3"
    label = "vision tower (Pixtral + projector)"

    def tensors(self, spec=None) -> tuple:
        b = _Builder("v.")
        h = self.hidden
        b.raw("patch_embd.weight", (self.patch_size, self.patch_size, self.channels, h))
        b.norm("pre_ln", h, bias=False)
        for i in range(self.layers):
            _vit_block(b, i, h, self.intermediate, fused_qkv=False, bias=False, gated=True, layer_norm=False)
        b.norm("mm.norm", h, bias=False)
        b.linear("mm.patch_merger", h * self.spatial_merge_size ** 2, h, bias=False)
        b.linear("mm.linear_1", h, self.text_hidden, bias=self.projector_bias)
        b.linear("mm.linear_2", self.text_hidden, self.text_hidden, bias=self.projector_bias)
        return tuple(b.out)


@dataclass(frozen=True)
class Llama4VisionTower:
    """Llama 4's vision encoder with its adapter and projector (transformers models/llama4/modeling_llama4.py
    @000c33fd Llama4VisionModel, Llama4MultiModalProjector): an unfold patch embedding (a linear of
    channels·patch² → hidden, no bias), a class embedding, a learned position embedding of
    (image_size / patch_size)² + 1 rows, LayerNorms before and after `layers` ViT blocks (LayerNorm, biased
    q/k/v/o and fc1/fc2), the pixel-shuffle adapter Llama4VisionMLP2 (fc1 intermediate → projector_input_dim,
    fc2 projector_output_dim → projector_output_dim, biased only when multi_modal_projector_bias), and the
    projector linear_1 vision_output_dim → the language width, without bias."""

    layers: int
    hidden: int
    intermediate: int
    text_hidden: int
    image_size: int = 336
    patch_size: int = 14
    channels: int = 3
    projector_input_dim: int = 4096
    projector_output_dim: int = 4096
    vision_output_dim: int = 4096
    projector_bias: bool = False
    key = VISION
    label = "vision tower (Llama 4 ViT + pixel-shuffle adapter + projector)"

    def tensors(self, spec=None) -> tuple:
        b = _Builder("v.")
        h = self.hidden
        b.linear("patch_embd", self.channels * self.patch_size ** 2, h, bias=False)
        b.raw("class_embd", (h,), small=True)
        b.raw("position_embd.weight", (h, (self.image_size // self.patch_size) ** 2 + 1))
        b.norm("pre_ln", h)
        for i in range(self.layers):
            _vit_block(b, i, h, self.intermediate, fused_qkv=False)
        b.norm("post_ln", h)
        b.linear("mm.adapter.fc1", self.intermediate, self.projector_input_dim, bias=self.projector_bias)
        b.linear("mm.adapter.fc2", self.projector_output_dim, self.projector_output_dim, bias=self.projector_bias)
        b.linear("mm.linear_1", self.vision_output_dim, self.text_hidden, bias=False)
        return tuple(b.out)


def _gemma3n_embedder(b, width, vocab, text_hidden):
    """Gemma3nMultimodalEmbedder (transformers models/gemma3n/modeling_gemma3n.py @00aa0f5d): a `vocab`-row
    table of the tower's width for the placeholder token ids, hard and soft RMSNorms of that width, and a
    projection to the language width without bias; its post-projection RMSNorm has no weight (with_scale False)."""
    b.raw("mm.embedding.weight", (width, vocab))
    b.norm("mm.hard_embedding_norm", width, bias=False)
    b.norm("mm.soft_embedding_norm", width, bias=False)
    b.linear("mm.embedding_projection", width, text_hidden, bias=False)


# timm mobilenetv5_300m_enc (huggingface/pytorch-image-models timm/models/mobilenetv5.py @aa4b5850,
# _gen_mobilenet_v5), stage by stage. Blocks: ("er", kernel, expansion, out) EdgeResidual (fused MBConv);
# ("uir", start depthwise kernel, middle depthwise kernel, expansion, out) UniversalInvertedResidual, 0 = none;
# ("mqa", heads, key/value width, kv stride, out) MobileAttention with multi-query attention.
_MNV5_300M_STAGES = (
    (("er", 3, 4, 128),) * 3,
    (("uir", 3, 5, 6, 256), ("uir", 5, 0, 4, 256), ("uir", 3, 0, 4, 256), ("uir", 5, 0, 4, 256),
     ("uir", 3, 0, 4, 256)),
    (("uir", 5, 5, 6, 640),) + (("uir", 5, 0, 4, 640),) * 7 + (("uir", 0, 0, 1, 640),)
    + (("mqa", 12, 64, 2, 640), ("uir", 0, 0, 2, 640)) * 14,
    (("uir", 5, 5, 6, 1280),) + (("mqa", 16, 96, 1, 1280), ("uir", 0, 0, 2, 1280)) * 19,
)
MOBILENET_V5 = {"mobilenetv5_300m_enc": _MNV5_300M_STAGES}


def _make_divisible(v, divisor=8):
    """timm layers/helpers.py make_divisible (round_limit 0.9)."""
    n = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return n + divisor if n < 0.9 * v else n


@dataclass(frozen=True)
class MobileNetV5Tower:
    """Gemma 3n's vision tower, timm's MobileNetV5Encoder (timm/models/mobilenetv5.py @aa4b5850; the layer
    classes in timm/models/_efficientnet_blocks.py, timm/layers/attention2d.py MultiQueryAttention2d), with its
    multimodal embedder (embed_vision). Every norm is an RmsNorm2d (a weight, no bias); convolutions have no bias
    but the stem's; layer_scale_init_value 1e-5 gives every UIR and attention block of the stages a LayerScale2d
    (one gamma per output channel).

    - stem: 3×3 conv, 3 → 64 channels with bias, norm;
    - EdgeResidual: a full k×k conv in → mid (mid = in × expansion), norm, 1×1 conv mid → out, norm;
    - UniversalInvertedResidual: optional depthwise k×k on the input (norm), 1×1 in → mid (norm), optional
      depthwise k×k on mid (norm), 1×1 mid → out (norm), layer scale;
    - MobileAttention (multi-query): a norm, query 1×1 in → heads·d, key and value 1×1 in → d (one shared head),
      each after a depthwise 3×3 and a norm when the kv stride is above 1, output 1×1 heads·d → out, layer scale;
    - multi-scale fusion adapter over the last two stages (640 + 1280 channels): a UIR without depthwise convs or
      layer scale, 1920 → 3840 → `hidden` (2048), and a final norm.

    Then Gemma3nMultimodalEmbedder from `hidden` to the language width."""

    text_hidden: int
    architecture: str = "mobilenetv5_300m_enc"
    hidden: int = 2048  # vision_config.hidden_size: the fusion adapter's output (timm num_features 2048)
    vocab_size: int = 128
    stem: int = 64
    channels: int = 3
    key = VISION
    label = "vision tower (MobileNet-V5 + multimodal embedder)"
    ollama_loads = False  # Ollama's gemma3n is its text model only (ollama model/models/gemma3n/model.go @3c6cca52)

    def tensors(self, spec=None) -> tuple:
        b = _Builder("v.")
        c = self.stem
        b.raw("stem.conv.weight", (3, 3, self.channels, c))
        b.raw("stem.conv.bias", (c,), small=True)
        b.norm("stem.norm", c, bias=False)
        stage_out = []
        for s, stage in enumerate(MOBILENET_V5[self.architecture]):
            for i, blk in enumerate(stage):
                p = f"blk.{s}.{i}."
                kind, out = blk[0], blk[-1]
                if kind == "er":
                    k, mid = blk[1], _make_divisible(c * blk[2])
                    b.raw(p + "conv_exp.weight", (k, k, c, mid))
                    b.norm(p + "bn1", mid, bias=False)
                    b.linear(p + "conv_pwl", mid, out, bias=False)
                    b.norm(p + "bn2", out, bias=False)
                elif kind == "uir":
                    _uir(b, p, c, out, blk[1], blk[2], blk[3], layer_scale=True)
                else:
                    heads, d, kv_stride = blk[1], blk[2], blk[3]
                    b.norm(p + "norm", c, bias=False)
                    b.linear(p + "attn.query", c, heads * d, bias=False)
                    for name in ("key", "value"):
                        if kv_stride > 1:
                            b.raw(p + f"attn.{name}.down_conv.weight", (3, 3, 1, c))
                            b.norm(p + f"attn.{name}.norm", c, bias=False)
                        b.linear(p + f"attn.{name}", c, d, bias=False)
                    b.linear(p + "attn.output", heads * d, out, bias=False)
                    b.raw(p + "layer_scale.gamma", (out,), small=True)
                c = out
            stage_out.append(c)
        fused = sum(stage_out[-2:])
        _uir(b, "msfa.ffn.", fused, self.hidden, 0, 0, 2, layer_scale=False)
        b.norm("msfa.norm", self.hidden, bias=False)
        _gemma3n_embedder(b, self.hidden, self.vocab_size, self.text_hidden)
        return tuple(b.out)


def _uir(b, p, c, out, start, mid_k, expansion, layer_scale):
    mid = _make_divisible(c * expansion)
    if start:
        b.raw(p + "dw_start.weight", (start, start, 1, c))
        b.norm(p + "dw_start.norm", c, bias=False)
    b.linear(p + "pw_exp", c, mid, bias=False)
    b.norm(p + "pw_exp.norm", mid, bias=False)
    if mid_k:
        b.raw(p + "dw_mid.weight", (mid_k, mid_k, 1, mid))
        b.norm(p + "dw_mid.norm", mid, bias=False)
    b.linear(p + "pw_proj", mid, out, bias=False)
    b.norm(p + "pw_proj.norm", out, bias=False)
    if layer_scale:
        b.raw(p + "layer_scale.gamma", (out,), small=True)


@dataclass(frozen=True)
class Gemma3nAudioTower:
    """Gemma 3n's audio encoder, a USM-style conformer (transformers models/gemma3n/modeling_gemma3n.py @00aa0f5d
    Gemma3nAudioEncoder), with its multimodal embedder (embed_audio). Nothing in it has a bias.

    - subsample conv projection: two Conv2d blocks (1 → c0 → c1 channels, kernels from sscp_conv_kernel_size),
      each with a cumulative group norm of its channels; the frequency axis shrinks by the strides with one frame
      of padding each side; then a linear c1 × frequencies → hidden;
    - `layers` conformer blocks of width H: two feed-forwards (norm, H → 4H, 4H → H, norm), attention (norm,
      q/k/v/post H × H, relative-position projection H × H, a per-dimension scale of H / heads, norm), a light
      convolution (norm, H → 2H for the GLU, depthwise kernel conf_conv_kernel_size, norm, H → H) and a norm.

    Then Gemma3nMultimodalEmbedder from H to the language width."""

    text_hidden: int
    hidden: int = 1536
    layers: int = 12
    heads: int = 8
    conv_kernel: int = 5
    input_features: int = 128
    sscp_channels: tuple = (128, 32)
    sscp_kernels: tuple = ((3, 3), (3, 3))
    sscp_strides: tuple = ((2, 2), (2, 2))
    vocab_size: int = 128
    key = AUDIO
    label = "audio tower (USM conformer + multimodal embedder)"

    def tensors(self, spec=None) -> tuple:
        b = _Builder("a.")
        h = self.hidden
        c_in, freq = 1, self.input_features
        for i, c_out in enumerate(self.sscp_channels):
            (kt, kf), (_, sf) = self.sscp_kernels[i], self.sscp_strides[i]
            b.raw(f"sscp.conv_{i}.weight", (kf, kt, c_in, c_out))
            b.norm(f"sscp.conv_{i}.norm", c_out, bias=False)
            c_in, freq = c_out, (freq + 2 - kf) // sf + 1
        b.linear("sscp.input_proj", c_in * freq, h, bias=False)
        for i in range(self.layers):
            p = f"blk.{i}."
            for ffw in ("ffw_start", "ffw_end"):
                b.norm(p + ffw + ".pre_norm", h, bias=False)
                b.linear(p + ffw + ".up", h, 4 * h, bias=False)
                b.linear(p + ffw + ".down", 4 * h, h, bias=False)
                b.norm(p + ffw + ".post_norm", h, bias=False)
            b.norm(p + "attn.pre_norm", h, bias=False)
            for name in ("q", "k", "v", "pos", "post"):
                b.linear(p + f"attn.{name}", h, h, bias=False)
            b.raw(p + "attn.per_dim_scale", (h // self.heads,), small=True)
            b.norm(p + "attn.post_norm", h, bias=False)
            b.norm(p + "lconv.pre_norm", h, bias=False)
            b.linear(p + "lconv.start", h, 2 * h, bias=False)
            b.raw(p + "lconv.depthwise.weight", (self.conv_kernel, 1, h))
            b.norm(p + "lconv.conv_norm", h, bias=False)
            b.linear(p + "lconv.end", h, h, bias=False)
            b.norm(p + "norm", h, bias=False)
        _gemma3n_embedder(b, h, self.vocab_size, self.text_hidden)
        return tuple(b.out)


@dataclass(frozen=True)
class MTPLayers:
    """Multi-token-prediction layers: each one decoder layer like the model's last (MoE where the model is),
    fed by a projection of [embedding; hidden] (2·hidden → hidden) between norms.

    DeepSeek-V3 / GLM-4.5 NextN (vLLM model_executor/models/deepseek_mtp.py, glm4_moe_mtp.py): enorm, hnorm,
    eh_proj, shared_head.norm, and in the checkpoint their own embed_tokens and shared_head.head copies.
    Qwen3.5 / Qwen3-Next (vLLM qwen3_next_mtp.py): pre_fc_norm_embedding, pre_fc_norm_hidden, fc and a final
    norm, sharing the model's embedding and head (mtp_use_dedicated_embeddings false)."""

    count: int
    own_embeddings: bool = False
    key = MTP
    label = "multi-token-prediction layers"

    def tensors(self, spec: ModelSpec) -> tuple:
        layer = _mtp_block(spec)
        h, v = spec.hidden_size, spec.vocab_size
        out = []
        for k in range(self.count):
            b = _Builder(f"mtp.{k}.")
            b.norm("enorm", h, bias=False)
            b.norm("hnorm", h, bias=False)
            b.linear("eh_proj", 2 * h, h, bias=False)
            b.norm("shared_head_norm", h, bias=False)
            if self.own_embeddings:
                b.raw("embed_tokens.weight", (h, v))
                b.raw("shared_head_head.weight", (h, v))
            out += b.out
            out += [Tensor(f"mtp.{k}." + t.name.split(".", 2)[2], t.role, -1, t.ne, t.kind, t.tp) for t in layer]
        return tuple(out)


@lru_cache(maxsize=64)
def _mtp_block(spec: ModelSpec) -> tuple:
    """The tensors of one decoder layer as the model's deepest layer is built (MoE when the model is)."""
    last = spec.ffn_type(spec.num_layers - 1)
    one = replace(spec, num_layers=1, first_dense_layers=0, layer_types=(), sliding_window=0, parts=(), notes=(),
                  ffn_types=(last,) if spec.ffn_types else (), file_tensors=(), file_id="", file_kind="")
    return tuple(t for t in weight_tensors(one) if t.layer == 0)


@lru_cache(maxsize=256)
def part_tensors(spec: ModelSpec, key: str) -> tuple:
    """All tensors of the spec's parts of one kind (vision, audio, mtp)."""
    return tuple(t for p in spec.parts if p.key == key for t in p.tensors(spec))


@lru_cache(maxsize=256)
def part_sizes(spec: ModelSpec) -> tuple:
    """(part key, parameters) for each kind of part the checkpoint ships besides the language model."""
    return tuple((key, sum(t.numel for t in part_tensors(spec, key)))
                 for key in PART_KEYS[1:] if any(p.key == key for p in spec.parts))


def loaded_parts(engine_name: str) -> tuple:
    return LOADED_BY.get(engine_name, ((LANGUAGE,), ""))[0]
