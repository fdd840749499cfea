"""Build the static site into site/: the pages rendered by Jinja2 with the default estimate already
computed (by the same pycore the browser runs), the pinned browser runtime (Pyodide), a memory snapshot of
Python with pycore and the page's Python (templates/app.py) loaded, which the page runs in a Web Worker, and a
service worker that keeps it all for offline use.

    python build.py                 # build site/
    python build.py --serve         # build, then serve site/ on localhost and print the URL

Layout of site/: the pages, sw.js and favicon at the top; everything else under versioned folders
that never change once published (so a CDN may cache them forever):
    vendor/pyodide-<version>/   app/<content hash>/
"""
import argparse
import base64
import fnmatch
import functools
import gzip
import hashlib
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import threading
import tomllib
import zipfile
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from pycore import urlstate  # noqa: E402
from pycore import view as V  # noqa: E402
from pycore.charts import context_curve  # noqa: E402
from pycore.engines import ENGINES  # noqa: E402
from pycore.formats import KV_FORMATS  # noqa: E402
from pycore.presets import PRESETS  # noqa: E402
from pycore.seed import examples_view  # noqa: E402
from pycore.training import LORA_MODULES, OPTIMIZERS, PRECISIONS  # noqa: E402

SITE = ROOT / "site"
NODE = ROOT / "node_modules"
TEMPLATES = ROOT / "templates"
STATIC = TEMPLATES / "static"
PAGES = ("index.html", "embed.html")
# The runtime files the page loads, and nothing else of the npm packages.
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
# The Brotli decoder the page's worker unpacks the snapshot and its standard library with (browsers' own
# DecompressionStream has gzip but not Brotli, which packs these a third smaller: tools/snapshot.mjs).
BROTLI_FILES = ("brotli_dec_wasm.js", "brotli_dec_wasm_bg.wasm")
# Pyodide's files the worker asks for packed with Brotli (<name>.br, sent with Content-Encoding: br)
PACKED_IN_TRANSIT = ("pyodide.asm.wasm", "pyodide.asm.mjs")
TRAINING_ROWS = (("gradients", "Gradients"), ("optimizer", "Optimizer states"), ("adapters", "Adapters"))
MODE_OF_ITEM = {"kv_cache": "infer", "state": "infer", "gradients": "train", "optimizer": "train", "adapters": "train"}
ROW_ORDER = ("weights", "kv_cache", "state", "gradients", "optimizer", "activations", "adapters", "overhead")


def _version(package) -> str:
    return json.loads((NODE / package / "package.json").read_text())["version"]


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:12]


class Paths:
    """Where each built file goes, relative to the site root (the pages refer to them relatively, so the
    site works under any sub-path)."""

    def __init__(self):
        if not (NODE / "pyodide").is_dir():
            sys.exit("node_modules is missing: run `npm ci` (or `make build`)")
        self.pyodide_version = _version("pyodide")
        lock = json.loads((NODE / "pyodide" / "pyodide-lock.json").read_text())
        self.python_version = lock["info"]["python"]
        # the lock file, inline: the page loads no package, so its header (the ABI Pyodide checks) is enough
        self.lock = json.dumps({"info": lock["info"], "packages": {}}, separators=(",", ":"))
        self.pyodide = f"vendor/pyodide-{self.pyodide_version}/"
        self.brotli = f"vendor/brotli-dec-wasm-{_version('brotli-dec-wasm')}/"
        sources = [p.read_bytes() for p in sorted((ROOT / "pycore").rglob("*.py"))]
        statics = [p.read_bytes() for p in sorted(STATIC.iterdir())]
        # what the snapshot is made of (make_snapshot keeps one per digest), and with the page's own files, the app's
        self.snapshot = _digest(*sources, (TEMPLATES / "app.py").read_bytes(), (TEMPLATES / "warm.py").read_bytes(),
                                (ROOT / "tools" / "snapshot.mjs").read_bytes(), (STATIC / "worker.js").read_bytes(),
                                (ROOT / "tools" / "brotli.mjs").read_bytes(),
                                (ROOT / "tools" / "trim_stdlib.py").read_bytes(), self.pyodide_version.encode())
        self.app = "app/" + _digest(self.snapshot.encode(), *statics) + "/"
        self.snapshot_bytes = self.snapshot_base = None  # its unpacked length and base's hash, once made


def catalog() -> dict:
    return {
        "models": V.model_groups(),
        "formats": V.format_groups(),
        "kv": [(f.name, f.description) for f in KV_FORMATS.values()],
        "gpus": V.gpu_groups(),
        "hosts": V.host_choices(),
        "engines": [("auto", "Automatic: GGUF → llama.cpp, bitsandbytes → transformers, else vLLM")] +
                   [(e.name, e.label) for e in ENGINES.values()],
        "activation_methods": [("peak", "Peak working set (matches engine logs)"),
                               ("seed", "Seed formula: B·S·H·L·2 bytes"), ("none", "Not counted")],
        "kv_methods": [("exact", "Exact per layer (GQA, MLA, sliding windows)"),
                       ("seed", "Seed formula: 2·B·S·H·L·bytes (multi-head attention only)")],
        "parallel": [("tensor", "Tensor parallel"), ("pipeline", "Pipeline parallel")],
        "speculative": [("", "off"), ("mtp", "mtp (the checkpoint's MTP layers)"), ("eagle", "eagle (an EAGLE head)"),
                        ("eagle3", "eagle3 (an EAGLE-3 head)"), ("draft_model", "draft_model (a smaller model)"),
                        ("ngram", "ngram (prompt lookup, no draft weights)")],
        "draft_models": [("", "—")] + [(p.id, p.name) for p in PRESETS.values()],
        "flash_attn": [("auto", "auto (on where the backend supports it)"), ("on", "on"),
                       ("off", "off (adds the f32 KQ scores to the compute buffer)")],
        "custom_fields": list(urlstate.CUSTOM_FIELDS.items()),
        "sliding_patterns": [(key, label) for key, (label, _) in urlstate.SLIDING_PATTERNS.items()],
        "methods": [("full", "Full fine-tuning"), ("lora", "LoRA"), ("qlora", "QLoRA (base in NF4)")],
        "lora_modules": LORA_MODULES,
        "precisions": [(p.name, p.label) for p in PRECISIONS.values()],
        "optimizers": [(o.name, o.label) for o in OPTIMIZERS.values()],
        "checkpointing": [("none", "None: keep every activation"), ("selective", "Selective (attention recomputed)"),
                          ("full", "Full: recompute each layer")],
        "zero": [("0", "0 (DDP)"), ("1", "1: optimizer states"), ("2", "2: + gradients"), ("3", "3: + parameters")],
        "fsdp": [("none", "None"), ("full", "Full shard (= ZeRO-3)"), ("hybrid", "Hybrid shard")],
    }


def page_context(paths: Paths) -> dict:
    """Everything the templates show, for the default scenario, computed here with pycore."""
    fields = dict(urlstate.DEFAULTS)
    e, errors = urlstate.estimate_from_fields(fields)
    assert not errors, errors
    fields["context"] = str(e.scenario.context)
    view = V.estimate_view(e)
    slots = V.slots(view)
    slots.update({"answer." + k: v for k, v in V.answers_view(e).items()})
    # training rows and answers exist in the page from the start, empty until the mode is switched
    # one table for both questions, its rows in the order a reader expects
    by_key = {it["key"]: it for it in view["items"]}
    by_key.update({k: {"key": k, "label": label, "bytes": 0} for k, label in TRAINING_ROWS})
    rows = [by_key[k] for k in ROW_ORDER]
    for key, _ in TRAINING_ROWS:
        for part in ("size", "share", "formula", "substituted", "source", "notes", "bytes"):
            slots[f"{key}.{part}"] = ""
    slots.update({"answer.max_micro_batch": "", "answer.cheapest": "", "size_heading": "Size"})
    examples = examples_view()
    runtime = {"pyodide": paths.pyodide_version, "python": paths.python_version}
    return dict(fields=fields, view=view, slots=slots, rows=rows, mode_of_item=MODE_OF_ITEM, formats=V.formats_view(e), curve_svg=context_curve(e),
                catalog=catalog(), examples=examples, runtime=runtime, base="", assets=paths,
                fact_labels=V.FACT_LABELS,
                blank_device={k: "" for k in ("index", "weights", "kv_cache", "state", "activations", "overhead", "total",
                                              "total_bytes", "fits")})


def render(out: Path, paths: Paths):
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    context = page_context(paths)
    for page in PAGES:
        (out / page).write_text(env.get_template(page).render(**context), encoding="utf-8")
    offline = env.get_template("offline.html").render(**context, offline=offline_context(out, paths))
    (out / "offline.html").write_text(offline, encoding="utf-8")


def copy_runtime(out: Path, paths: Paths):
    (out / paths.pyodide).mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(NODE / "pyodide" / name, out / paths.pyodide / name)
    # Pyodide's WebAssembly and its JavaScript, packed with Brotli for the page's worker to fetch (sent with
    # Content-Encoding: br, netlify.toml; 2.77 and 0.21 MB where gzip in transit makes 3.60 and 0.26); the plain
    # files stay for a host or browser that will not take them so (worker.js falls back to them) and for
    # offline.html
    for name in PACKED_IN_TRANSIT:
        plain = out / paths.pyodide / name
        shutil.copy2(_packed(plain), plain.with_name(name + ".br"))
    (out / paths.brotli).mkdir(parents=True)
    for name in BROTLI_FILES:
        shutil.copy2(NODE / "brotli-dec-wasm" / "pkg" / name, out / paths.brotli / name)


def copy_app(out: Path, paths: Paths):
    app = out / paths.app
    shutil.copytree(STATIC, app, ignore=shutil.ignore_patterns("favicon.svg"))
    shutil.copy2(STATIC / "favicon.svg", out / "favicon.svg")
    shutil.copy2(TEMPLATES / "warm.py", app / "warm.py")
    # pycore and the page's Python: frozen into the snapshot; the zip is only for a start without it
    with zipfile.ZipFile(app / "pycore.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((ROOT / "pycore").rglob("*.py")):
            z.write(path, path.relative_to(ROOT).as_posix())
        z.write(TEMPLATES / "app.py", "app.py")


PACKED_CACHE = ROOT / "build" / "brotli-cache"


def _packed(path: Path) -> Path:
    """`path` packed by tools/brotli.mjs (quality 11: about two minutes for Pyodide's 9.6 MB WebAssembly here),
    kept in build/brotli-cache/ under the digest of the file and the tool, so that a rebuild packs it only once."""
    digest = _digest(path.read_bytes(), (ROOT / "tools" / "brotli.mjs").read_bytes())
    packed = PACKED_CACHE / f"{digest}.br"
    if not packed.is_file():
        PACKED_CACHE.mkdir(parents=True, exist_ok=True)
        partial = packed.with_name(packed.name + ".partial")
        subprocess.run(["node", str(ROOT / "tools" / "brotli.mjs"), str(path), str(partial)], check=True)
        partial.rename(packed)  # whole or absent
    return packed


SNAPSHOT_CACHE = ROOT / "build" / "snapshot-cache"
SNAPSHOT_FILES = ("snapshot.bin.br", "stdlib.zip.br", "snapshot.json")
SNAPSHOT_CACHE_KEEP = 4


def make_snapshot(out: Path, paths: Paths) -> tuple[int, str]:
    """Python started and pycore imported, frozen into a memory snapshot (see tools/snapshot.mjs), with the page's
    copy of the standard library. Made once per set of inputs (Paths.snapshot, their digest): a later build with the
    same inputs takes both packed files from build/snapshot-cache/<digest>/ (making and packing them at Brotli's
    best takes about a minute). Returns what the page needs to know of it (snapshot.json, kept in the cache only): its
    unpacked length in bytes, and its base's hash (worker.js snapshotBase)."""
    app = out / paths.app
    cached = SNAPSHOT_CACHE / paths.snapshot
    if not all((cached / name).is_file() for name in SNAPSHOT_FILES):
        subprocess.run(["node", str(ROOT / "tools" / "snapshot.mjs"), str(out / paths.pyodide), str(app),
                        sys.executable],
                       check=True)
        partial = cached.with_name(cached.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for name in SNAPSHOT_FILES:
            shutil.copy2(app / name, partial / name)
        shutil.rmtree(cached, ignore_errors=True)
        partial.rename(cached)  # whole or absent: a build stopped halfway leaves only the .partial folder
        kept = sorted(SNAPSHOT_CACHE.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[SNAPSHOT_CACHE_KEEP:]:  # the latest few (another branch's sources), not every one ever made
            shutil.rmtree(old, ignore_errors=True)
    else:
        for name in SNAPSHOT_FILES:
            shutil.copy2(cached / name, app / name)
    (app / "warm.py").unlink()  # used by the snapshot only
    meta = app / "snapshot.json"
    facts = json.loads(meta.read_text())
    meta.unlink()
    length, base = facts.get("bytes"), facts.get("base")
    if not isinstance(length, int) or not 0 < length < 1 << 32:  # a 32-bit WebAssembly memory and its header
        sys.exit(f"{cached / meta.name}: not a snapshot's length: {length!r}")
    if not isinstance(base, str) or not re.fullmatch(r"[0-9a-f]{64}", base):  # SHA-256 (worker.js snapshotBase)
        sys.exit(f"{cached / meta.name}: not a base's hash: {base!r}")
    return length, base


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def offline_context(out: Path, paths: Paths) -> dict:
    """What offline.html inlines: the runtime's modules and the worker's code in an import map of data: URLs,
    and its files as base64 for offline-fetch.js."""
    runtime = out / paths.pyodide
    imports = {f"pyodide/{name}": "data:text/javascript;base64," + _b64((runtime / name).read_bytes())
               for name in ("pyodide.mjs", "pyodide.asm.mjs")}
    imports["llm/worker.js"] = "data:text/javascript;base64," + _b64((STATIC / "worker.js").read_bytes())
    imports["brotli/brotli_dec_wasm.js"] = "data:text/javascript;base64," + _b64(
        (out / paths.brotli / "brotli_dec_wasm.js").read_bytes())
    app = out / paths.app
    files = {  # name: (bytes, MIME type, store gzip-packed)
        "pyodide.asm.wasm": ((runtime / "pyodide.asm.wasm").read_bytes(), "application/wasm", True),
        "brotli_dec_wasm_bg.wasm": ((out / paths.brotli / "brotli_dec_wasm_bg.wasm").read_bytes(), "application/wasm",
                                    True),
        "stdlib.zip.br": ((app / "stdlib.zip.br").read_bytes(), "application/octet-stream", False),
        "snapshot.bin.br": ((app / "snapshot.bin.br").read_bytes(), "application/octet-stream", False),
    }
    return {
        "favicon": _b64((STATIC / "favicon.svg").read_bytes()),
        "style": (STATIC / "style.css").read_text(encoding="utf-8"),
        "boot": (STATIC / "boot.js").read_text(encoding="utf-8"),
        "fetch_shim": (STATIC / "offline-fetch.js").read_text(encoding="utf-8"),
        "importmap": json.dumps({"imports": imports}),
        "files": {name: {"data": _b64(gzip.compress(data, 9) if packed else data), "type": mime, "gzip": packed}
                  for name, (data, mime, packed) in files.items()},
    }


def page_files(out: Path, paths: Paths) -> list:
    """The files the pages (index.html, embed.html) load, relative to the site root: what the service worker
    keeps. Not offline.html (it carries everything itself), not offline-fetch.js (only offline.html uses it), not
    warm.py (the snapshot's) nor pycore.zip and python_stdlib.zip (only a start without the snapshot fetches
    them), nor pyodide-lock.json (the worker passes its header inline), nor the plain PACKED_IN_TRANSIT (the
    worker asks for their Brotli-packed copies, and for the plain files only where that fails)
    tests/e2e/test_offline.py checks this list against what the pages request."""
    unused = ("offline-fetch.js", "pycore.zip", "warm.py")
    app = sorted(p.name for p in (out / paths.app).iterdir() if p.is_file() and p.name not in unused)
    # index.html is the site root's page ("./"), kept once under that name
    return (["./", "favicon.svg", *(p for p in PAGES if p != "index.html")] + [paths.app + name for name in app] +
            [paths.pyodide + name for name in PYODIDE_FILES
             if name not in ("python_stdlib.zip", "pyodide-lock.json", *PACKED_IN_TRANSIT)] +
            [paths.pyodide + name + ".br" for name in PACKED_IN_TRANSIT] +
            [paths.brotli + name for name in BROTLI_FILES])


def write_service_worker(out: Path, paths: Paths):
    """sw.js: keeps the files the pages use, for offline use; a new build is a new cache."""
    files = page_files(out, paths)
    missing = [f for f in files if f != "./" and not (out / f).is_file()]
    assert not missing, f"the service worker would keep files the build lacks: {missing}"
    # versioned folders are named by their content; the rest (pages, favicon) is hashed here
    unversioned = [(out / f).read_bytes() for f in files if f != "./" and not f.startswith(("app/", "vendor/"))]
    version = _digest(*(f.encode() for f in files), *unversioned)
    template = (TEMPLATES / "sw.js").read_text()
    (out / "sw.js").write_text(template.replace("__VERSION__", version)
                               .replace("__FILES__", json.dumps(files)), encoding="utf-8")


def build(out: Path = SITE) -> Path:
    paths = Paths()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    copy_runtime(out, paths)
    copy_app(out, paths)
    paths.snapshot_bytes, paths.snapshot_base = make_snapshot(out, paths)
    render(out, paths)  # the pages, and offline.html with everything inlined
    write_service_worker(out, paths)
    return out


@functools.cache
def _netlify_rules() -> tuple:
    return tuple(tomllib.loads((ROOT / "netlify.toml").read_text()).get("headers", []))


def netlify_headers(path: str) -> dict:
    """The headers Netlify sends for a URL path: those of every [[headers]] rule whose `for` matches."""
    out = {}
    for rule in _netlify_rules():
        if fnmatch.fnmatchcase(path.split("?")[0], rule["for"]):
            out.update(rule["values"])
    return out


# What the CDN compresses in transit (text, JavaScript, JSON, SVG and WebAssembly; Netlify compresses responses
# by their type: https://answers.netlify.com/t/what-happens-during-deployment/129004 shows a 29 MB .wasm
# arriving as 7.3 MB), and so does the local server. Zips and the .br files are packed already.
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml", "application/wasm")


@functools.lru_cache(maxsize=64)
def _gzipped(path: str, mtime_ns: int, size: int) -> bytes:
    return gzip.compress(Path(path).read_bytes(), 6, mtime=0)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves site/ as Netlify does (netlify.toml's policy, caching and types, compressed in transit), so the
    local server, the tests and the benchmarks see what users get. `csp_drop` removes a source, to prove it
    is needed."""
    csp_drop = ""

    def send_head(self):
        """A compressible file to a client that accepts gzip goes gzip-encoded (cached in memory)."""
        path = self.translate_path(self.path)
        if Path(path).is_dir() and self.path.split("?")[0].endswith("/"):
            path = str(Path(path) / "index.html")
        if ("gzip" not in self.headers.get("Accept-Encoding", "") or not Path(path).is_file()
                or "Content-Encoding" in netlify_headers(self.path)):  # packed already (pyodide.asm.wasm.br)
            return super().send_head()
        ctype = self.guess_type(path)
        if not ctype.startswith(COMPRESSIBLE):
            return super().send_head()
        stat = Path(path).stat()
        body = _gzipped(path, stat.st_mtime_ns, stat.st_size)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(stat.st_mtime))
        self.end_headers()
        return io.BytesIO(body)

    def end_headers(self):
        for name, value in netlify_headers(self.path).items():
            if name == "Content-Security-Policy" and self.csp_drop:
                value = value.replace(self.csp_drop, "")
            if name != "Content-Type":  # guess_type sets it: a second header would not replace the first
                self.send_header(name, value)
        super().end_headers()

    def guess_type(self, path):
        return netlify_headers(self.path).get("Content-Type") or super().guess_type(path)

    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # a browser closing a connection early is not worth a traceback


def serve_in_background(out: Path, handler_class=QuietHandler, port: int = 0) -> QuietServer:
    """Serve `out` from a thread (tests, benchmarks); port 0 takes a free one (server.server_address)."""
    server = QuietServer(("127.0.0.1", port), functools.partial(handler_class, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def serve(out: Path, port: int):
    handler = functools.partial(QuietHandler, directory=str(out))
    with QuietServer(("127.0.0.1", port), handler) as httpd:
        print(f"Serving {out} at http://localhost:{port}/  (Ctrl-C to stop)", flush=True)
        httpd.serve_forever()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--serve", action="store_true")
    p.add_argument("--port", type=int, default=8000)
    args = p.parse_args()
    out = build()
    print(f"built {out}")
    if args.serve:
        serve(out, args.port)


if __name__ == "__main__":
    main()
