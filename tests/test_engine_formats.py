"""What each engine loads (pycore.engines.check_weights) and what the answers recommend for it. A review found
"Best weight format: GPTQ-8bit-g32" for KoboldCpp (it loads GGUF files only) and Q6_K for SGLang, and AWQ accepted
on llama.cpp without a word."""
import pytest

from pycore import Scenario, estimate, solve
from pycore.engines import ENGINES, check_weights
from pycore.errors import InputError
from pycore.formats import weight_format


@pytest.mark.parametrize("engine", ["llama.cpp", "ollama", "koboldcpp"])
@pytest.mark.parametrize("fmt", ["AWQ-4bit-g128", "GPTQ-4bit-g128", "NF4", "FP8"])
def test_the_llama_cpp_family_refuses_checkpoint_formats(engine, fmt):
    # llama.cpp's loader reads GGUF files only (src/llama-model-loader.cpp gguf_init_from_file)
    with pytest.raises(InputError) as err:
        estimate(Scenario("llama-3.1-8b", weights=fmt, engine=engine, gpu="rtx-4090"))
    assert err.value.field == "weights" and "GGUF" in err.value.message and fmt in err.value.message


@pytest.mark.parametrize("engine", ["llama.cpp", "ollama", "koboldcpp"])
def test_the_llama_cpp_family_loads_gguf_16_bit_and_mxfp4(engine):
    for fmt in ("Q4_K_M", "IQ3_XXS", "ggml:Q8_0", "BF16", "INT4"):
        assert check_weights(ENGINES[engine], weight_format(fmt)) == ""
    # gpt-oss's GGUF files keep its MXFP4 experts (a ggml type)
    assert estimate(Scenario("gpt-oss-20b", weights="MXFP4", engine=engine, gpu="rtx-4090")).total > 0


@pytest.mark.parametrize("engine", ["vllm", "sglang"])
def test_vllm_and_sglang_load_gguf_only_as_an_experimental_format(engine):
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine=engine, gpu="rtx-4090"))
    assert any("experimental" in w and "GGUF" in w for w in e.warnings)
    checkpoint = estimate(Scenario("llama-3.1-8b", weights="AWQ-4bit-g128", engine=engine, gpu="rtx-4090"))
    assert not any("experimental" in w for w in checkpoint.warnings)


def test_transformers_refuses_a_gguf_size():
    # transformers dequantizes a GGUF file as it loads it: the file's size is not what it holds
    with pytest.raises(InputError) as err:
        estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", engine="transformers", gpu="rtx-4090"))
    assert err.value.field == "weights" and "dequantizes" in err.value.message
    assert estimate(Scenario("llama-3.1-8b", weights="NF4", engine="transformers", gpu="rtx-4090")).total > 0


@pytest.mark.parametrize("engine", ["koboldcpp", "llama.cpp", "ollama", "vllm", "sglang", "transformers"])
def test_the_best_format_is_one_the_engine_loads(engine):
    s = Scenario("qwen3-32b", engine=engine, gpu="rtx-4090", context=8192)
    best = solve.best_format(s).value
    assert best is not None
    assert check_weights(ENGINES[engine], weight_format(best)) == ""  # loaded, and not as an experimental format
    assert estimate(s.with_(weights=best)).fit.fits
    # every format ranked above it is one the engine loads and does not fit
    ranked = [f.name for f in solve.ranked_formats(s)]
    assert all(check_weights(ENGINES[engine], weight_format(f)) == "" for f in ranked)
    assert not any(estimate(s.with_(weights=f)).fit.fits for f in ranked[:ranked.index(best)])


def test_overhead_given_to_an_engine_that_measures_its_own_is_named():
    for engine in ("vllm", "sglang"):
        a = estimate(Scenario("llama-3.1-8b", weights="BF16", engine=engine, gpu="rtx-4090"))
        b = estimate(Scenario("llama-3.1-8b", weights="BF16", engine=engine, gpu="rtx-4090", overhead_bytes=5 << 30))
        assert a.total == b.total  # not applied ...
        assert any(w.startswith("--overhead is not") for w in b.warnings)  # ... and said so
        assert not any(w.startswith("--overhead is not") for w in a.warnings)
