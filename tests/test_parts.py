"""Parts a checkpoint ships besides its language model (pycore/parts.py), against exact published counts
and hand counts from the modeling files' shapes."""
import json
from pathlib import Path

import pytest

from pycore.importers.hf_config import spec_from_config
from pycore.models import parameter_count
from pycore.parts import MTPLayers, QwenVisionTower, part_tensors
from pycore.presets import PRESETS, model

SIGLIP = {"model_type": "siglip_vision_model", "hidden_size": 1152, "intermediate_size": 4304,
          "num_hidden_layers": 27, "num_attention_heads": 16, "patch_size": 14, "image_size": 896}


@pytest.mark.parametrize("preset_id,exact", [
    # keras-hub keras_hub/src/models/gemma3/gemma3_presets.py "params" (whole Gemma3ForConditionalGeneration),
    # the same figure sum(p.numel()) gives for google/gemma-3-4b-it @093f9f38
    ("gemma-3-4b", 4_300_079_472), ("gemma-3-12b", 12_187_325_040), ("gemma-3-27b", 27_432_406_640)])
def test_gemma3_with_its_siglip_tower_is_exact(preset_id, exact):
    cfg = {"model_type": "gemma3", "text_config": dict(PRESETS[preset_id].config), "vision_config": SIGLIP}
    n = parameter_count(spec_from_config(cfg))
    assert n.total == exact
    assert dict(n.by_part)["language"] == parameter_count(model(preset_id)).total


def test_mistral_small_31_with_pixtral_is_exact():
    # keras-hub keras_hub/src/models/mistral3/mistral3_presets.py: mistral_small_3.1_24b "params": 24011361280
    n = parameter_count(model("mistral-small-3.1-24b"))
    assert n.total == 24_011_361_280
    assert set(dict(n.by_part)) == {"language", "vision"}


ARCH_DEV = next((p / "shared" / "reference" / "arch_dev.json" for p in Path(__file__).resolve().parents[1:4]
                 if (p / "shared" / "reference" / "arch_dev.json").exists()), Path("/nonexistent"))


def test_qwen35_vision_tower_hand_count():
    # Qwen3.5-9B vision_config (shared/reference/arch_dev.json): depth 27, hidden 1152, FFN 4304, patch 16,
    # temporal 2, 2304 positions, merge 2, out 4096. Shapes from Qwen3VLVisionModel:
    h, i, out = 1152, 4304, 4096
    patch = h * 3 * 2 * 16 * 16 + h
    pos = 2304 * h
    block = 4 * h + (h * 3 * h + 3 * h) + (h * h + h) + (h * i + i) + (i * h + h)
    merger = 2 * h + (4 * h * 4 * h + 4 * h) + (4 * h * out + out)
    tower = QwenVisionTower(depth=27, hidden=h, intermediate=i, out_hidden=out)
    tensors = tower.tensors()
    assert len(tensors) == 333  # arch_dev.json: "model.visual (333 tensors)"
    assert sum(t.numel for t in tensors) == patch + pos + 27 * block + merger == 456_010_480


@pytest.mark.skipif(not ARCH_DEV.exists(), reason="shared/reference is not on this machine")
def test_qwen35_config_reads_its_vision_tower_and_mtp_layer():
    cfg = json.loads(ARCH_DEV.read_text())["config"]
    try:
        spec = spec_from_config(cfg)
    except Exception as err:  # the Gated DeltaNet language model comes from the arch-core branch
        pytest.skip(f"Qwen3.5 language model not readable on this branch: {err}")
    n = parameter_count(spec)
    parts = dict(n.by_part)
    assert parts["vision"] == 456_010_480
    assert len(part_tensors(spec, "mtp")) == 15  # arch_dev.json: "mtp (15 tensors)"
    # arch_dev.json: model.safetensors.index.json total_size = 19,306,216,416 bytes, quoted as 9,653,108,208
    # "params" by halving it. The halving assumes every tensor is bf16. The gap to the count from the shapes is
    # exactly 24 Gated DeltaNet layers × 160 values (a 32-head vector such as A_log plus the 128-wide gated
    # norm) held in float32, 4 bytes each: with that, the checkpoint's byte total is reproduced to the byte.
    f32 = 24 * (32 + 128)
    assert 2 * n.total + 2 * f32 == 19_306_216_416
    assert n.total == 9_653_108_208 - f32
    # and the Hub API's own element count agrees: https://huggingface.co/api/models/Qwen/Qwen3.5-9B
    # safetensors.total = 9,653,104,368 (as recorded 2026-09-25 in a public model-licence audit table)
    assert n.total == 9_653_104_368


def test_mtp_layer_hand_count_dense_model():
    # One MTP layer of a dense Qwen3-style model (H 4096, 16 heads of 256 with q/k norms, 4 KV heads,
    # FFN 12288): fc 2H×H, three norms, then a decoder layer; embeddings shared (Qwen3.5 layout).
    cfg = {"model_type": "qwen3", "vocab_size": 1000, "hidden_size": 4096, "intermediate_size": 12288,
           "num_hidden_layers": 2, "num_attention_heads": 16, "num_key_value_heads": 4, "head_dim": 256,
           "max_position_embeddings": 4096, "tie_word_embeddings": False, "mtp_num_hidden_layers": 1}
    spec = spec_from_config(cfg)
    H = 4096
    layer = 2 * H + H * 4096 + 2 * H * 1024 + 4096 * H + 2 * 256 + 3 * H * 12288
    assert spec.parts == (MTPLayers(1),)
    assert dict(parameter_count(spec).by_part)["mtp"] == 2 * H * H + 3 * H + layer
    assert len(part_tensors(spec, "mtp")) == 15


def test_unknown_towers_are_said_not_silent():
    cfg = {"model_type": "llava", "text_config": dict(PRESETS["llama-3.1-8b"].config),
           "vision_config": {"model_type": "clip_vision_model"}, "audio_config": {"model_type": "whisper"}}
    notes = " ".join(spec_from_config(cfg).notes)
    assert "clip_vision_model" in notes and "audio" in notes


def test_hostile_part_sizes_end_in_a_message():
    from pycore.errors import InputError
    cfg = {"model_type": "gemma3", "text_config": dict(PRESETS["gemma-3-4b"].config),
           "vision_config": {**SIGLIP, "num_hidden_layers": 30_000_000}}
    with pytest.raises(InputError, match="num_hidden_layers"):
        spec_from_config(cfg)
    with pytest.raises(InputError, match="num_nextn_predict_layers"):
        spec_from_config({**PRESETS["glm-4.5"].config, "num_nextn_predict_layers": 10**9})


def test_qwen3_vl_deepstack_mergers_and_their_bound():
    # Qwen3-VL adds one merger per deepstack_visual_indexes entry (Qwen3VLVisionModel.deepstack_merger_list):
    # LayerNorm over the merged width (use_postshuffle_norm), fc1 merged → merged, fc2 merged → out, biased.
    h, out = 1152, 4096
    merged = 4 * h
    extra = 2 * merged + (merged * merged + merged) + (merged * out + out)
    base = QwenVisionTower(depth=27, hidden=h, intermediate=4304, out_hidden=out)
    deep = QwenVisionTower(depth=27, hidden=h, intermediate=4304, out_hidden=out, deepstack=3)
    assert sum(t.numel for t in deep.tensors()) - sum(t.numel for t in base.tensors()) == 3 * extra
    from pycore.errors import InputError
    cfg = {"model_type": "qwen3", "vocab_size": 1000, "hidden_size": 64, "intermediate_size": 128,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512,
           "vision_config": {"depth": 2, "hidden_size": 32, "intermediate_size": 64, "out_hidden_size": 64,
                             "deepstack_visual_indexes": list(range(10**6))}}
    with pytest.raises(InputError, match="deepstack"):
        spec_from_config(cfg)


def test_which_parts_each_engine_loads():
    from dataclasses import replace
    from pycore.memory import estimate
    from pycore.scenario import Scenario
    total = 24_011_361_280  # Mistral Small 3.1: language 23,572,403,200 + Pixtral tower and projector
    spec = model("mistral-small-3.1-24b")
    language = dict(parameter_count(spec).by_part)["language"]
    vllm = estimate(Scenario("mistral-small-3.1-24b", weights="BF16", engine="vllm"))
    assert vllm.weights.bytes == 2 * total  # vLLM loads the vision encoder of a multimodal architecture
    assert any("vision 438,958,080 parameters loaded" in n for n in vllm.weights.notes)
    hf = estimate(Scenario("mistral-small-3.1-24b", weights="BF16", engine="transformers"))
    assert hf.weights.bytes == 2 * total
    cpp = estimate(Scenario("mistral-small-3.1-24b", weights="BF16", engine="llama.cpp"))
    assert cpp.weights.bytes == 2 * language  # the tower is in a separate mmproj GGUF
    assert any("not loaded" in n for n in cpp.weights.notes)
    # MTP layers load for no engine's plain text serving: DeepSeek-V3's FP8 weights are the main model's
    ds = estimate(Scenario("deepseek-v3", weights="FP8-block", engine="vllm"))
    main = estimate(Scenario(replace(model("deepseek-v3"), parts=()), weights="FP8-block", engine="vllm"))
    assert ds.weights.bytes == main.weights.bytes and any("mtp" in n and "not loaded" in n for n in ds.weights.notes)
    # tensor parallelism splits the tower's matrices too; each rank's share adds up to at least the whole
    tp = estimate(Scenario("mistral-small-3.1-24b", weights="BF16", engine="vllm", gpus=2, parallel="tensor"))
    assert 2 * total <= tp.weights.bytes < 2 * total + 2 * 2 * 131072 * 5120
    # a model file's own tensors already hold its parts: nothing is added on top
    one = (("token_embd.weight", (5120, 131072), "BF16", 2 * 5120 * 131072),)
    filed = replace(spec, file_tensors=one, file_id="one-tensor", file_kind="safetensors")
    assert estimate(Scenario(filed, weights="file", engine="vllm")).weights.bytes == 2 * 5120 * 131072


def test_vllm_budget_holds_the_vision_tower_llama_cpp_does_not():
    # Qwen3.5-9B's tower is 456,010,480 parameters (333 tensors of the checkpoint, shared/reference/arch_dev.json,
    # counted in test_qwen35_vision_tower_hand_count): vLLM loads it in BF16 beside the language model, 2 bytes
    # each, and its KV budget shrinks by as much; llama.cpp's text GGUF leaves it out.
    from dataclasses import replace
    from pycore.memory import estimate
    from pycore.scenario import Scenario
    vllm = estimate(Scenario("qwen3.5-9b", weights="BF16", engine="vllm", gpu="h100-sxm"))
    cpp = estimate(Scenario("qwen3.5-9b", weights="BF16", engine="llama.cpp", gpu="h100-sxm"))
    tower = 2 * 456_010_480
    assert sum(d.weights for d in vllm.devices) - sum(d.weights for d in cpp.devices) - cpp.host.weights == tower
    alone = estimate(Scenario(replace(model("qwen3.5-9b"), parts=()), weights="BF16", engine="vllm", gpu="h100-sxm"))
    budget = "kv_cache_available_bytes"
    assert alone.engine_plan.fields[budget] - vllm.engine_plan.fields[budget] == tower
    assert not any("vision" in n and "loaded in 16-bit" in n for n in cpp.weights.notes)


@pytest.mark.parametrize("preset_id,exact", [
    # Hugging Face model API, safetensors.parameters.BF16 of each checkpoint:
    # https://huggingface.co/api/models/meta-llama/Llama-4-Scout-17B-16E-Instruct (revision 92f3b159...:
    # 108,641,793,536, recorded in a public acquisition report) and of Llama-4-Maverick-17B-128E-Instruct
    # (401,583,781,376); the model cards round them to "109B" and "400B" total.
    ("llama-4-scout", 108_641_793_536), ("llama-4-maverick", 401_583_781_376)])
def test_llama4_with_its_vision_encoder_is_exact(preset_id, exact):
    n = parameter_count(model(preset_id))
    assert n.total == exact
    # Hand count of the tower from modeling_llama4.py's shapes (hidden 1408, FFN 5632, 34 layers, 336 px images of
    # 14 px patches, adapter 5632 → 4096 → 4096, projector 4096 → 5120), as a printed module table of the
    # Scout checkpoint lists them: class embedding 1408, position embedding 577 × 1408 = 812,416, patch linear
    # 588 × 1408 = 827,904, q/k/v/o 1408² + 1408 each, fc1 1408 × 5632 + 5632, fc2 5632 × 1408 + 1408, two
    # LayerNorms per block, adapter fc1 23,068,672, fc2 16,777,216, projector 20,971,520.
    h, i = 1408, 5632
    block = 4 * (h * h + h) + (h * i + i) + (i * h + h) + 2 * 2 * h
    tower = h + 577 * h + 588 * h + 2 * 2 * h + 34 * block + i * 4096 + 4096 * 4096 + 4096 * 5120
    assert dict(n.by_part)["vision"] == tower == 871_932_416


def test_llama4_vision_tower_loads_only_where_the_engine_loads_it():
    from pycore.memory import estimate
    from pycore.scenario import Scenario
    vllm = estimate(Scenario("llama-4-scout", weights="BF16", engine="vllm"))
    cpp = estimate(Scenario("llama-4-scout", weights="BF16", engine="llama.cpp"))
    assert vllm.weights.bytes - cpp.weights.bytes == 2 * 871_932_416  # the tower in BF16, in vLLM only


# Gemma 3n: the whole checkpoint, language model + MobileNet-V5 vision tower + USM audio tower + their two
# multimodal embedders. Independent figures: the Hub API's safetensors element count of the BF16 checkpoints,
# https://huggingface.co/api/models/google/gemma-3n-E4B-it?expand[]=safetensors -> 7,849,978,192 and
# https://huggingface.co/api/models/google/gemma-3n-E2B-it?expand[]=safetensors -> 5,439,438,272 (the model cards'
# "8B raw" / "5B raw"), as recorded in a public audit note of 2026-10-07; exact, no rounding.
@pytest.mark.parametrize("preset_id,hub_total,language", [
    ("gemma-3n-e4b", 7_849_978_192, 6_866_696_688), ("gemma-3n-e2b", 5_439_438_272, 4_456_156_768)])
def test_gemma3n_checkpoint_total_is_the_hubs(preset_id, hub_total, language):
    n = parameter_count(model(preset_id))
    parts = dict(n.by_part)
    assert n.total == hub_total
    assert parts == {"language": language, "vision": 298_587_456, "audio": 684_694_048}
    assert not any("not counted" in note for note in model(preset_id).notes)


def test_gemma3n_vision_tower_is_timms_mobilenetv5_300m_enc():
    # timm's own count of the bare encoder: results/benchmark-infer-amp-nchw-pt291-cu128-4090.csv
    # (huggingface/pytorch-image-models @aa4b5850) "mobilenetv5_300m_enc,768,...,294.13" (param_count in millions,
    # rounded to 0.01 M, so within 5,000 parameters). Ours without the embedder:
    from pycore.parts import MobileNetV5Tower
    tensors = MobileNetV5Tower(text_hidden=2048).tensors()
    embedder = sum(t.numel for t in tensors if t.name.startswith("v.mm."))
    tower = sum(t.numel for t in tensors) - embedder
    assert abs(tower - 294_130_000) <= 5_000 and tower == 294_126_912
    # Gemma3nMultimodalEmbedder by hand: 128 × 2048 table, two 2048 norms, 2048 × 2048 projection
    assert embedder == 128 * 2048 + 2 * 2048 + 2048 * 2048
    # the stem as timm prints it (Conv2dSame(3, 64, k3, s2) with bias, RmsNorm2d) and the 84 blocks
    assert sum(t.numel for t in tensors if t.name.startswith("v.stem.")) == 64 * 27 + 64 + 64
    assert len({t.name.split(".")[2] + "." + t.name.split(".")[3] for t in tensors if t.name.startswith("v.blk.")}) \
        == 3 + 5 + 37 + 39


def test_gemma3n_audio_tower_hand_count():
    # modeling_gemma3n.py Gemma3nAudioEncoder with the E2B/E4B audio_config (H 1536, 12 blocks, 8 heads, conv 5,
    # 128 mel bins, subsample convs 1 -> 128 -> 32 channels, 3×3, stride 2): the frequency axis 128 -> 64 -> 32.
    from pycore.parts import Gemma3nAudioTower
    H = 1536
    sscp = 128 * 9 + 128 + 32 * 128 * 9 + 32 + 32 * 32 * H
    ffw = 2 * H + 8 * H * H
    attn = 2 * H + 5 * H * H + H // 8  # q, k, v, relative position, post; per-dimension scale
    lconv = 2 * H + 2 * H * H + 5 * H + H * H
    block = 2 * ffw + attn + lconv + H
    embedder = 128 * H + 2 * H + H * 2048
    tensors = Gemma3nAudioTower(text_hidden=2048).tensors()
    assert sum(t.numel for t in tensors) == sscp + 12 * block + embedder == 684_694_048


def test_gemma3n_towers_loaded_per_engine_and_never_by_ollama():
    from pycore.engines.ollama import projector
    from pycore.parts import loaded_parts
    spec = model("gemma-3n-e4b")
    assert projector(spec) == (0, 0, "", 0)  # Ollama's gemma3n is its text model only
    assert set(loaded_parts("vllm")) >= {"vision", "audio"} and loaded_parts("llama.cpp") == ("language",)


@pytest.mark.parametrize("audio,field", [
    ({"conf_num_hidden_layers": 30_000_000}, "conf_num_hidden_layers"),
    ({"conf_num_attention_heads": 7}, "conf_num_attention_heads"),
    ({"sscp_conv_channel_size": [1, 2, 3]}, "sscp_conv_channel_size"),
    ({"sscp_conv_kernel_size": [[3, 300], [3, 3]]}, "sscp_conv_kernel_size")])
def test_gemma3n_hostile_audio_config_names_the_field(audio, field):
    from pycore.errors import InputError
    cfg = json.loads(json.dumps(PRESETS["gemma-3n-e2b"].config))
    cfg["audio_config"].update(audio)
    with pytest.raises(InputError, match=field):
        spec_from_config(cfg)


def test_gemma3n_other_vision_architecture_is_said():
    cfg = json.loads(json.dumps(PRESETS["gemma-3n-e2b"].config))
    cfg["vision_config"]["architecture"] = "mobilenetv5_base"
    spec = spec_from_config(cfg)
    assert "vision" not in dict(parameter_count(spec).by_part)
    assert any("mobilenetv5_base" in n and "not counted" in n for n in spec.notes)


def test_gemma3n_bare_sub_configs_say_the_defaults_stand_in():
    cfg = json.loads(json.dumps(PRESETS["gemma-3n-e4b"].config))
    cfg["audio_config"] = {"model_type": "gemma3n_audio"}
    cfg["vision_config"] = {"model_type": "gemma3n_vision", "architecture": "mobilenetv5_300m_enc"}
    spec = spec_from_config(cfg)
    assert parameter_count(spec).total == 7_849_978_192
    notes = " ".join(spec.notes)
    assert "audio_config lacks hidden_size" in notes and "vision_config lacks hidden_size, vocab_size" in notes
