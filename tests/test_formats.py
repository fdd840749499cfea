"""Weight formats with scales and exceptions, against hand calculations from the storage layouts."""
import pytest

from pycore.errors import UnknownNameError
from pycore.formats import WEIGHT_FORMATS, kv_format, weight_format, weight_storage
from pycore.models import parameter_count
from pycore.presets import model


def linear_bytes(fmt, k, n):
    return weight_format(fmt).linear_bytes(k, n)


def test_gptq_4bit_g128_layout():
    # AutoGPTQ QuantLinear, in 4096, out 4096: qweight int32 [4096/8, 4096] = 8 MiB; qzeros int32
    # [32, 4096/8] = 64 KiB; scales fp16 [32, 4096] = 256 KiB; g_idx int32 [4096] = 16 KiB.
    assert linear_bytes("GPTQ-4bit-g128", 4096, 4096) == 8_388_608 + 65_536 + 262_144 + 16_384
    # AWQ GEMM: the same without g_idx
    assert linear_bytes("AWQ-4bit-g128", 4096, 4096) == 8_388_608 + 65_536 + 262_144


def test_gptq_any_group_size_parses():
    assert weight_format("gptq-3bit-g64").name == "GPTQ-3bit-g64"
    assert linear_bytes("GPTQ-3bit-g64", 4096, 4096) == 4096 * 4096 * 3 // 8 + 64 * 4096 * 3 // 8 + 2 * 64 * 4096 + 4 * 4096
    assert weight_format("GPTQ-4bit-g256").name == "GPTQ-4bit-g256"


def test_bitsandbytes_nf4_bits_per_parameter():
    # QLoRA §3: absmax fp32 per 64 values = 0.5 bit/param; double quantization: 8/64 + 32/(64·256)
    # = 0.127 bit/param. Per tensor a 16-entry fp32 code (64 B), plus for DQ a 256-entry fp32 code
    # and an fp32 offset.
    k = n = 4096
    numel = k * n
    assert linear_bytes("NF4", k, n) == numel // 2 + numel // 64 * 4 + 64
    dq = linear_bytes("NF4-DQ", k, n)
    assert dq == numel // 2 + numel // 64 + numel // 64 // 256 * 4 + 1024 + 4 + 64
    assert abs(8 * dq / numel - 4.127) < 0.001


def test_llm_int8_row_scales():
    # int8 weight plus one fp32 absmax (SCB) per output row.
    assert linear_bytes("LLM.int8", 4096, 11008) == 4096 * 11008 + 4 * 11008


def test_quantizers_keep_embeddings_and_head_in_16_bit():
    spec = model("llama-3.1-8b")
    stored = weight_storage(spec, weight_format("NF4"))
    by_role = {t.role: s.label for t, s in stored.tensors}
    assert by_role["token_embd"] == by_role["output"] == by_role["attn_norm"] == "BF16"
    assert by_role["attn_q"] == "nf4"


def test_gpt_oss_mxfp4_checkpoint():
    # OpenAI's model card: the gpt-oss-120b checkpoint is 60.8 GiB, gpt-oss-20b 12.8 GiB (experts in
    # MXFP4, 4.25 bits; everything else BF16).
    for preset, gib in (("gpt-oss-120b", 60.8), ("gpt-oss-20b", 12.8)):
        total = weight_storage(model(preset), weight_format("MXFP4")).total
        assert abs(total / 2**30 - gib) < 0.05, preset


def test_fp8_block_scales():
    # DeepSeek-V3 style: one fp32 scale per 128×128 block
    assert linear_bytes("FP8-block", 7168, 2048) == 7168 * 2048 + 4 * 56 * 16


def test_nominal_formats_are_params_times_bytes():
    spec = model("llama-3-8b")
    p = parameter_count(spec).total
    for name, bits in (("FP32", 32), ("BF16", 16), ("FP16", 16), ("INT8", 8), ("INT4", 4)):
        assert weight_storage(spec, weight_format(name)).total == p * bits // 8


def test_every_format_computes_for_every_kind_of_model():
    for preset in ("llama-3.1-8b", "deepseek-v2-lite", "gpt-oss-20b", "gemma-3-1b", "phi-3-mini-4k", "pythia-1.4b",
                   "falcon-7b", "qwen3-30b-a3b"):
        spec = model(preset)
        for f in WEIGHT_FORMATS.values():
            if f.name != "file":  # needs a loaded model file
                assert weight_storage(spec, f).total > 0, (preset, f.name)


def test_names_are_case_insensitive_with_aliases():
    assert weight_format("q4_k_m").name == "Q4_K_M"
    assert weight_format("Q4_K").name == "Q4_K_M"  # llama-quantize's alias
    assert weight_format("f16").name == "FP16"
    assert weight_format("ggml:q4_k").name == "ggml:Q4_K"
    assert kv_format("FP16").name == "f16"


@pytest.mark.parametrize("bad", ["Q4_K_X", "", "GPTQ-5bit-g128", "AWQ-3bit-g128", "GPTQ-4bit-g7", "IQ2_XS@2023",
                                 "Q4_K_M@1999", "<script>", "x" * 10_000])
def test_unknown_formats(bad):
    with pytest.raises(UnknownNameError) as err:
        weight_format(bad)
    assert err.value.field == "weights"
    assert len(str(err.value)) < 300
