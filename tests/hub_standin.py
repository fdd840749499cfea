"""A local stand-in of the Hugging Face Hub for tests: two HTTP servers on 127.0.0.1.

The Hub (`endpoint`) serves `/{repo}/resolve/{revision}/{file}` and `/api/models/{repo}[/revision/{rev}]`
(the file list, "siblings"), answers 401 for a gated repo without `Authorization: Bearer <token>` and
404 for what it does not have, and redirects (302) every .safetensors/.gguf file to the second origin
(`cdn`, another port: another host to the client), as the Hub redirects large files to its storage.
Both serve byte ranges (206 + Content-Range), and per-file behaviours make the hostile cases:
"truncate" (the body stops halfway, the connection closes), "slow" (a byte every 0.2 s), "norange"
(Range ignored: 200 and the whole file), "drop_once" (the first connection closes without an answer).
Every request is logged: which server, path, Range, whether a token came, bytes sent.

The files are real: written by the `safetensors` and `gguf` packages (tests/safetensors_files.py,
tests/gguf_files.py).
"""
import json
import re
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

TOKEN = "hf_standin_secret_token"
LFS = (".safetensors", ".gguf")


class StandIn:
    def __init__(self):
        self.repos = {}  # repo -> {"files": {name: Path}, "gated": bool, "modes": {name: mode}}
        self.log = []
        self.lock = threading.Lock()
        self._dropped = set()
        self.hub = _server(self, "hub")
        self.cdn = _server(self, "cdn")
        self.endpoint = f"http://127.0.0.1:{self.hub.server_address[1]}"
        self.cdn_origin = f"http://127.0.0.1:{self.cdn.server_address[1]}"
        self.redirect_base = self.cdn_origin  # where large files redirect (a Hub storage host, for the page)

    def add(self, repo, files: dict, gated=False, modes=None):
        self.repos[repo] = {"files": {k: Path(v) for k, v in files.items()}, "gated": gated, "modes": modes or {}}

    def start(self):
        for s in (self.hub, self.cdn):
            threading.Thread(target=s.serve_forever, daemon=True).start()
        return self

    def stop(self):
        for s in (self.hub, self.cdn):
            s.shutdown()
            s.server_close()

    def sent(self, role=None):
        """Body bytes sent (by one server, or both)."""
        return sum(e["sent"] for e in self.log if role in (None, e["role"]))

    def clear(self):
        with self.lock:
            self.log.clear()
            self._dropped.clear()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client hanging up on a slow or hostile answer is the test's point, not a traceback on stderr


def _server(standin, role):
    class Handler(_Handler):
        pass
    Handler.standin, Handler.role = standin, role
    server = _QuietServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    return server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: StandIn
    role: str

    def log_message(self, *args):
        pass

    def _entry(self):
        e = {"role": self.role, "path": self.path, "range": self.headers.get("Range"),
             "auth": self.headers.get("Authorization"), "sent": 0, "status": None}
        with self.standin.lock:
            self.standin.log.append(e)
        return e

    def _cors(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Expose-Headers", "Content-Range, Content-Length, Location")

    def do_OPTIONS(self):  # CORS preflight (Range with several parts, Authorization)
        self.send_response(204)
        self._cors()
        self.send_header("Access-Control-Allow-Headers", "Range, Authorization")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _simple(self, e, status, body=b"", headers=()):
        e["status"] = status
        self.send_response(status)
        self._cors()
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        e["sent"] += len(body)  # counted before the write: the client may have it before this thread runs on
        self.wfile.write(body)

    def do_GET(self):
        e = self._entry()
        path = unquote(urlsplit(self.path).path)
        if self.role == "cdn":
            m = re.match(r"^/lfs/([^/]+/[^/]+)/(.+)$", path)
            repo = self.standin.repos.get(m.group(1)) if m else None
            if repo is None or m.group(2) not in repo["files"]:
                return self._simple(e, 403, b"signature invalid")
            return self._file(e, repo, m.group(2))
        m = re.match(r"^/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?$", path)
        if m:
            repo = self.standin.repos.get(m.group(1))
            if repo is None:
                return self._simple(e, 404, b'{"error":"Repository not found"}')
            if repo["gated"] and self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._simple(e, 401, b'{"error":"Access to model is restricted"}')
            body = json.dumps({"id": m.group(1), "siblings": [{"rfilename": n} for n in repo["files"]]}).encode()
            return self._simple(e, 200, body, [("Content-Type", "application/json")])
        m = re.match(r"^/([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
        repo = self.standin.repos.get(m.group(1)) if m else None
        if repo is None:
            return self._simple(e, 404, b"Repository not found", [("X-Error-Code", "RepoNotFound")])
        if repo["gated"] and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._simple(e, 401, b"Access to model is restricted", [("X-Error-Code", "GatedRepo")])
        if m.group(2) != "main" or m.group(3) not in repo["files"]:
            return self._simple(e, 404, b"Entry not found", [("X-Error-Code", "EntryNotFound")])
        if m.group(3).endswith(LFS):
            where = f"{self.standin.redirect_base}/lfs/{m.group(1)}/{m.group(3)}?X-Amz-Signature=standin"
            return self._simple(e, 302, b"", [("Location", where)])
        return self._file(e, repo, m.group(3))

    def _file(self, e, repo, name):
        path = repo["files"][name]
        size = path.stat().st_size
        mode = repo["modes"].get(name, "")
        if mode == "drop_once":
            with self.standin.lock:
                first = (name, self.role) not in self.standin._dropped
                self.standin._dropped.add((name, self.role))
            if first:
                e["status"] = "dropped"
                self.close_connection = True
                return
        rng = re.match(r"^bytes=(\d+)-(\d*)$", self.headers.get("Range") or "")
        if rng and mode != "norange":
            start = int(rng.group(1))
            last = min(size - 1, int(rng.group(2))) if rng.group(2) else size - 1
            if start >= size:
                return self._simple(e, 416, b"", [("Content-Range", f"bytes */{size}")])
            status, headers = 206, [("Content-Range", f"bytes {start}-{last}/{size}")]
        else:
            start, last, status, headers = 0, size - 1, 200, []
        length = last - start + 1
        e["status"] = status
        self.send_response(status)
        self._cors()
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        try:
            with open(path, "rb") as f:
                f.seek(start)
                if mode == "truncate":
                    part = f.read(length // 2)
                    e["sent"] += len(part)
                    self.wfile.write(part)
                    self.close_connection = True
                    return
                if mode == "slow":
                    for _ in range(length):
                        e["sent"] += 1
                        self.wfile.write(f.read(1))
                        self.wfile.flush()
                        time.sleep(0.2)
                    return
                left = length
                while left:
                    chunk = f.read(min(1 << 16, left))
                    e["sent"] += len(chunk)
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


# ---------------------------------------------------------------- the repos' files

TINY = dict(model_type="llama", hidden_size=256, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            head_dim=64, vocab_size=512, intermediate_size=512, max_position_embeddings=4096,
            tie_word_embeddings=False, torch_dtype="bfloat16")
# About 70 MB of BF16 tensors in 3 shards: big enough for "under 1% read", quick to write (zeros)
BIG = dict(TINY, hidden_size=1024, num_hidden_layers=3, num_attention_heads=8, num_key_value_heads=4, head_dim=128,
           vocab_size=4096, intermediate_size=2048)


def write_sharded(folder: Path, config: dict, shards: int) -> dict:
    """A checkpoint as transformers saves it: config.json, model-0000i-of-0000n.safetensors and the index.
    Returns {file name: path} and the tensors written (name -> (dtype, shape))."""
    from safetensors_files import data_bytes, hf_tensors, write_safetensors
    folder.mkdir(parents=True, exist_ok=True)
    tensors = hf_tensors(config)
    names = list(tensors)
    files = {"config.json": folder / "config.json"}
    files["config.json"].write_text(json.dumps(config))
    weight_map = {}
    per = -(-len(names) // shards)
    for i in range(shards):
        shard = f"model-{i + 1:05d}-of-{shards:05d}.safetensors" if shards > 1 else "model.safetensors"
        part = {n: tensors[n] for n in names[i * per:(i + 1) * per]}
        write_safetensors(folder / shard, part, metadata={"format": "pt"})
        files[shard] = folder / shard
        weight_map.update({n: shard for n in part})
    if shards > 1:
        index = folder / "model.safetensors.index.json"
        index.write_text(json.dumps({"metadata": {"total_size": data_bytes(tensors)}, "weight_map": weight_map}))
        files[index.name] = index
    return files, tensors


def absurd_safetensors(path: Path, declared: int, size: int = 4096) -> Path:
    """A file whose first 8 bytes declare a JSON header of `declared` bytes (it has `size` bytes in all)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", declared))
        f.write(b"{" + b" " * (size - 10) + b"}")
    return path


def standin_with_repos(root: Path) -> StandIn:
    """The stand-in with the test repos (not started): sharded, single-file and config-only checkpoints,
    a gated one, hostile ones, and a GGUF repo with a single file and a split one."""
    import numpy as np
    from gguf import GGUFWriter
    from gguf_files import SPECS, converter_metadata, finish, write_spec_gguf

    from pycore.formats import gguf_tensors
    s = StandIn()
    tiny, tiny_tensors = write_sharded(root / "tiny", TINY, 2)
    big, big_tensors = write_sharded(root / "big", BIG, 3)
    single, _ = write_sharded(root / "single", TINY, 1)
    s.tensors = {"tiny": tiny_tensors, "big": big_tensors}
    s.add("org/tiny", tiny)
    s.add("org/big", big)
    s.add("org/single", single)
    (root / "pytorch_model.bin").write_bytes(b"not read")
    s.add("org/binonly", {"config.json": tiny["config.json"], "pytorch_model.bin": root / "pytorch_model.bin"})
    s.add("org/gated", tiny, gated=True)
    shard1 = "model-00001-of-00002.safetensors"
    s.add("org/truncated", tiny, modes={shard1: "truncate"})
    s.add("org/slow", tiny, modes={shard1: "slow"})
    s.add("org/dropped", tiny, modes={shard1: "drop_once"})
    s.add("org/norange", big, modes={"model-00001-of-00003.safetensors": "norange"})
    s.add("org/absurd", {"config.json": tiny["config.json"],
                         "model.safetensors": absurd_safetensors(root / "absurd.safetensors", 1 << 60)})
    s.add("org/absurd2", {"config.json": tiny["config.json"],
                          "model.safetensors": absurd_safetensors(root / "absurd2.safetensors", 90_000_000)})
    g = root / "gguf"
    g.mkdir()
    spec = SPECS["llama-gqa"]
    write_spec_gguf(g / "tiny-Q4_K_M.gguf", spec, ("Q4_K",))
    w = GGUFWriter(g / "tiny-Q8_0.gguf", "llama", split_max_tensors=8)  # gguf-split's part names
    for add in converter_metadata(spec):
        add(w)
    for t in gguf_tensors(spec):
        w.add_tensor(t.name, np.zeros(tuple(reversed(t.ne)), dtype=np.float16))
    finish(w)
    (g / "mmproj-tiny-Q8_0.gguf").write_bytes(b"not read")
    (g / "README.md").write_text("# tiny")
    s.add("org/tiny-GGUF", {p.name: p for p in g.iterdir()})
    s.gguf_dir = g
    return s
