"""vLLM: speculative decoding (a draft model, EAGLE, MTP, n-gram), the hybrid pool's state-page padding, and
data-parallel engines with expert parallelism. Hand calculations written out; sources in
pycore/engines/speculative.py, vllm_pool.py and vllm.py."""
import pytest

from pycore.errors import InputError
from pycore.formats import weight_format, weight_storage
from pycore.memory import estimate
from pycore.models import EXPERT_ROLES
from pycore.presets import model
from pycore.scenario import Scenario
from pycore.units import GiB

H100 = dict(engine="vllm", gpu="h100-sxm", weights="BF16")
QWEN35_PAGE = 528 * 4096  # 528-token blocks × (2 × 4 KV heads × 256 × 2 B)


def plan(**kw):
    return estimate(Scenario(**{**H100, **kw})).engine_plan


# ---------------------------------------------------------------- hybrid pool: state page padding

def test_qwen35_block_size_and_groups_by_hand():
    # vllm/model_executor/models/config.py HybridAttentionMambaModelConfig (no prefix caching):
    # state page per GDN layer: conv 3 × (2 × 16 × 128 + 32 × 128) × 2 B = 49,152 + SSM 32 × 128 × 128 × 4 B
    # (mamba_ssm_dtype float32) = 2,097,152 → 2,146,304 B; attention bytes per token 2 × 4 × 256 × 2 = 4,096;
    # block = 16 × ⌈2,146,304 / (16 × 4,096)⌉ = 16 × ⌈32.75⌉ = 528 tokens; page = 528 × 4,096 = 2,162,688 B.
    # kv_cache_utils.py: 8 attention + 24 GDN layers → groups of min(8, 24) = 8: 1 + 3 = 4 groups.
    p = plan(model="qwen3.5-9b", context=4096, gpu_memory_utilization=0.85)
    f = p.fields
    assert (f["block_size"], f["page_bytes"], f["state_page_bytes"]) == (528, QWEN35_PAGE, 2_146_304)
    assert (f["group_size"], f["kv_cache_groups"], f["padding_layers"]) == (8, 4, 0)
    blocks = f["kv_cache_available_bytes"] // QWEN35_PAGE // 8  # get_num_blocks(available, page, group_size)
    assert f["gpu_blocks"] == blocks
    assert f["kv_cache_tokens"] == blocks // 4 * 528  # num_blocks // groups × block_size
    # a request of 4,096 tokens: ⌈4096 / 528⌉ = 8 attention blocks + 1 state block in each of 3 groups
    assert f["max_concurrency"] == round(blocks / (8 + 3), 2)
    assert "Setting attention block size to 528 tokens" in " ".join(p.log)
    assert "Padding mamba page size by 0.76%" in " ".join(p.log)  # 100 × 16,384 / 2,146,304 = 0.763


def test_qwen35_per_sequence_pages_by_hand():
    # 3 sequences of 1,000 tokens: ⌈1000 / 528⌉ = 2 blocks × 8 attention layers × 2,162,688 B each;
    # state: 1 block × 24 layers × 2,162,688 B each (the padded page, not the 2,146,304 B state)
    e = estimate(Scenario("qwen3.5-9b", batch=3, context=1000, **H100))
    assert e.devices[0].kv_cache == 3 * 2 * 8 * QWEN35_PAGE
    assert e.devices[0].state == 3 * 24 * QWEN35_PAGE


def test_hybrid_block_stays_16_when_a_16_token_page_holds_the_state():
    # MiniMax-M1: lightning state 64 heads × 128 × 128 × 2 B = 2,097,152; attention 2 × 8 × 128 × 2 = 4,096 B per
    # token: 16 × ⌈2,097,152 / 65,536⌉ = 512 tokens and the page equals the state: no padding line
    p = plan(model="minimax-m1-80k", context=8192)
    assert p.fields["block_size"] == 512 and p.fields["page_bytes"] == p.fields["state_page_bytes"] == 2_097_152
    assert not any("Padding mamba" in line for line in p.log)
    # attention-only models keep 16-token blocks
    assert plan(model="llama-3.1-8b", context=8192).fields["block_size"] == 16


# ---------------------------------------------------------------- speculative decoding: MTP

def test_qwen35_mtp_layer_weights_by_hand():
    # One Qwen3.5-9B MTP layer (vLLM qwen3_5_mtp: a gated full-attention decoder layer + fc [embedding; hidden]):
    # q_proj 4096 × (16 × 256 × 2, gated) 33,554,432 + k, v 2 × 4096 × 1024 8,388,608 + o 4096 × 4096 16,777,216
    # + q/k norms 512 + MLP 3 × 4096 × 12288 150,994,944 + 2 layer norms 8,192 + fc 8192 × 4096 33,554,432
    # + 3 norms 12,288 = 243,290,624 parameters × 2 B (bf16); embedding and head shared with the target
    params = 33_554_432 + 8_388_608 + 16_777_216 + 512 + 150_994_944 + 8_192 + 33_554_432 + 12_288
    assert params == 243_290_624
    base = estimate(Scenario("qwen3.5-9b", context=4096, **H100))
    mtp = estimate(Scenario("qwen3.5-9b", context=4096, speculative_method="mtp", num_speculative_tokens=1, **H100))
    assert mtp.devices[0].weights - base.devices[0].weights == 2 * params
    assert mtp.engine_plan.fields["speculative"]["draft_weights_bytes"] == 2 * params
    assert "Loading drafter model..." in mtp.engine_plan.log


def test_qwen35_mtp_reproduces_the_logged_padding_and_blocks():
    # vllm bench latency, Qwen3.5-9B, TP 1, gpu_memory_utilization 0.85, max_model_len 4096, --speculative-config
    # '{"method":"mtp","num_speculative_tokens":1}' (experiment notes in a public GitHub repository; the search
    # index did not record which): "Model loading took 18.12 GiB memory (without speculation about 17.66 GiB)",
    # "Add 3 padding layers, may waste at most 12.50% KV cache memory", "GPU KV cache size: 41,184 tokens
    # (without speculation about 53,328 tokens)". The MTP layer's attention joins the 8 full-attention layers:
    # 9 attention + 24 GDN → groups of 9, 24 = 3 × 9 − 3: three padding layers, 3 / 24 = 12.50%.
    kw = dict(model="qwen3.5-9b", context=4096, gpu_memory_utilization=0.85)
    base, mtp = plan(**kw), plan(speculative_method="mtp", num_speculative_tokens=1, **kw)
    assert "Add 3 padding layers, may waste at most 12.50% KV cache memory" in mtp.log
    assert (mtp.fields["group_size"], mtp.fields["kv_cache_groups"]) == (9, 4)
    # both logged token counts are whole 528-token blocks per group
    assert 53_328 % 528 == 0 and 41_184 % 528 == 0
    # the weights grew by 18.12 − 17.66 = 0.46 GiB (two figures printed to 0.01 GiB): ours 486,581,248 B = 0.453 GiB
    assert abs(486_581_248 / GiB - 0.46) <= 0.01
    # From the logged 53,328 tokens = 101 blocks per group: 404–407 blocks of 8 pages, so the pool had
    # 404 × 8 × 2,162,688 B at least. Less the MTP weights, in groups of 9 pages, that leaves
    # ⌊(6,989,807,616 − 486,581,248) / 2,162,688 / 9⌋ = 334 blocks → 334 // 4 × 528 = 43,824 tokens against the
    # 41,184 logged (6 % more): the drafter's own buffers and compiled graphs, about 0.4 GiB more, are not counted.
    pool_before = 404 * 8 * QWEN35_PAGE
    after = (pool_before - mtp.fields["speculative"]["draft_weights_bytes"]) // QWEN35_PAGE // 9 // 4 * 528
    assert after == 43_824 and 1.0 < after / 41_184 < 1.1
    assert base.fields["kv_cache_tokens"] > mtp.fields["kv_cache_tokens"]


def test_mtp_needs_mtp_layers_and_a_multiple_of_them():
    with pytest.raises(InputError, match="MTP layers"):
        estimate(Scenario("llama-3.1-8b", speculative_method="mtp", num_speculative_tokens=1, **H100))
    # DeepSeek-V3 ships 1 NextN layer: 3 speculative tokens reuse it (3 % 1 == 0)
    p = plan(model="deepseek-v3", weights="FP8", context=4096, gpus=8, speculative_method="deepseek_mtp",
             num_speculative_tokens=3)
    assert p.fields["speculative"]["method"] == "mtp" and p.fields["speculative"]["draft_kv_layers"] == 1


def test_deepseek_mtp_shares_embedding_and_head():
    # DeepSeek-V3's NextN layer stores its own embed_tokens and shared_head.head (129,280 × 7,168 each); vLLM
    # shares the target's, so the draft weighs its decoder layer, eh_proj and norms only
    spec = model("deepseek-v3")
    from pycore.parts import MTP, part_tensors
    all_params = sum(t.numel for t in part_tensors(spec, MTP))
    p = plan(model="deepseek-v3", weights="BF16", context=4096, gpus=8, speculative_method="mtp",
             num_speculative_tokens=1, gpu="h200")
    per_rank = p.fields["speculative"]["draft_weights_bytes"]
    loaded = all_params - 2 * 129_280 * 7_168
    # bf16, split over 8 ranks, except what vLLM replicates on every rank: q_a_proj 7,168 × 1,536, kv_a_proj_with_mqa
    # 7,168 × 576 and the router 7,168 × 256 (11,010,048 + 4,128,768 + 1,835,008 parameters; norms are negligible)
    replicated = 11_010_048 + 4_128_768 + 1_835_008
    assert abs(per_rank - (2 * (loaded - replicated) / 8 + 2 * replicated)) < 0.0005 * per_rank


def test_mtp_adds_its_attention_layer_to_every_token():
    # Llama-free check on an attention-only MTP model: DeepSeek-V3 MLA, 61 layers of (512 + 64) × 2 B = 1,152 B
    # per token; the NextN layer adds one more: 62 × 1,152 per token, in 16-token blocks
    kw = dict(model="deepseek-v3", weights="FP8", context=4096, gpus=8, gpu="h200")
    base, mtp = estimate(Scenario(**kw, engine="vllm")), estimate(Scenario(**kw, engine="vllm", speculative_method="mtp",
                                                                            num_speculative_tokens=1))
    assert base.devices[0].kv_cache == 4096 * 61 * 1152
    assert mtp.devices[0].kv_cache == 4096 * 62 * 1152


# ---------------------------------------------------------------- draft model, EAGLE, n-gram

def test_draft_model_adds_its_weights_and_kv_by_hand():
    # Llama 3.1 8B with Llama 3.2 1B as draft (draft_model): the draft's bf16 checkpoint loads whole; its 16 layers
    # of 8 KV heads × 64 join the pool: per token 32 × 2 × 8 × 128 × 2 + 16 × 2 × 8 × 64 × 2 = 131,072 + 32,768 B
    kw = dict(model="llama-3.1-8b", context=8192)
    base = estimate(Scenario(**kw, **H100))
    d = estimate(Scenario(**kw, **H100, speculative_method="draft_model", num_speculative_tokens=4,
                          draft_model="llama-3.2-1b"))
    draft_bytes = weight_storage(model("llama-3.2-1b"), weight_format("BF16")).total
    assert d.devices[0].weights - base.devices[0].weights == draft_bytes
    assert d.devices[0].kv_cache == 8192 * (131_072 + 32_768)
    f = d.engine_plan.fields
    assert f["gpu_blocks"] == f["kv_cache_available_bytes"] // (16 * (131_072 + 32_768))
    assert f["kv_cache_tokens"] == f["gpu_blocks"] * 16


def test_eagle_is_one_target_layer_and_ngram_adds_nothing():
    kw = dict(model="llama-3.1-8b", context=8192)
    base = estimate(Scenario(**kw, **H100))
    eagle = estimate(Scenario(**kw, **H100, speculative_method="eagle", num_speculative_tokens=3))
    # one Llama 3.1 8B layer: 4096 × (4096 + 2 × 1024 + 4096) + 3 × 4096 × 14336 + 2 × 4096 = 218,112,000
    # parameters, plus fc 8192 × 4096 = 33,554,432; bf16
    assert eagle.devices[0].weights - base.devices[0].weights == 2 * (218_112_000 + 33_554_432)
    assert eagle.devices[0].kv_cache == 8192 * 33 * 131_072 // 32  # 33 layers of 4,096 B per token
    assert any("approximated" in w for w in eagle.warnings)
    ngram = estimate(Scenario(**kw, **H100, speculative_method="ngram", num_speculative_tokens=5))
    assert (ngram.devices[0].weights, ngram.devices[0].kv_cache) == (base.devices[0].weights, base.devices[0].kv_cache)


def test_speculative_state_blocks_per_request():
    # with 2 speculative tokens every GDN layer keeps 1 + 2 state blocks per request (MambaSpec.num_speculative_blocks)
    e = estimate(Scenario("qwen3.5-9b", batch=1, context=1000, speculative_method="mtp", num_speculative_tokens=2,
                          **H100))
    assert e.devices[0].state == 3 * 27 * QWEN35_PAGE  # 3 groups of 9 (3 padding layers) × 3 blocks each


@pytest.mark.parametrize("kw, field", [
    (dict(speculative_method="mtp"), "num_speculative_tokens"),
    (dict(num_speculative_tokens=2), "speculative_method"),
    (dict(speculative_method="medusa", num_speculative_tokens=2), "speculative_method"),
    (dict(speculative_method="draft_model", num_speculative_tokens=2), "draft_model"),
    (dict(speculative_method="mtp", num_speculative_tokens=1000), "num_speculative_tokens"),
    (dict(data_parallel_size=0), "data_parallel_size"),
    (dict(data_parallel_size=4096, gpus=8), "data_parallel_size"),
    (dict(enable_expert_parallel="yes"), "enable_expert_parallel"),
])
def test_bad_speculative_and_parallel_settings(kw, field):
    with pytest.raises(InputError) as err:
        Scenario("qwen3.5-9b", **kw)
    assert err.value.field == field


# ---------------------------------------------------------------- data parallel + expert parallel

def _expert_bytes(spec, fmt="BF16"):
    stored = weight_storage(spec, weight_format(fmt))
    return sum(s.bytes for t, s in stored.tensors if t.role in EXPERT_ROLES), stored.total


def test_dp_ep_weights_per_gpu_by_hand():
    # Qwen3-30B-A3B: 48 layers × 128 experts × 3 × 2048 × 768 = 28,991,029,248 expert parameters (bf16 ×2).
    # DP 4 + EP: ep_size = 4 × 1, each GPU holds ⌈128 / 4⌉ = 32 whole experts per layer and every other weight
    # (attention, router, embeddings, head) whole (fused_moe/config.py FusedMoEParallelConfig.make)
    spec = model("qwen3-30b-a3b")
    experts, total = _expert_bytes(spec)
    assert experts == 2 * 48 * 128 * 3 * 2048 * 768
    e = estimate(Scenario("qwen3-30b-a3b", context=4096, batch=8, data_parallel_size=4, enable_expert_parallel=True,
                          **H100))
    assert len(e.devices) == 4 and e.layout.devices == 4
    assert all(d.weights == total - experts + experts * 32 // 128 for d in e.devices)
    # each engine serves 8 / 4 = 2 sequences: 2 × 4096 tokens × 48 layers × 2 × 4 KV heads × 128 × 2 B
    assert all(d.kv_cache == 2 * 4096 * 48 * 2 * 4 * 128 * 2 for d in e.devices)
    assert sum(d.total for d in e.devices) == e.total


def test_dp_with_tp_inside_each_engine():
    # DP 3 × TP 2 = 6 GPUs with EP: ⌈128 / 6⌉ = 22 experts per GPU; attention split over the 2 TP ranks
    spec = model("qwen3-30b-a3b")
    experts, total = _expert_bytes(spec)
    tp2 = estimate(Scenario("qwen3-30b-a3b", context=4096, gpus=2, **H100))  # TP 2, one engine, no EP
    e = estimate(Scenario("qwen3-30b-a3b", context=4096, gpus=2, data_parallel_size=3, enable_expert_parallel=True,
                          **H100))
    assert len(e.devices) == 6
    non_expert_per_rank = tp2.devices[0].weights - experts // 2  # TP 2 splits each expert matrix in half
    assert e.devices[0].weights == non_expert_per_rank + experts * 22 // 128
    # without EP the experts are sharded as matrices over all 6 GPUs (flatten_tp_across_dp)
    no_ep = estimate(Scenario("qwen3-30b-a3b", context=4096, gpus=2, data_parallel_size=3, **H100))
    assert abs(no_ep.devices[0].weights - (non_expert_per_rank + experts / 6)) < 1e4


def test_expert_parallel_needs_moe():
    with pytest.raises(InputError, match="mixture-of-experts"):
        estimate(Scenario("llama-3.1-8b", gpus=2, enable_expert_parallel=True, **H100))


# ---------------------------------------------------------------- command line

def test_cli_speculative_config_and_data_parallel(capsys):
    import json

    from pycore.cli import main
    assert main(["estimate", "--model", "qwen3.5-9b", "--engine", "vllm", "--gpu", "h100-sxm", "--context", "4096",
                 "--speculative-config", '{"method": "qwen3_next_mtp", "num_speculative_tokens": 2}', "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["engine"]["speculative"] == {"method": "mtp", "num_speculative_tokens": 2,
                                          "draft": "1 MTP layer of the checkpoint, 2 speculative tokens",
                                          "draft_weights_bytes": 486_581_248, "draft_kv_layers": 1}
    assert d["engine"]["block_size"] == 528 and "Add 3 padding layers" in " ".join(d["engine"]["log"])
    assert main(["estimate", "--model", "llama-3.1-8b", "--engine", "vllm", "--gpu", "h100-sxm",
                 "--speculative-config", '{"model": "llama-3.2-1b", "num_speculative_tokens": 4}', "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"]["speculative"]["method"] == "draft_model"
    assert main(["estimate", "--model", "llama-3.1-8b", "--engine", "vllm", "--speculative-config", "ngram:5"]) == 0
    capsys.readouterr()
    assert main(["estimate", "--model", "qwen3-30b-a3b", "--engine", "vllm", "--gpu", "h100-sxm", "--gpus", "2",
                 "--data-parallel-size", "2", "--enable-expert-parallel", "--batch", "4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert len(d["devices"]) == 4 and d["fit"]["gpus"] == 4 and d["engine"]["data_parallel_size"] == 2
    # other engines ignore them, and say so
    assert main(["estimate", "--model", "qwen3.5-9b", "--engine", "llama.cpp", "--speculative-config", "mtp:1",
                 "--json"]) == 0
    assert any("vLLM's own memory rules only" in w for w in json.loads(capsys.readouterr().out)["warnings"])


@pytest.mark.parametrize("value", ['{"method": "mtp", "num_speculative_tokens": 1, "draft_tensor_parallel_size": 1}',
                                   '{"method": "mtp"', '["mtp"]', "mtp:x", "mtp:0", "x" * 3000,
                                   '{"method": "mtp", "num_speculative_tokens": 1.5}', "medusa:2",
                                   '{"model": "no-such-model", "num_speculative_tokens": 2}'])
def test_cli_bad_speculative_config_is_one_line(value, capsys):
    from pycore.cli import main
    assert main(["estimate", "--model", "qwen3.5-9b", "--engine", "vllm", "--speculative-config", value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_form_fields_give_the_same_scenario():
    # the page's fields (and a link's keys) for the new vLLM settings; a draft model left in its field after the
    # method changed is not passed on
    from pycore import urlstate
    fields = dict(urlstate.DEFAULTS, model="qwen3-30b-a3b", weights="BF16", gpu="h100-sxm", engine="vllm",
                  speculative_method="ngram", num_speculative_tokens="3", draft_model="llama-3.2-1b",
                  data_parallel_size="2", enable_expert_parallel="1")
    e, errors = urlstate.estimate_from_fields(fields)
    assert not errors
    s = e.scenario
    assert (s.speculative_method, s.num_speculative_tokens, s.draft_model, s.data_parallel_size,
            s.enable_expert_parallel) == ("ngram", 3, "", 2, True)
    query = urlstate.to_query(fields)
    assert "speculative_method=ngram" in query and "enable_expert_parallel=1" in query
    e2, _ = urlstate.estimate_from_fields(urlstate.parse_query(query))
    assert e2.total == e.total
    _, errors = urlstate.estimate_from_fields(dict(fields, speculative_method="mtp", num_speculative_tokens=""))
    assert "num_speculative_tokens" in errors


def test_expert_parallel_size_is_dp_times_tp_as_logged():
    # vllm-project/vllm-ascend#5461: DeepSeek V3.2 with DP 2 × TP 8 and expert parallelism logs
    # "(Worker_DP0_TP5_EP5) [EP Rank 5/16] Expert parallelism is enabled. Expert placement strategy: linear.
    # Local/global number of experts: 16/256." — ep_size = 2 × 8 = 16, 256 / 16 = 16 experts on each GPU
    e = estimate(Scenario("deepseek-v3", context=4096, gpus=8, data_parallel_size=2,
                          enable_expert_parallel=True, **{**H100, "weights": "FP8", "gpu": "h200"}))
    assert ("[EP Rank 0/16] Expert parallelism is enabled. Expert placement strategy: linear. "
            "Local/global number of experts: 16/256.") in e.engine_plan.log
    spec = model("deepseek-v3")
    experts, total = _expert_bytes(spec, "FP8")
    tp8 = estimate(Scenario("deepseek-v3", context=4096, gpus=8, **{**H100, "weights": "FP8", "gpu": "h200"}))
    non_expert = tp8.devices[0].weights - sum(
        -(-s.bytes // 8) for t, s in weight_storage(spec, weight_format("FP8")).tensors if t.role in EXPERT_ROLES)
    assert len(e.devices) == 16
    assert e.devices[0].weights == non_expert + sum(
        s.bytes * 16 // 256 for t, s in weight_storage(spec, weight_format("FP8")).tensors if t.role in EXPERT_ROLES)


@pytest.mark.parametrize("model_id, weights", [("qwen3-30b-a3b", "BF16"), ("gpt-oss-120b", "MXFP4")])
def test_more_data_parallel_engines_hold_fewer_experts_each(model_id, weights):
    # per GPU: experts fall as engines are added, attention stays; the GPUs' shares always add up to the total
    last = None
    for dp in (1, 2, 4, 8):
        e = estimate(Scenario(model_id, context=4096, batch=16, data_parallel_size=dp, enable_expert_parallel=dp > 1,
                              **{**H100, "weights": weights}))
        assert sum(d.total for d in e.devices) == e.total and len(e.devices) == dp
        if last is not None:
            assert e.devices[0].weights < last.devices[0].weights
            assert e.devices[0].kv_cache < last.devices[0].kv_cache  # each engine serves 16 / dp sequences
        last = e


def test_ollama_projector_follows_the_output_layer_to_ram():
    # a partial offload keeps the output layer, and with it the vision tower and its graph, in system RAM
    # (llm/memory.go: memoryLastLayer = output + projector weights + projector graph)
    full = estimate(Scenario("mistral-small-3.1-24b", weights="Q4_K_M", engine="ollama", context=4096,
                             gpu_memory_bytes=80 * GiB))
    part = estimate(Scenario("mistral-small-3.1-24b", weights="Q4_K_M", engine="ollama", context=4096,
                             gpu_memory_bytes=16 * GiB))
    from pycore.engines.ollama import projector
    w, graph, arch, loaded = projector(model("mistral-small-3.1-24b"))
    # mistral3: image 1540, patch 14 → 110² = 12,100 patches: 4 × (1540² × 3 + 1024 × 14 + 12,100² × 16)
    assert arch == "mistral3" and graph == 4 * (1540 * 1540 * 3 + 1024 * 14 + 12_100 ** 2 * 16)
    assert full.engine_plan.fields["layers_on_gpu"] == 41 and full.devices[0].weights > full.host.weights + loaded
    assert part.engine_plan.fields["layers_on_gpu"] < 41
    assert part.host.weights >= loaded and part.host.compute >= graph
    assert f'projector.weights="' in part.engine_plan.log[0]


# ---------------------------------------------------------------- EAGLE heads on models with per-layer lists

PER_LAYER_MODELS = ("qwen3-next-80b-a3b", "jamba-1.5-mini", "nemotron-h-8b", "llama-4-scout", "llama-4-maverick",
                    "kimi-linear-48b-a3b")


@pytest.mark.parametrize("name", PER_LAYER_MODELS)
@pytest.mark.parametrize("method", ["eagle", "eagle3"])
def test_eagle_head_on_hybrid_and_moe_models_is_one_dense_layer(name, method):
    # Was "ffn_types: 48 entries for 1 layers": the head copied the target's per-layer lists. vLLM's EAGLE heads
    # (Eagle3LlamaForCausalLM, EagleLlamaForCausalLM) are Llama decoder layers: one full-attention layer with a dense
    # FFN, whatever the target's mixers (Mamba, Gated DeltaNet, KDA, chunked) and experts.
    from pycore.engines.speculative import _eagle_head, draft
    from pycore.formats import weight_format
    spec = model(name)
    layer, tensors = _eagle_head(spec, method)
    assert layer.num_layers == 1 and not layer.is_moe and not layer.has_state
    assert not any(t.is_expert or t.role.startswith("ssm_") for t in tensors)
    g = 8 if name == "llama-4-maverick" else 1  # Maverick's 400 B parameters need 8 GPUs
    d = draft(spec, weight_format("BF16"), method, 3, "", g)
    assert [n for _, n in d.attention] == [1] and d.attention[0][0].kind in ("full", "latent")
    # the draft's weights and KV reach the estimate
    kw = dict(model=name, context=8192, gpus=g, **H100)
    base, e = estimate(Scenario(**kw)), estimate(Scenario(**kw, speculative_method=method, num_speculative_tokens=3))
    assert e.devices[0].weights - base.devices[0].weights == d.weights > 0
    assert e.devices[0].kv_cache > base.devices[0].kv_cache


def test_eagle3_head_on_qwen3_next_by_hand():
    # Qwen3-Next-80B-A3B: hidden 2,048, 16 heads, 2 KV heads of 256, dense width (intermediate_size) 5,120.
    # Eagle3LlamaForCausalLM (vllm/model_executor/models/llama_eagle3.py@00bd1493): q/k/v read 2 × 2,048 = 4,096:
    # q 4,096 × 4,096 = 16,777,216; k, v 4,096 × 512 = 2,097,152 each; o 4,096 × 2,048 = 8,388,608;
    # gated MLP 3 × 2,048 × 5,120 = 31,457,280; four norms (input, post-attention, hidden_norm, final) 8,192;
    # fc 3 × 2,048 × 2,048 = 12,582,912 → 73,408,512 parameters × 2 B (BF16) = 146,817,024 B.
    from pycore.engines.speculative import draft
    from pycore.formats import kv_format, weight_format
    d = draft(model("qwen3-next-80b-a3b"), weight_format("BF16"), "eagle3", 3, "", 1)
    assert d.weights == 146_817_024
    # its KV: one full-attention layer, 2 (K, V) × 2 heads × 256 × 2 B = 2,048 B per token
    assert d.attention[0][0].bytes_per_token(kv_format("bf16")) == 2_048
    # fc is ReplicatedLinear: whole on each of 2 tensor-parallel ranks, 12,582,912 × 2 B, while the rest halves
    # (the K/V projections by KV head: 2 heads over 2 ranks)
    d2 = draft(model("qwen3-next-80b-a3b"), weight_format("BF16"), "eagle3", 3, "", 2)
    assert d2.weights == 12_582_912 * 2 + 8_192 * 2 + (73_408_512 - 12_582_912 - 8_192) * 2 // 2


def test_qwen3_next_mtp_is_one_layer_as_vllm_builds_it():
    # Qwen3-Next's config.json has no num_nextn_predict_layers; vLLM maps qwen3_next to qwen3_next_mtp
    # (vllm/config/speculative.py@f19b16d9) and builds getattr(config, "num_nextn_predict_layers", 1) = 1 layer
    # (qwen3_next_mtp.py@055e47c2): before, "method mtp needs a checkpoint with MTP layers ... this model has none".
    from pycore.engines.speculative import draft
    from pycore.formats import weight_format
    d = draft(model("qwen3-next-80b-a3b"), weight_format("BF16"), "mtp", 2, "", 1)
    # one full-attention MoE layer, H = 2,048: q (with its output gate) 2,048 × 2 × 16 × 256 = 16,777,216;
    # k, v 2,048 × 512 = 1,048,576 each; o 4,096 × 2,048 = 8,388,608; q/k norms 2 × 256; two norms 4,096;
    # router 2,048 × 512 = 1,048,576; experts 512 × 3 × 2,048 × 512 = 1,610,612,736; shared expert
    # 3 × 2,048 × 512 = 3,145,728 and its gate 2,048; fc 4,096 × 2,048 = 8,388,608 and three norms 6,144
    # → 1,650,471,424 parameters × 2 B; embedding and head shared with the model
    assert d.weights == 1_650_471_424 * 2
    assert [n for _, n in d.attention] == [1]
    assert any("vLLM builds 1" in n for n in d.notes)
    # the qwen3_next_mtp alias, as Qwen's model card writes it, reaches the estimate and its warnings
    e = estimate(Scenario(model="qwen3-next-80b-a3b", gpus=4, context=8192, speculative_method="qwen3_next_mtp",
                          num_speculative_tokens=2, **H100))
    assert e.engine_plan.fields["speculative"]["draft_kv_layers"] == 1
    assert any("does not count its MTP layers" in w for w in e.warnings)
