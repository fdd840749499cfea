"""GGUF import: files written by llama.cpp's gguf-py, read back by pycore and by gguf-py's own
GGUFReader, which must agree on every tensor; and the ModelSpec built from the header must be the
architecture the file was written from."""
import os
import re

import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFEndian, GGUFReader, GGUFValueType, GGUFWriter
from gguf.constants import MODEL_ARCH_NAMES, MODEL_TENSORS, TENSOR_NAMES
from gguf_files import SPECS, converter_metadata, finish, parse_prefixes, tiny, write_gguf, write_spec_gguf

from pycore.errors import ModelFileError
from pycore.formats import gguf_tensors, weight_format, weight_storage
from pycore.importers.gguf import Skipped, import_gguf, read_gguf_header
from pycore.importers.reader import FileReader
from pycore.memory import estimate
from pycore.models import SLIDING, ModelSpec, attention_layers, parameter_count
from pycore.scenario import Scenario

TYPE_SETS = {
    "k-quants": ("Q4_K", "Q6_K", "Q5_K", "Q8_0"),
    "floats": ("F16", "BF16", "F32"),
    "i-quants": ("IQ4_XS", "IQ2_XXS", "IQ3_S", "Q2_K", "Q4_0", "MXFP4"),
}
ARCH_FIELDS = [f for f in ModelSpec.__dataclass_fields__
               if f not in ("name", "source", "notes", "file_tensors", "file_id", "file_kind")]


def _read(path):
    with FileReader(path) as r:
        return import_gguf(r)


def _assert_same_as_gguf_py(path, imp):
    ref = GGUFReader(path)
    h = imp.header
    assert h.data_offset == ref.data_offset
    assert h.alignment == ref.alignment
    assert [t.name for t in h.tensors] == [t.name for t in ref.tensors]
    for ours, theirs in zip(h.tensors, ref.tensors):
        assert ours.ne == tuple(int(d) for d in theirs.shape), ours.name
        assert ours.ggml_type == theirs.tensor_type.name, ours.name
        assert ours.type_id == int(theirs.tensor_type)
        assert ours.n_bytes == theirs.n_bytes, ours.name
        assert ours.n_elements == theirs.n_elements
        assert ours.data_offset == theirs.data_offset, ours.name
    for key, f in ref.fields.items():
        if key.startswith("GGUF."):
            continue
        ours = h.metadata[key]
        if isinstance(ours, Skipped):
            assert ours.count == len(f.data), key
        else:
            assert (list(ours) if isinstance(ours, tuple) else ours) == pytest.approx(f.contents()), key
    assert imp.tensor_bytes == sum(t.n_bytes for t in ref.tensors)
    assert imp.tensor_elements == sum(t.n_elements for t in ref.tensors)


@pytest.mark.parametrize("types", TYPE_SETS)
@pytest.mark.parametrize("key", SPECS)
def test_tensors_match_gguf_py_and_spec_round_trips(tmp_path, key, types):
    spec = SPECS[key]
    path = write_spec_gguf(tmp_path / f"{key}.gguf", spec, TYPE_SETS[types], file_type=15, tokens=300)
    imp = _read(path)
    _assert_same_as_gguf_py(path, imp)
    got = imp.spec
    assert {f: getattr(got, f) for f in ARCH_FIELDS} == {f: getattr(spec, f) for f in ARCH_FIELDS}
    assert parameter_count(got).total == imp.tensor_elements
    assert any("accounts for every one" in n for n in imp.notes)
    assert imp.name == got.name == "tiny test model"
    assert imp.file_type == "Q4_K_M"
    assert imp.architecture == spec.arch
    # the "file" weight format is the file's tensors, byte for byte
    assert weight_storage(got, weight_format("file")).total == imp.tensor_bytes
    e = estimate(Scenario(got, weights="file", context=2048, engine="llama.cpp"))
    # llama.cpp loads the file's tensors, and a tied output head a second time on the output's GPU
    # (src/llama-model.cpp: the output is token_embd with TENSOR_DUPLICATED)
    embd = next(b for name, _, _, b in got.file_tensors if name == "token_embd.weight") if got.tie_embeddings else 0
    assert e.weights.bytes == imp.tensor_bytes + embd


@pytest.mark.parametrize("key", SPECS)
def test_fixture_tensors_are_the_ones_llama_cpp_names(key):
    """The tensors the fixtures write (pycore's list for the architecture) exist in llama.cpp's own
    per-architecture tensor list (gguf-py MODEL_TENSORS), so the round trip above is not pycore with itself."""
    arch = {name: a for a, name in MODEL_ARCH_NAMES.items()}[SPECS[key].arch]
    known = {TENSOR_NAMES[t] for t in MODEL_TENSORS[arch]}
    # GGUF names carry .weight/.bias, except a few llama.cpp names whole (ssm_a, ssm_d)
    written = {re.sub(r"\.(weight|bias)$", "", re.sub(r"^blk\.\d+\.", "blk.{bid}.", t.name))
               for t in gguf_tensors(SPECS[key])}
    assert written <= known, written - known


def test_parameter_counts_by_hand(tmp_path):
    # llama-gqa (vocab 512, hidden 256, 2 layers, 4 heads of 64, 2 KV heads, FFN 512, untied):
    #   token_embd + output 2·512·256, output_norm 256; per layer q and o 256·256 each, k and v 256·128
    #   each, gate/up/down 256·512 each, two norms 256 each
    llama = 2 * 512 * 256 + 256 + 2 * (2 * 65_536 + 2 * 32_768 + 3 * 131_072 + 2 * 256)
    assert llama == 1_443_072
    # qwen3moe-experts (same attention, q/k norms of 64, router 256·4, 4 experts of width 256: gate/up/down
    # 256·256·4 each, no dense FFN)
    moe = 2 * 512 * 256 + 256 + 2 * (2 * 65_536 + 2 * 32_768 + 2 * 64 + 2 * 256 + 256 * 4 + 3 * 256 * 256 * 4)
    assert moe == 2_231_808
    for key, expected in (("llama-gqa", llama), ("qwen3moe-experts", moe)):
        imp = _read(write_spec_gguf(tmp_path / f"{key}.gguf", SPECS[key], ("F16",)))
        assert imp.tensor_elements == expected
        assert parameter_count(imp.spec).total == expected


@pytest.mark.parametrize("key,parallel", [("llama-gqa", "tensor"), ("llama-gqa", "pipeline"),
                                          ("qwen3moe-experts", "tensor"), ("qwen3moe-experts", "pipeline"),
                                          ("deepseek2-mla", "tensor"), ("deepseek2-mla", "pipeline")])
def test_the_file_splits_over_gpus_as_its_architecture_does(tmp_path, key, parallel):
    """An all-F16 file (norms F32) is pycore's ggml:F16 format of the same architecture, GPU by GPU."""
    imp = _read(write_spec_gguf(tmp_path / "s.gguf", SPECS[key], ("F16",)))
    from_file = estimate(Scenario(imp.spec, weights="file", gpus=2, parallel=parallel))
    from_arch = estimate(Scenario(imp.spec, weights="ggml:F16", gpus=2, parallel=parallel))
    assert [d.weights for d in from_file.devices] == [d.weights for d in from_arch.devices]


def test_quantization_mix_counts_tensors_and_bytes_per_type(tmp_path):
    path = write_spec_gguf(tmp_path / "m.gguf", SPECS["llama-gqa"], ("Q4_K", "Q6_K"))
    imp = _read(path)
    ref = GGUFReader(path)
    expected = {}
    for t in ref.tensors:
        c, b = expected.get(t.tensor_type.name, (0, 0))
        expected[t.tensor_type.name] = (c + 1, b + int(t.n_bytes))
    assert {label: (count, size) for label, count, _, size in imp.quant_mix} == expected
    assert [row[3] for row in imp.quant_mix] == sorted((row[3] for row in imp.quant_mix), reverse=True)


GGML_TYPES_TO_TEST = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K",
                      "Q5_K", "Q6_K", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M",
                      "IQ4_NL", "IQ4_XS", "TQ1_0", "TQ2_0", "MXFP4", "I8", "I16", "I32", "I64", "F64"]


def test_every_ggml_type_has_gguf_py_s_byte_count(tmp_path):
    tensors = []
    for i, name in enumerate(GGML_TYPES_TO_TEST):
        tensors.append((f"t{i}.{name}", (256 * (1 + i % 3), 3), name))
    w = GGUFWriter(tmp_path / "types.gguf", "llama")
    rng = np.random.default_rng(0)
    for tname, ne, type_name in tensors:
        qtype = GGMLQuantizationType[type_name]
        block, size = GGML_QUANT_SIZES[qtype]
        raw = rng.integers(0, 256, size=(ne[1], ne[0] // block * size), dtype=np.uint8)
        w.add_tensor(tname, raw, raw_dtype=qtype)
    finish(w)
    with FileReader(tmp_path / "types.gguf") as r:
        h = read_gguf_header(r)
    ref = GGUFReader(tmp_path / "types.gguf")
    assert [(t.name, t.ggml_type, t.n_bytes, t.data_offset) for t in h.tensors] == \
        [(t.name, t.tensor_type.name, int(t.n_bytes), int(t.data_offset)) for t in ref.tensors]


@pytest.mark.parametrize("style", ["current", "old", "tensors-only"])
def test_mla_read_back_from_every_converter_style(tmp_path, style):
    """llama.cpp #12801 writes MLA as MQA over the latent (key_length 576 for DeepSeek-V3); older files
    wrote the per-head sizes; without either, the tensor shapes give them."""
    spec = SPECS["deepseek2-mla"]
    imp = _read(write_spec_gguf(tmp_path / "mla.gguf", spec, ("Q8_0",), mla_style=style))
    got = imp.spec
    for f in ("kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "q_lora_rank", "head_dim"):
        assert getattr(got, f) == getattr(spec, f), f
    assert got.is_mla and got.num_kv_heads == got.num_heads
    latent = attention_layers(got)[0]
    assert (latent.kv_lora_rank, latent.rope_dim) == (256, 32)
    exact = {f.name: f.exact for f in imp.figures}
    assert exact["qk_nope_head_dim"] == (style != "tensors-only")


def test_big_endian_file_reads_the_same(tmp_path):
    spec = SPECS["gemma2-sliding"]
    le = _read(write_spec_gguf(tmp_path / "le.gguf", spec, ("Q4_K", "F16"), tokens=50))
    path = write_spec_gguf(tmp_path / "be.gguf", spec, ("Q4_K", "F16"), tokens=50, endianess=GGUFEndian.BIG)
    be = _read(path)
    _assert_same_as_gguf_py(path, be)
    assert be.header.byte_order == "big" and le.header.byte_order == "little"
    assert [f for f in ARCH_FIELDS if getattr(be.spec, f) != getattr(le.spec, f)] == []
    assert be.spec.file_tensors == le.spec.file_tensors


def test_custom_alignment(tmp_path):
    path = write_spec_gguf(tmp_path / "a.gguf", SPECS["llama-gqa"], ("Q8_0",), alignment=256)
    imp = _read(path)
    _assert_same_as_gguf_py(path, imp)
    assert imp.header.alignment == 256 and imp.header.data_offset % 256 == 0


def test_tokenizer_arrays_are_skipped_not_decoded(tmp_path):
    path = write_spec_gguf(tmp_path / "t.gguf", SPECS["llama-gqa"], ("Q4_K",), tokens=5000)
    h = _read(path).header
    assert h.metadata["tokenizer.ggml.tokens"] == Skipped("string", 5000)
    assert h.metadata["tokenizer.ggml.merges"] == Skipped("string", 5000)
    assert h.metadata["tokenizer.ggml.scores"] == Skipped("float32", 5000)
    assert h.value_types["tokenizer.ggml.tokens"] == "array[string]"
    assert h.metadata["tokenizer.ggml.model"] == "gpt2"


def test_a_browser_prefix_grows_until_the_header_fits(tmp_path):
    """The page parses a File.slice prefix; NeedMoreBytes says how much more to slice."""
    path = write_spec_gguf(tmp_path / "p.gguf", SPECS["qwen3moe-experts"], ("Q4_K",), tokens=20000)
    data = path.read_bytes()
    full = _read(path)
    imp, prefix, rounds = parse_prefixes(data, lambda r: import_gguf(r, file_name="p.gguf"), "p.gguf")
    assert rounds <= 8
    assert imp.header.header_end <= prefix <= 2 * imp.header.header_end + (64 << 10)  # not the tensor data
    assert imp.spec.file_tensors == full.spec.file_tensors
    assert imp.tensor_bytes == full.tensor_bytes
    assert imp.bytes_read <= prefix


def test_reading_a_file_reads_about_the_header_only(tmp_path):
    path = write_spec_gguf(tmp_path / "h.gguf", SPECS["llama-gqa"], ("F16",), tokens=20000)
    imp = _read(path)
    assert imp.header.header_end < imp.bytes_read <= 2 * imp.header.header_end + (64 << 10)
    assert imp.bytes_read < os.path.getsize(path) // 2


def test_split_gguf_needs_all_parts(tmp_path):
    spec = SPECS["llama-gqa"]
    w = GGUFWriter(tmp_path / "s.gguf", "llama", split_max_tensors=8)
    for add in converter_metadata(spec):
        add(w)
    for t in gguf_tensors(spec):
        w.add_tensor(t.name, np.zeros(tuple(reversed(t.ne)), dtype=np.float16))
    finish(w)
    parts = sorted(p for p in os.listdir(tmp_path) if p.endswith(".gguf"))
    assert len(parts) > 1
    readers = [FileReader(tmp_path / p) for p in parts]
    imp = import_gguf(*readers)
    assert imp.tensor_elements == parameter_count(imp.spec).total == 1_443_072  # test_parameter_counts_by_hand
    assert imp.tensor_bytes == 2 * 1_443_072  # every tensor written as float16
    with pytest.raises(ModelFileError, match=f"split into {len(parts)} files"):
        import_gguf(readers[0])
    with pytest.raises(ModelFileError, match="choose its first part"):
        import_gguf(readers[1], readers[0])
    for r in readers:
        r.close()


def _meta_file(tmp_path, spec, extra, name="x.gguf"):
    return write_gguf(tmp_path / name, spec.arch, converter_metadata(spec) + extra,
                      [(t.name, t.ne, "F16" if len(t.ne) > 1 else "F32") for t in gguf_tensors(spec)])


def test_sliding_window_pattern_keys(tmp_path):
    spec = tiny(num_layers=6)
    per_layer = [True, False, True, True, False, False]
    imp = _read(_meta_file(tmp_path, spec, [lambda w: w.add_sliding_window(256),
                                            lambda w: w.add_sliding_window_pattern(per_layer)]))
    assert imp.spec.layer_types == tuple(SLIDING if p else "full" for p in per_layer)
    assert imp.spec.sliding_window == 256
    imp = _read(_meta_file(tmp_path, spec, [lambda w: w.add_sliding_window(256),
                                            lambda w: w.add_sliding_window_pattern(3)], "p.gguf"))
    assert imp.spec.layer_types == (SLIDING, SLIDING, "full") * 2


def test_gemma3_default_pattern_and_a_window_as_long_as_the_context(tmp_path):
    spec = SPECS["gemma3-pattern6"]
    imp = _read(write_spec_gguf(tmp_path / "g.gguf", spec, ("Q4_K",)))
    assert imp.spec.layer_types == (SLIDING,) * 5 + ("full", SLIDING)
    long_window = tiny(arch="gemma2", norms_per_layer=4, tie_embeddings=True)
    imp = _read(_meta_file(tmp_path, long_window, [lambda w: w.add_sliding_window(8192)]))
    assert imp.spec.layer_types == ()  # a window as long as the context caps nothing


def test_per_layer_arrays(tmp_path):
    spec = tiny(num_layers=3)
    md = converter_metadata(spec)
    md += [lambda w: w.add_head_count_kv([1, 2, 2]), lambda w: w.add_feed_forward_length([512, 256, 512])]
    tensors = [(t.name, t.ne, "F16" if len(t.ne) > 1 else "F32")
               for t in gguf_tensors(spec)]
    # converter_metadata wrote scalars first; the arrays overwrite them (gguf-py keeps the last value).
    # Layers that differ: the estimate takes the largest (an upper bound) and says so.
    imp = _read(write_gguf(tmp_path / "a.gguf", "llama", md, tensors))
    assert imp.spec.num_kv_heads == 2 and imp.spec.intermediate_size == 512
    assert any("KV heads vary by layer (1–2)" in n for n in imp.notes)
    assert any("FFN width varies by layer (256–512)" in n for n in imp.notes)
    md2 = converter_metadata(spec) + [lambda w: w.add_head_count_kv([2, 0, 2])]
    imp = _read(write_gguf(tmp_path / "b.gguf", "llama", md2, tensors))
    assert imp.spec.num_kv_heads == 2 and any("upper bound" in n for n in imp.notes)
    md3 = converter_metadata(spec) + [lambda w: w.add_head_count_kv([2, 2])]
    with pytest.raises(ModelFileError, match="2 entries for 3 layers"):
        _read(write_gguf(tmp_path / "c.gguf", "llama", md3, tensors))


def test_two_files_of_one_name_and_size_are_different_models(tmp_path):
    """Q4_0 and IQ4_NL are both 18 bytes per 32 values: same name, same size, different tensors. The
    specs must differ, or cached results of one would be served for the other."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = _read(write_spec_gguf(tmp_path / "a" / "m.gguf", SPECS["llama-gqa"], ("Q4_0",)))
    b = _read(write_spec_gguf(tmp_path / "b" / "m.gguf", SPECS["llama-gqa"], ("IQ4_NL",)))
    assert a.header.file_size == b.header.file_size and a.tensor_bytes == b.tensor_bytes
    assert a.spec != b.spec and a.spec.file_id != b.spec.file_id
    labels = {s.label for _, s in weight_storage(b.spec, weight_format("file")).tensors}
    assert "IQ4_NL" in labels and "Q4_0" not in labels
    again = _read(tmp_path / "a" / "m.gguf")
    assert again.spec == a.spec  # the same file is the same model


def test_figures_say_what_is_exact(tmp_path):
    imp = _read(write_spec_gguf(tmp_path / "f.gguf", SPECS["llama-gqa"], ("Q4_K",)))
    figures = {f.name: f for f in imp.figures}
    assert figures["num_layers"].source == "llama.block_count" and figures["num_layers"].exact
    assert figures["vocab_size"].source == "token_embd.weight shape"
    assert figures["head_dim"].exact  # key_length is in the file
    assert imp.spec.file_id.startswith("f.gguf (") and "bytes" in imp.spec.file_id


def test_missing_keys_name_the_key(tmp_path):
    spec = tiny()
    md = [m for m in converter_metadata(spec)][:2]  # name and block_count only
    tensors = [(t.name, t.ne, "F32") for t in gguf_tensors(spec)]
    with pytest.raises(ModelFileError, match="llama.embedding_length is missing"):
        _read(write_gguf(tmp_path / "m.gguf", "llama", md, tensors))


def test_rope_tables_are_weights_bytes_but_not_parameters(tmp_path):
    spec = SPECS["llama-gqa"]
    tensors = [(t.name, t.ne, "F16" if len(t.ne) > 1 else "F32") for t in gguf_tensors(spec)]
    imp = _read(write_gguf(tmp_path / "r.gguf", "llama", converter_metadata(spec),
                           tensors + [("rope_freqs.weight", (32,), "F32")]))
    assert any("accounts for every one" in n for n in imp.notes)
    assert any(n.startswith("rope_freqs.weight: RoPE tables") for n in imp.notes)
    assert weight_storage(imp.spec, weight_format("file")).total == imp.tensor_bytes


def test_unknown_architecture_is_read_with_a_note(tmp_path):
    spec = tiny(arch="olmo2")
    imp = _read(write_spec_gguf(tmp_path / "o.gguf", spec, ("Q8_0",)))
    assert imp.spec.arch == "olmo2"
    assert any("not one pycore knows" in n for n in imp.notes)
    assert parameter_count(imp.spec).total == imp.tensor_elements


def test_metadata_of_every_value_type(tmp_path):
    w = GGUFWriter(tmp_path / "v.gguf", "llama")
    values = {"u8": (7, GGUFValueType.UINT8), "i8": (-7, GGUFValueType.INT8), "u16": (700, GGUFValueType.UINT16),
              "i16": (-700, GGUFValueType.INT16), "u32": (70000, GGUFValueType.UINT32),
              "i32": (-70000, GGUFValueType.INT32), "f32": (0.5, GGUFValueType.FLOAT32),
              "b": (True, GGUFValueType.BOOL), "s": ("héllo <b>", GGUFValueType.STRING),
              "u64": (2**63 + 5, GGUFValueType.UINT64), "i64": (-(2**62), GGUFValueType.INT64),
              "f64": (1e300, GGUFValueType.FLOAT64)}
    for key, (value, vtype) in values.items():
        w.add_key_value(f"test.{key}", value, vtype)
    w.add_array("test.arr_i32", [1, -2, 3])
    w.add_array("test.arr_str", ["a", "bé"])
    w.add_array("test.nested", [[1, 2], [3]])
    w.add_tensor("x", np.zeros((2, 32), np.float32))
    finish(w)
    with FileReader(tmp_path / "v.gguf") as r:
        h = read_gguf_header(r)
    for key, (value, _) in values.items():
        assert h.metadata[f"test.{key}"] == value
    assert h.value_types["test.u8"] == "uint8" and h.value_types["test.f64"] == "float64"
    assert h.metadata["test.arr_i32"] == (1, -2, 3)
    assert h.metadata["test.arr_str"] == ("a", "bé")
    assert h.metadata["test.nested"] == Skipped("array", 2) and h.value_types["test.nested"] == "array[array]"
    assert h.version == 3 and h.metadata["general.architecture"] == "llama"
