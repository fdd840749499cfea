"""Properties over many scenarios (hypothesis): monotone, linear until a window caps it, parts add up,
and the inverse answers agree with the forward estimate."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pycore.errors import InputError
from pycore.memory import estimate
from pycore.presets import PRESETS
from pycore.scenario import Scenario
from pycore.solve import max_batch, max_context

MODELS = sorted(PRESETS)
FORMATS = ["BF16", "Q4_K_M", "Q8_0", "NF4", "GPTQ-4bit-g128", "INT4", "IQ3_XXS", "MXFP4"]
ENGINES = ["vllm", "llama.cpp", "transformers", "sglang"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.sampled_from(MODELS), st.sampled_from(FORMATS), st.sampled_from(ENGINES),
       st.integers(1, 200_000), st.integers(1, 200_000), st.integers(1, 64))
def test_monotone_in_context_and_batch(model, fmt, engine, c1, c2, batch):
    from pycore.engines import ENGINES as ALL, check_weights
    from pycore.formats import weight_format
    try:  # a format the engine does not load (GGUF on transformers, GPTQ on llama.cpp) is refused, not estimated
        check_weights(ALL[engine], weight_format(fmt))
    except InputError:
        return
    lo, hi = sorted((c1, c2))
    s = Scenario(model, weights=fmt, engine=engine, context=lo, batch=batch)
    a, b = estimate(s), estimate(s.with_(context=hi))
    assert a.total <= b.total and a.kv_cache.bytes <= b.kv_cache.bytes
    assert estimate(s.with_(batch=batch + 1)).total >= a.total


@FAST
@given(st.sampled_from(MODELS), st.integers(1, 50_000), st.integers(1, 8))
def test_kv_linear_until_a_window_caps_it(model, context, batch):
    # Architecture figure (transformers: no cell rounding): each full layer grows by its per-token
    # bytes; a sliding layer grows until the window, then stays.
    s = Scenario(model, context=context, batch=batch, engine="transformers")
    e1, e2 = estimate(s), estimate(s.with_(context=context + 1))
    spec = e1.model
    from pycore.models import attention_layers
    from pycore.formats import kv_format
    layers = attention_layers(spec, mla=e1.engine.mla_cache)  # transformers caches MLA expanded per head
    step = sum(batch * layer.bytes_per_token(kv_format("f16")) for layer in layers
               if layer.cached_tokens(context + 1) > layer.cached_tokens(context))
    assert e2.kv_cache.bytes - e1.kv_cache.bytes == step
    if spec.sliding_window and context >= spec.sliding_window:
        assert step < batch * sum(layer.bytes_per_token(kv_format("f16")) for layer in layers)


@FAST
@given(st.sampled_from(MODELS), st.sampled_from([2, 4, 8]), st.sampled_from(["tensor", "pipeline"]),
       st.sampled_from(FORMATS))
def test_parallel_per_device_figures_add_up(model, gpus, mode, fmt):
    try:
        e = estimate(Scenario(model, weights=fmt, context=4096, gpus=gpus, parallel=mode))
    except ValueError:
        return  # this model's heads do not divide over this many GPUs: refused, not approximated
    assert len(e.devices) == gpus
    h = e.host
    on_host = {"weights": h.weights, "kv_cache": h.kv_cache + h.state, "activations": h.compute + h.output,
               "overhead": 0} if h else dict.fromkeys(("weights", "kv_cache", "activations", "overhead"), 0)
    for key in ("weights", "kv_cache", "activations", "overhead"):
        assert sum(getattr(d, key) for d in e.devices) + on_host[key] == e.item(key).bytes
    assert sum(d.total for d in e.devices) + (h.total if h else 0) == e.total
    one = estimate(Scenario(model, weights=fmt, context=4096))
    if e.engine.name in ("llama.cpp", "ollama"):
        # llama.cpp splits layers over the GPUs whatever the parallel mode; nothing is lost or counted twice
        assert e.weights.bytes == one.weights.bytes and e.kv_cache.bytes == one.kv_cache.bytes
    elif mode == "pipeline":
        # every layer lives on exactly one stage; only a tied head is copied to the last stage
        extra = e.weights.bytes - one.weights.bytes
        embd = next(s.bytes for t, s in e.weight_storage.tensors if t.role == "token_embd")
        assert extra == (embd if one.model.tie_embeddings else 0)
        assert e.kv_cache.bytes == one.kv_cache.bytes
    else:
        # shards never hold more than the whole, and never less than an even share
        assert one.weights.bytes / gpus <= e.devices[0].weights <= one.weights.bytes


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(["llama-3.1-8b", "qwen2.5-7b", "gemma-2-9b", "mistral-nemo-12b", "phi-3-mini-4k"]),
       st.sampled_from(["Q4_K_M", "BF16", "NF4"]), st.sampled_from(["rtx-4090", "rtx-3090", "a100-40gb", "l4"]))
def test_inverse_answers_agree_with_the_forward_estimate(model, fmt, gpu):
    s = Scenario(model, weights=fmt, gpu=gpu, context=2048)
    ctx = max_context(s).value
    if ctx is not None:
        assert estimate(s.with_(context=ctx)).fit.fits
        if ctx < estimate(s).model.max_context:
            assert not estimate(s.with_(context=ctx + 1)).fit.fits
    answer = max_batch(s)
    b = answer.value
    if b is not None:
        assert estimate(s.with_(batch=b)).fit.fits
        try:
            assert not estimate(s.with_(batch=b + 1)).fit.fits
        except InputError as err:  # the engine refuses it (llama.cpp: at most 256 sequences), and the answer says so
            assert err.message in answer.reason
