"""The page's Training mode: same form, model and hardware; the training breakdown from pycore.training."""
import json
import re
from pathlib import Path

from playwright.sync_api import expect

from conftest import wait_ready
from pycore.training import TrainingScenario, estimate_training
from test_page import set_fields

TRAIN_ITEMS = ("weights", "gradients", "optimizer", "activations", "adapters", "overhead")


def expect_training(page, e):
    per = e.per_gpu
    expect(page.locator('[data-item="total"]')).to_have_attribute("data-bytes", str(per.total))
    for key in TRAIN_ITEMS:
        assert int(page.locator(f'[data-item="{key}"]').get_attribute("data-bytes")) == getattr(per, key)
        expect(page.locator(f'[data-item="{key}"]')).to_be_visible()
    expect(page.locator('[data-item="kv_cache"]')).to_be_hidden()


def test_switching_to_training_keeps_model_and_hardware(app):
    set_fields(app, model="qwen2.5-7b", gpu="rtx-3090", gpus=1)
    app.check('input[name="mode"][value="train"]')
    assert app.locator("#model").input_value() == "qwen2.5-7b"
    assert app.locator("#gpu").input_value() == "rtx-3090"
    expect(app.locator('label[for="context"]')).to_have_text("Sequence length")
    # the defaults of the mode: LoRA r=8 on q,k,v,o, mixed bf16 AdamW, 2048 tokens
    expect_training(app, estimate_training(TrainingScenario("qwen2.5-7b", method="lora", gpu="rtx-3090")))
    expect(app).to_have_url(re.compile(r"[?&]mode=train(&|$)"))  # the radio's change event is the history entry
    set_fields(app, method="qlora", ckpt="full", context=4096, batch=2)
    app.check('input[name="modules"][value="down"]')
    ts = TrainingScenario("qwen2.5-7b", method="qlora", checkpointing="full", seq_len=4096, micro_batch=2,
                          lora_modules=("q", "k", "v", "o", "down"), gpu="rtx-3090")
    expect_training(app, estimate_training(ts))
    expect(app.locator('[data-slot="answer.max_micro_batch"]')).to_contain_text("sequences of 4,096 tokens")
    with app.expect_download() as dl:
        app.click("#export-json")
    data = json.loads(Path(dl.value.path()).read_text())
    assert data["total"]["bytes"] == estimate_training(ts).total.bytes and data["scenario"]["method"] == "qlora"
    # the link restores the training question (the address follows once inputs pause: boot.js)
    expect(app).to_have_url(re.compile(r"[?&]modules=q%2Ck%2Cv%2Co%2Cdown(&|$)"))
    url = app.url
    assert "method=qlora" in url and "ckpt=full" in url and "modules=q%2Ck%2Cv%2Co%2Cdown" in url
    app.check('input[name="mode"][value="infer"]')
    expect(app.locator('[data-item="kv_cache"]')).to_be_visible()
    expect(app.locator('label[for="context"]')).to_have_text("Context length")
    app.goto(url)
    wait_ready(app)
    expect_training(app, estimate_training(ts))


def test_sharded_full_fine_tuning_and_bad_input(app):
    set_fields(app, model="llama-3.1-8b", gpu="a100-80gb", gpus=8)
    app.check('input[name="mode"][value="train"]')
    set_fields(app, method="full", zero="3", ckpt="full", context=4096)
    expect_training(app, estimate_training(TrainingScenario("llama-3.1-8b", method="full", zero=3, gpus=8,
                                                            checkpointing="full", seq_len=4096, gpu="a100-80gb")))
    before = {key: app.locator(f'[data-item="{key}"]').get_attribute("data-bytes") for key in TRAIN_ITEMS + ("total",)}
    set_fields(app, tp=3)  # does not divide 8 GPUs: a message at the field, the last figures kept
    expect(app.locator("#tp-error")).to_be_visible()
    expect(app.locator("#stale-note")).to_be_visible()
    assert {key: app.locator(f'[data-item="{key}"]').get_attribute("data-bytes") for key in before} == before
    set_fields(app, tp=2)  # a valid degree: live again, with tensor parallelism
    expect_training(app, estimate_training(TrainingScenario("llama-3.1-8b", method="full", zero=3, gpus=8, tp=2,
                                                            checkpointing="full", seq_len=4096, gpu="a100-80gb")))
    expect(app.locator("#stale-note")).to_be_hidden()
