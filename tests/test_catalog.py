"""The hardware catalog: size, coverage, every field present and plausible, old ids kept, and the
figures agree with the project's reference specifications (shared/reference/devices.json)."""
import json

import pytest

from pycore.cli import run
from pycore.devices import GROUPS
from pycore.hardware import ALIASES, GPUS, apple_gpu_share, gpu
from pycore.units import GiB
from pycore.view import gpu_groups

KINDS = {"gpu", "laptop", "workstation", "datacenter", "unified", "cpu"}
MEMORY_KINDS = {"GDDR5", "GDDR5X", "GDDR6", "GDDR6X", "GDDR7", "HBM2", "HBM2e", "HBM3", "HBM3e", "LPDDR5",
                "LPDDR5X", "DDR4", "DDR5"}
BACKENDS = {"CUDA", "ROCm", "Metal", "Vulkan", "SYCL", "CPU"}


def test_at_least_120_devices_every_field_filled():
    assert len(GPUS) >= 120
    for g in GPUS.values():
        assert g.kind in KINDS and g.memory_type in MEMORY_KINDS and g.backend in BACKENDS, g.id
        assert g.group in GROUPS, g.id
        assert 0 < g.usable_bytes <= g.memory_bytes, g.id
        assert 10 <= g.bandwidth_gbps <= 10_000, g.id  # GB/s: a Jetson's 68 to a B300's 8,000
        assert 0.5 <= g.fp16_tflops <= 3000, g.id
        assert g.spec_source.startswith("https://"), g.id
        assert g.fp4 <= g.fp8 or g.vendor == "AMD", g.id  # every FP4 part here also has FP8


def test_coverage_of_the_issue():
    ids = set(GPUS)
    for wanted in ("gtx-1080-ti", "rtx-2080-ti", "rtx-3060", "rtx-4060", "rtx-5090", "rtx-4090-laptop",
                   "rtx-5070-laptop", "v100-32gb", "b300", "h20", "l20", "a800-80gb", "h800", "gh200", "gb200",
                   "mi300x", "rx-6800-xt", "rx-7900-xtx", "rx-9070-xt", "arc-b580", "arc-a770", "m1-8gb",
                   "m5-32gb", "ryzen-ai-max-395-128gb", "dgx-spark", "jetson-agx-orin-64gb", "jetson-agx-thor",
                   "cpu-ddr5-6000-2ch", "cpu-ddr5-4800-12ch"):
        assert wanted in ids, wanted
    # Apple: every GPU-core variant of every chip, each memory option
    assert {g.name.split(" (")[0] for g in GPUS.values() if g.vendor == "Apple"} >= {
        "Apple M1", "Apple M1 Pro", "Apple M1 Max", "Apple M1 Ultra", "Apple M2", "Apple M2 Pro", "Apple M2 Max",
        "Apple M2 Ultra", "Apple M3", "Apple M3 Pro", "Apple M3 Max", "Apple M3 Ultra", "Apple M4", "Apple M4 Pro",
        "Apple M4 Max", "Apple M5"}
    assert GPUS["m3-max-36gb"].name == "Apple M3 Max (30-core GPU) 36 GB"  # 36 GB comes only with 30 cores
    assert GPUS["m4-pro-16c-24gb"].bandwidth_gbps == 273


@pytest.mark.parametrize("old", ["mac-8gb", "m1-pro-16gb", "m2-24gb", "m2-max-32gb", "m4-32gb", "m4-max-36gb",
                                 "m4-pro-48gb", "m3-max-48gb", "m1-max-64gb", "m2-max-96gb", "m4-max-128gb",
                                 "m2-ultra-192gb", "m3-ultra-512gb", "rtx-3060", "rtx-3080", "rtx-3090",
                                 "rtx-3090-ti", "rtx-4060-ti-16gb", "rtx-4070-ti-super", "rtx-4080", "rtx-4090",
                                 "rtx-5080", "rtx-5090", "rtx-a6000", "rtx-6000-ada", "rtx-pro-6000", "t4",
                                 "v100-16gb", "v100-32gb", "a10", "a10g", "l4", "l40s", "a100-40gb", "a100-80gb",
                                 "h100-sxm", "h100-pcie", "h100-nvl", "h200", "b200", "gh200", "mi210", "mi250x",
                                 "mi300x", "mi325x", "mi355x", "rx-7900-xtx"])
def test_every_earlier_id_still_resolves(old):
    g = gpu(old)
    assert g.id == ALIASES.get(old, old)


def test_apple_usable_is_the_metal_share():
    # 2/3 up to 32 GiB, 3/4 above (llama.cpp Metal logs, see hardware.apple_gpu_share)
    assert GPUS["m2-max-96gb"].usable_bytes == 72 * GiB
    assert GPUS["m4-16gb"].usable_bytes == apple_gpu_share(16 * GiB) == 16 * GiB * 2 // 3


def test_cpu_bandwidth_is_channels_times_transfer_rate():
    # DDR5-4800, 12 channels × 4800 MT/s × 8 bytes = 460.8 GB/s (AMD EPYC 9004 datasheet figure)
    assert GPUS["cpu-ddr5-4800-12ch"].bandwidth_gbps == pytest.approx(460.8)
    assert GPUS["cpu-ddr4-3200-2ch"].bandwidth_gbps == pytest.approx(51.2)


# Figures of shared/reference/devices.json (each with its own source there), by catalog id:
# (bandwidth GB/s, dense FP16 TFLOPS or None)
REFERENCE_SPECS = {
    "rtx-3070": (448, None), "rtx-3080-ti": (912.4, None), "rtx-3080": (760.3, None), "rtx-3090": (936.2, None),
    "rtx-4070-ti": (504, 160), "rtx-4080": (716.8, None), "rtx-4090": (1008, 330), "rtx-6000-ada": (960, 364),
    "a100-80gb-pcie": (1940, 312), "a100-80gb": (2039, 312), "a40": (696, 149.7), "rtx-a6000": (768, None),
    "h100-pcie": (2000, 756), "l40s": (864, 362), "dgx-spark": (273, None), "rtx-3090-ti": (1008, None),
    "ryzen-ai-max-395-128gb": (256, None), "rx-7900-xtx": (960, None), "rtx-pro-6000": (1792, None),
    "rtx-5090": (1792, 419), "h100-sxm": (3350, 989.4), "rtx-5080": (960, None), "rtx-5070-ti": (896, None),
    "rtx-5060-ti": (448, None), "radeon-ai-pro-r9700": (640, None), "rtx-4080-super": (736, 209),
    "h200": (4800, None), "m1-7c-8gb": (68, None), "m1-max-64gb": (400, None), "m2-ultra-192gb": (800, None),
    "m3-max-48gb": (400, None), "m3-pro-18gb": (150, None), "m3-max-36gb": (300, None),
    "m4-pro-24gb": (273, None), "m4-max-36gb": (410, None), "m4-max-128gb": (546, None), "m4-16gb": (120, None),
}


@pytest.mark.parametrize("gid", sorted(REFERENCE_SPECS))
def test_catalog_agrees_with_reference_specs(gid):
    bandwidth, fp16 = REFERENCE_SPECS[gid]
    g = GPUS[gid]
    assert g.bandwidth_gbps == pytest.approx(bandwidth, rel=0.035), gid  # 3.5%: 1935 vs 1940, 68.25 vs 68
    if fp16:
        assert g.fp16_tflops == pytest.approx(fp16, rel=0.01), gid


def test_gpus_json_lists_every_field():
    rows = json.loads(run(["gpus", "--json"]))
    assert len(rows) == len(GPUS)
    for key in ("id", "memory_bytes", "usable_bytes", "bandwidth_gbps", "fp16_tflops", "int8_tops", "fp8", "fp4",
                "memory_type", "bus", "backend", "source", "spec_source", "group", "kind"):
        assert all(key in r for r in rows), key


def test_picker_groups_cover_every_device_once():
    groups = gpu_groups()
    ids = [gid for _, rows in groups for gid, _ in rows]
    assert sorted(ids) == sorted(GPUS)
    assert [name for name, _ in groups] == [g for g in GROUPS if any(n == g for n, _ in groups)]


def test_old_link_with_an_alias_selects_the_catalog_device():
    from pycore.urlstate import parse_query
    assert parse_query("?gpu=mac-8gb")["gpu"] == "m1-8gb"
    assert parse_query("?gpu=m3-ultra-512gb")["gpu"] == "m3-ultra-512gb"


def test_a_links_radio_value_outside_its_choices_is_the_default():
    # ?mode=foo once stopped the page's start (app.py looked the question's labels up by it); ?units=TB left
    # neither radio checked. The page shows the radio it computes with.
    from pycore.urlstate import parse_query
    for query in ("?mode=foo", "?mode=", "?mode=TRAIN", "?mode=%3Cscript%3E"):
        assert parse_query(query)["mode"] == "infer", query
    assert parse_query("?mode=train")["mode"] == "train"
    assert parse_query("?units=TB")["units"] == "GiB"
    assert parse_query("?units=GB")["units"] == "GB"


def test_a_size_field_says_the_same_minimum_for_zero_and_for_a_negative():
    # a review read "must be a size in GiB, zero or more" for ram=-1 and "must be more than zero" for ram=0
    from pycore.urlstate import estimate_from_fields, parse_query
    for query, field in (("?ram=-1", "ram"), ("?ram=0", "ram"), ("?gpu=custom&gpumem=-4", "gpumem"),
                         ("?gpu=custom&gpumem=0", "gpumem")):
        _, errors = estimate_from_fields(parse_query(query))
        assert errors[field] == "must be a size in GiB, more than zero", (query, errors)
    _, errors = estimate_from_fields(parse_query("?overhead=-1"))
    assert errors["overhead"] == "must be a size in GiB, zero or more"  # an overhead of 0 is one


def test_a_huge_count_is_said_in_few_digits():
    from pycore.urlstate import estimate_from_fields, parse_query
    _, errors = estimate_from_fields(parse_query("?context=1e30"))
    assert errors["context"].startswith("1e+30 is beyond the supported maximum of "), errors
