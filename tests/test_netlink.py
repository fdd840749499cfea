"""bench/netlink.py, the proxy bench/page.py's --network sends the browser's requests through: it forwards them
unchanged and makes them take at least the time the link's bandwidth and round trip give."""
import http.client
import http.server
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from netlink import Link, NetworkLink  # noqa: E402

BODY = bytes(range(256)) * 400  # 102,400 bytes


class Origin(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("X-Seen-Path", self.path)
        self.end_headers()
        self.wfile.write(BODY)


@pytest.fixture
def origin():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def through(link, url):
    """GET url through the proxy, as a browser configured with --proxy-server asks (the whole URL as the path)."""
    connection = http.client.HTTPConnection("127.0.0.1", link.port, timeout=30)
    try:
        connection.request("GET", url)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_a_request_arrives_unchanged(origin):
    link = NetworkLink(mbps=1000, rtt_ms=0)
    try:
        status, headers, body = through(link, origin + "/a/b.bin?x=1")
    finally:
        link.close()
    assert (status, body, headers["X-Seen-Path"]) == (200, BODY, "/a/b.bin?x=1")


def test_a_response_takes_the_time_its_bytes_need_on_the_link(origin):
    # 102,400 bytes at 0.8 Mbit/s (100,000 bytes/s) take 1.024 s, plus one round trip of 100 ms: at least 1.12 s
    # (a lower bound: the link's sleeps; the machine can only add to it)
    link = NetworkLink(mbps=0.8, rtt_ms=100)
    try:
        start = time.monotonic()
        status, _, body = through(link, origin + "/slow.bin")
        took = time.monotonic() - start
    finally:
        link.close()
    assert status == 200 and body == BODY
    assert took >= len(BODY) / 100_000 + 0.1


def test_two_responses_share_the_link(origin):
    # two 102,400-byte responses at once on a 100,000 bytes/s link: the later one ends after 2.048 s at least
    link = NetworkLink(mbps=0.8, rtt_ms=0)
    ends = []

    def get():
        through(link, origin + "/shared.bin")
        ends.append(time.monotonic())
    try:
        start = time.monotonic()
        threads = [threading.Thread(target=get) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        link.close()
    assert max(ends) - start >= 2 * len(BODY) / 100_000


def test_unreachable_hosts_and_tunnels_are_answered_not_hung():
    link = NetworkLink(mbps=1000, rtt_ms=0)
    try:
        status, _, _ = through(link, "http://unreachable.invalid/")
        connection = http.client.HTTPConnection("127.0.0.1", link.port, timeout=30)
        connection.request("CONNECT", "example.com:443")
        tunnel = connection.getresponse().status
        connection.close()
    finally:
        link.close()
    assert (status, tunnel) == (502, 501)


@pytest.mark.parametrize("rate, rtt", [(0, 0.01), (-1, 0.01), (1000, -0.1)])
def test_a_link_without_bandwidth_is_refused(rate, rtt):
    with pytest.raises(ValueError):
        Link(rate, rtt)
