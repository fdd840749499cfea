"""The CLI's remote byte reader: HTTP range requests with the standard library (urllib), bounded.

`Session` makes the requests: `Range: bytes=a-b`, redirects followed by hand (at most MAX_REDIRECTS, to
any http(s) host) so that the token (`Authorization: Bearer $HF_TOKEN`) goes only to the endpoint's own
host and never to the storage a large file redirects to; a timeout on every socket operation and a
deadline on every response; retries after a dropped connection, a timeout or a cut-short body; and a
budget of bytes and requests for the whole session, checked before each request and each chunk, so a
hostile server costs at most the budget. Every failure is one typed error (importers.hub.HubError's
subclasses): 401/403, 404, a body cut short, a server that ignores Range, a budget reached.

`RemoteFile` is the byte-reader interface (`size`, `available`, `read(offset, size)`, `bytes_read`) over
one URL: it holds the file's prefix and grows it on demand, so a header costs one or two requests.
`drive(plan, session)` answers a pycore.importers.hub plan's `Need`s from the session (and its cache).

Conventions as huggingface_hub's (src/huggingface_hub/constants.py): HF_ENDPOINT (default
https://huggingface.co), HF_TOKEN, HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10).
"""
import hashlib
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urljoin, urlsplit

from .hub import (DEFAULT_ENDPOINT, FIRST_READ, MAX_BYTES, MAX_FILE_SIZE, MAX_REQUESTS, RETRIES, Got, HubAuthError,
                  HubError, HubLimitError, HubNotFound, HubRangeError, HubTransferError, check_endpoint,
                  parse_content_range)
from .reader import _check_range

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 10.0  # seconds, huggingface_hub's HF_HUB_DOWNLOAD_TIMEOUT default
CHUNK = 64 << 10
USER_AGENT = "llm-memory (header reader; range requests)"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # urllib then raises HTTPError with the 3xx status: followed by hand below


_OPENER = urllib.request.build_opener(_NoRedirect)
_DROPPED = (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead, socket.timeout,
            TimeoutError, http.client.BadStatusLine)


class _Retry(Exception):
    def __init__(self, error):
        self.error = error


class Session:
    """Requests to one Hub endpoint (and wherever it redirects), with one budget and one cache.
    `bytes_read` and `requests` count what went over the network (cache hits count nothing)."""

    def __init__(self, endpoint: str = None, token: str = None, timeout: float = None, max_bytes: int = MAX_BYTES,
                 max_requests: int = MAX_REQUESTS, cache=None, retries: int = RETRIES):
        self.endpoint = check_endpoint(endpoint or DEFAULT_ENDPOINT)
        self.hub_netloc = urlsplit(self.endpoint).netloc
        self._token = token or None
        self.timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
        self.max_bytes, self.max_requests, self.retries = int(max_bytes), int(max_requests), int(retries)
        self.cache = cache
        self.bytes_read = self.requests = self.cache_hits = 0
        self._files = {}  # key -> [prefix bytes, size, missing]

    @classmethod
    def from_environment(cls, environ=None, **kw):
        """HF_ENDPOINT, HF_TOKEN, HF_HUB_DOWNLOAD_TIMEOUT, and the cache under the user's cache folder."""
        env = os.environ if environ is None else environ
        timeout = env.get("HF_HUB_DOWNLOAD_TIMEOUT")
        try:
            timeout = float(timeout) if timeout else None
        except ValueError:
            raise HubError(f"HF_HUB_DOWNLOAD_TIMEOUT {timeout[:20]!r} is not a number of seconds",
                           "HF_HUB_DOWNLOAD_TIMEOUT") from None
        if timeout is not None and not 0 < timeout <= 600:
            raise HubError("HF_HUB_DOWNLOAD_TIMEOUT must be between 0 and 600 seconds", "HF_HUB_DOWNLOAD_TIMEOUT")
        kw.setdefault("cache", DiskCache.default(env))
        return cls(env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT, env.get("HF_TOKEN") or None, timeout, **kw)

    def __repr__(self):  # never shows the token
        return f"Session({self.endpoint!r}, token={'set' if self._token else 'unset'})"

    # ------------------------------------------------------------------ one range

    def get_range(self, url: str, start: int, end: int, hub: bool = True, name: str = "") -> tuple:
        """Bytes [start, end) of the file at `url` (fewer at its end) and the file's size: (data, size).
        Raises HubNotFound (404), HubAuthError (401/403), HubRangeError, HubLimitError, HubTransferError."""
        name = name or urlsplit(url).path.rsplit("/", 1)[-1]
        if end <= start:
            raise ValueError("empty range")
        for attempt in range(self.retries + 1):
            try:
                return self._get_range(url, start, end, hub, name)
            except _Retry as r:
                if attempt == self.retries:
                    raise r.error from None

    def _budget(self, more_bytes: int, name: str):
        if self.requests >= self.max_requests:
            raise HubLimitError(f"{name}: {self.requests:,} requests made, the limit is {self.max_requests:,}")
        if self.bytes_read + more_bytes > self.max_bytes:
            raise HubLimitError(f"{name}: reading {more_bytes:,} more bytes would pass the limit of "
                                f"{self.max_bytes:,} bytes ({self.bytes_read:,} read)")

    def _get_range(self, url, start, end, hub, name):
        send_token = hub and urlsplit(url).netloc == self.hub_netloc
        for _ in range(MAX_REDIRECTS + 1):
            self._budget(0, name)
            request = urllib.request.Request(url, headers={"Range": f"bytes={start}-{end - 1}",
                                                           "User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
            if send_token and self._token:
                request.add_unredirected_header("Authorization", f"Bearer {self._token}")
            self.requests += 1
            deadline = time.monotonic() + 3 * self.timeout
            try:
                response = _OPENER.open(request, timeout=self.timeout)
            except urllib.error.HTTPError as err:
                status = err.code
                location = err.headers.get("Location") if err.headers else None
                err.close()
                if status in (301, 302, 303, 307, 308) and location:
                    url = urljoin(url, location)
                    parts = urlsplit(url)
                    if parts.scheme not in ("http", "https") or not parts.hostname:
                        raise HubTransferError(f"{name}: redirected to a non-http address") from None
                    send_token = send_token and parts.netloc == self.hub_netloc  # never to another host
                    continue
                if status == 416:  # start is at or past the end: Content-Range says the size
                    size = _total(err.headers.get("Content-Range", "") if err.headers else "", name)
                    if size is not None and start >= size:
                        return b"", size
                raise self._status_error(status, name, send_token) from None
            except _DROPPED as err:
                raise _Retry(self._dropped(err, name)) from None
            except urllib.error.URLError as err:
                reason = err.reason
                if isinstance(reason, (socket.timeout, TimeoutError, ConnectionResetError)):
                    raise _Retry(self._dropped(reason, name)) from None
                raise HubTransferError(f"could not reach {urlsplit(url).hostname} ({_why(reason)})") from None
            except (OSError, ValueError, http.client.HTTPException) as err:
                raise HubTransferError(f"could not reach {urlsplit(url).hostname} ({_why(err)})") from None
            with response:
                return self._body(response, start, end, name, deadline)
        raise HubTransferError(f"{name}: more than {MAX_REDIRECTS} redirects")

    def _dropped(self, err, name):
        if isinstance(err, (socket.timeout, TimeoutError)):
            return HubTransferError(f"{name}: the server is too slow (nothing for {self.timeout:g} s)")
        return HubTransferError(f"{name}: the connection failed ({_why(err)})")

    def _status_error(self, status, name, sent_token):
        if status in (401, 403):
            if sent_token and self._token:
                return HubAuthError(f"{name}: the Hub answered {status}: the token in HF_TOKEN cannot read this "
                                    "repo (gated: accept its terms on the Hub; private: use a token with access)")
            return HubAuthError(f"{name}: the Hub answered {status}: the repo is gated or private; set HF_TOKEN "
                                "to a token that can read it (https://huggingface.co/settings/tokens)")
        if status == 404:
            return HubNotFound(f"{name}: not found (404): check the id, the revision and the file name")
        return HubTransferError(f"{name}: the server answered {status}")

    def _body(self, response, start, end, name, deadline):
        status = response.status
        want = end - start
        if status == 206:
            first, last, size = parse_content_range(response.headers.get("Content-Range", ""), name)
            if first != start or last >= end or last >= size:
                raise HubRangeError(f"{name}: asked for bytes {start:,}-{end - 1:,}, the server sent "
                                    f"{first:,}-{last:,}")
            data = self._read(response, last - first + 1, name, deadline)
            if len(data) != last - first + 1:
                raise _Retry(HubTransferError(f"{name}: the body was cut short ({len(data):,} of "
                                              f"{last - first + 1:,} bytes)"))
            return data, size
        if status == 200:  # Range ignored: fine for a whole small file from the start, else refused
            declared = response.headers.get("Content-Length")
            data = self._read(response, want + 1, name, deadline)
            if start == 0 and len(data) <= want:
                if declared is not None and declared.isdigit() and int(declared) != len(data):
                    raise _Retry(HubTransferError(f"{name}: the body was cut short ({len(data):,} of "
                                                  f"{int(declared):,} bytes)"))
                return data, len(data)
            raise HubRangeError(f"{name}: the server ignored the Range request and sent the whole file; "
                                f"stopped after {len(data):,} bytes")
        raise HubTransferError(f"{name}: the server answered {status}")

    def _read(self, response, limit, name, deadline) -> bytes:
        """At most `limit` bytes of the body, within the budget and the deadline."""
        parts, got = [], 0
        while got < limit:
            n = min(CHUNK, limit - got)
            if self.bytes_read + 1 > self.max_bytes:
                raise HubLimitError(f"{name}: the limit of {self.max_bytes:,} bytes was reached")
            n = min(n, self.max_bytes - self.bytes_read)
            if time.monotonic() > deadline:
                raise _Retry(HubTransferError(f"{name}: the server is too slow (over {3 * self.timeout:g} s "
                                              "for one answer)"))
            try:
                chunk = response.read1(n) if hasattr(response, "read1") else response.read(n)
            except _DROPPED as err:
                raise _Retry(self._dropped(err, name)) from None
            if not chunk:
                break
            self.bytes_read += len(chunk)
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)

    # ------------------------------------------------------------------ files (prefixes), cached

    def prefix(self, key: str, url: str, end: int, hub: bool = True, optional: bool = False, name: str = ""):
        """At least the first `end` bytes of a file (all of it if shorter): Got, or None for an optional
        file that is not there. Served from memory or the cache when they hold enough."""
        entry = self._files.get(key)
        if entry is None and self.cache is not None:
            entry = self.cache.get(key)
            if entry is not None:
                self.cache_hits += 1
        if entry is None:
            entry = [b"", None, False]
        self._files[key] = entry
        if entry[2]:
            if optional:
                return None
            raise HubNotFound(f"{name or key.rsplit(chr(10), 1)[-1]}: not found (404)")
        data, size = entry[0], entry[1]
        if size is None or (len(data) < end and len(data) < size):
            try:
                more, size = self.get_range(url, len(data), max(end, len(data) + 1), hub, name)
            except HubNotFound:
                if not data:
                    entry[2] = True
                    if self.cache is not None:
                        self.cache.put(key, b"", 0, missing=True)
                    if optional:
                        return None
                raise
            if size > MAX_FILE_SIZE:
                raise HubError(f"{name}: the server declares {size:,} bytes, not a model file")
            entry[0], entry[1] = data + more, size
            if self.cache is not None:
                self.cache.put(key, entry[0], size)
        return Got(entry[0], entry[1])


def _total(content_range, name):
    """The size in a 416's 'bytes */1234', or None."""
    unit, _, rest = str(content_range).strip().partition(" ")
    span, _, total = rest.partition("/")
    return int(total) if unit == "bytes" and span == "*" and total.isdigit() and len(total) <= 16 else None


def _why(err) -> str:
    text = str(getattr(err, "strerror", None) or err or type(err).__name__)
    return text.splitlines()[0][:120] if text else type(err).__name__


class RemoteFile:
    """The byte-reader interface over a file at a URL: its prefix is held and grown on demand (doubling,
    at least FIRST_READ), so parsing a header costs a few range requests and never reads the data."""

    def __init__(self, session: Session, url: str, hub: bool = True, key: str = None, name: str = ""):
        self.session, self.url, self.hub = session, url, hub
        self.key = key or url
        self.name = name or urlsplit(url).path.rsplit("/", 1)[-1]
        got = session.prefix(self.key, url, FIRST_READ, hub, name=self.name)
        self._data, self.size = got.data, got.size
        self.bytes_read = 0

    @property
    def available(self):
        return self.size  # any byte can be read (it is fetched when asked for)

    def read(self, offset: int, size: int) -> bytes:
        _check_range(offset, size, self.size)
        end = offset + size
        if end > len(self._data):
            got = self.session.prefix(self.key, self.url, min(self.size, max(end, 2 * len(self._data))), self.hub,
                                      name=self.name)
            self._data = got.data
        self.bytes_read += size
        return self._data[offset:end]


def drive(plan, session: Session, progress=None):
    """Run a pycore.importers.hub plan to its result, answering each Need from `session`.
    `progress(step)` is called before each need that is not yet held."""
    answer = None
    try:
        while True:
            need = plan.send(answer)
            if progress is not None and need.step:
                progress(need.step)
            answer = session.prefix(need.key, need.url, need.end, need.hub, need.optional, need.file)
    except StopIteration as stop:
        return stop.value


class DiskCache:
    """What was read, by key (endpoint, repo, revision, file; never the token): each file's prefix and
    size, or that it is missing, in one file per key under `folder`. A second estimate reads nothing."""

    def __init__(self, folder: str):
        self.folder = folder

    @classmethod
    def default(cls, environ=None):
        """$XDG_CACHE_HOME/llm-memory/hub, else ~/.cache/llm-memory/hub (None if neither is known)."""
        env = os.environ if environ is None else environ
        base = env.get("XDG_CACHE_HOME") or (os.path.join(os.path.expanduser("~"), ".cache")
                                             if os.path.expanduser("~") != "~" else "")
        return cls(os.path.join(base, "llm-memory", "hub")) if base else None

    def _path(self, key):
        return os.path.join(self.folder, hashlib.sha256(key.encode()).hexdigest() + ".bin")

    def get(self, key):
        try:
            with open(self._path(key), "rb") as f:
                meta = json.loads(f.readline(4096))
                data = f.read(MAX_BYTES + 1)
        except (OSError, ValueError):
            return None
        if not isinstance(meta, dict) or meta.get("key") != key or not isinstance(meta.get("size"), int) \
                or len(data) > MAX_BYTES or (not meta.get("missing") and len(data) > meta["size"]):
            return None
        return [data, meta["size"], bool(meta.get("missing"))]

    def put(self, key, data, size, missing=False):
        try:
            os.makedirs(self.folder, exist_ok=True)
            path = self._path(key)
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(json.dumps({"key": key, "size": size, "missing": missing}).encode() + b"\n")
                f.write(data)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written is only slower


def load_model(hf: str = None, url: str = None, environ=None, session: Session = None, progress=None) -> tuple:
    """The CLI's entry: `--hf ORG/NAME[@REVISION][:QUANT]` or `--gguf URL` -> (ImportedModel, source), where
    source is {"kind", "repo", "revision", "files", "bytes_read", "requests"} (what went over the network:
    0 when the cache held everything). The token is read from HF_TOKEN and appears nowhere in the result."""
    from .hub import hub_plan, parse_ref, url_plan
    session = session or Session.from_environment(environ)
    plan = hub_plan(parse_ref(hf), session.endpoint) if hf else url_plan(url, session.endpoint)
    read = drive(plan, session, progress)
    source = {"kind": read.kind, "repo": read.repo or None, "revision": read.revision or None,
              "files": list(read.files), "bytes_read": session.bytes_read, "requests": session.requests}
    return read.imported, source
