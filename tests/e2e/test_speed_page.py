"""Speed beside the verdict and the hardware-first panel, in Chromium: the page shows CPython pycore's
figures (issue #13)."""
from playwright.sync_api import expect

from conftest import wait_ready
from pycore import view as V
from pycore.memory import estimate
from pycore.scenario import Scenario
from test_page import set_fields


def test_speed_line_follows_the_gpu(open_site):
    page = open_site("")
    set_fields(page, model="llama-3.1-8b", weights="Q4_K_M", gpu="rtx-4090", context=8192)
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", gpu="rtx-4090", context=8192))
    expect(page.locator('[data-slot="speed"]')).to_have_text(V.speed_view(e)["text"])
    set_fields(page, gpu="m4-max-128gb")
    e = estimate(Scenario("llama-3.1-8b", weights="Q4_K_M", gpu="m4-max-128gb", context=8192))
    expect(page.locator('[data-slot="speed"]')).to_have_text(V.speed_view(e)["text"])


def test_hardware_first_lists_what_fits(open_site):
    page = open_site("")
    wait_ready(page)
    set_fields(page, gpu="rtx-3060", context=4096)
    page.locator("#hwfirst-ram").fill("0")
    page.click("#hwfirst-run")
    rows, note = V.hwfirst_rows({"gpu": "rtx-3060", "gpus": "1", "context": "4096"}, "0", "cpu-ddr5-5600-2ch")
    expect(page.locator("#hwfirst-note")).to_have_text(note)
    expect(page.locator("#hwfirst-body tr")).to_have_count(len(rows))
    expect(page.locator("#hwfirst-body tr").first.locator("th")).to_have_text(rows[0]["model"])
