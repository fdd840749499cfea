"""Coverage-guided fuzzing of the safetensors header and index readers with atheris (on demand;
not a test dependency).

    pip install atheris
    python fuzz/atheris_safetensors.py --make-corpus fuzz/corpus-safetensors   # written by `safetensors`
    python fuzz/atheris_safetensors.py fuzz/corpus-safetensors -max_total_time=600 -rss_limit_mb=512

Any exception other than ModelFileError is a bug; libFuzzer saves the input as crash-*.
tests/test_import_hostile.py runs the same `check` on mutated files with hypothesis in CI.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from atheris_gguf import estimate_all_ways, main  # noqa: E402

from pycore.errors import ModelFileError  # noqa: E402
from pycore.importers.reader import BytesReader  # noqa: E402
from pycore.importers.safetensors import import_safetensors, read_safetensors_index  # noqa: E402

# A tiny Llama config, so that a header that parses also goes through the spec and its checks.
CONFIG = dict(model_type="llama", hidden_size=64, num_hidden_layers=1, num_attention_heads=4,
              num_key_value_heads=2, head_dim=16, vocab_size=32, intermediate_size=64,
              max_position_embeddings=256, tie_word_embeddings=False)


def check(data: bytes) -> None:
    """Parse `data` as a .safetensors file (with and without a config) and as an index (with and
    without a config): a result or ModelFileError, nothing else."""
    for config in (CONFIG, None):
        try:
            imp = import_safetensors([BytesReader(data)], config=config)
            if imp.spec is not None:
                estimate_all_ways(imp.spec, imp.total_bytes)
        except ModelFileError:
            pass
        try:
            import_safetensors(index=read_safetensors_index(data), config=config)
        except ModelFileError:
            pass


def index_of(tensors: dict, total_size: int, shards: int = 2) -> bytes:
    """A model.safetensors.index.json for these tensor names, spread over `shards` files."""
    names = list(tensors)
    files = [f"model-{i + 1:05d}-of-{shards:05d}.safetensors" for i in range(shards)]
    weight_map = {n: files[i * shards // len(names)] for i, n in enumerate(names)}
    return json.dumps({"metadata": {"total_size": total_size}, "weight_map": weight_map}).encode()


def make_corpus(folder: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from safetensors_files import data_bytes, hf_tensors, quantize, write_safetensors  # dev dependency

    Path(folder).mkdir(parents=True, exist_ok=True)
    tensors = hf_tensors(CONFIG)
    write_safetensors(Path(folder) / "plain.safetensors", tensors, {"format": "pt"})
    for method in ("gptq", "nf4", "fp8"):
        write_safetensors(Path(folder) / f"{method}.safetensors", quantize(tensors, method))
    (Path(folder) / "model.safetensors.index.json").write_bytes(index_of(tensors, data_bytes(tensors)))


if __name__ == "__main__":
    main(check, make_corpus)
