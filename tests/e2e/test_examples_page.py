"""The page's "Common formulas and their worked examples, checked" section: the rows the build rendered are
the CLI's rows (one function makes both), text only, and each row's link opens the calculator on its
scenario, showing the row's exact figure."""
import json
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect

from conftest import wait_ready

ROOT = Path(__file__).resolve().parents[2]


def cli_rows():
    out = subprocess.run([sys.executable, "-m", "pycore", "examples", "--json"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def page_rows(page):
    return page.eval_on_selector_all("#seed-table tr[data-example]", """rows => rows.map(r => ({
        id: r.dataset.example, formula_bytes: r.dataset.formulaBytes, exact_bytes: r.dataset.exactBytes,
        printed: r.querySelector('[data-field=printed]').textContent,
        section: r.closest('tbody').querySelector('.seed-section').textContent.trim(),
        text: r.textContent, href: r.querySelector('a').getAttribute('href'), elements: r.querySelectorAll('*').length}))""")


def test_page_rows_are_the_cli_rows(open_site):
    page = open_site(ready=False)  # rendered at build time: no Python needed to read it
    expect(page.locator("#seed-h")).to_have_text("Common formulas and their worked examples, checked")
    shown, cli = page_rows(page), cli_rows()
    assert [r["id"] for r in shown] == [r["id"] for r in cli]
    assert len(cli) >= 50
    for s, c in zip(shown, cli):
        assert (s["section"], s["printed"], int(s["formula_bytes"]), int(s["exact_bytes"])) == \
               (c["section"], c["printed"], c["formula_bytes"], c["exact_bytes"])
        assert c["title"] in s["text"] and c["verdict"] in s["text"]
        assert s["href"] == "?" + c["query"]
        # text only: a row is the template's own elements (th, a, 3 br, 3 span, 5 td), nothing from the data
        assert s["elements"] == 13, s["id"]


def test_row_links_open_the_scenario(open_site):
    page = open_site()
    cli = {r["id"]: r for r in cli_rows()}
    # a verdict that flips (the guide's "doesn't fit" Q4_K_M on an A100 fits), then the 1M-token KV cache
    for row_id, item in (("ex2-better", "total"), ("kv-llama-3-8b-1m", "kv_cache")):
        page.locator(f"#seed-{row_id} a").click()
        wait_ready(page)
        expect(page.locator(f'[data-item="{item}"]')).to_have_attribute("data-bytes", str(cli[row_id]["exact_bytes"]))
        page.go_back()
        wait_ready(page)
