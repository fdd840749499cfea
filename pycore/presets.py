"""The model catalog: real models as their published config.json fields, each with its source.

A preset is data, turned into a ModelSpec by the same config.json reader users' files go through,
so the catalog and imported models can never be computed two different ways.
"""
from dataclasses import dataclass, field
from functools import lru_cache

from .errors import UnknownNameError
from .importers.hf_config import spec_from_config


@dataclass(frozen=True)
class Preset:
    id: str
    name: str
    hf_repo: str
    config: dict = field(hash=False, compare=False)
    source: str = ""  # where the config values were read
    official_params: object = None  # exact published parameter count, when one exists
    params_source: str = ""
    weights: str = "BF16"  # the format the checkpoint is published in
    notes: tuple = ()
    default: bool = False  # the model the page opens with


from .preset_data import PRESET_TABLE  # noqa: E402  (plain data, kept apart from the code)

PRESETS = {row["id"]: Preset(**row) for row in PRESET_TABLE}


def preset(preset_id: str) -> Preset:
    if not isinstance(preset_id, str) or preset_id.strip().lower() not in PRESETS:
        raise UnknownNameError("model", f"unknown model {str(preset_id)[:60]!r} (see `python -m pycore models`)")
    return PRESETS[preset_id.strip().lower()]


@lru_cache(maxsize=None)
def model(preset_id: str):
    p = preset(preset_id)
    return spec_from_config(p.config, name=p.name, source=p.source)
