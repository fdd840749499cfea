"""Playwright fixtures: the built site served on localhost, a Chromium that is really there (Debian's
/usr/bin/chromium, else Playwright's own), and pages that fail the test on any request to another
host or any console error."""
import contextlib
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError, expect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402  (tests/browser.py)
from build import SITE, build, serve_in_background  # noqa: E402


# Two test workers share two cores with two browsers: allow for a loaded machine.
expect.set_options(timeout=20_000)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def site_dir():
    if not (SITE / "index.html").exists():
        build()
    return SITE


@pytest.fixture(scope="session")
def base_url(site_dir):
    server = serve_in_background(site_dir)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    args = {**browser_type_launch_args, "args": browser.LAUNCH_ARGS}
    path = browser.executable()
    if path:
        args["executable_path"] = path
    return args


class Watch:
    """Everything a page asked for and complained about."""

    def __init__(self, page, allowed_hosts):
        self.requests, self.errors = [], []
        self.allowed = set(allowed_hosts)
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def off_host(self):
        return [u for u in self.requests
                if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).netloc not in self.allowed]

    def check(self):
        assert self.off_host() == [], "requests to other hosts"
        assert self.errors == [], "console errors"


def wait_ready(page_or_frame):
    """Until Python is live (a cold start on a loaded machine can take many seconds)."""
    page_or_frame.locator("html[data-py=ready]").wait_for(state="attached", timeout=60_000)


def open_page(context, url, allowed_hosts, ready=True):
    page = context.new_page()
    watch = Watch(page, allowed_hosts)
    page.goto(url)
    if ready:
        wait_ready(page)
    return page, watch


def quiet(page):
    """Until the page has applied every update and no section is still being recomputed (<html data-busy>,
    aria-busy sections): a button is then where it will stay. Under a loaded machine the secondary sections of a
    new model (format table, curve, answers) take seconds to fill, their layout changing each frame, and a click
    waits for the button to hold still over two frames."""
    page.locator("html:not([data-busy])").wait_for(state="attached", timeout=60_000)
    expect(page.locator('[aria-busy="true"]')).to_have_count(0, timeout=60_000)


def expect_total(page_or_frame, e):
    """The page shows this estimate's total, to the byte."""
    expect(page_or_frame.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(e.total))


@pytest.fixture
def open_site(browser, base_url):
    """open_site(path_or_url, hosts=(), ready=True, setup=None, **context_options): the page in a fresh
    browser context (`setup(context)` runs before it loads), with its Watch as `page.watch`; the site's
    host (and `hosts`) allowed. At the end of the test every context is closed and every watch checked."""
    opened = []

    def open_(where="", hosts=(), ready=True, setup=None, **context_options):
        url = where if ":" in where.split("?")[0] else base_url + where
        context = browser.new_context(**context_options)
        if setup:
            setup(context)
        page, watch = open_page(context, url, {urlparse(base_url).netloc, *hosts}, ready)
        page.watch = watch
        opened.append((context, watch))
        return page

    yield open_
    for context, _ in opened:
        with contextlib.suppress(PlaywrightError):  # (a context the test closed itself)
            context.unroute_all(behavior="ignoreErrors")  # a route still answering must not fail the next test
        context.close()
    for _, watch in opened:
        watch.check()


@pytest.fixture
def app(context, base_url):
    """The calculator, live, with its request log and console checked at the end of the test."""
    page, watch = open_page(context, base_url, {urlparse(base_url).netloc})
    page.watch = watch
    yield page
    watch.check()


@pytest.fixture(scope="module")
def shared_app(browser, base_url):
    """One live page for a module's many scenarios (a fresh start per scenario would only test start-up)."""
    context = browser.new_context()
    page, watch = open_page(context, base_url, {urlparse(base_url).netloc})
    page.watch = watch
    yield page
    watch.check()
    context.close()
