"""A replay of ggml's graph allocator (ggml-alloc) over a small model of a ggml compute graph.

llama.cpp's compute buffer is what `ggml_gallocr_reserve_n` measures for the worst-case graph
(ggml/src/ggml-alloc.c and ggml/src/ggml-backend.cpp at llama.cpp 0c1e57098bba43ac29e6e3b677cdceebdd22334f).
This module models just enough of ggml to replay it exactly:

- `Tensor`: type, shape `ne`, strides `nb` (bytes), op, sources, and `view_src` for views (views own no
  memory). Tensors living outside the compute buffer (weights, KV cache) are not modelled: a source that
  is `None` stands for one, and a view of one is a view whose `view_src` is None.
- `Graph.expand(t)`: ggml_build_forward_expand, the depth-first post-order of ggml_visit_parents_graph
  (ggml/src/ggml.c): sources left to right, op NONE tensors become leafs, the others nodes.
- `reserve(graph)`: ggml_gallocr_alloc_graph_impl, then the chunk's max_size:
  1. every leaf is allocated first, in leaf order (graph inputs: token ids, positions, masks, indices);
  2. children and views are counted;
  3. for each node in order: allocate it (in place on a source when the op allows it, the source is
     the buffer's own, not an output, has the same layout, and this node is its last consumer, or a view
     at offset 0 of such a tensor), then release every source whose last consumer this was (a view
     releases its view_src once the view and the source have no consumers left); outputs are never freed.
  `ggml_dyn_tallocr`: sizes padded to the buffer's alignment (32 B on the CPU, TENSOR_ALIGNMENT in
  ggml/src/ggml-impl.h), best fit among the free blocks but the last, else the last block (the end of
  the chunk, which grows), freed ranges merged with their neighbours; the buffer is the high-water mark.
  A CPU buffer type has no maximum size, so one chunk is enough (GGML_VBUFFER_MAX_CHUNKS is not reached).
"""

F32, F16, I32, I64 = 4, 2, 4, 8  # bytes per element of the types used in compute graphs
ALIGN_CPU = 32  # ggml/src/ggml-impl.h TENSOR_ALIGNMENT, ggml-backend.cpp cpu buffer get_alignment

# ggml-alloc.c ggml_op_can_inplace
INPLACE = frozenset({"FILL", "SCALE", "DIAG_MASK_ZERO", "DIAG_MASK_INF", "ADD", "ADD_ID", "ADD1", "SUB", "MUL",
                     "DIV", "SQR", "SQRT", "LOG", "UNARY", "ROPE", "ROPE_BACK", "SILU_BACK", "RMS_NORM",
                     "RMS_NORM_BACK", "CLAMP", "SOFT_MAX", "SOFT_MAX_BACK"})


def _strides(esize: int, ne: tuple) -> tuple:
    nb = [esize]
    for n in ne[:-1]:
        nb.append(nb[-1] * n)
    return tuple(nb)


class Tensor:
    __slots__ = ("esize", "ne", "nb", "op", "src", "view_src", "view_offs", "is_view", "input", "output",
                 "name", "n_children", "n_views", "allocated", "offset")

    def __init__(self, esize, ne, op="NONE", src=(), nb=None, view_of=False, view_src=None, view_offs=0, name=""):
        ne = tuple(ne) + (1,) * (4 - len(ne))
        self.esize, self.ne = esize, ne
        self.nb = nb if nb is not None else _strides(esize, ne)
        self.op, self.src = op, tuple(src)
        self.is_view, self.view_src, self.view_offs = view_of, view_src, view_offs
        self.input = self.output = False
        self.name = name

    @property
    def nbytes(self) -> int:
        # ggml_nbytes for a block size of 1: the last byte reached, plus one element; 0 for an empty tensor
        if min(self.ne) <= 0:
            return 0
        return self.esize + sum((n - 1) * b for n, b in zip(self.ne, self.nb))

    def layout(self):
        return self.esize, self.ne, self.nb

    def __repr__(self):
        return f"{self.name or self.op}{list(self.ne)}"


# ------------------------------------------------------------------ ggml ops (shapes as ggml/src/ggml.c)

def new(esize, *ne, name="", input=True) -> Tensor:
    t = Tensor(esize, ne, name=name)
    t.input = input
    return t


def like(name, a, *src) -> Tensor:
    """A new contiguous tensor of a's type and shape (ggml_dup_tensor), op `name`."""
    return Tensor(a.esize, a.ne, op=name, src=(a,) + src, name=name)


def view(a, ne, nb=None, offs=0, opname="VIEW") -> Tensor:
    """ggml_view_* / ggml_reshape_* / ggml_permute / ggml_transpose: no memory of its own. `a` None: a view
    of a tensor outside the buffer."""
    if a is None:
        return Tensor(F32, ne, op=opname, src=(), nb=nb, view_of=True, view_src=None, view_offs=offs, name=opname)
    root = a.view_src if a.is_view else a
    offs = (a.view_offs if a.is_view else 0) + offs
    return Tensor(a.esize, ne, op=opname, src=(a,), nb=nb if nb is not None else _strides(a.esize, tuple(ne) + (1,) * (4 - len(ne))),
                  view_of=True, view_src=root, view_offs=offs, name=opname)


def reshape(a, *ne) -> Tensor:
    return view(a, ne, opname="RESHAPE")


def permute(a, p0, p1, p2, p3) -> Tensor:
    ne, nb = [0] * 4, [0] * 4
    for i, p in enumerate((p0, p1, p2, p3)):
        ne[p], nb[p] = a.ne[i], a.nb[i]
    return view(a, tuple(ne), tuple(nb), 0, "PERMUTE")


def mm(rows: int, b, *extra) -> Tensor:
    """ggml_mul_mat(W, b) with W [b.ne0, rows] outside the buffer: f32 [rows, b.ne1, b.ne2, b.ne3]."""
    return Tensor(F32, (rows, b.ne[1], b.ne[2], b.ne[3]), op="MUL_MAT", src=(None, b) + extra, name="MUL_MAT")


def mm2(a, b) -> Tensor:
    """ggml_mul_mat(a, b) of two tensors (either may be None with its shape given by a tuple)."""
    a_ne = a if isinstance(a, tuple) else a.ne
    src = (None if isinstance(a, tuple) else a, None if isinstance(b, tuple) else b)
    b_ne = b if isinstance(b, tuple) else b.ne
    return Tensor(F32, (a_ne[1], b_ne[1], b_ne[2], b_ne[3]), op="MUL_MAT", src=src, name="MUL_MAT")


# ------------------------------------------------------------------ the graph and the allocator

class Graph:
    """ggml_cgraph: nodes and leafs in ggml_visit_parents_graph order."""

    __slots__ = ("nodes", "leafs", "_seen")

    def __init__(self):
        self.nodes, self.leafs, self._seen = [], [], set()

    def expand(self, t) -> None:
        """ggml_build_forward_expand (iterative depth-first post-order, sources left to right)."""
        if t is None or id(t) in self._seen:
            return
        seen, nodes, leafs = self._seen, self.nodes, self.leafs
        stack = [(t, 0)]
        seen.add(id(t))
        while stack:
            cur, i = stack.pop()
            src = cur.src
            while i < len(src) and (src[i] is None or id(src[i]) in seen):
                i += 1
            if i < len(src):
                stack.append((cur, i + 1))
                seen.add(id(src[i]))
                stack.append((src[i], 0))
                continue
            (leafs if cur.op == "NONE" else nodes).append(cur)


class _Blocks:
    """ggml_dyn_tallocr with one chunk: free blocks sorted by offset, the last one the chunk's open end."""

    __slots__ = ("free", "align", "max_size")

    def __init__(self, align: int):
        self.free = [[0, 1 << 62]]
        self.align, self.max_size = align, 0

    def alloc(self, size: int) -> int:
        a = self.align
        size = -(-size // a) * a
        free = self.free
        best, best_size = -1, None
        for i in range(len(free) - 1):  # best fit among the blocks but the last; ties go to the later block
            s = free[i][1]
            if s >= size and (best_size is None or s <= best_size):
                best, best_size = i, s
        if best < 0:
            best = len(free) - 1
        block = free[best]
        addr = block[0]
        block[0] += size
        block[1] -= size
        if block[1] == 0:
            del free[best]
        if addr + size > self.max_size:
            self.max_size = addr + size
        return addr

    def release(self, addr: int, size: int) -> None:
        a = self.align
        size = -(-size // a) * a
        free = self.free
        for i, block in enumerate(free):
            if block[0] + block[1] == addr:  # the freed range follows this block
                block[1] += size
                if i + 1 < len(free) and block[0] + block[1] == free[i + 1][0]:
                    block[1] += free[i + 1][1]
                    del free[i + 1]
                return
            if addr + size == block[0]:  # the freed range precedes this block
                block[0] = addr
                block[1] += size
                if i > 0 and free[i - 1][0] + free[i - 1][1] == block[0]:
                    free[i - 1][1] += block[1]
                    del free[i]
                return
        pos = 0
        while pos < len(free) and free[pos][0] < addr:
            pos += 1
        free.insert(pos, [addr, size])


def reserve(graph: Graph, align: int = ALIGN_CPU) -> int:
    """Bytes ggml_gallocr_reserve_n needs for `graph` in one buffer (ggml-alloc.c ggml_gallocr_alloc_graph_impl)."""
    blocks = _Blocks(align)
    nodes, leafs = graph.nodes, graph.leafs
    for t in leafs:
        t.n_children = t.n_views = 0
        t.allocated = False
    for t in nodes:
        t.n_children = t.n_views = 0
        t.allocated = False

    def allocate(t):
        if t.allocated or t.is_view:
            return
        t.allocated = True
        if t.op in INPLACE:
            for p in t.src:
                # ggml_gallocr_is_own(parent): a view is never allocated itself, so no op runs in place on a view
                if p is None or p.is_view or not p.allocated or p.output or p.layout() != t.layout():
                    continue
                if p.n_children == 1 and p.n_views == 0:
                    t.offset = p.offset
                    p.allocated = False  # the node now owns the memory
                    return
        t.offset = blocks.alloc(t.nbytes)

    for t in leafs:  # leafs first: the graph inputs (weights and caches are outside the buffer)
        allocate(t)
    for t in nodes:
        if t.is_view and t.view_src is not None:
            t.view_src.n_views += 1
        for s in t.src:
            if s is not None:
                s.n_children += 1
    for t in nodes:
        allocate(t)
        for p in t.src:
            if p is None:
                continue
            p.n_children -= 1
            if p.n_children == 0 and p.n_views == 0:
                if p.is_view:
                    vs = p.view_src
                    if vs is not None:
                        vs.n_views -= 1
                        if vs.n_views == 0 and vs.n_children == 0 and vs.allocated and not vs.output:
                            blocks.release(vs.offset, vs.nbytes)
                            vs.allocated = False
                elif p.allocated and not p.output:
                    blocks.release(p.offset, p.nbytes)
                    p.allocated = False
    return blocks.max_size
