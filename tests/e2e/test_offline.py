"""Offline: the service worker keeps the site, so a second visit works with the network off."""
from playwright.sync_api import expect

from conftest import Watch
from pycore import Scenario, estimate


def test_second_visit_works_offline(browser, base_url):
    context = browser.new_context()
    page = context.new_page()
    watch = Watch(page, {base_url.split("/")[2]})
    page.goto(base_url + "?model=qwen3-8b&weights=Q5_K_M&context=16384")
    page.wait_for_selector("html[data-py=ready]", timeout=60_000)
    # the worker (registered once the page is live) has cached every file of this build once it is active
    page.wait_for_function("navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated'")
    cached = page.evaluate("caches.keys().then(k => caches.open(k[0])).then(c => c.keys()).then(r => r.length)")
    assert cached > 20
    context.set_offline(True)
    page.reload()
    page.wait_for_selector("html[data-py=ready]", timeout=60_000)
    e = estimate(Scenario("qwen3-8b", weights="Q5_K_M", context=16384, gpu="rtx-4090"))
    expect(page.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(e.total))
    page.fill("#context", "32768")
    e = estimate(Scenario("qwen3-8b", weights="Q5_K_M", context=32768, gpu="rtx-4090"))
    expect(page.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(e.total))
    watch.errors = [m for m in watch.errors if "ERR_INTERNET_DISCONNECTED" not in m]
    watch.check()
    context.close()


def test_single_file_page_from_disk_with_the_network_blocked(browser, site_dir):
    context = browser.new_context()
    requested = []
    context.route("http*://**", lambda route: (requested.append(route.request.url), route.abort()))
    page = context.new_page()
    watch = Watch(page, set())
    page.goto((site_dir / "offline.html").as_uri() + "?model=mistral-nemo-12b&weights=IQ4_XS&context=32768")
    page.wait_for_selector("html[data-py=ready]", timeout=60_000)
    e = estimate(Scenario("mistral-nemo-12b", weights="IQ4_XS", context=32768, gpu="rtx-4090"))
    expect(page.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(e.total))
    page.fill("#batch", "3")
    e = estimate(Scenario("mistral-nemo-12b", weights="IQ4_XS", context=32768, batch=3, gpu="rtx-4090"))
    expect(page.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(e.total))
    assert requested == []  # nothing tried the network
    assert all(u.startswith(("file:", "data:", "blob:")) for u in watch.requests)
    watch.check()
    context.close()
