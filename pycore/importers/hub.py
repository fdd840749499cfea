"""Models on the Hugging Face Hub, read to the tensor without downloading them: which files to read,
in which order, and how much of each. Pure: no network here.

A Hub model is read as a *plan*: a generator that yields `Need`s ("the first `end` bytes of this
file") and is sent back a `Got` (the bytes the driver holds of that file, and its size) or None (an
optional file the Hub does not have). The CLI drives a plan with urllib (pycore.importers.remote), the
page with `fetch` (templates/app.py); both run this same code, so both read the same bytes and reach the
same result. Headers sit at the start of every file, so a prefix is all any step needs:

- safetensors: `config.json`, `model.safetensors.index.json` (or the single `model.safetensors`), then
  the 8-byte length and JSON header of every shard;
- GGUF: the header (metadata and tensor infos) of the file, or of every part of a split file.

URL layout, as huggingface_hub builds it (huggingface/huggingface_hub, src/huggingface_hub/constants.py,
HUGGINGFACE_CO_URL_TEMPLATE = "{endpoint}/{repo_id}/resolve/{revision}/{filename}", revision quoted with
safe=""; file listings from `GET {endpoint}/api/models/{repo_id}/revision/{revision}`, whose "siblings"
hold every file's "rfilename", as HfApi.model_info requests it in hf_api.py).
"""
import re
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit

from ..errors import ModelFileError
from .reader import BytesReader, NeedMoreBytes

DEFAULT_ENDPOINT = "https://huggingface.co"

# Where the Hub's `resolve` URLs redirect large files (the hosts a range read reaches), from the Hub's own
# list https://huggingface.co/.well-known/meta.json ("lfsDomains" and "cdnDomains", read 2026-11-30), plus
# the LFS and Xet bridge hosts its resolve redirects have named (cdn-lfs*.huggingface.co before the move to
# hf.co; cas-bridge.xethub.hf.co for Xet-backed files). The page's CSP connect-src lists exactly these
# (tests/test_hub.py checks netlify.toml against this tuple).
HUB_HOST = "huggingface.co"
REDIRECT_HOSTS = (
    "cdn-lfs.huggingface.co", "cdn-lfs-us-1.huggingface.co", "cdn-lfs-eu-1.huggingface.co",
    "cdn-lfs.hf.co", "cdn-lfs-us-1.hf.co", "cdn-lfs-eu-1.hf.co",
    "cas-bridge.xethub.hf.co",
    "aws.cdn.hf.co", "us.aws.cdn.hf.co", "us-east-1.aws.cdn.hf.co", "us-west-2.aws.cdn.hf.co",
    "eu-west-3.aws.cdn.hf.co", "ap-southeast-1.aws.cdn.hf.co", "us.gcp.cdn.hf.co", "us-east1.us.gcp.cdn.hf.co",
    "us-central1.us.gcp.cdn.hf.co", "us-west4.us.gcp.cdn.hf.co", "europe-west4.us.gcp.cdn.hf.co",
    "asia-southeast1.us.gcp.cdn.hf.co",
)
CONNECT_HOSTS = (HUB_HOST,) + REDIRECT_HOSTS

FIRST_READ = 64 << 10  # bytes asked of each file at first: most shard headers fit; GGUF headers grow by doubling
MAX_CONFIG_BYTES = 4 << 20  # config.json (as the local reader: importers.safetensors.MAX_CONFIG_BYTES)
MAX_INDEX_BYTES = 64 << 20  # an index of the largest checkpoints is under 10 MB
MAX_LISTING_BYTES = 16 << 20  # the file list of a repo with thousands of files
MAX_SHARDS = 4096  # DeepSeek-V3 has 163 shards; nothing published comes near this
MAX_SPLIT_PARTS = 512  # gguf-split part numbers are five digits; real splits have a few dozen parts
MAX_ROUNDS = 24  # prefix doublings per file: 64 KiB doubled 24 times is past any header limit
MAX_LISTED = 100_000  # files in one repo listing
# Per estimate, for the CLI and the page alike
MAX_BYTES = 128 << 20  # the headers of a 163-shard checkpoint are about 25 MB
MAX_REQUESTS = 4096  # redirects included: two or three per shard
RETRIES = 2  # after a dropped connection, a timeout or a cut-short body
MAX_FILE_SIZE = 1 << 50  # a declared file size past 1 PiB is not a model file

_NAME = r"[A-Za-z0-9][\w.-]{0,95}"
_REF = re.compile(rf"^({_NAME}/{_NAME})(?:@([\w./-]{{1,200}}))?(?::([A-Za-z0-9_.-]{{1,40}}))?$", re.A)
_SPLIT = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.I)


class HubError(ModelFileError):
    """Reading a model from the Hub (or a URL) failed. `field` is "hf": the id or URL the user gave."""

    def __init__(self, message: str, field: str = "hf"):
        super().__init__(message, field)


class HubAuthError(HubError):
    """401/403: a gated or private repo, and no token (or one without access)."""


class HubNotFound(HubError):
    """404: no such repo, revision or file."""


class HubTransferError(HubError):
    """The connection failed: unreachable, timed out, dropped (after retries), or the body was cut short."""


class HubRangeError(HubError):
    """The server ignored a Range request (answered the whole file) or answered a range it was not asked."""


class HubLimitError(HubError):
    """A bound on bytes or requests was reached before the headers were read."""


@dataclass(frozen=True)
class HubRef:
    """A model on the Hub: `repo` ("org/name"), `revision` (branch, tag or commit), optional GGUF `quant`."""
    repo: str
    revision: str = "main"
    quant: str = ""

    def __str__(self):
        return self.repo + ("" if self.revision == "main" else "@" + self.revision) + (
            ":" + self.quant if self.quant else "")


def parse_ref(text: str) -> HubRef:
    """'org/name', 'org/name@revision', 'org/name:Q4_K_M', 'org/name@rev:Q4_K_M' -> HubRef.
    Raises HubError for anything else (no URL, no '..', at most 96 characters per part)."""
    text = str(text).strip()
    m = _REF.match(text)
    if not m or ".." in text or (m.group(2) or "").startswith("/"):
        raise HubError(f"{text[:80]!r} is not a Hub model id: write owner/name, owner/name@revision or "
                       "owner/name:QUANT (e.g. Qwen/Qwen2.5-7B)")
    return HubRef(m.group(1), m.group(2) or "main", m.group(3) or "")


def resolve_url(endpoint: str, ref: HubRef, filename: str) -> str:
    """{endpoint}/{repo}/resolve/{revision}/{filename} (huggingface_hub's hf_hub_url)."""
    return f"{endpoint.rstrip('/')}/{ref.repo}/resolve/{quote(ref.revision, safe='')}/{quote(filename)}"


def listing_url(endpoint: str, ref: HubRef) -> str:
    """The model's info with its file list ("siblings"), at a revision (HfApi.model_info)."""
    return f"{endpoint.rstrip('/')}/api/models/{ref.repo}/revision/{quote(ref.revision, safe='')}"


def check_endpoint(endpoint: str) -> str:
    """HF_ENDPOINT: an http(s) origin with an optional path, nothing else."""
    parts = urlsplit(str(endpoint).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise HubError(f"HF_ENDPOINT {str(endpoint)[:80]!r} is not an http(s) address like https://huggingface.co",
                       "HF_ENDPOINT")
    return str(endpoint).strip().rstrip("/")


@dataclass(frozen=True)
class Need:
    """The first `end` bytes of a file (fewer if the file is shorter). `key` names it for caches
    (endpoint, repo, revision, file); `hub` says whether the URL is the Hub's own (the token may go
    along); `optional` makes a 404 answer None; `step` is progress text ("shard 3 of 10")."""
    key: str
    url: str
    file: str
    end: int
    hub: bool = True
    optional: bool = False
    step: str = ""


@dataclass(frozen=True)
class Got:
    """What a driver holds of a file: its first len(data) bytes (at least the `end` asked, or the whole
    file), and the file's size in bytes."""
    data: bytes
    size: int


@dataclass
class HubRead:
    """A plan's result: the model, and which files it read (in order)."""
    imported: object  # importers.ImportedModel
    kind: str  # "hub" or "gguf"
    repo: str = ""
    revision: str = ""
    files: list = field(default_factory=list)


def _whole(key, url, file, limit, optional=False, hub=True, step=""):
    """A small JSON file, read whole within `limit` bytes."""
    got = yield Need(key, url, file, limit + 1, hub, optional, step)
    if got is None:
        return None
    if got.size > limit:
        raise HubError(f"{file} is {got.size:,} bytes, over the {limit:,} this reader accepts")
    return got.data[:got.size]


def _header(key, url, file, parse, hub=True, step=""):
    """A file's header: a prefix of FIRST_READ bytes, grown until `parse` stops asking for more.
    Returns (a BytesReader over the prefix, parse's result)."""
    end = FIRST_READ
    for _ in range(MAX_ROUNDS):
        got = yield Need(key, url, file, end, hub, False, step)
        reader = BytesReader(got.data[:got.size], file_size=got.size, name=file)
        try:
            return reader, parse(reader)
        except HubError:
            raise
        except ModelFileError as err:  # the file's own fault: said at the id the user gave, with the file's name
            raise HubError(f"{file}: {err.message}") from None
        except NeedMoreBytes as more:
            # exactly what is asked when it is a whole header (safetensors), else doubling (GGUF's small reads)
            end = min(got.size, max(more.needed_end, 2 * len(got.data)))
    raise HubError(f"{file}: the header keeps growing: not a model file this reader can read")


def _key(endpoint, ref, file):
    return "\n".join((endpoint, ref.repo, ref.revision, file))


def hub_plan(ref: HubRef, endpoint: str = DEFAULT_ENDPOINT):
    """The plan for a Hub model (a generator; see the module's docstring). Returns a HubRead."""
    from . import read_model_files
    from .safetensors import read_safetensors_header, read_safetensors_index
    endpoint = check_endpoint(endpoint)
    if ref.quant:
        return (yield from _gguf_from_listing(ref, endpoint))
    url = lambda f: resolve_url(endpoint, ref, f)  # noqa: E731
    config = yield from _whole(_key(endpoint, ref, "config.json"), url("config.json"), "config.json",
                               MAX_CONFIG_BYTES, optional=True, step="config.json")
    if config is None:
        return (yield from _no_config(ref, endpoint))
    files = [("config.json", BytesReader(config, name="config.json"))]
    index_name = "model.safetensors.index.json"
    index = yield from _whole(_key(endpoint, ref, index_name), url(index_name), index_name, MAX_INDEX_BYTES,
                              optional=True, step=index_name)
    if index is not None:
        files.append((index_name, BytesReader(index, name=index_name)))
        shards = list(read_safetensors_index(BytesReader(index, name=index_name)).shards)
    else:
        shards = ["model.safetensors"]
        single = yield Need(_key(endpoint, ref, shards[0]), url(shards[0]), shards[0], FIRST_READ, True, True,
                            f"shard 1 of 1: {shards[0]}")
        if single is None:  # no safetensors (only .bin, or another layout): the architecture alone
            imported = _checked(read_model_files, files)
            note = (f"{ref.repo} has no model.safetensors or index: weights are sized from the architecture "
                    f"in the format config.json gives ({imported.weights}), not from the checkpoint's tensors")
            imported = replace(imported, spec=replace(imported.spec, notes=tuple(imported.spec.notes) + (note,)),
                               notes=tuple(imported.notes) + (note,))
            return HubRead(imported, "hub", ref.repo, ref.revision, ["config.json"])
    if len(shards) > MAX_SHARDS:
        raise HubError(f"the index names {len(shards):,} shards, more than {MAX_SHARDS:,}")
    for i, shard in enumerate(shards):
        if not shard or shard.startswith("/") or ".." in shard.split("/") or len(shard) > 255:
            raise HubError(f"the index names a shard {shard[:60]!r} that is not a file of the repo")
        reader, _ = yield from _header(_key(endpoint, ref, shard), url(shard), shard,
                                       lambda r: read_safetensors_header(r, r.name),
                                       step=f"shard {i + 1} of {len(shards)}: {shard}")
        files.append((shard, reader))
    imported = _checked(read_model_files, files)
    if imported.spec is None:
        raise HubError("the repo's config.json and shards did not give an architecture")
    return HubRead(imported, "hub", ref.repo, ref.revision, [name for name, _ in files])


def parse_content_range(value: str, name: str) -> tuple:
    """A 206's Content-Range, 'bytes 0-99/1234' -> (0, 99, 1234), bounded (RFC 9110 section 14.4)."""
    try:
        unit, _, rest = str(value).strip().partition(" ")
        span, _, total = rest.partition("/")
        first, _, last = span.partition("-")
        if unit != "bytes" or not all(x.isdigit() and len(x) <= 16 for x in (first, last, total)):
            raise ValueError
        first, last, total = int(first), int(last), int(total)
        if last < first or last >= total or total > MAX_FILE_SIZE:
            raise ValueError
        return first, last, total
    except ValueError:
        raise HubRangeError(f"{name}: the server's Content-Range {str(value)[:60]!r} is not a byte range") from None


def _listing(ref, endpoint):
    """The repo's file names at the revision."""
    from .safetensors import parse_json
    url = listing_url(endpoint, ref)
    data = yield from _whole(_key(endpoint, ref, "api:siblings"), url, "the repo's file list", MAX_LISTING_BYTES,
                             step="file list")
    info = parse_json(data, "the Hub's file list", MAX_LISTING_BYTES)
    siblings = info.get("siblings") if isinstance(info, dict) else None
    if not isinstance(siblings, list) or len(siblings) > MAX_LISTED:
        raise HubError("the Hub's answer for the repo has no file list (siblings)")
    return [s["rfilename"] for s in siblings if isinstance(s, dict) and isinstance(s.get("rfilename"), str)]


def _no_config(ref, endpoint):
    """No config.json: a GGUF-only repo? Then say which quantizations it has."""
    names = yield from _listing(ref, endpoint)
    quants = sorted({q for q in (quant_of(n) for n in names if n.lower().endswith(".gguf")) if q})
    if quants:
        raise HubNotFound(f"{ref.repo} holds GGUF files, not a config.json: add one of "
                          f"{', '.join(quants[:12])}{'…' if len(quants) > 12 else ''} as {ref.repo}:QUANT")
    raise HubNotFound(f"{ref.repo} has no config.json at revision {ref.revision!r}")


_QUANT_IN_NAME = re.compile(r"(?<![A-Za-z0-9])((?:I?Q\d+_[A-Z0-9_]+?|I?Q\d+|F16|BF16|F32|MXFP4(?:_MOE)?|TQ\d_\d))"
                            r"(?=[-.](?:\d{5}-of-\d{5}\.gguf|gguf)$)", re.I)


def quant_of(name: str) -> str:
    """The quantization a GGUF file name announces ("Qwen3-8B-Q4_K_M.gguf" -> "Q4_K_M"), or ""."""
    m = _QUANT_IN_NAME.search(name.rsplit("/", 1)[-1])
    return m.group(1).upper() if m else ""


def pick_gguf(names, quant: str) -> list:
    """The files of the GGUF whose name holds `quant` (case-insensitive, a whole word: Q4_K does not match
    Q4_K_M, nor Q4_K_M IQ4_K_M), as llama.cpp's `-hf repo:quant` and Ollama's `hf.co/repo:quant` choose;
    multimodal projectors (mmproj) are left out. One file, or every part of a split file (first part
    first). Raises HubNotFound when none matches, HubError when several different files do."""
    word = re.compile(rf"(?<![A-Za-z0-9]){re.escape(quant)}(?![A-Za-z0-9_])", re.I)
    hits = sorted(n for n in names if n.lower().endswith(".gguf") and "mmproj" not in n.lower()
                  and word.search(n.rsplit("/", 1)[-1]))
    if not hits:
        have = sorted({q for q in (quant_of(n) for n in names if n.lower().endswith(".gguf")) if q})
        raise HubNotFound(f"no GGUF file with {quant!r} in its name" +
                          (f"; the repo has {', '.join(have[:12])}" if have else "; the repo has no GGUF files"))
    groups = {}
    for n in hits:
        m = _SPLIT.search(n)
        groups.setdefault(n[:m.start()] if m else n, []).append(n)
    if len(groups) > 1:
        raise HubError(f"{len(groups)} GGUF files match {quant!r} ({', '.join(sorted(groups)[:4])}): "
                       "give the file with --gguf URL")
    return sorted(next(iter(groups.values())))


def split_names(first: str) -> list:
    """The parts of a split GGUF named like llama.cpp's gguf-split ("x-00001-of-00003.gguf"), from its first."""
    m = _SPLIT.search(first)
    if not m:
        return [first]
    part, count = int(m.group(1)), int(m.group(2))
    if part != 1:
        raise HubError(f"{first.rsplit('/', 1)[-1][:80]!r} is part {part} of a split GGUF: give its first part")
    if not 1 <= count <= MAX_SPLIT_PARTS:
        raise HubError(f"a GGUF split into {count:,} parts: more than {MAX_SPLIT_PARTS}")
    stem, tail = first[:m.start()], first[m.end() - len(".gguf"):]
    return [f"{stem}-{i:05d}-of-{count:05d}{tail}" for i in range(1, count + 1)]


def _gguf_from_listing(ref, endpoint):
    names = yield from _listing(ref, endpoint)
    parts = pick_gguf(names, ref.quant)
    parts = split_names(parts[0]) if _SPLIT.search(parts[0]) else parts
    urls = [(p, resolve_url(endpoint, ref, p), _key(endpoint, ref, p)) for p in parts]
    read = yield from _gguf_parts(urls, True)
    return HubRead(read, "hub", ref.repo, ref.revision, ["api:siblings"] + parts)


def _gguf_parts(parts, hub):
    from . import read_model_files
    from .gguf import read_gguf_header
    files = []
    for i, (name, url, key) in enumerate(parts):
        step = f"part {i + 1} of {len(parts)}: {name}" if len(parts) > 1 else name
        reader, _ = yield from _header(key, url, name.rsplit("/", 1)[-1], read_gguf_header, hub, step)
        files.append((name.rsplit("/", 1)[-1], reader))
    return _checked(read_model_files, files)


def _checked(read, files):
    """read_model_files, its complaints about the files said at the id the user gave."""
    try:
        return read(files)
    except HubError:
        raise
    except ModelFileError as err:
        raise HubError(err.message) from None


def url_plan(url: str, endpoint: str = DEFAULT_ENDPOINT):
    """The plan for a GGUF at a URL (`--gguf https://...`): its header, and every part when the name says
    it is split. The token goes along only when the URL is on the endpoint's host."""
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise HubError(f"{str(url)[:80]!r} is not an http(s) URL", "gguf")
    base = f"{parts.scheme}://{parts.netloc}{parts.path}"
    names = split_names(base)
    hub = parts.netloc == urlsplit(check_endpoint(endpoint)).netloc
    query = f"?{parts.query}" if parts.query else ""
    shown = [n.rsplit("/", 1)[-1] for n in names]
    read = yield from _gguf_parts([(n, n + query, n) for n in names], hub)
    return HubRead(read, "gguf", "", "", shown)
