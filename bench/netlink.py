"""A slower network for bench/page.py: an HTTP proxy on this machine through which the browser sends every request,
sharing one link of a given bandwidth, each request waiting one round trip first.

Chromium's own network emulation (DevTools' Network.emulateNetworkConditions) is set per target: it slows a page and
the dedicated workers it starts, but not a worker started by a worker (measured: a 4.9 MB file at 50 Mbit/s took
1.1-1.2 s in the page's worker and 37-43 ms in that worker's own), nor a service worker. The proxy slows whatever
any of them asks for, as a real link would.

    link = NetworkLink(mbps=50, rtt_ms=40)   # starts serving at once, on a port of its own
    chromium.launch(args=[*link.chromium_args(), ...])
    ...
    link.close()

Plain HTTP only (the bench serves its pages on 127.0.0.1); HTTPS CONNECT tunnels are refused.
"""
import http.client
import http.server
import socketserver
import threading
import time
from urllib.parse import urlsplit

CHUNK = 16 * 1024  # bytes per reservation of the link: concurrent responses share it in turns of this size
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
              "transfer-encoding", "upgrade"}


class Link:
    """One shared link: `bytes_per_s` of bandwidth, taken in order of asking; `rtt_s` of latency per request."""

    def __init__(self, bytes_per_s: float, rtt_s: float):
        if not bytes_per_s > 0 or rtt_s < 0:
            raise ValueError(f"a link needs a positive bandwidth and a round trip of 0 s or more: "
                             f"{bytes_per_s} B/s, {rtt_s} s")
        self.bytes_per_s, self.rtt_s = bytes_per_s, rtt_s
        self._lock = threading.Lock()
        self._free_at = 0.0  # time.monotonic() at which the link has sent everything reserved so far

    def carry(self, size: int):
        """Wait until `size` more bytes would have crossed the link after everything already reserved."""
        with self._lock:
            start = max(time.monotonic(), self._free_at)
            self._free_at = start + size / self.bytes_per_s
            done = self._free_at
        delay = done - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class _Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    link: Link = None  # set on the subclass made per NetworkLink

    def log_message(self, *args):
        pass

    def do_CONNECT(self):
        self.send_error(501, "the bench's proxy forwards plain HTTP only")

    def _forward(self):
        url = urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self.send_error(400, "a proxy request names an http:// URL")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if self.command == "POST" else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        time.sleep(self.link.rtt_s)  # the request's round trip
        upstream = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
        try:
            try:
                upstream.request(self.command, (url.path or "/") + (f"?{url.query}" if url.query else ""), body,
                                 headers)
                response = upstream.getresponse()
            except OSError as error:  # e.g. the browser's own requests to hosts this closed network cannot reach
                self.send_error(502, f"{url.hostname}: {error}")
                return
            length = response.getheader("Content-Length")
            self.send_response(response.status, response.reason)
            for k, v in response.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            if length is None:  # the upstream's body ends when it closes: so does this connection's
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD":
                return
            while True:
                chunk = response.read(CHUNK)
                if not chunk:
                    break
                self.link.carry(len(chunk))
                self.wfile.write(chunk)
        except OSError:  # the browser or the server hung up mid-response (a page closed): nothing more to send
            self.close_connection = True
        finally:
            upstream.close()

    do_GET = do_HEAD = do_POST = _forward


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class NetworkLink:
    """The proxy, serving on 127.0.0.1 from construction until close()."""

    def __init__(self, mbps: float, rtt_ms: float):
        handler = type("LinkProxy", (_Proxy,), {"link": Link(mbps * 1e6 / 8, rtt_ms / 1000)})
        self.mbps, self.rtt_ms = mbps, rtt_ms
        self._server = _Server(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def chromium_args(self) -> list:
        # <-loopback>: Chromium otherwise sends requests to 127.0.0.1 and localhost past any proxy
        return [f"--proxy-server=http://127.0.0.1:{self.port}", "--proxy-bypass-list=<-loopback>"]

    def close(self):
        self._server.shutdown()
        self._server.server_close()
