"""Which Chromium the browser tests drive: Debian's /usr/bin/chromium (or $CHROMIUM) when present,
otherwise the one `python -m playwright install chromium` downloaded. Run as a script, it exits 1 when
neither exists so that `make` can fetch Playwright's; the tests then fail, never skip."""
import os
import shutil
import sys
from pathlib import Path

SYSTEM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# Headless flags for a closed network: no background requests to Google's hosts.
# WebUIOmniboxPopup, WebUIOmniboxAimPopup: Chromium's full headless mode (Debian's chromium 156) builds the
# address bar's popup, two chrome://omnibox-popup.top-chrome pages in a renderer of their own, for every new
# window, and each Playwright context is one: about 1 s of processor time per context (/proc/<pid>/stat, 3
# contexts: 0.71-0.92 s in that renderer, 0.34-0.37 s in the browser process; 0.02-0.24 s without them), taken
# from the page under test on a two-core machine while it starts. A visitor's browser builds it once per window,
# not per page. Playwright's own Chromium (headless shell) has no such pages; the names are ignored there.
# tests/e2e/test_harness.py checks that no such page is made.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync", "--disable-quic",
               "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup"]


def system_chromium():
    explicit = os.environ.get("CHROMIUM")
    if explicit and Path(explicit).exists():
        return explicit
    for path in SYSTEM_CANDIDATES:
        if Path(path).exists():
            return path
    return shutil.which("chromium")


def playwright_chromium():
    try:
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            path = p.chromium.executable_path
            return path if Path(path).exists() else None
    except Exception:
        return None


def executable():
    """The system browser's path, or None to let Playwright use its own download."""
    return system_chromium()


if __name__ == "__main__":
    found = system_chromium() or playwright_chromium()
    print(f"browser: {found or 'none found'}")
    sys.exit(0 if found else 1)
