"""llama.cpp quantization presets (Q4_K_M, IQ4_XS, ...) as recipes: which ggml type each tensor gets.

A preset name is a file type, not a tensor type: llama-quantize picks a type per tensor from the
preset's default type, the tensor's role and layer, and the model's shape. The rules changed over
time, and a file carries the rules of the day it was made, so three eras are kept:

- "2026" (default): ggml-org/llama.cpp src/llama-quant.cpp @007dbbf3fd17eefe9b47fee45f48f7ba5e62b714
  (llama_tensor_get_type_impl, tensor_type_fallback, llama_ftype_get_default_type,
  tensor_allows_quantization); in force since 2026-03-10 (#19770). Unchanged for every architecture
  modelled here at @0c1e57098bba43ac29e6e3b677cdceebdd22334f, the llama.cpp that llama-cpp-python 0.3.36
  vendors and tests/test_quantize_real.py runs; that commit only adds GLM5_NEXT's own rules (its hc_/indexer/
  ssm_f_*/ssm_g_*/MLA tensors kept unquantized, attn_q_a/attn_q_b/nextn.eh_proj at least Q8_0), an
  architecture pycore does not model.
- "2025": llama-quant.cpp @20a9b8f5 (build 4822, 2025-03) and @8784689f, 2024-01-17 to 2026-03-09:
  attn_qkv has its own branch, attn_kv_b takes the default type, Q2_K/Q3_K fall back to IQ4_NL.
- "2023": llama.cpp get_k_quant_type @98311c42, 2023-08-27 to 2024-01-10 (TheBloke's GGUF files):
  Q2_K also bumps ffn_gate/ffn_up to Q3_K, fixed first-layer cut-offs, no GQA rules. Mixtral's files of the
  era (llama.cpp#4406, merged 2023-12-13) add three facts, read from them: attn_k and attn_v in Q8_0 for
  8 experts (#4406: "for the 8-expert model, bumping this to Q8_0 trades just ~128MB"); each expert stored
  as its own tensor (blk.N.ffn_down.E.weight, ollama/ollama#1585's tensor list) that the name rules of the
  day ("ffn_down.weight") did not match, so every expert takes the preset's type; the router left in f16
  as the converter wrote it. TheBloke's Mixtral-8x7B Q2_K, Q3_K_M and Q4_K_M files (15,644,034,176,
  20,363,355,584 and 26,441,533,376 B, llama.cpp#4406) are then their tensors + the same 780 KB header.

No importance matrix unless the preset requires one, no user overrides. Summary:
shared/reference/gguf-preset-rules.md. The rules read a few facts of the file besides names and shapes
(ModelTraits): n_gqa of block 0 as the file states it (0 for hybrids that open with a recurrent block),
the FFN position counted rather than read from the name in models without experts, and the NextN
blocks GLM files carry. tests/test_quantize_real.py checks every tensor against libllama's quantizer.

Models with experts (n_expert > 1): ffn_down/ffn_gate/ffn_up are numbered by the block in their name, out of
n = hparams.n_layer_all, in every era since Mixtral (layer_info in llama_tensor_get_type[_impl]). A dense first
block (DeepSeek, Kimi) and the shared expert (ffn_down_shexp) take their block's number: Kimi Linear's 26
routed ffn_down_exps are blocks 1-26 of n = 27, not 0-25 of 26. MLA's attn_kv_a_mqa, attn_k_b, attn_v_b (the
converter's split of kv_b since #12801) fall in no category: the default type. These are the stock rules:
files made with llama-quantize --tensor-type overrides (some uploaders' MoE recipes put the shared experts
and attention in Q8_0) differ, and nothing in a preset's name says so.
"""
from dataclasses import dataclass
from functools import lru_cache

from .ggml import GGML_TYPES

# preset -> (llama_ftype id, default tensor type)   (llama_ftype_get_default_type)
PRESETS = {
    "Q4_0": (2, "Q4_0"), "Q4_1": (3, "Q4_1"), "Q8_0": (7, "Q8_0"), "Q5_0": (8, "Q5_0"), "Q5_1": (9, "Q5_1"),
    "Q2_K": (10, "Q2_K"), "Q2_K_S": (21, "Q2_K"),
    "Q3_K_S": (11, "Q3_K"), "Q3_K_M": (12, "Q3_K"), "Q3_K_L": (13, "Q3_K"),
    "Q4_K_S": (14, "Q4_K"), "Q4_K_M": (15, "Q4_K"), "Q5_K_S": (16, "Q5_K"), "Q5_K_M": (17, "Q5_K"),
    "Q6_K": (18, "Q6_K"),
    "IQ1_S": (24, "IQ1_S"), "IQ1_M": (31, "IQ1_M"),
    "IQ2_XXS": (19, "IQ2_XXS"), "IQ2_XS": (20, "IQ2_XS"), "IQ2_S": (28, "IQ2_XS"), "IQ2_M": (29, "IQ2_S"),
    "IQ3_XXS": (23, "IQ3_XXS"), "IQ3_XS": (22, "IQ3_S"), "IQ3_S": (26, "IQ3_S"), "IQ3_M": (27, "IQ3_S"),
    "IQ4_NL": (25, "IQ4_NL"), "IQ4_XS": (30, "IQ4_XS"),
    "TQ1_0": (36, "TQ1_0"), "TQ2_0": (37, "TQ2_0"),
    "MXFP4_MOE": (38, "MXFP4"), "NVFP4": (39, "NVFP4"), "Q1_0": (40, "Q1_0"),
}

# Presets whose tensors need an importance matrix (tensor_requires_imatrix): files of these
# presets are always made with one, which changes a few IQ3_XXS choices.
_NEEDS_IMATRIX = {"IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ3_XXS", "Q2_K_S"}

_IQ1_IQ2 = {"IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"}
_OUTPUT_Q5_K = {"IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ2_S", "IQ2_M", "IQ1_M"}
_MOE8_ATTN_OUTPUT_Q5_K = {"Q2_K", "IQ3_XS", "IQ3_XXS", "Q3_K_S", "Q3_K_M", "IQ4_NL", "Q4_K_S", "Q4_K_M",
                          "IQ3_S", "IQ3_M", "IQ4_XS"}

RULES = ("2026", "2025", "2023")
# Presets that did not exist in 2023 (i-quants, ternary, MXFP4 came in 2024-2025)
_PRESETS_2023 = {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L", "Q4_K_S", "Q4_K_M",
                 "Q5_K_S", "Q5_K_M", "Q6_K"}

# tensor_type_fallback: when a row does not fill whole blocks of the chosen type
_FALLBACK_2026 = {
    "IQ1_S": "IQ4_NL", "IQ1_M": "IQ4_NL", "IQ2_XXS": "IQ4_NL", "IQ2_XS": "IQ4_NL", "IQ2_S": "IQ4_NL",
    "IQ3_XXS": "IQ4_NL", "IQ3_S": "IQ4_NL", "IQ4_XS": "IQ4_NL",
    "Q2_K": "Q4_0", "Q3_K": "Q4_0", "TQ1_0": "Q4_0", "TQ2_0": "Q4_0",
    "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0",
}
_FALLBACK = {
    "2026": _FALLBACK_2026,
    "2025": {**_FALLBACK_2026, "Q2_K": "IQ4_NL", "Q3_K": "IQ4_NL"},  # a14679cc (2024-02-21)
    "2023": {"Q2_K": "Q4_0", "Q3_K": "Q4_1", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"},  # bd6d9e20
}

# Categories, by the same substring tests llama.cpp applies to tensor names (tensor_get_category).
OUTPUT, TOKEN_EMBD, QKV, KV_B, V, K, Q, ATTN_OUTPUT, FFN_UP, FFN_GATE, FFN_DOWN, OTHER = (
    "output", "token_embd", "attn_qkv", "attn_kv_b", "attn_v", "attn_k", "attn_q", "attn_output",
    "ffn_up", "ffn_gate", "ffn_down", "other")
ATTN_V_LIKE = (V, QKV, KV_B)


@lru_cache(maxsize=1 << 16)
def category(name: str) -> str:
    if name == "output.weight":
        return OUTPUT
    if name in ("token_embd.weight", "per_layer_token_embd.weight"):
        return TOKEN_EMBD
    for needle, cat in (("attn_qkv.weight", QKV), ("attn_kv_b.weight", KV_B), ("attn_v.weight", V),
                        ("attn_k.weight", K), ("attn_q.weight", Q), ("attn_output.weight", ATTN_OUTPUT),
                        ("ffn_up", FFN_UP), ("ffn_gate", FFN_GATE), ("ffn_down", FFN_DOWN)):
        if needle in name:
            return cat
    return OTHER


# tensor_allows_quantization @007dbbf3: substrings of names that keep the type they were converted in
_NEVER_QUANTIZED = (
    "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
    "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
    "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight", "time_mix_v0.weight",
    "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight", "time_mix_a2.weight",
    "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight", "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight", "attn_rel_b.weight",
    ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger",
    "a.rvq.codebook", "mm.a.code_embd")

# convert_hf_to_gguf.py (ModelBase.prepare_tensors @a458664f) writes these in F32 whatever --outtype says:
# 1-D tensors, "*_norm.weight", names not ending in ".weight" (ssm_a from A_log, ssm_d from D), routers,
# positional embeddings, convolution kernels of Mamba and LFM2, RWKV's small time-mix weights.
_CONVERTED_F32 = ("ffn_gate_inp", "position_embd", "token_types", "ssm_conv1d", "shortconv.conv",
                  "time_mix_first", "time_mix_w1", "time_mix_w2", "time_mix_decay_w1", "time_mix_decay_w2",
                  "time_mix_lerp_fused", "posnet")


def _n_dims(ne: tuple) -> int:
    dims = len(ne)
    while dims > 1 and ne[dims - 1] == 1:  # ggml_n_dims ignores trailing 1s
        dims -= 1
    return dims


@lru_cache(maxsize=1 << 16)
def allows_quantization(name: str, ne: tuple) -> bool:
    """tensor_allows_quantization: 2-D and 3-D '*weight' tensors that are not norms, routers, convolution
    kernels, positional embeddings or the small tensors listed above. The others keep the type the
    converter wrote (kept_type)."""
    if _n_dims(ne) < 2 or not name.endswith("weight"):
        return False
    if name in ("position_embd.weight", "token_types.weight"):
        return False
    return not any(s in name for s in _NEVER_QUANTIZED)


@lru_cache(maxsize=1 << 16)
def kept_type(name: str, ne: tuple) -> str:
    """The type of a tensor llama-quantize does not quantize: the one convert_hf_to_gguf.py wrote. F32 for
    norms, biases, routers and kernels; the 16-bit --outtype (F16, the converter's default; BF16 is the
    same size) for the matrices llama-quantize leaves alone (Gemma 3n's AltUp and LAuReL matrices,
    per_layer_model_proj, MiniMax's indexer projections, T5's attn_rel_b)."""
    if _n_dims(ne) < 2 or name.endswith("_norm.weight") or not name.endswith(".weight"):
        return "F32"
    return "F32" if any(s in name for s in _CONVERTED_F32) else "F16"


def use_more_bits(i: int, n: int) -> bool:
    """About half of the layers, concentrated at both ends, get more bits."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


@dataclass(frozen=True)
class ModelTraits:
    """What the rules look at besides a tensor's own name and shape."""

    n_layer: int  # the language model's blocks
    n_gqa: int  # query heads per KV head of block 0 as the file states them (hparams.n_gqa(0)): 0 where
    # block 0 is recurrent and the converter wrote 0 KV heads for it (see PER_LAYER_KV_ARCHS)
    n_expert: int  # 0 for dense models
    is_falcon: bool = False
    is_70b: bool = False  # llama.cpp's LLM_TYPE_70B (80-layer Llama / Qwen2)
    has_imatrix: bool = False
    # blocks the file carries after the language model's (GLM-4.5's NextN layer, see NEXTN_KEPT_ARCHS): not
    # among the tensors predicted (llama.cpp does not load them) but counted by the rules: in n_layer_all
    # (init_quantize_state_counters: n_ffn_down = hparams.n_layer_all) and, one attn_v each, in n_attention_wv
    nextn_blocks: int = 0

    @property
    def n_layer_all(self) -> int:
        return self.n_layer + self.nextn_blocks


# Architectures whose converter writes attention.head_count_kv per block, 0 for the blocks without
# attention (convert_hf_to_gguf.py @a458664fc83b6513baea7adafcb0ef0626b006f8: LFM2Model, LFM2MoeModel set
# num_key_value_heads to a list; JambaModel, NemotronHModel, GraniteHybridModel likewise). llama.cpp's rules
# read n_gqa() of block 0 (llama-hparams.cpp: 0 when that block has no KV heads), so a hybrid that starts
# with a recurrent block never gets the n_gqa >= 4 bumps. Qwen3-Next/Qwen3.5 write one number.
# Kimi Linear likewise (conversion/kimi_linear.py @0c1e5709: 0 for the KDA blocks, 1 for MLA), block 0 is KDA.
PER_LAYER_KV_ARCHS = frozenset({"jamba", "lfm2", "lfm2moe", "nemotron_h", "nemotron_h_moe", "granitehybrid",
                                "kimi-linear"})


# Architectures whose converter keeps the NextN/MTP layers in the GGUF as extra blocks (block_count =
# num_hidden_layers + num_nextn_predict_layers; llama.cpp loads them with TENSOR_SKIP): GLM-4.5/4.6/4.7
# (convert_hf_to_gguf.py Glm4MoeModel). DeepSeek-V3 and Qwen3-Next/Qwen3.5 conversions drop them.
NEXTN_KEPT_ARCHS = frozenset({"glm4moe"})


def supports(preset: str, rules: str) -> bool:
    return rules in RULES and preset in PRESETS and (rules != "2023" or preset in _PRESETS_2023)


# The running counts of llama_tensor_get_type_impl and the categories that advance each. A tensor's type can
# depend on its place in the file only through them (or, with experts, the block number in its name).
COUNTERS = {"i_attention_wv": ATTN_V_LIKE, "i_ffn_down": (FFN_DOWN,), "i_ffn_gate": (FFN_GATE,), "i_ffn_up": (FFN_UP,)}
POSITIONAL = frozenset(c for cats in COUNTERS.values() for c in cats)
# Presets whose choice for a counted category reads the count or the block number, by rules era and
# counter (the branches of _pick, _pick_2025 and _pick_2023 that use `i`; a few that read it only
# without an importance matrix or for Falcon are listed all the same). For every other preset the
# tensors of that category get one type wherever they are, so a kind of block is worked out once.
# _IQ1_IQ2 presets read the ffn_down count only; MXFP4_MOE reads none.
_K_PLACED = {"Q3_K_M", "Q4_K_M", "Q5_K_M", "Q4_K_S"}
_READS_PLACE = {
    "2026": {"i_attention_wv": _K_PLACED,
             "i_ffn_down": _K_PLACED | _IQ1_IQ2 | {"Q2_K_S", "IQ3_XXS", "IQ3_M", "IQ4_NL", "IQ4_XS", "Q4_0", "Q5_0"},
             "i_ffn_gate": {"IQ3_XS"}, "i_ffn_up": {"IQ3_XS"}},
    "2023": {"i_attention_wv": _K_PLACED, "i_ffn_down": _K_PLACED, "i_ffn_gate": set(), "i_ffn_up": set()},
}
_READS_PLACE["2025"] = _READS_PLACE["2026"]


def positional(name: str, ne: tuple) -> bool:
    """True when the type Recipe.type_of gives this tensor can depend on its place in the file under some
    preset (POSITIONAL); Recipe.positional answers for one preset."""
    return allows_quantization(name, ne) and category(name) in POSITIONAL


class Recipe:
    """llama-quantize's choice of type for the tensors of one file, asked one tensor at a time in file order
    (it keeps llama.cpp's running counts). has_output: the file has an output.weight; n_attention_wv: its
    attn_v-like tensors (attn_v, attn_qkv, attn_kv_b) plus the NextN blocks (traits.nextn_blocks)."""

    def __init__(self, preset: str, traits: ModelTraits, rules: str, has_output: bool, n_attention_wv: int):
        if not supports(preset, rules):
            raise ValueError(f"preset {preset} does not exist in the {rules} rules")
        self.preset, self.default, self.traits, self.rules = preset, PRESETS[preset][1], traits, rules
        self.has_output, self.n_attention_wv = has_output, n_attention_wv
        self.imatrix = traits.has_imatrix or preset in _NEEDS_IMATRIX
        self.state = {"i_attention_wv": 0, "i_ffn_down": 0, "i_ffn_gate": 0, "i_ffn_up": 0}

    def positional(self, name: str, ne: tuple) -> bool:
        """True when this recipe's type for the tensor can depend on its place in the file: then it must be asked
        in file order under the tensor's own name. Otherwise the type follows from the name's role and the shape."""
        if not positional(name, ne):
            return False
        cat = category(name)
        return any(cat in cats and self.preset in _READS_PLACE[self.rules][counter]
                   for counter, cats in COUNTERS.items())

    def type_of(self, name: str, ne: tuple) -> str:
        """The ggml type name of the next tensor (name, ne) of the file."""
        if not allows_quantization(name, ne):
            if self.rules == "2023" and "ffn_gate_inp" in name:
                return "F16"  # the 2023 converter wrote Mixtral's router in f16 (ollama/ollama#1585)
            return kept_type(name, ne)
        return self.quantized_type(name, ne, category(name))

    def quantized_type(self, name: str, ne: tuple, cat: str) -> str:
        """type_of for a tensor known to allow quantization, of category `cat` (category(name))."""
        rules = self.rules
        if rules == "2026":
            chosen = _pick(self.preset, self.default, name, ne, cat, self.traits, self.imatrix, self.has_output,
                           self.n_attention_wv, self.state)
        elif rules == "2025":
            chosen = _pick_2025(self.preset, self.default, name, ne, cat, self.traits, self.imatrix, self.has_output,
                                self.n_attention_wv, self.state)
        else:
            chosen = _pick_2023(self.preset, self.default, name, ne, cat, self.traits, self.n_attention_wv, self.state)
        return fallback(chosen, ne[0], rules)


def assign_types(preset: str, tensors, traits: ModelTraits, rules: str = "2026") -> list:
    """The ggml type name llama-quantize picks for each tensor (name, ne), in order."""
    if not supports(preset, rules):
        raise ValueError(f"preset {preset} does not exist in the {rules} rules")
    has_output = any(name == "output.weight" for name, _ in tensors)
    n_attention_wv = sum(1 for name, _ in tensors if category(name) in ATTN_V_LIKE) + traits.nextn_blocks
    recipe = Recipe(preset, traits, rules, has_output, n_attention_wv)
    return [recipe.type_of(name, ne) for name, ne in tensors]


def _layer_of(name: str) -> int:
    return int(name.split(".")[1]) if name.startswith("blk.") else 0


def _ffn_layer(name: str, counter: str, m: ModelTraits, state) -> int:
    """layer_info in llama_tensor_get_type_impl: with experts (n_expert > 1) the block number in the name;
    without, the count of ffn_down (ffn_gate, ffn_up) tensors seen so far, which differs from the block
    number where some blocks have no FFN (Nemotron-H: Mamba-2 and attention blocks carry none)."""
    i = state[counter]
    state[counter] = i + 1
    return _layer_of(name) if m.n_expert > 1 else i


def fallback(type_name: str, row: int, rules: str = "2026") -> str:
    """The type actually used when rows of `row` values do not fill whole blocks of `type_name`."""
    if GGML_TYPES[type_name].fits_row(row):
        return type_name
    alt = _FALLBACK[rules].get(type_name, "F16")
    return alt if GGML_TYPES[alt].fits_row(row) else "F16"


def _pick(ftype, new, name, ne, cat, m: ModelTraits, imatrix, has_output, n_attention_wv, state):
    """llama_tensor_get_type_impl for one tensor: starts from the preset's default type `new`."""
    n_expert = m.n_expert
    if cat == OUTPUT or (cat == TOKEN_EMBD and not has_output):
        if ftype == "MXFP4_MOE" or m.is_falcon or not GGML_TYPES[new].fits_row(ne[0]):
            return "Q8_0"
        if ftype in _OUTPUT_Q5_K:
            return "Q5_K"
        return new if new == "Q8_0" else "Q6_K"
    if ftype == "MXFP4_MOE":
        return "MXFP4" if len(ne) > 2 and ne[2] > 1 else "Q8_0"
    if cat == TOKEN_EMBD:
        if ftype in ("IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"):
            return "Q2_K"
        if ftype in ("IQ2_S", "IQ2_M", "IQ3_XXS"):
            return "IQ3_S"
        if ftype in ("TQ1_0", "TQ2_0"):
            return "Q4_K"
        return new
    if ftype in _IQ1_IQ2:
        if cat in ATTN_V_LIKE:
            state["i_attention_wv"] += 1
            if m.n_gqa >= 4 or n_expert >= 4:
                return "Q4_K"
            return "IQ3_S" if ftype in ("IQ2_S", "IQ2_M") else "Q2_K"
        if n_expert == 8 and cat == K:
            return "Q4_K"
        if cat == FFN_DOWN:  # counts ffn_down tensors, not layers (two per layer with shared experts)
            i = state["i_ffn_down"]
            state["i_ffn_down"] = i + 1
            if i < m.n_layer_all // 8:
                return "IQ3_S" if ftype in ("IQ2_S", "IQ2_M") else "Q2_K"
            return new
        if cat == ATTN_OUTPUT:
            if n_expert == 8:
                return "Q5_K"
            if ftype in ("IQ1_S", "IQ1_M"):
                return "IQ2_XXS"
            if ftype in ("IQ2_S", "IQ2_M"):
                return "IQ3_S"
        return new
    if cat in ATTN_V_LIKE:
        i = state["i_attention_wv"]
        state["i_attention_wv"] = i + 1
        if ftype == "Q2_K":
            new = "Q4_K" if m.n_gqa >= 4 else "Q3_K"
        elif ftype == "Q2_K_S" and m.n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_XXS":
            new = "Q4_K" if m.n_gqa >= 4 else ("IQ3_XXS" if imatrix else "IQ3_S")
        elif ftype in ("IQ3_XS", "IQ3_S") and m.n_gqa >= 4:
            new = "Q4_K"
        elif ftype == "IQ3_M":
            new = "Q4_K"
        elif ftype == "Q3_K_M":
            new = "Q5_K" if i < 2 else "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q5_K"
        elif ftype in ("IQ4_NL", "IQ4_XS") and m.n_gqa >= 4:
            new = "Q5_K"
        elif ftype in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n_attention_wv):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and i < 4:
            new = "Q5_K"
        if m.is_70b and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"  # 8 heads share attn_v in the 70B model: more bits cost little
        if n_expert == 8:
            new = "Q8_0"
        return new
    if cat == K:
        if n_expert == 8:
            return "Q8_0"
        if ftype == "IQ3_XS":
            return "IQ3_XXS"
        if ftype == "IQ3_XXS":
            return "IQ2_S"
        return new
    if cat == Q:
        if ftype == "IQ3_XS":
            return "IQ3_XXS"
        if ftype == "IQ3_XXS":
            return "IQ2_S"
        return new
    if cat == FFN_DOWN:
        i, n = _ffn_layer(name, "i_ffn_down", m, state), m.n_layer_all
        if ftype == "Q2_K":
            return "Q3_K"
        if ftype == "Q2_K_S":
            return "Q4_K" if i < n // 8 else new
        if ftype == "IQ3_XXS" and not imatrix:
            return "Q4_K" if i < n // 8 else "Q3_K"
        if ftype == "Q3_K_M":
            if i < n // 16:
                return "Q5_K"
            return "Q4_K" if not m.is_falcon or use_more_bits(i, n) else "Q3_K"
        if ftype == "IQ3_M" and (i < n // 8 or (n_expert == 8 and use_more_bits(i, n))):
            return "Q4_K"
        if ftype == "Q3_K_L":
            return "Q4_K" if m.is_falcon else "Q5_K"
        if ftype == "Q4_K_M":
            if m.is_falcon:
                return "Q6_K" if i < n // 16 else ("Q5_K" if use_more_bits(i, n) else "Q4_K")
            return "Q6_K" if use_more_bits(i, n) else new
        if ftype in ("IQ4_NL", "IQ4_XS") and i < n // 8 and not imatrix:
            return "Q5_K"
        if ftype == "Q5_K_M" and use_more_bits(i, n):
            return "Q6_K"
        if ftype == "Q4_K_S" and not m.is_falcon and i < n // 8:
            return "Q5_K"
        if ftype in ("Q4_0", "Q5_0") and imatrix and i < n // 8:
            return "Q4_1" if ftype == "Q4_0" else "Q5_1"
        return new
    if cat == ATTN_OUTPUT:
        if m.is_falcon:
            return "Q4_K" if ftype == "Q3_K_L" else new
        if n_expert == 8:
            return "Q5_K" if ftype in _MOE8_ATTN_OUTPUT_Q5_K else new
        return {"Q2_K": "Q3_K", "IQ3_XXS": "IQ3_S", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K",
                "IQ3_M": "Q4_K"}.get(ftype, new)
    if cat in (FFN_GATE, FFN_UP):
        i, n = _ffn_layer(name, "i_ffn_gate" if cat == FFN_GATE else "i_ffn_up", m, state), m.n_layer_all
        if ftype == "IQ3_XS" and n // 8 <= i < 7 * n // 8:
            return "IQ3_XXS"
    return new


def _pick_2025(ftype, new, name, ne, cat, m, imatrix, has_output, n_attention_wv, state):
    """llama_tensor_get_type @20a9b8f5: as 2026, except attn_qkv's own branch and attn_kv_b untouched."""
    if cat == QKV:
        if ftype in _IQ1_IQ2:
            return new
        return {"Q3_K_M": "Q4_K", "Q3_K_L": "Q4_K", "IQ3_M": "Q4_K", "Q4_K_M": "Q5_K", "Q5_K_M": "Q6_K"}.get(ftype, new)
    if cat == KV_B:
        return new
    return _pick(ftype, new, name, ne, cat, m, imatrix, has_output, n_attention_wv, state)


def _pick_2023(ftype, new, name, ne, cat, m, n_attention_wv, state):
    """get_k_quant_type @98311c42: k-quant and legacy presets, running counters, no GQA rules; Mixtral's
    8-expert rules and per-expert tensors of llama.cpp#4406 (see the module docstring)."""
    if m.n_expert > 1 and "_exps" in name:
        return new  # blk.N.ffn_*.E.weight in files of the day: no "ffn_down.weight" rule matched them
    if m.n_expert == 8 and cat == K:
        return "Q8_0"
    if cat == OUTPUT:
        if m.is_falcon or not GGML_TYPES["Q6_K"].fits_row(ne[0]):
            return "Q8_0"
        return new if new == "Q8_0" else "Q6_K"
    if cat == V:
        i = state["i_attention_wv"]
        state["i_attention_wv"] = i + 1
        if ftype == "Q2_K":
            new = "Q3_K"
        elif ftype == "Q3_K_M":
            new = "Q5_K" if i < 2 else "Q4_K"
        elif ftype == "Q3_K_L":
            new = "Q5_K"
        elif ftype in ("Q4_K_M", "Q5_K_M") and use_more_bits(i, n_attention_wv):
            new = "Q6_K"
        elif ftype == "Q4_K_S" and i < 4:
            new = "Q5_K"
        if m.is_70b and new in ("Q3_K", "Q4_K"):
            new = "Q5_K"
        return "Q8_0" if m.n_expert == 8 else new
    if cat == FFN_DOWN:
        i = state["i_ffn_down"]
        state["i_ffn_down"] = i + 1
        n = m.n_layer
        if ftype == "Q2_K":
            return "Q3_K"
        if ftype == "Q3_K_M":
            if i < 2:
                return "Q5_K"
            return "Q4_K" if not m.is_falcon or use_more_bits(i, n) else "Q3_K"
        if ftype == "Q3_K_L":
            return "Q4_K" if m.is_falcon else "Q5_K"
        if ftype == "Q4_K_M":
            if m.is_falcon:
                return "Q6_K" if i < 2 else ("Q5_K" if use_more_bits(i, n) else "Q4_K")
            return "Q6_K" if use_more_bits(i, n) else new
        if ftype == "Q5_K_M" and use_more_bits(i, n):
            return "Q6_K"
        if ftype == "Q4_K_S" and not m.is_falcon and i < 4:
            return "Q5_K"
        return new
    if cat == ATTN_OUTPUT:
        if m.is_falcon:
            return "Q4_K" if ftype == "Q3_K_L" else new
        return {"Q2_K": "Q3_K", "Q3_K_M": "Q4_K", "Q3_K_L": "Q5_K"}.get(ftype, new)
    if cat == QKV:
        return {"Q3_K_M": "Q4_K", "Q3_K_L": "Q4_K", "Q4_K_M": "Q5_K", "Q5_K_M": "Q6_K"}.get(ftype, new)
    if cat in (FFN_GATE, FFN_UP) and ftype == "Q2_K" and "ffn_gate_inp" not in name:
        return "Q3_K"
    return new
