"""Build the static site into site/: the page rendered by Jinja2 with the default estimate already
computed (by the same pycore the browser runs), pycore itself, and the pinned browser runtime.

    python build.py                 # build site/
    python build.py --serve         # build, then serve site/ on localhost and print the URL
"""
import argparse
import functools
import http.server
import shutil
import sys
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from pycore import Scenario, default_context, estimate, model  # noqa: E402
from pycore.report import estimate_dict  # noqa: E402

SITE = ROOT / "site"
DEFAULT_MODEL = "llama-3.1-8b"


def render(out: Path):
    env = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    scenario = Scenario(DEFAULT_MODEL, weights="Q4_K_M", context=default_context(model(DEFAULT_MODEL)),
                        gpu="rtx-4090")
    e = estimate(scenario)
    html = env.get_template("index.html").render(estimate=e, data=estimate_dict(e))
    (out / "index.html").write_text(html, encoding="utf-8")


def build(out: Path = SITE) -> Path:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    render(out)
    return out


def serve(out: Path, port: int):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
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
