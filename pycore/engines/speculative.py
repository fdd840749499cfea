"""vLLM speculative decoding (--speculative-config): what a draft adds to each GPU.

Sources: vllm/config/speculative.py@f19b16d95e43 (the methods; the MTP model types are aliases of "mtp";
an MTP draft is the target checkpoint itself, `num_speculative_tokens` above the checkpoint's
n_predict MTP layers must be a multiple of it and reuses them; the draft runs in the target's dtype
with the target's tensor-parallel size unless draft_tensor_parallel_size is 1), vllm/v1/spec_decode
eagle.py load_model (at pipeline size 1 an MTP or EAGLE draft shares the target's embed_tokens and
lm_head: "Detected MTP model. Sharing target model embedding weights with the draft model."), and
kv_cache_interface.py@bc8282e6 MambaSpec (a recurrent layer keeps 1 + num_speculative_tokens state
blocks per request).

- mtp: the checkpoint's MTP layers (pycore.parts.MTPLayers) load beside the model; each holds one
  attention layer of the model's kind, which joins the KV pool (vLLM registers the drafter's attention
  layers with the rest: a Qwen3.5-9B run logs 9 attention layers' worth, "Add 3 padding layers").
- eagle / eagle3: an EAGLE head, modelled as one dense decoder layer of the target's hidden size and heads (a Llama
  layer, as vLLM's Eagle3LlamaForCausalLM / EagleLlamaForCausalLM; MLA for EAGLE-1 on an MLA target) and its fc
  (2H → H; EAGLE-3 3H → H), sharing embedding and head; its own config is not read (a warning says so).
- draft_model: a separate model (a catalog preset) in its checkpoint's format; its layers join the pool.
- ngram: no weights and no KV cache.

max_num_batched_tokens is not raised: SpeculativeConfig sets no scheduler field (vllm/config/speculative.py
@f19b16d9), and the drafted tokens of each running request count within that per-step budget. What changes the
concurrency is the draft's KV per token and the state blocks per request.
"""
from dataclasses import dataclass
from functools import lru_cache

from ..errors import InputError
from ..models import SMALL, TP_REPLICATE, Tensor, attention_groups, tp_share, weight_tensors


@dataclass(frozen=True)
class Draft:
    method: str
    tokens: int  # num_speculative_tokens
    weights: int  # bytes on each tensor-parallel rank
    attention: tuple  # (attention layer spec, layers) the draft adds to the KV pool
    spec: object  # the draft model's ModelSpec (draft_model), else None
    label: str
    notes: tuple


def _last_layer_ratio(spec, fmt) -> float:
    """Stored bytes per parameter of the model's deepest layer in this format: the precision an MTP or
    EAGLE layer of the same checkpoint is taken to have."""
    from .layers import layer_weights
    last = spec.num_layers - 1
    params = sum(t.numel for t in weight_tensors(spec) if t.layer == last)
    return layer_weights(spec, fmt).layers[last] / params if params else 2.0


def _rank_bytes(tensors, ratio: float, spec, tp: int) -> int:
    return sum(tp_share(t, int(round(t.numel * ratio)), spec.num_kv_heads, tp) for t in tensors)


def _main_attention(spec) -> object:
    """The attention layer an MTP or EAGLE layer has: the model's first non-sliding kind."""
    groups = attention_groups(spec)
    if not groups:
        raise InputError("speculative_method", "this model has no attention layer for a draft layer to copy")
    return next((layer for layer, _ in groups if not getattr(layer, "window", 0)), groups[0][0])


# Checkpoints that ship MTP layers their config does not count: (layers vLLM builds, the warning). Qwen3-Next's
# config.json has no num_nextn_predict_layers (the preset's config, copied from
# huggingface.co/Qwen/Qwen3-Next-80B-A3B-Instruct/blob/main/config.json); vLLM maps model_type qwen3_next to
# qwen3_next_mtp with n_predict = getattr(hf_config, "num_nextn_predict_layers", None)
# (vllm/config/speculative.py@f19b16d9 hf_config_override), and Qwen3NextMultiTokenPredictor builds
# getattr(config, "num_nextn_predict_layers", 1) = 1 layer (vllm/model_executor/models/qwen3_next_mtp.py@055e47c2),
# a full-attention Qwen3NextDecoderLayer with the model's MoE, fc 2H → H and three norms.
_IMPLIED_MTP = {
    "qwen3next": (1, "speculative: Qwen3-Next's config.json does not count its MTP layers "
                     "(num_nextn_predict_layers); vLLM builds 1 (vllm/model_executor/models/qwen3_next_mtp.py: "
                     "getattr(config, \"num_nextn_predict_layers\", 1)), reused for every speculative token, and "
                     "n_predict is unset, so any num_speculative_tokens is accepted."),
}


# vLLM's EAGLE drafts (vllm/model_executor/models/registry.py@00bd1493 _SPECULATIVE_DECODING_MODELS): every EAGLE-3
# head runs as Eagle3LlamaForCausalLM (llama_eagle3.py@00bd1493: Llama decoder layers whose first qkv_proj reads
# 2 × hidden (embedding and hidden state side by side), a hidden_norm, a final norm, fc ReplicatedLinear
# 3 × target_hidden → hidden); EAGLE-1 heads run as EagleLlamaForCausalLM (llama_eagle.py@00da9231: a Llama decoder
# layer and fc torch.nn.Linear 2 × hidden → hidden, whole on every rank) or, for DeepSeek targets,
# EagleDeepseekV3ForCausalLM (a DeepSeek layer: MLA). None of them copies the target's per-layer mixers
# (Mamba, Gated DeltaNet, sliding or chunked windows) or its routed experts.
_LLAMA_LAYER = dict(num_layers=1, layer_types=(), ffn_types=(), first_dense_layers=0, sliding_window=0,
                    attention_chunk=0, num_experts=0, experts_per_token=0, expert_intermediate_size=0,
                    shared_expert_intermediate_size=0, shared_expert_gate=False, router_bias=False, expert_bias=False,
                    expert_score_bias=False, gated_mlp=True, fused_gate_up=False, fused_qkv=False, norms_per_layer=2,
                    attention_sinks=False, attn_output_gate=False, qk_norm_per_layer=False, index_n_heads=0,
                    index_head_dim=0, kv_shared_layers=0, per_layer_input_size=0, per_layer_vocab=0, altup_inputs=0,
                    laurel_rank=0, learned_positions=0, parts=(), notes=(), file_tensors=(), file_id="",
                    file_kind="")
_NO_MLA = dict(q_lora_rank=0, kv_lora_rank=0, qk_nope_head_dim=0, qk_rope_head_dim=0, v_head_dim=0)


@lru_cache(maxsize=64)
def _eagle_head(spec, method: str) -> tuple:
    """(the head's one-layer ModelSpec, its tensors): one dense decoder layer of the target's hidden size and
    attention heads (a Llama layer; on an MLA target its MLA, as EagleDeepseekV3ForCausalLM has, since the
    head's own attention shape is not read), FFN width the target's dense width (its expert width where it has
    no dense FFN), and the fc layer (EAGLE-1: 2H → H; EAGLE-3: 3H → H, whose first q/k/v read 2H and which adds
    hidden_norm and a final norm). Shapes in elements (ggml order)."""
    from dataclasses import replace
    h = spec.hidden_size
    mla = spec.is_mla  # the head's own attention shape is unread: an MLA target's is kept rather than guessed
    layer = replace(spec, intermediate_size=spec.intermediate_size or spec.expert_intermediate_size,
                    **_LLAMA_LAYER, **({} if mla else dict(_NO_MLA, qk_norm=False)))
    out = []
    for t in weight_tensors(layer):
        if t.layer != 0:
            continue  # the embedding and head are the target's
        ne = (2 * h,) + t.ne[1:] if method == "eagle3" and t.role in ("attn_q", "attn_k", "attn_v") else t.ne
        out.append(Tensor("eagle." + t.name, t.role, -1, ne, t.kind, t.tp))
    fc_in = (3 if method == "eagle3" else 2) * h
    out.append(Tensor("eagle.fc.weight", "fc", -1, (fc_in, h), tp=TP_REPLICATE))
    if method == "eagle3":
        out += [Tensor(f"eagle.{n}.weight", n, -1, (h,), SMALL, TP_REPLICATE) for n in ("hidden_norm", "norm")]
    return layer, tuple(out)


@lru_cache(maxsize=256)
def draft(spec, fmt, method: str, tokens: int, draft_model: str, tp: int) -> Draft:
    """What `method` adds on each of `tp` tensor-parallel ranks. Raises InputError where vLLM refuses."""
    from ..parts import MTP, MTPLayers, part_tensors
    if method == "ngram":
        return Draft(method, tokens, 0, (), None, f"n-gram proposer ({tokens} tokens)",
                     ("speculative: the n-gram proposer matches the prompt on the CPU: no draft weights and no "
                      "draft KV cache (vllm/v1/spec_decode/ngram_proposer.py).",))
    if method == "mtp":
        n = sum(p.count for p in spec.parts if p.key == MTP)
        implied = () if n else _IMPLIED_MTP.get(spec.arch, ())
        if implied:  # a checkpoint whose config does not count its MTP layers: vLLM's own default count
            n, why = implied
        if not n:
            raise InputError("speculative_method", "method mtp needs a checkpoint with MTP layers "
                             "(num_nextn_predict_layers or mtp_num_hidden_layers); this model has none")
        if tokens > n and tokens % n:
            raise InputError("num_speculative_tokens", f"{tokens} speculative tokens must be a multiple of the "
                             f"checkpoint's {n} MTP layers (vllm/config/speculative.py)")
        own = ("embed_tokens.weight", "shared_head_head.weight")  # shared with the target at pipeline size 1
        mtp = MTPLayers(n).tensors(spec) if implied else part_tensors(spec, MTP)
        tensors = [t for t in mtp if not t.name.endswith(own)]
        w = _rank_bytes(tensors, _last_layer_ratio(spec, fmt), spec, tp)
        return Draft(method, tokens, w, ((_main_attention(spec), n),), None,
                     f"{n} MTP layer{'s' if n > 1 else ''} of the checkpoint, {tokens} speculative tokens",
                     ("weights: speculative decoding (mtp): the checkpoint's MTP layers load as the draft, at the "
                      "bytes per parameter of the model's last layer; they share the model's embedding and output "
                      "head (vllm/v1/spec_decode/eagle.py load_model).",) + ((why,) if implied else ()))
    if method in ("eagle", "eagle3"):
        layer, tensors = _eagle_head(spec, method)
        w = _rank_bytes(tensors, _last_layer_ratio(spec, fmt), spec, tp)
        width = layer.intermediate_size
        return Draft(method, tokens, w, attention_groups(layer), None,
                     f"EAGLE{'-3' if method == 'eagle3' else ''} head, {tokens} speculative tokens",
                     (f"weights: speculative decoding ({method}): the EAGLE head is approximated as one "
                      f"{'MLA' if layer.is_mla else 'Llama'} decoder layer of the target's hidden size and attention "
                      f"heads with a dense gated FFN of width {width:,} (the target's "
                      f"{'dense' if spec.intermediate_size else 'expert'} FFN width) and its fc layer, sharing the "
                      "target's embedding and head; its own config is not read (EAGLE-3 heads may keep their own "
                      "smaller-vocabulary head).",))
    # draft_model: a separate checkpoint from the catalog
    from .. import presets
    from ..formats import weight_format, weight_storage
    p = presets.preset(draft_model)
    d = presets.model(draft_model)
    if d.num_heads % tp or (not d.is_mla and d.num_kv_heads % tp and tp % d.num_kv_heads):
        raise InputError("draft_model", f"the draft's {d.num_heads} heads ({d.num_kv_heads} KV heads) do not split "
                         f"over the target's {tp} tensor-parallel ranks")
    stored = weight_storage(d, weight_format(p.weights))
    w = sum(tp_share(t, s.bytes, d.num_kv_heads, tp) for t, s in stored.tensors)
    notes = [f"weights: speculative decoding (draft_model): {p.name} loads whole as the draft, in its checkpoint's "
             f"{p.weights}, with the target's tensor-parallel size (vllm/config/speculative.py "
             "_verify_and_get_draft_tp); its activation peak is taken as the larger of the two models'."]
    if d.vocab_size != spec.vocab_size:
        notes.append(f"speculative: the draft's vocabulary ({d.vocab_size:,}) differs from the target's "
                     f"({spec.vocab_size:,}); vLLM needs the same tokenizer.")
    if d.has_state:
        notes.append("kv: the draft model's recurrent-state layers are not counted in the pool.")
    return Draft(method, tokens, w, attention_groups(d), d, f"draft model {p.name}, {tokens} speculative tokens",
                 tuple(notes))
