"""The form and the URL query string: one flat set of named fields, and the Scenario they describe.

A shared link is the query string of these fields, so it restores the scenario exactly. Parsing
never raises: each bad field gets a message of its own and the others still count.
"""
import json
import math
import re
from urllib.parse import parse_qsl, urlencode

from .errors import InputError, ModelFileError
from .importers.hf_config import spec_from_config
from .importers.safetensors import parse_json
from .memory import estimate
from .presets import PRESETS, model as preset_model
from .scenario import Scenario, default_context
from .units import GiB

# Query keys, in the order they appear in a link. The first seven are the public contract.
KEYS = ("model", "weights", "kv", "batch", "context", "gpu", "gpus", "parallel", "engine", "act", "kvm",
        "overhead", "gpumem", "chunk", "units", "name", "cfg",
        # engine settings (llama.cpp / Ollama, vLLM, SGLang) and the system RAM checked beside the GPUs
        "flash_attn", "ubatch", "ngl", "n_cpu_moe", "swa_full", "no_kv_offload", "ram",
        "gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs",
        "speculative_method", "num_speculative_tokens", "draft_model", "data_parallel_size", "enable_expert_parallel",
        "tensor_split", "mem_fraction_static", "chunked_prefill_size", "page_size",
        # training (mode=train); batch is then the micro-batch and context the sequence length
        "mode", "method", "rank", "modules", "dq", "precision", "optimizer", "ckpt", "zero", "fsdp", "tp")
DEFAULTS = {"model": "llama-3.1-8b", "weights": "Q4_K_M", "kv": "f16", "batch": "1", "context": "", "gpu": "rtx-4090",
            "gpus": "1", "parallel": "tensor", "engine": "auto", "act": "peak", "kvm": "exact", "overhead": "",
            "gpumem": "", "chunk": "", "units": "GiB", "name": "", "cfg": "",
            "flash_attn": "auto", "ubatch": "", "ngl": "", "n_cpu_moe": "", "swa_full": "0", "no_kv_offload": "0",
            "ram": "", "gpu_memory_utilization": "", "max_num_batched_tokens": "", "max_num_seqs": "",
            "speculative_method": "", "num_speculative_tokens": "", "draft_model": "", "data_parallel_size": "",
            "enable_expert_parallel": "0",
            "tensor_split": "", "mem_fraction_static": "", "chunked_prefill_size": "", "page_size": "",
            "mode": "infer", "method": "lora", "rank": "8", "modules": "q,k,v,o", "dq": "1",
            "precision": "mixed_bf16", "optimizer": "adamw", "ckpt": "none", "zero": "0", "fsdp": "none", "tp": "1"}
TRAINING = "train"
DEFAULT_SEQUENCE = 2048  # tokens per training sequence when the form leaves it blank
CUSTOM = "custom"
IMPORTED = "imported"  # a model read from the user's files: it lives in the page, not in the link
MAX_FIELD = 20_000  # characters: a config is a few hundred; anything longer is not a form value
# The radio groups: a link's value outside them is its default, the radio the page then shows checked (a radio
# group has no text to hold a wrong value, as a field does beside its message)
CHOICES = {"mode": ("infer", TRAINING), "units": ("GiB", "GB")}


def parse_query(query: str) -> dict:
    """Fields from a query string ('?model=...&context=...'); unknown keys are ignored, and so is a value outside
    a radio group's choices (CHOICES)."""
    fields = dict(DEFAULTS)
    for key, value in parse_qsl(str(query or "").lstrip("?")[: 8 * MAX_FIELD], keep_blank_values=True):
        if key in fields and (key not in CHOICES or value in CHOICES[key]):
            fields[key] = value[:MAX_FIELD]
    from .hardware import ALIASES  # an older device id in a link: the catalog id it became
    fields["gpu"] = ALIASES.get(fields["gpu"], fields["gpu"])
    return fields


def to_query(fields: dict) -> str:
    """The query string for a link: only the fields that differ from the defaults, the seven public keys
    always, so a link keeps meaning the same thing if the defaults change."""
    public = KEYS[:7]
    pairs = [(k, str(fields.get(k, DEFAULTS[k]))) for k in KEYS  # a field the page lacks keeps its default
             if k in public or str(fields.get(k, DEFAULTS[k])) != DEFAULTS[k]]
    return urlencode(pairs)


def whole(text: str, field: str, low: int = 1) -> int:
    """A whole number from a form: '8192', '8,192', '8 192', '8k' (×1024), '1M' (×1024²)."""
    raw = str(text).strip().replace(",", "").replace("_", "").replace(" ", "")
    if not raw:
        raise InputError(field, "required")
    scale = 1
    if raw[-1:].lower() in ("k", "m"):
        scale = 1024 if raw[-1].lower() == "k" else 1024 * 1024
        raw = raw[:-1]
    try:
        value = float(raw)
    except ValueError:
        raise InputError(field, f"not a number: {text[:30]!r}") from None
    if not math.isfinite(value):
        raise InputError(field, "must be a finite number")
    value *= scale
    if value != int(value):
        raise InputError(field, "must be a whole number")
    if value < low:
        raise InputError(field, f"must be at least {low}")
    return int(value)


def _number(raw: str, text, field: str):
    """A float from a form's cleaned text `raw`; None when blank; a message naming `field` otherwise."""
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InputError(field, f"not a number: {str(text)[:30]!r}") from None


def gib(text: str, field: str, positive: bool = False):
    """Bytes from a GiB figure in a form; '' -> None (use the default); `positive`: 0 refused too."""
    value = _number(str(text).strip().replace(",", ""), text, field)
    if value is None:
        return None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        raise InputError(field, f"must be a size in GiB, {'more than zero' if positive else 'zero or more'}")
    if value > 1 << 24:
        raise InputError(field, "larger than any device")
    return int(value * GiB)


def optional_whole(text: str, field: str, low: int = 1):
    """A whole number from a form, or None (the engine's default) when blank."""
    return whole(text, field, low) if str(text or "").strip() else None


def utilization(text: str, field: str):
    """vLLM's gpu_memory_utilization from a form: a fraction in (0, 1]; '' -> None (its default)."""
    value = _number(str(text or "").strip().replace(",", "."), text, field)
    if value is None:
        return None
    if not math.isfinite(value) or not 0 < value <= 1:
        raise InputError(field, "a fraction of the GPU's memory, more than 0 and at most 1 (e.g. 0.9)")
    return value


def static_fraction(text: str, field: str):
    """SGLang's --mem-fraction-static from a form: a fraction in (0, 1); '' -> None (its default for the GPU)."""
    value = _number(str(text or "").strip().replace(",", "."), text, field)
    if value is None:
        return None
    if not math.isfinite(value) or not 0 < value < 1:
        raise InputError(field, "a fraction of the free GPU memory, more than 0 and less than 1 (e.g. 0.85)")
    return value


def ram_size(text: str, field: str):
    """System RAM in bytes from a GiB figure; '' -> None (the default); 0 is refused."""
    return gib(text, field, positive=True)


def flag(text) -> bool:
    """A checkbox carried in a link: '1' on, '0' or blank off."""
    return str(text or "").strip().lower() not in ("0", "", "false", "off", "no")


def engine_settings(fields: dict, take) -> dict:
    """The Scenario's engine settings (llama.cpp / Ollama / vLLM / SGLang) and system RAM from the form's fields;
    each bad value is reported at its own field through `take`."""
    method = str(fields.get("speculative_method") or "").strip()[:40]
    return dict(
        flash_attn=str(fields.get("flash_attn") or "auto"),
        ubatch=take("ubatch", optional_whole, fields.get("ubatch", ""), "ubatch"),
        ngl=take("ngl", optional_whole, fields.get("ngl", ""), "ngl", 0),
        n_cpu_moe=take("n_cpu_moe", optional_whole, fields.get("n_cpu_moe", ""), "n_cpu_moe", 0) or 0,
        swa_full=flag(fields.get("swa_full")),
        kv_offload=not flag(fields.get("no_kv_offload")),
        ram_bytes=take("ram", ram_size, fields.get("ram", ""), "ram"),
        gpu_memory_utilization=take("gpu_memory_utilization", utilization, fields.get("gpu_memory_utilization", ""),
                                    "gpu_memory_utilization"),
        max_num_batched_tokens=take("max_num_batched_tokens", optional_whole, fields.get("max_num_batched_tokens", ""),
                                    "max_num_batched_tokens"),
        max_num_seqs=take("max_num_seqs", optional_whole, fields.get("max_num_seqs", ""), "max_num_seqs"),
        # vLLM --speculative-config (a draft model only with method draft_model), data and expert parallelism
        speculative_method=method,
        num_speculative_tokens=take("num_speculative_tokens", optional_whole, fields.get("num_speculative_tokens", ""),
                                    "num_speculative_tokens") or 0,
        draft_model=str(fields.get("draft_model") or "").strip()[:120] if method == "draft_model" else "",
        data_parallel_size=take("data_parallel_size", optional_whole, fields.get("data_parallel_size", ""),
                                "data_parallel_size") or 1,
        enable_expert_parallel=flag(fields.get("enable_expert_parallel")),
        # SGLang --mem-fraction-static, --chunked-prefill-size, --page-size
        mem_fraction_static=take("mem_fraction_static", static_fraction, fields.get("mem_fraction_static", ""),
                                 "mem_fraction_static"),
        chunked_prefill_size=take("chunked_prefill_size", optional_whole, fields.get("chunked_prefill_size", ""),
                                  "chunked_prefill_size"),
        page_size=take("page_size", optional_whole, fields.get("page_size", ""), "page_size"),
        tensor_split=take("tensor_split", _split, fields.get("tensor_split", ""), fields.get("gpus", "1")) or (),
    )


def _split(text: str, gpus: str) -> tuple:
    """llama.cpp's --tensor-split from a link ("3,1"), checked against the GPU count the link asks for."""
    from .scenario import tensor_split
    try:
        n = int(str(gpus).strip() or "1")
    except ValueError:
        n = 1  # the gpus field reports its own error
    return tensor_split(str(text or ""), max(1, min(n, 4096)))


def custom_model(fields: dict):
    """The custom architecture: a config.json-style object in the 'cfg' field, read like any config."""
    try:
        config = parse_json((fields.get("cfg") or "{}").encode("utf-8"), "the custom architecture", MAX_FIELD * 4)
    except ModelFileError as err:
        raise InputError("cfg", err.message) from None
    if not isinstance(config, dict):
        raise InputError("cfg", "the custom architecture must be a JSON object")
    config.setdefault("model_type", "llama")
    name = str(fields.get("name") or "Custom model")[:120]
    return spec_from_config(config, name=name, source="entered by the user")


# The custom form: config.json fields (with their labels) and a choice of sliding-window pattern.
CUSTOM_FIELDS = {"hidden_size": "Hidden size", "num_hidden_layers": "Layers", "num_attention_heads": "Attention heads",
                 "num_key_value_heads": "KV heads", "head_dim": "Head dim", "intermediate_size": "FFN size (per expert)",
                 "vocab_size": "Vocabulary", "max_position_embeddings": "Max context",
                 "num_local_experts": "Experts (0 = dense)", "num_experts_per_tok": "Experts per token",
                 "sliding_window": "Sliding window"}
# Sliding-window patterns: (label, whether layer i slides). "none" is every layer on the full context.
SLIDING_PATTERNS = {"all": ("all layers", lambda i: True),
                    "alternate": ("every other layer (Gemma 2, gpt-oss)", lambda i: i % 2 == 0),
                    "5of6": ("5 of every 6 layers (Gemma 3)", lambda i: (i + 1) % 6 != 0)}


def custom_config(values: dict, tie_embeddings: bool, pattern: str) -> str:
    """The 'cfg' field from the custom form: its text boxes (`values`), the tied-embeddings box and the
    sliding-window pattern ("none" or a SLIDING_PATTERNS key). Text that is not a number is passed on
    as it is, so the config reader names the field and says what is wrong."""
    config = {"model_type": "llama"}
    for key in CUSTOM_FIELDS:
        raw = str(values.get(key, "")).strip()
        if raw:
            config[key] = _number_or_text(raw)
    config["tie_word_embeddings"] = bool(tie_embeddings)
    if config.get("num_local_experts"):
        config["model_type"] = "mixtral"
    layers = config.get("num_hidden_layers")
    if pattern in SLIDING_PATTERNS and isinstance(layers, int) and 0 < layers <= 4096:
        slide = SLIDING_PATTERNS[pattern][1]
        config["layer_types"] = ["sliding_attention" if slide(i) else "full_attention" for i in range(layers)]
    else:
        config.pop("sliding_window", None)
    return json.dumps(config, separators=(",", ":"))


def _number_or_text(raw: str):
    try:
        value = float(raw)
    except ValueError:
        return raw
    if not math.isfinite(value):
        return raw  # "inf", "1e999": left for the reader to refuse by name
    return int(value) if value == int(value) else value


def custom_form(config) -> tuple:
    """(values, tie_embeddings, pattern) to fill the custom form from a config dict or the 'cfg' text of
    a link: the inverse of custom_config. What cannot be read leaves the form empty (the estimate names
    the problem at the field)."""
    if isinstance(config, str):
        try:
            config = parse_json(config.encode("utf-8"), "cfg", MAX_FIELD * 4)
        except ModelFileError:
            config = {}
    if not isinstance(config, dict):
        config = {}
    values = {key: "" if config.get(key) is None else str(config[key]) for key in CUSTOM_FIELDS}
    types = config.get("layer_types")
    sliding = [str(t).startswith("sliding") for t in types] if isinstance(types, list) else []
    pattern = "none"
    if sliding and all(sliding):
        pattern = "all"
    elif sliding and all(s == SLIDING_PATTERNS["alternate"][1](i) for i, s in enumerate(sliding)):
        pattern = "alternate"
    elif any(sliding):
        pattern = "5of6"  # the form's closest pattern (Gemma 3's)
    return values, bool(config.get("tie_word_embeddings")), pattern


def config_of_spec(spec) -> dict:
    """A config.json-style dict of a model, for the custom form to start from."""
    config = {"hidden_size": spec.hidden_size, "num_hidden_layers": spec.num_layers,
              "num_attention_heads": spec.num_heads, "num_key_value_heads": spec.num_kv_heads,
              "head_dim": spec.head_dim, "vocab_size": spec.vocab_size,
              "max_position_embeddings": spec.max_context, "tie_word_embeddings": spec.tie_embeddings,
              "intermediate_size": spec.expert_intermediate_size if spec.is_moe else spec.intermediate_size}
    if spec.is_moe:
        config.update(num_local_experts=spec.num_experts, num_experts_per_tok=spec.experts_per_token)
    if spec.layer_types and set(spec.layer_types) <= {"full", "sliding"}:  # the form knows attention layers only
        config["sliding_window"] = spec.sliding_window
        config["layer_types"] = [f"{t}_attention" for t in spec.layer_types]
    return config


def _custom_gpu(fields: dict, take, errors: dict) -> tuple:
    """(catalog GPU id or "", custom capacity in bytes or None) from the GPU fields."""
    gpu = fields.get("gpu", "")
    if gpu != CUSTOM:
        return gpu, None
    memory = take("gpumem", gib, fields.get("gpumem", ""), "gpumem", True)
    if "gpumem" not in errors and memory is None:
        errors["gpumem"] = "enter the GPU's memory in GiB"
    return "", memory


def estimate_from_fields(fields: dict, spec_override=None):
    """(Estimate or None, {field: message}). `spec_override` is a model read from a file."""
    errors = {}
    take = _taker(errors)
    model = _model_of(fields, errors, take, spec_override)
    spec = model if (model is not None and not isinstance(model, str)) else (preset_model(model) if model else None)
    context_text = str(fields.get("context") or "").strip()
    context = (default_context(spec) if spec else None) if not context_text else take("context", whole, context_text, "context")
    values = dict(
        batch=take("batch", whole, fields.get("batch", "1"), "batch"),
        gpus=take("gpus", whole, fields.get("gpus", "1"), "gpus"),
        overhead_bytes=take("overhead", gib, fields.get("overhead", ""), "overhead"),
        prefill_chunk=take("chunk", lambda: whole(fields["chunk"], "chunk") if str(fields.get("chunk", "")).strip()
                           else None),
        **engine_settings(fields, take),
    )
    gpu, gpu_memory = _custom_gpu(fields, take, errors)
    _names(fields, take, _inference_names())
    if errors or model is None:
        return None, errors
    try:
        # the names are looked up again there, with the model: what a format or an engine cannot do for it, and
        # the multi-GPU layout, are the estimate's own checks
        return estimate(Scenario(model=model, weights=fields.get("weights", ""), kv=fields.get("kv", ""),
                                 context=context, gpu=gpu, parallel=fields.get("parallel", "tensor"),
                                 engine=fields.get("engine", "auto"), activations=fields.get("act", "peak"),
                                 kv_method=fields.get("kvm", "exact"), gpu_memory_bytes=gpu_memory, **values)), {}
    except InputError as err:
        return None, {_FIELD_OF.get(err.field, err.field): err.message}


def _names(fields: dict, take, checks: dict) -> None:
    """Each name or choice in `fields` looked up on its own by its check in `checks` ({form field: check(value)}),
    its error kept at its field by `take`: an estimate stops at the first wrong name it meets, so a link with
    several would otherwise be mended one reload at a time. An empty field is the estimate's default and is not
    looked up here."""
    for field, check in checks.items():
        value = str(fields.get(field) or "").strip()
        if value:
            take(field, check, value)


def _one_of(field: str, choices: tuple):
    from .training.scenario import choice
    return lambda value: choice(field, value, choices)


def _inference_names() -> dict:
    from .engines import engine
    from .formats import kv_format, weight_format
    from .hardware import PIPELINE, TENSOR, gpu as catalog_gpu
    from .scenario import ACTIVATION_METHODS, KV_METHODS
    return {"weights": weight_format, "kv": kv_format, "gpu": lambda v: v == CUSTOM or catalog_gpu(v),
            "engine": lambda v: v == "auto" or engine(v), "parallel": _one_of("parallel", (TENSOR, PIPELINE)),
            "act": _one_of("act", ACTIVATION_METHODS), "kvm": _one_of("kvm", KV_METHODS)}


def _training_names() -> dict:
    from .hardware import gpu as catalog_gpu
    from .training.precision import OPTIMIZERS, PRECISIONS
    from .training.scenario import CHECKPOINTING, FSDP_MODES, METHODS
    return {"method": _one_of("method", METHODS), "precision": _one_of("precision", tuple(PRECISIONS)),
            "optimizer": _one_of("optimizer", tuple(OPTIMIZERS)), "ckpt": _one_of("ckpt", CHECKPOINTING),
            "fsdp": _one_of("fsdp", FSDP_MODES), "gpu": lambda v: v == CUSTOM or catalog_gpu(v)}


def shipped_weights(model_id: str, current: str = "") -> str:
    """The weight format the form should hold after the model changes to `model_id`: a preset whose checkpoint
    ships quantized (gpt-oss MXFP4, DeepSeek V3 FP8 blocks, FP8 releases) selects that format; a 16-bit one
    keeps the user's choice (Q4_K_M stays Q4_K_M) unless that choice was another checkpoint's own format."""
    from .formats import FLOAT, NATIVE, weight_format
    p = PRESETS.get(model_id)
    if p is None:
        return current
    try:
        shipped, chosen = weight_format(p.weights), weight_format(current) if current else None
    except InputError:
        return p.weights
    if shipped.group != FLOAT or chosen is None or chosen.group == NATIVE:
        return p.weights
    return current


def _model_of(fields, errors, take, spec_override):
    model_id = fields.get("model") or DEFAULTS["model"]
    if spec_override is not None:
        return spec_override
    if model_id == IMPORTED:
        errors["model"] = "a model read from a file is not kept in links: choose the file again"
        return None
    if model_id == CUSTOM:
        return take("cfg", custom_model, fields)
    if model_id in PRESETS:
        return model_id
    errors["model"] = f"unknown model {model_id[:60]!r}"
    return None


def _taker(errors):
    def take(field, fn, *args):
        try:
            return fn(*args)
        except InputError as err:
            if err.field in KEYS:
                errors[err.field] = err.message
            else:  # a config.json field of the custom architecture: name it
                errors[field] = f"{err.field}: {err.message}"
            return None
    return take


def training_estimate_from_fields(fields: dict, spec_override=None):
    """(TrainingEstimate or None, {field: message}) for mode=train."""
    from .training import TrainingScenario, estimate_training
    errors = {}
    take = _taker(errors)
    model = _model_of(fields, errors, take, spec_override)
    seq_text = str(fields.get("context") or "").strip()
    values = dict(
        micro_batch=take("batch", whole, fields.get("batch", "1"), "batch"),
        seq_len=take("context", whole, seq_text, "context") if seq_text else DEFAULT_SEQUENCE,
        gpus=take("gpus", whole, fields.get("gpus", "1"), "gpus"),
        lora_rank=take("rank", whole, fields.get("rank", "8"), "rank"),
        zero=take("zero", whole, fields.get("zero", "0") or "0", "zero", 0),
        tp=take("tp", whole, fields.get("tp", "1"), "tp"),
        overhead_bytes=take("overhead", gib, fields.get("overhead", ""), "overhead"),
    )
    gpu, gpu_memory = _custom_gpu(fields, take, errors)
    _names(fields, take, _training_names())
    if errors or model is None:
        return None, errors
    try:
        return estimate_training(TrainingScenario(
            model=model, method=fields.get("method", "lora"),
            lora_modules=tuple(m for m in str(fields.get("modules", "")).split(",") if m),
            qlora_double_quant=str(fields.get("dq", "1")) not in ("0", "", "false"),
            precision=fields.get("precision", "mixed_bf16"), optimizer=fields.get("optimizer", "adamw"),
            checkpointing=fields.get("ckpt", "none"), fsdp=fields.get("fsdp", "none"), gpu=gpu,
            gpu_memory_bytes=gpu_memory, **values)), {}
    except InputError as err:
        return None, {_TRAIN_FIELD_OF.get(err.field, _FIELD_OF.get(err.field, err.field)): err.message}


_TRAIN_FIELD_OF = {"micro_batch": "batch", "seq_len": "context", "lora_rank": "rank", "lora_modules": "modules",
                   "checkpointing": "ckpt", "qlora_double_quant": "dq"}

# Scenario field names -> form field names, where they differ
_FIELD_OF = {"activations": "act", "kv_method": "kvm", "overhead": "overhead", "gpu_memory": "gpumem",
             "prefill_chunk": "chunk", "arguments": "model", "ram_bytes": "ram", "kv_offload": "no_kv_offload"}


EMBED_FIELDS = ("model", "weights", "kv", "context", "batch", "gpu", "gpus")


def shown_fields(query: str) -> tuple:
    """The embed's `show` parameter: which of its fields to show (all when absent or unrecognised)."""
    for key, value in parse_qsl(str(query or "").lstrip("?")[:MAX_FIELD], keep_blank_values=True):
        if key == "show":
            return tuple(n for n in value.split(",") if n in EMBED_FIELDS)
    return EMBED_FIELDS


def embed_snippet(site_url: str, fields: dict, show=EMBED_FIELDS) -> str:
    """The <iframe> for the current scenario, and the few lines that let it size itself (the embed page
    posts its height to the parent; the host checks the sender before using it)."""
    from html import escape
    src = f"{site_url}embed.html?{to_query(fields)}&show={','.join(show)}"
    origin = "/".join(site_url.split("/")[:3])
    return (f'<iframe id="llm-memory" src="{escape(src)}" title="LLM memory calculator" loading="lazy" '
            f'style="width:100%;border:0;height:420px"></iframe>\n'
            f'<script>addEventListener("message", e => {{ if (e.origin === "{escape(origin)}" && e.data && '
            f'e.data.type === "llm-memory:height") document.getElementById("llm-memory").style.height = '
            f'e.data.height + "px"; }});</script>')


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")


def valid_hub_id(model_id: str) -> bool:
    """A Hugging Face model id: owner/name, letters, digits, '-', '_' and '.' only."""
    return bool(_HUB_ID.match(model_id)) and ".." not in model_id


def hub_url(model_id: str, filename: str) -> str:
    """Where the Hub serves a file of a model's main branch."""
    if not valid_hub_id(model_id):
        raise InputError("hub-id", "not a model id")
    return f"https://huggingface.co/{model_id}/resolve/main/{filename}"
