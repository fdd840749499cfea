"""llama.cpp's compute graphs, node by node, for ggml-alloc's replay (pycore.engines.ggml_alloc).

Each builder follows llama.cpp's source at 0c1e57098bba43ac29e6e3b677cdceebdd22334f (src/llama-graph.cpp,
src/llama-kv-cache.cpp, src/models/<arch>.cpp): the same ops in the same order, with the same
ggml_build_forward_expand calls, so the graph's node order is llama.cpp's. Only tensors of the compute
buffer are modelled; weights and KV-cache tensors are `None` (outside the buffer).
"""
from .ggml_alloc import F16, F32, I32, I64, Graph, Tensor, like, mm, mm2, new, permute, reshape, view


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


def llama(n_layer, n_embd, n_head, n_head_kv, hd, n_ff, n_vocab, n_tokens, n_outputs, n_kv, flash):
    """src/models/llama.cpp (dense FFN): the graph for one ubatch."""
    c = Ctx(n_tokens, n_outputs, flash)
    inpL = c.inp_embd(n_embd)
    pos = c.inp_pos()
    inputs = c.kv_inputs(n_kv, hd * n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    for il in range(n_layer):
        inpSA = inpL
        cur = c.norm(inpL)
        q, k, v = c.qkv(cur, hd, n_head, n_head_kv)
        q = c.rope(q, pos)
        k = c.rope(k, pos)
        cur = c.attn_kv(inputs, q, k, v, n_kv)
        cur = mm(n_embd, cur)
        if il == n_layer - 1:
            cur = get_rows(cur, out_ids)
            inpSA = get_rows(inpSA, out_ids)
        ffn_inp = add(cur, inpSA)
        cur = c.norm(ffn_inp)
        cur = c.ffn_swiglu(cur, n_ff, n_embd)
        inpL = add(cur, ffn_inp)
    c.output(inpL, n_vocab)
    return c.gf


def scale(a):
    return like("SCALE", a)


def gemma2(n_layer, n_embd, n_head, n_head_kv, hd, n_ff, n_vocab, n_tokens, n_outputs, n_kv, n_kv_swa, flash,
           swa_period=2):
    """src/models/gemma2.cpp: scaled embeddings, iSWA inputs (base then SWA), post-attention and post-FFN
    norms, GeGLU, attention logit soft-capping without flash attention (scale, tanh, scale: in place),
    final logit soft-capping (in place on the logits). Layer il slides when il % period < period - 1
    (llama-model.cpp load_swa_pattern)."""
    c = Ctx(n_tokens, n_outputs, flash)
    inpL = scale(c.inp_embd(n_embd))
    pos = c.inp_pos()
    base = c.kv_inputs(n_kv, hd * n_head_kv, not flash)
    swa = c.kv_inputs(n_kv_swa, hd * n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    for il in range(n_layer):
        is_swa = il % swa_period < swa_period - 1
        cur = c.norm(inpL)
        q, k, v = c.qkv(cur, hd, n_head, n_head_kv)
        q = scale(c.rope(q, pos))
        k = c.rope(k, pos)
        cur = c.attn_kv(swa if is_swa else base, q, k, v, n_kv_swa if is_swa else n_kv, iswa=True,
                        softcap=True)
        cur = mm(n_embd, cur)
        if il == n_layer - 1:
            cur = get_rows(cur, out_ids)
            inpL = get_rows(inpL, out_ids)
        cur = c.norm(cur)
        sa_out = add(cur, inpL)
        cur = c.norm(sa_out)
        cur = c.ffn_swiglu(cur, n_ff, n_embd)
        cur = c.norm(cur)
        inpL = add(cur, sa_out)
    x = c.norm(inpL)
    x.output = True
    logits = scale(like("UNARY", scale(mm(n_vocab, x))))
    logits.output = True
    c.gf.expand(logits)
    return c.gf


def moe_ffn(c, x, n_expert, n_used, n_ff_exp, n_embd, norm_w=True, gating="softmax", probs_bias=False):
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


def qwen3moe(n_layer, n_embd, n_head, n_head_kv, hd, n_expert, n_used, n_ff_exp, n_vocab, n_tokens, n_outputs, n_kv,
             flash):
    """src/models/qwen3moe.cpp: llama-style attention with Q and K RMS norms (on the reshaped views, so
    not in place), MoE FFN with normalized softmax weights."""
    c = Ctx(n_tokens, n_outputs, flash)
    inpL = c.inp_embd(n_embd)
    pos = c.inp_pos()
    inputs = c.kv_inputs(n_kv, hd * n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    for il in range(n_layer):
        inpSA = inpL
        cur = c.norm(inpL)
        q, k, v = c.qkv(cur, hd, n_head, n_head_kv)
        q = c.rope(c.norm(q), pos)
        k = c.rope(c.norm(k), pos)
        cur = c.attn_kv(inputs, q, k, v, n_kv)
        cur = mm(n_embd, cur)
        if il == n_layer - 1:
            cur = get_rows(cur, out_ids)
            inpSA = get_rows(inpSA, out_ids)
        ffn_inp = add(cur, inpSA)
        cur = c.norm(ffn_inp)
        cur = moe_ffn(c, cur, n_expert, n_used, n_ff_exp, n_embd)
        inpL = add(cur, ffn_inp)
    c.output(inpL, n_vocab)
    return c.gf


def concat0(a, b):
    """ggml_concat(a, b, 0): a new tensor, widths added."""
    return Tensor(F32, (a.ne[0] + b.ne[0],) + a.ne[1:], op="CONCAT", src=(a, b))


def deepseek2(n_layer, n_embd, n_head, q_lora, kv_lora, nope, rope_dim, v_head, n_ff, n_dense, n_expert, n_used,
              n_ff_exp, n_ff_shexp, n_vocab, n_tokens, n_outputs, n_kv, flash, norm_w=False, kv_esize=F16):
    """src/models/deepseek2.cpp, MLA with the absorption (the K-only cache of kv_lora + rope values per
    cell; build_attn_inp_k: k_idxs and the mask). Q through its LoRA (rms_norm in place), split into
    nope and rope views, q_nope absorbed by wk_b [kv_lora, T, n_head], concatenated with the rotated
    q_pe; K = concat(normed latent, rotated k_pe); attention as MQA over kv_lora + rope (V a view of K),
    decompressed by wv_b; the first `n_dense` layers dense, the others MoE plus a shared expert."""
    c = Ctx(n_tokens, n_outputs, flash)
    T = n_tokens
    inpL = c.inp_embd(n_embd)
    pos = c.inp_pos()
    k_idxs = new(I64, T, name="attn_inp_k_idxs")
    mask = new(F16 if flash else F32, n_kv, T, name="attn_inp_kq_mask")
    out_ids = c.inp_out_ids()
    hd_k = nope + rope_dim
    gf = c.gf
    for il in range(n_layer):
        inpSA = inpL
        cur = c.norm(inpL)
        q = mm(n_head * hd_k, c.norm(mm(q_lora, cur)))
        q = reshape(q, hd_k, n_head, T)
        kv_cmpr_pe = mm(kv_lora + rope_dim, cur)
        row = kv_cmpr_pe.nb[1]
        kv_cmpr = view(kv_cmpr_pe, (kv_lora, T), (F32, row, row * T, row * T), 0)
        k_pe = view(kv_cmpr_pe, (rope_dim, 1, T), (F32, row, row, row * T), kv_lora * F32)
        k_pe = c.rope(k_pe, pos)
        kv_cmpr = c.norm(kv_cmpr)
        q_nope = view(q, (nope, n_head, T), q.nb, 0)
        q_pe = view(q, (rope_dim, n_head, T), q.nb, nope * F32)
        q_pe = c.rope(q_pe, pos)
        absorbed = mm2((nope, kv_lora, n_head, 1), permute(q_nope, 0, 2, 1, 3))
        qcur = concat0(permute(absorbed, 0, 2, 1, 3), q_pe)
        kv_cmpr = reshape(kv_cmpr, kv_lora, 1, T)
        kcur = concat0(kv_cmpr, k_pe)
        vcur = kv_cmpr
        gf.expand(qcur)
        gf.expand(vcur)
        gf.expand(kcur)
        gf.expand(Tensor(F32, (kv_lora + rope_dim, T), op="SET_ROWS",
                         src=(None, view(kcur, (kv_lora + rope_dim, T), None, 0), k_idxs), view_of=True))
        cur = c.mha(qcur, n_kv, 1, kv_lora + rope_dim, kv_lora, mask, n_head, v_mla_rows=v_head, v_trans=False,
                    kv_esize=kv_esize)
        cur = mm(n_embd, cur)
        if il == n_layer - 1:
            cur = get_rows(cur, out_ids)
            inpSA = get_rows(inpSA, out_ids)
        ffn_inp = add(cur, inpSA)
        cur = c.norm(ffn_inp)
        if il < n_dense:
            cur = c.ffn_swiglu(cur, n_ff, n_embd)
        else:
            moe = moe_ffn(c, cur, n_expert, n_used, n_ff_exp, n_embd, norm_w=norm_w)
            cur = add(moe, c.ffn_swiglu(cur, n_ff_shexp, n_embd))
        inpL = add(cur, ffn_inp)
    c.output(inpL, n_vocab)
    return gf
