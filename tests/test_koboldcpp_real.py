"""KoboldCpp's settings run through the real llama.cpp (llama-cpp-python 0.3.36, CPU only, zero weights): KoboldCpp's
adapter hands llama.cpp n_ctx = --contextsize + 128, n_batch = n_ubatch = --blasbatchsize, flash attention on or off,
one sequence, a unified cache (LostRuins/koboldcpp kcpp_src/gpttype_adapter.cpp@4fd0ceee); llama.cpp's code then
decides every buffer. What llama.cpp prints for those parameters must be what `--engine koboldcpp` predicts from
KoboldCpp's own settings: the KV caches and the output buffer to the printed digit, the CPU compute buffer to the
printed digit (the replay pycore/engines/llamacpp_graph.py), including a --blasbatchsize of 4096, which llama.cpp's
own default n_batch of 2048 would cut.
"""
import pytest

from llama_cpp_logs import available, run_llama_cpp
from llama_cpp_models import write_llama_cpp_gguf
from pycore.engines import koboldcpp
from pycore.memory import estimate
from pycore.scenario import Scenario
from pycore.units import MiB
from test_llama_cpp_real import MODELS

assert available(), "llama-cpp-python is not installed: pip install -r requirements-dev.txt"

# (KoboldCpp settings: --contextsize, --blasbatchsize, --flashattention, --quantkv type)
KOBOLD = [
    dict(contextsize=4096, blasbatchsize=512, flash="off", kv="f16"),  # KoboldCpp's defaults
    dict(contextsize=8192, blasbatchsize=4096, flash="on", kv="q8_0"),
    dict(contextsize=3000, blasbatchsize=256, flash="on", kv="f16"),
]


def llama_params(k: dict) -> dict:
    """The llama_context_params KoboldCpp's adapter sets for these settings."""
    return dict(n_ctx=k["contextsize"] + koboldcpp.EXTRA_CONTEXT, n_batch=k["blasbatchsize"],
                n_ubatch=k["blasbatchsize"], flash_attn=k["flash"], type_k=k["kv"], type_v=k["kv"], n_seq_max=1)


@pytest.fixture(scope="module", params=["llama-gqa", "gemma2-swa"])
def run(request, tmp_path_factory):
    name = request.param
    path = tmp_path_factory.mktemp("kobold") / f"{name}.gguf"
    write_llama_cpp_gguf(path, MODELS[name])
    _, printed = run_llama_cpp(str(path), [llama_params(k) for k in KOBOLD])
    return name, printed


def test_koboldcpp_buffers_as_llama_cpp_prints_them(run):
    name, printed = run
    for k, p in zip(KOBOLD, printed):
        e = estimate(Scenario(MODELS[name], weights="F16", engine="koboldcpp", context=k["contextsize"],
                              ubatch=k["blasbatchsize"], flash_attn=k["flash"], kv=k["kv"], ngl=0))
        f = e.engine_plan.fields
        assert f["n_ctx"] == p.n_ctx == koboldcpp.n_ctx(k["contextsize"]), (name, k)
        caches = e.engine_plan.caches
        assert [(cells, layers) for _, cells, layers, _ in caches] == [(c, n) for _, c, n in p.kv], (name, k)
        for (_, _, _, size), (mib, _, _) in zip(caches, p.kv):
            assert round(size / MiB, 2) == mib, (name, k, size / MiB, mib)
        assert round(e.host.output / MiB, 2) == p.output["CPU"], (name, k)
        assert round(e.host.compute / MiB, 2) == p.compute["CPU"], (name, k, e.host.compute / MiB, p.compute)
