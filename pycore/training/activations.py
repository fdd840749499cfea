"""Activation memory of a training step, per GPU: Korthikanti et al.'s per-layer accounting
(arXiv:2205.05198 §4, Table 2) with the model's real widths, the logits and loss buffers, and what
recomputation (selective, full) and FlashAttention change."""
from dataclasses import dataclass

from ..models import EXPERT_ROLES, ModelSpec

KORTHIKANTI_SRC = "Korthikanti et al., Reducing Activation Recomputation in Large Transformer Models, arXiv:2205.05198 §4, Table 2"


def korthikanti_layer_bytes(s: int, b: int, h: int, a: int, t: int = 1, sequence_parallel: bool = False,
                            recompute: str = "none") -> int:
    """Activation bytes per transformer layer, as printed in Table 2 of arXiv:2205.05198 (GPT-3-style
    layer: MHA, MLP width 4h, dropout on, 16-bit activations, 1-byte dropout masks):
    no parallelism sbh(34 + 5as/h); tensor parallel sbh(10 + 24/t + 5as/(ht)); + sequence parallel
    sbh(34/t + 5as/(ht)); selective recomputation drops the 5as/h term; full recomputation 2sbh."""
    sbh = s * b * h
    if recompute == "full":
        return 2 * sbh
    core = 0 if recompute == "selective" else 5 * a * s * s * b
    if sequence_parallel:
        return (34 * sbh + core) // t
    return 10 * sbh + (24 * sbh + core) // t


def paper_formula(t: int, sequence_parallel: bool, recompute: str) -> str:
    """The row of the paper's Table 2 that `korthikanti_layer_bytes` evaluates, in its own notation."""
    if recompute == "full":
        return "2sbh"
    core = "" if recompute == "selective" else (" + 5as/h" if t == 1 else " + 5as/(ht)")
    if t == 1:
        return f"sbh(34{core})" if core else "34sbh"
    if sequence_parallel:
        return f"sbh(34/t{core})"
    return f"sbh(10 + 24/t{core})"


def _widths(spec: ModelSpec, tp: int, flash: bool) -> tuple:
    """(q, k, v, attention output) values per token on one rank."""
    heads = spec.num_heads // tp
    if spec.is_mla:
        qk = spec.qk_nope_head_dim + spec.qk_rope_head_dim
        return heads * qk, heads * qk, heads * spec.v_head_dim, heads * spec.v_head_dim
    # Eager attention (transformers repeat_kv) expands K and V to every query head before the matmuls
    # it saves; fused kernels take the grouped K/V as they are.
    kv = -(-spec.num_kv_heads // tp) * spec.head_dim if flash else heads * spec.head_dim
    return heads * spec.head_dim, kv, kv, heads * spec.head_dim


def layer_activation_bytes(spec: ModelSpec, micro_batch: int, seq_len: int, *, layer: int = 0, act_bytes: int = 2,
                           tp: int = 1, sequence_parallel: bool = False, recompute: str = "none",
                           flash_attention: bool = True, dropout: bool = False, lora_rank: int = 0,
                           adapted_roles: tuple = ()) -> int:
    """Bytes one layer keeps for the backward pass: Korthikanti et al.'s accounting with the model's
    real widths. Per token, in activation bytes e (1 byte per dropout mask):
      kept whole on every tensor-parallel rank (÷ t with sequence parallelism):
        each norm's input e·h (norms_per_layer of them), the attention input and the MLP input e·h each
        (one shared input for parallel attention/MLP blocks), 2 dropout masks h each when dropout is on,
        MLA's compressed latents, a MoE router's logits e·E;
      split over t ranks:
        Q, K, V and the attention output e·(q + k + v + o); the MLP's intermediates: gated MLP 4·e·I
        (gate output, up output, activation output, their product), plain MLP 2·e·I (activation input
        and output); a MoE layer's k routed experts each e·h (the dispatched token) plus their
        intermediates, and its shared expert; each LoRA adapter's rank-r intermediate e·r;
      the attention core, unless recomputed (selective) or fused:
        eager a·s·(e softmax output + 1 mask + e dropout output) when dropout is on, a·s·e without;
        FlashAttention keeps only a float32 log-sum-exp per head (4·a), its output being counted above.
    For a GPT-3 layer (MHA, plain MLP, I = 4h, dropout, eager) this is the paper's sbh(34 + 5as/h) and its
    tensor- and sequence-parallel forms exactly. Full recomputation keeps the layer input, e·h per token."""
    e, t, h = act_bytes, tp, spec.hidden_size
    tokens = micro_batch * seq_len
    if recompute == "full":
        whole = tokens * e * h
        return -(-whole // t) if sequence_parallel else whole
    q, k, v, o = _widths(spec, t, flash_attention)
    heads = spec.num_heads // t
    moe = spec.is_moe_layer(layer)
    n_mlp = 4 if spec.gated_mlp else 2
    whole = spec.norms_per_layer * e * h + e * h + (e * h if spec.norms_per_layer != 1 else 0)
    if dropout:
        whole += 2 * h
    if spec.is_mla:
        whole += e * (2 * spec.kv_lora_rank + spec.qk_rope_head_dim) + 2 * e * spec.q_lora_rank
    split = e * (q + k + v + o)
    if moe:
        whole += e * spec.num_experts
        split += spec.experts_per_token * (e * h + n_mlp * e * (spec.expert_intermediate_size // t))
        split += n_mlp * e * (spec.shared_expert_intermediate_size // t)
    else:
        split += n_mlp * e * (spec.intermediate_size // t)
    for role in adapted_roles:
        split += e * lora_rank * (spec.experts_per_token if role in EXPERT_ROLES else 1)
    core = 0
    if recompute != "selective":
        if flash_attention:
            core = 4 * heads
        else:
            core = heads * seq_len * (e + (1 + e if dropout else 0))
    kept_whole = tokens * whole
    if sequence_parallel:
        kept_whole = -(-kept_whole // t)
    return kept_whole + tokens * (split + core)


def logits_bytes(spec: ModelSpec, micro_batch: int, seq_len: int, act_bytes: int = 2, tp: int = 1,
                 sequence_parallel: bool = False, dropout: bool = False) -> int:
    """The output end of the model, per rank: the final norm's input and the LM head's input e·h per token,
    and per token and vocabulary entry the logits (e), the float32 log-probabilities cross-entropy keeps
    (4) and their float32 gradient in the backward pass (4) — transformers ForCausalLMLoss upcasts the
    logits with .float() (src/transformers/loss/loss_utils.py @0114da07) and torch's cross_entropy is
    log_softmax + nll_loss. Under tensor parallelism the vocabulary is split (Megatron's vocab-parallel
    cross-entropy). With dropout on, the embedding dropout mask (h per token) is here too."""
    e, h = act_bytes, spec.hidden_size
    tokens = micro_batch * seq_len
    norm_in = tokens * e * h
    if sequence_parallel:
        norm_in = -(-norm_in // tp)
    vocab = -(-spec.vocab_size // tp)
    return norm_in + tokens * e * h + tokens * vocab * (e + 4 + 4) + (tokens * h if dropout else 0)


@dataclass(frozen=True)
class Activations:
    tokens: int  # per GPU per micro-step: micro_batch × seq_len
    layers: tuple  # (bytes per layer, number of such layers, description)
    stored: int  # what all layers keep until their backward pass
    working: int  # full recomputation: one layer's whole working set, rebuilt during the backward pass
    logits: int
    dequant: int  # QLoRA: one matrix dequantized to 16-bit for its matmul
    total: int


def activations(spec: ModelSpec, micro_batch: int, seq_len: int, *, act_bytes: int = 2, tp: int = 1,
                sequence_parallel: bool = False, checkpointing: str = "none", flash_attention: bool = True,
                dropout: bool = False, lora_rank: int = 0, adapted: tuple = (), dequant_values: int = 0) -> Activations:
    """Peak activation memory of one GPU in a training step. Without full recomputation every layer's
    activations are alive at the loss, together with the logits buffers; with it, the layer inputs are,
    plus the larger of the logits buffers and one layer's working set rebuilt during the backward pass."""
    roles = {}
    for layer, role in adapted:
        roles.setdefault(layer, []).append(role)
    groups = {}
    for i in range(spec.num_layers):
        key = (spec.is_moe_layer(i), tuple(sorted(roles.get(i, ()))))
        groups.setdefault(key, [i, 0])[1] += 1
    kw = dict(act_bytes=act_bytes, tp=tp, sequence_parallel=sequence_parallel, flash_attention=flash_attention,
              dropout=dropout, lora_rank=lora_rank)
    rows = []
    for (moe, roles_here), (first, count) in groups.items():
        per = layer_activation_bytes(spec, micro_batch, seq_len, layer=first, recompute=checkpointing,
                                     adapted_roles=roles_here, **kw)
        adapters = f" with {len(roles_here)} adapters" if roles_here and checkpointing != "full" else ""
        rows.append((per, count, ("MoE" if moe else "dense") + " layers" + adapters))
    stored = sum(per * count for per, count, _ in rows)
    logits = logits_bytes(spec, micro_batch, seq_len, act_bytes, tp, sequence_parallel, dropout)
    working = 0
    if checkpointing == "full":
        working = max(layer_activation_bytes(spec, micro_batch, seq_len, layer=first, recompute="none",
                                             adapted_roles=roles_here, **kw)
                      for (moe, roles_here), (first, _) in groups.items())
    dequant = dequant_values * act_bytes
    total = stored + (max(working, logits) if checkpointing == "full" else logits) + dequant
    return Activations(micro_batch * seq_len, tuple(rows), stored, working, logits, dequant, total)
