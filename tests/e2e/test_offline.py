"""Offline: the service worker keeps the site, so a second visit works with the network off; and the
single-file page works from disk with the network blocked."""
from conftest import expect_total, wait_ready
from pycore import Scenario, estimate


def test_second_visit_works_offline(open_site):
    page = open_site("?model=qwen3-8b&weights=Q5_K_M&context=16384")
    # the worker (registered once the page is live) has cached every file of this build once it is active
    page.wait_for_function("navigator.serviceWorker.controller && navigator.serviceWorker.controller.state === 'activated'")
    cached = page.evaluate("caches.keys().then(k => caches.open(k[0])).then(c => c.keys()).then(r => r.length)")
    assert cached > 20
    page.context.set_offline(True)
    page.reload()
    wait_ready(page)
    expect_total(page, estimate(Scenario("qwen3-8b", weights="Q5_K_M", context=16384, gpu="rtx-4090")))
    page.fill("#context", "32768")
    expect_total(page, estimate(Scenario("qwen3-8b", weights="Q5_K_M", context=32768, gpu="rtx-4090")))
    page.watch.errors = [m for m in page.watch.errors if "ERR_INTERNET_DISCONNECTED" not in m]


def test_single_file_page_from_disk_with_the_network_blocked(open_site, site_dir):
    requested = []

    def block_network(context):
        context.route("http*://**", lambda route: (requested.append(route.request.url), route.abort()))
    page = open_site((site_dir / "offline.html").as_uri() + "?model=mistral-nemo-12b&weights=IQ4_XS&context=32768",
                     setup=block_network)
    expect_total(page, estimate(Scenario("mistral-nemo-12b", weights="IQ4_XS", context=32768, gpu="rtx-4090")))
    page.fill("#batch", "3")
    expect_total(page, estimate(Scenario("mistral-nemo-12b", weights="IQ4_XS", context=32768, batch=3, gpu="rtx-4090")))
    assert requested == []  # nothing tried the network
    assert all(u.startswith(("file:", "data:", "blob:")) for u in page.watch.requests)
