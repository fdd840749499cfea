"""`python -m pycore bench` (a llama-bench mirror: predicted tokens/s under llama-bench's test names) and
`python -m pycore fit` (hardware first: every catalog model that fits a machine). Kept apart from cli.py so
that each subcommand is one self-contained block there."""
import json

from .errors import InputError

DEFAULT_HOST = "cpu-ddr5-5600-2ch"  # system RAM assumed behind a discrete GPU unless --host says otherwise


def add_parsers(sub, model_source, to_int):
    """Add `bench` and `fit` to the subparsers `sub`; model_source(parser) adds --model/--gguf/--config."""
    b = sub.add_parser("bench", help="predicted llama-bench results (pp/tg tokens per second) on a device")
    model_source(b)
    b.add_argument("--weights", default=None, help="weight format, e.g. Q4_K_M (default: the file's own)")
    b.add_argument("--kv", default="f16", help="KV cache format (llama-bench -ctk/-ctv)")
    b.add_argument("--gpu", required=True, help="device id (see `gpus`)")
    b.add_argument("--gpus", type=to_int, default=1, help="number of devices")
    b.add_argument("--split-mode", default="layer", choices=("layer", "row", "tensor"),
                   help="llama.cpp -sm: layer (one GPU after another) or row/tensor (matrices split)")
    b.add_argument("--ngl", type=to_int, default=99, help="layers on the GPU (-ngl); the rest in system RAM")
    b.add_argument("--host", default=None, help=f"CPU system holding layers left in RAM (default {DEFAULT_HOST}; "
                   "unified-memory devices use their own memory)")
    b.add_argument("--backend", default=None, help="CUDA, ROCm, Metal, Vulkan, SYCL or CPU (default: the device's)")
    b.add_argument("--flash-attn", "-fa", default="on", choices=("on", "off", "1", "0"))
    b.add_argument("-p", "--n-prompt", default="512", help="prompt lengths, comma-separated (pp tests)")
    b.add_argument("-n", "--n-gen", default="128", help="generation lengths, comma-separated (tg tests)")
    b.add_argument("-d", "--n-depth", default="0", help="depths, comma-separated (tests run after that many tokens)")
    b.add_argument("--json", action="store_true")

    f = sub.add_parser("fit", help="hardware first: every catalog model that fits this machine, best format first")
    f.add_argument("--gpu", default="", help="device id (see `gpus`)")
    f.add_argument("--memory", type=float, default=None, metavar="GIB", help="a custom device's memory in GiB")
    f.add_argument("--bandwidth", type=float, default=None, metavar="GBPS", help="a custom device's bandwidth in GB/s")
    f.add_argument("--tflops", type=float, default=None, help="a custom device's dense FP16 TFLOPS (optional)")
    f.add_argument("--gpus", type=to_int, default=1)
    f.add_argument("--ram", type=float, default=0, metavar="GIB", help="system RAM free for offloaded layers, GiB")
    f.add_argument("--host", default=None, help=f"CPU system for offloaded layers (default {DEFAULT_HOST})")
    f.add_argument("--context", type=to_int, default=4096)
    f.add_argument("--family", default=None, help="only models whose id starts with this (llama, qwen3, gemma…)")
    f.add_argument("--max-params", type=float, default=None, metavar="B", help="at most this many billion parameters")
    f.add_argument("--moe", default=None, choices=("yes", "no"), help="only mixture-of-experts models, or none")
    f.add_argument("--json", action="store_true")


def _host(name):
    """--host: the CPU system holding what is not on the GPU, said as --host when it is unknown."""
    from .errors import UnknownNameError
    from .hardware import GPUS, gpu
    try:
        return gpu(name or DEFAULT_HOST)
    except UnknownNameError:
        cpus = ", ".join(k for k, g in GPUS.items() if g.kind == "cpu")
        raise UnknownNameError("host", f"unknown CPU system {str(name)[:40]!r}: one of {cpus}") from None


def _lengths(text, name, low):
    try:
        values = [int(v) for v in str(text).split(",") if v.strip() != ""]
    except ValueError:
        raise InputError(name, f"expected comma-separated whole numbers, got {str(text)[:40]!r}") from None
    if not values or len(values) > 16 or any(v < low or v > 1 << 20 for v in values):
        raise InputError(name, f"1 to 16 values from {low} to {1 << 20:,}")
    return values


def bench_rows(e, device, host, backend, gpus, split_mode, ngl, flash_attn, prompts, gens, depths) -> list:
    """[{"test", "tokens_per_s", "bound", ...}] in llama-bench's order: every pp, then every tg, per depth."""
    from .speed import speed
    layers = e.model.num_layers
    if ngl < 0:
        raise InputError("ngl", "must be 0 or more")
    # llama.cpp -ngl counts the repeating layers (the output layer is one more): the share left in RAM is
    # approximated by layers, since the layers of one model have equal weights.
    host_share = max(0, layers - ngl) / layers
    host_bw = None
    if host_share:
        host_bw = device.bandwidth_gbps if device.kind in ("unified", "cpu") else host.bandwidth_gbps
    parallel = "pipeline" if split_mode == "layer" else "tensor"
    rows = []
    for d in depths:
        suffix = f" @ d{d}" if d else ""
        for p in prompts:
            sp = speed(e, device, depth=d, prompt_tokens=p, backend=backend, gpus=gpus, parallel=parallel,
                       host_share=host_share, host_bandwidth_gbps=host_bw, batch=1, flash_attn=flash_attn)
            if sp.prefill_tokens_per_s is None:
                raise InputError("gpu", f"{device.name} has no compute figure: prompt processing cannot be estimated")
            rows.append({"test": f"pp{p}{suffix}", "tokens_per_s": round(sp.prefill_tokens_per_s, 2),
                         "bound": sp.prefill_bound, "formula": sp.figure("prefill").substituted})
        for n in gens:
            # tgN runs N tokens after d: the cache grows from d to d + N, read at its mean depth
            sp = speed(e, device, depth=d + n // 2, prompt_tokens=1, backend=backend, gpus=gpus, parallel=parallel,
                       host_share=host_share, host_bandwidth_gbps=host_bw, batch=1, flash_attn=flash_attn)
            rows.append({"test": f"tg{n}{suffix}", "tokens_per_s": round(sp.decode_tokens_per_s, 2),
                         "bound": sp.decode_bound, "formula": sp.figure("decode").substituted})
    return rows


def run_bench(args, model_and_weights) -> str:
    from .hardware import gpu
    from .memory import estimate
    from .scenario import Scenario
    from .units import GiB
    model, weights = model_and_weights(args)
    prompts = [v for v in _lengths(args.n_prompt, "n_prompt", 0) if v > 0]
    gens = [v for v in _lengths(args.n_gen, "n_gen", 0) if v > 0]
    depths = _lengths(args.n_depth, "n_depth", 0)
    device = gpu(args.gpu)
    host = _host(args.host)
    top = max(depths) + max(prompts + gens + [1])
    e = estimate(Scenario(model, weights=args.weights or weights, kv=args.kv, context=max(top, 1), engine="llama.cpp"))
    fa = args.flash_attn in ("on", "1")
    rows = bench_rows(e, device, host, args.backend, args.gpus, args.split_mode, args.ngl, fa, prompts, gens, depths)
    fits, caveats = bench_fit(model, args.weights or weights, args.kv, top, device, host, args.gpus, args.ngl, fa)
    if args.json:
        return json.dumps([{**{k: r[k] for k in ("test", "tokens_per_s", "bound")}, "fits": fits,
                            "warnings": list(caveats)} for r in rows], indent=2)
    backend = args.backend or device.backend
    size = f"{e.weights.bytes / GiB:.2f} GiB"
    params = f"{e.parameters.total / 1e9:.2f} B"
    head = ["model", "size", "params", "backend", "ngl", "fa", "test", "t/s (predicted)"]
    body = [[f"{e.model.name} {e.weight_format.name}", size, params, backend, str(args.ngl),
             "1" if fa else "0", r["test"], f"{r['tokens_per_s']:,.2f}"] for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "| " + " | ".join("-" * w for w in widths) + " |"]
    lines += ["| " + " | ".join(c.rjust(w) if i >= 4 else c.ljust(w) for i, (c, w) in enumerate(zip(b, widths))) + " |"
              for b in body]
    lines.append("")
    lines.append(f"{device.name}{f' × {args.gpus}' if args.gpus > 1 else ''}: {device.bandwidth_gbps:g} GB/s, "
                 f"{device.fp16_tflops:g} dense FP16 TFLOPS. Predictions, not measurements: see `estimate --json` "
                 "speed figures for each formula; efficiencies are fitted on published llama-bench results.")
    if caveats:
        lines += ["", "Notes:"] + [f"- {w}" for w in caveats]
    return "\n".join(lines)


def bench_fit(model, weights, kv, tokens, device, host, gpus, ngl, flash_attn) -> tuple:
    """(fits, warnings) for a llama-bench run: llama.cpp's placement of the model at -ngl on `gpus` devices with a
    cache of `tokens` (the deepest test), its system-RAM share against the host's memory (a unified-memory
    device: its own). fits is None for a CPU device (nothing to place). warnings: speed.speed_caveats."""
    from .memory import estimate
    from .scenario import Scenario
    from .speed import speed_caveats
    if device.kind == "cpu":  # no fit to check: only the depth's caveat
        return None, speed_caveats(estimate(Scenario(model, weights=weights, kv=kv, context=tokens,
                                                     engine="llama.cpp")), tokens)
    e = estimate(Scenario(model, weights=weights, kv=kv, context=tokens, engine="llama.cpp", gpu=device.id, gpus=gpus,
                          ngl=ngl, flash_attn="on" if flash_attn else "off",
                          ram_bytes=None if device.kind == "unified" else host.memory_bytes))
    return e.fit.fits, speed_caveats(e, tokens)


def run_fit(args) -> str:
    from .hardware import custom_gpu, gpu
    from .hwfirst import fit_table
    from .presets import PRESETS
    from .units import GiB
    if args.memory is not None:
        if args.memory != args.memory or not (0 < args.memory <= 1 << 24):
            raise InputError("memory", f"{args.memory} GiB is not a usable size")
        base = gpu(args.gpu) if args.gpu else None  # --gpu with --memory: that device's figures, the memory entered
        device = custom_gpu(int(args.memory * GiB), args.bandwidth or (base.bandwidth_gbps if base else None),
                            args.tflops or (base.fp16_tflops if base else None))
    elif args.gpu:
        device = gpu(args.gpu)
    else:
        raise InputError("arguments", "give --gpu ID or a custom device with --memory GIB --bandwidth GBPS")
    if args.ram != args.ram or not (0 <= args.ram <= 1 << 24):
        raise InputError("ram", f"{args.ram} GiB is not a usable size")
    host = _host(args.host)
    if args.family and not any(p.startswith(args.family.lower()) for p in PRESETS):  # hwfirst.fit_table's filter
        raise InputError("family", f"no catalog model's id starts with {args.family[:40]!r} "
                         "(see `python -m pycore models`)")
    rows = fit_table(device, gpus=args.gpus, ram_bytes=int(args.ram * GiB), context=args.context, host=host,
                     family=args.family, max_params=args.max_params, moe=args.moe)
    if args.json:
        return json.dumps(rows, indent=2)
    if not rows:
        return f"No catalog model fits {device.name} at {args.context:,} tokens of context" + (
            " with the filters given (--family, --max-params, --moe)." if (
                args.family or args.max_params is not None or args.moe) else ".")
    lines = [f"{'model':<30} {'format':<8} {'params':>9} {'total':>11} {'where':<12} {'decode t/s':>10} "
             f"{'prefill t/s':>11}"]
    for r in rows:
        pre = f"{r['prefill_tokens_per_s']:,.0f}" if r["prefill_tokens_per_s"] else "–"
        dec = f"{r['decode_tokens_per_s']:,.1f}" if r["decode_tokens_per_s"] else "–"
        where = f"offload {r['host_share']:.0%}" if r["offload"] else "GPU"
        lines.append(f"{r['name'][:30]:<30} {r['format']:<8} {r['parameters'] / 1e9:>8.1f}B "
                     f"{r['total_bytes'] / GiB:>7.1f} GiB {where:<12} {dec:>10} {pre:>11}")
    lines.append("")
    lines.append(f"{len(rows)} models fit {device.name}{f' × {args.gpus}' if args.gpus > 1 else ''} at "
                 f"{args.context:,} tokens (llama.cpp, f16 KV cache); best format first, then speed.")
    return "\n".join(lines)
