"""The formula guide's worked examples (shared/seed/000_a1bdbce2595f72f1.txt): each row's
`formula_bytes` against the guide's formula worked out here by hand, the guide's wrong figures
flagged (never copied into an expected value), and each row's link reproducing `exact_bytes`."""
import json

import pytest

from pycore import urlstate
from pycore.cli import run
from pycore.seed import SECTIONS, worked_examples
from pycore.units import GB, GiB

EXAMPLES = {w.id: w for w in worked_examples()}
GIB = 1_073_741_824  # the guide's "GB" (its section 1: "1,073,741,824 = Bytes per GB (1024³)")

# The guide's formula for every example, evaluated by hand from the guide's own inputs:
#   weights = parameters × bytes per parameter; KV = 2·B·S·H·L·P; activations = B·S·H·L·2;
#   total = weights + KV + activations + overhead, its "2 GB" overhead being 2 × 1,073,741,824 B.
# Llama 2 70B: H = 8,192, L = 80; Llama 3 8B: H = 4,096, L = 32 (the guide's own values).
HAND = {
    # 1. "Llama 2 70B Model: FP32: 70B × 4 bytes = 280 GB" ... "Llama 3 8B Model: ... INT4: 8B × 0.5 bytes = 4 GB"
    "weights-llama-2-70b-fp32": 70_000_000_000 * 4,  # 280,000,000,000 B
    "weights-llama-2-70b-fp16": 70_000_000_000 * 2,  # 140,000,000,000 B
    "weights-llama-2-70b-int8": 70_000_000_000 * 1,  # 70,000,000,000 B
    "weights-llama-2-70b-int4": 70_000_000_000 // 2,  # 35,000,000,000 B
    "weights-llama-3-8b-fp32": 8_000_000_000 * 4,  # 32,000,000,000 B
    "weights-llama-3-8b-fp16": 8_000_000_000 * 2,  # 16,000,000,000 B
    "weights-llama-3-8b-int8": 8_000_000_000 * 1,  # 8,000,000,000 B
    "weights-llama-3-8b-int4": 8_000_000_000 // 2,  # 4,000,000,000 B
    # 2. GGUF table, bits per weight applied to Llama 3 8B's 8B parameters: 8e9 × bits / 8
    "bpw-q2_k": 2_000_000_000,  # 8e9 × 2.0 / 8
    "bpw-q3_k_s": 3_000_000_000,  # 8e9 × 3.0 / 8
    "bpw-q3_k_m": 3_000_000_000,
    "bpw-q3_k_l": 3_000_000_000,
    "bpw-q4_0": 4_500_000_000,  # 8e9 × 4.5 / 8
    "bpw-q4_1": 5_000_000_000,  # 8e9 × 5.0 / 8
    "bpw-q4_k_s": 4_000_000_000,  # 8e9 × 4.0 / 8
    "bpw-q4_k_m": 4_000_000_000,
    "bpw-q5_0": 5_500_000_000,  # 8e9 × 5.5 / 8
    "bpw-q5_1": 6_000_000_000,  # 8e9 × 6.0 / 8
    "bpw-q5_k_s": 5_000_000_000,
    "bpw-q5_k_m": 5_000_000_000,
    "bpw-q6_k": 6_000_000_000,
    "bpw-q8_0": 8_500_000_000,  # 8e9 × 8.5 / 8
    # 2. "Example: Llama 3 8B Model File Sizes": 8e9 × the table's bytes per parameter
    "file-llama-3-8b-fp16": 16_000_000_000,  # 8e9 × 2
    "file-llama-3-8b-q8_0": 8_500_000_000,  # 8e9 × 1.0625 (8.5 bits)
    "file-llama-3-8b-q5_k_m": 5_000_000_000,  # 8e9 × 0.625
    "file-llama-3-8b-q4_k_m": 4_000_000_000,  # 8e9 × 0.5
    "file-llama-3-8b-q3_k_m": 3_000_000_000,  # 8e9 × 0.375
    "file-llama-3-8b-q2_k": 2_000_000_000,  # 8e9 × 0.25
    # 3. KV cache: Llama 2 70B, batch 8 × 4,096 tokens, FP16: 2·8·4096·8192·80·2 = 80 × 2^30 (printed "≈ 32 GB")
    "kv-llama-2-70b-b8-4096": 85_899_345_920,
    # Llama 3 8B, 1,000,000 tokens: 2·1·1,000,000·4096·32·2 (printed "≈ 128 GB")
    "kv-llama-3-8b-1m": 524_288_000_000,
    # 4. Activations: 1·2048·8192·80·2 = 2.5 × 2^30; ×8 = 20 × 2^30; 1,000,000·4096·32·2 (printed "≈ 64 GB")
    "act-llama-2-70b-b1-2048": 2_684_354_560,
    "act-llama-2-70b-b8-2048": 21_474_836_480,
    "act-llama-3-8b-1m": 262_144_000_000,
    # 5. Llama 3 8B, 1M tokens: Q4_K_M 8e9 × 0.5 + KV 524,288,000,000 + act 262,144,000,000 + 2 GB
    "total-llama-3-8b-1m": 4_000_000_000 + 524_288_000_000 + 262_144_000_000 + 2_147_483_648,  # 792,579,483,648
    # Llama 2 70B, 2,048 tokens, batch 1: 140e9 + 2·1·2048·8192·80·2 (5,368,709,120) + 2,684,354,560 + 2 GB
    "total-llama-2-70b-2k-b1": 140_000_000_000 + 5_368_709_120 + 2_684_354_560 + 2_147_483_648,  # 150,200,547,328
    # 32,768 tokens, batch 8: 140e9 + 2·8·32768·8192·80·2 (687,194,767,360) + 8·32768·8192·80·2 (343,597,383,680) + 2 GB
    "total-llama-2-70b-32k-b8": 140_000_000_000 + 687_194_767_360 + 343_597_383_680 + 2_147_483_648,
    # 6. Example 1: Llama 3 8B Q4_K_M, 4,096 tokens: 4e9 + 2·4096·4096·32·2 (2 × 2^30) + 4096·4096·32·2 (2^30) + 1 GB
    "ex1-llama-3-8b-24gb": 4_000_000_000 + 2_147_483_648 + 1_073_741_824 + 1_073_741_824,  # 8,294,967,296
    # Example 2: Llama 2 70B, 8,192 tokens × batch 4. FP16 weights alone: 70e9 × 2
    "ex2-fp16": 140_000_000_000,
    # INT8: 70e9 + 2·4·8192·8192·80·2 (85,899,345,920) + 4·8192·8192·80·2 (42,949,672,960) + 2 GB
    "ex2-int8": 70_000_000_000 + 85_899_345_920 + 42_949_672_960 + 2_147_483_648,  # 200,996,502,528
    # Q4_K_M (70e9 × 0.5), FP16 KV
    "ex2-better": 35_000_000_000 + 85_899_345_920 + 42_949_672_960 + 2_147_483_648,  # 165,996,502,528
    # Q4_K_M, INT8 KV: 2·4·8192·8192·80·1 = 42,949,672,960
    "ex2-optimal": 35_000_000_000 + 42_949_672_960 + 42_949_672_960 + 2_147_483_648,  # 123,046,829,568
    # Example 3 = the section 5 table; then INT8 KV: 2·1·1,000,000·4096·32·1 = 262,144,000,000
    "ex3-llama-3-8b-1m": 4_000_000_000 + 524_288_000_000 + 262_144_000_000 + 2_147_483_648,
    "ex3-int8-kv": 4_000_000_000 + 262_144_000_000 + 262_144_000_000 + 2_147_483_648,  # 530,435,483,648
    # Cheat sheet bytes per parameter, applied to Llama 2 70B's 70B parameters
    "cheat-fp32": 280_000_000_000,  # 70e9 × 4
    "cheat-fp16": 140_000_000_000,  # 70e9 × 2
    "cheat-int8": 70_000_000_000,  # 70e9 × 1
    "cheat-int4": 35_000_000_000,  # 70e9 × 0.5
    "cheat-q4_k_m": 35_000_000_000,  # 70e9 × 0.5
    "cheat-q5_k_m": 43_750_000_000,  # 70e9 × 0.625
    "cheat-q8_0": 74_200_000_000,  # 70e9 × 1.06 (as the cheat sheet prints it)
}


def test_every_example_of_the_guide_is_a_row():
    # sections 1–6 and the cheat sheet, nothing missing, nothing extra, in the guide's order
    assert list(EXAMPLES) == list(HAND)
    assert [s for s in SECTIONS if any(w.section == s for w in EXAMPLES.values())] == list(SECTIONS)


@pytest.mark.parametrize("row_id", list(HAND))
def test_formula_bytes_by_hand(row_id):
    assert EXAMPLES[row_id].formula_bytes == HAND[row_id]


def test_the_hand_figures_that_prove_the_guide_wrong():
    # 2·8·4096·8192·80·2: 80 GiB, where the guide prints "≈ 32 GB"
    assert 2 * 8 * 4096 * 8192 * 80 * 2 == 80 * GIB == HAND["kv-llama-2-70b-b8-4096"]
    # 2·1·1,000,000·4096·32·2 = 488.28 GiB, where it prints "≈ 128 GB"
    assert 2 * 1 * 1_000_000 * 4096 * 32 * 2 == HAND["kv-llama-3-8b-1m"]
    assert round(HAND["kv-llama-3-8b-1m"] / GIB, 2) == 488.28
    # 1,000,000·4096·32·2 = 244.14 GiB, where it prints "≈ 64 GB"
    assert 1_000_000 * 4096 * 32 * 2 == HAND["act-llama-3-8b-1m"]
    # activations 1·2048·8192·80·2 = 2.5 GiB and ×8 = 20 GiB: right, in GiB
    assert 2048 * 8192 * 80 * 2 == 5 * GIB // 2 and 8 * 2048 * 8192 * 80 * 2 == 20 * GIB
    # Example 2's "optimal" 114.60 GiB by its own formula does not fit the 80 GB A100 it says it fits
    assert HAND["ex2-optimal"] > 80 * GIB


def _hand(rows):
    return {r for r in HAND if r.startswith(rows)}


def test_flags_match_the_hand_reading():
    flagged = lambda flag: {w.id for w in EXAMPLES.values() if flag in w.flags}  # noqa: E731
    # printed figures that neither 2^30 nor 10^9 bytes make equal to the guide's own formula
    assert flagged("arithmetic") == (
        {"kv-llama-2-70b-b8-4096", "kv-llama-3-8b-1m", "act-llama-3-8b-1m", "ex2-int8", "ex2-better",
         "ex2-optimal", "ex3-llama-3-8b-1m", "ex3-int8-kv", "ex1-llama-3-8b-24gb"}
        | _hand("total-") | (_hand("file-") - {"file-llama-3-8b-q5_k_m"}))  # ~4.9 vs 5.00 GB is within its digits
    # "2.5 GB" and "20 GB" are 2.5 and 20 GiB
    assert flagged("gib-as-gb") == {"act-llama-2-70b-b1-2048", "act-llama-2-70b-b8-2048"}
    # "280 GB" = 280 × 10^9 B although the guide's formula divides by 2^30
    assert flagged("decimal-gb") == _hand("weights-") | {"ex2-fp16"}
    # the guide's verdict on the A100 is wrong for the Q4_K_M solutions (both fit really; its formula
    # says the "optimal" one does not)
    assert flagged("flips") == {"ex2-better", "ex2-optimal"}
    # the KV formula is the multi-head case: every row with a KV cache
    assert flagged("mha") == (_hand("kv-") | _hand("total-") | {"ex1-llama-3-8b-24gb", "ex2-int8", "ex2-better",
                                                                 "ex2-optimal", "ex3-llama-3-8b-1m", "ex3-int8-kv"})
    # Llama 3 8B's window is 8,192, Llama 2 70B's 4,096
    assert flagged("beyond-context") == {"kv-llama-3-8b-1m", "act-llama-3-8b-1m", "total-llama-3-8b-1m",
                                         "total-llama-2-70b-32k-b8", "ex2-fp16", "ex2-int8", "ex2-better",
                                         "ex2-optimal", "ex3-llama-3-8b-1m", "ex3-int8-kv"}
    # K-quants: 2.625, 3.4375, 4.5, 5.5, 6.5625 bits per block (ggml_types.json), not 2, 3, 4, 5, 6
    assert flagged("no-scales") == ({f"bpw-{q}" for q in ("q2_k", "q3_k_s", "q3_k_m", "q3_k_l", "q4_k_s", "q4_k_m",
                                                          "q5_k_s", "q5_k_m", "q6_k")} | {"cheat-q4_k_m", "cheat-q5_k_m"})


def test_verdicts_say_it_plainly():
    kv = EXAMPLES["kv-llama-2-70b-b8-4096"].verdict
    assert "Arithmetic wrong" in kv and "80.00 GiB" in kv and "8 KV heads" in kv and "multi-head" in kv
    assert "The verdict flips" in EXAMPLES["ex2-better"].verdict
    assert "unit is GiB" in EXAMPLES["act-llama-2-70b-b1-2048"].verdict
    assert "8,192 tokens" in EXAMPLES["kv-llama-3-8b-1m"].verdict
    # "133.5 GB (33% reduction)": 1 − 133.5 / 197.5 = 32.4 % by its printed totals;
    # 1 − 530,435,483,648 / 792,579,483,648 = 33.1 % by its formula
    assert "32% by its printed totals, 33% by its formula" in EXAMPLES["ex3-int8-kv"].verdict


def test_exact_figures_from_independent_counts():
    # Llama 2 70B has 68,976,648,192 parameters (tests/test_parameters.py, together-python pcount): FP16 × 2 B
    assert EXAMPLES["weights-llama-2-70b-fp16"].exact_bytes == 68_976_648_192 * 2
    # GQA: 8 KV heads × 128 dims × 2 (K, V) × 80 layers × 2 B = 327,680 B per token; × 8 × 4,096 tokens = 10 GiB
    assert EXAMPLES["kv-llama-2-70b-b8-4096"].exact_bytes == 8 * 128 * 2 * 80 * 2 * 8 * 4096 == 10 * GIB
    # Llama 3 8B: 8 × 128 × 2 × 32 × 2 = 131,072 B per token; llama.cpp pads 1,000,000 cells to 256s: 1,000,192
    assert EXAMPLES["kv-llama-3-8b-1m"].exact_bytes == 131_072 * 1_000_192
    # q8_0 KV: 34 B per 32 values (ggml_types.json): 65,536 values per token → 69,632 B; × 1,000,192 cells
    ex3 = EXAMPLES["ex3-int8-kv"]
    assert [p.exact_bytes for p in ex3.parts if p.name == "kv_cache"] == [65_536 // 32 * 34 * 1_000_192]


@pytest.mark.parametrize("row_id", list(HAND))
def test_link_reproduces_exact_bytes(row_id):
    w = EXAMPLES[row_id]
    e, errors = urlstate.estimate_from_fields(urlstate.parse_query("?" + w.query))
    assert not errors
    got = e.total if w.measure == "total" else getattr(e, w.measure).bytes
    assert got == w.exact_bytes


def test_cli_lists_the_same_rows():
    rows = json.loads(run(["examples", "--json"]))
    assert [r["id"] for r in rows] == list(HAND)
    for r in rows:
        w = EXAMPLES[r["id"]]
        assert (r["section"], r["title"], r["printed"], r["formula_bytes"], r["exact_bytes"], r["verdict"]) == \
               (w.section, w.title, w.printed, w.formula_bytes, w.exact_bytes, w.verdict)
        assert isinstance(r["inputs"], dict) and r["inputs"]
        assert isinstance(r["formula_bytes"], int) and isinstance(r["exact_bytes"], int)
    text = run(["examples"])
    assert all(w.id in text for w in EXAMPLES.values()) and "80.00 GiB" in text


def test_units_are_labelled():
    # GB is 10^9, GiB 2^30, never mixed up in the rows' own figures
    w = EXAMPLES["weights-llama-2-70b-fp32"]
    assert f"{280_000_000_000 / GiB:.2f}" == "260.77" and "260.77" in w.verdict and "280.00 GB" in w.verdict
    assert GB == 10**9
