"""Units are labelled and exact; the GPU catalog and the multi-GPU layout."""
from pycore.hardware import GPUS, apple_gpu_share, stage_layers
from pycore.memory import estimate
from pycore.scenario import Scenario
from pycore.units import GB, GiB, MiB, format_bytes, format_in


def test_gib_and_gb_are_never_confused():
    assert format_bytes(24 * GiB) == "24.00 GiB"
    assert format_bytes(24 * GiB, "decimal") == "25.77 GB"
    assert format_in(140 * GB, "GiB") == "130.39 GiB"
    assert format_bytes(512) == "512 B"
    assert format_bytes(384 * MiB) == "384.00 MiB"


def test_catalog_size_and_capacities():
    assert len(GPUS) >= 25
    vendors = {g.vendor for g in GPUS.values()}
    assert {"NVIDIA", "AMD", "Apple"} <= vendors
    for g in GPUS.values():
        assert 0 < g.usable_bytes <= g.memory_bytes, g.id
        assert g.source, g.id
    # nvidia-smi shows 24564 MiB on an RTX 4090 (RLinf/RLinf#255): a little under 24 GiB
    assert GPUS["rtx-4090"].usable_bytes == 24564 * MiB


def test_apple_share_of_unified_memory():
    # llama.cpp Metal logs: 21845.34 MiB on 32 GB (ollama/ollama#434), 49152 MiB on 64 GB (#1870)
    assert round(apple_gpu_share(32 * GiB) / MiB, 2) == 21845.33
    assert apple_gpu_share(64 * GiB) == 49152 * MiB


def test_pipeline_stages_cover_every_layer_once():
    for layers in (16, 32, 61, 80, 126):
        for pp in (2, 3, 4, 7, 8):
            stages = stage_layers(layers, pp)
            assert stages[0][0] == 0 and stages[-1][1] == layers
            assert all(a[1] == b[0] for a, b in zip(stages, stages[1:]))
            sizes = [hi - lo for lo, hi in stages]
            assert max(sizes) - min(sizes) <= 1 and sizes[-1] == min(sizes)


def test_vllm_uses_its_memory_fraction():
    e = estimate(Scenario("llama-3.1-8b", gpu="h100-sxm", engine="vllm"))
    assert e.fit.capacity == int(GPUS["h100-sxm"].usable_bytes * 0.92)


def test_overhead_per_gpu():
    e = estimate(Scenario("llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", gpus=4, overhead_bytes=500 * MiB))
    assert e.overhead.bytes == 4 * 500 * MiB
    assert all(d.overhead == 500 * MiB for d in e.devices)
