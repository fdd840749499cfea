"""The grouped computations (a block's tensors worked out once per kind of block) against the straightforward
ones (every tensor of every layer, one by one), on every catalog model: tensors, parameter counts, the
storage of every weight format tensor by tensor, the sums by type, by layer and per decode token, and
llama.cpp's placement of layers on GPUs and system RAM. Equal means equal: the same tensors in the same
order, the same integers, the same floats."""
from dataclasses import replace

import pytest

from pycore import gguf_recipes, presets
from pycore.engines import llamacpp
from pycore.engines.layers import LayerWeights, layer_weights
from pycore.formats import (FILE, WEIGHT_FORMATS, GGUFFormat, gguf_tensor_runs, gguf_tensors, kv_format, weight_format,
                            weight_storage)
from pycore.models import EXPERT_ROLES, expand_runs, layer_kinds, parameter_count, tensor_runs, weight_tensors
from pycore.parts import part_sizes
from pycore.speed import weight_reads

MODELS = sorted(presets.PRESETS)
# every format of the table, and the GGUF presets under the llama.cpp rules of 2025 and 2023
FORMATS = [f for f in WEIGHT_FORMATS.values() if f.group != FILE] + [
    weight_format(f"{p}@{era}") for era in ("2025", "2023") for p in gguf_recipes.PRESETS
    if gguf_recipes.supports(p, era)]
# the formats the hardware-first list tries, and one of each other kind of format
SUMMED = ("BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "Q2_K", "IQ2_XS", "Q4_K_M@2023", "MXFP4", "NF4-DQ",
          "FP8", "GPTQ-4bit-g128", "ggml:Q4_0")


# ---------------------------------------------------------------- the straightforward computations

def straight_parameters(spec):
    total = expert = embedding = 0
    for t in weight_tensors(spec):
        total += t.numel
        expert += t.numel if t.role in EXPERT_ROLES else 0
        embedding += t.numel if t.role in ("token_embd", "position_embd") else 0
    active = total - expert + (expert * spec.experts_per_token // spec.num_experts if spec.is_moe else 0)
    parts = part_sizes(spec) if spec.parts else ()
    return total + sum(n for _, n in parts), active, embedding, (("language", total),) + parts


def straight_by_type(pairs):
    summary = {}
    for t, s in pairs:
        count, elements, size = summary.get(s.label, (0, 0, 0))
        summary[s.label] = (count + 1, elements + t.numel, size + s.bytes)
    return tuple(sorted(((label, *v) for label, v in summary.items()), key=lambda r: -r[3]))


def straight_layers(spec, pairs):
    layers, experts = [0] * spec.num_layers, [0] * spec.num_layers
    embd = out = largest = 0
    for t, s in pairs:
        largest = max(largest, s.bytes)
        if 0 <= t.layer < spec.num_layers:
            layers[t.layer] += s.bytes
            experts[t.layer] += s.bytes if t.role in EXPERT_ROLES else 0
        elif t.role in ("token_embd", "position_embd"):
            embd += s.bytes
        else:
            out += s.bytes
    if spec.tie_embeddings:
        out += sum(s.bytes for t, s in pairs if t.role == "token_embd")
    return LayerWeights(tuple(layers), tuple(experts), embd, out, spec.tie_embeddings, largest)


def straight_reads(spec, pairs):
    decode = prefill = params = expert = head = expert_bytes = 0
    share = spec.experts_per_token / spec.num_experts if spec.is_moe else 1.0
    for t, s in pairs:
        if t.role in ("token_embd", "position_embd") and not (t.role == "token_embd" and spec.tie_embeddings):
            continue
        if t.kind != "matrix" and t.role != "output":
            decode += s.bytes
            prefill += s.bytes
            continue
        if t.is_expert:
            expert_bytes += s.bytes
            decode += s.bytes * share
            params += t.numel * share
            expert += t.numel * share
        else:
            decode += s.bytes
            params += t.numel
            if t.role == "output" or (t.role == "token_embd" and spec.tie_embeddings):
                head += t.numel
        prefill += s.bytes
    return int(decode), prefill, int(params), int(expert), head, expert_bytes


def straight_shares(spec, fmt, kvf, st):
    """Per layer: the layer's weights, KV cache and state to its device (its experts to RAM below --n-cpu-moe)."""
    lw = layer_weights(spec, fmt)
    c = llamacpp.cells(spec, st.batch, st.context, st.ubatch, st.swa_full)
    cells = llamacpp.layer_cells(spec, c)
    kinds = layer_kinds(spec)
    devs = llamacpp.layer_devices(spec.num_layers, st.ngl, st.gpus)
    n = max(st.gpus, 0)
    w, kv, rs = [0] * n, [0] * n, [0] * n
    host = [lw.token_embd, 0, 0]
    for il in range(spec.num_layers):
        d = devs[il]
        layer_kv = sum(cells[il] * k.bytes_per_token(kvf) for k in kinds[il] if k.grows)
        layer_rs = sum(st.batch * k.state_bytes(4, 4) for k in kinds[il] if not k.grows)
        home = lw.experts[il] if il < st.n_cpu_moe else 0
        if d < 0:
            host[0] += lw.layers[il]
        else:
            w[d] += lw.layers[il] - home
            host[0] += home
        if d < 0 or not st.kv_offload:
            host[1] += layer_kv
            host[2] += layer_rs
        else:
            kv[d] += layer_kv
            rs[d] += layer_rs
    if devs[spec.num_layers] < 0:
        host[0] += lw.output_own
    else:
        w[devs[spec.num_layers]] += lw.output
    return [(w[g], kv[g], rs[g]) for g in range(n)], tuple(host)


# ---------------------------------------------------------------- the tests

@pytest.mark.parametrize("model_id", MODELS)
def test_tensors_and_parameters_by_kind_of_block(model_id):
    spec = presets.model(model_id)
    assert expand_runs(tensor_runs(spec)) == weight_tensors(spec)
    assert expand_runs(gguf_tensor_runs(spec)) == gguf_tensors(spec)
    p = parameter_count(spec)
    assert (p.total, p.active, p.embedding, p.by_part) == straight_parameters(spec)
    # the grouping does group: one tuple of tensors per kind of block (mixer, feed-forward), and Gemma 3n's extras
    kinds = {(spec.layer_type(i), spec.ffn_type(i)) for i in range(spec.num_layers)}
    assert len({id(ts) for layer, ts in tensor_runs(spec) if layer >= 0}) <= len(kinds) + 1


def assert_same_pairs(spec, fmt, runs, pairs):
    """expand_runs(runs) == pairs, checked without renaming every tensor: the runs hold the very tensors of the
    model's runs (whose expansion is the flat list: test above), and the storages match one by one."""
    base = gguf_tensor_runs(spec) if isinstance(fmt, GGUFFormat) else tensor_runs(spec)
    assert [layer for layer, _ in runs] == [layer for layer, _ in base], fmt.name
    assert all(len(ps) == len(ts) and all(t is t0 for (t, _), t0 in zip(ps, ts))
               for (_, ps), (_, ts) in zip(runs, base)), fmt.name
    assert [s for _, ps in runs for _, s in ps] == [s for _, s in pairs], fmt.name


@pytest.mark.parametrize("model_id", MODELS)
def test_every_format_stores_every_tensor_as_one_by_one(model_id):
    spec = presets.model(model_id)
    for fmt in FORMATS:
        pairs = fmt.storage(spec)
        stored = weight_storage(spec, fmt)
        if spec.quant_ignore and not isinstance(fmt, GGUFFormat):  # the checkpoint's ignore list: one run per tensor
            assert expand_runs(stored.runs) == pairs, fmt.name
        else:
            assert_same_pairs(spec, fmt, stored.runs, pairs)
        assert stored.by_type == straight_by_type(pairs), fmt.name
        assert stored.total == sum(s.bytes for _, s in pairs), fmt.name


@pytest.mark.parametrize("model_id", MODELS)
def test_sums_by_layer_and_per_token(model_id):
    spec = presets.model(model_id)
    for name in SUMMED:
        fmt = weight_format(name)
        pairs = fmt.storage(spec)
        assert layer_weights(spec, fmt) == straight_layers(spec, pairs), name
        assert weight_reads(spec, fmt) == straight_reads(spec, pairs), name


@pytest.mark.parametrize("model_id", MODELS)
def test_llama_cpp_places_each_layer_as_one_by_one(model_id):
    spec = presets.model(model_id)
    fmt, kvf = weight_format("Q4_K_M"), kv_format("q8_0" if spec.head_dim % 32 == 0 else "f16")
    L = spec.num_layers
    base = llamacpp.Settings(batch=2, context=4096)
    for st in (base, replace(base, ngl=L // 2), replace(base, ngl=0), replace(base, gpus=3, ngl=L - 1),
               replace(base, gpus=2, kv_offload=False), replace(base, n_cpu_moe=L // 3),
               replace(base, gpus=2, ngl=L // 2 + 1, n_cpu_moe=L // 4), replace(base, gpus=0)):
        gpus, host, *_ = llamacpp.plan(spec, fmt, kvf, st)
        want_gpus, want_host = straight_shares(spec, fmt, kvf, st)
        assert [(g.weights, g.kv_cache, g.state) for g in gpus] == want_gpus, st
        assert (host.weights, host.kv_cache, host.state) == want_host, st


def test_a_checkpoint_ignore_list_is_honoured_tensor_by_tensor():
    """A checkpoint that keeps named tensors in 16-bit (llama-3.1-8b-fp8's ignore list) takes the one-by-one
    path, one run per tensor, and still sums like it."""
    spec = presets.model("llama-3.1-8b-fp8")
    fmt = weight_format("FP8")
    assert spec.quant_ignore
    runs = fmt.storage_runs(spec)
    assert len(runs) == len(weight_tensors(spec))
    assert expand_runs(runs) == fmt.storage(spec)
