"""The CLI contract: --json keys, readable tables, and one-line errors with exit code 2."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pycore.cli import main


def run(*args):
    p = subprocess.run([sys.executable, "-m", "pycore", *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def test_estimate_json_contract():
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--kv", "q8_0",
                         "--context", "8192", "--batch", "2", "--gpu", "rtx-4090", "--json")
    assert code == 0, err
    d = json.loads(out)
    for key in ("weights", "kv_cache", "activations", "overhead", "total"):
        assert isinstance(d[key]["bytes"], int)
    assert d["parameters"] == {"total": 8030261248, "active": 8030261248, "embedding": 128256 * 4096,
                               "by_part": {"language": 8030261248, "vision": 0, "audio": 0, "mtp": 0}}
    assert d["total"]["bytes"] == sum(d[k]["bytes"] for k in ("weights", "kv_cache", "activations", "overhead"))
    assert d["fit"]["gpu"] == "rtx-4090" and isinstance(d["fit"]["fits"], bool)
    # llama.cpp (the engine for GGUF): the GPU's share and what stays in system RAM make the whole
    assert d["devices"][0]["total"] + d["host"]["bytes"] == d["total"]["bytes"]
    assert d["engine"]["name"] == "llama.cpp" and d["engine"]["n_ctx"] == 16384
    assert any("llama_kv_cache: size =" in line for line in d["engine"]["log"])
    # q8_0 KV: 2 × 32 layers × (1024 / 32 × 34 B) per token, 2 × 8192 tokens
    assert d["kv_cache"]["bytes"] == 2 * 8192 * 32 * 2 * 1088


def test_estimate_table_labels_units():
    code, out, _ = run("estimate", "--model", "llama-3.1-8b", "--weights", "IQ4_XS", "--gpu", "rtx-3090")
    assert code == 0
    assert "GiB" in out and " GB" not in out
    assert "Fits on NVIDIA GeForce RTX 3090" in out


def test_config_path(tmp_path: Path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896,
                               "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
                               "num_key_value_heads": 2, "max_position_embeddings": 32768,
                               "tie_word_embeddings": True}))
    code, out, err = run("estimate", "--config", str(cfg), "--json")
    assert code == 0, err
    assert json.loads(out)["parameters"]["total"] == 494032768  # Qwen2.5-0.5B


@pytest.mark.parametrize("args", [
    ("estimate", "--model", "nope"), ("estimate", "--model", "llama-3.1-8b", "--context", "-1"),
    ("estimate", "--model", "llama-3.1-8b", "--context", "abc"), ("estimate", "--model", "llama-3.1-8b", "--context", "inf"),
    ("estimate", "--model", "llama-3.1-8b", "--weights", "Q9"), ("estimate",), ("bogus",),
    ("estimate", "--config", "/nonexistent/config.json"), ("estimate", "--model", "llama-3.1-8b", "--gpus", "3"),
    ("estimate", "--model", "llama-3.1-8b", "--gpu-memory", "nan"),
])
def test_bad_arguments_exit_2_with_one_line(args):
    code, out, err = run(*args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "Traceback" not in err


def test_malformed_config_file(tmp_path: Path):
    bad = tmp_path / "config.json"
    bad.write_bytes(b"{\"model_type\": \"llama\", \xff")
    code, _, err = run("estimate", "--config", str(bad))
    assert code == 2 and "Traceback" not in err


def test_catalogs(capsys):
    for name in ("models", "formats", "gpus"):
        assert main([name, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data
    assert main(["gpus"]) == 0
    assert "rtx-4090" in capsys.readouterr().out


def test_console_script_installed():
    exe = Path(sys.executable).with_name("llm-memory")
    assert exe.exists()
    p = subprocess.run([str(exe), "estimate", "--model", "llama-3.2-1b", "--json"], capture_output=True, text=True)
    assert p.returncode == 0 and json.loads(p.stdout)["parameters"]["total"] == 1235814400


def test_train_json_contract():
    code, out, err = run("train", "--model", "llama-3.1-8b", "--method", "lora", "--optimizer", "adamw",
                         "--precision", "mixed_bf16", "--batch", "2", "--seq", "2048", "--checkpointing", "full",
                         "--zero", "2", "--gpus", "4", "--gpu", "a100-80gb", "--json")
    assert code == 0, err
    d = json.loads(out)
    keys = ("weights", "gradients", "optimizer", "activations", "adapters", "overhead")
    for key in keys + ("total",):
        assert isinstance(d[key]["bytes"], int)
    assert d["total"]["bytes"] == sum(d[k]["bytes"] for k in keys)
    assert d["fit"]["gpu"] == "a100-80gb"


@pytest.mark.parametrize("args", [("train", "--model", "llama-3.1-8b", "--zero", "5"),
                                  ("train", "--model", "llama-3.1-8b", "--method", "dpo"),
                                  ("train", "--model", "llama-3.1-8b", "--seq", "0"),
                                  ("train", "--model", "llama-3.1-8b", "--tp", "3", "--gpus", "3")])
def test_train_bad_arguments(args):
    code, _, err = run(*args)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err


def test_gguf_path(tmp_path: Path):
    from gguf import GGUFReader
    from gguf_files import SPECS, write_spec_gguf
    path = write_spec_gguf(tmp_path / "tiny.Q4_K_M.gguf", SPECS["llama-gqa"], ("Q4_K", "Q6_K"))
    code, out, err = run("estimate", "--gguf", str(path), "--context", "1024", "--json")
    assert code == 0, err
    d = json.loads(out)
    # weights are the file's own tensor bytes, as llama.cpp's gguf-py reads them
    assert d["weights"]["bytes"] == sum(int(t.n_bytes) for t in GGUFReader(path).tensors)
    assert d["scenario"]["weights"] == "file" and d["scenario"]["model"] == "custom"
    # the architecture comes from the header: 2 layers × 2 KV heads × 64 dims × 2 (K, V) × 2 B per token
    assert d["kv_cache"]["bytes"] == 1024 * 2 * 2 * 64 * 2 * 2


def test_malformed_gguf_exits_2(tmp_path: Path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 16)
    code, out, err = run("estimate", "--gguf", str(bad))
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err


def test_safetensors_with_its_config(tmp_path: Path):
    from safetensors_files import LLAMA_CONFIG, hf_tensors, write_safetensors
    folder = tmp_path / "model"
    folder.mkdir()
    write_safetensors(folder / "model.safetensors", hf_tensors(LLAMA_CONFIG))
    (folder / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    code, out, err = run("estimate", "--safetensors", str(folder / "model.safetensors"), "--json")
    assert code == 0, err
    d = json.loads(out)
    header_len = int.from_bytes((folder / "model.safetensors").read_bytes()[:8], "little")
    assert d["weights"]["bytes"] == (folder / "model.safetensors").stat().st_size - 8 - header_len
    (folder / "config.json").unlink()
    code, _, err = run("estimate", "--safetensors", str(folder / "model.safetensors"))
    assert code == 2 and "config.json" in err


def test_config_with_quantization_config_sets_the_format(tmp_path: Path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "vocab_size": 32000, "hidden_size": 4096,
                               "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
                               "max_position_embeddings": 4096, "torch_dtype": "float16",
                               "quantization_config": {"quant_method": "gptq", "bits": 4, "group_size": 128}}))
    code, out, err = run("estimate", "--config", str(cfg), "--json")
    assert code == 0, err
    assert json.loads(out)["scenario"]["weights"] == "GPTQ-4bit-g128"


@pytest.mark.parametrize("layers", [30_000_000, 10 ** 300])
def test_hostile_layer_count_fails_in_milliseconds(tmp_path: Path, layers):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": layers,
                               "num_attention_heads": 32, "vocab_size": 32000, "intermediate_size": 11008,
                               "max_position_embeddings": 4096}))
    import time
    start = time.perf_counter()
    code, out, err = run("estimate", "--config", str(cfg), "--json")
    assert time.perf_counter() - start < 30  # the interpreter's start on a loaded machine; the check is instant
    assert code == 2 and out == ""
    # one line naming the field (or, for 300 digits, the JSON reader's refusal), never the digits back
    assert err.count("\n") == 1 and ("num_hidden_layers" in err or "digits" in err) and len(err) < 160
    main(["estimate", "--config", str(cfg)])  # the first call imports the CLI's modules
    times = []
    for _ in range(3):  # the best of three, so a busy machine does not decide
        start = time.perf_counter()
        assert main(["estimate", "--config", str(cfg)]) == 2
        times.append(time.perf_counter() - start)
    assert min(times) < 0.1


def test_json_has_state_and_warnings_for_every_preset():
    from pycore.memory import estimate
    from pycore.presets import PRESETS
    from pycore.report import estimate_dict
    from pycore.scenario import Scenario
    for model in PRESETS:
        d = estimate_dict(estimate(Scenario(model, weights="BF16")))
        assert isinstance(d["state"]["bytes"], int) and isinstance(d["warnings"], list)
        assert all(isinstance(w, str) for w in d["warnings"])
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--json")
    d = json.loads(out)
    # a dense model read completely: the only warnings are the engine's own approximations (vLLM, the default
    # engine for BF16), never a note about the model
    assert d["state"]["bytes"] == 0 and d["warnings"] and all("vLLM" in w for w in d["warnings"])


@pytest.mark.parametrize("engine,kv,other", [
    # llama.cpp common/arg.cpp kv_cache_types @0c1e5709: f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1
    ("llama.cpp", "fp8", "vLLM"), ("llama.cpp", "int4", "Hugging Face transformers"),
    # vLLM vllm/config/cache.py@c1d86421 CacheDType: auto, bfloat16, fp8, fp8_e4m3, fp8_e5m2, fp8_inc, fp8_ds_mla
    ("vllm", "q8_0", "llama.cpp"), ("vllm", "q4_0", "llama.cpp"), ("vllm", "int8", "Hugging Face transformers"),
    # transformers cache_utils.py@67dd5524: the model dtype, or QuantizedCache (quanto 2/4 bits, HQQ 1-8 bits)
    ("transformers", "q4_0", "llama.cpp"), ("transformers", "fp8", "vLLM"),
])
def test_kv_cache_types_an_engine_lacks_are_refused(engine, kv, other):
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--engine", engine, "--kv", kv)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
    assert f"has no {kv} KV cache" in err and other in err


@pytest.mark.parametrize("engine,kv", [("llama.cpp", "q8_0"), ("llama.cpp", "iq4_nl"), ("llama.cpp", "bf16"),
                                       ("vllm", "fp8"), ("vllm", "fp8_e5m2"), ("vllm", "auto"), ("vllm", "bfloat16"),
                                       ("transformers", "int4"), ("transformers", "int8"), ("ollama", "q8_0")])
def test_kv_cache_types_an_engine_has_are_accepted(engine, kv):
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--engine", engine, "--kv", kv)
    assert code == 0, err


@pytest.mark.parametrize("command", ["estimate", "train", "bench"])
def test_zero_attention_heads_end_in_one_line(tmp_path: Path, command):
    # review 2026-11-30, finding 1: num_attention_heads 0 raised ZeroDivisionError (hidden_size % heads), exit 1
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 32,
                               "num_attention_heads": 0, "vocab_size": 32000, "intermediate_size": 11008,
                               "max_position_embeddings": 4096}))
    code, out, err = run(command, "--config", str(cfg), *(("--gpu", "rtx-4090") if command == "bench" else ()))
    assert code == 2 and out == ""
    assert err == "error: num_attention_heads: must be a positive whole number, got 0\n"


@pytest.mark.parametrize("args", [("formats",), ("estimate", "--model", "falcon-7b")])
def test_a_reader_that_closes_the_pipe_early_ends_it_quietly(args):
    # review 2026-11-30, finding 2: `python -m pycore ... | head -1` printed a BrokenPipeError traceback. Here the
    # pipe's read end is closed before the command writes (as head does after its line), so every run meets it.
    import os
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        p = subprocess.run([sys.executable, "-m", "pycore", *args], stdout=write_end, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    finally:
        os.close(write_end)
    assert p.stderr == "" and p.returncode == 1  # the Python docs' recipe (signal.html, Note on SIGPIPE): exit 1


def test_train_lora_modules_all_as_the_help_says():
    # review 2026-11-30, finding 10: the CLI split "all" on commas before the training scenario could read it
    code, out, err = run("train", "--model", "llama-3.2-1b", "--method", "lora", "--lora-modules", "all", "--json")
    assert code == 0, err
    code, listed, err = run("train", "--model", "llama-3.2-1b", "--method", "lora", "--lora-modules",
                            "q,k,v,o,gate,up,down", "--json")
    assert code == 0, err
    assert json.loads(out) == json.loads(listed)
    assert json.loads(out)["scenario"]["lora_modules"] == ["q", "k", "v", "o", "gate", "up", "down"]
    code, out, err = run("train", "--model", "llama-3.2-1b", "--method", "lora", "--lora-modules", "q,v,", "--json")
    assert code == 0 and json.loads(out)["scenario"]["lora_modules"] == ["q", "v"], err


def test_safetensors_index_with_a_shard_missing_is_refused_by_name(tmp_path: Path):
    # review 2026-11-30, finding 7: shards named by the index but absent were skipped, and with none present the
    # estimate came from config.json alone (exit 0, bytes_read 0, no warning)
    from safetensors_files import LLAMA_CONFIG, hf_tensors, write_safetensors
    tensors = hf_tensors(LLAMA_CONFIG)
    names = list(tensors)
    shards = {"model-00001-of-00002.safetensors": names[:5], "model-00002-of-00002.safetensors": names[5:]}
    for shard, part in shards.items():
        write_safetensors(tmp_path / shard, {n: tensors[n] for n in part})
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 1},
                                 "weight_map": {n: s for s, part in shards.items() for n in part}}))
    code, out, err = run("estimate", "--safetensors", str(index), "--json")
    assert code == 0, err
    assert json.loads(out)["source"]["files"] == ["model.safetensors.index.json", *shards]
    (tmp_path / "model-00002-of-00002.safetensors").unlink()
    code, out, err = run("estimate", "--safetensors", str(index), "--json")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "'model-00002-of-00002.safetensors', named by the index, is not in" in err and "1 of 2 shards" in err
    # one shard read alone: what it cannot count reaches the warnings
    code, out, err = run("estimate", "--safetensors", str(tmp_path / "model-00001-of-00002.safetensors"), "--json")
    assert code == 0, err
    assert any("1 of 2 shards given" in w for w in json.loads(out)["warnings"])


def test_safetensors_file_with_no_tensors_is_refused(tmp_path: Path):
    from safetensors_files import LLAMA_CONFIG, write_safetensors
    write_safetensors(tmp_path / "model.safetensors", {})
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    code, out, err = run("estimate", "--safetensors", str(tmp_path / "model.safetensors"))
    assert code == 2 and out == "" and err == "error: file: 'model.safetensors' holds no tensors: no weights to " \
                                              "size (not a model's weight file)\n"


@pytest.mark.parametrize("args,expected", [
    # review 2026-11-30, finding 26: each message names the option given and its real limit
    (("estimate", "--model", "llama-3.2-1b", "--gpu-memory", "0"),
     "error: gpu_memory: 0.0 GiB is not a usable size: give more than 0"),  # it said "must be at least 1"
    (("train", "--model", "llama-3.2-1b", "--gpu-memory", "-2"),
     "error: gpu_memory: -2.0 GiB is not a usable size: give more than 0"),
    (("bench", "--model", "llama-3.2-1b", "--gpu", "rtx-4090", "--host", "nope"),
     "error: host: unknown CPU system 'nope': one of cpu-"),  # it said "gpu: unknown GPU"
    (("fit", "--gpu", "rtx-4090", "--host", "nope"), "error: host: unknown CPU system 'nope'"),
    (("fit", "--gpu", "rtx-4090", "--family", "zzz"),
     "error: family: no catalog model's id starts with 'zzz'"),  # it said "No catalog model fits"
    (("estimate", "--gguf", "http://127.0.0.1:9/x.gguf"), "error: gguf: "),  # it said "hf: "
])
def test_messages_name_what_was_given(args, expected):
    code, out, err = run(*args)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(expected), err


def test_a_custom_gpu_of_half_a_gib_is_accepted():
    code, out, err = run("estimate", "--model", "llama-3.2-1b", "--gpu-memory", "0.5", "--json")
    assert code == 0, err
    assert json.loads(out)["fit"]["memory_bytes"] == 1 << 29


def test_fit_with_filters_that_leave_nothing_says_so():
    code, out, err = run("fit", "--gpu", "rtx-4090", "--family", "llama", "--max-params", "0.001")
    assert code == 0, err
    assert out.startswith("No catalog model fits NVIDIA GeForce RTX 4090") and "with the filters given" in out


def test_json_errors_in_config_read_as_english(tmp_path: Path):
    cfg = tmp_path / "config.json"
    cfg.write_text('{"model_type": "llama", "hidden_size": "40')
    code, _, err = run("estimate", "--config", str(cfg))
    assert code == 2
    assert err == "error: file: config.json is not valid JSON: Unterminated string starting at line 1 column 40\n"


def test_units_gb_on_request_as_the_readme_says():
    # review 2026-11-30, finding 27: README promised GB on request; the CLI had no way to ask
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--weights", "Q4_K_M", "--gpu", "rtx-4090",
                         "--units", "GB")
    assert code == 0, err
    total = next(line for line in out.splitlines() if line.startswith("Total"))
    n = int(total.split()[-2].replace(",", ""))
    assert total.split()[1:3] == [f"{n / 1e9:.2f}", "GB"]  # 10^9 bytes, labelled GB
    import re
    assert re.search(r"Fits on NVIDIA GeForce RTX 4090: \d+\.\d\d GB usable, \d+\.\d\d GB to spare", out), out
    assert "System RAM needed:" in out and "MiB" not in out.split("System RAM needed:")[1].splitlines()[0]
    code, out, err = run("train", "--model", "llama-3.2-1b", "--units", "GB")
    assert code == 0, err
    total = next(line for line in out.splitlines() if line.startswith("Total"))
    n = int(total.split()[-2].replace(",", ""))
    assert total.split()[1:3] == [f"{n / 1e9:.2f}", "GB"]
    code, out, err = run("estimate", "--model", "llama-3.1-8b", "--units", "TB")
    assert code == 2 and "--units" in err
