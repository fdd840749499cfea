"""Run the real llama.cpp on a GGUF file at several settings and read back the sizes it prints.

llama.cpp prints each buffer it allocates in MiB with two decimals (llama-context.cpp, llama-kv-cache.cpp,
llama-memory-recurrent.cpp, llama-model.cpp). `run_llama_cpp` loads the file once in a subprocess
(tests/llama_cpp_run.py; the C library writes to file descriptor 2, so the subprocess's stderr is
the capture) and returns, per setting, the parsed figures.
"""
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

RUNNER = os.path.join(os.path.dirname(__file__), "llama_cpp_run.py")

_MIB = r"([0-9]+\.[0-9]+) MiB"
_KV = re.compile(r"llama_kv_cache: size = +" + _MIB + r" \( *([0-9]+) cells, +([0-9]+) layers, +([0-9]+)/([0-9]+) seqs\)")
# llama-memory-recurrent.cpp: "size = %7.2f MiB (%6u cells, %3d layers, %2u seqs %2u rs_seq), R (%s): %7.2f MiB,
# S (%s): %7.2f MiB, P (%s): %7.2f MiB" (layers: the model's n_layer, the filtered-out ones included)
_RS = re.compile(r"llama_memory_recurrent: size = +" + _MIB + r" \( *([0-9]+) cells, +([0-9]+) layers"
                 r"(?:, +([0-9]+) seqs +([0-9]+) rs_seq\), R \((\w+)\): +" + _MIB + r", S \((\w+)\): +" + _MIB + r")?")
_RS_BUF = re.compile(r"llama_memory_recurrent: +(\S+) RS buffer size = +" + _MIB)
_COMPUTE = re.compile(r"(\S+) compute buffer size = +" + _MIB)
_OUTPUT = re.compile(r"(\S+) +output buffer size = +" + _MIB)
_MODEL = re.compile(r"(\S+) model buffer size = +" + _MIB)
_NCTX = re.compile(r"llama_context: n_ctx += ([0-9]+)")


def available() -> bool:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Printed:
    """What llama.cpp printed for one context, in MiB as printed (two decimals)."""

    kv: list = field(default_factory=list)  # (MiB, cells, layers) per KV cache (iSWA: base, then SWA)
    recurrent: list = field(default_factory=list)  # (MiB, cells, layers)
    # per recurrent memory: {"mib", "cells", "layers", "seqs", "rs_seq", "r_type", "r_mib", "s_type", "s_mib"}
    states: list = field(default_factory=list)
    rs_buffers: dict = field(default_factory=dict)  # buffer type -> MiB (RS buffer size)
    compute: dict = field(default_factory=dict)  # buffer type -> MiB
    output: dict = field(default_factory=dict)
    n_ctx: int = 0
    text: str = ""


def parse(text: str) -> Printed:
    p = Printed(text=text)
    for line in text.splitlines():
        if m := _KV.search(line):
            p.kv.append((float(m.group(1)), int(m.group(2)), int(m.group(3))))
        elif m := _RS.search(line):
            p.recurrent.append((float(m.group(1)), int(m.group(2)), int(m.group(3))))
            if m.group(4):
                p.states.append(dict(mib=float(m.group(1)), cells=int(m.group(2)), layers=int(m.group(3)),
                                     seqs=int(m.group(4)), rs_seq=int(m.group(5)), r_type=m.group(6),
                                     r_mib=float(m.group(7)), s_type=m.group(8), s_mib=float(m.group(9))))
        elif m := _RS_BUF.search(line):
            p.rs_buffers[m.group(1)] = float(m.group(2))
        elif m := _COMPUTE.search(line):
            p.compute[m.group(1)] = float(m.group(2))
        elif m := _OUTPUT.search(line):
            p.output[m.group(1)] = float(m.group(2))
        elif m := _NCTX.search(line):
            p.n_ctx = int(m.group(1))
    return p


def run_llama_cpp(path: str, cases: list, timeout: float = 300) -> tuple:
    """(model buffers {type: MiB}, [Printed per case]) for the GGUF at `path`."""
    proc = subprocess.run([sys.executable, RUNNER, str(path), json.dumps(cases)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})
    err = proc.stderr
    if proc.returncode != 0:
        raise AssertionError(f"llama.cpp failed ({proc.returncode}):\n{err[-3000:]}")
    head, *parts = re.split(r"=== case [0-9]+ ===\n", err)
    model = {m.group(1): float(m.group(2)) for m in _MODEL.finditer(head)}
    if len(parts) != len(cases):
        raise AssertionError(f"expected {len(cases)} contexts, got {len(parts)}:\n{err[-3000:]}")
    return model, [parse(t) for t in parts]
