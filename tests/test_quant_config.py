"""Checkpoint quantization configs (pycore/importers/quant_config.py) and the formats they map to, against
published engine figures and hand counts of the checkpoint layouts."""
import json
import subprocess
import sys

import pytest

from pycore.errors import InputError
from pycore.formats import weight_format, weight_storage
from pycore.importers.hf_config import checkpoint_format, spec_from_config
from pycore.models import weight_tensors
from pycore.presets import PRESETS, model

GiB = 2 ** 30
LLAMA3_8B = PRESETS["llama-3-8b"].config
# AutoFP8's config.json for nm-testing/Meta-Llama-3-8B-Instruct-FP8 (per-tensor static scales)
AUTOFP8 = {"quant_method": "fp8", "activation_scheme": "static"}
# RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8 config.json quantization_config (llm-compressor)
CT_FP8 = {"quant_method": "compressed-tensors", "format": "float-quantized", "ignore": ["lm_head"],
          "config_groups": {"group_0": {"targets": ["Linear"],
                                        "weights": {"num_bits": 8, "type": "float", "strategy": "tensor",
                                                    "dynamic": False, "symmetric": True},
                                        "input_activations": {"num_bits": 8, "type": "float", "strategy": "tensor",
                                                              "dynamic": False, "symmetric": True}}}}


def test_fp8_llama3_8b_matches_vllm_load_log():
    # vLLM docs (docs/source/quantization/fp8.rst) and neuralmagic/AutoFP8 README.md: loading
    # Meta-Llama-3-8B-Instruct-FP8, "Loading model weights took 8.4596 GB" (vLLM divides by 2^30: GiB; other
    # runs of the same checkpoint print 8.4595, so the figure is good to one unit of its last digit).
    # Hand count: 224 linears of 6,979,321,856 values in FP8 + one fp32 scale each; embeddings and head
    # 2 × 525,336,576 in BF16; 65 norms of 4,096 in BF16. vLLM's 2 MiB rotary cos/sin cache (8,192 × 128
    # bf16) is the rest of its figure.
    spec = spec_from_config({**LLAMA3_8B, "quantization_config": AUTOFP8})
    assert checkpoint_format({**LLAMA3_8B, "quantization_config": AUTOFP8})[0] == "FP8"
    total = weight_storage(spec, weight_format("FP8")).total
    assert total == 6_979_321_856 + 224 * 4 + 2 * 525_336_576 * 2 + 65 * 4096 * 2
    assert abs(total + 8192 * 128 * 2 - 8.4596 * GiB) < 0.00015 * GiB


def test_fp8_keeps_embeddings_and_head_in_16_bit():
    stored = weight_storage(model("llama-3.1-8b"), weight_format("FP8"))
    labels = {t.role: s.label for t, s in stored.tensors}
    assert labels["token_embd"] == labels["output"] == "BF16" and labels["attn_q"] == "fp8-e4m3"


def test_compressed_tensors_checkpoint_defaults_to_its_format_in_the_cli(tmp_path):
    # The issue: a Llama 3.1 8B FP8 checkpoint showed 14.96 GiB (BF16 fallback); vLLM loads about 8.46 GiB.
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**PRESETS["llama-3.1-8b"].config, "torch_dtype": "bfloat16",
                                "quantization_config": CT_FP8}))
    out = subprocess.run([sys.executable, "-m", "pycore", "estimate", "--config", str(path), "--json"],
                         capture_output=True, text=True, check=True).stdout
    d = json.loads(out)
    assert d["scenario"]["weights"] == "FP8"
    assert abs(d["weights"]["bytes"] / GiB - 8.4575) < 0.001


def _kept(spec, fmt):
    return {t.name for t, s in weight_storage(spec, weight_format(fmt)).tensors if s.label == "BF16" and t.kind == "matrix"}


def test_ignore_lists_keep_their_modules_in_16_bit():
    q = {**CT_FP8, "ignore": ["lm_head", "re:.*mlp.down_proj$", "model.layers.0.self_attn"]}
    spec = spec_from_config({**LLAMA3_8B, "quantization_config": q})
    kept = _kept(spec, "FP8")
    assert {f"blk.{i}.ffn_down.weight" for i in range(32)} <= kept
    assert {"blk.0.attn_q.weight", "blk.0.attn_output.weight"} <= kept and "blk.1.attn_q.weight" not in kept
    plain = weight_storage(spec_from_config({**LLAMA3_8B, "quantization_config": CT_FP8}), weight_format("FP8")).total
    extra = 32 * 14336 * 4096 + (4096 * 4096 * 2 + 4096 * 1024 * 2)  # each kept value: 2 bytes instead of 1
    assert weight_storage(spec, weight_format("FP8")).total == plain + extra - 4 * (32 + 4)  # minus their scales


def test_minimax_not_convert_list_leaves_experts_in_fp8():
    # MiniMax-M2 modules_to_not_convert ["gate", "e_score_correction_bias", "lm_head"]: the router, not gate_proj
    kept = _kept(model("minimax-m2"), "FP8-block")
    assert kept == {"output.weight", "token_embd.weight"}


@pytest.mark.parametrize("q,expected", [
    ({"quant_method": "fbgemm_fp8", "modules_to_not_convert": ["lm_head"]}, "FP8-channel"),
    ({"quant_method": "modelopt", "quant_algo": "NVFP4", "exclude_modules": ["lm_head"]}, "NVFP4-W4A4"),
    ({"quant_method": "modelopt", "quant_algo": "FP8"}, "FP8"),
    ({"quant_method": "torchao", "quant_type": {"default": {"_type": "Int4WeightOnlyConfig",
                                                            "_data": {"group_size": 128}}}}, "TorchAO-int4-g128"),
    ({"quant_method": "torchao", "quant_type": "int8_weight_only"}, "INT8-W8A8"),
    ({"quant_method": "hqq", "nbits": 4, "group_size": 64}, "HQQ-4bit-g64"),
    ({"quant_method": "bitnet", "linear_class": "autobitlinear", "quantization_mode": "offline"}, "BitNet-1.58"),
    ({"quant_method": "mxfp4"}, "MXFP4"),
    ({"quant_method": "compressed-tensors", "format": "pack-quantized", "config_groups": {"g": {
        "weights": {"num_bits": 4, "type": "int", "strategy": "group", "group_size": 128}}}}, "W4A16-g128"),
    ({"quant_method": "compressed-tensors", "format": "nvfp4-pack-quantized", "config_groups": {"g": {
        "weights": {"num_bits": 4, "type": "float", "strategy": "tensor_group", "group_size": 16}}}}, "NVFP4-W4A4"),
    ({"quant_method": "compressed-tensors", "format": "int-quantized", "config_groups": {"g": {
        "weights": {"num_bits": 8, "type": "int", "strategy": "channel"}}}}, "INT8-W8A8"),
])
def test_each_method_maps_to_a_format(q, expected):
    name, _ = checkpoint_format({**LLAMA3_8B, "quantization_config": q})
    assert name == expected
    assert weight_format(name).name == expected


def test_byte_rules_by_hand():
    def linear(fmt, k, n):
        spec = spec_from_config({**LLAMA3_8B, "num_hidden_layers": 1})
        stored = dict((t.role, s.bytes) for t, s in weight_storage(spec, weight_format(fmt)).tensors)
        return stored["attn_q"]
    k = n = 4096
    assert linear("NVFP4-W4A4", k, n) == k * n // 2 + (k // 16) * n + 4  # e2m1 pairs, e4m3 per 16, fp32 global
    assert linear("W4A16-g128", k, n) == k * n // 2 + 2 * (k // 128) * n  # packed int4, bf16 scale per group
    assert linear("BitNet-1.58", k, n) == k * n // 4 + 2
    assert linear("FP8-channel", k, n) == k * n + 4 * n


def test_unknown_method_is_said_not_silent():
    spec = spec_from_config({**LLAMA3_8B, "quantization_config": {"quant_method": "quanto", "weights": "int4"}})
    assert any("quanto" in note and "not one pycore lays out" in note for note in spec.notes)
    assert checkpoint_format({**LLAMA3_8B, "quantization_config": {"quant_method": "quanto"}})[0] == "BF16"


def test_hostile_ignore_lists():
    with pytest.raises(InputError, match="ignore"):
        spec_from_config({**LLAMA3_8B, "quantization_config": {**CT_FP8, "ignore": ["x"] * 1_000_000}})
    # a catastrophic-backtracking pattern is refused, not run
    spec = spec_from_config({**LLAMA3_8B, "quantization_config": {**CT_FP8, "ignore": ["re:(a+)+$", "re:["]}})
    assert weight_storage(spec, weight_format("FP8")).total > 0


def test_fp8_releases_are_presets_in_their_own_format():
    from pycore.importers.quant_config import read_quantization
    for pid in ("llama-3.1-8b-fp8", "qwen3-30b-a3b-fp8", "kimi-k2", "minimax-m2", "deepseek-v3"):
        p = PRESETS[pid]
        assert read_quantization(p.config).format == p.weights, pid  # the preset reads as its checkpoint ships
    out = subprocess.run([sys.executable, "-m", "pycore", "estimate", "--model", "llama-3.1-8b-fp8", "--json"],
                         capture_output=True, text=True, check=True).stdout
    assert abs(json.loads(out)["weights"]["bytes"] / GiB - 8.4575) < 0.001  # as the --config check above
