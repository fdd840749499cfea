"""llama.cpp's compute graphs, node by node, for ggml-alloc's replay (pycore.engines.ggml_alloc).

Each builder follows llama.cpp's source at 0c1e57098bba43ac29e6e3b677cdceebdd22334f (src/llama-graph.cpp,
src/llama-kv-cache.cpp, src/models/<arch>.cpp): the same ops in the same order, with the same
ggml_build_forward_expand calls, so the graph's node order is llama.cpp's. Only tensors of the compute
buffer are modelled; weights and KV-cache tensors are `None` (outside the buffer).
"""
from collections import namedtuple
from functools import lru_cache

from .ggml_alloc import F16, F32, I32, I64, Graph, Tensor, like, mm, mm2, new, permute, reshape, reserve, view


class Ctx:
    """What a graph depends on: the ubatch (n_tokens, n_outputs), the cache view (n_kv) and flash attention."""

    def __init__(self, n_tokens, n_outputs, flash, n_stream=1):
        self.T, self.n_outputs, self.flash, self.n_stream = n_tokens, n_outputs, flash, n_stream
        self.gf = Graph()

    # llm_graph_context::build_inp_embd: token ids, the unused float-embeddings input (a leaf all the same),
    # ggml_build_forward_select visits both, then expands the selected get_rows
    def inp_embd(self, n_embd):
        tokens = new(I32, self.T, name="inp_tokens")
        rows = Tensor(F32, (n_embd, self.T), op="GET_ROWS", src=(None, tokens), name="embd")
        self.gf.expand(rows)
        self.gf.expand(new(F32, n_embd, self.T, name="inp_embd"))
        return rows

    def inp_pos(self):
        return new(I32, self.T, name="inp_pos")

    def inp_out_ids(self):
        return new(I32, self.n_outputs, name="out_ids")

    def kv_inputs(self, n_kv, n_embd_v_gqa, v_trans):
        """build_attn_inp_kv_impl: k_idxs, v_idxs (one per V element when V is transposed), the mask
        [n_kv, n_tokens] (f16 with flash attention; llama-graph.cpp build_attn_inp_kq_mask)."""
        k_idxs = new(I64, self.T, name="attn_inp_k_idxs")
        v_idxs = new(I64, self.T * n_embd_v_gqa if v_trans else self.T, name="attn_inp_v_idxs")
        mask = new(F16 if self.flash else F32, n_kv, self.T, name="attn_inp_kq_mask")
        return k_idxs, v_idxs, mask

    def norm(self, x):
        """build_norm, RMS with a weight: rms_norm then mul (both may run in place)."""
        return like("MUL", like("RMS_NORM", x), None)

    def qkv(self, x, hd, n_head, n_head_kv, hd_v=None):
        """build_qkv, separate Q/K/V path: three matmuls reshaped to [head_dim, heads, tokens]."""
        hd_v = hd if hd_v is None else hd_v
        T = self.T
        q = reshape(mm(hd * n_head, x), hd, n_head, T)
        k = reshape(mm(hd * n_head_kv, x), hd, n_head_kv, T)
        v = reshape(mm(hd_v * n_head_kv, x), hd_v, n_head_kv, T)
        return q, k, v

    @staticmethod
    def rope(x, pos):
        return like("ROPE", x, pos)

    def attn_kv(self, inputs, q, k, v, n_kv, iswa=False, softcap=False):
        """llm_graph_context::build_attn (KV cache) + build_attn_mha: expand q, v, k (the iSWA overload:
        q, k, v); store K and V (set_rows into views of the cache); attention over n_kv cells. The output
        projection is the caller's."""
        gf, T = self.gf, self.T
        k_idxs, v_idxs, mask = inputs
        gf.expand(q)
        if iswa:
            gf.expand(k)
            gf.expand(v)
        else:
            gf.expand(v)
            gf.expand(k)
        hd, n_head_kv = k.ne[0], k.ne[1]
        hd_v = v.ne[0]
        # llama_kv_cache::cpy_k: a 2-D view of k_cur, set_rows into the cache
        gf.expand(Tensor(F32, (hd * n_head_kv, T), op="SET_ROWS",
                         src=(None, view(k, (hd * n_head_kv, T), None, 0), k_idxs), view_of=True))
        # cpy_v: not transposed with flash attention, else one row per element
        if self.flash:
            vc = view(v, (hd_v * n_head_kv, T), None, 0)
        else:
            vc = reshape(reshape(v, hd_v * n_head_kv, T), 1, hd_v * n_head_kv * T)
        gf.expand(Tensor(F32, vc.ne, op="SET_ROWS", src=(None, vc, v_idxs), view_of=True))
        n_head = q.ne[1]
        return self.mha(q, n_kv, n_head_kv, hd, hd_v, mask, n_head, softcap=softcap)

    def mha(self, q, n_kv, n_head_kv, hd_k, hd_v, mask, n_head, v_mla_rows=0, softcap=False, v_trans=True,
            kv_esize=F16):
        """build_attn_mha: q viewed per stream and permuted; flash attention -> [hd_v, n_head, T] reshaped
        to 2-D; else KQ [n_kv, T, n_head] f32 (softmax in place), a contiguous copy of V when the cache
        keeps it untransposed (MLA: V is a view of K; `v_cont` in the cache's type), KQV, permute,
        cont_2d. MLA (`v_mla_rows` = v_head_dim) multiplies by wv_b to decompress every head."""
        T = self.T
        q = permute(view(q, q.ne, q.nb, 0), 0, 2, 1, 3)
        if self.flash:
            cur = Tensor(F32, (hd_v, n_head, T, 1), op="FLASH_ATTN_EXT", src=(q, None, None, mask))
            if v_mla_rows:
                cur = permute(cur, 0, 2, 1, 3)
                cur = mm2((hd_v, v_mla_rows, n_head, 1), cur)
                cur = like("CONT", permute(cur, 0, 2, 1, 3))
            cur = reshape(cur, cur.ne[0] * cur.ne[1], cur.ne[2] * cur.ne[3])
        else:
            kq = mm2((hd_k, n_kv, n_head_kv, 1), q)
            if softcap:  # hparams.attn_soft_cap: scale, tanh, scale (all in place)
                kq = like("SCALE", like("UNARY", like("SCALE", kq)))
            kq = like("SOFT_MAX", kq, mask)
            v = None if v_trans else Tensor(kv_esize, (n_kv, hd_v, n_head_kv), op="CONT", src=(None,))
            kqv = mm2((n_kv, hd_v, n_head_kv, 1) if v is None else v, kq)
            if v_mla_rows:
                kqv = mm2((hd_v, v_mla_rows, n_head, 1), kqv)
            cur = permute(kqv, 0, 2, 1, 3)
            cur = Tensor(F32, (cur.ne[0] * cur.ne[1], cur.ne[2] * cur.ne[3]), op="CONT", src=(cur,))
        self.gf.expand(cur)
        return cur

    def ffn_swiglu(self, x, n_ff, n_embd):
        """build_ffn with up, gate (parallel), SiLU: up, gate, swiglu_split(gate, up) (GLU op), down."""
        up = mm(n_ff, x)
        gate = mm(n_ff, x)
        return mm(n_embd, Tensor(F32, gate.ne, op="GLU", src=(gate, up)))

    def output(self, x, n_vocab):
        """result_norm (an output) and result_output, the logits (an output)."""
        x = self.norm(x)
        x.output = True
        logits = mm(n_vocab, x)
        logits.output = True
        self.gf.expand(logits)
        return logits


def add(a, b):
    return like("ADD", a, b)


def get_rows(a, ids):
    return Tensor(F32, (a.ne[0], ids.ne[0], ids.ne[1], ids.ne[2]), op="GET_ROWS", src=(a, ids))


def scale(a):
    return like("SCALE", a)


def moe_ffn(c, x, n_expert, n_used, n_ff_exp, n_embd, norm_w=True, gating="softmax", probs_bias=False, w_scale=False):
    """llm_graph_context::build_moe_ffn, separate gate/up experts, SiLU: router logits, probabilities
    (softmax in place, or sigmoid), top-k by argsort (a view of the I32 argsort), the weights gathered
    and normalized (sum_rows, clamp, div), expanded early; up, gate, swiglu and down per used expert
    (mul_mat_id [n_ff, n_used, T]), weighted in place, then the experts' views summed (the first add
    allocates, the others run in place)."""
    gf, T = c.gf, x.ne[1]  # n_outputs rows in the last layer
    logits = mm(n_expert, x)
    probs = like("SOFT_MAX", logits) if gating == "softmax" else like("UNARY", logits)
    selection = like("ADD", probs, None) if probs_bias else probs
    argsort = Tensor(I32, selection.ne, op="ARGSORT", src=(selection,))
    selected = view(argsort, (n_used, T, 1, 1), argsort.nb, 0)
    weights = get_rows(reshape(probs, 1, n_expert, T), selected)
    if norm_w:
        w2 = reshape(weights, n_used, T)
        total = like("CLAMP", Tensor(F32, (1, T), op="SUM_ROWS", src=(w2,)))
        weights = reshape(Tensor(F32, w2.ne, op="DIV", src=(w2, total)), 1, n_used, T)
    if w_scale:  # expert_weights_scale other than 0 and 1: a scale of a view, so a new tensor
        weights = Tensor(F32, weights.ne, op="SCALE", src=(weights,))
    gf.expand(weights)
    cur = reshape(x, n_embd, 1, T)
    up = Tensor(F32, (n_ff_exp, n_used, T), op="MUL_MAT_ID", src=(None, cur, selected))
    gate = Tensor(F32, (n_ff_exp, n_used, T), op="MUL_MAT_ID", src=(None, cur, selected))
    act = Tensor(F32, gate.ne, op="GLU", src=(gate, up))
    experts = Tensor(F32, (n_embd, n_used, T), op="MUL_MAT_ID", src=(None, act, selected))
    experts = like("MUL", experts, weights)
    gf.expand(experts)
    views = [view(experts, (n_embd, T), (F32, experts.nb[2], experts.nb[2] * T, experts.nb[2] * T), i * experts.nb[1])
             for i in range(n_used)]
    for v in views:
        gf.expand(v)
    out = views[0]
    for v in views[1:]:
        out = add(out, v)
        gf.expand(out)
    if n_used == 1:
        out = like("CONT", out)
    return out


def concat0(a, b):
    """ggml_concat(a, b, 0): a new tensor, widths added."""
    return Tensor(F32, (a.ne[0] + b.ne[0],) + a.ne[1:], op="CONCAT", src=(a, b))


# ------------------------------------------------------------------ architectures
#
# A builder takes the graph's shape (`Shape`, from the ModelSpec), the layers to build (a tuple of layer
# kinds, see `layer_plan`) and the ubatch: n_tokens, n_outputs, the cells in view (n_kv, and n_kv_swa for
# the sliding-window cache) and flash attention.

def llama(sh, kinds, T, n_out, n_kv, n_kv_swa, flash):
    """src/models/llama.cpp, src/models/qwen3.cpp and src/models/qwen3moe.cpp (one graph: RMS norm,
    Q/K/V, optional per-head Q/K RMS norms on the reshaped views (so not in place), RoPE, attention with
    the KV cache, the last layer's rows gathered by out_ids, a SwiGLU FFN or the MoE FFN)."""
    c = Ctx(T, n_out, flash)
    inpL = c.inp_embd(sh.n_embd)
    pos = c.inp_pos()
    inputs = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        inpSA = inpL
        cur = c.norm(inpL)
        q, k, v = c.qkv(cur, sh.hd, sh.n_head, sh.n_head_kv)
        if sh.qk_norm:
            q, k = c.norm(q), c.norm(k)
        q = c.rope(q, pos)
        k = c.rope(k, pos)
        cur = mm(sh.n_embd, c.attn_kv(inputs, q, k, v, n_kv))
        if il == last:
            cur = get_rows(cur, out_ids)
            inpSA = get_rows(inpSA, out_ids)
        ffn_inp = add(cur, inpSA)
        cur = c.norm(ffn_inp)
        if kind == "moe":
            cur = moe_ffn(c, cur, sh.n_expert, sh.n_used, sh.n_ff_exp, sh.n_embd)
        else:
            cur = c.ffn_swiglu(cur, sh.n_ff, sh.n_embd)
        inpL = add(cur, ffn_inp)
    c.output(inpL, sh.n_vocab)
    return c.gf


def gemma2(sh, kinds, T, n_out, n_kv, n_kv_swa, flash):
    """src/models/gemma2.cpp: scaled embeddings (in place), iSWA inputs (base, then SWA;
    build_attn_inp_kv_iswa), the iSWA build_attn (expands q, k, v), Q scaled (in place), attention logit
    soft-capping without flash attention (scale, tanh, scale: in place), post-attention and post-FFN
    norms, GeGLU, final logit soft-capping (in place on the logits)."""
    c = Ctx(T, n_out, flash)
    inpL = scale(c.inp_embd(sh.n_embd))
    pos = c.inp_pos()
    base = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    swa = c.kv_inputs(n_kv_swa, sh.hd * sh.n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        is_swa = kind == "swa"
        cur = c.norm(inpL)
        q, k, v = c.qkv(cur, sh.hd, sh.n_head, sh.n_head_kv)
        q = scale(c.rope(q, pos))
        k = c.rope(k, pos)
        cur = c.attn_kv(swa if is_swa else base, q, k, v, n_kv_swa if is_swa else n_kv, iswa=True, softcap=True)
        cur = mm(sh.n_embd, cur)
        if il == last:
            cur = get_rows(cur, out_ids)
            inpL = get_rows(inpL, out_ids)
        sa_out = add(c.norm(cur), inpL)
        cur = c.norm(c.ffn_swiglu(c.norm(sa_out), sh.n_ff, sh.n_embd))
        inpL = add(cur, sa_out)
    x = c.norm(inpL)
    x.output = True
    logits = scale(like("UNARY", scale(mm(sh.n_vocab, x))))
    logits.output = True
    c.gf.expand(logits)
    return c.gf


def deepseek2(sh, kinds, T, n_out, n_kv, n_kv_swa, flash):
    """src/models/deepseek2.cpp, MLA with the absorption (a K-only cache of kv_lora + rope values per
    cell; build_attn_inp_k: k_idxs and the mask). Q through its LoRA (rms_norm in place) or directly,
    split into nope and rope views, q_nope absorbed by wk_b [kv_lora, T, n_head] and concatenated with
    the rotated q_pe; K = concat(normed latent, rotated k_pe); attention as MQA over kv_lora + rope
    (V a view of K, copied transposed without flash attention), decompressed by wv_b; dense layers
    first, then the MoE FFN plus the shared expert."""
    c = Ctx(T, n_out, flash)
    gf = c.gf
    inpL = c.inp_embd(sh.n_embd)
    pos = c.inp_pos()
    k_idxs = new(I64, T, name="attn_inp_k_idxs")
    mask = new(F16 if flash else F32, n_kv, T, name="attn_inp_kq_mask")
    out_ids = c.inp_out_ids()
    nope, rope_dim, kv_lora, n_head = sh.nope, sh.rope_dim, sh.kv_lora, sh.n_head
    hd_k = nope + rope_dim
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        inpSA = inpL
        cur = c.norm(inpL)
        q = mm(n_head * hd_k, c.norm(mm(sh.q_lora, cur)) if sh.q_lora else cur)
        q = reshape(q, hd_k, n_head, T)
        kv_cmpr_pe = mm(kv_lora + rope_dim, cur)
        row = kv_cmpr_pe.nb[1]
        kv_cmpr = view(kv_cmpr_pe, (kv_lora, T), (F32, row, row * T, row * T), 0)
        k_pe = c.rope(view(kv_cmpr_pe, (rope_dim, 1, T), (F32, row, row, row * T), kv_lora * F32), pos)
        kv_cmpr = c.norm(kv_cmpr)
        q_nope = view(q, (nope, n_head, T), q.nb, 0)
        q_pe = c.rope(view(q, (rope_dim, n_head, T), q.nb, nope * F32), pos)
        absorbed = mm2((nope, kv_lora, n_head, 1), permute(q_nope, 0, 2, 1, 3))
        qcur = concat0(permute(absorbed, 0, 2, 1, 3), q_pe)
        vcur = reshape(kv_cmpr, kv_lora, 1, T)
        kcur = concat0(vcur, k_pe)
        gf.expand(qcur)  # llm_graph_context::build_attn (attn_k overload): q, v, k, then the K store
        gf.expand(vcur)
        gf.expand(kcur)
        gf.expand(Tensor(F32, (kv_lora + rope_dim, T), op="SET_ROWS",
                         src=(None, view(kcur, (kv_lora + rope_dim, T), None, 0), k_idxs), view_of=True))
        cur = c.mha(qcur, n_kv, 1, kv_lora + rope_dim, kv_lora, mask, n_head, v_mla_rows=sh.v_head, v_trans=False,
                    kv_esize=sh.kv_esize)
        cur = mm(sh.n_embd, cur)
        if il == last:
            cur = get_rows(cur, out_ids)
            inpSA = get_rows(inpSA, out_ids)
        ffn_inp = add(cur, inpSA)
        cur = c.norm(ffn_inp)
        if kind == "moe":
            moe = moe_ffn(c, cur, sh.n_expert, sh.n_used, sh.n_ff_exp, sh.n_embd, norm_w=sh.norm_w,
                          gating=sh.gating, probs_bias=sh.probs_bias, w_scale=sh.w_scale)
            cur = add(moe, c.ffn_swiglu(cur, sh.n_ff_shexp, sh.n_embd))
        else:
            cur = c.ffn_swiglu(cur, sh.n_ff, sh.n_embd)
        inpL = add(cur, ffn_inp)
    c.output(inpL, sh.n_vocab)
    return gf


BUILDERS = {"llama": llama, "gemma2": gemma2, "deepseek2": deepseek2}


# What a graph's buffer depends on, read from the ModelSpec (see `shape`); hashable for the cache.
Shape = namedtuple("Shape", "builder n_embd n_head n_head_kv hd n_ff n_vocab qk_norm n_expert n_used n_ff_exp "
                            "n_ff_shexp nope rope_dim kv_lora q_lora v_head kv_esize norm_w gating probs_bias w_scale "
                            "lead period kinds")

# GGUF architectures whose llama.cpp graph a builder reproduces (src/models/<arch>.cpp)
# (each checked against the real llama.cpp in tests/test_llama_cpp_real.py). Qwen2's Q/K/V biases are
# additions in place on the projections, so its buffer is the llama graph's (src/models/qwen2.cpp).
ARCH_BUILDER = {"llama": "llama", "qwen2": "llama", "qwen3": "llama", "qwen3moe": "llama", "gemma2": "gemma2",
                "deepseek2": "deepseek2"}


def shape(spec, swa_honoured: bool, kv_esize: int = F16):
    """The graph's shape for `spec`, or None when no builder reproduces llama.cpp's graph for it
    (another architecture, or a variant the builder does not follow: fused QKV, LayerNorm, no gate,
    MLA off, ...)."""
    name = ARCH_BUILDER.get(spec.arch)
    if name is None or spec.fused_qkv or spec.fused_gate_up or not spec.gated_mlp or spec.norm_bias \
            or spec.qk_norm_per_layer or spec.attn_output_gate or spec.learned_positions or spec.attention_sinks:
        return None
    L = spec.num_layers
    lead, period = 0, 1
    if name == "llama":
        if spec.shared_expert_intermediate_size or spec.first_dense_layers or spec.layer_types and not all(
                t == "full" for t in spec.layer_types) and spec.arch != "llama":
            return None
        kinds = ("moe" if spec.is_moe else "dense",) * L
    elif name == "gemma2":
        if spec.is_moe or spec.qk_norm:
            return None
        period = 2
        kinds = tuple("swa" if swa_honoured and spec.layer_type(i) == "sliding" else "full" for i in range(L))
    else:
        if not spec.is_mla or not spec.is_moe:
            return None
        lead = spec.first_dense_layers
        kinds = tuple("dense" if i < lead else "moe" for i in range(L))
    v3 = spec.expert_score_bias  # DeepSeek-V3 routing: sigmoid scores, a selection bias, normalized and scaled weights
    return Shape(name, spec.hidden_size, spec.num_heads, spec.num_kv_heads, spec.head_dim, spec.intermediate_size,
                 spec.vocab_size, spec.qk_norm, spec.num_experts, spec.experts_per_token, spec.expert_intermediate_size,
                 spec.shared_expert_intermediate_size, spec.qk_nope_head_dim, spec.qk_rope_head_dim, spec.kv_lora_rank,
                 spec.q_lora_rank, spec.v_head_dim, kv_esize,
                 name == "llama" or v3, "sigmoid" if v3 else "softmax", v3, v3, lead, period, layer_plan(kinds, lead, period))


def layer_plan(kinds: tuple, lead: int, period: int) -> tuple:
    """The layers worth replaying: the first lead + 2 periods (plus the phase of the last layer), then the
    last layer. At every layer boundary only the residual stream and the graph inputs are alive, and a
    layer frees all it allocated before the next one of its kind starts, so from the second period on
    the allocator's free list at a boundary repeats: further layers of the same kind reach the same
    high-water mark. The last layer differs (only n_outputs rows after out_ids) and is kept. The
    equality with the full graph is tested for up to 40 layers (tests/test_ggml_alloc.py)."""
    L = len(kinds)
    m = lead + 2 * period + (L - 1 - lead) % period
    return kinds if L <= m + 1 else kinds[:m] + kinds[-1:]


@lru_cache(maxsize=1024)
def cpu_buffer(sh: Shape, n_tokens: int, n_outputs: int, n_kv: int, n_kv_swa: int, flash: bool) -> int:
    """Bytes of the CPU compute buffer for one graph (ggml-alloc replay, 32-byte alignment)."""
    return reserve(BUILDERS[sh.builder](sh, sh.kinds, n_tokens, n_outputs, n_kv, n_kv_swa, flash))


def reserved_buffer(sh: Shape, n_ubatch: int, n_seqs: int, n_outputs_max: int, n_kv: int, n_kv_swa: int,
                    flash: bool) -> int:
    """llama_context::sched_reserve (src/llama-context.cpp): the prompt graph with n_tokens = n_ubatch
    (rounded up to a multiple of n_seqs by graph_reserve) and n_outputs = min(n_ubatch, n_outputs_max),
    the generation graph with n_seqs tokens and outputs, the prompt graph again; ggml-alloc only grows
    its buffer, so the buffer is the larger of the two."""
    T = -(-n_ubatch // n_seqs) * n_seqs
    pp = cpu_buffer(sh, T, min(n_ubatch, n_outputs_max), n_kv, n_kv_swa, flash)
    tg = cpu_buffer(sh, n_seqs, n_seqs, n_kv, n_kv_swa, flash)
    return max(pp, tg)
