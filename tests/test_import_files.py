"""read_model_files: whatever the user chose together, recognised and reported."""
import json

import pytest

from gguf import GGUFReader
from gguf_files import SPECS, parse_prefixes, write_spec_gguf
from pycore.errors import ModelFileError
from pycore.importers import read_model_files
from pycore.importers.reader import BytesReader, FileReader
from safetensors_files import LLAMA_CONFIG, hf_tensors, write_safetensors


def test_a_gguf_alone(tmp_path):
    path = write_spec_gguf(tmp_path / "m.gguf", SPECS["qwen3moe-experts"], ("Q4_K", "Q6_K"))
    with FileReader(path) as r:
        imp = read_model_files([("m.gguf", r)])
    assert imp.weights == "file"
    assert sum(size for *_, size in imp.mix) == sum(int(t.n_bytes) for t in GGUFReader(path).tensors)
    assert imp.spec.num_experts == 4 and any(name == "Tensors" for name, _ in imp.facts)
    assert imp.exact and imp.bytes_read < path.stat().st_size


def test_a_prefix_asks_for_more(tmp_path):
    path = write_spec_gguf(tmp_path / "m.gguf", SPECS["llama-gqa"], ("Q8_0",), tokens=3000)
    data = path.read_bytes()
    imp, end, _ = parse_prefixes(data, lambda r: read_model_files([("m.gguf", r)]), "m.gguf", first=256)
    assert imp.spec.num_layers == 2 and end < len(data)


def test_safetensors_with_config_and_config_alone(tmp_path):
    st = write_safetensors(tmp_path / "model.safetensors", hf_tensors(LLAMA_CONFIG))
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(LLAMA_CONFIG))
    with FileReader(st) as a, FileReader(cfg) as b:
        imp = read_model_files([("model.safetensors", a), ("config.json", b)])
    assert imp.weights == "file" and imp.spec.file_tensors
    with FileReader(cfg) as b:
        alone = read_model_files([("config.json", b)])
    assert alone.weights == "BF16" and not alone.spec.file_tensors
    with FileReader(st) as a:
        headers_only = read_model_files([("model.safetensors", a)])
    assert headers_only.spec is None and "config.json" in dict(headers_only.facts)["Architecture"]


@pytest.mark.parametrize("name,data", [("x.bin", b"\x00\x01binary"), ("a.gguf", b"GGUF\x09\x00\x00\x00"),
                                       ("config.json", b"{not json"), ("config.json", b"[1, 2]")])
def test_unreadable_choices(name, data):
    with pytest.raises(ModelFileError):
        read_model_files([(name, BytesReader(data))])
