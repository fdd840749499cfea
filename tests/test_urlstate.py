"""The form and the link (pycore.urlstate): fields to an estimate, each bad field its own message, the
custom-architecture form in both directions, and the strings that go into the page."""
import pytest

from pycore import Scenario, estimate, urlstate
from pycore.presets import model
from pycore.training import TrainingScenario, estimate_training


def fields(**changes) -> dict:
    return {**urlstate.DEFAULTS, **changes}


def test_link_round_trip_keeps_every_field():
    f = fields(model="qwen2.5-7b", weights="AWQ-4bit-g128", context="32768", gpu="a100-80gb", gpus="2",
               parallel="pipeline", units="GB", mode="train", method="qlora", rank="16")
    assert urlstate.parse_query("?" + urlstate.to_query(f)) == f


def test_link_always_carries_the_public_keys():
    query = urlstate.to_query(fields())
    assert [k.split("=")[0] for k in query.split("&")] == list(urlstate.KEYS[:7])


@pytest.mark.parametrize("text,value", [("8192", 8192), ("8,192", 8192), ("8 192", 8192), ("8k", 8192),
                                        ("1M", 1 << 20), ("2.0", 2)])
def test_whole_numbers_as_people_type_them(text, value):
    assert urlstate.whole(text, "context") == value


def test_fields_give_the_same_estimate_as_the_scenario():
    e, errors = urlstate.estimate_from_fields(fields(model="mistral-7b-v0.1", context="8k", batch="2", gpu="rtx-3090"))
    assert errors == {}
    assert e.total == estimate(Scenario("mistral-7b-v0.1", weights="Q4_K_M", context=8192, batch=2, gpu="rtx-3090")).total


def test_each_bad_field_gets_its_own_message():
    e, errors = urlstate.estimate_from_fields(fields(context="-5", batch="lots", gpus="nan"))
    assert e is None
    assert set(errors) == {"context", "batch", "gpus"}
    assert errors["batch"] == "not a number: 'lots'"


def test_every_wrong_name_in_a_link_is_named_at_its_field():
    # the estimate stops at the first wrong name it meets; a link with seven (and two bad numbers) names all nine
    e, errors = urlstate.estimate_from_fields(fields(weights="Q9_K", kv="q3_0", gpu="rtx-9090", engine="vllm2",
                                                     parallel="diagonal", act="max", kvm="guess", batch="0",
                                                     context="abc"))
    assert e is None
    assert set(errors) == {"weights", "kv", "gpu", "engine", "parallel", "act", "kvm", "batch", "context"}
    assert "'Q9_K'" in errors["weights"] and "'rtx-9090'" in errors["gpu"] and "'vllm2'" in errors["engine"]
    assert errors["parallel"] == "must be one of tensor, pipeline, got 'diagonal'"
    # the right names (any case), "auto" and the custom GPU pass the look-up
    e, errors = urlstate.estimate_from_fields(fields(weights="q4_k_m", kv="Q8_0", engine="auto", gpu="custom",
                                                     gpumem="24"))
    assert errors == {} and e is not None


def test_every_wrong_training_choice_is_named_at_its_field():
    _, errors = urlstate.training_estimate_from_fields(fields(mode="train", method="rlhf", precision="fp4",
                                                              optimizer="lion", ckpt="some", fsdp="half",
                                                              gpu="tpu-v9", rank="0"))
    assert set(errors) == {"method", "precision", "optimizer", "ckpt", "fsdp", "gpu", "rank"}
    assert errors["ckpt"] == "must be one of none, selective, full, got 'some'"


@pytest.mark.parametrize("changes,field", [
    ({"weights": "Q9_K"}, "weights"), ({"gpu": "rtx-9090"}, "gpu"), ({"model": "<script>x</script>"}, "model"),
    ({"gpu": "custom", "gpumem": ""}, "gpumem"), ({"gpu": "custom", "gpumem": "0"}, "gpumem"),
    ({"gpu": "custom", "gpumem": "-3"}, "gpumem"), ({"model": "imported"}, "model"), ({"overhead": "inf"}, "overhead"),
])
def test_bad_values_are_named_at_their_field(changes, field):
    e, errors = urlstate.estimate_from_fields(fields(**changes))
    assert e is None and list(errors) == [field]


def test_training_fields():
    e, errors = urlstate.training_estimate_from_fields(fields(mode="train", model="llama-3.1-8b", context="",
                                                              gpu="custom", gpumem="48"))
    assert errors == {}
    ts = TrainingScenario("llama-3.1-8b", method="lora", seq_len=urlstate.DEFAULT_SEQUENCE, gpu_memory_bytes=48 << 30)
    assert e.per_gpu.total == estimate_training(ts).per_gpu.total
    _, errors = urlstate.training_estimate_from_fields(fields(mode="train", rank="0", gpu="custom", gpumem=""))
    assert set(errors) == {"rank", "gpumem"}


# ---------------------------------------------------------------- the custom architecture form

@pytest.mark.parametrize("model_id,pattern", [("gemma-3-27b", "5of6"), ("gemma-2-9b", "alternate"),
                                              ("mixtral-8x7b", "none"), ("llama-3.1-8b", "none")])
def test_custom_form_round_trip(model_id, pattern):
    # Gemma 3: five sliding layers, then a global one (config sliding_window_pattern 6); Gemma 2 alternates,
    # starting with a sliding layer (transformers Gemma2: layer_types[i] sliding when i is even).
    spec = model(model_id)
    values, tied, shown = urlstate.custom_form(urlstate.config_of_spec(spec))
    assert shown == pattern
    again = urlstate.custom_model({"cfg": urlstate.custom_config(values, tied, shown)})
    for name in ("hidden_size", "num_layers", "num_heads", "num_kv_heads", "head_dim", "vocab_size", "max_context",
                 "num_experts", "experts_per_token", "layer_types", "sliding_window", "tie_embeddings"):
        assert getattr(again, name) == getattr(spec, name), name


@pytest.mark.parametrize("cfg", ["[" * 20000, "[1, 2]", '{"layer_types": 5}', "{bad json", '"text"', ""])
def test_custom_form_survives_any_link(cfg):
    values, tied, pattern = urlstate.custom_form(cfg)
    assert pattern in ("none", "5of6") and tied in (True, False)
    _, errors = urlstate.estimate_from_fields(fields(model="custom", cfg=cfg))
    assert list(errors) in ([], ["cfg"])


@pytest.mark.parametrize("raw", ["1e999", "inf", "-inf", "nan", "12abc"])
def test_custom_numbers_that_are_not_sizes(raw):
    cfg = urlstate.custom_config({"hidden_size": raw, "num_hidden_layers": "2"}, False, "all")
    e, errors = urlstate.estimate_from_fields(fields(model="custom", cfg=cfg))
    assert e is None and list(errors) == ["cfg"] and "hidden_size" in errors["cfg"]


def test_custom_config_numbers():
    cfg = urlstate.custom_config({"hidden_size": " 4096 ", "num_hidden_layers": "32.0", "head_dim": "128"},
                                 True, "none")
    assert cfg == '{"model_type":"llama","hidden_size":4096,"num_hidden_layers":32,"head_dim":128,' \
                  '"tie_word_embeddings":true}'


# ---------------------------------------------------------------- strings that reach the page

def test_embed_snippet_escapes_the_link():
    snippet = urlstate.embed_snippet('https://example.org/"calc"/', fields(name='<b>"x"</b>'))
    assert '<b>' not in snippet and '&quot;calc&quot;' in snippet
    assert snippet.startswith('<iframe id="llm-memory" src="https://example.org/&quot;calc&quot;/embed.html?model=')


@pytest.mark.parametrize("model_id,ok", [("Qwen/Qwen2.5-7B", True), ("meta-llama/Llama-3.1-8B", True),
                                         ("../etc/passwd", False), ("a/b/c", False), ("owner/..", False),
                                         ("owner/<script>", False), ("https://x.org/a", False)])
def test_hub_ids(model_id, ok):
    assert urlstate.valid_hub_id(model_id) is ok


def test_choosing_a_preset_selects_the_format_its_checkpoint_ships_in():
    from pycore.urlstate import shipped_weights
    assert shipped_weights("gpt-oss-20b", "Q4_K_M") == "MXFP4"  # OpenAI ships the experts in MXFP4
    assert shipped_weights("kimi-k2", "BF16") == "FP8-block"  # Moonshot ships FP8 with 128×128 block scales
    assert shipped_weights("qwen3-8b", "Q5_K_M") == "Q5_K_M"  # a 16-bit checkpoint keeps the user's choice
    assert shipped_weights("llama-3.1-8b", "MXFP4") == "BF16"  # leaving another checkpoint's own format
    assert shipped_weights("not-a-preset", "Q4_K_M") == "Q4_K_M"


# ---------------------------------------------------------------- engine settings (issue #10, the page)

ENGINE_LINKS = [  # form fields -> the Scenario fields they must give (pycore.scenario)
    (dict(ngl="20", flash_attn="off", ram="16"), dict(ngl=20, flash_attn="off", ram_bytes=16 << 30)),
    (dict(ngl="0", ubatch="256", no_kv_offload="1"), dict(ngl=0, ubatch=256, kv_offload=False)),
    (dict(model="gemma-3-27b", swa_full="1", flash_attn="on", ram="12.5"),
     dict(model="gemma-3-27b", swa_full=True, flash_attn="on", ram_bytes=int(12.5 * 2**30))),
    (dict(model="qwen3-30b-a3b", n_cpu_moe="12", ram="64"), dict(model="qwen3-30b-a3b", n_cpu_moe=12, ram_bytes=64 << 30)),
    (dict(weights="BF16", engine="vllm", gpu="h100-sxm", gpu_memory_utilization="0.8", max_num_batched_tokens="4096",
          max_num_seqs="16"),
     dict(weights="BF16", engine="vllm", gpu="h100-sxm", gpu_memory_utilization=0.8, max_num_batched_tokens=4096,
          max_num_seqs=16)),
]


@pytest.mark.parametrize("form,scenario", ENGINE_LINKS)
def test_engine_settings_round_trip_through_a_link(form, scenario):
    f = fields(**form, context="4096")
    query = urlstate.to_query(f)
    for key in form:  # every changed engine setting is in the link, under its own key
        assert f"{key}=" in query
    back = urlstate.parse_query("?" + query)
    assert back == f
    e, errors = urlstate.estimate_from_fields(back)
    assert errors == {}
    want = estimate(Scenario(**{"model": "llama-3.1-8b", "weights": "Q4_K_M", "gpu": "rtx-4090", "context": 4096,
                                **scenario}))
    assert e.scenario == want.scenario
    assert (e.total, e.host, e.engine_plan.log) == (want.total, want.host, want.engine_plan.log)


def test_engine_defaults_stay_out_of_the_link():
    query = urlstate.to_query(fields(context="4096"))
    for key in ("flash_attn", "ubatch", "ngl", "n_cpu_moe", "swa_full", "no_kv_offload", "ram",
                "gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs"):
        assert key + "=" not in query
    # a page without the engine inputs (the embed) keeps their defaults, never blanks
    partial = {k: v for k, v in fields(context="4096").items() if k not in ("flash_attn", "swa_full")}
    assert urlstate.to_query(partial) == query
    e, errors = urlstate.estimate_from_fields(partial)
    assert errors == {} and e.scenario.flash_attn == "auto" and e.scenario.ngl is None


@pytest.mark.parametrize("changes,field", [
    ({"ngl": "-1"}, "ngl"), ({"ngl": "2.5"}, "ngl"), ({"ngl": "1e9"}, "ngl"), ({"n_cpu_moe": "-3"}, "n_cpu_moe"),
    ({"ubatch": "0"}, "ubatch"), ({"ram": "0"}, "ram"), ({"ram": "-8"}, "ram"), ({"ram": "lots"}, "ram"),
    ({"ram": "1e300"}, "ram"), ({"gpu_memory_utilization": "1.5"}, "gpu_memory_utilization"),
    ({"gpu_memory_utilization": "0"}, "gpu_memory_utilization"), ({"gpu_memory_utilization": "nan"}, "gpu_memory_utilization"),
    ({"max_num_seqs": "0"}, "max_num_seqs"), ({"max_num_batched_tokens": "x"}, "max_num_batched_tokens"),
    ({"flash_attn": "maybe"}, "flash_attn"),
])
def test_bad_engine_settings_are_named_at_their_field(changes, field):
    e, errors = urlstate.estimate_from_fields(fields(**changes))
    assert e is None and list(errors) == [field], errors
    assert errors[field]


def test_utilization_message_says_the_range():
    _, errors = urlstate.estimate_from_fields(fields(engine="vllm", weights="BF16", gpu_memory_utilization="1.5"))
    assert "at most 1" in errors["gpu_memory_utilization"]
