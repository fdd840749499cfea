"""safetensors headers and `model.safetensors.index.json`: what a checkpoint's files say about it.

Format (huggingface/safetensors README "Format", and safetensors/src/tensor.rs): an 8-byte
little-endian header length N (at most 100,000,000), N bytes of UTF-8 JSON mapping each tensor name
to {"dtype", "shape", "data_offsets": [begin, end]} relative to the data that follows, plus an
optional "__metadata__" map of strings. As in the reference reader, the tensors must tile the data
exactly: no gaps, no overlaps, each exactly shape × dtype bits long.

A header alone gives the exact bytes and the parameter count by dtype; quantized checkpoints store
some weights packed, so their real parameter counts are unpacked here:
- GPTQ / AWQ: `qweight` and `qzeros` pack 32 / bits values in each int32 (AutoGPTQ packs along the
  input features, AutoAWQ along the outputs), with fp16 `scales` and (GPTQ) an int32 `g_idx`;
- bitsandbytes 4-bit: two values per uint8 of `weight`, with `absmax`, `quant_map`, nested
  (double-quant) statistics and a `quant_state.bitsandbytes__nf4|fp4` blob; 8-bit: int8 `weight` + `SCB`;
- FP8: `weight` in F8_* with `weight_scale_inv` (DeepSeek-V3 blocks) or `weight_scale`/`input_scale`;
- MXFP4 (gpt-oss): `*_blocks` (two values per byte) with `*_scales`;
- compressed-tensors: `weight_packed` int32 with `weight_scale` / `weight_zero_point` / `weight_shape`.
The quantization tensors are counted in the bytes of the weight they belong to, not as parameters.
Attention heads, context length and the layer layout are not in any header: with a config.json
(pycore.importers.hf_config) the import becomes a full ModelSpec carrying the file's tensors.
"""
import json
import math
import re
import struct
from dataclasses import dataclass, replace

from ..errors import InputError, ModelFileError
from ..models import parameter_count
from .hf_config import spec_from_config
from .reader import file_id, file_name_of, quote

MAX_HEADER_BYTES = 100_000_000  # safetensors' own MAX_HEADER_SIZE
MAX_JSON_BYTES = 64 << 20  # an index of the largest checkpoints is under 10 MB
MAX_CONFIG_BYTES = 4 << 20
MAX_JSON_DEPTH = 32  # headers need 3 levels, configs about 6
MAX_JSON_ITEMS = 2_000_000  # values and containers: a header holds about 8 per tensor
MAX_DIMS = 16

DTYPE_BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
              "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
              "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64}


# ---------------------------------------------------------------- bounded JSON

_STRING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_OPENERS = {ord("{"): "[", ord(" "): None, ord("\n"): None, ord("\t"): None, ord("\r"): None}


def parse_json(data: bytes, what: str, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH):
    """JSON from an untrusted file: size, nesting and number lengths are bounded before the json
    module sees it, duplicate keys are refused."""
    if len(data) > max_bytes:
        raise ModelFileError(f"{what} is {len(data):,} bytes (at most {max_bytes:,} are read)")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{what} is not valid UTF-8 (byte {e.start})") from None
    # C-speed passes over the text outside strings refuse the bombs before json.loads builds them:
    # millions of tiny values (each costs ~50 bytes as an object), or a long run of opening brackets.
    # Other deep shapes meet the json module's own recursion limit, which raises RecursionError.
    items = text.count('"') // 2  # strings: counted before the regex below has to visit each one
    if items <= MAX_JSON_ITEMS:
        bare = _STRING_RE.sub('""', text)
        items = bare.count(",") + bare.count("[") + bare.count("{")
    if items > MAX_JSON_ITEMS:
        raise ModelFileError(f"{what} holds {items:,} values, more than any real header (at most {MAX_JSON_ITEMS:,})")
    if "[" * (max_depth + 1) in bare.translate(_OPENERS):
        raise ModelFileError(f"{what}: brackets nest deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_int=_json_int, parse_float=_json_float, parse_constant=_json_constant,
                          object_pairs_hook=_json_object)
    except _JSONLimit as e:
        raise ModelFileError(f"{what}: {e}") from None
    except RecursionError:
        raise ModelFileError(f"{what}: brackets nest too deeply") from None
    except ValueError as e:
        if isinstance(e, json.JSONDecodeError):  # some of json's messages end in "at" ("Unterminated string starting at")
            msg = f"{e.msg}{' ' if e.msg.endswith(' at') else ' at '}line {e.lineno} column {e.colno}"
        else:
            msg = str(e)[:120]
        raise ModelFileError(f"{what} is not valid JSON: {msg}") from None


class _JSONLimit(ValueError):
    pass


def _json_int(s):
    if len(s) > 30:
        raise _JSONLimit(f"a number of {len(s):,} digits")
    return int(s)


def _json_float(s):
    if len(s) > 60:
        raise _JSONLimit(f"a number of {len(s):,} characters")
    value = float(s)
    if value in (float("inf"), float("-inf")):
        raise _JSONLimit(f"number {s[:40]} is out of range")
    return value


def _json_constant(s):
    raise _JSONLimit(f"{s} is not JSON")


def _json_object(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _JSONLimit(f"key {quote(dup)} appears twice")
    return obj


def read_json(reader, what: str, max_bytes: int = MAX_CONFIG_BYTES):
    """A whole (small) JSON file through a byte reader: config.json or an index."""
    if reader.size > max_bytes:
        raise ModelFileError(f"{what} is {reader.size:,} bytes (at most {max_bytes:,} are read)")
    return parse_json(reader.read(0, reader.size), what, max_bytes)


# ---------------------------------------------------------------- one file's header

@dataclass(frozen=True)
class STensor:
    name: str
    dtype: str
    shape: tuple  # as stored (PyTorch order: outermost first)
    begin: int  # data offsets, from the end of the header
    end: int

    @property
    def n_bytes(self) -> int:
        return self.end - self.begin

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class SafetensorsHeader:
    tensors: tuple  # STensor, in data order
    metadata: dict  # "__metadata__": str -> str
    header_size: int  # N, the JSON's length
    file_size: int
    file_name: str = ""

    @property
    def data_bytes(self) -> int:
        return self.file_size - 8 - self.header_size


def read_safetensors_header(reader, file_name: str = "") -> SafetensorsHeader:
    """Parse and validate one .safetensors file's header through a byte reader."""
    name = file_name or file_name_of(reader)
    if reader.size < 8:
        raise ModelFileError(f"not a safetensors file: {reader.size} bytes, shorter than the 8-byte header length")
    head = reader.read(0, 8)
    if head[:4] == b"GGUF":
        raise ModelFileError("this is a GGUF file, not safetensors")
    (n,) = struct.unpack("<Q", head)
    if n > MAX_HEADER_BYTES:
        raise ModelFileError(f"the header declares {n:,} bytes of JSON, over the {MAX_HEADER_BYTES:,} "
                             "the safetensors format allows")
    if 8 + n > reader.size:
        raise ModelFileError(f"the header declares {n:,} bytes of JSON, but the file has only "
                             f"{reader.size - 8:,} after the length: truncated, or not safetensors")
    raw = reader.read(8, n)
    if not raw.startswith(b"{"):
        raise ModelFileError("not a safetensors file: the header is not a JSON object")
    obj = parse_json(raw, "the safetensors header", MAX_HEADER_BYTES)
    if not isinstance(obj, dict):
        raise ModelFileError("the safetensors header is not a JSON object")
    metadata = obj.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError("__metadata__ must map names to strings")
    tensors = sorted((_tensor(k, v) for k, v in obj.items()), key=lambda t: (t.begin, t.end))
    data_size, pos = reader.size - 8 - n, 0
    for t in tensors:
        if t.begin != pos:
            raise ModelFileError(f"tensor {quote(t.name)} starts at data offset {t.begin:,}, expected {pos:,} "
                                 "(tensors must tile the data without gaps or overlaps)")
        pos = t.end
    if pos != data_size:
        raise ModelFileError(f"the tensors cover {pos:,} bytes of data, but the file holds {data_size:,}: "
                             + ("truncated" if pos > data_size else "trailing bytes"))
    return SafetensorsHeader(tuple(tensors), metadata, n, reader.size, name)


def _tensor(name, info) -> STensor:
    what = f"tensor {quote(name)}"
    if not isinstance(info, dict):
        raise ModelFileError(f"{what}: expected an object with dtype, shape and data_offsets")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise ModelFileError(f"{what}: unknown dtype {quote(str(dtype))}")
    if not isinstance(shape, list) or len(shape) > MAX_DIMS or not all(_count(d) for d in shape):
        raise ModelFileError(f"{what}: shape must be a list of at most {MAX_DIMS} non-negative integers")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(_count(o) for o in offsets)
            and offsets[0] <= offsets[1]):
        raise ModelFileError(f"{what}: data_offsets must be [begin, end] with begin <= end")
    t = STensor(name, dtype, tuple(shape), offsets[0], offsets[1])
    bits = t.numel * DTYPE_BITS[dtype]
    if bits % 8 or bits // 8 != t.n_bytes:
        raise ModelFileError(f"{what}: {dtype} {list(shape)} needs {bits / 8:,g} bytes, its offsets span {t.n_bytes:,}")
    return t


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


# ---------------------------------------------------------------- the index

@dataclass(frozen=True)
class SafetensorsIndex:
    total_size: int  # metadata.total_size: bytes of all tensors' data (headers excluded)
    weight_map: dict  # tensor name -> shard file name
    shards: tuple  # shard file names, sorted

    @property
    def tensor_names(self) -> tuple:
        return tuple(self.weight_map)


def read_safetensors_index(source) -> SafetensorsIndex:
    """`model.safetensors.index.json`, from a byte reader or bytes."""
    what = "model.safetensors.index.json"
    if isinstance(source, str):
        source = source.encode("utf-8")
    obj = read_json(source, what, MAX_JSON_BYTES) if hasattr(source, "read") else parse_json(source, what)
    if not isinstance(obj, dict) or not isinstance(obj.get("weight_map"), dict):
        raise ModelFileError(f"{what}: expected an object with a weight_map")
    weight_map = obj["weight_map"]
    if not all(isinstance(v, str) for v in weight_map.values()):
        raise ModelFileError(f"{what}: weight_map values must be shard file names")
    meta = obj.get("metadata") or {}
    total = meta.get("total_size") if isinstance(meta, dict) else None
    if isinstance(total, float) and total.is_integer():
        total = int(total)
    if not _count(total):
        raise ModelFileError(f"{what}: metadata.total_size must be a whole number of bytes")
    return SafetensorsIndex(total, dict(weight_map), tuple(sorted(set(weight_map.values()))))


# ---------------------------------------------------------------- what the tensors add up to

@dataclass(frozen=True)
class Weight:
    """One logical weight: a stored tensor, or a quantized linear and its packing/scale tensors."""

    name: str
    ne: tuple  # ggml order (innermost first), with packed dimensions unpacked
    label: str  # dtype, or the quantization ("GPTQ int4", "bnb NF4", "MXFP4", ...)
    params: int
    n_bytes: int  # the weight's own bytes plus its scales, zeros and indices
    parts: tuple = ()  # names of the stored tensors folded into it


@dataclass(frozen=True)
class SafetensorsImport:
    weights: tuple  # Weight
    by_label: tuple  # (label, weights, parameters, bytes), most bytes first
    total_params: object  # int, or None when only an index was read
    total_bytes: int  # tensor data bytes, exact
    quantization: dict  # {"method", "bits", "group_size"} found in the tensors ({} when none)
    known: tuple  # (figure, value, source) read or derived from the files
    unknown: tuple  # what the files cannot tell without a config.json
    spec: object = None  # ModelSpec when a config.json was given
    notes: tuple = ()
    bytes_read: int = 0


_LAYER_RE = re.compile(r"(?:^|\.)(?:layers|h|blocks|blk|layer)\.(\d+)\.")
_EXPERT_RE = re.compile(r"\.experts\.(\d+)\.")
_EMBED = ("embed_tokens.weight", "wte.weight", "word_embeddings.weight", "embed_in.weight", "tok_embeddings.weight")
_EMBED_RE = re.compile(r"(?:^|\.)(?:" + "|".join(re.escape(e) for e in _EMBED) + ")$")


def summarize(tensors, quant_config: dict = None) -> tuple:
    """Group stored tensors into logical weights, unpacking packed ones. Returns (weights, notes, quantization)."""
    by_name = {t.name: t for t in tensors}
    used, weights, notes, quant = set(), [], [], {}
    qc = quant_config if isinstance(quant_config, dict) else {}
    groups = {}  # first pass: quantized weights, whose parts may be stored before them
    for t in tensors:
        w = (_gptq_awq(t, by_name, qc, notes, quant) or _bnb(t, by_name, quant) or _fp8(t, by_name, quant)
             or _mxfp4(t, by_name, quant) or _compressed(t, by_name, qc, notes, quant))
        if w is not None:
            groups[t.name] = w
            used.update(w.parts)
    for t in tensors:
        if t.name in groups:
            weights.append(groups[t.name])
        elif t.name not in used:
            weights.append(Weight(t.name, tuple(reversed(t.shape)), t.dtype, t.numel, t.n_bytes, (t.name,)))
    return tuple(weights), notes, quant


def _parts(by_name, prefix, suffixes):
    return [by_name[prefix + s] for s in suffixes if prefix + s in by_name]


def _gptq_awq(t, by_name, qc, notes, quant):
    if not t.name.endswith(".qweight"):
        return None
    prefix = t.name[:-len("qweight")]
    scales, qzeros, g_idx = (by_name.get(prefix + s) for s in ("scales", "qzeros", "g_idx"))
    if scales is None or len(t.shape) != 2 or len(scales.shape) != 2:
        return None
    rows, cols = t.shape
    groups, n_out = scales.shape
    bits = qc.get("bits") if isinstance(qc.get("bits"), int) else None
    if bits is None and qzeros is not None and len(qzeros.shape) == 2 and n_out and (32 * qzeros.shape[1]) % n_out == 0:
        bits = 32 * qzeros.shape[1] // n_out
    if bits is None and g_idx is not None and g_idx.shape and g_idx.shape[0] and (32 * rows) % g_idx.shape[0] == 0:
        bits = 32 * rows // g_idx.shape[0]
    if bits not in (2, 3, 4, 8):
        bits = 4
        if "bits" not in quant:
            notes.append(f"{quote(t.name)}: packing width not found; 4-bit assumed")
    if cols == n_out and (rows * 32) % bits == 0:  # AutoGPTQ: int32 rows pack 32/bits input features
        method, k = "GPTQ", rows * 32 // bits
    elif (cols * 32) % bits == 0 and cols * 32 // bits == n_out:  # AutoAWQ: packed along the outputs
        method, k = "AWQ", rows
    else:
        return None
    quant.update(method=method, bits=bits, group_size=k // groups if groups > 1 else -1)
    parts = [t] + _parts(by_name, prefix, ("qzeros", "scales", "g_idx"))
    return Weight(prefix + "weight", (k, n_out), f"{method} int{bits}", k * n_out,
                  sum(p.n_bytes for p in parts), tuple(p.name for p in parts))


def _bnb(t, by_name, quant):
    if not t.name.endswith(".weight"):
        return None
    n = t.name
    state = next((s for s in ("nf4", "fp4") if f"{n}.quant_state.bitsandbytes__{s}" in by_name), None)
    if t.dtype == "U8" and (state or f"{n}.absmax" in by_name):
        suffixes = (".absmax", ".quant_map", ".nested_absmax", ".nested_quant_map",
                    ".quant_state.bitsandbytes__nf4", ".quant_state.bitsandbytes__fp4")
        parts = [t] + _parts(by_name, n, suffixes)
        kind = (state or "4bit").upper()
        quant.update(method=f"bitsandbytes {kind}", bits=4, group_size=64,
                     double_quant=f"{n}.nested_absmax" in by_name)
        # The original shape lives in the quant_state blob's data, not in the header.
        return Weight(n, (2 * t.numel, 1), f"bnb {kind}", 2 * t.numel, sum(p.n_bytes for p in parts),
                      tuple(p.name for p in parts))
    prefix = n[:-len("weight")]
    if t.dtype == "I8" and prefix + "SCB" in by_name:
        parts = [t] + _parts(by_name, prefix, ("SCB", "weight_format"))
        quant.update(method="bitsandbytes LLM.int8", bits=8)
        return Weight(n, tuple(reversed(t.shape)), "bnb int8", t.numel, sum(p.n_bytes for p in parts),
                      tuple(p.name for p in parts))
    return None


def _fp8(t, by_name, quant):
    if not (t.name.endswith(".weight") and t.dtype.startswith("F8_")):
        return None
    prefix = t.name[:-len("weight")]
    scales = _parts(by_name, prefix, ("weight_scale_inv", "weight_scale", "input_scale"))
    if not scales:
        return None
    quant.update(method="fp8", bits=8, dtype=t.dtype,
                 block_scales=prefix + "weight_scale_inv" in by_name)
    parts = [t] + scales
    return Weight(t.name, tuple(reversed(t.shape)), f"{t.dtype}+scales", t.numel,
                  sum(p.n_bytes for p in parts), tuple(p.name for p in parts))


def _mxfp4(t, by_name, quant):
    if not (t.name.endswith("_blocks") and t.dtype == "U8" and len(t.shape) >= 2):
        return None
    base = t.name[:-len("_blocks")]
    scales = by_name.get(base + "_scales")
    if scales is None:
        return None
    k = t.shape[-2] * t.shape[-1] * 2  # blocks of 32 values, 16 bytes each
    ne = (k, *reversed(t.shape[:-2]))
    quant.update(method="mxfp4", bits=4, group_size=32)
    # named as a weight ("….gate_up_proj.weight") so layouts keyed on names treat it as a matrix
    return Weight(base + ".weight", ne, "MXFP4", 2 * t.numel, t.n_bytes + scales.n_bytes, (t.name, scales.name))


def _compressed(t, by_name, qc, notes, quant):
    if not (t.name.endswith(".weight_packed") and t.dtype == "I32" and len(t.shape) == 2):
        return None
    prefix = t.name[:-len("weight_packed")]
    bits = _compressed_bits(qc)
    if bits is None:
        bits = 4
        if "bits" not in quant:
            notes.append("compressed-tensors: packing width not in the config; 4-bit assumed")
    parts = [t] + _parts(by_name, prefix, ("weight_scale", "weight_zero_point", "weight_shape", "weight_g_idx"))
    k = t.shape[1] * 32 // bits
    quant.update(method="compressed-tensors", bits=bits)
    return Weight(prefix + "weight", (k, t.shape[0]), f"int{bits} (packed)", k * t.shape[0],
                  sum(p.n_bytes for p in parts), tuple(p.name for p in parts))


def _compressed_bits(qc):
    groups = qc.get("config_groups")
    if isinstance(groups, dict):
        for g in groups.values():
            weights = g.get("weights") if isinstance(g, dict) else None
            bits = weights.get("num_bits") if isinstance(weights, dict) else None
            if isinstance(bits, int) and bits in (2, 4, 8):
                return bits
    return None


# ---------------------------------------------------------------- the import

def import_safetensors(readers=(), index=None, config: dict = None, file_name: str = "") -> SafetensorsImport:
    """One or more .safetensors files (all shards of a checkpoint, or one file), an index, or both,
    with an optional config.json dict. Headers give exact bytes and parameter counts; the config
    gives the architecture, and with every shard present the spec carries the file's tensors."""
    readers = tuple(readers)
    if not readers and index is None:
        raise ModelFileError("nothing to read: give a .safetensors file or a model.safetensors.index.json")
    headers = tuple(read_safetensors_header(r, file_name if len(readers) == 1 else "") for r in readers)
    notes, known, unknown = [], [], []
    tensors, seen = [], set()
    empty = [h.file_name or "the file" for h in headers if not h.tensors]
    if headers and len(empty) == len(headers):
        # a header of {} (or only __metadata__): no weight to read, and an estimate from config.json alone would
        # look as if the file had been read
        raise ModelFileError(f"{quote(empty[0]) if len(headers) == 1 else 'the files given'} "
                             f"hold{'s' if len(headers) == 1 else ''} no tensors: no weights to size "
                             "(not a model's weight file)")
    if empty:
        notes.append(f"{len(empty)} of {len(headers)} files hold no tensors ({', '.join(map(quote, empty[:3]))}): "
                     "the weights are those of the other files")
    for h in headers:
        for t in h.tensors:
            if t.name in seen:
                raise ModelFileError(f"tensor {quote(t.name)} is in more than one of the files given")
            seen.add(t.name)
            tensors.append(t)

    complete = True
    if index is not None:
        missing = [n for n in index.weight_map if n not in seen]
        extra = [n for n in seen if n not in index.weight_map]
        if headers and extra:
            raise ModelFileError(f"tensor {quote(extra[0])} is not in the index: "
                                 "the files are from another checkpoint")
        complete = not missing
        if headers and missing:
            have = {h.file_name for h in headers}
            absent = [s for s in index.shards if s not in have]
            notes.append(f"{len(missing):,} of {len(index.weight_map):,} tensors are in shards not given "
                         f"({', '.join(absent[:3])}{'…' if len(absent) > 3 else ''}): counts cover the files given")
    qc = config.get("quantization_config") if isinstance(config, dict) else None
    weights, quant_notes, quant = summarize(tensors, qc)
    notes += quant_notes

    by_label = {}
    for w in weights:
        count, params, size = by_label.get(w.label, (0, 0, 0))
        by_label[w.label] = (count + 1, params + w.params, size + w.n_bytes)
    by_label = tuple(sorted(((k, *v) for k, v in by_label.items()), key=lambda r: (-r[3], r[0])))
    total_params = sum(w.params for w in weights) if headers else None
    total_bytes = sum(t.n_bytes for t in tensors)
    if index is not None and not headers:
        total_bytes = index.total_size
        known.append(("tensor bytes", total_bytes, "index metadata.total_size"))
    elif index is not None and complete and total_bytes != index.total_size:
        notes.append(f"the index says {index.total_size:,} bytes of tensors, the headers {total_bytes:,}: "
                     "the headers are used")
    if headers:
        known.append(("tensor bytes", total_bytes, "safetensors header data offsets"))
        known.append(("parameters", total_params, "header shapes, packed tensors unpacked"))
        known.append(("parameters by dtype", by_label, "header dtypes"))
    names = tuple(index.weight_map) if index is not None else tuple(t.name for t in tensors)
    known += _from_names(names, {t.name: t for t in tensors})
    if quant:
        known.append(("quantization", dict(quant), "tensor names and shapes"))
    elif index is not None and not headers:
        method = _quant_from_names(names)
        if method:
            known.append(("quantization", {"method": method}, "tensor names in the index"))

    if index is None and headers:
        complete = _all_shards_given(headers, notes)
    spec = None
    if config is not None:
        spec = _spec(config, weights, total_params, complete and bool(headers), file_name or _first_name(headers),
                     sum(h.file_size for h in headers), notes)
    else:
        unknown += ["attention heads and KV heads, head size (so the KV cache)", "maximum context length",
                    "sliding-window layers", "experts used per token"]
    if not headers:
        unknown += ["tensor shapes and dtypes (only the shards' headers have them)",
                    "the parameter count (needs the shard headers, or a config.json)"]
    read = sum(getattr(r, "bytes_read", 0) for r in readers)
    return SafetensorsImport(weights, by_label, total_params, total_bytes, quant, tuple(known), tuple(unknown),
                             spec, tuple(notes), read)


_SHARD_RE = re.compile(r"-(\d{5})-of-(\d{5})\.safetensors$")


def _all_shards_given(headers, notes) -> bool:
    """Without an index, shard names ("model-00001-of-00004.safetensors") tell whether any are missing."""
    parts = {}
    for h in headers:
        m = _SHARD_RE.search(h.file_name)
        if m:
            parts.setdefault(m.group(2), set()).add(m.group(1))
    for total, given in parts.items():
        if len(given) < int(total):
            notes.append(f"{len(given)} of {int(total)} shards given: counts cover the files given")
            return False
    return True


def _first_name(headers):
    return headers[0].file_name if headers else ""


def _spec(config, weights, total_params, complete, file_name, file_size, notes):
    try:
        spec = spec_from_config(config, source="config.json" + (f" + {file_name}" if file_name else ""))
    except ModelFileError:
        raise
    except InputError as e:
        raise ModelFileError(f"config.json {e.field}: {e.message}") from None
    if total_params is not None:
        derived = parameter_count(spec).total
        if derived == total_params:
            notes.append(f"the architecture accounts for every one of the files' {total_params:,} parameters")
        else:
            notes.append(f"the architecture gives {derived:,} parameters, the files hold {total_params:,} "
                         f"({derived - total_params:+,}; extra towers or layers in the checkpoint, or missing shards)")
    if not complete:
        return spec
    names, taken = [], set()
    for i, w in enumerate(weights):
        name = estimate_name(w.name, spec.num_layers)
        name = f"dup{i}.{name}" if name in taken else name  # two checkpoint names, one layout name
        taken.add(name)
        names.append(name)
    file_tensors = tuple((name, w.ne, w.label, w.n_bytes) for name, w in zip(names, weights))
    return replace(spec, file_tensors=file_tensors, file_id=file_id(file_name or spec.name, file_size, file_tensors),
                   file_kind="safetensors")


# Checkpoint names -> the GGUF-style names the estimate reads a tensor's layer and role from
# (pycore.models.file_tensor), so pipeline stages and the tensor-parallel split of K/V work for
# safetensors files too. transformers module names; unknown ones keep their path as the role.
_HF_LAYER_RE = re.compile(r"^(?:model\.(?:language_model\.)?|language_model\.model\.|transformer\.|gpt_neox\.|"
                          r"model\.decoder\.)?(?:layers|h|blocks)\.(\d{1,6})\.(.+)\.(\w+)$", re.A)
_HF_EXPERT_RE = re.compile(r"^(?:mlp|block_sparse_moe)\.experts\.(\d{1,6})\.(\w+)$", re.A)
_HF_ROLES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "self_attn.qkv_proj": "attn_qkv", "attention.query_key_value": "attn_qkv",
    "self_attention.query_key_value": "attn_qkv", "attn.c_attn": "attn_qkv", "attention.dense": "attn_output",
    "self_attention.dense": "attn_output", "attn.c_proj": "attn_output", "self_attn.q_norm": "attn_q_norm",
    "self_attn.k_norm": "attn_k_norm", "input_layernorm": "attn_norm", "ln_1": "attn_norm",
    "post_attention_layernorm": "ffn_norm", "ln_2": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "mlp.gate_up_proj": "ffn_up", "mlp.dense_h_to_4h": "ffn_up", "mlp.c_fc": "ffn_up",
    "mlp.dense_4h_to_h": "ffn_down", "mlp.c_proj": "ffn_down", "mlp.gate": "ffn_gate_inp",
    "block_sparse_moe.gate": "ffn_gate_inp", "mlp.router": "ffn_gate_inp",
    "mlp.experts.gate_up_proj": "ffn_gate_up_exps", "mlp.experts.down_proj": "ffn_down_exps",
    "mlp.shared_expert.gate_proj": "ffn_gate_shexp", "mlp.shared_expert.up_proj": "ffn_up_shexp",
    "mlp.shared_expert.down_proj": "ffn_down_shexp", "mlp.shared_experts.gate_proj": "ffn_gate_shexp",
    "mlp.shared_experts.up_proj": "ffn_up_shexp", "mlp.shared_experts.down_proj": "ffn_down_shexp",
    "mlp.shared_expert_gate": "ffn_gate_inp_shexp",
}
_HF_EXPERT_ROLES = {"gate_proj": "ffn_gate_exps", "w1": "ffn_gate_exps", "up_proj": "ffn_up_exps",
                    "w3": "ffn_up_exps", "down_proj": "ffn_down_exps", "w2": "ffn_down_exps"}
_HF_TOP = ((_EMBED_RE, "token_embd.weight"),
           (re.compile(r"^(?:lm_head|embed_out)\.weight$"), "output.weight"),
           (re.compile(r"^(?:model\.(?:language_model\.)?|transformer\.|gpt_neox\.)?(?:norm|ln_f|final_layer_norm)"
                       r"\.(weight|bias)$"), "output_norm.{}"),
           (re.compile(r"(?:^|\.)wpe\.weight$"), "position_embd.weight"))


def estimate_name(name: str, n_layers: int) -> str:
    """The GGUF-style name of a checkpoint tensor ("model.layers.3.self_attn.k_proj.weight" ->
    "blk.3.attn_k.weight"); unknown names are kept, and so are layers past `n_layers` (a vision
    tower or an MTP head is not one of the language model's layers)."""
    parts = name.split(".", 2)
    if parts[0] == "blk" and len(parts) > 2 and parts[1].isdigit():  # already GGUF-style
        return name if parts[1].isascii() and int(parts[1]) < n_layers else "file." + name
    m = _HF_LAYER_RE.match(name)
    if m and int(m.group(1)) < n_layers:
        layer, module, leaf = m.groups()
        e = _HF_EXPERT_RE.match(module)
        if e:
            role = _HF_EXPERT_ROLES.get(e.group(2), f"experts_{e.group(2)}")
            return f"blk.{layer}.{role}.{e.group(1)}.{leaf}"
        return f"blk.{layer}.{_HF_ROLES.get(module, module.replace('.', '_'))}.{leaf}"
    for pattern, gguf_name in _HF_TOP:
        t = pattern.search(name)
        if t:
            return gguf_name.format(*t.groups())
    return name


def _from_names(names, tensors):
    """What tensor names (and, with headers, shapes) say on their own."""
    out = []
    layers = {int(m.group(1)) for n in names for m in [_LAYER_RE.search(n)] if m}
    if layers:
        out.append(("layers", max(layers) + 1, "highest layer index in the tensor names"))
    experts = {int(m.group(1)) for n in names for m in [_EXPERT_RE.search(n)] if m}
    if experts:
        out.append(("experts", max(experts) + 1, "highest expert index in the tensor names"))
    embed = next((n for n in names if _EMBED_RE.search(n)), None)
    if embed and embed in tensors and len(tensors[embed].shape) == 2:
        vocab, hidden = tensors[embed].shape
        out.append(("vocab_size", vocab, f"{embed} shape"))
        out.append(("hidden_size", hidden, f"{embed} shape"))
    if embed:
        tied = not any(n.endswith(("lm_head.weight", "embed_out.weight")) for n in names)
        out.append(("tie_embeddings", tied, "no lm_head tensor" if tied else "lm_head tensor present"))
    return out


def _quant_from_names(names):
    ends = {n.rsplit(".", 1)[-1] for n in names}
    if "qweight" in ends:
        return "GPTQ or AWQ"
    if "absmax" in ends or any(".quant_state." in n for n in names):
        return "bitsandbytes 4-bit"
    if "SCB" in ends:
        return "bitsandbytes LLM.int8"
    if "weight_scale_inv" in ends or "weight_scale" in ends:
        return "fp8"
    if any(n.endswith("_blocks") for n in names):
        return "mxfp4"
    return ""
