"""The page with hybrid models (the recurrent-state row, the notes block) and a hostile link."""
import json
import time
from urllib.parse import quote

from playwright.sync_api import expect

from conftest import expect_total
from pycore import urlstate
from pycore.memory import estimate


def test_hybrid_model_shows_its_state_row_and_notes(app):
    app.select_option("#model", "qwen3.5-9b")
    fields = dict(urlstate.DEFAULTS, model="qwen3.5-9b")
    e, errors = urlstate.estimate_from_fields(fields)
    assert not errors and e.state.bytes > 0
    expect_total(app, e)
    row = app.locator('[data-item="state"]')
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-bytes", str(e.state.bytes))
    box = app.locator("#model-notes-box")
    expect(box).to_be_visible()
    expect(app.locator("#model-notes li")).to_have_count(len(e.warnings))
    expect(app.locator("#model-notes")).to_contain_text(e.warnings[0][:60])
    # a dense model read completely: the block keeps only the engine's own approximation notes; state 0
    app.select_option("#model", "llama-3.1-8b")
    e2, _ = urlstate.estimate_from_fields(dict(urlstate.DEFAULTS, model="llama-3.1-8b"))
    hybrid_only = [w for w in e.warnings if w not in e2.warnings]
    assert hybrid_only, "the hybrid model has notes of its own (its recurrent layers)"
    expect(app.locator("#model-notes li")).to_have_count(len(e2.warnings))
    expect(app.locator("#model-notes")).not_to_contain_text(hybrid_only[0][:60])
    expect(row).to_have_attribute("data-bytes", "0")


def test_hostile_link_leaves_the_page_live_with_a_message_at_the_field(open_site):
    # a link whose custom architecture has 30 million layers: the page must neither freeze nor guess
    cfg = {"model_type": "llama", "hidden_size": 4096, "num_hidden_layers": 30_000_000, "num_attention_heads": 32,
           "num_key_value_heads": 8, "vocab_size": 128256, "intermediate_size": 14336,
           "max_position_embeddings": 131072}
    start = time.monotonic()
    page = open_site("?model=custom&cfg=" + quote(json.dumps(cfg)))  # waits until Python is live
    assert time.monotonic() - start < 90  # a cold start on a loaded machine, not a frozen tab
    expect(page.locator("#cfg-error")).to_contain_text("num_hidden_layers")
    assert len(page.locator("#cfg-error").text_content()) < 200  # the value quoted short, if at all
    expect(page.locator("#stale-note")).to_be_visible()
    # the previous (pre-rendered) result is kept
    e, _ = urlstate.estimate_from_fields(dict(urlstate.DEFAULTS))
    expect_total(page, e)
    # and the page is live: a preset recalculates
    page.select_option("#model", "lfm2-350m")
    e2, errors = urlstate.estimate_from_fields(dict(urlstate.DEFAULTS, model="lfm2-350m"))
    assert not errors
    expect_total(page, e2)
    expect(page.locator("#stale-note")).to_be_hidden()
