"""The seed's worked examples: its formulas evaluated here by hand, its printed errors flagged."""
from pycore.seed import worked_examples
from pycore.units import GB, GiB

EXAMPLES = {w.id: w for w in worked_examples()}


def test_weights_by_the_seed_formula():
    # params × bytes with the seed's round counts: 70B × 4/2/1/0.5 B and 8B × the same
    for fmt, b in (("fp32", 4), ("fp16", 2), ("int8", 1), ("int4", 0.5)):
        assert EXAMPLES[f"weights-llama-2-70b-{fmt}"].seed_bytes == 70e9 * b
        assert EXAMPLES[f"weights-llama-3-8b-{fmt}"].seed_bytes == 8e9 * b


def test_weights_exact_use_the_real_parameter_count():
    # Llama 2 70B has 68,976,648,192 parameters (together-python pcount): FP16 = 137,953,296,384 B,
    # 128.48 GiB, not "140 GB" of GPU memory.
    w = EXAMPLES["weights-llama-2-70b-fp16"]
    assert w.exact_bytes == 68_976_648_192 * 2
    assert round(w.exact_bytes / GiB, 2) == 128.48


def test_llama2_70b_kv_example_is_80_gib_not_32_gb():
    # 2 × B × S × H × L × bytes = 2 × 1 × 32,768 × 8,192 × 80 × 2 = 85,899,345,920 B = 80 GiB.
    # The seed prints 32 GB: an arithmetic error. With GQA (8 KV heads of 64) the real cache is 1/8.
    w = EXAMPLES["kv-llama-2-70b-32768"]
    assert w.seed_bytes == 2 * 1 * 32768 * 8192 * 80 * 2 == 80 * GiB
    assert w.seed_printed == "32 GB" and w.seed_bytes != 32 * GB
    assert w.exact_bytes == 10 * GiB
    assert "arithmetic error" in w.verdict


def test_llama3_8b_kv_example():
    w = EXAMPLES["kv-llama-3-8b-8192"]
    assert w.seed_bytes == 2 * 8192 * 4096 * 32 * 2 == 4 * GiB
    assert w.exact_bytes == 1 * GiB  # 8 KV heads of 32


def test_activation_examples():
    assert EXAMPLES["activations-llama-2-70b-4096"].seed_bytes == 4096 * 8192 * 80 * 2
    assert EXAMPLES["activations-llama-3-8b-8192"].seed_bytes == 8192 * 4096 * 32 * 2
    # vLLM's profiling peak is one layer's intermediates or the sampler over max_num_seqs rows, far below
    # the seed's every-layer figure (Llama 3 8B: 1.26 GiB logged in vllm-project/vllm#10511, seed 2 GiB)
    assert EXAMPLES["activations-llama-2-70b-4096"].exact_bytes < EXAMPLES["activations-llama-2-70b-4096"].seed_bytes / 4
    assert EXAMPLES["activations-llama-3-8b-8192"].exact_bytes < EXAMPLES["activations-llama-3-8b-8192"].seed_bytes / 1.5


def test_total_examples_add_up():
    w = EXAMPLES["total-llama-3-8b-fp16-8192"]
    assert w.seed_bytes == 16 * GB + 2 * 8192 * 4096 * 32 * 2 + 8192 * 4096 * 32 * 2 + 2 * GB


def test_q4_k_m_is_not_4_bits():
    w = EXAMPLES["weights-llama-3-8b-q4_k_m"]
    assert w.seed_bytes == 4 * GB
    assert 4.85 < 8 * w.exact_bytes / 8_030_261_248 < 4.95
