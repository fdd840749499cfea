"""`python -m pycore`: estimates and catalogs on the command line, as a table or as JSON.

Bad arguments end in one line on stderr and exit code 2, never a traceback.
"""
import argparse
import json
import sys
from dataclasses import replace

from . import presets
from .errors import InputError
from .formats import GROUPS, KV_FORMATS, WEIGHT_FORMATS
from .hardware import GPUS
from .memory import estimate
from .models import parameter_count
from .report import estimate_dict, estimate_table
from .scenario import Scenario, default_context
from .units import BINARY, DECIMAL, GiB, format_bytes


HF_HELP = ("a model on the Hugging Face Hub: reads config.json and every shard's header by range requests "
           "(kilobytes per shard); :QUANT picks a GGUF file by its quantization (as llama.cpp's -hf). "
           "Uses HF_ENDPOINT and HF_TOKEN; what was read is cached under ~/.cache/llm-memory")


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise InputError("arguments", message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m pycore", description="LLM memory calculator: exact bytes for weights, "
                "KV cache, activations and overhead.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    e = sub.add_parser("estimate", help="memory for one scenario")
    src = e.add_mutually_exclusive_group()
    src.add_argument("--model", help="preset id (see `models`), or a Hub model id ORG/NAME (as --hf)")
    src.add_argument("--gguf", metavar="PATH", help="a GGUF file or its http(s) URL (only its header is read)")
    src.add_argument("--hf", metavar="ORG/NAME[@REV][:QUANT]", help=HF_HELP)
    src.add_argument("--safetensors", metavar="PATH", help="a .safetensors file or model.safetensors.index.json "
                     "(add --config for the architecture when it is not next to it)")
    e.add_argument("--config", metavar="PATH", help="a Hugging Face config.json")
    e.add_argument("--weights", default=None, help="weight format (see `formats`), e.g. BF16, Q4_K_M, NF4, "
                   "GPTQ-4bit-g128; default: as the file or checkpoint stores them (a preset: as its checkpoint ships)")
    e.add_argument("--kv", default="f16", help="KV cache format: f16, bf16, fp8, q8_0, q4_0, ...")
    e.add_argument("--context", type=_int, default=None, help="tokens per sequence (default 4096, capped at the model's maximum)")
    e.add_argument("--batch", type=_int, default=1, help="concurrent sequences")
    e.add_argument("--gpu", default="", help="GPU id (see `gpus`)")
    e.add_argument("--gpu-memory", type=float, default=None, metavar="GIB", help="a custom GPU's memory in GiB")
    e.add_argument("--gpus", type=_int, default=1, help="number of GPUs")
    e.add_argument("--parallel", default="tensor", choices=("tensor", "pipeline"))
    e.add_argument("--engine", default="auto", help="auto, llama.cpp, ollama, koboldcpp, vllm, sglang or transformers "
                   "(koboldcpp: --context is its --contextsize, --ubatch its --batchsize, --ngl its --gpulayers, "
                   "--no-kv-offload its --lowvram, --n-cpu-moe its --moecpu, --kv its --quantkv type)")
    e.add_argument("--flash-attn", default="auto", choices=("auto", "on", "off"),
                   help="llama.cpp --flash-attn / OLLAMA_FLASH_ATTENTION / KoboldCpp (off: --noflashattention)")
    e.add_argument("--ubatch", type=_int, default=None, metavar="N", help="llama.cpp --ubatch-size (512); Ollama num_batch; KoboldCpp --batchsize")
    e.add_argument("--ngl", type=_int, default=None, metavar="N",
                   help="llama.cpp --n-gpu-layers / Ollama num_gpu / KoboldCpp --gpulayers (default: all; "
                   "Ollama and KoboldCpp: their own guess)")
    e.add_argument("--n-cpu-moe", type=_int, default=0, metavar="N", help="llama.cpp: experts of the first N layers in RAM")
    e.add_argument("--swa-full", action="store_true", help="llama.cpp: full-size cache for sliding-window layers")
    e.add_argument("--no-kv-offload", action="store_true", help="llama.cpp: keep the KV cache in system RAM")
    e.add_argument("--tensor-split", default="", metavar="A,B,...",
                   help="llama.cpp: each GPU's proportion of the offloaded layers, e.g. 3,1 (default: even)")
    e.add_argument("--ram", type=float, default=None, metavar="GIB", help="system RAM in GiB (default 32; "
                   "Apple silicon: the unified memory)")
    e.add_argument("--gpu-memory-utilization", type=float, default=None, metavar="F", help="vLLM (0, 1]")
    e.add_argument("--max-num-batched-tokens", type=_int, default=None, metavar="N", help="vLLM")
    e.add_argument("--max-num-seqs", type=_int, default=None, metavar="N", help="vLLM")
    e.add_argument("--mem-fraction-static", type=float, default=None, metavar="F",
                   help="SGLang (0, 1): share of the free memory at start for weights + KV pool (default: by GPU memory)")
    e.add_argument("--chunked-prefill-size", type=_int, default=None, metavar="N",
                   help="SGLang (default: 2048, 4096, 8192 or 16384 by GPU memory)")
    e.add_argument("--page-size", type=_int, default=None, metavar="N", help="SGLang tokens per KV page (default 1)")
    e.add_argument("--speculative-config", default=None, metavar="JSON|METHOD:N",
                   help="vLLM speculative decoding, as vLLM takes it: '{\"method\": \"mtp\", "
                   "\"num_speculative_tokens\": 1}' (methods mtp and its aliases, eagle, eagle3, ngram, draft_model "
                   "with \"model\": a preset id), or the short form mtp:1")
    e.add_argument("--data-parallel-size", type=_int, default=1, metavar="N",
                   help="vLLM: data-parallel engines, each on --gpus GPUs")
    e.add_argument("--enable-expert-parallel", action="store_true",
                   help="vLLM: routed experts as whole experts over all data- and tensor-parallel GPUs")
    e.add_argument("--activations", default="peak", choices=("peak", "seed", "none"))
    e.add_argument("--kv-method", default="exact", choices=("exact", "seed"))
    e.add_argument("--overhead", type=float, default=None, metavar="GIB", help="runtime overhead per GPU in GiB")
    e.add_argument("--prefill-chunk", type=_int, default=None, metavar="TOKENS")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.add_argument("--units", default="GiB", choices=("GiB", "GB"),
                   help="sizes in the text output: GiB (2^30 bytes, the default) or GB (10^9 bytes); "
                   "--json is always in bytes")
    _train_parser(sub)
    # speed (issue #13): `bench` (llama-bench mirror) and `fit` (hardware first), see speed_cli.py
    from .speed_cli import add_parsers as _speed_parsers
    _speed_parsers(sub, _model_source, _int)
    for name in ("models", "formats", "gpus"):
        c = sub.add_parser(name, help=f"list the {name}")
        c.add_argument("--json", action="store_true")
    x = sub.add_parser("examples", help="the formula guide's worked examples, checked (as on the page)")
    x.add_argument("--json", action="store_true")
    return p


def _train_parser(sub):
    from .training import CHECKPOINTING, FSDP_MODES, METHODS, OPTIMIZERS, PRECISIONS
    t = sub.add_parser("train", help="memory for training or fine-tuning")
    src = t.add_mutually_exclusive_group()
    src.add_argument("--model", help="preset id (see `models`), or a Hub model id ORG/NAME (as --hf)")
    src.add_argument("--gguf", metavar="PATH", help="a GGUF file or its URL (its architecture)")
    src.add_argument("--hf", metavar="ORG/NAME[@REV][:QUANT]", help=HF_HELP)
    src.add_argument("--safetensors", metavar="PATH", help="a .safetensors file or index (with its config.json)")
    t.add_argument("--config", metavar="PATH", help="a Hugging Face config.json")
    t.add_argument("--method", default="full", choices=METHODS)
    t.add_argument("--lora-rank", type=_int, default=8)
    t.add_argument("--lora-modules", default="q,k,v,o", help="comma-separated: q,k,v,o,gate,up,down (or all)")
    t.add_argument("--no-double-quant", action="store_true", help="QLoRA base in NF4 without double quantization")
    t.add_argument("--precision", default="mixed_bf16", choices=tuple(PRECISIONS))
    t.add_argument("--optimizer", default="adamw", choices=tuple(OPTIMIZERS))
    t.add_argument("--batch", type=_int, default=1, help="micro-batch size per GPU")
    t.add_argument("--seq", type=_int, default=2048, help="sequence length in tokens")
    t.add_argument("--checkpointing", default="none", choices=CHECKPOINTING)
    t.add_argument("--no-flash-attention", action="store_true")
    t.add_argument("--zero", type=_int, default=0, choices=(0, 1, 2, 3))
    t.add_argument("--fsdp", default="none", choices=FSDP_MODES)
    t.add_argument("--gpus", type=_int, default=1)
    t.add_argument("--tp", type=_int, default=1, help="tensor-parallel degree")
    t.add_argument("--gpu", default="", help="GPU id (see `gpus`)")
    t.add_argument("--gpu-memory", type=float, default=None, metavar="GIB")
    t.add_argument("--overhead", type=float, default=None, metavar="GIB")
    t.add_argument("--json", action="store_true")
    t.add_argument("--units", default="GiB", choices=("GiB", "GB"),
                   help="sizes in the text output: GiB (2^30 bytes, the default) or GB (10^9 bytes); "
                   "--json is always in bytes")


def _model_source(p):
    src = p.add_mutually_exclusive_group()
    src.add_argument("--model", help="preset id (see `models`)")
    src.add_argument("--gguf", metavar="PATH", help="a GGUF file (only its header is read)")
    src.add_argument("--safetensors", metavar="PATH", help="a .safetensors file or index (with its config.json)")
    p.add_argument("--config", metavar="PATH", help="a Hugging Face config.json")


def _int(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text[:40]!r}") from None
    if value != value or value in (float("inf"), float("-inf")) or value != int(value):
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}")
    return int(value)


def _gib(field, value):
    if value is None:
        return None
    if value != value or value < 0 or value > 1 << 24:
        raise InputError(field, f"{value} GiB is not a usable size")
    return int(value * GiB)


def _gpu_gib(value):
    """--gpu-memory: any size above 0 GiB (0.5 is a usable custom GPU; 0 or less is none)."""
    if value is not None and value == value and (value <= 0 or int(value * GiB) < 1):
        raise InputError("gpu_memory", f"{value} GiB is not a usable size: give more than 0")
    return _gib("gpu_memory", value)


def _whole(field, value):
    if value is not None and value < 0:
        hint = ("; leave --ngl out for the engine's own choice (every layer for llama.cpp, Ollama's and KoboldCpp's "
                "own guesses: KoboldCpp's --gpulayers -1)") if field == "ngl" else ""
        raise InputError(field, f"must be 0 or more, got {value:,}{hint}")
    return value


def _ram(value):
    if value is None:
        return None
    if value != value or value <= 0:
        raise InputError("ram", f"{value} GiB of system RAM is not a usable size: give more than 0")
    return _gib("ram", value)


def run(argv) -> str:
    args = _parser().parse_args(argv)
    if args.command == "estimate":
        return _estimate(args)
    if args.command == "train":
        return _train(args)
    if args.command == "examples":
        from .seed import examples_json, examples_text
        return examples_json() if args.json else examples_text()
    if args.command in ("bench", "fit"):  # speed (issue #13)
        from .speed_cli import run_bench, run_fit
        return run_bench(args, _model_and_weights) if args.command == "bench" else run_fit(args)
    return _catalog(args.command, args.json)


def _estimate(args) -> str:
    model, weights = _model_and_weights(args)
    from .memory import resolve_model
    spec = resolve_model(model)[1]
    context = args.context if args.context is not None else default_context(spec)
    s = Scenario(model=model, weights=args.weights or weights, kv=args.kv, batch=args.batch, context=context, gpu=args.gpu,
                 gpus=args.gpus, parallel=args.parallel, engine=args.engine, activations=args.activations,
                 kv_method=args.kv_method, overhead_bytes=_gib("overhead", args.overhead),
                 gpu_memory_bytes=_gpu_gib(args.gpu_memory), prefill_chunk=args.prefill_chunk,
                 flash_attn=args.flash_attn, ubatch=args.ubatch, ngl=_whole("ngl", args.ngl),
                 n_cpu_moe=_whole("n_cpu_moe", args.n_cpu_moe), swa_full=args.swa_full,
                 kv_offload=not args.no_kv_offload, ram_bytes=_ram(args.ram),
                 gpu_memory_utilization=args.gpu_memory_utilization,
                 max_num_batched_tokens=args.max_num_batched_tokens, max_num_seqs=args.max_num_seqs,
                 mem_fraction_static=args.mem_fraction_static, chunked_prefill_size=args.chunked_prefill_size,
                 page_size=args.page_size,
                 data_parallel_size=args.data_parallel_size, enable_expert_parallel=args.enable_expert_parallel,
                 tensor_split=args.tensor_split, **speculative_config(args.speculative_config))
    e = estimate(s)
    if args.json:
        return json.dumps(_with_source(estimate_dict(e), args), indent=2)
    return estimate_table(e, _system(args)) + _source_line(args)


def _system(args) -> str:
    """--units: GiB (binary, 2^30 bytes) or GB (decimal, 10^9 bytes), as pycore.units names the systems."""
    return DECIMAL if args.units == "GB" else BINARY


SPECULATIVE_KEYS = ("method", "model", "num_speculative_tokens")


def speculative_config(text) -> dict:
    """Scenario fields from vLLM's --speculative-config (JSON with method, model, num_speculative_tokens) or
    the short form METHOD:N. A "model" without a method is a draft model (vLLM detects the method from it);
    with mtp it is the checkpoint itself and adds nothing."""
    if text is None:
        return {}
    text = str(text).strip()
    if len(text) > 2000:
        raise InputError("speculative_config", "longer than 2,000 characters")
    if text.startswith("{"):
        try:
            cfg = json.loads(text)
        except ValueError as err:
            raise InputError("speculative_config", f"not JSON: {str(err)[:80]}") from None
        if not isinstance(cfg, dict):
            raise InputError("speculative_config", "expected a JSON object")
        unknown = sorted(set(cfg) - set(SPECULATIVE_KEYS))
        if unknown:
            raise InputError("speculative_config", f"{', '.join(map(str, unknown))[:80]} not modelled "
                             f"(understood: {', '.join(SPECULATIVE_KEYS)})")
    else:
        method, _, n = text.partition(":")
        cfg = {"method": method, "num_speculative_tokens": n}
    method, draft, n = cfg.get("method") or "", cfg.get("model") or "", cfg.get("num_speculative_tokens")
    if not isinstance(method, str) or not isinstance(draft, str):
        raise InputError("speculative_config", "method and model must be names")
    if draft and not method:
        method = "draft_model"
    try:
        tokens = _int(str(n)) if n is not None else 0
    except argparse.ArgumentTypeError as err:
        raise InputError("num_speculative_tokens", str(err)) from None
    return {"speculative_method": method, "num_speculative_tokens": tokens,
            "draft_model": draft if method == "draft_model" else ""}


def _source_line(args) -> str:
    """The table's last line for a model read over the network: what was read."""
    src = getattr(args, "source", None) or {}
    if src.get("kind") not in ("hub", "gguf") or not src.get("requests") and not src.get("repo"):
        return ""
    where = f"{src['repo']}@{src['revision']}" if src.get("repo") else ", ".join(src["files"][:3])
    return (f"\nread {where}: {len(src['files'])} files, {src['bytes_read']:,} bytes in {src['requests']} requests"
            + (" (the rest from the cache)" if not src["requests"] else ""))


def _with_source(d: dict, args) -> dict:
    """--json's "source": what was read to know the model (kind, repo, revision, files, bytes, requests)."""
    d["source"] = getattr(args, "source", None) or {"kind": "preset", "repo": None, "revision": None, "files": [],
                                                     "bytes_read": 0, "requests": 0}
    return d


def _model_arg(args):
    return _model_and_weights(args)[0]


def _model_and_weights(args) -> tuple:
    """(preset id or ModelSpec, default weight format) from --model, --gguf, --safetensors or --config."""
    import os
    from .importers.hf_config import checkpoint_format, spec_from_config
    remote = _remote_model(args)
    if remote is not None:
        return remote
    if args.config and (args.model or getattr(args, "gguf", None)):  # one architecture: never one silently dropped
        raise InputError("config", "--config gives the architecture, as --model (a preset) and --gguf (the file's "
                         "own) do: give one of them")
    config = _read_json(args.config) if args.config else None
    if getattr(args, "gguf", None):
        from .importers.gguf import import_gguf
        with _open(args.gguf) as reader:
            imp = import_gguf(reader, file_name=os.path.basename(args.gguf))
            args.source = _local_source("gguf", [args.gguf], reader.bytes_read)
            return imp.spec, "file"
    if getattr(args, "safetensors", None):
        from .importers.safetensors import import_safetensors, read_safetensors_index
        path = args.safetensors
        folder = os.path.dirname(os.path.abspath(path))
        if config is None and os.path.exists(os.path.join(folder, "config.json")):
            config = _read_json(os.path.join(folder, "config.json"))
        readers, index = [], None
        try:
            if path.endswith(".json"):
                with _open(path) as r:
                    index = read_safetensors_index(r)
                readers = [_open(p) for p in _shard_paths(index, folder)]
            else:
                readers = [_open(path)]
            imp = import_safetensors(readers, index=index, config=config, file_name=os.path.basename(path))
            args.source = _local_source("safetensors", ([args.config] if args.config else []) + [path] +
                                        [r.path for r in readers if r.path != path], imp.bytes_read)
        finally:
            for r in readers:
                r.close()
        if imp.spec is None:
            raise InputError("config", "a safetensors checkpoint needs its config.json for the architecture: "
                                       "put it next to the file or pass --config")
        spec = _with_notes(imp.spec, imp.notes)
        return spec, ("file" if spec.file_tensors else checkpoint_format(config)[0])
    if config is not None:
        args.source = _local_source("config", [args.config], os.path.getsize(args.config))
        return spec_from_config(config, source=args.config), checkpoint_format(config)[0]
    if not args.model:
        raise InputError("arguments", "give one of --model, --config, --gguf or --safetensors")
    p = presets.preset(args.model)
    args.source = {"kind": "preset", "repo": p.hf_repo or None, "revision": None, "files": [], "bytes_read": 0,
                   "requests": 0}
    return p.id, p.weights  # the format its checkpoint ships in (gpt-oss MXFP4, DeepSeek V3 FP8 blocks)


def _shard_paths(index, folder) -> list:
    """The shard files an index names, each of which must be in its folder: a checkpoint with a shard missing (an
    interrupted download) is refused by name rather than estimated from config.json alone. One shard can still
    be read by itself with --safetensors SHARD."""
    import os
    if not index.shards:
        raise InputError("file", "the index names no shard files: nothing to read")
    paths = [os.path.join(folder, name) for name in index.shards]
    missing = [name for name, p in zip(index.shards, paths) if not os.path.isfile(p)]
    if missing:
        raise InputError("file", f"{missing[0][:120]!r}, named by the index, is not in {folder[:200]}"
                         + (f" ({len(missing):,} of {len(paths):,} shards are missing)" if len(paths) > 1 else "")
                         + ": download it, or give one shard with --safetensors to read that file alone")
    return paths


def _remote_model(args):
    """--hf, --model ORG/NAME, or --gguf URL: read from the Hub (or the URL) by range requests.
    Sets args.source; None when the model is not remote."""
    hf = getattr(args, "hf", None) or (args.model if args.model and "/" in args.model else None)
    url = args.gguf if getattr(args, "gguf", None) and args.gguf.startswith(("http://", "https://")) else None
    if not hf and not url:
        return None
    if args.config:
        raise InputError("config", "a Hub model brings its own config.json: leave out --config")
    from .importers.hub import HubError
    from .importers.remote import load_model
    try:
        imported, args.source = load_model(hf=hf, url=url, progress=_progress if sys.stderr.isatty() else None)
    except HubError as err:  # said at the option the user gave: --gguf URL, --model ORG/NAME or --hf
        given = "gguf" if url else ("hf" if getattr(args, "hf", None) else "model")
        raise type(err)(err.message, given) from None
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)
    return _with_notes(imported.spec, imported.notes), imported.weights


def _with_notes(spec, notes):
    """The spec with what its files said (shards not given, packing widths assumed, parameters the architecture
    does not account for) added to its notes, so that it reaches the estimate's warnings."""
    return replace(spec, notes=tuple(spec.notes) + tuple(n for n in notes if n not in spec.notes))


def _progress(step):
    print(f"\r\033[Kreading {step[:100]}", end="", file=sys.stderr, flush=True)


def _local_source(kind, paths, bytes_read):
    import os
    return {"kind": kind, "repo": None, "revision": None, "files": [os.path.basename(p) for p in paths],
            "bytes_read": int(bytes_read), "requests": 0}


def _open(path):
    from .importers.reader import FileReader
    try:
        return FileReader(path)
    except OSError as err:
        raise InputError("file", f"cannot read {path}: {err.strerror}") from None


def _train(args) -> str:
    from .training import TrainingScenario, estimate_training, training_dict, training_table
    ts = TrainingScenario(
        model=_model_arg(args), method=args.method, lora_rank=args.lora_rank,
        lora_modules=args.lora_modules, qlora_double_quant=not args.no_double_quant,  # "all" is the scenario's word
        precision=args.precision, optimizer=args.optimizer, micro_batch=args.batch, seq_len=args.seq,
        checkpointing=args.checkpointing, flash_attention=not args.no_flash_attention, zero=args.zero,
        fsdp=args.fsdp, gpus=args.gpus, tp=args.tp, gpu=args.gpu, gpu_memory_bytes=_gpu_gib(args.gpu_memory),
        overhead_bytes=_gib("overhead", args.overhead))
    e = estimate_training(ts)
    return json.dumps(_with_source(training_dict(e), args), indent=2) if args.json else training_table(e, _system(args))


def _read_json(path):
    """A config.json, read within bounds (size, nesting, number length) like any file a user brings."""
    from .importers.safetensors import read_json
    with _open(path) as reader:
        return read_json(reader, "config.json")


def _catalog(kind, as_json) -> str:
    if kind == "models":
        rows = []
        for p in presets.PRESETS.values():
            spec = presets.model(p.id)
            n = parameter_count(spec)
            rows.append({"id": p.id, "name": p.name, "hf_repo": p.hf_repo, "parameters": n.total, "active": n.active,
                         "max_context": spec.max_context, "weights": p.weights, "source": p.source})
        if as_json:
            return json.dumps(rows, indent=2)
        return "\n".join(f"{r['id']:<24} {r['name']:<28} {r['parameters'] / 1e9:>8.2f} B params  "
                         f"max context {r['max_context']:,}" for r in rows)
    if kind == "formats":
        rows = [{"name": f.name, "group": f.group, "description": f.description} for f in WEIGHT_FORMATS.values()]
        kv = [{"name": f.name, "description": f.description} for f in KV_FORMATS.values()]
        if as_json:
            return json.dumps({"weights": rows, "kv": kv}, indent=2)
        lines = []
        for group in GROUPS:
            lines.append(f"{group}:")
            lines += [f"  {r['name']:<22} {r['description']}" for r in rows if r["group"] == group]
        lines.append("KV cache:")
        lines += [f"  {r['name']:<22} {r['description']}" for r in kv]
        return "\n".join(lines)
    from .hardware import gpu_dict
    rows = [gpu_dict(g) for g in GPUS.values()]
    if as_json:
        return json.dumps(rows, indent=2)
    return "\n".join(f"{r['id']:<26} {r['name']:<48} {format_bytes(r['memory_bytes']):>11} as sold, "
                     f"{format_bytes(r['usable_bytes']):>11} usable, {r['bandwidth_gbps'] or 0:>7,.0f} GB/s, "
                     f"{r['fp16_tflops'] or 0:>7,.1f} TFLOPS FP16" for r in rows)


def main(argv=None) -> int:
    try:
        text = run(sys.argv[1:] if argv is None else argv)
    except InputError as err:
        print(f"error: {err}".splitlines()[0][:500], file=sys.stderr)
        return 2
    except (ValueError, OverflowError, RecursionError) as err:  # never a traceback for bad input
        print(f"error: {err}".splitlines()[0][:500], file=sys.stderr)
        return 2
    return _write(text)


def _write(text) -> int:
    """Print the answer. A reader that closes the pipe early (`| head -1`) ends the command quietly: the
    Python documentation's recipe for SIGPIPE (library/signal.html, "Note on SIGPIPE"): stdout is pointed
    at devnull so that the interpreter's own flush at exit does not fail again, and the exit code is 1."""
    import os
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return 0
