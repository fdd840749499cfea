"""Readers of model descriptions users bring: Hugging Face config.json, safetensors and GGUF headers.

`read_model_files` takes whatever the user chose together (a GGUF; a .safetensors file or its index
with the config.json; a config.json alone), recognises each, and returns one `ImportedModel`: the
architecture, the weight format the files imply, and a report of what was read exactly and what was
derived. Readers are pycore.importers.reader byte readers, so a browser can hand over prefixes of
multi-GB files (see reader.NeedMoreBytes).
"""
from dataclasses import dataclass

from ..errors import ModelFileError
from ..models import parameter_count
from ..units import format_bytes


@dataclass(frozen=True)
class ImportedModel:
    spec: object  # ModelSpec, or None when the files cannot give an architecture
    weights: str  # the weight format the files imply: "file" (their exact tensors) or a format name
    title: str  # what was read, in a few words
    facts: tuple = ()  # (label, value) for the report
    mix: tuple = ()  # (storage type, tensors, elements, bytes), most bytes first
    exact: tuple = ()  # (figure, value, where it was read)
    derived: tuple = ()  # (figure, value, how it was derived)
    notes: tuple = ()
    bytes_read: int = 0


def kind_of(name: str, head: bytes) -> str:
    """'gguf', 'safetensors' or 'json', from the file's first bytes, then its name."""
    if head[:4] == b"GGUF":
        return "gguf"
    lower = name.lower()
    if lower.endswith(".gguf"):
        return "gguf"
    if lower.endswith(".safetensors"):
        return "safetensors"
    if lower.endswith(".json") or head[:1] in (b"{", b" ", b"\n"):
        return "json"
    raise ModelFileError(f"{name[:60]!r} is not a .gguf, .safetensors or .json file")


def read_model_files(files) -> ImportedModel:
    """`files`: (name, reader) pairs chosen together. Raises ModelFileError (or reader.NeedMoreBytes
    when a reader holds only a prefix and more of the file is needed)."""
    from .gguf import import_gguf
    from .hf_config import checkpoint_format, spec_from_config
    from .safetensors import import_safetensors, read_json, read_safetensors_index

    files = list(files)
    if not files:
        raise ModelFileError("no file chosen")
    ggufs, tensors, configs, indexes = [], [], [], []
    for name, reader in files:
        kind = kind_of(name, reader.read(0, min(4, reader.size)))
        if kind == "gguf":
            ggufs.append((name, reader))
        elif kind == "safetensors":
            tensors.append((name, reader))
        else:
            data = read_json(reader, name)
            if not isinstance(data, dict):
                raise ModelFileError(f"{name[:60]!r} is JSON but not an object: not a config.json or an index")
            if "weight_map" in data:
                indexes.append(read_safetensors_index(reader))
            else:
                configs.append((name, data))
    if ggufs and (tensors or indexes):
        raise ModelFileError("choose a GGUF file or a safetensors checkpoint, not both")
    if len(configs) > 1 or len(indexes) > 1:
        raise ModelFileError("more than one config.json or index was chosen")
    config = configs[0][1] if configs else None

    if ggufs:
        name, first = ggufs[0]
        imp = import_gguf(first, *(r for _, r in ggufs[1:]), file_name=name)
        return _gguf_report(imp, sum(getattr(r, "bytes_read", 0) for _, r in ggufs))
    if tensors or indexes:
        imp = import_safetensors([r for _, r in tensors], index=indexes[0] if indexes else None, config=config,
                                 file_name=tensors[0][0] if len(tensors) == 1 else "")
        weights = "file" if imp.spec is not None and imp.spec.file_tensors else checkpoint_format(config)[0]
        return _safetensors_report(imp, weights, sum(getattr(r, "bytes_read", 0) for _, r in tensors))
    name, config = configs[0]
    spec = spec_from_config(config, source=name)
    weights, why = checkpoint_format(config)
    n = parameter_count(spec)
    facts = (("Architecture", f"{config.get('model_type')} ({spec.num_layers} layers, hidden {spec.hidden_size:,})"),
             ("Parameters", f"{n.total:,} (from the architecture)"),
             ("Weights as published", f"{weights} ({why})"))
    return ImportedModel(spec, weights, f"{name} (config.json)", facts, (), (),
                         (("parameters", f"{n.total:,}", "summed over the tensors the architecture defines"),),
                         spec.notes)


def _gguf_report(imp, bytes_read) -> ImportedModel:
    spec = imp.spec
    n = parameter_count(spec)
    facts = (("File", f"{imp.name} · GGUF v{imp.header.version}" + (f" · {imp.file_type}" if imp.file_type else "")),
             ("Architecture", f"{imp.architecture} ({spec.num_layers} layers, hidden {spec.hidden_size:,})"),
             ("Tensors", f"{len(spec.file_tensors):,} tensors, {imp.tensor_elements:,} values, "
                         f"{format_bytes(imp.tensor_bytes)} ({imp.tensor_bytes:,} B): the weights, exactly"),
             ("Parameters", f"{n.total:,} from the architecture" + (f" ({n.active:,} active)" if spec.is_moe else "")),
             ("Header read", f"{format_bytes(bytes_read)} of the file"))
    exact = tuple((f.name, f.value, f.source) for f in imp.figures if f.exact)
    derived = tuple((f.name, f.value, f.source) for f in imp.figures if not f.exact)
    return ImportedModel(spec, "file", f"{imp.name} (GGUF)", facts, imp.quant_mix, exact, derived, imp.notes,
                         bytes_read)


def _safetensors_report(imp, weights, bytes_read) -> ImportedModel:
    facts = [("Tensor data", f"{format_bytes(imp.total_bytes)} ({imp.total_bytes:,} B)")]
    if imp.total_params is not None:
        facts.append(("Parameters", f"{imp.total_params:,} (from the headers, packed tensors unpacked)"))
    if imp.quantization:
        facts.append(("Quantization", ", ".join(f"{k} {v}" for k, v in imp.quantization.items())))
    if bytes_read:
        facts.append(("Headers read", format_bytes(bytes_read)))
    if imp.spec is None:
        facts.append(("Architecture", "add the checkpoint's config.json to size the KV cache and activations"))
    exact = tuple((name, _short(value), source) for name, value, source in imp.known)
    derived = tuple(("unknown", what, "needs more files") for what in imp.unknown)
    mix = tuple((label, count, params, size) for label, count, params, size in imp.by_label)
    title = "safetensors checkpoint" + (" with its config.json" if imp.spec is not None else "")
    return ImportedModel(imp.spec, weights, title, tuple(facts), mix, exact, derived, imp.notes, bytes_read)


def _short(value) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "…"
