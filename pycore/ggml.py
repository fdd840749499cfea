"""Every ggml tensor type, once: elements per block and bytes per block.

Source: ggml-org/llama.cpp gguf-py/gguf/constants.py @0024aa7417efd50a7c2a79e049dfbbbceb0beaaf
(GGML_QUANT_SIZES, "(block size, type size)"), cross-checked against ggml-org/ggml src/ggml-common.h
static_asserts @d99724f2. Type ids are the GGMLQuantizationType enum values stored in GGUF files.
"""
from dataclasses import dataclass

QK_K = 256  # super-block size of the k-quants and i-quants


@dataclass(frozen=True)
class GGMLType:
    name: str
    type_id: int
    block_size: int  # elements per block
    type_size: int  # bytes per block (values and their scales)
    weights: bool = True  # False for types no preset stores weights in (Q8_1, Q8_K, integers)

    @property
    def bits_per_weight(self) -> float:
        return 8 * self.type_size / self.block_size

    def fits_row(self, row_length: int) -> bool:
        return row_length % self.block_size == 0

    def row_bytes(self, row_length: int) -> int:
        """Bytes of one row of `row_length` elements (ggml_row_size); the row must fill whole blocks."""
        if row_length % self.block_size:
            raise ValueError(f"{self.name}: a row of {row_length} is not a whole number of {self.block_size}-blocks")
        return row_length // self.block_size * self.type_size

    def tensor_bytes(self, ne: tuple) -> int:
        """Bytes of a tensor with ggml dims `ne` (ne[0] is the row length)."""
        rows = 1
        for n in ne[1:]:
            rows *= n
        return self.row_bytes(ne[0]) * rows


_TABLE = (
    # name, id, block, bytes per block
    ("F32", 0, 1, 4), ("F16", 1, 1, 2),
    ("Q4_0", 2, 32, 18), ("Q4_1", 3, 32, 20), ("Q5_0", 6, 32, 22), ("Q5_1", 7, 32, 24),
    ("Q8_0", 8, 32, 34), ("Q8_1", 9, 32, 40),
    ("Q2_K", 10, 256, 84), ("Q3_K", 11, 256, 110), ("Q4_K", 12, 256, 144), ("Q5_K", 13, 256, 176),
    ("Q6_K", 14, 256, 210), ("Q8_K", 15, 256, 292),
    ("IQ2_XXS", 16, 256, 66), ("IQ2_XS", 17, 256, 74), ("IQ3_XXS", 18, 256, 98), ("IQ1_S", 19, 256, 50),
    ("IQ4_NL", 20, 32, 18), ("IQ3_S", 21, 256, 110), ("IQ2_S", 22, 256, 82), ("IQ4_XS", 23, 256, 136),
    ("I8", 24, 1, 1), ("I16", 25, 1, 2), ("I32", 26, 1, 4), ("I64", 27, 1, 8), ("F64", 28, 1, 8),
    ("IQ1_M", 29, 256, 56), ("BF16", 30, 1, 2),
    ("TQ1_0", 34, 256, 54), ("TQ2_0", 35, 256, 66),
    ("MXFP4", 39, 32, 17), ("NVFP4", 40, 64, 36), ("Q1_0", 41, 128, 18),
)
# Types that only hold intermediate results or integers, never a quantized weight.
_NOT_WEIGHTS = {"Q8_1", "Q8_K", "I8", "I16", "I32", "I64", "F64"}

GGML_TYPES = {name: GGMLType(name, tid, bs, ts, name not in _NOT_WEIGHTS) for name, tid, bs, ts in _TABLE}
GGML_TYPES_BY_ID = {t.type_id: t for t in GGML_TYPES.values()}


def ggml_type(name: str) -> GGMLType:
    return GGML_TYPES[name.upper()]
