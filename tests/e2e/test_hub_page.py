"""The page's Hub box against the local stand-in of the Hub (tests/hub_standin.py): Playwright routes the
Hub's hosts (huggingface.co and the storage host its redirects name) to the stand-in's two servers, so
the page runs under its real CSP and never touches the network. The same repos give the same bytes as
the CLI; hostile servers end in one message at the field."""
import json
import re
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest
from conftest import quiet
from hub_standin import standin_with_repos
from playwright.sync_api import expect

from safetensors_files import data_bytes

from pycore.importers.hub import CONNECT_HOSTS, FIRST_READ

STORAGE = "https://cas-bridge.xethub.hf.co"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    s = standin_with_repos(tmp_path_factory.mktemp("hub"))
    s.redirect_base = STORAGE
    yield s.start()
    s.stop()


@pytest.fixture
def hub_page(open_site, hub):
    hub.clear()
    routes = {"https://huggingface.co": hub.endpoint, STORAGE: hub.cdn_origin}
    hostile = {}  # url substring -> handler(route) for the cases a route builds itself

    def forward(route):
        url = route.request.url
        for part, handle in hostile.items():
            if part in url:
                return handle(route)
        try:
            response = route.fetch(url=mapped(url), headers=route.request.headers, max_redirects=0)
            # Chromium does not route the request a fulfilled redirect leads to, so the redirect to the
            # storage host is followed here; that host must be one the page's CSP names
            for _ in range(5):
                if response.status not in (301, 302, 303, 307, 308):
                    break
                location = response.headers["location"]
                redirects.append(location)
                assert urlsplit(location).hostname in CONNECT_HOSTS
                response = route.fetch(url=mapped(location), headers=route.request.headers, max_redirects=0)
            route.fulfill(response=response)
        except Exception:  # the page gave up on it (cancelled, timed out)
            pass

    def mapped(url):
        u = urlsplit(url)
        return routes[f"{u.scheme}://{u.netloc}"] + u.path + (f"?{u.query}" if u.query else "")
    redirects = []

    def setup(context):
        context.route("https://huggingface.co/**", forward)
        context.route(f"{STORAGE}/**", forward)
        context.add_init_script("window.llmHubTimeoutMs = 1500")
    page = open_site(hosts=("huggingface.co", "cas-bridge.xethub.hf.co"), setup=setup)
    page.hostile = hostile
    page.redirects = redirects
    page.click("#import-box summary")
    yield page
    page.context.unroute_all(behavior="ignoreErrors")
    # failed loads (404, 401) are console errors the browser logs itself
    page.watch.errors = [m for m in page.watch.errors if "Failed to load resource" not in m]


def load(page, repo):
    quiet(page)
    page.fill("#hub-id", repo)
    page.click("#hub-load")


def cli_json(hub, *args):
    env = {"HF_ENDPOINT": hub.endpoint, "XDG_CACHE_HOME": "/nonexistent/llm-memory-test", "PATH": "/usr/bin"}
    hub.redirect_base = hub.cdn_origin  # the CLI follows the redirect itself, to the stand-in's second port
    try:
        p = subprocess.run([sys.executable, "-m", "pycore", "estimate", *args, "--json"], capture_output=True,
                           text=True, timeout=60, env=env)
    finally:
        hub.redirect_base = STORAGE
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_a_sharded_model_from_the_hub_is_exact_and_as_the_cli(hub_page, hub):
    load(hub_page, "org/big")
    expect(hub_page.locator("#model")).to_have_value("imported")
    weights = data_bytes(hub.tensors["big"])  # the tensors as written, summed by the test's own table
    expect(hub_page.locator('[data-item="weights"]')).to_have_attribute("data-bytes", str(weights))
    read = int(hub_page.evaluate("document.documentElement.dataset.importRead"))
    shards = [p for n, p in hub.repos["org/big"]["files"].items() if n.endswith(".safetensors")]
    checkpoint = sum(p.stat().st_size for p in shards)
    assert checkpoint >= 50_000_000 and 0 < read < checkpoint / 100
    assert read == hub.sent()  # the page counts what the stand-in sent
    assert any("/lfs/org/big/" in e["path"] and e["role"] == "cdn" for e in hub.log)  # the storage host served
    assert hub_page.redirects and all(r.startswith(STORAGE + "/lfs/org/big/") for r in hub_page.redirects)
    expect(hub_page.locator("#import-facts")).to_contain_text("Read from the Hub")
    # the CLI, for the same repo and the same settings, gives the same total
    d = cli_json(hub, "--hf", "org/big", "--gpu", "rtx-4090")
    assert d["weights"]["bytes"] == weights
    expect(hub_page.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(d["total"]["bytes"]))
    # the export says what was read, as the CLI's --json does
    with hub_page.expect_download() as download:
        hub_page.click("#export-json")
    exported = json.loads(open(download.value.path()).read())
    files = d["source"]["files"]
    # one fetch per file; the browser follows the redirects itself, which the CLI counts as requests (one per shard)
    assert exported["source"] == {"kind": "hub", "repo": "org/big", "revision": "main", "files": files,
                                  "bytes_read": read, "requests": len(files)}
    assert d["source"]["requests"] == len(files) + 3 and d["source"]["bytes_read"] == read
    assert exported["weights"]["bytes"] == weights
    # a second read of the same model comes from memory: no request
    hub.clear()
    load(hub_page, "org/big")
    expect(hub_page.locator("#import-status")).to_contain_text("0 bytes read in 0 requests")
    assert hub.log == []
    # the link carries the id and reads the headers again (the address follows once inputs pause: boot.js)
    expect(hub_page).to_have_url(re.compile(r"[?&]hf=org%2Fbig(&|$)"))
    url = hub_page.url
    assert "hf=org%2Fbig" in url and "model=imported" in url
    other = hub_page.context.new_page()
    other.goto(url)
    expect(other.locator('[data-item="weights"]')).to_have_attribute("data-bytes", str(weights))
    expect(other.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(d["total"]["bytes"]))
    assert hub.log != []
    other.close()


def test_a_gguf_repo_by_quant(hub_page, hub):
    from gguf import GGUFReader
    load(hub_page, "org/tiny-GGUF:Q8_0")
    parts = sorted(p for p in hub.gguf_dir.iterdir() if "Q8_0-000" in p.name)
    expected = sum(int(t.n_bytes) for p in parts for t in GGUFReader(p).tensors)
    expect(hub_page.locator('[data-item="weights"]')).to_have_attribute("data-bytes", str(expected))


HOSTILE = [
    ("org/gated", "gated or private"),
    ("org/nothing", "404"),
    ("org/norange", "ignored the Range"),
    ("org/absurd", "over the 100,000,000"),
    ("nobody", "owner/name"),
    ("org/cut", "cut short"),
    ("org/slowroute", "too slow"),
]


def test_hostile_hubs_end_in_a_message_at_the_field(hub_page, hub):
    cors = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Content-Range"}

    def cut(route):  # a 206 whose body stops short of its Content-Range
        route.fulfill(status=206, body=b"\x10\x00", headers={"Content-Range": "bytes 0-65535/100000", **cors})

    def slow(route):  # no answer within the page's deadline
        time.sleep(2)
        try:
            route.fulfill(status=404)
        except Exception:
            pass
    whole = b"\x00" * (1 << 20)

    def no_range(route):  # a shard answered whole (200) whatever the Range
        route.fulfill(status=200, body=whole, headers=cors)
    hub_page.hostile.update({"/org/cut/": cut, "/org/slowroute/": slow,
                             "/org/norange/resolve/main/model-00001": no_range})
    for repo, words in HOSTILE:
        load(hub_page, repo)
        expect(hub_page.locator("#hub-id-error")).to_contain_text(words, timeout=30_000)
        expect(hub_page.locator("#hub-progress")).to_be_hidden()
        assert "Read " not in hub_page.locator("#import-status").text_content()
        read = int(hub_page.evaluate("document.documentElement.dataset.hubRead || 0"))
        # at most what the limits allow: the config and index, then one first read of a shard (and a byte)
        assert read <= 4096 + FIRST_READ + 1, (repo, read)


def test_changing_the_model_cancels_the_read(hub_page, hub):
    held = []
    hub_page.hostile["/org/tiny/resolve/main/model-00002"] = lambda route: held.append(route)
    load(hub_page, "org/tiny")
    expect(hub_page.locator("#hub-progress")).to_be_visible()
    expect(hub_page.locator("#import-status")).to_contain_text("shard 2 of 2")
    hub_page.select_option("#model", "llama-3.1-8b")
    expect(hub_page.locator("#import-status")).to_contain_text("Stopped reading org/tiny")
    expect(hub_page.locator("#model")).to_have_value("llama-3.1-8b")
    for route in held:
        try:
            route.abort()
        except Exception:
            pass
