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
    "vllm": ((LANGUAGE, VISION, AUDIO),
             "vLLM: a multimodal architecture loads its encoders (unless --limit-mm-per-prompt sets every modality "
             "to 0); MTP layers load only as a speculative-decoding draft (--speculative-config method mtp; "
             "model loaders skip 'mtp.' and layers past num_hidden_layers)"),
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
    one = replace(spec, num_layers=1, first_dense_layers=0, layer_types=(), sliding_window=0, parts=(), notes=(),
                  file_tensors=(), file_id="", file_kind="")
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
