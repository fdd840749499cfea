"""llama.cpp's compute graphs, node by node, for ggml-alloc's replay (pycore.engines.ggml_alloc).

Each builder follows llama.cpp's source at 0c1e57098bba43ac29e6e3b677cdceebdd22334f (src/llama-graph.cpp,
src/llama-kv-cache.cpp, src/models/<arch>.cpp): the same ops in the same order, with the same
ggml_build_forward_expand calls, so the graph's node order is llama.cpp's. Only tensors of the compute
buffer are modelled; weights and KV-cache tensors are `None` (outside the buffer).

Covered (each checked against the real llama.cpp's `CPU compute buffer size`, to the printed digit, in
tests/test_llama_cpp_real.py and tests/test_llama_cpp_hybrid_compute.py): llama (dense and Mixtral-style
MoE), qwen2, qwen3, qwen3moe, gemma2, gemma3, gpt-oss, deepseek2 with MLA, mamba2, nemotron_h, lfm2,
granitehybrid, qwen35, qwen3next and jamba (tests/test_llama_cpp_hybrid_real.py).
Other architectures (Falcon-H1, Phi-3's fused projections, ...) have no builder: `shape`
returns None and the caller falls back to its peak model with a note.
"""
from collections import namedtuple
from functools import lru_cache

from ..models import FULL, GATED_DELTANET, MAMBA, MAMBA2, PARALLEL_HYBRID, SHORT_CONV
from .ggml_alloc import F16, F32, I32, I64, Graph, Tensor, like, mm, mm2, new, permute, reshape, reserve, view


class Ctx:
    """What a graph depends on: the ubatch (n_tokens, n_outputs), the cache view (n_kv) and flash attention."""

    def __init__(self, n_tokens, n_outputs, flash, sh=None):
        # one KV stream: the cache is unified (kv_unified, llama-server's default with several slots)
        self.T, self.n_outputs, self.flash = n_tokens, n_outputs, flash
        self.gf = Graph()
        # a quantized cache: Hadamard rotations of Q, K (and the attention output through V's), heads of
        # hd (src/llama-kv-cache.cpp attn_rot_k / attn_rot_v: head dims that are multiples of 64)
        self.rot_hd = sh.hd if sh is not None and sh.kv_rot and sh.hd % 64 == 0 else 0

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
        rot_k = rot_v = None
        if self.rot_hd:
            # llama_kv_cache::build_input_k_rot: f32 [nrot, nrot], nrot the largest power of two ≥ 64 dividing
            # the head dim (doubling from 64 while it divides); build_input_v_rot: [64, 64]
            nrot = 64
            while self.rot_hd % (2 * nrot) == 0:
                nrot *= 2
            rot_k = new(F32, nrot, nrot, name="attn_inp_k_rot")
            rot_v = new(F32, 64, 64, name="attn_inp_v_rot")
        return k_idxs, v_idxs, mask, rot_k, rot_v

    def norm(self, x):
        """build_norm, RMS with a weight: rms_norm then mul (both may run in place)."""
        return like("MUL", like("RMS_NORM", x), None)

    def qkv(self, x, hd, n_head, n_head_kv, hd_v=None, biases=False):
        """build_qkv, separate Q/K/V path: three matmuls (+ their biases, in place) reshaped to
        [head_dim, heads, tokens]."""
        hd_v = hd if hd_v is None else hd_v
        T = self.T

        def proj(rows):
            t = mm(rows, x)
            return like("ADD", t, None) if biases else t

        q = reshape(proj(hd * n_head), hd, n_head, T)
        k = reshape(proj(hd * n_head_kv), hd, n_head_kv, T)
        v = reshape(proj(hd_v * n_head_kv), hd_v, n_head_kv, T)
        return q, k, v

    @staticmethod
    def rope(x, pos):
        return like("ROPE", x, pos)

    def attn_kv(self, inputs, q, k, v, n_kv, iswa=False, softcap=False):
        """llm_graph_context::build_attn (KV cache) + build_attn_mha: expand q, v, k (the iSWA overload:
        q, k, v); store K and V (set_rows into views of the cache); attention over n_kv cells. The output
        projection is the caller's."""
        gf, T = self.gf, self.T
        k_idxs, v_idxs, mask, rot_k, rot_v = inputs
        if rot_k is not None:  # llama-graph.cpp build_attn: q, k and v rotated before they are expanded
            q, k = hadamard(q, rot_k), hadamard(k, rot_k)
            v = hadamard(v, rot_v)
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
        cur = self.mha(q, n_kv, n_head_kv, hd, hd_v, mask, n_head, softcap=softcap)
        return cur if rot_v is None else hadamard(cur, rot_v)

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


def hadamard(x, rot):
    """llama_mul_mat_hadamard (src/llama-impl.h @0c1e570): x viewed as rows of rot's width (made contiguous
    first when it is not), multiplied by the rotation matrix (a new f32 tensor), reshaped back to x's shape."""
    n = rot.ne[0]
    rows = x.ne[0] * x.ne[1] * x.ne[2] * x.ne[3] // n
    contiguous = x.nb == tuple(x.esize * p for p in (1, x.ne[0], x.ne[0] * x.ne[1], x.ne[0] * x.ne[1] * x.ne[2]))
    flat = reshape(x, n, rows) if contiguous else Tensor(F32, (n, rows), op="CONT", src=(x,))
    return reshape(mm2(rot, flat), *x.ne)


def add(a, b):
    return like("ADD", a, b)


def get_rows(a, ids):
    return Tensor(F32, (a.ne[0], ids.ne[0], ids.ne[1], ids.ne[2]), op="GET_ROWS", src=(a, ids))


def scale(a):
    return like("SCALE", a)


def moe_ffn(c, x, n_expert, n_used, n_ff_exp, n_embd, norm_w=True, gating="softmax", probs_bias=False, w_scale=False,
            biases=False):
    """llm_graph_context::build_moe_ffn, separate gate/up experts: router logits (+ a bias, in place),
    probabilities (softmax in place, sigmoid in place, or the logits themselves with the weights
    softmaxed after the top-k: SOFTMAX_WEIGHT), top-k by argsort (a view of the I32 argsort), the weights
    gathered, normalized (sum_rows, clamp, div) and scaled when asked, expanded early; up, gate (each
    + its per-expert bias with add_id, in place), the gated activation (a GLU op) and down per used expert
    (mul_mat_id [n_ff, n_used, T]), weighted in place, then the experts' views summed (the first add
    allocates, the others run in place)."""
    gf, T = c.gf, x.ne[1]  # n_outputs rows in the last layer
    logits = mm(n_expert, x)
    if biases:
        logits = like("ADD", logits, None)
    probs = {"softmax": "SOFT_MAX", "sigmoid": "UNARY"}.get(gating)
    probs = like(probs, logits) if probs else logits
    selection = like("ADD", probs, None) if probs_bias else probs
    argsort = Tensor(I32, selection.ne, op="ARGSORT", src=(selection,))
    selected = view(argsort, (n_used, T, 1, 1), argsort.nb, 0)
    weights = get_rows(reshape(probs, 1, n_expert, T), selected)
    if gating == "softmax_weight":
        weights = reshape(like("SOFT_MAX", reshape(weights, n_used, T)), 1, n_used, T)
    if norm_w:
        w2 = reshape(weights, n_used, T)
        total = like("CLAMP", Tensor(F32, (1, T), op="SUM_ROWS", src=(w2,)))
        weights = reshape(Tensor(F32, w2.ne, op="DIV", src=(w2, total)), 1, n_used, T)
    if w_scale:  # expert_weights_scale other than 0 and 1: a scale of a view, so a new tensor
        weights = Tensor(F32, weights.ne, op="SCALE", src=(weights,))
    gf.expand(weights)
    cur = reshape(x, n_embd, 1, T)

    def experts_mm(rows, src):
        t = Tensor(F32, (rows, n_used, T), op="MUL_MAT_ID", src=(None, src, selected))
        return like("ADD_ID", t, None, selected) if biases else t

    up = experts_mm(n_ff_exp, cur)
    gate = experts_mm(n_ff_exp, cur)
    act = Tensor(F32, gate.ne, op="GLU", src=(gate, up))
    experts = like("MUL", experts_mm(n_embd, act), weights)
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

def llama(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/llama.cpp, src/models/qwen3.cpp and src/models/qwen3moe.cpp (one graph: RMS norm,
    Q/K/V, optional per-head Q/K RMS norms on the reshaped views (so not in place), RoPE, attention with
    the KV cache, the last layer's rows gathered by out_ids, a SwiGLU FFN or the MoE FFN)."""
    c = Ctx(T, n_out, flash, sh)
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


def gemma2(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/gemma2.cpp and src/models/gemma3.cpp: scaled embeddings (in place), iSWA inputs (base,
    then SWA; build_attn_inp_kv_iswa) and the iSWA build_attn (expands q, k, v), or one cache and the plain
    build_attn (q, v, k) for a Gemma 3 without a window; Gemma 3's per-head Q/K norms (on the reshaped
    views, so not in place); Q scaled (in place); Gemma 2's attention logit soft-capping without flash
    attention (scale, tanh, scale: in place); post-attention and post-FFN norms, GeGLU, the final logit
    soft-capping (in place on the logits, so no memory: left out)."""
    c = Ctx(T, n_out, flash, sh)
    inpL = scale(c.inp_embd(sh.n_embd))
    pos = c.inp_pos()
    iswa = "swa" in kinds
    base = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    swa = c.kv_inputs(n_kv_swa, sh.hd * sh.n_head_kv, not flash) if iswa else None
    out_ids = c.inp_out_ids()
    softcap = sh.builder == "gemma2"
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        is_swa = kind == "swa"
        cur = c.norm(inpL)
        q, k, v = c.qkv(cur, sh.hd, sh.n_head, sh.n_head_kv)
        if sh.qk_norm:
            q = c.rope(c.norm(q), pos)
            k = c.rope(c.norm(k), pos)
        else:
            q = c.rope(q, pos)
            k = c.rope(k, pos)
        q = scale(q)
        cur = c.attn_kv(swa if is_swa else base, q, k, v, n_kv_swa if is_swa else n_kv, iswa=iswa, softcap=softcap)
        cur = mm(sh.n_embd, cur)
        if il == last:
            cur = get_rows(cur, out_ids)
            inpL = get_rows(inpL, out_ids)
        sa_out = add(c.norm(cur), inpL)
        cur = c.norm(c.ffn_swiglu(c.norm(sa_out), sh.n_ff, sh.n_embd))
        inpL = add(cur, sa_out)
    c.output(inpL, sh.n_vocab)
    return c.gf


def deepseek2(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/deepseek2.cpp, MLA with the absorption (a K-only cache of kv_lora + rope values per
    cell; build_attn_inp_k: k_idxs and the mask). Q through its LoRA (rms_norm in place) or directly,
    split into nope and rope views, q_nope absorbed by wk_b [kv_lora, T, n_head] and concatenated with
    the rotated q_pe; K = concat(normed latent, rotated k_pe); attention as MQA over kv_lora + rope
    (V a view of K, copied transposed without flash attention), decompressed by wv_b; dense layers
    first, then the MoE FFN plus the shared expert."""
    c = Ctx(T, n_out, flash, sh)
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




# What a graph's buffer depends on, read from the ModelSpec (see `shape`); hashable for the cache.
Shape = namedtuple("Shape", "builder n_embd n_head n_head_kv hd n_ff n_vocab qk_norm n_expert n_used n_ff_exp "
                            "n_ff_shexp nope rope_dim kv_lora q_lora v_head kv_esize norm_w gating probs_bias w_scale "
                            "lead period kinds ssm_inner ssm_state ssm_groups ssm_heads ssm_conv ssm_norm kv_rot",
                   defaults=(0, 0, 0, 0, 0, False, False))

# GGUF architectures whose llama.cpp graph a builder reproduces (src/models/<arch>.cpp)
# (each checked against the real llama.cpp in tests/test_llama_cpp_real.py). Qwen2's Q/K/V biases are
# additions in place on the projections, so its buffer is the llama graph's (src/models/qwen2.cpp).
ARCH_BUILDER = {"llama": "llama", "qwen2": "llama", "qwen3": "llama", "qwen3moe": "llama", "gemma2": "gemma2",
                "gemma3": "gemma3",
                "deepseek2": "deepseek2", "mamba2": "mamba2", "nemotron_h": "nemotron_h", "gpt-oss": "gpt-oss",
                "lfm2": "lfm2", "granitehybrid": "granitehybrid", "qwen35": "qwen35",
                "qwen3next": "qwen35", "jamba": "jamba",
                "falcon-h1": "falcon-h1"}


def shape(spec, swa_honoured: bool, kv_esize: int = F16, kv_rot: bool = False):
    """The graph's shape for `spec`, or None when no builder reproduces llama.cpp's graph for it
    (another architecture, or a variant the builder does not follow: fused QKV, LayerNorm, no gate,
    MLA off, ...). `kv_rot`: a quantized KV cache, whose attention llama.cpp wraps in Hadamard rotations
    (replayed in Ctx.attn_kv; not on DeepSeek-2's MLA path)."""
    sh = _shape(spec, swa_honoured, kv_esize)
    return sh._replace(kv_rot=True) if sh is not None and kv_rot else sh


def _shape(spec, swa_honoured: bool, kv_esize: int = F16):
    name = ARCH_BUILDER.get(spec.arch)
    if name == "qwen35":
        return _qwen35_shape(spec, kv_esize)
    if name == "jamba":
        return _jamba_shape(spec, kv_esize)
    if name == "falcon-h1":
        return _falcon_h1_shape(spec, kv_esize)
    if name is None or spec.fused_qkv or spec.fused_gate_up or spec.gated_mlp != (name != "nemotron_h") or spec.norm_bias \
            or spec.qk_norm_per_layer or spec.attn_output_gate or spec.learned_positions \
            or spec.attention_sinks != (name == "gpt-oss"):
        return None
    L = spec.num_layers
    lead, period = 0, 1
    if name == "llama":
        if spec.shared_expert_intermediate_size or spec.first_dense_layers or spec.layer_types and not all(
                t == "full" for t in spec.layer_types) and spec.arch != "llama":
            return None
        kinds = ("moe" if spec.is_moe else "dense",) * L
    elif name in ("gemma2", "gemma3"):
        if spec.is_moe or spec.qk_norm != (name == "gemma3"):
            return None
        period = 2 if name == "gemma2" else 6  # llama-model.cpp load_swa_pattern(ml, 2 / 6)
        kinds = tuple("swa" if swa_honoured and spec.layer_type(i) == "sliding" else "full" for i in range(L))
    elif name == "gpt-oss":
        if not spec.is_moe:
            return None
        period = 2
        kinds = tuple("swa" if swa_honoured and spec.layer_type(i) == "sliding" else "full" for i in range(L))
    elif name == "granitehybrid":  # the pattern is irregular: every layer is replayed
        if not spec.ssm_num_heads:
            return None
        kinds = tuple("mamba2" if spec.layer_type(i) == MAMBA2 else "attn" for i in range(L))
        period = L
    elif name == "lfm2":  # the pattern is irregular: every layer is replayed
        if spec.is_moe or spec.sliding_window or not spec.conv_l_cache:
            return None
        kinds = tuple("conv" if spec.layer_type(i) == SHORT_CONV else "attn" for i in range(L))
        period = L
    elif name == "mamba2":
        if not spec.ssm_num_heads or spec.is_moe:
            return None
        kinds = ("mamba2",) * L
    elif name == "nemotron_h":  # the block pattern is irregular: every block is replayed (period = L)
        if not spec.ssm_num_heads or spec.is_moe:
            return None
        kinds = tuple("mamba2" if spec.layer_type(i) == MAMBA2 else "attn" if spec.layer_type(i) == FULL else "ffn"
                      for i in range(L))
        period = L
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
                 name == "llama" or v3, "sigmoid" if v3 else "softmax", v3, v3, lead, period, layer_plan(kinds, lead, period),
                 spec.ssm_d_inner, spec.ssm_d_state, spec.ssm_n_groups, spec.ssm_num_heads,
                 spec.conv_l_cache if name == "lfm2" else spec.ssm_d_conv, spec.ssm_gated_norm)


def _qwen35_shape(spec, kv_esize):
    """Qwen3.5 (src/models/qwen35.cpp): Gated DeltaNet + gated full attention, a dense FFN; Qwen3-Next
    (src/models/qwen3next.cpp): the same with routed experts and a gated shared expert. The DeltaNet
    widths go in the ssm fields as llama.cpp's hparams hold them: ssm_d_inner = value heads × value head
    dim, ssm_d_state = key head dim, ssm_n_group = key heads, ssm_dt_rank = value heads."""
    next_ = spec.arch == "qwen3next"  # routed experts + a gated shared expert (src/models/qwen3next.cpp)
    if next_ != spec.is_moe or next_ and not (spec.shared_expert_intermediate_size and spec.shared_expert_gate) \
            or spec.first_dense_layers or spec.expert_score_bias:
        return None
    if spec.fused_qkv or spec.fused_gate_up or not spec.gated_mlp or spec.norm_bias \
            or not spec.attn_output_gate or not spec.qk_norm or spec.learned_positions or spec.attention_sinks \
            or spec.sliding_window or spec.linear_key_head_dim != spec.linear_value_head_dim \
            or not spec.linear_num_value_heads or not spec.linear_num_key_heads:
        return None
    L = spec.num_layers
    kinds = tuple("gdn" if spec.layer_type(i) == GATED_DELTANET else "attn" for i in range(L))
    if any(spec.layer_type(i) not in (GATED_DELTANET, FULL) for i in range(L)):
        return None
    # Qwen's regular layout (full_attention_interval 4: 3 DeltaNet + 1 attention) is replayed over two
    # cycles of 8 layers: the allocator's free list at a layer boundary can alternate between two states
    # from one 4-layer cycle to the next (seen in tests/test_ggml_alloc.py), so the repeating unit is 8;
    # any other layout is replayed layer by layer
    period = 8 if kinds == tuple("attn" if (i + 1) % 4 == 0 else "gdn" for i in range(L)) else L
    return Shape("qwen35", spec.hidden_size, spec.num_heads, spec.num_kv_heads, spec.head_dim, spec.intermediate_size,
                 spec.vocab_size, True, spec.num_experts, spec.experts_per_token, spec.expert_intermediate_size,
                 spec.shared_expert_intermediate_size, 0, 0, 0, 0, 0, kv_esize, False, "softmax", False, False, 0, period,
                 layer_plan(kinds, 0, period), spec.linear_num_value_heads * spec.linear_value_head_dim,
                 spec.linear_key_head_dim, spec.linear_num_key_heads, spec.linear_num_value_heads,
                 spec.linear_conv_kernel, True)


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
def cpu_buffer(sh: Shape, n_tokens: int, n_outputs: int, n_kv: int, n_kv_swa: int, flash: bool, n_seqs: int = 1) -> int:
    """Bytes of the CPU compute buffer for one graph (ggml-alloc replay, 32-byte alignment)."""
    return reserve(BUILDERS[sh.builder](sh, sh.kinds, n_tokens, n_outputs, n_kv, n_kv_swa, flash, n_seqs))


def reserved_buffer(sh: Shape, n_ubatch: int, n_seqs: int, n_outputs_max: int, n_kv: int, n_kv_swa: int,
                    flash: bool) -> int:
    """llama_context::sched_reserve (src/llama-context.cpp): the prompt graph with n_tokens = n_ubatch
    (rounded up to a multiple of n_seqs by graph_reserve) and n_outputs = min(n_ubatch, n_outputs_max),
    the generation graph with n_seqs tokens and outputs, the prompt graph again; ggml-alloc only grows
    its buffer, so the buffer is the larger of the two."""
    T = -(-n_ubatch // n_seqs) * n_seqs
    pp = cpu_buffer(sh, T, min(n_ubatch, n_outputs_max), n_kv, n_kv_swa, flash, n_seqs)
    tg = cpu_buffer(sh, n_seqs, n_seqs, n_kv, n_kv_swa, flash, n_seqs)
    return max(pp, tg)


def _rs_rows(c, s_copy_main, s_copy_extra, state_size, n_rows):
    """llm_graph_context::build_rs (src/llama-graph.cpp): the states of this ubatch's sequences gathered
    from the cache (get_rows, [state_size, n_seqs]); the extra states (n_rs − n_seqs rows, none when the
    graph is reserved: init_full gives n_rs = the cache's size = n_seq_max) copied into the cache."""
    rows = Tensor(F32, (state_size, n_rows), op="GET_ROWS", src=(None, s_copy_main))
    c.gf.expand(rows)
    extra = Tensor(F32, (state_size, s_copy_extra.ne[0]), op="GET_ROWS", src=(None, s_copy_extra))
    c.gf.expand(Tensor(F32, extra.ne, op="CPY", src=(extra, None), view_of=True))
    return rows


def mamba2_layer(c, sh, cur, s_copy, n_seqs):
    """llm_build_mamba_base::build_mamba2_layer (src/models/mamba-base.cpp), no rollback snapshots (K = 1):
    the conv states gathered, the input projection split into z, xBC and dt (views), the conv window
    concatenated (its last d_conv − 1 columns copied back into the cache), ssm_conv (+ bias, SiLU in
    place), dt made contiguous (+ bias in place), ssm_scan over the gathered SSM states (y and the new
    states in one f32 tensor, the states copied back), y + x·D, gated by z (swiglu_split of a copy of z),
    the grouped RMS norm, the output projection."""
    T = c.T
    n_st = T // n_seqs
    d_inner, d_state, ng, n_head, d_conv = sh.ssm_inner, sh.ssm_state, sh.ssm_groups, sh.ssm_heads, sh.ssm_conv
    head_dim = d_inner // n_head
    xbc_w = d_inner + 2 * ng * d_state
    main = view(s_copy, (n_seqs,), None, 0)
    extra = view(s_copy, (s_copy.ne[0] - n_seqs,), None, n_seqs * I32)
    conv = reshape(_rs_rows(c, main, extra, (d_conv - 1) * xbc_w, n_seqs), d_conv - 1, xbc_w, n_seqs)
    zxbcdt = reshape(mm(2 * d_inner + 2 * ng * d_state + n_head, cur), 2 * d_inner + 2 * ng * d_state + n_head,
                     n_st, n_seqs)
    nb1, nb2 = zxbcdt.nb[1], zxbcdt.nb[2]
    z = view(zxbcdt, (head_dim, n_head, n_st, n_seqs), (F32, head_dim * F32, nb1, nb2), 0)
    xbc = view(zxbcdt, (xbc_w, n_st, n_seqs), (F32, nb1, nb2, nb2 * n_seqs), d_inner * F32)
    dt = view(zxbcdt, (n_head, n_st, n_seqs), (F32, nb1, nb2, nb2 * n_seqs), (2 * d_inner + 2 * ng * d_state) * F32)
    conv_x = concat0(conv, permute(xbc, 1, 0, 2, 3))
    last_conv = view(conv_x, (d_conv - 1, xbc_w, n_seqs), conv_x.nb, n_st * F32)
    c.gf.expand(Tensor(F32, last_conv.ne, op="CPY", src=(last_conv, None), view_of=True))
    xbc = like("UNARY", like("ADD", Tensor(F32, (xbc_w, n_st, n_seqs), op="SSM_CONV", src=(conv_x, None)), None))
    x = view(xbc, (head_dim, n_head, n_st, n_seqs), (F32, head_dim * F32, xbc.nb[1], xbc.nb[2]), 0)
    B = view(xbc, (d_state, ng, n_st, n_seqs), (F32, d_state * F32, xbc.nb[1], xbc.nb[2]), d_inner * F32)
    C = view(xbc, (d_state, ng, n_st, n_seqs), (F32, d_state * F32, xbc.nb[1], xbc.nb[2]), (d_inner + ng * d_state) * F32)
    dt = like("ADD", like("CONT", dt), None)
    n_x = head_dim * n_head * n_st * n_seqs
    y_ssm = Tensor(F32, (n_x + d_state * head_dim * n_head * n_seqs,), op="SSM_SCAN", src=(None, x, dt, None, B, C, main))
    c.gf.expand(y_ssm)
    extra_rows = Tensor(F32, (d_state * d_inner, extra.ne[0]), op="GET_ROWS", src=(None, extra))
    c.gf.expand(Tensor(F32, extra_rows.ne, op="CPY", src=(extra_rows, None), view_of=True))
    states = view(y_ssm, (d_state * d_inner, n_seqs, 1), None, n_x * F32)
    c.gf.expand(Tensor(F32, states.ne, op="CPY", src=(states, None), view_of=True))
    y = view(y_ssm, (head_dim, n_head, n_st, n_seqs), (F32, x.nb[1], n_head * x.nb[1], n_st * n_head * x.nb[1]), 0)
    y = Tensor(F32, y.ne, op="ADD", src=(y, like("MUL", x, None)))
    y = Tensor(F32, y.ne, op="GLU", src=(like("CONT", z), y))
    if sh.ssm_norm:
        y = c.norm(reshape(y, d_inner // ng, ng, n_st, n_seqs))
    return mm(sh.n_embd, reshape(y, d_inner, n_st * n_seqs))


def mamba2(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/mamba.cpp for LLM_ARCH_MAMBA2: norm, the Mamba-2 mixer, the residual; no attention."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    s_copy = new(I32, max(1, n_seqs), name="rs_s_copy")  # build_rs_inp: n_rs rows (the cache's size when reserved)
    out_ids = c.inp_out_ids()
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        cur = mamba2_layer(c, sh, c.norm(inpL), s_copy, n_seqs)
        if il == last:
            cur = get_rows(cur, out_ids)
            inpL = get_rows(inpL, out_ids)
        inpL = add(cur, inpL)
    c.output(inpL, sh.n_vocab)
    return c.gf


def nemotron_h(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/nemotron-h.cpp: per block a norm then a Mamba-2 mixer, attention without RoPE, or a
    squared-ReLU FFN (relu and sqr in place), and the residual; inputs of the hybrid memory
    (build_inp_mem_hybrid: the recurrent s_copy, the KV indices and mask). The rows of the outputs are
    gathered after the final norm, which is an output itself (t_h_nextn, for the MTP head), as
    embeddings_nextn_masked is false by default (llama-context.cpp)."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    s_copy = new(I32, max(1, n_seqs), name="rs_s_copy")
    inputs = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    for kind in kinds:
        cur = c.norm(inpL)
        if kind == "mamba2":
            cur = mamba2_layer(c, sh, cur, s_copy, n_seqs)
        elif kind == "attn":
            q, k, v = c.qkv(cur, sh.hd, sh.n_head, sh.n_head_kv)
            cur = mm(sh.n_embd, c.attn_kv(inputs, q, k, v, n_kv))
        else:
            cur = mm(sh.n_embd, like("SQR", like("UNARY", mm(sh.n_ff, cur))))
        inpL = add(cur, inpL)
    x = c.norm(inpL)
    x.output = True
    x = get_rows(x, out_ids)
    x.output = True
    logits = mm(sh.n_vocab, x)
    logits.output = True
    c.gf.expand(logits)
    return c.gf


def openai_moe(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/openai-moe.cpp (gpt-oss): iSWA attention with Q/K/V/O biases (additions in place) and
    attention sinks (a source of the softmax or of flash attention, a weight: no memory), the MoE FFN with
    router and expert biases, SOFTMAX_WEIGHT gating and the SwiGLU-OAI activation over every token (the
    rows of the outputs are gathered after the last layer, as embeddings_nextn_masked is false by
    default, and the last layer's output is an output itself: t_h_nextn)."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    pos = c.inp_pos()
    iswa = "swa" in kinds
    base = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    swa = c.kv_inputs(n_kv_swa, sh.hd * sh.n_head_kv, not flash) if iswa else None
    out_ids = c.inp_out_ids()
    for kind in kinds:
        is_swa = kind == "swa"
        inpSA = inpL
        q, k, v = c.qkv(c.norm(inpL), sh.hd, sh.n_head, sh.n_head_kv, biases=True)
        q = c.rope(q, pos)
        k = c.rope(k, pos)
        cur = c.attn_kv(swa if is_swa else base, q, k, v, n_kv_swa if is_swa else n_kv, iswa=iswa)
        cur = like("ADD", mm(sh.n_embd, cur), None)
        ffn_inp = add(cur, inpSA)
        cur = moe_ffn(c, c.norm(ffn_inp), sh.n_expert, sh.n_used, sh.n_ff_exp, sh.n_embd, norm_w=False,
                      gating="softmax_weight", biases=True)
        inpL = add(cur, ffn_inp)
    inpL.output = True
    c.output(get_rows(inpL, out_ids), sh.n_vocab)
    return c.gf


def shortconv_layer(c, sh, cur, s_copy, n_seqs):
    """llama_model_lfm2's shortconv block (src/models/lfm2.cpp), causal, no rollback snapshots: the input
    projection split into b, c, x (views), b·x (a new tensor: its sources are views) transposed, the conv
    states gathered (build_rs) and prepended, the last d_conv columns copied back into the cache,
    ssm_conv, c·conv (in place on the conv output), the output projection."""
    T = c.T
    n_st = T // n_seqs
    n_embd, d_conv = sh.n_embd, sh.ssm_conv - 1
    x3 = reshape(cur, n_embd, n_st, n_seqs)
    bcx = mm(3 * n_embd, x3)
    nb = (F32, bcx.nb[1], bcx.nb[2], bcx.nb[2] * n_seqs)
    b, cc, x = (view(bcx, (n_embd, n_st, n_seqs), nb, i * n_embd * F32) for i in range(3))
    bx = permute(Tensor(F32, (n_embd, n_st, n_seqs), op="MUL", src=(b, x)), 1, 0, 2, 3)
    main = view(s_copy, (n_seqs,), None, 0)
    extra = view(s_copy, (s_copy.ne[0] - n_seqs,), None, n_seqs * I32)
    conv = reshape(_rs_rows(c, main, extra, d_conv * n_embd, n_seqs), d_conv, n_embd, n_seqs)
    bx = concat0(conv, bx)
    snap = view(bx, (d_conv, n_embd, n_seqs), bx.nb, (bx.ne[0] - d_conv) * F32)
    c.gf.expand(Tensor(F32, snap.ne, op="CPY", src=(snap, None), view_of=True))
    conv_out = Tensor(F32, (n_embd, n_st, n_seqs), op="SSM_CONV", src=(bx, None))
    y = Tensor(F32, conv_out.ne, op="MUL", src=(cc, conv_out))
    return reshape(mm(n_embd, y), n_embd, n_st * n_seqs)


def lfm2(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/lfm2.cpp without a window (build_inp_mem_hybrid): per layer a norm, a shortconv block or
    attention (per-head Q/K norms, RoPE, the KV cache), the residual (the last layer's rows gathered by
    out_ids), a norm and the SwiGLU FFN, the residual."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    s_copy = new(I32, max(1, n_seqs), name="rs_s_copy")
    inputs = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    pos = c.inp_pos()
    out_ids = c.inp_out_ids()
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        prev = inpL
        cur = c.norm(inpL)
        if kind == "conv":
            cur = shortconv_layer(c, sh, cur, s_copy, n_seqs)
        else:
            q, k, v = c.qkv(cur, sh.hd, sh.n_head, sh.n_head_kv)
            q = c.rope(c.norm(q), pos)
            k = c.rope(c.norm(k), pos)
            cur = mm(sh.n_embd, c.attn_kv(inputs, q, k, v, n_kv))
        if il == last:
            cur = get_rows(cur, out_ids)
            prev = get_rows(prev, out_ids)
        cur = add(prev, cur)
        inpL = add(cur, c.ffn_swiglu(c.norm(cur), sh.n_ff, sh.n_embd))
    c.output(inpL, sh.n_vocab)
    return c.gf


def granite_hybrid(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/granite-hybrid.cpp (Granite 4.0-H): per layer a norm, a Mamba-2 mixer or attention
    (RoPE only when the model has it: hparams.has_rope), the last layer's rows gathered by out_ids, the
    residual (Granite's residual, embedding and logit scales are in place: no memory), then a norm and
    the MoE FFN (softmax, normalized weights) plus the shared expert, or a dense SwiGLU FFN."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    s_copy = new(I32, max(1, n_seqs), name="rs_s_copy")
    inputs = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    # RoPE unless the GGUF sets rope.scaling.finetuned = false (src/models/granite-hybrid.cpp: rope_finetuned
    # switches it, default true); the ModelSpec does not say, so the replay keeps the default
    pos = c.inp_pos()
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        inpSA = inpL
        cur = c.norm(inpL)
        if kind == "mamba2":
            cur = mamba2_layer(c, sh, cur, s_copy, n_seqs)
        else:
            q, k, v = c.qkv(cur, sh.hd, sh.n_head, sh.n_head_kv)
            q, k = c.rope(q, pos), c.rope(k, pos)
            cur = mm(sh.n_embd, c.attn_kv(inputs, q, k, v, n_kv))
        if il == last:
            cur = get_rows(cur, out_ids)
            inpSA = get_rows(inpSA, out_ids)
        ffn_inp = add(cur, inpSA)
        cur = c.norm(ffn_inp)
        if sh.n_expert:
            moe = moe_ffn(c, cur, sh.n_expert, sh.n_used, sh.n_ff_exp, sh.n_embd)
            cur = add(moe, c.ffn_swiglu(cur, sh.n_ff_shexp, sh.n_embd)) if sh.n_ff_shexp else moe
        else:
            cur = c.ffn_swiglu(cur, sh.n_ff, sh.n_embd)
        inpL = add(cur, ffn_inp)
    c.output(inpL, sh.n_vocab)
    return c.gf


BUILDERS = {"granitehybrid": granite_hybrid, "gpt-oss": openai_moe, "lfm2": lfm2, "llama": llama, "gemma2": gemma2, "gemma3": gemma2, "deepseek2": deepseek2, "mamba2": mamba2, "nemotron_h": nemotron_h}


def gdn_layer(c, sh, cur, s_copy, n_seqs, joint_ba=False):
    """llama_model_qwen35::graph::build_layer_attn_linear (src/models/qwen35.cpp) with
    llm_build_delta_net_base::build_conv_state / build_recurrent_attn (src/models/delta-net-base.cpp), at
    llama.cpp 0c1e57098bba43ac29e6e3b677cdceebdd22334f. The fused Gated DeltaNet op is always on
    (llama-context.cpp: cparams.fused_gdn_ar = fused_gdn_ch = true, auto_fgdn = false), so neither the
    chunked delta rule nor the autoregressive one is built and Q/K are not repeated to the value heads;
    no rollback snapshots (n_rs_seq = 0, K = 1). Shapes: mixed QKV [2·H_k·S_k + H_v·S_v, T], z
    [H_v·S_v, T], β and α [H_v, T] (sigmoid; + dt bias, softplus, · A, in place), the conv states gathered
    and prepended (the last d_conv − 1 columns copied back), ssm_conv + SiLU, Q and K L2-normed (rms_norm
    of a view, then scale in place), GATED_DELTA_NET → f32 [S_v·H_v, T + S_v·n_seqs] (outputs, then the
    new states, copied into the cache), the gated RMS norm (rms_norm of a view, · weight, · SiLU(z)), the
    output projection. Qwen3-Next (src/models/qwen3next.cpp build_layer_attn_linear, `joint_ba`): β and α
    from one projection, each view made contiguous, and Q, K repeated to the value heads (ggml_repeat_4d,
    [S_k, H_v/H_k, H_k, T]) when there are fewer key heads, fused op or not."""
    T = c.T
    n_st = T // n_seqs
    value_dim, S_k, H_k, H_v, d_conv = sh.ssm_inner, sh.ssm_state, sh.ssm_groups, sh.ssm_heads, sh.ssm_conv
    S_v = value_dim // H_v
    conv_ch = value_dim + 2 * H_k * S_k
    qkv = reshape(mm(conv_ch, cur), conv_ch, n_st, n_seqs)
    z = mm(value_dim, cur)
    if joint_ba:  # Qwen3-Next: one projection [2·H_v/H_k, H_k, T], β and α views made contiguous
        r = H_v // H_k
        ba = reshape(mm(2 * H_v, cur), 2 * r, H_k, n_st, n_seqs)
        b = Tensor(F32, (r, H_k, n_st, n_seqs), op="CONT", src=(view(ba, (r, H_k, n_st, n_seqs), ba.nb, 0),))
        beta = reshape(like("UNARY", b), 1, H_v, n_st, n_seqs)
        alpha = Tensor(F32, (H_v, n_st, n_seqs), op="CONT", src=(view(ba, (r, H_k, n_st, n_seqs), ba.nb, r * F32),))
    else:
        beta = like("UNARY", reshape(mm(H_v, cur), 1, H_v, n_st, n_seqs))
        alpha = reshape(mm(H_v, cur), H_v, n_st, n_seqs)
    gate = reshape(like("MUL", like("UNARY", like("ADD", alpha, None)), None), 1, H_v, n_st, n_seqs)
    main = view(s_copy, (n_seqs,), None, 0)
    extra = view(s_copy, (s_copy.ne[0] - n_seqs,), None, n_seqs * I32)
    conv = reshape(_rs_rows(c, main, extra, (d_conv - 1) * conv_ch, n_seqs), d_conv - 1, conv_ch, n_seqs)
    conv_in = concat0(conv, permute(qkv, 1, 0, 2, 3))
    last_conv = view(conv_in, (d_conv - 1, conv_ch, n_seqs), conv_in.nb, n_st * F32)
    c.gf.expand(Tensor(F32, last_conv.ne, op="CPY", src=(last_conv, None), view_of=True))
    state = reshape(_rs_rows(c, main, extra, S_v * S_v * H_v, n_seqs), S_v, S_v, H_v, n_seqs)
    conv_out = like("UNARY", Tensor(F32, (conv_ch, n_st, n_seqs), op="SSM_CONV", src=(conv_in, None)))
    nb = (F32, S_k * F32, conv_out.nb[1], conv_out.nb[1] * n_st)
    q = view(conv_out, (S_k, H_k, n_st, n_seqs), nb, 0)
    k = view(conv_out, (S_k, H_k, n_st, n_seqs), nb, H_k * S_k * F32)
    v = view(conv_out, (S_v, H_v, n_st, n_seqs), (F32, S_v * F32, conv_out.nb[1], conv_out.nb[1] * n_st),
             2 * H_k * S_k * F32)
    q = like("SCALE", like("RMS_NORM", q))  # build_gdn_l2_norm (src/models/models.h)
    k = like("SCALE", like("RMS_NORM", k))
    if joint_ba and H_k != H_v:  # Qwen3-Next repeats Q and K to the value heads even with the fused op
        rep = (S_k, H_v // H_k, H_k, n_st * n_seqs)
        q = reshape(Tensor(F32, rep, op="REPEAT", src=(reshape(q, S_k, 1, H_k, n_st * n_seqs),)), S_k, H_v, n_st, n_seqs)
        k = reshape(Tensor(F32, rep, op="REPEAT", src=(reshape(k, S_k, 1, H_k, n_st * n_seqs),)), S_k, H_v, n_st, n_seqs)
    res = Tensor(F32, (S_v * H_v, n_st * n_seqs + S_v * n_seqs), op="GATED_DELTA_NET", src=(q, k, v, gate, beta, state))
    out = view(res, (S_v, H_v, n_st, n_seqs), (F32, S_v * F32, S_v * H_v * F32, S_v * H_v * n_st * F32), 0)
    new_state = view(res, (S_v, S_v, H_v, n_seqs), None, S_v * H_v * n_st * n_seqs * F32)
    c.gf.expand(Tensor(F32, new_state.ne, op="CPY", src=(new_state, None), view_of=True))
    y = Tensor(F32, out.ne, op="MUL", src=(c.norm(out), like("UNARY", reshape(z, S_v, H_v, n_st, n_seqs))))
    return reshape(mm(sh.n_embd, reshape(y, value_dim, n_st, n_seqs)), sh.n_embd, n_st * n_seqs)


def gated_attn(c, sh, cur, inputs, pos, n_kv):
    """llama_model_qwen35::graph::build_layer_attn (src/models/qwen35.cpp @0c1e570): one Q projection
    with the output gate ([2·hd, n_head, T]), Q a strided view of it RMS-normed (a new tensor), K
    RMS-normed, the gate made contiguous, M-RoPE on Q and K, attention, σ(gate) · attention (in place),
    the output projection."""
    T, hd = c.T, sh.hd
    qfull = mm(2 * hd * sh.n_head, cur)
    k = mm(hd * sh.n_head_kv, cur)
    v = mm(hd * sh.n_head_kv, cur)
    q = c.norm(view(qfull, (hd, sh.n_head, T), (F32, 2 * hd * F32, 2 * hd * sh.n_head * F32), 0))
    k = c.norm(reshape(k, hd, sh.n_head_kv, T))
    g = view(qfull, (hd, sh.n_head, T), (F32, 2 * hd * F32, 2 * hd * sh.n_head * F32), hd * F32)
    g = Tensor(F32, (hd * sh.n_head, T), op="CONT", src=(g,))
    v = reshape(v, hd, sh.n_head_kv, T)
    q, k = c.rope(q, pos), c.rope(k, pos)
    att = c.attn_kv(inputs, q, k, v, n_kv)
    return mm(sh.n_embd, Tensor(F32, att.ne, op="MUL", src=(att, like("UNARY", g))))


def qwen35(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/qwen35.cpp @0c1e570 (Qwen3.5, dense FFN): per layer a norm (expanded), a Gated DeltaNet
    or gated attention, the residual, a post-attention norm, the SwiGLU FFN, the residual; inputs of the
    hybrid memory. embeddings_nextn_masked is false by default, so the final norm is an output itself
    (t_h_nextn) and the outputs' rows are gathered after it."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    s_copy = new(I32, max(1, n_seqs), name="rs_s_copy")
    inputs = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    # Qwen3.5's IMROPE takes 4 positions per token (build_inp_pos, hparams.n_pos_per_embd); Qwen3-Next's NEOX 1
    pos = new(I32, (1 if sh.n_expert else 4) * T, name="inp_pos")
    out_ids = c.inp_out_ids()
    for kind in kinds:
        cur = c.norm(inpL)
        c.gf.expand(cur)
        if kind == "gdn":
            cur = gdn_layer(c, sh, cur, s_copy, n_seqs, joint_ba=bool(sh.n_expert))
        else:
            cur = gated_attn(c, sh, cur, inputs, pos, n_kv)
        cur = add(cur, inpL)
        if sh.n_expert:
            ffn = qwen3next_moe(c, sh, c.norm(cur))
        else:
            ffn = c.ffn_swiglu(c.norm(cur), sh.n_ff, sh.n_embd)
        inpL = add(ffn, cur)
    x = c.norm(inpL)
    x.output = True
    x = get_rows(x, out_ids)
    x.output = True
    logits = mm(sh.n_vocab, x)
    logits.output = True
    c.gf.expand(logits)
    return c.gf


def qwen3next_moe(c, sh, cur):
    """llama_model_qwen3next::graph::build_layer_ffn (src/models/qwen3next.cpp @0c1e570): the routed experts
    (softmax, normalized weights), the shared expert's SwiGLU FFN scaled by σ(its gate: one logit per token;
    sigmoid and mul in place), their sum."""
    moe = moe_ffn(c, cur, sh.n_expert, sh.n_used, sh.n_ff_exp, sh.n_embd)
    shexp = c.ffn_swiglu(cur, sh.n_ff_shexp, sh.n_embd)
    shexp = Tensor(F32, shexp.ne, op="MUL", src=(shexp, like("UNARY", mm(1, cur))))
    return add(moe, shexp)


BUILDERS["qwen35"] = qwen35


def mamba1_layer(c, sh, cur, s_copy, n_seqs):
    """llm_build_mamba_base::build_mamba_layer (src/models/mamba-base.cpp @0c1e570), Mamba-1, no rollback
    snapshots: the conv states gathered, the input projection split into x and z (views), the conv window
    (its last d_conv − 1 columns copied back), ssm_conv (+ bias, SiLU in place), x_db = [Δ | B | C]
    projected from x, Δ, B and C RMS-normed when the model has those norms (Jamba; rms_norm of a view,
    then · weight in place) or Δ made contiguous, Δ projected to d_inner (+ bias in place), ssm_scan over
    the gathered states (y [d_inner, T] and the new states [d_state, d_inner, n_seqs] in one f32 tensor,
    the states copied back), y + x·D, gated by z (swiglu_split of a copy of z), the output projection."""
    T = c.T
    n_st = T // n_seqs
    d_inner, d_state, d_conv, dt_rank = sh.ssm_inner, sh.ssm_state, sh.ssm_conv, sh.ssm_heads
    main = view(s_copy, (n_seqs,), None, 0)
    extra = view(s_copy, (s_copy.ne[0] - n_seqs,), None, n_seqs * I32)
    conv = reshape(_rs_rows(c, main, extra, (d_conv - 1) * d_inner, n_seqs), d_conv - 1, d_inner, n_seqs)
    xz = mm(2 * d_inner, reshape(cur, sh.n_embd, n_st, n_seqs))
    nb = (F32, xz.nb[1], xz.nb[2], xz.nb[2] * n_seqs)
    x = view(xz, (d_inner, n_st, n_seqs), nb, 0)
    z = view(xz, (d_inner, n_st, n_seqs), nb, d_inner * F32)
    conv_x = concat0(conv, permute(x, 1, 0, 2, 3))
    last_conv = view(conv_x, (d_conv - 1, d_inner, n_seqs), conv_x.nb, n_st * F32)
    c.gf.expand(Tensor(F32, last_conv.ne, op="CPY", src=(last_conv, None), view_of=True))
    x = like("UNARY", like("ADD", Tensor(F32, (d_inner, n_st, n_seqs), op="SSM_CONV", src=(conv_x, None)), None))
    x_db = mm(dt_rank + 2 * d_state, x)
    nb = (F32, x_db.nb[1], x_db.nb[2], x_db.nb[2] * n_seqs)
    dt = view(x_db, (dt_rank, n_st, n_seqs), nb, 0)
    nb4 = (F32, d_state * F32, x_db.nb[1], x_db.nb[2])
    B = view(x_db, (d_state, 1, n_st, n_seqs), nb4, dt_rank * F32)
    C = view(x_db, (d_state, 1, n_st, n_seqs), nb4, (dt_rank + d_state) * F32)
    if sh.ssm_norm:
        dt, B, C = c.norm(dt), c.norm(B), c.norm(C)
    else:
        dt = like("CONT", dt)
    dt = like("ADD", mm(d_inner, dt), None)
    x4 = reshape(x, 1, d_inner, n_st, n_seqs)
    n_x = d_inner * n_st * n_seqs
    y_ssm = Tensor(F32, (n_x + d_state * d_inner * n_seqs,), op="SSM_SCAN", src=(None, x4, dt, None, B, C, main))
    c.gf.expand(y_ssm)
    extra_rows = Tensor(F32, (d_state * d_inner, extra.ne[0]), op="GET_ROWS", src=(None, extra))
    c.gf.expand(Tensor(F32, extra_rows.ne, op="CPY", src=(extra_rows, None), view_of=True))
    states = view(y_ssm, (d_state * d_inner * n_seqs,), None, n_x * F32)
    c.gf.expand(Tensor(F32, states.ne, op="CPY", src=(states, None), view_of=True))
    y = view(y_ssm, (d_inner, n_st, n_seqs), (F32, x4.nb[2], x4.nb[3], x4.nb[3] * n_seqs), 0)
    y = Tensor(F32, y.ne, op="ADD", src=(y, like("MUL", x, None)))
    y = Tensor(F32, y.ne, op="GLU", src=(like("CONT", z), y))
    return reshape(mm(sh.n_embd, y), sh.n_embd, n_st * n_seqs)


def jamba(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/jamba.cpp @0c1e570: per layer a norm, a Mamba-1 mixer or attention without RoPE (the
    output projection inside build_attn), the last layer's rows gathered by out_ids, the residual
    (inpL + cur), a norm, a SwiGLU FFN or the MoE FFN (softmax, weights not normalized), the residual;
    inputs of the hybrid memory. Layer kinds: "<mamba|attn>-<dense|moe>"."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    s_copy = new(I32, max(1, n_seqs), name="rs_s_copy")
    inputs = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    last = len(kinds) - 1
    for il, kind in enumerate(kinds):
        mixer, ffn = kind.split("-")
        cur = c.norm(inpL)
        if mixer == "mamba":
            cur = mamba1_layer(c, sh, cur, s_copy, n_seqs)
        else:
            q, k, v = c.qkv(cur, sh.hd, sh.n_head, sh.n_head_kv)
            cur = mm(sh.n_embd, c.attn_kv(inputs, q, k, v, n_kv))
        if il == last:
            cur = get_rows(cur, out_ids)
            inpL = get_rows(inpL, out_ids)
        ffn_inp = add(inpL, cur)
        cur = c.norm(ffn_inp)
        if ffn == "moe":
            cur = moe_ffn(c, cur, sh.n_expert, sh.n_used, sh.n_ff_exp, sh.n_embd, norm_w=False)
        else:
            cur = c.ffn_swiglu(cur, sh.n_ff, sh.n_embd)
        inpL = add(ffn_inp, cur)
    c.output(inpL, sh.n_vocab)
    return c.gf


def _jamba_shape(spec, kv_esize):
    """Jamba (src/models/jamba.cpp): Mamba-1 (d_inner, d_state, d_conv, dt_rank in the ssm fields; the Δ/B/C
    norms as ssm_norm) + attention, a dense or MoE FFN per layer. A layout that repeats every 8 layers
    (Jamba's attn_layer_period 8, expert_layer_period 2) is replayed over two cycles of 8; any other layer
    by layer."""
    if spec.fused_qkv or spec.fused_gate_up or not spec.gated_mlp or spec.norm_bias or spec.qk_norm \
            or spec.attn_output_gate or spec.learned_positions or spec.attention_sinks or spec.sliding_window \
            or not spec.ssm_dt_rank or spec.shared_expert_intermediate_size or spec.expert_score_bias:
        return None
    L = spec.num_layers
    if any(spec.layer_type(i) not in (MAMBA, FULL) for i in range(L)):
        return None
    kinds = tuple(("mamba" if spec.layer_type(i) == MAMBA else "attn") + "-" + ("moe" if spec.ffn_type(i) == "moe" else "dense")
                  for i in range(L))
    period = 8 if all(kinds[i] == kinds[i % 8] for i in range(L)) else L
    return Shape("jamba", spec.hidden_size, spec.num_heads, spec.num_kv_heads, spec.head_dim, spec.intermediate_size,
                 spec.vocab_size, False, spec.num_experts, spec.experts_per_token, spec.expert_intermediate_size,
                 0, 0, 0, 0, 0, 0, kv_esize, False, "softmax", False, False, 0, period,
                 layer_plan(kinds, 0, period), spec.ssm_d_inner, spec.ssm_d_state, 0, spec.ssm_dt_rank,
                 spec.ssm_d_conv, spec.ssm_inner_norms)


BUILDERS["jamba"] = jamba


def falcon_h1(sh, kinds, T, n_out, n_kv, n_kv_swa, flash, n_seqs=1):
    """src/models/falcon-h1.cpp @0c1e570: in every layer attention (RoPE, the output projection inside
    build_attn) and a Mamba-2 mixer side by side, each on its own RMS norm of the input (two norm
    tensors), attention + Mamba-2 + the residual, the last layer's rows gathered by out_ids, a norm, the
    SwiGLU FFN, the residual."""
    c = Ctx(T, n_out, flash, sh)
    inpL = c.inp_embd(sh.n_embd)
    pos = c.inp_pos()
    s_copy = new(I32, max(1, n_seqs), name="rs_s_copy")
    inputs = c.kv_inputs(n_kv, sh.hd * sh.n_head_kv, not flash)
    out_ids = c.inp_out_ids()
    last = len(kinds) - 1
    for il, _ in enumerate(kinds):
        q, k, v = c.qkv(c.norm(inpL), sh.hd, sh.n_head, sh.n_head_kv)
        q, k = c.rope(q, pos), c.rope(k, pos)
        attn = mm(sh.n_embd, c.attn_kv(inputs, q, k, v, n_kv))
        ssm = mamba2_layer(c, sh, c.norm(inpL), s_copy, n_seqs)
        inpSA = add(add(attn, ssm), inpL)
        if il == last:  # the gathered `cur` is unused: only inpSA's rows enter the graph
            inpSA = get_rows(inpSA, out_ids)
        inpL = add(c.ffn_swiglu(c.norm(inpSA), sh.n_ff, sh.n_embd), inpSA)
    c.output(inpL, sh.n_vocab)
    return c.gf


def _falcon_h1_shape(spec, kv_esize):
    """Falcon-H1 (src/models/falcon-h1.cpp): every layer both attention and Mamba-2 (the Mamba-2 widths in the
    ssm fields, as for mamba2), a dense SwiGLU FFN; all layers alike, so two of them stand for the rest."""
    if spec.fused_qkv or spec.fused_gate_up or not spec.gated_mlp or spec.norm_bias or spec.qk_norm or spec.is_moe \
            or spec.attn_output_gate or spec.learned_positions or spec.attention_sinks or spec.sliding_window \
            or not spec.ssm_num_heads or spec.qkv_bias or spec.o_bias or spec.mlp_bias:
        return None
    L = spec.num_layers
    if any(spec.layer_type(i) != PARALLEL_HYBRID for i in range(L)):
        return None
    return Shape("falcon-h1", spec.hidden_size, spec.num_heads, spec.num_kv_heads, spec.head_dim,
                 spec.intermediate_size, spec.vocab_size, False, 0, 0, 0, 0, 0, 0, 0, 0, 0, kv_esize, False, "softmax",
                 False, False, 0, 1, layer_plan(("layer",) * L, 0, 1), spec.ssm_d_inner, spec.ssm_d_state,
                 spec.ssm_n_groups, spec.ssm_num_heads, spec.ssm_d_conv, spec.ssm_gated_norm)


BUILDERS["falcon-h1"] = falcon_h1
