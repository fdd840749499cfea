"""GGUF header reader (versions 2 and 3): metadata, tensor infos, and the model they describe.

Format: ggml-org/ggml docs/gguf.md ("GGUF" magic, uint32 version, uint64 tensor and key/value
counts, typed key/values, tensor infos, data aligned to `general.alignment`, default 32). The
checks follow llama.cpp's own loader (ggml/src/gguf.cpp): duplicate keys or tensor names, rows
that are not whole blocks, misaligned offsets and data past the end of the file are errors.

Every length and count a file declares is checked against a limit and against the bytes left
before anything is allocated, so a hostile header fails fast with a `ModelFileError`. Arrays the
estimate has no use for (the tokenizer's 150k tokens, merges, scores) are skipped, not decoded:
only their element type and count are kept.
"""
import math
import re
import struct
from dataclasses import dataclass, replace

from ..errors import InputError, ModelFileError
from ..ggml import GGML_TYPES_BY_ID
from ..models import (DENSE, FULL, GATED_DELTANET, KDA, MAMBA, MAMBA2, MOE, NO_FFN, NO_MIXER, PARALLEL_HYBRID, SHORT_CONV,
                      SLIDING, ModelSpec, parameter_count)
from .reader import file_id, file_name_of, quote

MAGIC = b"GGUF"
VERSIONS = (2, 3)  # v1 used 32-bit counts and lengths; v3 only added big-endian files
DEFAULT_ALIGNMENT = 32

MAX_HEADER_BYTES = 256 << 20  # real headers (a 262k-token vocabulary included) are well under 64 MiB
MAX_KEY_BYTES = 65535  # gguf.md: keys are at most 2^16 - 1 bytes
MAX_NAME_BYTES = 4096  # ggml's own limit is 64 (GGML_MAX_NAME); be lenient, but bounded
MAX_COUNT = 1 << 20  # tensors or key/values in one file
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_ARRAY_DEPTH = 8  # arrays of arrays: real files use none
MAX_KEPT_ARRAY = 4096  # longer arrays are skipped (per-layer arrays have one entry per layer)
MAX_KEPT_STRING = 1 << 20  # longer strings (a tokenizer JSON) are skipped
MAX_LAYERS = 512  # llama.cpp's LLAMA_MAX_LAYERS (src/llama-hparams.h)
_INT64_MAX = (1 << 63) - 1

# GGUF value types: id -> (name, struct code, size); string (8) and array (9) are variable-sized.
_SCALARS = {0: ("uint8", "B", 1), 1: ("int8", "b", 1), 2: ("uint16", "H", 2), 3: ("int16", "h", 2),
            4: ("uint32", "I", 4), 5: ("int32", "i", 4), 6: ("float32", "f", 4), 7: ("bool", "?", 1),
            10: ("uint64", "Q", 8), 11: ("int64", "q", 8), 12: ("float64", "d", 8)}
_STRING, _ARRAY = 8, 9
_TYPE_NAMES = {**{k: v[0] for k, v in _SCALARS.items()}, _STRING: "string", _ARRAY: "array"}
_MIN_SIZE = {**{k: v[2] for k, v in _SCALARS.items()}, _STRING: 8, _ARRAY: 12}


@dataclass(frozen=True)
class Skipped:
    """A metadata value that was validated but not decoded: an array (its element type and count)
    or a very long string (`item_type` "string", `count` its length in bytes)."""

    item_type: str
    count: int


@dataclass(frozen=True)
class GGUFTensor:
    name: str
    ne: tuple  # ggml order: ne[0] is the row length
    ggml_type: str
    type_id: int
    offset: int  # from the start of the data section, as stored
    data_offset: int  # from the start of the file
    n_bytes: int

    @property
    def n_elements(self) -> int:
        return math.prod(self.ne)


@dataclass(frozen=True)
class GGUFHeader:
    version: int
    byte_order: str  # "little" or "big"
    metadata: dict  # key -> int, float, bool, str, tuple, or Skipped
    value_types: dict  # key -> "uint32", "string", "array[float32]", ...
    tensors: tuple  # GGUFTensor, in file order
    alignment: int
    header_end: int  # end of the tensor infos
    data_offset: int  # start of the tensor data (header_end padded to the alignment)
    file_size: int

    def tensor(self, name: str):
        """The tensor of that name, or None."""
        return next((t for t in self.tensors if t.name == name), None)


# ---------------------------------------------------------------- the byte cursor

class _Cursor:
    """Reads the header front to back through a reader, in chunks, never past the header limit."""

    FIRST_CHUNK, MAX_CHUNK = 64 << 10, 4 << 20  # chunks double: few reads, little read past the header

    def __init__(self, reader, limit: int):
        self.reader, self.limit = reader, limit
        self.chunk = self.FIRST_CHUNK
        self.file_size = reader.size
        self.pos = 0
        self.buf, self.buf_start = b"", 0
        self.bo = "<"

    def check_span(self, n: int, what: str) -> None:
        """`n` more bytes from here must fit in the header limit and in the file."""
        end = self.pos + n
        if end > self.limit:
            raise ModelFileError(f"{what} at byte {self.pos:,} declares {n:,} bytes: the header would pass "
                                 f"{self.limit >> 20} MiB, more than any real GGUF header")
        if end > self.file_size:
            raise ModelFileError(f"{what} at byte {self.pos:,} declares {n:,} bytes, past the end of the "
                                 f"file ({self.file_size:,} bytes): the file is truncated or corrupt")

    def _fill(self, n: int) -> int:
        """Make [pos, pos + n) readable in the buffer; return pos's index into it."""
        i = self.pos - self.buf_start
        if 0 <= i and i + n <= len(self.buf):
            return i
        end = min(self.pos + max(n, self.chunk), self.reader.available, self.limit)
        end = max(end, self.pos + n)  # the reader raises if even the bytes needed are not there
        self.buf, self.buf_start = self.reader.read(self.pos, end - self.pos), self.pos
        self.chunk = min(2 * self.chunk, self.MAX_CHUNK)
        return 0

    def take(self, n: int, what: str) -> bytes:
        self.check_span(n, what)
        i = self._fill(n)
        self.pos += n
        return self.buf[i:i + n]

    def unpack(self, code: str, size: int, what: str):
        self.check_span(size, what)
        i = self._fill(size)
        self.pos += size
        return struct.unpack_from(self.bo + code, self.buf, i)[0]

    def unpack_many(self, code: str, size: int, count: int, what: str) -> tuple:
        self.check_span(size * count, what)
        i = self._fill(size * count)
        self.pos += size * count
        return struct.unpack_from(f"{self.bo}{count}{code}", self.buf, i)

    def skip(self, n: int, what: str) -> None:
        self.check_span(n, what)
        self.pos += n

    def u32(self, what: str) -> int:
        return self.unpack("I", 4, what)

    def u64(self, what: str) -> int:
        return self.unpack("Q", 8, what)

    def string(self, what: str, max_len: int) -> str:
        n = self.u64(what)
        if n > max_len:
            raise ModelFileError(f"{what} at byte {self.pos - 8:,} is {n:,} bytes long (at most {max_len:,} allowed)")
        return _utf8(self.take(n, what), what)

    def skip_strings(self, count: int, what: str) -> None:
        """Skip `count` strings, reading only their lengths (the hot loop of a 150k-token vocabulary)."""
        code = self.bo + "Q"
        for _ in range(count):
            i = self.pos - self.buf_start
            if not (0 <= i and i + 8 <= len(self.buf)):
                self.check_span(8, what)
                i = self._fill(8)
            (n,) = struct.unpack_from(code, self.buf, i)
            self.pos += 8
            if self.pos + n > self.limit or self.pos + n > self.file_size:
                self.check_span(n, what)  # raises, naming the string that runs over
            self.pos += n


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ModelFileError(f"{what} is not valid UTF-8 (byte {e.start} of the string)") from None


# ---------------------------------------------------------------- the header

def read_gguf_header(reader, max_header_bytes: int = MAX_HEADER_BYTES) -> GGUFHeader:
    """Parse a GGUF header through a byte reader. Raises ModelFileError for anything malformed,
    and NeedMoreBytes (from a BytesReader prefix) when the header runs past the bytes given."""
    c = _Cursor(reader, max_header_bytes)
    if reader.size < 4 or c.take(4, "magic") != MAGIC:
        raise ModelFileError("not a GGUF file: it does not start with the bytes 'GGUF'")
    raw = c.take(4, "version")
    little, big = struct.unpack("<I", raw)[0], struct.unpack(">I", raw)[0]
    if little in VERSIONS:
        version, c.bo = little, "<"
    elif big in VERSIONS:
        version, c.bo = big, ">"
    elif little == 1:
        raise ModelFileError("GGUF version 1 is not supported: convert the model again with a current llama.cpp")
    else:
        raise ModelFileError(f"unsupported GGUF version {little} (pycore reads versions 2 and 3)")
    n_tensors = c.u64("tensor count")
    n_kv = c.u64("key/value count")
    for count, what in ((n_tensors, "tensor count"), (n_kv, "key/value count")):
        if count > MAX_COUNT:
            raise ModelFileError(f"{what} {count:,} is beyond any real model (at most {MAX_COUNT:,})")
    # the smallest key/value is 13 bytes (empty key, uint8), the smallest tensor info 24 (empty name, 0 dims)
    need = n_kv * 13 + n_tensors * 24
    if c.pos + need > min(c.limit, c.file_size):
        past = (f"the {c.limit >> 20} MiB any real GGUF header stays within" if c.pos + need > c.limit
                else f"the end of the file ({c.file_size:,} bytes): the file is truncated or corrupt")
        raise ModelFileError(f"{n_kv:,} key/value{'s' * (n_kv != 1)} and {n_tensors:,} tensor "
                             f"info{'s' * (n_tensors != 1)} need at least {need:,} bytes "
                             f"after byte {c.pos:,}, past {past}")

    metadata, value_types = {}, {}
    for _ in range(n_kv):
        key = c.string("metadata key", MAX_KEY_BYTES)
        if key in metadata:
            raise ModelFileError(f"metadata key {quote(key)} appears twice")
        vtype = c.u32(f"type of {quote(key)}")
        metadata[key], value_types[key] = _read_value(c, key, vtype)

    alignment = DEFAULT_ALIGNMENT
    if "general.alignment" in metadata:
        alignment = metadata["general.alignment"]
        if value_types["general.alignment"] != "uint32" or alignment <= 0 or alignment & (alignment - 1):
            raise ModelFileError("general.alignment must be a power of two stored as uint32, "
                                 f"got {quote(str(alignment))}")

    infos, names = [], set()
    for _ in range(n_tensors):
        name = c.string("tensor name", MAX_NAME_BYTES)
        if name in names:
            raise ModelFileError(f"tensor {quote(name)} appears twice")
        names.add(name)
        n_dims = c.u32(f"dimension count of {quote(name)}")
        if n_dims > MAX_DIMS:
            raise ModelFileError(f"tensor {quote(name)} has {n_dims} dimensions (ggml allows at most {MAX_DIMS})")
        ne = c.unpack_many("Q", 8, n_dims, f"dimensions of {quote(name)}")
        type_id = c.u32(f"type of {quote(name)}")
        offset = c.u64(f"offset of {quote(name)}")
        infos.append((name, ne, type_id, offset))
    header_end = c.pos
    data_offset = -(-header_end // alignment) * alignment
    tensors = tuple(_tensor(name, ne, type_id, offset, alignment, data_offset, reader.size)
                    for name, ne, type_id, offset in infos)
    _check_no_overlap(tensors)
    return GGUFHeader(version, "little" if c.bo == "<" else "big", metadata, value_types, tensors, alignment,
                      header_end, data_offset, reader.size)


def _read_value(c, key, vtype, depth=0):
    """One metadata value and its type name. Recursion is bounded by MAX_ARRAY_DEPTH."""
    what = f"value of {quote(key)}"
    if vtype in _SCALARS:
        name, code, size = _SCALARS[vtype]
        return c.unpack(code, size, what), name
    if vtype == _STRING:
        n = c.u64(what)
        if n > MAX_KEPT_STRING:
            c.skip(n, what)
            return Skipped("string", n), "string"
        return _utf8(c.take(n, what), what), "string"
    if vtype != _ARRAY:
        raise ModelFileError(f"{what} has unknown GGUF value type {vtype}")
    item = c.u32(f"element type of {quote(key)}")
    count = c.u64(f"length of {quote(key)}")
    if item not in _TYPE_NAMES:
        raise ModelFileError(f"{what}: array of unknown GGUF value type {item}")
    type_name = f"array[{_TYPE_NAMES[item]}]"
    c.check_span(count * _MIN_SIZE[item], what)
    if item == _ARRAY:
        if depth + 1 >= MAX_ARRAY_DEPTH:
            raise ModelFileError(f"{what}: arrays nested more than {MAX_ARRAY_DEPTH} deep")
        for _ in range(count):  # nested arrays are never needed: validate and skip them
            _read_value(c, key, _ARRAY, depth + 1)
        return Skipped("array", count), type_name
    keep = count <= MAX_KEPT_ARRAY and not key.startswith("tokenizer.")
    if item == _STRING:
        if not keep:
            c.skip_strings(count, what)
            return Skipped("string", count), type_name
        return tuple(c.string(what, MAX_KEPT_STRING) for _ in range(count)), type_name
    name, code, size = _SCALARS[item]
    if not keep:
        c.skip(count * size, what)
        return Skipped(name, count), type_name
    return c.unpack_many(code, size, count, what), type_name


def _tensor(name, ne, type_id, offset, alignment, data_offset, file_size) -> GGUFTensor:
    t = GGML_TYPES_BY_ID.get(type_id)
    if t is None:
        raise ModelFileError(f"tensor {quote(name)} has ggml type id {type_id}, which pycore does not know "
                             "(a newer llama.cpp type, or a corrupt file)")
    n = 1
    for d in ne:
        if d > _INT64_MAX:
            raise ModelFileError(f"tensor {quote(name)} has a dimension of {d:,}")
        n *= d
    if n > _INT64_MAX:
        raise ModelFileError(f"tensor {quote(name)} has {n:,} elements, more than ggml can address")
    if ne and ne[0] % t.block_size:
        raise ModelFileError(f"tensor {quote(name)}: rows of {ne[0]} values are not whole {t.name} "
                             f"blocks of {t.block_size}")
    if offset % alignment:
        raise ModelFileError(f"tensor {quote(name)}: offset {offset:,} is not a multiple of the alignment {alignment}")
    n_bytes = t.tensor_bytes(tuple(ne)) if ne else t.type_size
    end = data_offset + offset + n_bytes
    if end > file_size:
        raise ModelFileError(f"tensor {quote(name)} ends at byte {end:,}, past the end of the file "
                             f"({file_size:,} bytes): the file is truncated")
    return GGUFTensor(name, tuple(ne), t.name, type_id, offset, data_offset + offset, n_bytes)


def _check_no_overlap(tensors):
    end, last = 0, None
    for t in sorted(tensors, key=lambda t: t.offset):
        if t.offset < end:
            raise ModelFileError(f"tensors {quote(last)} and {quote(t.name)} overlap in the file")
        if t.n_bytes:
            end, last = t.offset + t.n_bytes, t.name


# ---------------------------------------------------------------- the model it describes

# llama.cpp's LlamaFileType (gguf-py/gguf/constants.py): what general.file_type says the file is.
FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE", 39: "NVFP4", 40: "Q1_0", 1024: "guessed",
}

# GGUF architecture -> ModelSpec.arch, where the two differ (vision-language variants whose text
# model is the base family). The families pycore knows use GGUF's names already.
_ARCH_ALIASES = {"qwen2vl": "qwen2", "qwen3vl": "qwen3", "qwen3vlmoe": "qwen3moe", "mistral3": "llama"}
_KNOWN_ARCHS = {"llama", "qwen2", "qwen2moe", "qwen3", "qwen3moe", "gemma", "gemma2", "gemma3", "phi3",
                "deepseek2", "gpt-oss", "gptneox", "falcon", "starcoder2", "command-r",
                # hybrids: their layer kinds are read from the tensors, their state sizes from {arch}.ssm.* /
                # {arch}.shortconv.* (src/llama-arch.cpp LLM_KV_SSM_*, LLM_KV_SHORTCONV_L_CACHE)
                "qwen3next", "qwen35", "qwen35moe", "jamba", "mamba", "mamba2", "nemotron_h", "nemotron_h_moe",
                "granitehybrid", "falcon-h1", "lfm2", "lfm2moe", "kimi-linear"}
# Architectures whose layers keep a cache pycore does not model: refused by name rather than read as a standard
# decoder (src/llama-arch.cpp LLM_ARCH_DEEPSEEK4 "deepseek4")
_UNMODELLED_ARCHS = {"deepseek4": "DeepSeek V4's compressed sparse and heavily compressed attentions are not "
                                  "modelled, so its KV cache cannot be counted here"}
# Layers of sliding-window attention when the file gives a window but no pattern: llama.cpp sets
# these per architecture in src/llama-model.cpp (hparams.set_swa_pattern(n): layer i slides unless
# i % n == n - 1).
_SWA_PERIOD = {"gemma2": 2, "gemma3": 6, "gpt-oss": 2, "cohere2": 4}
# ModelSpec's field names in its errors -> the GGUF key (after "{arch}.") that set them
_SPEC_FIELD_KEYS = {"num_key_value_heads": "attention.head_count_kv", "num_experts_per_tok": "expert_used_count",
                    "moe_intermediate_size": "expert_feed_forward_length", "intermediate_size": "feed_forward_length",
                    "first_k_dense_replace": "leading_dense_block_count", "hidden_size": "embedding_length",
                    "num_heads": "attention.head_count", "num_layers": "block_count",
                    "head_dim": "attention.key_length",
                    "max_context": "context_length", "sliding_window": "attention.sliding_window",
                    "qk_rope_head_dim": "rope.dimension_count", "qk_nope_head_dim": "attention.key_length_mla",
                    "v_head_dim": "attention.value_length_mla", "num_kv_heads": "attention.head_count_kv"}
_ARCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_BUFFERS = {"rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"}  # llama.cpp RoPE tables
_LAYER_NORMS = ("attn_norm", "attn_norm_2", "ffn_norm", "post_attention_norm", "post_ffw_norm")


@dataclass(frozen=True)
class Figure:
    """One architecture figure and where it came from: read from the file, or derived."""

    name: str
    value: object
    source: str
    exact: bool  # True: stated by the file (a key or a tensor shape); False: derived or defaulted


@dataclass(frozen=True)
class GGUFImport:
    spec: ModelSpec
    header: GGUFHeader
    name: str  # general.name, or the file name
    architecture: str  # general.architecture as written
    file_type: str  # general.file_type as a preset name ("Q4_K_M"), "" when absent
    quant_mix: tuple  # (ggml type, tensors, elements, bytes), most bytes first
    tensor_bytes: int  # sum of all tensors' bytes: the weights exactly
    tensor_elements: int  # sum of all tensors' elements: the parameter count exactly
    figures: tuple  # Figure
    notes: tuple = ()
    bytes_read: int = 0


def import_gguf(reader, *more_shards, file_name: str = "") -> GGUFImport:
    """Read a GGUF file's header (and the other parts of a split file) and build its ModelSpec."""
    header = read_gguf_header(reader)
    shards = tuple(read_gguf_header(r) for r in more_shards)
    imp = spec_from_gguf(header, file_name or file_name_of(reader), shards)
    return replace(imp, bytes_read=sum(getattr(r, "bytes_read", 0) for r in (reader, *more_shards)))


def spec_from_gguf(header: GGUFHeader, file_name: str = "", shards: tuple = ()) -> GGUFImport:
    """The architecture of a parsed header as a ModelSpec carrying the file's exact tensors."""
    tensors = header.tensors + tuple(t for s in shards for t in s.tensors)
    _check_split(header, shards, tensors)
    if not tensors:
        raise ModelFileError("the file has no tensors (a vocabulary-only GGUF?): nothing to size")
    b = _SpecBuilder(header, {t.name: t for t in tensors})
    try:
        spec = b.build(file_name, tensors, header.file_size + sum(s.file_size for s in shards))
    except ModelFileError:
        raise
    except InputError as e:  # the file's figures break a ModelSpec rule (more KV heads than heads, ...)
        key = _SPEC_FIELD_KEYS.get(e.field)
        raise ModelFileError(f"{b.key(key) if key else e.field}: {e.message}") from None

    mix = {}
    for t in tensors:
        count, elements, size = mix.get(t.ggml_type, (0, 0, 0))
        mix[t.ggml_type] = (count + 1, elements + t.n_elements, size + t.n_bytes)
    quant_mix = tuple(sorted(((k, *v) for k, v in mix.items()), key=lambda r: (-r[3], r[0])))
    total_bytes = sum(t.n_bytes for t in tensors)
    total_elements = sum(t.n_elements for t in tensors)

    derived = parameter_count(spec).total
    buffers = [t for t in tensors if t.name in _BUFFERS]
    in_weights = total_elements - sum(t.n_elements for t in buffers)
    if derived == in_weights:
        b.note(f"the architecture accounts for every one of the file's {in_weights:,} parameters")
    else:
        b.note(f"the architecture gives {derived:,} parameters, the file's tensors hold {in_weights:,} "
               f"({derived - in_weights:+,}): weights use the file's tensors exactly; parameter counts, "
               "activations and the KV cache use the architecture")
    if buffers:
        b.note(f"{', '.join(t.name for t in buffers)}: RoPE tables, not parameters, but in the weights' bytes")
    spec = replace(spec, notes=tuple(b.notes))
    file_type = header.metadata.get("general.file_type")
    file_type = FILE_TYPES.get(file_type, f"type {file_type}") if type(file_type) is int else ""
    return GGUFImport(spec, header, spec.name, b.arch, file_type, quant_mix, total_bytes, total_elements,
                      tuple(b.figures), tuple(b.notes))


def _check_split(header, shards, tensors):
    part = header.metadata.get("split.no", 0)
    count = header.metadata.get("split.count", 1)
    if isinstance(part, int) and part > 0:
        raise ModelFileError(f"this is part {part + 1} of a split GGUF: choose its first part (and the others)")
    if not isinstance(count, int) or count <= 1:
        if shards:
            raise ModelFileError("extra files were given, but the first file is not part of a split GGUF")
        return
    expected = header.metadata.get("split.tensors.count")
    if len(shards) + 1 != count:
        raise ModelFileError(f"this GGUF is split into {count} files: choose all {count} of them "
                             f"(got {len(shards) + 1})")
    names = set()
    for t in tensors:
        if t.name in names:
            raise ModelFileError(f"tensor {quote(t.name)} is in more than one part of the split file")
        names.add(t.name)
    if isinstance(expected, int) and expected != len(tensors):
        raise ModelFileError(f"the split file declares {expected:,} tensors, its parts hold {len(tensors):,}")


class _SpecBuilder:
    """Reads `{arch}.*` keys and the tensor shapes into ModelSpec fields, noting each figure's source."""

    def __init__(self, header, tensors):
        self.meta, self.tensors, self.version = header.metadata, tensors, header.version
        self.figures, self.notes = [], []
        arch = self.meta.get("general.architecture")
        if not isinstance(arch, str) or not arch:
            raise ModelFileError("general.architecture is missing: the file does not say what model it holds")
        if not _ARCH_NAME.fullmatch(arch):
            raise ModelFileError(f"general.architecture {quote(arch)} is not an architecture name")
        if arch == "clip":
            raise ModelFileError("this is a vision projector (mmproj) file, not a language model: "
                                 "choose the model's main .gguf")
        self.arch = arch

    def note(self, text):
        self.notes.append(text)

    def fig(self, name, value, source, exact=True):
        self.figures.append(Figure(name, value, source, exact))
        return value

    # -- metadata access

    def key(self, suffix):
        return f"{self.arch}.{suffix}"

    def int_key(self, suffix, required=False, default=0):
        key = self.key(suffix)
        value = self.meta.get(key)
        if value is None:
            if required:
                raise ModelFileError(f"{key} is missing: the estimate needs it")
            return default
        return _whole(key, value)

    def per_layer(self, suffix, n_layers, required=False):
        """A key that is one number or one number per layer (llama.cpp's get_key_or_arr)."""
        key = self.key(suffix)
        value = self.meta.get(key)
        if value is None:
            if required:
                raise ModelFileError(f"{key} is missing: the estimate needs it")
            return None
        if isinstance(value, tuple):
            if len(value) != n_layers:
                raise ModelFileError(f"{key} has {len(value)} entries for {n_layers} layers")
            return tuple(_whole(key, v) for v in value)
        if isinstance(value, Skipped):
            raise ModelFileError(f"{key} has {value.count:,} entries for {n_layers} layers")
        return (_whole(key, value),) * n_layers

    def ne(self, name):
        t = self.tensors.get(name)
        return t.ne if t else None

    def has(self, name):
        return name in self.tensors

    # -- the spec

    def build(self, file_name, tensors, file_size) -> ModelSpec:
        L = self.fig("num_layers", self.int_key("block_count", True), self.key("block_count"))
        if not 0 < L <= MAX_LAYERS:
            raise ModelFileError(f"{self.key('block_count')} is {L}: llama.cpp loads 1 to {MAX_LAYERS} layers")
        _check_layer_numbers(tensors, L, self.key("block_count"))
        H = self.fig("hidden_size", self.int_key("embedding_length", True), self.key("embedding_length"))
        ctx = self.fig("max_context", self.int_key("context_length", True), self.key("context_length"))
        fields = dict(arch=_ARCH_ALIASES.get(self.arch, self.arch), hidden_size=H, num_layers=L, max_context=ctx)
        if self.arch in _UNMODELLED_ARCHS:
            raise ModelFileError(f"architecture {quote(self.arch)}: {_UNMODELLED_ARCHS[self.arch]}")
        if self.arch not in _KNOWN_ARCHS and self.arch not in _ARCH_ALIASES:
            self.note(f"architecture {quote(self.arch)} is not one pycore knows: read as a standard decoder "
                      "from its metadata; the weights are still exact from the file's tensors")

        fields["vocab_size"] = self._vocab()
        self._moe(L, fields)
        if all(self._mixer(i) not in (None, NO_MIXER, PARALLEL_HYBRID) for i in range(L)):
            # a recurrent model (Mamba, Mamba-2): every block is a state mixer, the converter writes head_count 0
            # (convert_hf_to_gguf.py MambaModel: "unused, but seemingly required when loading"); no KV cache
            # placeholders that size nothing: one head of 256 values (whole blocks of every cache type)
            fields.update(num_heads=1, num_kv_heads=1, head_dim=256)
            self.note("no attention layer (a recurrent model): no KV cache; the compute buffer is modelled on an "
                      "attention block and leaves out the scan's own intermediates")
        else:
            heads = self._heads(L)
            fields["num_heads"] = heads
            self._attention(L, H, heads, fields)
        self._ffn(L, fields)
        self._layout(fields)
        self._sliding(L, ctx, fields)
        self._layer_kinds(L, fields)

        name = self.meta.get("general.name")
        name = name if isinstance(name, str) and name.strip() else (file_name or self.arch)
        file_tensors = tuple((t.name, t.ne, t.ggml_type, t.n_bytes) for t in tensors)
        fields.update(
            name=name[:200],
            source=f"GGUF v{self.version} header" + (f" of {file_name}" if file_name else ""),
            notes=tuple(self.notes),
            file_tensors=file_tensors,
            file_id=file_id(file_name or name[:80], file_size, file_tensors), file_kind="gguf",
        )
        return ModelSpec(**fields)

    def _vocab(self):
        ne = self.ne("token_embd.weight")
        if ne and len(ne) == 2:
            return self.fig("vocab_size", ne[1], "token_embd.weight shape")
        if self.key("vocab_size") in self.meta:
            return self.fig("vocab_size", self.int_key("vocab_size"), self.key("vocab_size"))
        tokens = self.meta.get("tokenizer.ggml.tokens")
        if isinstance(tokens, (Skipped, tuple)):
            n = tokens.count if isinstance(tokens, Skipped) else len(tokens)
            return self.fig("vocab_size", n, "tokenizer.ggml.tokens length")
        raise ModelFileError("no token_embd.weight tensor and no vocabulary size in the metadata")

    def _heads(self, L):
        heads = self.per_layer("attention.head_count", L, True)
        top = max(heads)
        if len(set(heads)) > 1:
            self.note(f"attention heads vary by layer ({min(heads)}–{top}): the estimate uses {top} for every layer")
        return self.fig("num_heads", top, self.key("attention.head_count"))

    def _attention(self, L, H, heads, fields):
        rank = self.int_key("attention.kv_lora_rank")
        if rank or self.has("blk.0.attn_kv_a_mqa.weight"):
            return self._mla(heads, rank, fields)
        kv = self.per_layer("attention.head_count_kv", L) or (heads,) * L
        real = [k for k in kv if k]
        if not real:
            raise ModelFileError(f"{self.key('attention.head_count_kv')} is 0 for every layer: no attention to size")
        if len(real) < L and not self._recurrent_layers(L):
            self.note(f"{L - len(real)} of {L} layers keep no KV cache by the metadata, yet hold attention "
                      "tensors; the estimate counts every layer as attention, so its KV cache is an upper bound")
        if len(set(real)) > 1:
            self.note(f"KV heads vary by layer ({min(real)}–{max(real)}): the estimate uses {max(real)}, an upper bound")
        stated = self.key("attention.head_count_kv") in self.meta
        fields["num_kv_heads"] = self.fig("num_kv_heads", max(real), self.key("attention.head_count_kv")
                                          if stated else "none given: one per attention head", stated)
        k_len = self.int_key("attention.key_length")
        v_len = self.int_key("attention.value_length")
        if k_len:
            fields["head_dim"] = self.fig("head_dim", k_len, self.key("attention.key_length"))
        elif H % heads == 0:
            fields["head_dim"] = self.fig("head_dim", H // heads, "embedding_length / head_count", False)
        else:
            raise ModelFileError(f"{self.key('attention.key_length')} is missing and the embedding length "
                                 f"{H} does not divide into {heads} heads")
        if v_len and v_len != fields["head_dim"]:
            self.note(f"values are {v_len} wide and keys {fields['head_dim']}: the KV cache counts both at "
                      f"{fields['head_dim']}")

    def _mla(self, heads, rank, fields):
        """DeepSeek MLA. Since llama.cpp #12801 the converter writes it as MQA over the latent:
        key_length = kv_lora_rank + rope dims, value_length = kv_lora_rank, head_count_kv = 1, and the
        per-head sizes in key_length_mla / value_length_mla. Older files wrote the per-head sizes in
        key_length / value_length; failing both, the tensor shapes give them."""
        rope = self.int_key("rope.dimension_count")
        if not rank:
            ne = self.ne("blk.0.attn_kv_a_norm.weight")
            rank = ne[0] if ne else 0
        if not rank or not rope:
            raise ModelFileError(f"MLA attention needs {self.key('attention.kv_lora_rank')} and "
                                 f"{self.key('rope.dimension_count')}")
        self.fig("kv_lora_rank", rank, self.key("attention.kv_lora_rank"))
        self.fig("qk_rope_head_dim", rope, self.key("rope.dimension_count"))
        k_mla, v_mla = self.int_key("attention.key_length_mla"), self.int_key("attention.value_length_mla")
        k_len, v_len = self.int_key("attention.key_length"), self.int_key("attention.value_length")
        if k_mla and v_mla:
            qk, v, src = k_mla, v_mla, "attention.key_length_mla / value_length_mla"
        elif k_len and v_len and k_len != rank + rope:
            qk, v, src = k_len, v_len, "attention.key_length / value_length (converter before llama.cpp #12801)"
        else:
            qk, v, src = self._mla_dims_from_tensors(heads, rope)
        if qk <= rope:
            raise ModelFileError(f"MLA key length {qk} is not larger than its {rope} RoPE dimensions")
        fields.update(kv_lora_rank=rank, qk_rope_head_dim=rope, qk_nope_head_dim=qk - rope, v_head_dim=v,
                      q_lora_rank=self.int_key("attention.q_lora_rank"), head_dim=qk, num_kv_heads=heads)
        self.fig("qk_nope_head_dim", qk - rope, src, not src.startswith("tensor"))
        self.fig("v_head_dim", v, src, not src.startswith("tensor"))
        if fields["q_lora_rank"]:
            self.fig("q_lora_rank", fields["q_lora_rank"], self.key("attention.q_lora_rank"))

    def _mla_dims_from_tensors(self, heads, rope):
        k_b, v_b = self.ne("blk.0.attn_k_b.weight"), self.ne("blk.0.attn_v_b.weight")
        if k_b and v_b and len(k_b) == 3 and len(v_b) == 3:
            return k_b[0] + rope, v_b[1], "tensor shapes attn_k_b / attn_v_b"
        q = self.ne("blk.0.attn_q_b.weight") or self.ne("blk.0.attn_q.weight")
        out = self.ne("blk.0.attn_output.weight")
        if q and out and len(q) == 2 and len(out) == 2 and q[1] % heads == 0 and out[0] % heads == 0:
            return q[1] // heads, out[0] // heads, "tensor shapes attn_q / attn_output"
        raise ModelFileError(f"MLA head sizes: {self.key('attention.key_length_mla')} is missing and the "
                             "tensors do not give them")

    def _moe(self, L, fields):
        experts = self.int_key("expert_count")
        if not experts:
            return
        fields["num_experts"] = self.fig("num_experts", experts, self.key("expert_count"))
        fields["experts_per_token"] = self.fig("experts_per_token", self.int_key("expert_used_count", True),
                                               self.key("expert_used_count"))
        dense = self.int_key("leading_dense_block_count")
        fields["first_dense_layers"] = self.fig("first_dense_layers", dense, self.key("leading_dense_block_count"),
                                                self.key("leading_dense_block_count") in self.meta)
        m = f"blk.{min(dense, L - 1)}."
        up = self.ne(m + "ffn_up_exps.weight")
        if self.key("expert_feed_forward_length") in self.meta:
            width = self.fig("expert_intermediate_size", self.int_key("expert_feed_forward_length"),
                             self.key("expert_feed_forward_length"))
        elif up and len(up) == 3:
            width = self.fig("expert_intermediate_size", up[1], "ffn_up_exps.weight shape")
        else:  # Mixtral converted as llama: feed_forward_length is the expert width
            width = self.fig("expert_intermediate_size", self.int_key("feed_forward_length", True),
                             self.key("feed_forward_length"))
        fields["expert_intermediate_size"] = width
        shexp = self.ne(m + "ffn_up_shexp.weight")
        if shexp and len(shexp) == 2:
            fields["shared_expert_intermediate_size"] = self.fig("shared_expert_intermediate_size", shexp[1],
                                                                 "ffn_up_shexp.weight shape")
        elif self.key("expert_shared_feed_forward_length") in self.meta:
            fields["shared_expert_intermediate_size"] = self.fig(
                "shared_expert_intermediate_size", self.int_key("expert_shared_feed_forward_length"),
                self.key("expert_shared_feed_forward_length"))
        elif self.int_key("expert_shared_count"):
            fields["shared_expert_intermediate_size"] = self.fig(
                "shared_expert_intermediate_size", self.int_key("expert_shared_count") * width,
                "expert_shared_count × expert_feed_forward_length", False)
        if not up and not self.has(m + "ffn_gate_exps.weight") and self.has(m + "ffn_gate.0.weight"):
            self.note("experts are stored one tensor each (an old Mixtral GGUF): weights are exact, the "
                      "architecture's tensor list differs")

    def _ffn(self, L, fields):
        widths = self.per_layer("feed_forward_length", L)
        dense_layers = fields.get("first_dense_layers", 0) if fields.get("num_experts") else L
        if not dense_layers:
            fields["intermediate_size"] = 0
            return
        if widths is None:
            ne = self.ne("blk.0.ffn_down.weight")
            if not ne or len(ne) != 2:
                raise ModelFileError(f"{self.key('feed_forward_length')} is missing: the FFN width is needed")
            fields["intermediate_size"] = self.fig("intermediate_size", ne[0], "ffn_down.weight shape")
            return
        widths = widths[:dense_layers]
        top = max(widths)
        # 0 marks a block without an FFN (Nemotron-H's Mamba-2 and attention blocks), not a narrower one
        if len(set(w for w in widths if w)) > 1:
            self.note(f"FFN width varies by layer ({min(widths)}–{top}): activations use {top}; "
                      "weights are exact from the file")
        fields["intermediate_size"] = self.fig("intermediate_size", top, self.key("feed_forward_length"))

    def _layout(self, fields):
        """How the blocks are built, read from which tensors block 0 (and the first MoE block) holds."""
        b0 = "blk.0."
        has = self.has
        # Falcon-H1 names its pre-FFN norm without the suffix (src/models/falcon-h1.cpp tn(LLM_TENSOR_FFN_NORM, i))
        norms = sum(has(f"{b0}{n}.weight") or has(b0 + n) for n in _LAYER_NORMS)
        fields["norms_per_layer"] = 4 if norms >= 4 else (1 if norms == 1 else 2)
        fields["fused_qkv"] = has(b0 + "attn_qkv.weight")
        fields["qkv_bias"] = has(b0 + "attn_q.bias") or has(b0 + "attn_qkv.bias")
        fields["o_bias"] = has(b0 + "attn_output.bias")
        fields["norm_bias"] = has(b0 + "attn_norm.bias")
        fields["qk_norm"] = has(b0 + "attn_q_norm.weight") and not fields.get("kv_lora_rank")
        fields["attention_sinks"] = has(b0 + "attn_sinks.weight")
        width = fields.get("intermediate_size", 0)
        if width:
            d = "blk.0."
            up = self.ne(d + "ffn_up.weight")
            fused = not has(d + "ffn_gate.weight") and bool(up) and len(up) == 2 and up[1] == 2 * width
            fields["fused_gate_up"] = fused
            fields["gated_mlp"] = has(d + "ffn_gate.weight") or fused
            fields["mlp_bias"] = has(d + "ffn_up.bias") or has(d + "ffn_down.bias")
        if fields.get("num_experts"):
            m = f"blk.{min(fields.get('first_dense_layers', 0), fields['num_layers'] - 1)}."
            if not width:
                fields["gated_mlp"] = has(m + "ffn_gate_exps.weight") or not has(m + "ffn_up_exps.weight")
            fields["router_bias"] = has(m + "ffn_gate_inp.bias")
            fields["expert_bias"] = has(m + "ffn_up_exps.bias") or has(m + "ffn_down_exps.bias")
            fields["expert_score_bias"] = has(m + "exp_probs_b.bias")
            fields["shared_expert_gate"] = has(m + "ffn_gate_inp_shexp.weight")
        tied = not has("output.weight")
        fields["tie_embeddings"] = self.fig("tie_embeddings", tied, "no output.weight tensor" if tied
                                            else "output.weight tensor present")
        pos = self.ne("position_embd.weight")
        if pos and len(pos) == 2:
            fields["learned_positions"] = self.fig("learned_positions", pos[1], "position_embd.weight shape")
        self.fig("block layout", "from tensors", "names of block 0's tensors (biases, norms, fused projections)")

    def _sliding(self, L, ctx, fields):
        window = self.int_key("attention.sliding_window")
        if not window:
            return
        pattern = self.meta.get(self.key("attention.sliding_window_pattern"))
        if isinstance(pattern, tuple):
            if len(pattern) != L:
                raise ModelFileError(f"{self.key('attention.sliding_window_pattern')} has {len(pattern)} "
                                     f"entries for {L} layers")
            types, src = tuple(SLIDING if p else FULL for p in pattern), "attention.sliding_window_pattern (per layer)"
        else:
            if pattern is not None:
                period, src = _whole(self.key("attention.sliding_window_pattern"), pattern), \
                    "attention.sliding_window_pattern"
            elif self.arch in _SWA_PERIOD:
                period, src = _SWA_PERIOD[self.arch], f"llama.cpp's fixed pattern for {self.arch}"
            else:
                period, src = 0, "every layer (no pattern in the file)"
            # llama_hparams::set_swa_pattern: 0 = every layer slides, n = all but every n-th
            types = tuple(SLIDING if period == 0 or i % period < period - 1 else FULL for i in range(L))
        self.fig("sliding_window", window, self.key("attention.sliding_window"))
        self.fig("layer_types", f"{types.count(SLIDING)} of {L} layers sliding", src,
                 src.startswith("attention."))
        if SLIDING in types and window < ctx:
            fields.update(layer_types=types, sliding_window=window)


    # -- layers that are not attention (hybrids): kinds from the tensors, sizes from the metadata

    def _mixer(self, i):
        """The kind of layer i's mixer, from the tensors it holds (llama.cpp's GGUF names,
        gguf-py/gguf/constants.py): None for attention, else a recurrent/convolution kind or NO_MIXER."""
        b, has = f"blk.{i}.", self.has
        if has(b + "shortconv.conv.weight"):
            return SHORT_CONV
        if has(b + "ssm_conv1d_q.weight"):  # Kimi Delta Attention: q/k/v projections and one conv each
            return KDA
        attention = has(b + "attn_q.weight") or has(b + "attn_k.weight") or has(b + "attn_kv_a_mqa.weight")
        if has(b + "ssm_conv1d.weight") or has(b + "ssm_in.weight"):
            if has(b + "ssm_x.weight"):
                return MAMBA
            if has(b + "ssm_ba.weight") or has(b + "ssm_beta.weight") or has(b + "ssm_alpha.weight"):
                return GATED_DELTANET
            return PARALLEL_HYBRID if attention else MAMBA2
        if attention or has(b + "attn_qkv.weight"):
            return None
        return NO_MIXER

    def _recurrent_layers(self, L):
        return [i for i in range(L) if self._mixer(i) is not None]

    def _layer_kinds(self, L, fields):
        mixers = [self._mixer(i) for i in range(L)]
        ffns = []
        for i in range(L):
            b = f"blk.{i}."
            ffns.append(MOE if self.has(b + "ffn_gate_inp.weight") else
                        DENSE if self.has(b + "ffn_down.weight") or self.has(b + "ffn_up.weight") else NO_FFN)
        if all(m is None for m in mixers):
            return
        sliding = fields.get("layer_types") or (FULL,) * L
        fields["layer_types"] = tuple(sliding[i] if m is None else m for i, m in enumerate(mixers))
        self.fig("layer_types", ", ".join(f"{fields['layer_types'].count(k)} {k}" for k in dict.fromkeys(fields["layer_types"])),
                 "the tensors of each block")
        expected = [MOE if fields.get("num_experts") and i >= fields.get("first_dense_layers", 0) else DENSE
                    for i in range(L)]
        if ffns != expected:
            fields["ffn_types"] = tuple(ffns)
            if DENSE in ffns and not fields.get("intermediate_size"):
                ne = self.ne(f"blk.{ffns.index(DENSE)}.ffn_down.weight")
                if not ne or len(ne) != 2:
                    raise ModelFileError(f"{self.key('feed_forward_length')} is missing: the FFN width is needed")
                fields["intermediate_size"] = self.fig("intermediate_size", ne[0], "ffn_down.weight shape")
        kinds = set(mixers)
        first = {k: mixers.index(k) for k in kinds if k}
        if kinds & {MAMBA, MAMBA2, PARALLEL_HYBRID}:
            i = first.get(MAMBA, first.get(MAMBA2, first.get(PARALLEL_HYBRID)))
            b = f"blk.{i}."
            fields.update(ssm_d_inner=self._ssm("inner_size"), ssm_d_state=self._ssm("state_size"),
                          ssm_d_conv=self._ssm("conv_kernel"), ssm_conv_bias=self.has(b + "ssm_conv1d.bias"),
                          ssm_proj_bias=self.has(b + "ssm_in.bias"), ssm_inner_norms=self.has(b + "ssm_dt_norm.weight"))
            if MAMBA in kinds:
                fields["ssm_dt_rank"] = self._ssm("time_step_rank")
            if kinds & {MAMBA2, PARALLEL_HYBRID}:
                # llama.cpp writes a Mamba-2 layer's head count as ssm.time_step_rank
                fields.update(ssm_num_heads=self._ssm("time_step_rank"), ssm_n_groups=self._ssm("group_count"),
                              ssm_gated_norm=self.has(b + "ssm_norm.weight"))
        if GATED_DELTANET in kinds:
            # llama.cpp's Gated DeltaNet keys (convert_hf_to_gguf.py Qwen3NextModel): group_count = key heads,
            # state_size = key head dim, time_step_rank = value heads, inner_size = value heads × value dim
            nv, inner = self._ssm("time_step_rank"), self._ssm("inner_size")
            if inner % nv:
                raise ModelFileError(f"{self.key('ssm.inner_size')} {inner} does not divide into {nv} value heads")
            fields.update(linear_num_key_heads=self._ssm("group_count"), linear_key_head_dim=self._ssm("state_size"),
                          linear_num_value_heads=nv, linear_value_head_dim=inner // nv,
                          linear_conv_kernel=self._ssm("conv_kernel"))
            attn = next((i for i, m in enumerate(mixers) if m is None), None)
            q = self.ne(f"blk.{attn}.attn_q.weight") if attn is not None else None
            if q and len(q) == 2 and q[1] == 2 * fields["num_heads"] * fields.get("head_dim", 0):
                fields["attn_output_gate"] = True  # the query projection also carries the output gate
        if KDA in kinds:
            # llama.cpp src/models/kimi-linear.cpp: the KDA heads are attention.head_count, their width
            # {arch}.kda.head_dim, the short-conv kernel {arch}.ssm.conv_kernel (convert_hf_to_gguf.py KimiLinearModel)
            dim = self.int_key("kda.head_dim", True)
            if not 0 < dim <= 1 << 13:
                raise ModelFileError(f"{self.key('kda.head_dim')} is {dim:,}: not a usable size")
            fields.update(kda_num_heads=fields["num_heads"], kda_head_dim=self.fig("kda_head_dim", dim, self.key("kda.head_dim")),
                          kda_conv_kernel=self._ssm("conv_kernel"))
        attn = next((i for i, m in enumerate(mixers) if m is None), None)
        if mixers[0] is not None and attn is not None:  # block 0 is not attention: its layout from an attention block
            b, has = f"blk.{attn}.", self.has
            fields.update(fused_qkv=has(b + "attn_qkv.weight"), qkv_bias=has(b + "attn_q.bias") or has(b + "attn_qkv.bias"),
                          o_bias=has(b + "attn_output.bias"), qk_norm=has(b + "attn_q_norm.weight"))
        if SHORT_CONV in kinds:
            fields["conv_l_cache"] = self.fig("conv_l_cache", self.int_key("shortconv.l_cache", True),
                                              self.key("shortconv.l_cache"))

    def _ssm(self, name):
        key = f"ssm.{name}"
        value = self.int_key(key, True)
        if not 0 < value <= 1 << 20:
            raise ModelFileError(f"{self.key(key)} is {value:,}: not a usable size")
        return self.fig(f"ssm_{name}", value, self.key(key))


def _check_layer_numbers(tensors, n_layers, key="block_count"):
    """Every "blk.N." tensor must belong to one of the file's layers (llama.cpp refuses tensors it
    does not load); the estimate places each layer's tensors on a device by N. And every declared layer must
    hold tensors: llama.cpp's loader creates each layer's weights for i < n_layer and fails on the first one
    absent (src/llama-model.cpp load_tensors, create_tensor: "missing tensor 'blk.N.attn_norm.weight'"), so a
    file whose block_count outruns its tensors is refused, not estimated with the layers it happens to hold."""
    present = set()
    for t in tensors:
        parts = t.name.split(".", 2)
        if parts[0] == "blk" and len(parts) > 2 and parts[1].isdigit():
            if not parts[1].isascii() or int(parts[1]) >= n_layers:
                raise ModelFileError(f"tensor {quote(t.name)} is outside the {n_layers} layers the file declares")
            present.add(int(parts[1]))
    if len(present) < n_layers:
        first = min(set(range(n_layers)) - present)
        raise ModelFileError(f"{key} declares {n_layers:,} layers, but the file holds tensors for "
                             f"{len(present):,} of them (none for blk.{first}): llama.cpp refuses it with "
                             f"\"missing tensor 'blk.{first}.…'\"")


def _whole(key, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise ModelFileError(f"{key} should be a whole number, got {quote(str(value))}")
    if value < 0 or value > 10**12:
        raise ModelFileError(f"{key} is {value:,}: not a usable size")
    return value
