"""Training memory (pycore.training): hand-computed cases with the arithmetic written out, the bytes per
parameter of each precision and optimizer, DeepSpeed's estimators and Korthikanti et al.'s activation
formula reproduced, and bad input.

Every expected figure here is written from the model's shapes or from the cited source; none is copied
from pycore's own output.
"""
import math

import pytest

from pycore.errors import InputError
from pycore.models import ModelSpec, parameter_count
from pycore.training import (TrainingScenario, cheapest_setup, deepspeed_zero2_estimate, deepspeed_zero3_estimate,
                             estimate_training, korthikanti_layer_bytes, layer_activation_bytes, lora_parameters,
                             max_micro_batch, model_states, training_dict, training_table)

ceil = math.ceil


def est(model, **kw):
    return estimate_training(TrainingScenario(model, **kw))


def model_state_bytes(e) -> int:
    d = e.per_gpu
    return d.weights + d.gradients + d.optimizer + d.adapters


# ---------------------------------------------------------------- the models, by hand

# Qwen2.5-0.5B (config.json): hidden 896, 24 layers, 14 heads, 2 KV heads of 64, MLP 4,864, vocab 151,936,
# tied embeddings, biases on q, k and v.
QH, QL, QV, QI, QKV, QHEADS = 896, 24, 151936, 4864, 2 * 64, 14
QWEN_LAYER = (QH * QH + QH) + 2 * (QH * QKV + QKV) + QH * QH + 3 * QH * QI + 2 * QH  # q+b, k/v+b, o, MLP, 2 norms
QWEN_P = QV * QH + QL * QWEN_LAYER + QH  # tied embedding counted once, final norm
QWEN_LINEARS = [(QH, QH), (QH, QKV), (QH, QKV), (QH, QH), (QH, QI), (QH, QI), (QI, QH)]  # q k v o gate up down
QWEN_SMALL = QL * (2 * QH + QH + 2 * QKV) + QH  # vectors: 2 norms and the q, k, v biases per layer, final norm

# Llama 3.1 70B (config.json): hidden 8,192, 80 layers, 64 heads, 8 KV heads of 128, MLP 28,672, vocab 128,256.
LH, LL, LV, LI, LKV, LHEADS = 8192, 80, 128256, 28672, 8 * 128, 64
LLAMA_LINEARS = [(LH, LH), (LH, LKV), (LH, LKV), (LH, LH), (LH, LI), (LH, LI), (LI, LH)]  # q k v o gate up down
LLAMA_P = 2 * LV * LH + LL * (sum(k * n for k, n in LLAMA_LINEARS) + 2 * LH) + LH


def nf4_dq(k, n):
    """bitsandbytes NF4 with double quantization (QLoRA §3), bytes of a k × n matrix: packed 4-bit values, an
    8-bit absmax per 64 values, an fp32 absmax per 256 blocks, the 256-entry fp32 second-level code and its
    fp32 offset, the 16-entry fp32 NF4 code."""
    values, blocks = k * n, ceil(k * n / 64)
    return ceil(values / 2) + blocks + 4 * ceil(blocks / 256) + 256 * 4 + 4 + 16 * 4


def test_parameter_counts_by_hand():
    assert QWEN_P == parameter_count(est("qwen2.5-0.5b").model).total == 494_032_768
    assert LLAMA_P == parameter_count(est("llama-3.1-70b").model).total == 70_553_706_496


# ---------------------------------------------------------------- bytes per parameter

# (precision, optimizer) -> (weight, gradient, master, optimizer state) bytes per parameter.
# Mixed precision Adam is the ZeRO paper's 2 + 2 + (4 + 4 + 4) = 16; pure bf16 follows torch.optim, whose
# states take the parameter's dtype (zeros_like(p)); fp32 is 4 + 4 + 8.
PER_PARAM = {
    ("mixed_bf16", "adamw"): (2, 2, 4, 8),
    ("mixed_fp16", "adamw"): (2, 2, 4, 8),
    ("fp32", "adamw"): (4, 4, 0, 8),
    ("bf16", "adamw"): (2, 2, 0, 4),
    ("mixed_bf16", "sgd_momentum"): (2, 2, 4, 4),
    ("fp32", "sgd_momentum"): (4, 4, 0, 4),
    ("bf16", "sgd_momentum"): (2, 2, 0, 2),
    ("mixed_bf16", "sgd"): (2, 2, 4, 0),
    ("bf16", "sgd"): (2, 2, 0, 0),
}


@pytest.mark.parametrize("model,P", [("qwen2.5-0.5b", QWEN_P), ("llama-3.1-70b", LLAMA_P)])
@pytest.mark.parametrize("precision,optimizer", sorted(PER_PARAM))
def test_bytes_per_parameter(model, P, precision, optimizer):
    w, g, m, s = PER_PARAM[(precision, optimizer)]
    e = est(model, precision=precision, optimizer=optimizer)
    assert e.weights.bytes == w * P
    assert e.gradients.bytes == g * P
    assert e.optimizer.bytes == (m + s) * P
    assert e.states.master == m * P
    assert e.adapters.bytes == 0


def test_sixteen_bytes_per_parameter_and_its_breakdown():
    e = est("llama-3.1-70b")  # mixed bf16, AdamW
    P = LLAMA_P
    assert model_state_bytes(e) == 16 * P == (2 + 2 + 4 + 4 + 4) * P
    assert "2 weight + 2 gradient + 4 master + 4 + 4 AdamW state = 16 B" in e.optimizer.notes[0]
    assert est("llama-3.1-70b", precision="bf16").optimizer.notes[0].endswith("= 8 B.")
    assert est("llama-3.1-70b", precision="fp32").optimizer.notes[0].endswith("= 16 B.")


def test_adam_8bit_by_hand():
    # bitsandbytes Optimizer2State: tensors under 4,096 values keep fp32 m and v (8 B per value); the
    # rest keep uint8 m and v (2 B) plus one fp32 absmax each per 256 values, and the two 256-entry fp32
    # quantization maps (2,048 B) are shared. Qwen2.5-0.5B: norms (896) and the q/k/v biases
    # (896, 128, 128) are the small tensors.
    small = QWEN_SMALL
    big = [QV * QH] + QL * [k * n for k, n in QWEN_LINEARS]
    assert small + sum(big) == QWEN_P
    states = 2 * sum(big) + 2 * 4 * sum(ceil(n / 256) for n in big) + 8 * small + 2 * 256 * 4
    e = est("qwen2.5-0.5b", optimizer="adam8bit")
    assert e.optimizer.bytes == 4 * QWEN_P + states  # fp32 master copy + 8-bit states
    # the same figure is printed in the substituted formula
    assert f"= {states:,} B" in e.optimizer.substituted
    # per value of a large tensor 2 + 8/256 = 2.03125 B against AdamW's 8: about a quarter of AdamW's states
    adamw_states = est("qwen2.5-0.5b").optimizer.bytes - 4 * QWEN_P
    assert adamw_states == 8 * QWEN_P
    assert (e.optimizer.bytes - 4 * QWEN_P) / adamw_states == pytest.approx(2.03125 / 8, abs=1e-3)


def test_adafactor_by_hand():
    # transformers Adafactor defaults (beta1=None): no first moment; a matrix of torch shape (rows, cols)
    # keeps rows + cols fp32 values, a vector keeps itself. Qwen2.5-0.5B in torch shapes:
    matrices = [(QV, QH)] + QL * [(n, k) for k, n in QWEN_LINEARS]
    states = 4 * (sum(r + c for r, c in matrices) + QWEN_SMALL)
    e = est("qwen2.5-0.5b", optimizer="adafactor")
    assert e.optimizer.bytes == 4 * QWEN_P + states
    assert f"= {states:,} B" in e.optimizer.substituted


# ---------------------------------------------------------------- small model, each method

def qwen_layer_token_bytes(e=2, r=0, adapters=0):
    """Bytes per token one Qwen2.5-0.5B layer keeps: 2 norm inputs, attention and MLP inputs (e·h each);
    Q, K, V, attention output; gated MLP 4 × e·I; FlashAttention's fp32 log-sum-exp per head."""
    return (2 * e * QH + e * QH + e * QH + e * (QH + QKV + QKV + QH) + 4 * e * QI + 4 * QHEADS
            + adapters * e * r)


def qwen_logits(tokens, e=2):
    # final norm input + LM head input (e·h each); per vocabulary entry: logits e + fp32 log-probs 4 + fp32 grad 4
    return tokens * (e * QH + e * QH + QV * (e + 4 + 4))


def test_small_full_fine_tuning_by_hand():
    e = est("qwen2.5-0.5b", micro_batch=2, seq_len=1024, gpu="rtx-4090")
    tokens = 2 * 1024
    assert e.weights.bytes == 2 * QWEN_P == 988_065_536
    assert e.gradients.bytes == 2 * QWEN_P
    assert e.optimizer.bytes == 12 * QWEN_P == 5_928_393_216
    assert e.activations.bytes == QL * tokens * qwen_layer_token_bytes() + qwen_logits(tokens)
    assert qwen_layer_token_bytes() == 50_232
    assert e.activations.bytes == 2_469_003_264 + 3_118_989_312
    assert e.overhead.bytes == 512 * 2**20
    total = 16 * QWEN_P + 2_469_003_264 + 3_118_989_312 + 512 * 2**20
    assert e.total.bytes == e.per_gpu.total == total
    assert e.fit.fits and e.fit.headroom == e.fit.capacity - total


def test_small_lora_by_hand():
    # r = 8 on q, k, v, o: r·(in + out) each: q 8·(896+896), k and v 8·(896+128), o 8·(896+896)
    per_layer = 8 * (QH + QH) + 2 * 8 * (QH + QKV) + 8 * (QH + QH)
    A = QL * per_layer
    assert A == lora_parameters(est("qwen2.5-0.5b").model, ("q", "k", "v", "o"), 8) == 1_081_344
    e = est("qwen2.5-0.5b", method="lora", lora_rank=8, seq_len=1024)
    assert e.weights.bytes == 2 * QWEN_P  # frozen bf16 base
    assert e.adapters.bytes == 4 * A  # PEFT keeps adapters in fp32 under mixed precision
    assert e.gradients.bytes == 4 * A
    assert e.optimizer.bytes == 8 * A  # AdamW m and v in the adapters' fp32, no separate master copy
    # each adapted linear keeps its rank-8 intermediate: 4 adapters per layer
    assert e.activations.bytes == QL * 1024 * qwen_layer_token_bytes(r=8, adapters=4) + qwen_logits(1024)


def test_small_qlora_by_hand():
    sixteen_bit = QV * QH + QWEN_SMALL  # embedding, norms, biases
    base = QL * sum(nf4_dq(k, n) for k, n in QWEN_LINEARS) + 2 * sixteen_bit
    e = est("qwen2.5-0.5b", method="qlora", seq_len=1024, checkpointing="full")
    assert e.weights.bytes == base
    A = 1_081_344
    assert e.adapters.bytes == e.gradients.bytes == 4 * A and e.optimizer.bytes == 8 * A
    # full recomputation: each layer keeps its input (2·h per token); then the larger of one layer's
    # working set and the logits; plus one NF4 matrix dequantized to bf16 for its matmul (896 × 4,864)
    working = 1024 * qwen_layer_token_bytes(r=8, adapters=4)
    assert e.activations.bytes == QL * 1024 * 2 * QH + max(working, qwen_logits(1024)) + 2 * QH * QI
    assert e.total.bytes < est("qwen2.5-0.5b", method="lora", seq_len=1024, checkpointing="full").total.bytes


# ---------------------------------------------------------------- large model, each method

def llama_layer_token_bytes(e=2):
    # norms 2·e·h, attention and MLP inputs e·h each, Q (64 heads) K V (8 KV heads) and output, gated MLP
    # 4·e·I, fp32 log-sum-exp per head
    return 2 * e * LH + 2 * e * LH + e * (LH + LKV + LKV + LH) + 4 * e * LI + 4 * LHEADS


def test_large_full_zero3_over_64_gpus_by_hand():
    # 8 nodes of 8 H100s, ZeRO-3, mixed bf16 AdamW, 4,096-token sequences, full recomputation
    e = est("llama-3.1-70b", gpus=64, zero=3, seq_len=4096, checkpointing="full", gpu="h100-sxm")
    P, N = LLAMA_P, 64
    largest = LV * LH  # the embedding (DeepSpeed's largest single module) = 1,050,673,152
    d = e.per_gpu
    assert d.weights == ceil(2 * P / N) + 2 * largest  # own shard + the largest layer gathered in bf16
    assert d.gradients == ceil(2 * P / N) + 2 * largest
    assert d.optimizer == ceil(12 * P / N)
    assert d.weights + d.gradients + d.optimizer == 17_638_426_624 + 4 * largest
    tokens = 4096
    logits = tokens * (2 * LH + 2 * LH + LV * 10)
    working = tokens * llama_layer_token_bytes()
    assert logits == 5_387_583_488 and working == 1_360_003_072
    assert d.activations == LL * tokens * 2 * LH + max(working, logits)
    assert d.total == 17_638_426_624 + 4 * largest + 5_368_709_120 + 5_387_583_488 + 512 * 2**20
    assert e.fit.fits
    assert e.total.bytes == 64 * d.total


def test_large_lora_and_qlora_one_gpu_by_hand():
    P = LLAMA_P
    lora = est("llama-3.1-70b", method="lora", lora_rank=16, lora_modules="all", checkpointing="full")
    A = LL * sum(16 * (k + n) for k, n in LLAMA_LINEARS)
    assert A == 207_093_760
    assert lora.weights.bytes == 2 * P
    assert lora.adapters.bytes + lora.gradients.bytes + lora.optimizer.bytes == 16 * A
    assert not est("llama-3.1-70b", method="lora", gpu="a100-80gb").fit.fits  # 141 GB of bf16 base alone
    base = LL * sum(nf4_dq(k, n) for k, n in LLAMA_LINEARS) + 2 * (2 * LV * LH + LL * 2 * LH + LH)
    q = est("llama-3.1-70b", method="qlora", lora_rank=16, lora_modules="all", checkpointing="full",
            gpu="a100-80gb")
    assert q.weights.bytes == base
    # about 4.48 bits per parameter: 4.127 for the NF4 linears, 16 for the embedding and the LM head
    assert 4.45 < 8 * base / P < 4.5
    assert q.fit.fits  # QLoRA's point: a 70B model on one 80 GB GPU


def test_llama3_8b_lora_matches_peft_printout():
    # peft print_trainable_parameters() for Llama-3-8B, r=8, target q_proj and v_proj (PEFT's default for
    # llama), as printed in public notebooks: "trainable params: 3,407,872 || all params: 8,033,669,120"
    e = est("llama-3.1-8b", method="lora", lora_rank=8, lora_modules=("q", "v"))
    assert e.states.adapter_params == 3_407_872 == 32 * (8 * (4096 + 4096) + 8 * (4096 + 1024))
    assert e.parameters.total + e.states.adapter_params == 8_033_669_120


def test_moe_experts_get_one_adapter_each():
    spec = est("mixtral-8x7b").model
    attn = lora_parameters(spec, ("q", "k", "v", "o"), 8)
    assert attn == 32 * (8 * (4096 + 4096) + 2 * 8 * (4096 + 1024) + 8 * (4096 + 4096))
    mlp = lora_parameters(spec, ("gate", "up", "down"), 8)
    assert mlp == 32 * 8 * 3 * 8 * (4096 + 14336)  # layers × experts × 3 projections × r·(in + out)


# ---------------------------------------------------------------- sharding

@pytest.mark.parametrize("stage", [0, 1, 2, 3])
def test_zero_stages_by_hand(stage):
    P, N = QWEN_P, 4
    e = est("qwen2.5-0.5b", gpus=N, zero=stage)
    d = e.per_gpu
    largest = QV * QH
    assert d.optimizer == (ceil(12 * P / N) if stage >= 1 else 12 * P)
    assert d.gradients == (ceil(2 * P / N) if stage >= 2 else 2 * P) + (2 * largest if stage == 3 else 0)
    assert d.weights == (ceil(2 * P / N) if stage == 3 else 2 * P) + (2 * largest if stage == 3 else 0)


def test_zero3_can_cost_more_than_zero2_on_few_gpus_and_says_so():
    # Qwen2.5-0.5B: the tied embedding (136 M of 494 M values) is gathered whole. On 2 GPUs ZeRO-3 saves
    # half the bf16 weights (2P/2) but adds the embedding's bf16 weights and gradients (4 × 136 M):
    # 494,032,768 < 4 × 136,134,656 = 544,538,624, so ZeRO-3 holds more than ZeRO-2.
    z2, z3 = est("qwen2.5-0.5b", gpus=2, zero=2), est("qwen2.5-0.5b", gpus=2, zero=3)
    assert model_state_bytes(z3) - model_state_bytes(z2) == 4 * QV * QH - QWEN_P
    assert any("ZeRO-3 holds more than ZeRO-2" in n for n in z3.total.notes)
    # on 8 GPUs sharding wins
    assert est("qwen2.5-0.5b", gpus=8, zero=3).per_gpu.total < est("qwen2.5-0.5b", gpus=8, zero=2).per_gpu.total


def test_fsdp_maps_to_zero3():
    base = dict(gpus=16, gpus_per_node=8, seq_len=1024)
    z3 = est("llama-3.1-8b", zero=3, **base)
    full = est("llama-3.1-8b", fsdp="full", **base)
    assert full.per_gpu == z3.per_gpu
    assert "FSDP" in " ".join(full.total.notes)
    hybrid = est("llama-3.1-8b", fsdp="hybrid", **base)
    assert hybrid.sharding.shards == 8  # shards within the node, replicated over the 2 nodes
    assert hybrid.per_gpu == est("llama-3.1-8b", zero=3, gpus=8, seq_len=1024).per_gpu


def test_tensor_parallel_splits_matrices_and_activations():
    one = est("llama-3.1-8b", seq_len=1024)
    tp = est("llama-3.1-8b", seq_len=1024, gpus=4, tp=4)
    assert tp.sharding.dp == 1
    # norms stay whole on every rank, so a rank holds a little more than a quarter
    assert one.weights.bytes / 4 < tp.per_gpu.weights < one.weights.bytes / 4 * 1.001
    assert tp.per_gpu.activations < one.per_gpu.activations
    sp = est("llama-3.1-8b", seq_len=1024, gpus=4, tp=4, sequence_parallel=True)
    assert sp.per_gpu.activations < tp.per_gpu.activations


# ---------------------------------------------------------------- DeepSpeed's estimators

# deepspeedai/DeepSpeed @edaa7221, deepspeed/runtime/zero/stage_1_and_2.py estimate_zero2_model_states_mem_needs:
#     if cpu_offload: gpu_mem = 2 * total_params
#                     cpu_mem = total_params * max(4 * total_gpus, 16) * additional_buffer_factor
#     else:           gpu_mem = 2 * total_params + int(18 * total_params / total_gpus)
#                     cpu_mem = total_params * 4 * num_gpus_per_node * additional_buffer_factor
# ("18 = 2_grads_16bit + 4_grads_32bit + 4_params_32bit + 8_optimizer_states_32bit"). Before PR #5099
# (commit f4cb866c, 2024-06-04) the no-offload line read 4 * total_params + int(16 * total_params / total_gpus),
# the "4P + 16P/N" of issue 6.
# deepspeed/runtime/zero/stage3.py estimate_zero3_model_states_mem_needs:
#     largest_layer_memory = 4 * largest_layer_params
#     offload params + optimizer: gpu = largest_layer_memory
#     offload optimizer only:     gpu = largest_layer_memory + int(2 * total_params / total_gpus)
#     no offload:                 gpu = largest_layer_memory + int(18 * total_params / total_gpus)

GRID = [(1_000_000_007, 1, 1), (2_851_000_000, 8, 1), (70_553_706_496, 8, 8), (123_456_789, 3, 5)]


@pytest.mark.parametrize("P,per_node,nodes", GRID)
def test_deepspeed_zero2_formula(P, per_node, nodes):
    n = per_node * nodes
    assert deepspeed_zero2_estimate(P, per_node, nodes, cpu_offload=False) == (
        int(P * 4 * per_node * 1.5), 2 * P + int(18 * P / n))
    assert deepspeed_zero2_estimate(P, per_node, nodes, cpu_offload=False, before_pr5099=True)[1] == 4 * P + int(16 * P / n)
    assert deepspeed_zero2_estimate(P, per_node, nodes) == (int(P * max(4 * n, 16) * 1.5), 2 * P)


@pytest.mark.parametrize("P,per_node,nodes", GRID)
def test_deepspeed_zero3_formula(P, per_node, nodes):
    n, big = per_node * nodes, P // 50
    assert deepspeed_zero3_estimate(P, big, per_node, nodes, cpu_offload=False) == (
        int(big * 4 * per_node * 1.5), 4 * big + int(18 * P / n), 4 * big)
    assert deepspeed_zero3_estimate(P, big, per_node, nodes, cpu_offload=True, cpu_offload_params=False)[1] == \
        4 * big + int(2 * P / n)
    assert deepspeed_zero3_estimate(P, big, per_node, nodes)[1] == 4 * big


def test_deepspeed_documentation_examples():
    # docs/code-docs/source/memory.rst (@edaa7221) prints, for total_params=2851e6 on 1 node of 8 GPUs,
    # sizes divided by 2**30 with two decimals.
    P = int(2851e6)
    gib = lambda b: round(b / 2**30, 2)
    # ZeRO-3, largest_layer_params=32e6: 6.09 GB per GPU without offload (1.43 GB CPU with zero_init),
    # 0.78 GB offloading the optimizer (63.72 GB CPU), 0.12 GB offloading both (71.69 GB CPU).
    cpu, gpu, _ = deepspeed_zero3_estimate(P, int(32e6), 8, 1, cpu_offload=False)
    assert (gib(cpu), gib(gpu)) == (1.43, 6.09)
    cpu, gpu, _ = deepspeed_zero3_estimate(P, int(32e6), 8, 1, cpu_offload=True, cpu_offload_params=False)
    assert (gib(cpu), gib(gpu)) == (63.72, 0.78)
    cpu, gpu, _ = deepspeed_zero3_estimate(P, int(32e6), 8, 1)
    assert (gib(cpu), gib(gpu)) == (71.69, 0.12)
    # ZeRO-2: the page prints 15.93 GB per GPU without offload and 5.31 GB with it (127.45 GB CPU).
    # 15.93 is the formula before PR #5099; today's code gives 11.28: the page was not regenerated.
    cpu, gpu = deepspeed_zero2_estimate(P, 8, 1, cpu_offload=False, before_pr5099=True)
    assert (gib(cpu), gib(gpu)) == (127.45, 15.93)
    assert gib(deepspeed_zero2_estimate(P, 8, 1, cpu_offload=False)[1]) == 11.28
    assert gib(deepspeed_zero2_estimate(P, 8, 1)[1]) == 5.31


# Published exact parameter counts (HF safetensors totals, as in test_parameters.OFFICIAL) and the input
# embedding, vocab × hidden from each config.json.
PUBLISHED = {"llama-3.1-8b": 8_030_261_248, "qwen2.5-7b": 7_615_616_512, "llama-3.1-70b": 70_553_706_496}
EMBEDDING = {"llama-3.1-8b": 128_256 * 4096, "qwen2.5-7b": 152_064 * 3584, "llama-3.1-70b": 128_256 * 8192}


@pytest.mark.parametrize("model,N", [("llama-3.1-8b", 8), ("qwen2.5-7b", 4), ("llama-3.1-70b", 64)])
def test_our_zero_model_states_against_deepspeed(model, N):
    # ZeRO-2: we hold 2P + 2P/N + 12P/N (the ZeRO paper's 16 B per parameter); DeepSpeed's estimator holds
    # 2P + 18P/N: the 4P/N apart is the fp32 gradient partition it makes for the optimizer step.
    z2 = est(model, gpus=N, zero=2)
    P = PUBLISHED[model]
    assert z2.states.trainable == P
    _, ds2 = deepspeed_zero2_estimate(P, N, cpu_offload=False)
    assert model_state_bytes(z2) == 2 * P + ceil(2 * P / N) + ceil(12 * P / N)
    assert abs(ds2 - model_state_bytes(z2) - 4 * P / N) <= 3
    # ZeRO-3: we hold 16P/N + the largest layer's bf16 parameters and gradients (4 B per value, as
    # DeepSpeed); DeepSpeed's estimator charges 18P/N.
    z3 = est(model, gpus=N, zero=3)
    big = EMBEDDING[model]  # the largest single module: the input embedding, vocab × hidden
    assert z3.states.largest_layer == big
    _, ds3, ll = deepspeed_zero3_estimate(P, big, N, cpu_offload=False)
    assert ll == 4 * big
    assert model_state_bytes(z3) == ceil(2 * P / N) * 2 + ceil(12 * P / N) + 4 * big
    assert abs(ds3 - model_state_bytes(z3) - 2 * P / N) <= 3
    assert "DeepSpeed's estimator gives" in " ".join(z3.total.notes)


# ---------------------------------------------------------------- Korthikanti et al.

# arXiv:2205.05198, Table 3 (transcribed): model, attention heads a, hidden size h, layers, tensor parallel t,
# micro-batch b; sequence length 2048 for all.
PAPER_MODELS = {
    "22B": (64, 6144, 48, 8, 4),
    "175B (GPT-3)": (96, 12288, 96, 8, 1),
    "530B (MT-NLG)": (128, 20480, 105, 8, 1),
    "1T": (160, 25600, 128, 8, 1),
}
S = 2048


def paper_spec(a, h, layers):
    """A GPT-3-style layer as the paper assumes: MHA, plain GeLU MLP of 4h, LayerNorm with bias."""
    return ModelSpec(name="paper", arch="gpt", vocab_size=51200, hidden_size=h, num_layers=layers, num_heads=a,
                     num_kv_heads=a, head_dim=h // a, intermediate_size=4 * h, max_context=S, gated_mlp=False,
                     norm_bias=True, qkv_bias=True, o_bias=True, mlp_bias=True, tie_embeddings=True)


def test_korthikanti_table2_by_hand():
    # 175B: s = 2048, b = 1, h = 12,288, a = 96, t = 8
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    sbh = s * b * h  # 25,165,824
    assert 5 * a * s / h == 80  # the paper's 5as/h for GPT-3
    assert korthikanti_layer_bytes(s, b, h, a) == sbh * (34 + 80) == 2_868_903_936
    assert korthikanti_layer_bytes(s, b, h, a, t) == sbh * (10 + 24 / 8 + 80 / 8) == 578_813_952
    assert korthikanti_layer_bytes(s, b, h, a, t, sequence_parallel=True) == sbh * (34 + 80) / 8
    assert korthikanti_layer_bytes(s, b, h, a, t, recompute="selective") == sbh * (10 + 24 / 8)
    assert korthikanti_layer_bytes(s, b, h, a, t, True, "selective") == sbh * 34 / 8 == 106_954_752
    assert korthikanti_layer_bytes(s, b, h, a, t, recompute="full") == 2 * sbh


@pytest.mark.parametrize("name", sorted(PAPER_MODELS))
def test_korthikanti_reduction_for_the_papers_models(name):
    a, h, layers, t, b = PAPER_MODELS[name]
    baseline = korthikanti_layer_bytes(S, b, h, a, t)  # tensor parallel only
    both = korthikanti_layer_bytes(S, b, h, a, t, True, "selective")  # + sequence parallel + selective
    # the abstract: "reduces activation memory by 5x"; per layer 4.9× (530B, 1T) to 6.2× (22B)
    assert 4.9 < baseline / both < 6.3
    # selective recomputation alone removes the attention core: 5as/h of 34 + 5as/h
    none = korthikanti_layer_bytes(S, b, h, a)
    selective = korthikanti_layer_bytes(S, b, h, a, recompute="selective")
    assert 1 - selective / none == pytest.approx((5 * a * S / h) / (34 + 5 * a * S / h))


@pytest.mark.parametrize("name", sorted(PAPER_MODELS))
@pytest.mark.parametrize("t,sp,recompute", [(1, False, "none"), (1, False, "selective"), (1, False, "full"),
                                            (8, False, "none"), (8, False, "selective"), (8, True, "none"),
                                            (8, True, "selective"), (8, False, "full")])
def test_our_layer_formula_is_the_papers_for_its_models(name, t, sp, recompute):
    # With the paper's assumptions (MHA, MLP 4h, dropout on, eager attention, 16-bit), our per-layer
    # accounting from the model's widths gives the paper's Table 2 exactly.
    a, h, layers, _, b = PAPER_MODELS[name]
    ours = layer_activation_bytes(paper_spec(a, h, layers), b, S, tp=t, sequence_parallel=sp, recompute=recompute,
                                  flash_attention=False, dropout=True)
    assert ours == korthikanti_layer_bytes(S, b, h, a, t, sp, recompute)


def test_where_we_part_from_the_paper():
    a, h, layers, t, b = PAPER_MODELS["175B (GPT-3)"]
    spec = paper_spec(a, h, layers)
    paper = korthikanti_layer_bytes(S, b, h, a)
    # FlashAttention: the a·s² core becomes a float32 log-sum-exp per head and token
    flash = layer_activation_bytes(spec, b, S, flash_attention=True, dropout=True)
    assert flash == paper - 5 * a * S * S * b + 4 * a * S * b
    # no dropout (fine-tuning configs): no 1-byte masks (2·sbh), and the core keeps only the softmax output
    nodrop = layer_activation_bytes(spec, b, S, flash_attention=False, dropout=False)
    assert nodrop == paper - 2 * S * b * h - 3 * a * S * S * b
    # full recomputation with sequence parallelism: Megatron keeps the layer input split along the sequence
    assert layer_activation_bytes(spec, b, S, tp=8, sequence_parallel=True, recompute="full") == 2 * S * b * h // 8


def test_gated_mlp_and_gqa_adaptation():
    # Llama 3.1 8B: SwiGLU keeps gate output, up output, SiLU output and their product (4 × e·I), and
    # K/V are 8 heads of 128 (fused attention); the paper's form would assume 4h = 16,384 and full K/V.
    spec = est("llama-3.1-8b").model
    per_token = 4 * 2 * 4096 + 2 * (4096 + 1024 + 1024 + 4096) + 4 * 2 * 14336 + 4 * 32
    assert layer_activation_bytes(spec, 1, 4096) == 4096 * per_token
    # eager attention expands K and V to every head (repeat_kv) and materialises the scores
    eager = layer_activation_bytes(spec, 1, 4096, flash_attention=False)
    assert eager == 4096 * (per_token - 4 * 32 + 2 * 2 * (4096 - 1024) + 32 * 4096 * 2)


# ---------------------------------------------------------------- inverse answers

def test_max_micro_batch_is_tight():
    ts = TrainingScenario("qwen2.5-0.5b", method="lora", seq_len=2048, gpu="rtx-4090")
    b = max_micro_batch(ts).value
    assert b and estimate_training(ts.with_(micro_batch=b)).fit.fits
    assert not estimate_training(ts.with_(micro_batch=b + 1)).fit.fits
    assert max_micro_batch(ts.with_(model="llama-3.1-70b", method="full")).value is None


def test_cheapest_setup():
    # Llama 3.1 8B on 24 GB cards: QLoRA fits one GPU; full fine-tuning needs ZeRO-3 over several.
    ts = TrainingScenario("llama-3.1-8b", seq_len=1024, checkpointing="full", gpu="rtx-4090")
    ans = cheapest_setup(ts)
    assert ans.value.method == "qlora" and ans.value.gpus == 1
    found = {m: n for m, n, _ in ans.value.alternatives}
    assert found["lora"] == 1 and found["full"] > 1
    n = found["full"]
    assert estimate_training(ts.with_(gpus=n, zero=3)).fit.fits
    assert not estimate_training(ts.with_(gpus=n - 1, zero=3 if n > 2 else 0)).fit.fits
    with pytest.raises(InputError) as err:
        cheapest_setup(ts.with_(gpu=""))
    assert err.value.field == "gpu"


# ---------------------------------------------------------------- output

def test_training_dict_contract():
    d = training_dict(est("llama-3.1-8b", method="lora", gpus=2, zero=2, gpu="a100-80gb"))
    for key in ("weights", "gradients", "optimizer", "activations", "adapters", "overhead", "total"):
        assert isinstance(d[key]["bytes"], int)
        assert d[key]["formula"] and d[key]["substituted"] and d[key]["source"]
    assert [i["key"] for i in d["items"]] == ["weights", "gradients", "optimizer", "activations", "adapters", "overhead"]
    assert sum(i["bytes"] for i in d["items"]) == d["total"]["bytes"]
    assert len(d["devices"]) == 2 and d["devices"][0]["total"] * 2 == d["total"]["bytes"]
    assert d["fit"]["fits"] is True
    import json
    json.dumps(d)  # plain data
    text = training_table(est("llama-3.1-8b", gpu="rtx-4090"))
    assert "Does not fit" in text and "per GPU" in text


def test_model_states_are_cached():
    spec = est("llama-3.1-8b").model
    assert model_states(spec, "full", "mixed_bf16", "adamw") is model_states(spec, "full", "mixed_bf16", "adamw")


# ---------------------------------------------------------------- bad input

BAD_COUNTS = [0, -1, 1.5, float("nan"), float("inf"), "8", None, True, 10**30]


@pytest.mark.parametrize("field", ["micro_batch", "seq_len", "gpus", "tp", "lora_rank", "gpus_per_node"])
@pytest.mark.parametrize("value", BAD_COUNTS)
def test_bad_counts(field, value):
    with pytest.raises(InputError) as err:
        TrainingScenario("llama-3.1-8b", **{field: value})
    assert err.value.field == field


@pytest.mark.parametrize("field,value", [
    ("method", "dora"), ("precision", "fp8"), ("optimizer", "lion"), ("checkpointing", "some"), ("fsdp", "shard"),
    ("zero", 4), ("zero", -1), ("lora_modules", "q,x"), ("lora_modules", ""), ("lora_modules", []),
    ("lora_alpha", 0), ("lora_alpha", float("nan")), ("flash_attention", "yes"), ("dropout", 1),
    ("qlora_double_quant", None), ("gpu", 5), ("overhead_bytes", -1), ("gpu_memory_bytes", 0), ("model", 3)])
def test_bad_values(field, value):
    with pytest.raises(InputError) as err:
        TrainingScenario(**{"model": "llama-3.1-8b", field: value})
    assert err.value.field == ("overhead" if field == "overhead_bytes" else
                               "gpu_memory" if field == "gpu_memory_bytes" else field)


def test_bad_combinations():
    with pytest.raises(InputError) as err:
        TrainingScenario("llama-3.1-8b", gpus=6, tp=4)
    assert err.value.field == "tp"
    with pytest.raises(InputError) as err:
        TrainingScenario("llama-3.1-8b", gpus=8, zero=3, fsdp="full")
    assert err.value.field == "fsdp"
    with pytest.raises(InputError) as err:  # 32 heads do not split over 3 ranks
        est("llama-3.1-8b", gpus=3, tp=3)
    assert err.value.field == "tp"
    with pytest.raises(InputError) as err:  # Phi-3 has no separate gate: "gate" adapts its fused gate_up, but
        est("pythia-1.4b", method="lora", lora_modules=("gate",))  # GPT-NeoX has no gate at all
    assert err.value.field == "lora_modules"
    with pytest.raises(InputError) as err:
        est("no-such-model")
    assert err.value.field == "model"
    with pytest.raises(InputError) as err:
        est("llama-3.1-8b", gpu="rtx-9999")
    assert err.value.field == "gpu"


def test_names_are_normalised():
    ts = TrainingScenario("llama-3.1-8b", method=" LoRA ", lora_modules="v,Q", precision="BF16", micro_batch=2.0)
    assert (ts.method, ts.lora_modules, ts.precision, ts.micro_batch) == ("lora", ("q", "v"), "bf16", 2)
    assert TrainingScenario("llama-3.1-8b", lora_modules="all").lora_modules == ("q", "k", "v", "o", "gate", "up", "down")
