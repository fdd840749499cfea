"""pycore: an exact LLM memory calculator. Pure Python, standard library only; runs unchanged in
CPython and in the browser (Pyodide).

    from pycore import Scenario, estimate
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", context=8192, gpu="rtx-4090"))
    e.total, e.weights.bytes, e.fit.fits
"""
from .errors import InputError, ModelFileError, UnknownNameError
from .formats import KV_FORMATS, WEIGHT_FORMATS, kv_format, weight_format
from .hardware import GPUS, gpu
from .memory import Estimate, LineItem, estimate
from .models import ModelSpec, parameter_count, weight_tensors
from .presets import PRESETS, model, preset
from .scenario import Scenario, default_context

__all__ = ["Estimate", "GPUS", "InputError", "KV_FORMATS", "LineItem", "ModelFileError", "ModelSpec", "PRESETS",
           "Scenario", "UnknownNameError", "WEIGHT_FORMATS", "default_context", "estimate", "gpu", "kv_format",
           "model", "parameter_count", "preset", "weight_format", "weight_tensors"]
