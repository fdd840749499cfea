"""Hybrid and recurrent models in the real llama.cpp (llama-cpp-python 0.3.36, llama.cpp
0c1e57098bba43ac29e6e3b677cdceebdd22334f, built from source): GGUF files with real shapes and zero weights,
loaded CPU only at several settings; what it prints must be what pycore predicts.

Eight layer mixes, one file each, the loaders of src/models/<arch>.cpp at that commit:

- qwen35: Gated DeltaNet × 3 + gated full attention (Qwen3.5; the layout from full_attention_interval,
  one head_count_kv figure, as convert_hf_to_gguf.py Qwen3NextModel writes it);
- qwen3next: the same with routed experts and a gated shared expert (Qwen3-Next);
- falcon_h1: attention and Mamba-2 side by side in every block (a KV cache and a state in every layer);
- lfm2: short convolutions + attention (LFM2; per-layer head_count_kv, 0 for a convolution);
- jamba: Mamba-1 + attention, MoE every other layer;
- nemotron_h: Mamba-2 (8 groups) + attention + FFN-only blocks (per-layer head_count_kv and
  feed_forward_length, 0 where a block has none: llama.cpp caches KV only for the blocks with heads and no
  FFN, and state only for the blocks with neither);
- granitehybrid: Mamba-2 + attention with routed and shared experts (Granite 4.0-H);
- mamba2: Mamba-2 only (no KV cache at all).

Checked per setting (context, n_ubatch, flash attention, q8_0 cache, sequences n_seq_max, which multiplies
the recurrent state):

- the attention KV cache (`llama_kv_cache: size = …`): cells, layers and MiB, to the printed digit;
- the recurrent memory (`llama_memory_recurrent: size = … (N cells, L layers, …), R (f32): …, S (f32): …`):
  total, R (conv) and S (ssm) MiB to the printed digit, one cell per sequence, L = the model's n_layer;
- the output buffer, to the printed digit; host weights (`CPU_Mapped`), to the MiB;
- the GGUF importer reading the same file back: same layer kinds, same KV and state bytes;
- the CPU compute buffer: as printed (ggml-alloc replayed over llama.cpp's graph, REPLAYED).
"""
import pytest

from llama_cpp_logs import available, run_llama_cpp
from llama_cpp_models import write_llama_cpp_gguf
from pycore.engines import llamacpp
from pycore.importers.gguf import import_gguf
from pycore.importers.reader import BytesReader
from pycore.memory import estimate
from pycore.models import (FULL, GATED_DELTANET, MAMBA, MAMBA2, NO_MIXER, PARALLEL_HYBRID, SHORT_CONV, ModelSpec,
                           attention_layers, state_layers)
from pycore.scenario import Scenario
from pycore.units import MiB

assert available(), "llama-cpp-python is not installed: pip install -r requirements-dev.txt"

# 1,024-wide blocks and an 8,192-token vocabulary keep the files small (the buffers checked depend on the
# widths, not on the number of layers); the mixers keep the widths of real checkpoints.
BLOCK = dict(vocab_size=8192, hidden_size=1024, max_context=32768)

MODELS = {
    # Qwen3.5's Gated DeltaNet widths (Qwen/Qwen3.5-9B config.json, the qwen3.5-9b preset: 16 key heads and
    # 32 value heads of 128, conv kernel 4) and its gated attention (heads of 256, 2 KV heads here)
    "qwen35": ModelSpec(name="qwen35-hybrid", arch="qwen35", num_layers=4, num_heads=8, num_kv_heads=2, head_dim=256,
                        intermediate_size=3584, qk_norm=True, attn_output_gate=True, norms_per_layer=2,
                        layer_types=(GATED_DELTANET,) * 3 + (FULL,), linear_num_key_heads=16,
                        linear_num_value_heads=32, linear_key_head_dim=128, linear_value_head_dim=128,
                        linear_conv_kernel=4, **BLOCK),
    # LFM2-350M's block (LiquidAI/LFM2-350M config.json, the lfm2-350m preset): 16 heads, 8 KV heads of 64,
    # FFN 4,608, conv L_cache 3
    "lfm2": ModelSpec(name="lfm2-hybrid", arch="lfm2", num_layers=5, num_heads=16, num_kv_heads=8, head_dim=64,
                      intermediate_size=4608, qk_norm=True, tie_embeddings=True, norms_per_layer=2,
                      layer_types=(SHORT_CONV, SHORT_CONV, FULL, SHORT_CONV, FULL), conv_l_cache=3, **BLOCK),
    # Jamba's Mamba-1 mixer (d_state 16, d_conv 4, the Δ/B/C norms), expand 2
    "jamba": ModelSpec(name="jamba-hybrid", arch="jamba", num_layers=4, num_heads=8, num_kv_heads=2, head_dim=128,
                       intermediate_size=2048, norms_per_layer=2, layer_types=(MAMBA, MAMBA, FULL, MAMBA),
                       ssm_d_inner=2048, ssm_d_state=16, ssm_d_conv=4, ssm_dt_rank=64, ssm_inner_norms=True,
                       num_experts=4, experts_per_token=2, expert_intermediate_size=2048,
                       ffn_types=("dense", "moe") * 2, **BLOCK),
    # Nemotron-H's Mamba-2 (nvidia/Nemotron-H-8B-Base-8K config.json, the nemotron-h-8b preset: d_state 128,
    # 8 groups, heads of 64), its squared-ReLU FFN blocks and attention blocks
    "nemotron_h": ModelSpec(name="nemotron-h-hybrid", arch="nemotron_h", num_layers=5, num_heads=8, num_kv_heads=2,
                            head_dim=128, intermediate_size=4096, gated_mlp=False, norms_per_layer=2,
                            layer_types=(MAMBA2, NO_MIXER, FULL, NO_MIXER, MAMBA2),
                            ffn_types=("none", "dense", "none", "dense", "none"),
                            ssm_d_inner=2048, ssm_d_state=128, ssm_d_conv=4, ssm_n_groups=8, ssm_num_heads=32, **BLOCK),
    # Qwen3-Next: the same Gated DeltaNet (Qwen/Qwen3-Next-80B-A3B-Instruct config.json, the qwen3-next-80b-a3b
    # preset) with a gated shared expert beside routed experts of 512 (8 experts here, not 512)
    "qwen3next": ModelSpec(name="qwen3next-hybrid", arch="qwen3next", num_layers=4, num_heads=8, num_kv_heads=2,
                           head_dim=256, intermediate_size=0, qk_norm=True, attn_output_gate=True, norms_per_layer=2,
                           layer_types=(GATED_DELTANET,) * 3 + (FULL,), linear_num_key_heads=16,
                           linear_num_value_heads=32, linear_key_head_dim=128, linear_value_head_dim=128,
                           linear_conv_kernel=4, num_experts=8, experts_per_token=2, expert_intermediate_size=512,
                           shared_expert_intermediate_size=512, shared_expert_gate=True, **BLOCK),
    # Falcon-H1: attention and Mamba-2 side by side in every block, so every layer keeps both a KV cache and a
    # state (src/llama-model.cpp create_memory: filter_attn and filter_recr both true for LLM_ARCH_FALCON_H1)
    "falcon_h1": ModelSpec(name="falcon-h1-hybrid", arch="falcon-h1", num_layers=3, num_heads=8, num_kv_heads=2,
                           head_dim=128, intermediate_size=2048, norms_per_layer=2, layer_types=(PARALLEL_HYBRID,) * 3,
                           ssm_d_inner=2048, ssm_d_state=128, ssm_d_conv=4, ssm_n_groups=1, ssm_num_heads=32,
                           **BLOCK),
    # Granite 4.0-H (model_type granitemoehybrid): Mamba-2 + attention, every block with routed experts and a
    # shared expert (8 experts of 512 here, the layout of tests/test_hybrid.py's granite reader test)
    "granitehybrid": ModelSpec(name="granite-h-hybrid", arch="granitehybrid", num_layers=4, num_heads=8,
                               num_kv_heads=2, head_dim=128, intermediate_size=0, norms_per_layer=2,
                               layer_types=(MAMBA2, MAMBA2, FULL, MAMBA2), num_experts=8, experts_per_token=2,
                               expert_intermediate_size=512, shared_expert_intermediate_size=1024, ssm_d_inner=2048,
                               ssm_d_state=128, ssm_d_conv=4, ssm_n_groups=1, ssm_num_heads=32, **BLOCK),
    # Mamba-2 alone (state-spaces/mamba2-370m's mixer: d_model 1,024, expand 2, heads of 64, d_state 128, 1 group)
    "mamba2": ModelSpec(name="mamba2-only", arch="mamba2", num_layers=2, num_heads=1, num_kv_heads=1, head_dim=64,
                        intermediate_size=0, layer_types=(MAMBA2,) * 2, ffn_types=("none",) * 2,
                        ssm_d_inner=2048, ssm_d_state=128, ssm_d_conv=4, ssm_n_groups=1, ssm_num_heads=32, **BLOCK),
}

# Keys a loader requires beyond tests/gguf_files.converter_metadata: Nemotron-H reads the LayerNorm epsilon
# of its MTP head's final norm unconditionally (src/models/nemotron-h.cpp LLM_KV_ATTENTION_LAYERNORM_EPS).
# Granite's converter writes feed_forward_length from the config's intermediate_size, which in a granitemoe
# config is the expert width (convert_hf_to_gguf.py GraniteMoeModel, ggml-org/llama.cpp@a458664: the base
# class's keys plus expert_shared_feed_forward_length), and its loader sizes the expert tensors with it
# (src/models/granite-hybrid.cpp: ffn_up_exps {n_embd, n_ff, n_expert}).
EXTRA_KEYS = {"nemotron_h": [lambda w: w.add_layer_norm_eps(1e-5)],
              "granitehybrid": [lambda w: w.add_feed_forward_length(512)]}

# (n_ctx as llama.cpp's --ctx-size, i.e. sequences × context; n_ubatch; flash attention; n_seq_max; cache type)
SETTINGS = [
    dict(n_ctx=4096, n_ubatch=512, flash_attn="off"),
    dict(n_ctx=4096, n_ubatch=512, flash_attn="on", type_k="q8_0", type_v="q8_0"),
    dict(n_ctx=3000, n_ubatch=512, flash_attn="auto", n_seq_max=3),
    dict(n_ctx=8192, n_ubatch=1024, n_batch=1024, flash_attn="on", n_seq_max=2),
    dict(n_ctx=16384, n_ubatch=256, flash_attn="off", n_seq_max=4),
]

# The CPU compute buffer: for every layer mix, ggml-alloc is replayed over llama.cpp's own graph
# (pycore/engines/ggml_alloc.py, llamacpp_graph.py: qwen35 for Qwen3.5 and Qwen3-Next, jamba, falcon-h1, lfm2,
# nemotron_h, granitehybrid, mamba2), with a q8_0 cache's Hadamard rotations of Q, K, V and the attention
# output (src/llama-graph.cpp build_attn, src/llama-impl.h llama_mul_mat_hadamard), and the figure must be
# the printed one at every setting. Before these builders the peak model of an attention + FFN block (MiB,
# ours/printed, in the order of SETTINGS) left out the recurrent mixers' own intermediates:
#   qwen35      80.01/92.02, 29.01/58.47, 28.01/57.69, 66.02/124.41, 148.01/154.01
#   qwen3next   80.01/94.04, 18.00/60.31, 18.00/75.46, 40.02/128.09, 148.01/155.02
#   falcon_h1   78.01/85.01, 20.01/34.71, 19.01/37.72, 48.02/81.21, 147.01/150.50
#   jamba       78.01/81.01, 32.03/34.11, 31.03/33.10, 72.05/76.06, 147.01/148.50
REPLAYED = ("lfm2", "nemotron_h", "granitehybrid", "mamba2", "qwen35", "qwen3next", "jamba", "falcon_h1")


@pytest.fixture(scope="module", params=list(MODELS))
def run(request, tmp_path_factory):
    name = request.param
    path = tmp_path_factory.mktemp("llama_hybrid") / f"{name}.gguf"
    write_llama_cpp_gguf(path, MODELS[name], EXTRA_KEYS.get(name, ()))
    model, printed = run_llama_cpp(str(path), SETTINGS)
    return name, path, model, printed


def _scenario(spec, case):
    seqs = case.get("n_seq_max", 1)
    return Scenario(spec, weights="F16", engine="llama.cpp", batch=seqs, context=case["n_ctx"] // seqs,
                    flash_attn=case["flash_attn"], ubatch=case["n_ubatch"], ngl=0, kv=case.get("type_k", "f16"))


def test_kv_cache_as_printed(run):
    name, _, _, printed = run
    for case, p in zip(SETTINGS, printed):
        caches = estimate(_scenario(MODELS[name], case)).engine_plan.caches
        assert [(cells, layers) for _, cells, layers, _ in caches] == [(c, l) for _, c, l in p.kv], (name, case)
        for (_, _, _, size), (mib, _, _) in zip(caches, p.kv):
            assert round(size / MiB, 2) == mib, (name, case, size / MiB, mib)


def test_recurrent_state_as_printed(run):
    name, _, _, printed = run
    spec = MODELS[name]
    for case, p in zip(SETTINGS, printed):
        seqs = case.get("n_seq_max", 1)
        e = estimate(_scenario(spec, case))
        r, s = llamacpp.recurrent_state(spec, seqs)
        [state] = p.states
        assert (state["cells"], state["layers"], state["seqs"]) == (seqs, spec.num_layers, seqs), (name, case)
        assert (state["r_type"], state["s_type"]) == ("f32", "f32")
        assert (round(r / MiB, 2), round(s / MiB, 2)) == (state["r_mib"], state["s_mib"]), (name, case, r, s)
        assert round(e.engine_plan.host.state / MiB, 2) == state["mib"] == p.rs_buffers["CPU"], (name, case)
        assert e.state.bytes == r + s  # the estimate's state line is that memory
        line = next(x for x in e.engine_plan.log if "llama_memory_recurrent: size" in x)
        printed_line = next(x for x in p.text.splitlines() if "llama_memory_recurrent: size" in x)
        assert printed_line.endswith(line.split("llama_memory_recurrent: ", 1)[1]), (line, printed_line)


def test_recurrent_state_by_hand():
    # Qwen3.5 block, 3 sequences: per Gated DeltaNet layer R = (4 − 1) × (2 × 16 × 128 + 32 × 128) = 24,576 and
    # S = 32 × 128 × 128 = 524,288 values (src/llama-hparams.cpp n_embd_r / n_embd_s with ssm_d_inner 4,096,
    # ssm_n_group 16, ssm_d_state 128), f32, 3 layers, 3 rows
    r, s = llamacpp.recurrent_state(MODELS["qwen35"], 3)
    assert (r, s) == (3 * 3 * 24576 * 4, 3 * 3 * 524288 * 4)
    # Nemotron-H block: R = 3 × (2,048 + 2 × 8 × 128) = 12,288, S = 2,048 × 128 = 262,144 per Mamba-2 layer, 2 layers
    assert llamacpp.recurrent_state(MODELS["nemotron_h"], 1) == (2 * 12288 * 4, 2 * 262144 * 4)
    # LFM2: R = 1,024 × (3 − 1) per convolution layer, no S; 3 layers, 4 sequences
    assert llamacpp.recurrent_state(MODELS["lfm2"], 4) == (4 * 3 * 2048 * 4, 0)


def test_output_buffer_as_printed(run):
    name, _, _, printed = run
    for case, p in zip(SETTINGS, printed):
        predicted = llamacpp.output_buffer(MODELS[name], case.get("n_seq_max", 1))
        assert round(predicted / MiB, 2) == p.output["CPU"], (name, case)


def test_host_weights_as_printed(run):
    name, _, model, _ = run
    e = estimate(_scenario(MODELS[name], SETTINGS[0]))
    assert abs(e.host.weights / MiB - model["CPU_Mapped"]) < 1, (name, e.host.weights / MiB, model)


def test_the_importer_reads_the_same_file_back(run):
    # write with gguf → import with pycore → estimate → what llama.cpp printed
    name, path, model, printed = run
    spec = MODELS[name]
    imported = import_gguf(BytesReader(path.read_bytes()))
    got = imported.spec
    # every tensor of the file is one the architecture lists (names and shapes as llama.cpp loads them)
    assert any("accounts for every one of the file's" in n for n in imported.notes), imported.notes
    assert got.layer_types == spec.layer_types
    assert attention_layers(got) == attention_layers(spec) and state_layers(got) == state_layers(spec)
    for case, p in zip(SETTINGS, printed):
        seqs = case.get("n_seq_max", 1)
        s = Scenario(got, weights="file", engine="llama.cpp", batch=seqs, context=case["n_ctx"] // seqs,
                     flash_attn=case["flash_attn"], ubatch=case["n_ubatch"], ngl=0, kv=case.get("type_k", "f16"))
        e = estimate(s)
        assert [round(b / MiB, 2) for *_, b in e.engine_plan.caches] == [mib for mib, _, _ in p.kv], (name, case)
        assert round(e.engine_plan.host.state / MiB, 2) == p.states[0]["mib"], (name, case)
    assert abs(e.host.weights / MiB - model["CPU_Mapped"]) < 1, (name, e.host.weights / MiB, model)


def test_compute_buffer_as_printed(run):
    name, _, _, printed = run
    rows = []
    for case, p in zip(SETTINGS, printed):
        e = estimate(_scenario(MODELS[name], case))
        rows.append((case, round(e.engine_plan.host.compute / MiB, 2), p.compute["CPU"]))
        if name in REPLAYED and case.get("type_k") == "q8_0":  # the Hadamard rotations are replayed: no note
            assert not any("Hadamard" in n for n in e.engine_plan.notes), name
    for case, ours, printed_mib in rows:
        assert ours == printed_mib, f"{name}: ours vs printed (MiB): {rows}"


def test_state_and_kv_follow_their_layers_device():
    # src/llama-memory-recurrent.cpp and llama-kv-cache.cpp: with offload (the default, offload_kqv) each layer's R/S
    # rows and K/V cells live in the buffer of the device its layer is on (model.dev_layer(il)). Qwen3.5 block,
    # --ngl 3 of 5 (4 blocks + output): i_gpu_start = 5 − 3 = 2, so Gated DeltaNet blocks 0-1 stay on the CPU,
    # block 2 (Gated DeltaNet) and block 3 (attention) and the output go to the GPU. 2 sequences of 2,048 tokens:
    # per GDN layer and sequence (24,576 + 524,288) × 4 B = 2,195,456 B; the attention layer 4,096 cells × 2 × 2
    # KV heads × 256 × 2 B = 8 MiB.
    spec = MODELS["qwen35"]
    e = estimate(Scenario(spec, weights="F16", engine="llama.cpp", batch=2, context=2048, gpu="rtx-4090", ngl=3))
    gpu, host = e.engine_plan.gpus[0], e.engine_plan.host
    per_layer = 2 * (24576 + 524288) * 4
    assert (host.state, gpu.state) == (2 * per_layer, per_layer)
    assert (host.kv_cache, gpu.kv_cache) == (0, 4096 * 2 * 2 * 256 * 2)
    log = "\n".join(e.engine_plan.log)
    assert f"CUDA0 RS buffer size = {per_layer / MiB:8.2f} MiB" in log
    assert f"CPU RS buffer size = {2 * per_layer / MiB:8.2f} MiB" in log
    # the buffers print in the order of their names (a std::map by strcmp): CPU before CUDA0
    assert log.index("CPU RS buffer") < log.index("CUDA0 RS buffer")
    # --no-kv-offload keeps every layer's state and cells in system RAM
    e = estimate(Scenario(spec, weights="F16", engine="llama.cpp", batch=2, context=2048, gpu="rtx-4090",
                          kv_offload=False))
    assert e.engine_plan.host.state == 3 * per_layer and e.engine_plan.gpus[0].state == 0
