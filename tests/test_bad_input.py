"""Bad input ends in a clear ValueError subclass naming the field, never in a wrong number."""
import math

import pytest

from pycore.errors import InputError
from pycore.importers.hf_config import spec_from_config
from pycore.memory import estimate
from pycore.models import ModelSpec
from pycore.scenario import Scenario

BAD_NUMBERS = [0, -1, -4096, math.nan, math.inf, -math.inf, 1.5, 10**30, "4096", None, True, [], "<script>"]


@pytest.mark.parametrize("field", ["batch", "context", "gpus"])
@pytest.mark.parametrize("value", BAD_NUMBERS)
def test_bad_counts(field, value):
    with pytest.raises(InputError) as err:
        Scenario("llama-3.1-8b", **{field: value})
    assert err.value.field == field
    assert isinstance(err.value, ValueError)


def test_whole_floats_are_accepted_as_ints():
    s = Scenario("llama-3.1-8b", context=4096.0, batch=2.0)
    assert s.context == 4096 and isinstance(s.context, int)


@pytest.mark.parametrize("field,value", [("model", "no-such-model"), ("model", '"><script>alert(1)</script>'),
                                         ("weights", "Q9_K"), ("kv", "q3_k"), ("gpu", "rtx-9999"),
                                         ("engine", "tensorrt"), ("parallel", "diagonal"),
                                         ("activations", "guess"), ("kv_method", "vibes")])
def test_unknown_names(field, value):
    with pytest.raises(InputError) as err:
        estimate(Scenario(**{"model": "llama-3.1-8b", field: value}))
    assert err.value.field == field
    assert "<script>" not in str(err.value) or field == "model"  # echoed only as a quoted repr


def test_overhead_and_custom_gpu_limits():
    for field, kw in (("overhead", {"overhead_bytes": -1}), ("overhead", {"overhead_bytes": math.nan}),
                      ("gpu_memory", {"gpu_memory_bytes": 0}), ("gpu_memory", {"gpu_memory_bytes": 1 << 60})):
        with pytest.raises(InputError) as err:
            Scenario("llama-3.1-8b", **kw)
        assert err.value.field == field


def test_tensor_parallel_that_does_not_divide_is_refused():
    with pytest.raises(InputError) as err:
        estimate(Scenario("llama-3.1-8b", gpus=3))  # 32 heads over 3 GPUs
    assert err.value.field == "gpus"
    assert estimate(Scenario("llama-3.1-8b", gpus=3, parallel="pipeline")).layout.pp == 3


def test_pipeline_needs_a_layer_per_stage():
    with pytest.raises(InputError):
        estimate(Scenario("llama-3.2-1b", gpus=17, parallel="pipeline"))  # 16 layers


_LLAMA = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
          "num_key_value_heads": 8, "vocab_size": 32000, "intermediate_size": 11008, "max_position_embeddings": 4096}


@pytest.mark.parametrize("config,field", [
    ({}, "model_type"),
    ({"model_type": "llama"}, "hidden_size"),
    ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
      "vocab_size": 32000, "max_position_embeddings": 4096}, "intermediate_size"),
    ({"model_type": "llama", "hidden_size": -4096, "num_hidden_layers": 32, "num_attention_heads": 32,
      "vocab_size": 32000, "intermediate_size": 11008, "max_position_embeddings": 4096}, "hidden_size"),
    ({"model_type": "llama", "hidden_size": "4096", "num_hidden_layers": 32, "num_attention_heads": 32,
      "vocab_size": 32000, "intermediate_size": 11008}, "hidden_size"),
    ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
      "num_key_value_heads": 64, "vocab_size": 32000, "intermediate_size": 11008,
      "max_position_embeddings": 4096}, "num_key_value_heads"),
    ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
      "num_key_value_heads": 5, "vocab_size": 32000, "intermediate_size": 11008,
      "max_position_embeddings": 4096}, "num_key_value_heads"),
    ({"model_type": "llama", "hidden_size": 4001, "num_hidden_layers": 32, "num_attention_heads": 32,
      "vocab_size": 32000, "intermediate_size": 11008, "max_position_embeddings": 4096}, "head_dim"),
    ({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 1e300, "num_attention_heads": 32,
      "vocab_size": 32000, "intermediate_size": 11008, "max_position_embeddings": 4096}, "num_hidden_layers"),
    ({"model_type": "mixtral", "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
      "vocab_size": 32000, "intermediate_size": 14336, "num_local_experts": 8, "num_experts_per_tok": 9,
      "max_position_embeddings": 4096}, "num_experts_per_tok"),
    ({"model_type": "deepseek_v3", "hidden_size": 7168, "num_hidden_layers": 61, "num_attention_heads": 128,
      "vocab_size": 129280, "intermediate_size": 18432, "n_routed_experts": 256, "num_experts_per_tok": 8,
      "moe_intermediate_size": 2048, "max_position_embeddings": 4096}, "kv_lora_rank"),
    ({"model_type": "gemma2", "hidden_size": 2304, "num_hidden_layers": 26, "num_attention_heads": 8,
      "vocab_size": 256000, "intermediate_size": 9216, "layer_types": ["sliding_attention"] * 25,
      "max_position_embeddings": 8192}, "layer_types"),
    ("not a dict", "config"),
    # zero counts that would divide (hidden_size % heads, layer index % period) or be read as "none" (review
    # 2026-11-30, findings 1 and 19): one InputError naming the field, never ZeroDivisionError or a silent MHA
    (dict(_LLAMA, num_attention_heads=0), "num_attention_heads"),
    (dict(_LLAMA, num_attention_heads=0, head_dim=128), "num_attention_heads"),
    (dict(_LLAMA, num_key_value_heads=0), "num_key_value_heads"),
    (dict(_LLAMA, head_dim=0), "head_dim"),
    (dict(_LLAMA, max_position_embeddings=0), "max_position_embeddings"),
    (dict(_LLAMA, model_type="falcon", new_decoder_architecture=True, num_kv_heads=0), "num_kv_heads"),
    (dict(_LLAMA, model_type="mixtral", num_local_experts=0, num_experts_per_tok=2), "num_local_experts"),
    (dict(_LLAMA, model_type="gemma3_text", sliding_window=512, sliding_window_pattern=0), "sliding_window_pattern"),
    (dict(_LLAMA, model_type="qwen3_moe", num_experts=8, num_experts_per_tok=2, moe_intermediate_size=64,
          decoder_sparse_step=0), "decoder_sparse_step"),
    (dict(_LLAMA, model_type="deepseek_v3", kv_lora_rank=0, qk_rope_head_dim=64, qk_nope_head_dim=128,
          v_head_dim=128, n_routed_experts=0), "kv_lora_rank"),
])
def test_bad_configs_name_the_field(config, field):
    with pytest.raises(InputError) as err:
        spec_from_config(config)
    assert err.value.field == field


def test_model_spec_validates_directly():
    with pytest.raises(InputError) as err:
        ModelSpec(name="x", arch="llama", vocab_size=0, hidden_size=1, num_layers=1, num_heads=1, num_kv_heads=1,
                  head_dim=1, intermediate_size=1, max_context=1)
    assert err.value.field == "vocab_size"


def test_checkpoint_format_follows_quantization_config():
    from pycore.importers.hf_config import checkpoint_format
    assert checkpoint_format({"torch_dtype": "float16"})[0] == "FP16"
    assert checkpoint_format({"quantization_config": {"quant_method": "gptq", "bits": 3, "group_size": 64}})[0] == \
        "GPTQ-3bit-g64"
    assert checkpoint_format({"quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": -1}})[0] == \
        "GPTQ-4bit-perchannel"
    assert checkpoint_format({"quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 128}})[0] == \
        "AWQ-4bit-g128"
    bnb = {"quant_method": "bitsandbytes", "load_in_4bit": True, "bnb_4bit_quant_type": "nf4",
           "bnb_4bit_use_double_quant": True}
    assert checkpoint_format({"quantization_config": bnb})[0] == "NF4-DQ"
    assert checkpoint_format({"quantization_config": {"quant_method": "bitsandbytes", "load_in_8bit": True}})[0] == \
        "LLM.int8"
    # DeepSeek-V3's own config (shared/reference/models.json): FP8 e4m3 with 128×128 block scales
    ds = {"quantization_config": {"quant_method": "fp8", "fmt": "e4m3", "weight_block_size": [128, 128]}}
    assert checkpoint_format(ds)[0] == "FP8-block"
    assert checkpoint_format({"quantization_config": {"quant_method": "mxfp4"}})[0] == "MXFP4"
    name, why = checkpoint_format({"torch_dtype": "bfloat16", "quantization_config": {"quant_method": "hqq"}})
    assert name == "BF16" and "not modelled" in why


def test_a_missing_max_position_embeddings_is_said_with_what_was_assumed():
    # transformers' LlamaConfig defaults max_position_embeddings to 2048 (configuration_llama.py); a config
    # without it is read with that default, and the note says so (review 2026-11-30, finding 19)
    config = {k: v for k, v in _LLAMA.items() if k != "max_position_embeddings"}
    spec = spec_from_config(config)
    assert spec.max_context == 2048
    assert any("no max_position_embeddings" in n and "2,048 tokens" in n for n in spec.notes), spec.notes
    assert not any("max_position_embeddings" in n for n in spec_from_config(_LLAMA).notes)
    from pycore.memory import estimate
    from pycore.scenario import Scenario
    assert any("2,048 tokens" in w for w in estimate(Scenario(spec, context=2048)).warnings)
