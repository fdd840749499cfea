"""The browser the tests and bench/page.py drive measures the page, not the browser's own interface.

Chromium's full headless mode builds the address bar's popup (chrome://omnibox-popup.top-chrome pages, in a
renderer of their own) for every new window, and every Playwright context is a new window: about a second of
processor time per context on this two-core machine, spent while the page under test starts. tests/browser.py's
LAUNCH_ARGS turn those features off; this test fails if a Chromium release renames them (the figures of
bench/page.py would then include the browser's interface again)."""


def test_a_new_context_builds_no_browser_interface_page(browser):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto("about:blank")
        page.wait_for_timeout(500)  # the popup is built right after the window opens
        session = browser.new_browser_cdp_session()
        targets = session.send("Target.getTargets")["targetInfos"]
        session.detach()
    finally:
        context.close()
    pages = [t for t in targets if t["type"] == "page"]
    assert pages, targets  # the listing sees the context's own page, so an empty answer cannot pass
    interface = [t["url"] for t in targets if t["type"] == "browser_ui" or t["url"].startswith("chrome://")]
    assert interface == []
