"""Parameter counts computed from each preset's architecture against the published exact counts.

The published figures are independent of pycore: Hugging Face safetensors metadata totals (weights
only; buffers such as Llama 2's rotary inv_freq removed), keras-hub preset metadata, together-python's
table, the Pythia model card.
"""
from pathlib import Path

import pytest

from pycore.models import parameter_count, weight_tensors
from pycore.presets import PRESETS, model

OFFICIAL = [  # (preset, exact published count, source)
    ('llama-2-7b', 6738415616, 'keras-hub presets @71453d08'),
    ('llama-2-13b', 13015864320, 'together-python finetune.py @f0796368'),
    ('llama-2-70b', 68976648192, 'together-python finetune.py @f0796368'),
    ('llama-3-8b', 8030261248, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('llama-3-70b', 70553706496, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('llama-3.1-8b', 8030261248, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('llama-3.1-70b', 70553706496, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('llama-3.1-405b', 405853388800, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('llama-3.2-1b', 1235814400, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('llama-3.2-3b', 3212749824, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('llama-3.3-70b', 70553706496, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('mistral-7b-v0.1', 7241732096, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('mixtral-8x7b', 46702792704, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen2.5-0.5b', 494032768, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen2.5-7b', 7615616512, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen2.5-14b', 14770033664, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen2.5-32b', 32763876352, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen2.5-72b', 72706203648, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen3-0.6b', 596049920, 'keras-hub presets @71453d08'),
    ('qwen3-4b', 4022468096, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen3-8b', 8190735360, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen3-14b', 14768307200, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen3-32b', 32762123264, 'keras-hub presets @71453d08'),
    ('qwen3-30b-a3b', 30532122624, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('qwen3-235b-a22b', 235093634560, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('gemma-2-2b', 2614341888, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('gemma-2-9b', 9241705984, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('gemma-2-27b', 27227128320, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('gemma-3-1b', 999885952, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('phi-3-mini-4k', 3821079552, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('phi-3-medium-4k', 13960238080, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('deepseek-v2-lite', 15706484224, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
    ('gpt-oss-20b', 20914757184, 'keras-hub presets @71453d08'),
    ('gpt-oss-120b', 116829156672, 'keras-hub presets @71453d08'),
    ('pythia-1.4b', 1414647808, 'Pythia model card parameter table'),
    ('starcoder2-7b', 7173923840, 'HF safetensors total (AlexsJones/llmfit hf_models.json @a3e0eb27)'),
]


@pytest.mark.parametrize("preset_id,expected,source", OFFICIAL, ids=[r[0] for r in OFFICIAL])
def test_official_parameter_counts(preset_id, expected, source):
    assert parameter_count(model(preset_id)).total == expected, source


def test_at_least_thirty_presets_all_build():
    assert len(PRESETS) >= 30
    for pid in PRESETS:
        assert parameter_count(model(pid)).total > 0


def test_tied_embeddings_counted_once():
    # Llama 3.2 1B ties its output head to the embedding (config tie_word_embeddings: true).
    # keras-hub lists 1,498,482,688 because it counts the 128,256 × 2,048 matrix twice.
    spec = model("llama-3.2-1b")
    assert parameter_count(spec).total == 1_498_482_688 - 128_256 * 2_048
    assert not any(t.role == "output" for t in weight_tensors(spec))


def test_moe_total_and_active():
    # Mixtral 8x7B: 46.7B total, 12.9B active (Mistral AI, "Mixtral of experts", Dec 2023): 2 of 8
    # experts per token.
    n = parameter_count(model("mixtral-8x7b"))
    assert n.total == 46_702_792_704
    assert round(n.active / 1e9, 1) == 12.9


def test_deepseek_v3_671b_main_model_and_14b_mtp():
    # DeepSeek-V3 README: "685B total size of model weights on Hugging Face, which includes 671B of the Main
    # Model weights and 14B of the Multi-Token Prediction (MTP) Module weights"; 37B activated per token.
    # The MTP module is a part of its own (by_part "mtp"), counted in the total, loaded by no engine for text.
    n = parameter_count(model("deepseek-v3"))
    parts = dict(n.by_part)
    assert round(parts["language"] / 1e9) == 671
    assert abs(parts["mtp"] - 14e9) < 0.6e9  # 685 − 671, each rounded
    assert round(n.total / 1e9) in (684, 685)
    assert round(n.active / 1e9) in (37, 38)


def test_gpt_oss_active_matches_model_card_without_embedding():
    # OpenAI's gpt-oss model card: 116.83B total, 5.13B active, its active count leaving out the
    # 201,088 × 2,880 input embedding (a lookup, not a matmul). pycore's active count includes it.
    n = parameter_count(model("gpt-oss-120b"))
    assert round((n.active - n.embedding) / 1e9, 2) == 5.13


REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "models.json"


@pytest.mark.skipif(not REFERENCE.exists(), reason="the project's reference folder (../shared) is not on this machine")
def test_presets_carry_the_reference_configs():
    """Every model of shared/reference/models.json is a preset whose config.json fields are the reference's
    wherever the reference gives a plain value. (Its stated exact counts are transcribed in OFFICIAL
    above, so they are checked on any machine.)"""
    import json
    reference = json.loads(REFERENCE.read_text())["models"]
    by_repo = {p.hf_repo.lower(): p for p in PRESETS.values()}
    checked = 0
    for entry in reference:
        repo = entry["model"].split(" ")[0].lower()
        preset = by_repo.get(repo) or next((p for r, p in by_repo.items() if r.startswith(repo)), None)
        assert preset is not None, entry["model"]
        for key, value in entry["config"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key in preset.config:
                assert preset.config[key] == value, (entry["model"], key)
                checked += 1
    assert checked > 150
