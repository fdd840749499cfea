"""Coverage-guided fuzzing of the GGUF reader with atheris (on demand; not a test dependency).

    pip install atheris                       # needs a clang-built CPython or a wheel for it
    python fuzz/atheris_gguf.py --make-corpus fuzz/corpus-gguf    # seed files, written by gguf-py
    python fuzz/atheris_gguf.py fuzz/corpus-gguf -max_total_time=600 -rss_limit_mb=512

Any exception other than ModelFileError is a bug; libFuzzer saves the input as crash-*.
tests/test_import_hostile.py runs the same `check` on mutated files with hypothesis in CI.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pycore.errors import InputError, ModelFileError  # noqa: E402
from pycore.importers.gguf import import_gguf  # noqa: E402
from pycore.importers.reader import BytesReader  # noqa: E402
from pycore.memory import estimate  # noqa: E402
from pycore.scenario import Scenario  # noqa: E402


def check(data: bytes) -> None:
    """Parse `data` as a whole GGUF file: a result or ModelFileError, nothing else. A file that
    parses must also estimate (its weights exactly the file's tensor bytes) on one GPU and split
    over two, or refuse the split with an InputError."""
    try:
        imp = import_gguf(BytesReader(data))
    except ModelFileError:
        return
    estimate_all_ways(imp.spec, imp.tensor_bytes)


def estimate_all_ways(spec, tensor_bytes: int) -> None:
    e = estimate(Scenario(spec, weights="file", context=64))
    # the file's tensors byte for byte; the engine (llama.cpp for GGUF) may load a tied head twice
    assert e.weight_storage.total == tensor_bytes and e.weights.bytes >= tensor_bytes
    assert sum(d.total for d in e.devices) + (e.host.total if e.host else 0) == e.total
    for parallel in ("tensor", "pipeline"):
        try:
            e = estimate(Scenario(spec, weights="file", context=64, gpus=2, parallel=parallel))
        except InputError:
            continue
        assert e.weights.bytes >= tensor_bytes


# Seeds of a few kB (libFuzzer mutates small inputs far faster); tests/test_import_hostile.py fuzzes them too.
SEED = dict(name="seed", arch="llama", vocab_size=32, hidden_size=32, num_layers=2, num_heads=2, num_kv_heads=1,
            head_dim=16, intermediate_size=32, max_context=256)
SEED_MLA = dict(arch="deepseek2", num_kv_heads=2, head_dim=24, kv_lora_rank=32, qk_nope_head_dim=16,
                qk_rope_head_dim=8, v_head_dim=16, num_experts=2, experts_per_token=1, expert_intermediate_size=32,
                first_dense_layers=1)


def make_corpus(folder: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from gguf_files import write_spec_gguf  # dev dependency: llama.cpp's gguf-py

    from pycore.models import SLIDING, ModelSpec

    seeds = {"llama": ModelSpec(**SEED),
             "gemma2": ModelSpec(**{**SEED, "arch": "gemma2", "norms_per_layer": 4, "tie_embeddings": True,
                                    "layer_types": (SLIDING, "full"), "sliding_window": 64}),
             "deepseek2": ModelSpec(**{**SEED, **SEED_MLA})}
    Path(folder).mkdir(parents=True, exist_ok=True)
    for name, spec in seeds.items():
        write_spec_gguf(Path(folder) / f"{name}.gguf", spec, ("Q8_0", "F16"), tokens=8, file_type=7)


def main(check_input=check, write_corpus=make_corpus) -> None:
    """`--make-corpus FOLDER` writes the seeds; anything else is libFuzzer's command line."""
    if len(sys.argv) == 3 and sys.argv[1] == "--make-corpus":
        write_corpus(sys.argv[2])
        return
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, check_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
