"""Which Chromium the browser tests drive: Debian's /usr/bin/chromium (or $CHROMIUM) when present,
otherwise the one `python -m playwright install chromium` downloaded. Run as a script, it exits 1 when
neither exists so that `make` can fetch Playwright's; the tests then fail, never skip."""
import os
import shutil
import sys
from pathlib import Path

SYSTEM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
# Headless flags for a closed network: no background requests to Google's hosts.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--no-first-run", "--disable-sync", "--disable-quic"]


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
