"""llama.cpp's --tensor-split: layers over several GPUs in proportion to the values given.

src/llama-model.cpp load_tensors (llama.cpp 0c1e57098bba43ac29e6e3b677cdceebdd22334f): the split values are
summed cumulatively and divided by their sum, in float ("sum and normalize the splits to get the split
points"); layer il of the offloaded ones goes to GPU upper_bound(points, float(il − i_gpu_start) /
act_gpu_layers), the first GPU whose point is above the layer's fraction; the output layer is layer n_layer.
"""
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pycore.engines.llamacpp import layer_devices, split_points
from pycore.errors import InputError
from pycore.memory import estimate
from pycore.scenario import Scenario
from pycore.urlstate import estimate_from_fields, parse_query


def _counts(devs, gpus):
    return [devs.count(g) for g in range(gpus)], devs.count(-1)


def test_three_to_one_by_hand():
    # Llama 3.1 70B: 80 blocks + the output layer = 81 layers, all offloaded, --tensor-split 3,1.
    # points = (3/4, 4/4) = (0.75, 1.0); layer il goes to GPU 0 while il/81 < 0.75, i.e. il ≤ 60 (60/81 = 0.7407,
    # 61/81 = 0.7531): GPU 0 holds blocks 0-60 (61 layers), GPU 1 blocks 61-79 and the output layer (20).
    assert split_points((3.0, 1.0)) == (0.75, 1.0)
    devs = layer_devices(80, -1, 2, (3.0, 1.0))
    assert _counts(devs, 2) == ([61, 20], 0)
    assert devs[60] == 0 and devs[61] == 1 and devs[80] == 1


def test_split_of_a_partial_offload_by_hand():
    # --ngl 41 of 81: i_gpu_start = 81 − 41 = 40, blocks 0-39 stay on the CPU; --tensor-split 1,1: points
    # (0.5, 1.0), f = (il − 40)/41 < 0.5 while il − 40 ≤ 20: GPU 0 holds blocks 40-60 (21), GPU 1 blocks 61-79
    # and the output layer (20)
    assert _counts(layer_devices(80, 41, 2, (1.0, 1.0)), 2) == ([21, 20], 40)


def test_a_zero_share_gets_no_layer():
    # --tensor-split 0,1: points (0, 1); every fraction f ≥ 0 is not above 0, so every layer goes to GPU 1
    assert _counts(layer_devices(32, -1, 2, (0.0, 1.0)), 2) == ([0, 33], 0)


def test_split_points_are_floats_as_llama_cpp_computes_them():
    # --tensor-split 1,1,0.1 over 21 layers (20 blocks + output). In float: 0.1f = 0.100000001490116,
    # sum = 2.1f = 2.09999990463257, points = (1/2.1f, 2/2.1f, 1) = (0.476190507, 0.952381015, 1.0); the layer
    # fractions are 10/21 = 0.476190478 and 20/21 = 0.952380955 in float, each just under its point, so layer 10
    # stays on GPU 0 and the output layer (20) on GPU 1: the third GPU gets none. In exact arithmetic 10/21 and
    # 20/21 would equal the points (1/2.1 = 10/21) and move on: 10, 10, 1.
    points = split_points((1.0, 1.0, 0.1))
    assert points == (0.4761905074119568, 0.9523810148239136, 1.0)
    assert _counts(layer_devices(20, -1, 3, (1.0, 1.0, 0.1)), 3) == ([11, 10, 0], 0)


def test_even_without_a_split():
    assert _counts(layer_devices(80, -1, 2), 2) == ([41, 40], 0)
    assert layer_devices(80, -1, 2, (1.0, 1.0)) == layer_devices(80, -1, 2)


def _est(**kw):
    base = dict(model="llama-3.1-70b", weights="Q4_K_M", gpu="rtx-4090", gpus=2, engine="llama.cpp", context=8192)
    return estimate(Scenario(**{**base, **kw}))


def test_the_estimate_places_weights_and_kv_by_the_split():
    even, uneven = _est(), _est(tensor_split=(3, 1))
    assert uneven.engine_plan.fields["layers_per_gpu"] == [61, 20]
    assert uneven.engine_plan.fields["tensor_split"] == [3.0, 1.0]
    # KV per layer: 8,192 cells × 2 (K and V) × 8 KV heads × 128 × 2 B (f16) = 32 MiB; GPU 0 holds 61 blocks,
    # GPU 1 19 blocks (the output layer has no KV)
    per_layer = 8192 * 2 * 8 * 128 * 2
    assert [d.kv_cache for d in uneven.devices] == [61 * per_layer, 19 * per_layer]
    # the whole is the same, only placed differently
    assert sum(d.weights for d in uneven.devices) == sum(d.weights for d in even.devices)
    assert uneven.devices[0].weights > even.devices[0].weights > even.devices[1].weights > uneven.devices[1].weights
    assert any("--tensor-split 3,1: 61, 20 of the 81 layers" in w for w in uneven.warnings)


def test_a_split_is_normalised_and_checked():
    assert Scenario("llama-3.1-8b", gpus=3, tensor_split="3, 1").tensor_split == (3.0, 1.0, 0.0)
    assert Scenario("llama-3.1-8b", gpus=2).tensor_split == ()
    for bad, words in (("3,x", "not a number"), ((1, 2, 3), "3 values for 2 GPUs"), ((0, 0), "above zero"),
                       ((-1, 2), "zero or more"), ((float("nan"), 1), "finite"), ((True, 1), "numbers"),
                       ("1," * 200_000, "characters"), (tuple(range(5000)), "more than")):
        with pytest.raises(InputError, match=words) as err:
            Scenario("llama-3.1-8b", gpus=2, tensor_split=bad)
        assert err.value.field == "tensor_split"


def test_other_engines_say_the_split_is_not_theirs():
    e = _est(engine="vllm", tensor_split=(3, 1))
    assert any("--tensor-split is llama.cpp's own setting" in w for w in e.warnings)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "pycore", "estimate", *args], capture_output=True, text=True,
                          timeout=60)


def test_cli_and_json():
    p = _cli("--model", "llama-3.1-70b", "--weights", "Q4_K_M", "--gpu", "rtx-4090", "--gpus", "2",
             "--engine", "llama.cpp", "--context", "8192", "--tensor-split", "3,1", "--json")
    assert p.returncode == 0, p.stderr
    eng = json.loads(p.stdout)["engine"]
    assert eng["tensor_split"] == [3.0, 1.0] and eng["layers_per_gpu"] == [61, 20]
    bad = _cli("--model", "llama-3.1-70b", "--gpus", "2", "--engine", "llama.cpp", "--tensor-split", "3,1,1")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "tensor_split" in bad.stderr and "3 values for 2 GPUs" in bad.stderr


def test_a_link_carries_the_split():
    fields = parse_query("?model=llama-3.1-70b&weights=Q4_K_M&gpu=rtx-4090&gpus=2&engine=llama.cpp&tensor_split=3,1")
    e, errors = estimate_from_fields(fields)
    assert not errors and e.engine_plan.fields["layers_per_gpu"] == [61, 20]
    e, errors = estimate_from_fields(parse_query("?gpus=2&engine=llama.cpp&tensor_split=3,zz"))
    assert "not a number" in errors["tensor_split"] and list(errors) == ["tensor_split"]  # a message at the field


@settings(max_examples=80, deadline=None)
@given(n_layer=st.integers(1, 200), ngl=st.integers(-1, 201),
       split=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=6).filter(lambda v: sum(v) > 0.01))
def test_layers_follow_the_split_in_order(n_layer, ngl, split):
    gpus = len(split)
    devs = layer_devices(n_layer, ngl, gpus, tuple(split))
    on = n_layer + 1 if ngl < 0 else min(ngl, n_layer + 1)
    assert len(devs) == n_layer + 1 and devs.count(-1) == n_layer + 1 - on
    offloaded = [d for d in devs if d >= 0]
    assert offloaded == sorted(offloaded) and all(0 <= d < gpus for d in offloaded)  # contiguous, in GPU order
    total = sum(split)
    for g, share in enumerate(split):
        # exactly, GPU g holds the layers whose fraction lies in [p_g-1, p_g): ngl × share ± 1; float rounding of
        # the points can move a layer sitting on a boundary, one per boundary
        assert abs(offloaded.count(g) - on * share / total) < 3
        if share == 0:
            assert offloaded.count(g) == 0


@settings(max_examples=15, deadline=None)
@given(a=st.integers(0, 9), b=st.integers(0, 9), ngl=st.integers(0, 81))
def test_a_split_moves_bytes_between_gpus_but_keeps_the_whole(a, b, ngl):
    if a + b == 0:
        return
    even, split = _est(ngl=ngl), _est(ngl=ngl, tensor_split=(a, b))
    whole = lambda e: sum(d.weights + d.kv_cache for d in e.devices) + e.host.weights + e.host.kv_cache  # noqa: E731
    assert whole(split) == whole(even)
    assert sum(split.engine_plan.fields["layers_per_gpu"]) == sum(even.engine_plan.fields["layers_per_gpu"])
