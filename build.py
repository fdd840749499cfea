"""Build the static site into site/: the page rendered by Jinja2 with the default estimate already
computed (by the same pycore the browser runs), pycore itself, and the pinned browser runtime.

    python build.py                 # build site/
    python build.py --serve         # build, then serve site/ on localhost and print the URL
"""
import argparse
import functools
import http.server
import json
import shutil
import subprocess
import sys
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
from pycore.memory import estimate  # noqa: E402
from pycore.seed import worked_examples  # noqa: E402
from pycore.units import format_bytes  # noqa: E402

SITE = ROOT / "site"
NODE = ROOT / "node_modules"
TEMPLATES = ROOT / "templates"
# The runtime files the page loads, and nothing else of the npm packages.
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
PYCONFIG = {"interpreter": "./vendor/pyodide/pyodide-start.mjs", "files": {"./py/pycore.zip": "./*"}}
CUSTOM_FIELDS = (("hidden_size", "Hidden size"), ("num_hidden_layers", "Layers"),
                 ("num_attention_heads", "Attention heads"), ("num_key_value_heads", "KV heads"),
                 ("head_dim", "Head dim"), ("intermediate_size", "FFN size (per expert)"),
                 ("vocab_size", "Vocabulary"), ("max_position_embeddings", "Max context"),
                 ("num_local_experts", "Experts (0 = dense)"), ("num_experts_per_tok", "Experts per token"),
                 ("sliding_window", "Sliding window"))


def runtime_versions() -> dict:
    def version(package):
        return json.loads((NODE / package / "package.json").read_text())["version"]
    lock = json.loads((NODE / "pyodide" / "pyodide-lock.json").read_text())
    return {"pyodide": version("pyodide"), "pyscript": version("@pyscript/core"), "python": lock["info"]["python"]}


def catalog() -> dict:
    return {
        "models": V.model_groups(),
        "formats": V.format_groups(),
        "kv": [(f.name, f.description) for f in KV_FORMATS.values()],
        "gpus": V.gpu_groups(),
        "engines": [("auto", "Automatic: GGUF → llama.cpp, bitsandbytes → transformers, else vLLM")] +
                   [(e.name, e.label) for e in ENGINES.values()],
        "activation_methods": [("peak", "Peak working set (matches engine logs)"),
                               ("seed", "Seed formula: B·S·H·L·2 bytes"), ("none", "Not counted")],
        "kv_methods": [("exact", "Exact per layer (GQA, MLA, sliding windows)"),
                       ("seed", "Seed formula: 2·B·S·H·L·bytes (multi-head attention only)")],
        "parallel": [("tensor", "Tensor parallel"), ("pipeline", "Pipeline parallel")],
        "custom_fields": CUSTOM_FIELDS,
    }


def page_context() -> dict:
    """Everything the templates show, for the default scenario, computed here with pycore."""
    fields = dict(urlstate.DEFAULTS)
    scenario, errors = urlstate.scenario_from_fields(fields)
    assert not errors, errors
    fields["context"] = str(scenario.context)
    e = estimate(scenario)
    view = V.estimate_view(e)
    slots = V.slots(view)
    slots.update({"answer." + k: v for k, v in V.answers_view(e).items()})
    examples = [dict(id=w.id, title=w.title, formula=w.formula, seed_printed=w.seed_printed,
                     exact=format_bytes(w.exact_bytes), exact_how=w.exact_how, verdict=w.verdict)
                for w in worked_examples()]
    return dict(fields=fields, view=view, slots=slots, formats=V.formats_view(e), curve_svg=context_curve(e),
                catalog=catalog(), examples=examples, runtime=runtime_versions(), base="",
                pyconfig=json.dumps(PYCONFIG, separators=(",", ":")), fact_labels=V.FACT_LABELS,
                blank_device={k: "" for k in ("index", "weights", "kv_cache", "activations", "overhead", "total",
                                              "total_bytes", "fits")})


def render(out: Path):
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    context = page_context()
    for page in ("index.html", "embed.html"):
        (out / page).write_text(env.get_template(page).render(**context), encoding="utf-8")


def copy_runtime(out: Path):
    if not (NODE / "pyodide").is_dir() or not (NODE / "@pyscript" / "core").is_dir():
        sys.exit("node_modules is missing: run `npm ci` (or `make build`)")
    (out / "vendor" / "pyodide").mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(NODE / "pyodide" / name, out / "vendor" / "pyodide" / name)
    shutil.copytree(NODE / "@pyscript" / "core" / "dist", out / "vendor" / "pyscript",
                    ignore=shutil.ignore_patterns("*.map"))
    shutil.copy2(TEMPLATES / "static" / "pyodide-start.mjs", out / "vendor" / "pyodide" / "pyodide-start.mjs")


def make_snapshot(out: Path):
    """Python started and pycore imported, frozen into a memory snapshot (see tools/snapshot.mjs)."""
    subprocess.run(["node", str(ROOT / "tools" / "snapshot.mjs"), str(out)], check=True)


def copy_python(out: Path):
    (out / "py").mkdir()
    shutil.copy2(TEMPLATES / "app.py", out / "py" / "app.py")
    shutil.copy2(TEMPLATES / "warm.py", out / "py" / "warm.py")
    with zipfile.ZipFile(out / "py" / "pycore.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted((ROOT / "pycore").rglob("*.py")):
            z.write(path, path.relative_to(ROOT).as_posix())


def build(out: Path = SITE) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    shutil.copytree(TEMPLATES / "static", out / "static", ignore=shutil.ignore_patterns("*.mjs"))
    copy_runtime(out)
    copy_python(out)
    make_snapshot(out)
    render(out)
    return out


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm",
                      ".mjs": "text/javascript", ".js": "text/javascript"}

    def log_message(self, *args):
        pass


def serve(out: Path, port: int):
    handler = functools.partial(QuietHandler, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
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
