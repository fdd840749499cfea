"""Models on the Hub, read to the tensor by range requests: against a local stand-in of the Hub
(tests/hub_standin.py: real files written by `safetensors` and `gguf`, a redirect to a second origin,
a gated repo, 404s, and hostile servers). The CLI reaches it through HF_ENDPOINT."""
import json
import os
import re
import shutil
import time
import tomllib
from pathlib import Path

import pytest
from hub_standin import TOKEN, standin_with_repos
from safetensors_files import data_bytes

from pycore.cli import main
from pycore.importers.hub import (CONNECT_HOSTS, FIRST_READ, RETRIES, HubAuthError, HubError, HubLimitError, HubNotFound, HubRangeError,
                                  HubRef, HubTransferError, parse_ref, pick_gguf, quant_of, split_names)
from pycore.importers.remote import DiskCache, RemoteFile, Session, load_model

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    s = standin_with_repos(tmp_path_factory.mktemp("hub"))
    yield s.start()
    s.stop()


@pytest.fixture
def env(hub, tmp_path, monkeypatch):
    hub.clear()
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "10")
    return tmp_path


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and "--json" in args else out), err


# ---------------------------------------------------------------- pure parts


def test_ids_and_quant_names():
    assert parse_ref("Qwen/Qwen3-8B") == HubRef("Qwen/Qwen3-8B", "main", "")
    assert parse_ref("org/m@v1.0:q4_k_m") == HubRef("org/m", "v1.0", "q4_k_m")
    assert parse_ref("org/m@refs/pr/1") == HubRef("org/m", "refs/pr/1", "")
    for bad in ("../../etc/passwd", "org", "https://huggingface.co/org/m", "org/m@", "org/m@../x", "a/b/c", ""):
        with pytest.raises(HubError):
            parse_ref(bad)
    names = ["a/x-Q4_K_M.gguf", "x-IQ4_K_M.gguf", "x-Q4_K.gguf", "mmproj-x-Q4_K_M.gguf", "x-Q8_0-00002-of-00002.gguf",
             "x-Q8_0-00001-of-00002.gguf", "README.md"]
    assert pick_gguf(names, "q4_k_m") == ["a/x-Q4_K_M.gguf"]  # not IQ4_K_M, not the projector
    assert pick_gguf(names, "Q4_K") == ["x-Q4_K.gguf"]  # a whole word: not Q4_K_M
    assert pick_gguf(names, "Q8_0") == ["x-Q8_0-00001-of-00002.gguf", "x-Q8_0-00002-of-00002.gguf"]
    with pytest.raises(HubNotFound, match="Q4_K, Q4_K_M, Q8_0"):
        pick_gguf(names, "Q5_K_S")
    with pytest.raises(HubError, match="2 GGUF files match"):
        pick_gguf(["a-Q4_0.gguf", "b-Q4_0.gguf"], "Q4_0")
    assert quant_of("Qwen3-8B-UD-Q4_K_XL.gguf") == "Q4_K_XL" and quant_of("x-BF16-00001-of-00003.gguf") == "BF16"
    assert split_names("d/x-00001-of-00003.gguf") == [f"d/x-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    with pytest.raises(HubError, match="part 2"):
        split_names("x-00002-of-00003.gguf")
    with pytest.raises(HubError, match="99,999 parts"):
        split_names("x-00001-of-99999.gguf")


def test_the_page_policy_names_exactly_the_hub_hosts():
    """netlify.toml's connect-src: this site and the Hub's hosts (hub.CONNECT_HOSTS), nothing else."""
    policy = tomllib.loads((ROOT / "netlify.toml").read_text())["headers"][0]["values"]["Content-Security-Policy"]
    connect = next(d for d in policy.split(";") if d.strip().startswith("connect-src")).split()[1:]
    assert connect[0] == "'self'"
    assert connect[1:] == [f"https://{h}" for h in CONNECT_HOSTS]
    readme = (ROOT / "README.md").read_text()
    assert all(h in readme for h in CONNECT_HOSTS)


# ---------------------------------------------------------------- the CLI, exact


@pytest.mark.parametrize("repo, flag", [("tiny", "--hf"), ("big", "--model")])
def test_a_sharded_model_is_its_tensors_exactly(hub, env, capsys, repo, flag):
    code, d, err = cli(capsys, "estimate", flag, f"org/{repo}", "--json")
    assert code == 0, err
    # the sum of the tensors' bytes as written (safetensors_files.data_bytes: elements × 2 for BF16)
    assert d["weights"]["bytes"] == data_bytes(hub.tensors[repo])
    assert d["scenario"]["weights"] == "file"
    src = d["source"]
    n = {"tiny": 2, "big": 3}[repo]
    shards = [f"model-0000{i}-of-0000{n}.safetensors" for i in range(1, n + 1)]
    assert src["kind"] == "hub" and src["repo"] == f"org/{repo}" and src["revision"] == "main"
    assert src["files"] == ["config.json", "model.safetensors.index.json", *shards]
    assert src["bytes_read"] == hub.sent()  # what the servers sent is what the report says
    assert src["requests"] == len(hub.log) == 2 + 2 * n  # config, index; each shard: a redirect and one range
    assert not any(e["auth"] for e in hub.log)  # no token set: none sent
    # what the shards' headers said about the architecture reaches the warnings, as for local files
    assert any(w.startswith("the architecture ") and "parameters" in w for w in d["warnings"]), d["warnings"]
    if repo == "big":
        checkpoint = sum(p.stat().st_size for p in (hub.repos["org/big"]["files"][s] for s in shards))
        assert checkpoint >= 50_000_000 and src["bytes_read"] < checkpoint / 100


def test_a_single_file_model_and_the_cache(hub, env, capsys):
    code, d, _ = cli(capsys, "estimate", "--hf", "org/single", "--json")
    assert code == 0
    assert d["source"]["files"] == ["config.json", "model.safetensors"]  # the index 404 is not a file read
    assert d["weights"]["bytes"] == data_bytes(hub.tensors["tiny"])
    assert [e["status"] for e in hub.log] == [206, 404, 302, 206]
    first = d
    hub.clear()
    code, d, _ = cli(capsys, "estimate", "--hf", "org/single", "--json")  # the second estimate reads nothing
    assert code == 0 and hub.log == [] and d["source"]["bytes_read"] == d["source"]["requests"] == 0
    assert d["weights"] == first["weights"] and d["total"] == first["total"]
    cached = list((env / "cache" / "llm-memory" / "hub").iterdir())
    assert len(cached) == 3  # config, the missing index, the shard's header
    assert all(TOKEN.encode() not in p.read_bytes() for p in cached)


def test_revisions_are_part_of_the_url_and_the_text_says_what_was_read(hub, env, capsys):
    code, _, err = cli(capsys, "estimate", "--hf", "org/tiny@refs/pr/1")
    assert code == 2 and "404" in err
    assert hub.log[0]["path"] == "/org/tiny/resolve/refs%2Fpr%2F1/config.json"  # quoted as huggingface_hub does
    code, out, _ = cli(capsys, "estimate", "--hf", "org/tiny")
    assert code == 0 and out.rstrip().splitlines()[-1].startswith("read org/tiny@main: 4 files, ")
    code, out, _ = cli(capsys, "estimate", "--hf", "org/tiny")
    assert code == 0 and out.rstrip().endswith("0 bytes in 0 requests (the rest from the cache)")


def test_train_takes_a_hub_model(hub, env, capsys):
    code, d, err = cli(capsys, "train", "--hf", "org/tiny", "--json")
    assert code == 0, err
    assert d["source"]["kind"] == "hub" and d["source"]["repo"] == "org/tiny"


def test_gguf_by_quant_and_split_and_url(hub, env, capsys):
    from gguf import GGUFReader
    code, d, err = cli(capsys, "estimate", "--hf", "org/tiny-GGUF:q4_k_m", "--json")
    assert code == 0, err
    whole = hub.gguf_dir / "tiny-Q4_K_M.gguf"
    assert d["weights"]["bytes"] == sum(int(t.n_bytes) for t in GGUFReader(whole).tensors)  # gguf-py's count
    assert d["source"]["files"] == ["api:siblings", "tiny-Q4_K_M.gguf"]
    assert d["source"]["bytes_read"] < whole.stat().st_size
    parts = sorted(p for p in hub.gguf_dir.iterdir() if re.search(r"Q8_0-\d{5}-of", p.name))
    assert len(parts) > 1
    code, d, err = cli(capsys, "estimate", "--hf", "org/tiny-GGUF:Q8_0", "--json")
    assert code == 0, err
    assert d["source"]["files"] == ["api:siblings"] + [p.name for p in parts]
    assert d["weights"]["bytes"] == sum(int(t.n_bytes) for p in parts for t in GGUFReader(p).tensors)
    url = f"{hub.endpoint}/org/tiny-GGUF/resolve/main/{parts[0].name}"
    code, d2, err = cli(capsys, "estimate", "--gguf", url, "--json")
    assert code == 0, err
    assert d2["weights"] == d["weights"] and d2["source"]["kind"] == "gguf"
    assert d2["source"]["files"] == [p.name for p in parts]
    code, _, err = cli(capsys, "estimate", "--hf", "org/tiny-GGUF")  # no config.json: say which quants exist
    assert code == 2 and "org/tiny-GGUF:QUANT" in err and "Q4_K_M, Q8_0" in err


# ---------------------------------------------------------------- tokens


def test_a_gated_repo_needs_the_token_and_only_the_hub_sees_it(hub, env, capsys, monkeypatch):
    code, _, err = cli(capsys, "estimate", "--hf", "org/gated")
    assert code == 2 and "set HF_TOKEN" in err and err.count("\n") == 1
    assert len(hub.log) == 1  # refused at the first request
    hub.clear()
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    code, d, err = cli(capsys, "estimate", "--hf", "org/gated", "--json")
    assert code == 0, err
    assert d["weights"]["bytes"] == data_bytes(hub.tensors["tiny"])
    hub_auth = {e["auth"] for e in hub.log if e["role"] == "hub"}
    assert hub_auth == {f"Bearer {TOKEN}"}
    assert all(e["auth"] is None for e in hub.log if e["role"] == "cdn")  # never sent to the storage host
    assert TOKEN not in json.dumps(d)
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    monkeypatch.setenv("XDG_CACHE_HOME", str(env / "other-cache"))
    code, _, err = cli(capsys, "estimate", "--hf", "org/gated")
    assert code == 2 and "cannot read this repo" in err and "hf_wrong" not in err


def test_a_token_goes_to_a_url_only_on_the_endpoint_host(hub, env, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    session = Session.from_environment()
    url = f"{hub.cdn_origin}/lfs/org/tiny/model-00001-of-00002.safetensors?sig=x"
    r = RemoteFile(session, url, hub=True)
    assert r.read(0, 8) and hub.log[-1]["auth"] is None
    assert TOKEN not in repr(session)


# ---------------------------------------------------------------- hostile servers: one typed error, bounded


@pytest.mark.parametrize("repo, error, words", [
    ("org/nothing", HubNotFound, "404"),
    ("org/truncated", HubTransferError, "cut short"),
    ("org/slow", HubTransferError, "too slow"),
    ("org/norange", HubRangeError, "ignored the Range"),
    ("org/absurd", HubError, "over the 100,000,000"),
    ("org/absurd2", HubError, "truncated"),
])
def test_hostile_hubs(hub, env, capsys, monkeypatch, repo, error, words):
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "0.3")  # the slow server: a byte every 0.2 s
    start = time.monotonic()
    session = Session.from_environment(max_bytes=1 << 20)
    with pytest.raises(error, match=words):
        load_model(repo, session=session)
    # at most what the limits allow: config and index, then the first read of one shard (plus the byte that
    # shows a server ignored Range), once per attempt
    assert session.bytes_read <= 8192 + (RETRIES + 1) * (FIRST_READ + 1) and session.requests <= 3 + 2 * (RETRIES + 1)
    hub.clear()
    code, _, err = cli(capsys, "estimate", "--hf", repo)
    assert code == 2 and err.startswith("error: hf: ") and err.count("\n") == 1 and words in err
    assert time.monotonic() - start < 12


def test_a_dropped_connection_is_retried(hub, env, capsys):
    code, d, err = cli(capsys, "estimate", "--hf", "org/dropped", "--json")
    assert code == 0, err
    assert d["weights"]["bytes"] == data_bytes(hub.tensors["tiny"])
    assert "dropped" in [e["status"] for e in hub.log]


def test_budgets_stop_the_reading(hub, env):
    session = Session.from_environment(max_bytes=100_000)
    with pytest.raises(HubLimitError, match="limit of 100,000 bytes|pass the limit"):
        load_model("org/big", session=session)
    assert session.bytes_read <= 100_000
    session = Session.from_environment(max_requests=3)
    with pytest.raises(HubLimitError, match="3 requests"):
        load_model("org/big", session=session)
    assert session.requests == 3


def test_unreachable_and_bad_settings(env, capsys, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # the discard port: nothing listens
    code, _, err = cli(capsys, "estimate", "--hf", "org/tiny")
    assert code == 2 and "could not reach 127.0.0.1" in err
    monkeypatch.setenv("HF_ENDPOINT", "ftp://x")
    code, _, err = cli(capsys, "estimate", "--hf", "org/tiny")
    assert code == 2 and "HF_ENDPOINT" in err
    monkeypatch.setenv("HF_ENDPOINT", "https://huggingface.co")
    code, _, err = cli(capsys, "estimate", "--gguf", "http://user:pw@example.com/x.gguf")
    assert code == 2 and "not an http(s) URL" in err


def test_the_cache_ignores_entries_for_other_keys(tmp_path):
    cache = DiskCache(str(tmp_path))
    cache.put("a", b"xyz", 10)
    assert cache.get("a") == [b"xyz", 10, False]
    p = next(tmp_path.iterdir())
    shutil.copy(p, tmp_path / "copy")
    os.replace(tmp_path / "copy", cache._path("b"))  # a file under another key's name: not used
    assert cache.get("b") is None


def test_a_repo_without_safetensors_is_sized_from_its_config(hub, env, capsys):
    code, d, err = cli(capsys, "estimate", "--hf", "org/binonly", "--json")
    assert code == 0, err
    assert d["source"]["files"] == ["config.json"] and d["scenario"]["weights"] == "BF16"  # torch_dtype
    imported, _ = load_model("org/binonly")
    assert any("no model.safetensors or index" in n for n in imported.spec.notes)  # reaches the warnings
    assert not imported.spec.file_tensors


def test_content_range_is_checked():
    from pycore.importers.hub import parse_content_range
    assert parse_content_range("bytes 0-99/1234", "f") == (0, 99, 1234)  # RFC 9110 section 14.4's form
    for bad in ("bytes 0-99/*", "bytes 5-1/10", "bytes 0-10/10", "items 0-1/2", "bytes 0-1/" + "9" * 17,
                "bytes 0-1/1125899906842625", "bytes -1-2/3", "", "bytes 0-99/12a"):
        with pytest.raises(HubRangeError):
            parse_content_range(bad, "f")
