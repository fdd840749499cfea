"""The formula guide's worked examples, each reproduced from its text and checked.

The guide is the write-up the project started from, "LLM Memory Requirements: Mathematical Formulas
and Calculations" (shared/seed/000_a1bdbce2595f72f1.txt). Every figure of its sections 1–6 and of its
cheat sheet is one row (`WorkedExample`), with:

- the guide's formula with its inputs, and the figure it printed, as text;
- `formula_bytes`: the guide's own formula evaluated exactly, in bytes;
- `exact_bytes`: what this calculator gives for the real model (its architecture and parameter count,
  grouped-query attention, the real bits of the format, an engine): `measure` of the estimate of
  `scenario`, which the row's link (`query`) reproduces;
- `verdict`, in words: where the arithmetic is wrong, where its "GB" are GiB (or 10^9-byte GB although
  its formula divides by 2^30), where the KV formula is the multi-head special case, where a context is
  beyond the model's window, and where a "fits" / "doesn't fit" verdict flips.

The guide's formulas, as it writes them (each "÷ 1,073,741,824" turns bytes into its "GB"):
    weights     = parameters × bytes per parameter                       (section 1)
    KV cache    = 2 × batch × sequence × hidden × layers × bytes          (section 3)
    activations = batch × sequence × hidden × layers × 2                  (section 4)
    total       = weights + KV cache + activations + overhead ("1–2 GB")  (section 5)
Its "GB" is 1,073,741,824 bytes by its own definition ("Bytes per GB (1024³)"), so an overhead of
"2 GB" is taken as 2 × 2^30 bytes. Everything here is exact integer arithmetic; no figure is rounded
before the display.
"""
import re
from dataclasses import dataclass
from fractions import Fraction

from . import urlstate
from .ggml import GGML_TYPES
from .gguf_recipes import PRESETS as GGUF_PRESETS
from .hardware import gpu as gpu_named
from .memory import estimate
from .models import beyond_context, parameter_count
from .presets import model as preset_model
from .scenario import Scenario
from .units import GB, GiB, format_in

GUIDE = "shared/seed/000_a1bdbce2595f72f1.txt"
GUIDE_GB = 1_073_741_824  # the guide's "GB": "1,073,741,824 = Bytes per GB (1024³)"
MEASURES = ("weights", "kv_cache", "activations", "total")  # what exact_bytes is: a line item, or the total

S1, S2, S3, S4, S5, S6, CHEAT = (
    "1. Base model memory", "2. Quantization levels", "3. KV cache", "4. Activation memory",
    "5. Total inference memory", "6. Practical examples", "Cheat sheet: bytes per parameter")
SECTIONS = (S1, S2, S3, S4, S5, S6, CHEAT)

# The guide's round parameter counts ("70B", "8B").
NOMINAL = {"llama-2-70b": 70 * 10**9, "llama-3-8b": 8 * 10**9}
# The format that stores what the guide names. INT8 and INT4 are the guide's own 8-bit and 4-bit
# methods of section 2: LLM.int8() ("1 byte per parameter") and QLoRA's NF4 ("0.5 bytes per parameter").
# The GGUF file of "FP16" is llama.cpp's F16 type with norms in F32; a KV cache in "INT8" under
# llama.cpp (which runs the GGUF rows) is its q8_0 type, 34 bytes per 32 values.
REAL_WEIGHTS = {"FP32": "FP32", "FP16": "FP16", "INT8": "LLM.int8", "INT4": "NF4-DQ", "FP16 GGUF": "ggml:F16"}
REAL_KV = {"FP16": "f16", "INT8": "q8_0"}


@dataclass(frozen=True)
class Part:
    """One line of a total: what the guide printed, what its formula gives, what the real model needs."""
    name: str  # weights | kv_cache | activations | overhead
    printed: str
    formula_bytes: int
    exact_bytes: int


@dataclass(frozen=True)
class WorkedExample:
    id: str
    section: str  # one of SECTIONS
    title: str
    formula: str  # the guide's formula with its numbers
    inputs: dict  # the guide's inputs by name
    printed: str  # the guide's figure, as it printed it
    formula_bytes: int  # the guide's formula, evaluated exactly
    exact_bytes: int  # this calculator, for the real model: `measure` of estimate(scenario)
    measure: str  # one of MEASURES
    scenario: Scenario  # the scenario of the row's link
    exact_how: str  # what gives exact_bytes (format, engine, architecture)
    verdict: str
    flags: tuple  # of: arithmetic, gib-as-gb, decimal-gb, mha, beyond-context, nominal-count, no-scales, flips
    parts: tuple = ()  # Part per line of a total

    @property
    def query(self) -> str:
        """The calculator's URL query for this row's scenario (urlstate's serialized Scenario)."""
        return urlstate.to_query(scenario_fields(self.scenario))

    def as_dict(self) -> dict:
        """The row for JSON: the keys of the CLI's `examples --json` (id, section, title, inputs, printed,
        formula_bytes, exact_bytes, verdict) and the rest of the row."""
        return {"id": self.id, "section": self.section, "title": self.title, "inputs": dict(self.inputs),
                "printed": self.printed, "formula_bytes": self.formula_bytes, "exact_bytes": self.exact_bytes,
                "verdict": self.verdict, "formula": self.formula, "measure": self.measure, "query": self.query,
                "exact_how": self.exact_how, "flags": list(self.flags),
                "parts": [{"name": p.name, "printed": p.printed, "formula_bytes": p.formula_bytes,
                           "exact_bytes": p.exact_bytes} for p in self.parts]}


def scenario_fields(s: Scenario) -> dict:
    """The form fields (urlstate keys) of a preset-model Scenario with the default engine settings."""
    if not isinstance(s.model, str):
        raise ValueError("only preset models have a link")
    fields = dict(urlstate.DEFAULTS)
    fields.update(model=s.model, weights=s.weights, kv=s.kv, batch=str(s.batch), context=str(s.context),
                  gpu=s.gpu, gpus=str(s.gpus), engine=s.engine)
    return fields


# ---------------------------------------------------------------- the guide's formulas, exactly

def guide_weights(parameters: int, bytes_per_parameter) -> int:
    """parameters × bytes per parameter; bytes as the guide prints them ("0.5", "1.06", Fraction(9, 16))."""
    b = Fraction(str(bytes_per_parameter)) if not isinstance(bytes_per_parameter, Fraction) else bytes_per_parameter
    n = parameters * b
    if n.denominator != 1:
        raise ValueError(f"{parameters} × {b} is not a whole number of bytes")
    return int(n)


def guide_kv(batch: int, sequence: int, hidden: int, layers: int, precision_bytes) -> int:
    """2 × B × S × H × L × P (section 3)."""
    return guide_weights(2 * batch * sequence * hidden * layers, precision_bytes)


def guide_activations(batch: int, sequence: int, hidden: int, layers: int) -> int:
    """B × S × H × L × 2 (section 4)."""
    return batch * sequence * hidden * layers * 2


# ---------------------------------------------------------------- reading the printed figures

def _gib(n: int) -> str:
    return format_in(n, "GiB")


def _gb(n: int) -> str:
    return format_in(n, "GB")


def _both(n: int) -> str:
    return f"{_gib(n)} ({_gb(n)})"


def printed_number(printed: str) -> float:
    """The first number of a printed figure: '≈ 32 GB' -> 32.0, '~5.75 GB ✅' -> 5.75."""
    m = re.search(r"\d[\d,]*(?:\.\d+)?", printed)
    if not m:
        raise ValueError(f"no number in {printed!r}")
    return float(m.group(0).replace(",", ""))


def reads_as(printed: str, n: int) -> str:
    """Which unit makes the printed figure equal to `n` bytes: 'GiB' or 'GB', whichever is nearer, when it
    is within the figure's printed digits (half its last digit) and 1 %; '' when neither is (the guide's
    arithmetic is wrong)."""
    m = re.search(r"\d[\d,]*(?:\.(\d+))?", printed)
    value = printed_number(printed)
    half_digit = 0.5 * 10 ** -len(m.group(1) or "")
    unit, size = min((("GiB", GiB), ("GB", GB)), key=lambda us: abs(value - n / us[1]))
    return unit if abs(value - n / size) < half_digit + 0.01 * n / size else ""


def _arithmetic(printed: str, formula_bytes: int, flags: list) -> str:
    unit = reads_as(printed, formula_bytes)
    if unit == "GiB":
        flags.append("gib-as-gb")
        return (f"Arithmetic right, but the unit is GiB: {formula_bytes:,} B is {_gib(formula_bytes)}, "
                f"{_gb(formula_bytes)} — the guide's “GB” is 2^30 bytes.")
    if unit == "GB":
        flags.append("decimal-gb")
        return (f"Arithmetic right in decimal GB ({formula_bytes:,} B = {_gb(formula_bytes)}), although the "
                f"guide's formula divides by 1,073,741,824: that gives {formula_bytes / GiB:,.2f} (GiB).")
    flags.append("arithmetic")
    return (f"Arithmetic wrong: the guide's own formula gives {formula_bytes:,} B = {_both(formula_bytes)}, "
            f"not the printed {printed.split(' ✅')[0].split(' ❌')[0]}.")


def _count_note(model_id: str, flags: list) -> str:
    spec = preset_model(model_id)
    n = parameter_count(spec).total
    if n == NOMINAL[model_id]:
        return ""
    flags.append("nominal-count")
    return f"{spec.name} has {n:,} parameters, not {NOMINAL[model_id] / 1e9:g}B."


def _mha_note(model_id: str, flags: list) -> str:
    spec = preset_model(model_id)
    if spec.num_kv_heads == spec.num_heads:
        return ""
    flags.append("mha")
    return (f"The KV formula is the multi-head special case: it caches K and V for all {spec.num_heads} heads "
            f"(hidden size {spec.hidden_size:,}); {spec.name} uses grouped-query attention with "
            f"{spec.num_kv_heads} KV heads of {spec.head_dim}, {spec.num_heads // spec.num_kv_heads}× less.")


def _context_note(model_id: str, context: int, flags: list) -> str:
    beyond = beyond_context(preset_model(model_id), context)
    if not beyond:
        return ""
    flags.append("beyond-context")
    return beyond + " (the bytes are shown as if it could hold them)."


def _exact_note(exact: int, how: str) -> str:
    return f"This calculator: {_both(exact)}, {how}."


def _join(*sentences) -> str:
    return " ".join(s for s in sentences if s)


def _est(model_id, weights, context=None, batch=1, kv="f16", gpu=""):
    spec = preset_model(model_id)
    context = context if context is not None else min(4096, spec.max_context)
    s = Scenario(model_id, weights=weights, kv=kv, batch=batch, context=context, gpu=gpu)
    return s, estimate(s)


def _weights_how(e) -> str:
    return f"{e.weight_format.name}, {e.bits_per_weight:.2f} bits per weight over {e.parameters.total:,} parameters"


# ---------------------------------------------------------------- section 1: weights per precision

def _weights_row(model_id: str, fmt: str, bytes_pp: str, printed: str) -> WorkedExample:
    spec, nominal = preset_model(model_id), NOMINAL[model_id]
    formula = guide_weights(nominal, bytes_pp)
    s, e = _est(model_id, REAL_WEIGHTS.get(fmt, fmt))
    flags = []
    how = _weights_how(e)
    if fmt in ("INT8", "INT4"):
        how += (" (bitsandbytes, the guide's own " + ("8-bit method, LLM.int8()" if fmt == "INT8" else
                                                      "4-bit method, QLoRA's NF4") +
                ": scales stored, embeddings and output head left in 16-bit)")
    verdict = _join(_arithmetic(printed, formula, flags), _count_note(model_id, flags),
                    _exact_note(e.weights.bytes, how))
    return WorkedExample(
        f"weights-{model_id}-{fmt.lower()}", S1, f"{spec.name} weights in {fmt}",
        f"{nominal:,} parameters × {bytes_pp} B = {formula:,} B",
        {"model": spec.name, "parameters": nominal, "bytes_per_parameter": bytes_pp},
        printed, formula, e.weights.bytes, "weights", s, how, verdict, tuple(flags))


# ---------------------------------------------------------------- section 2 and cheat sheet: bytes per parameter

def _bits_note(preset: str, printed_bits: Fraction, e, flags: list) -> str:
    t = GGML_TYPES[GGUF_PRESETS[preset][1]]
    block_bits = Fraction(8 * t.type_size, t.block_size)
    bpw = e.bits_per_weight
    first = (f"A {t.name} block stores {t.block_size} weights in {t.type_size} B: {float(block_bits):g} bits per weight"
             + (", as printed." if abs(block_bits - printed_bits) <= Fraction(1, 20) else
                f", not {float(printed_bits):g} — the guide leaves out the block's scales."))
    if abs(block_bits - printed_bits) > Fraction(1, 20):
        flags.append("no-scales")
    return (f"{first} The {preset} recipe gives tensors their own types (llama.cpp llama-quant.cpp): on "
            f"{e.model.name} it averages {bpw:.2f} bits, {bpw / 8:.3f} B per parameter.")


def _bpp_row(id_: str, section: str, model_id: str, fmt: str, bits: str, bytes_pp: str, printed: str) -> WorkedExample:
    """A bytes-per-parameter figure applied to a model: the guide's parameters × its bytes per parameter
    (from its bits per weight when it prints them, bytes otherwise)."""
    spec, nominal = preset_model(model_id), NOMINAL[model_id]
    per = Fraction(bits) / 8 if bits else Fraction(bytes_pp)
    formula = guide_weights(nominal, per)
    s, e = _est(model_id, REAL_WEIGHTS.get(fmt, fmt))
    flags = []
    note = ""
    if fmt in GGUF_PRESETS:
        note = _bits_note(fmt, per * 8, e, flags)
    elif fmt in ("INT8", "INT4"):
        bpw = e.bits_per_weight
        note = (f"Right for a bare {fmt} number, but a real {'8' if fmt == 'INT8' else '4'}-bit format stores "
                f"scales and keeps embeddings and output head in 16-bit: {e.weight_format.name} averages "
                f"{bpw:.2f} bits, {bpw / 8:.3f} B per parameter.")
    else:
        note = "Right: every parameter takes exactly these bytes."
    what = f"{bits} bits per weight, {bytes_pp} B per parameter" if bits else f"{bytes_pp} B per parameter"
    verdict = _join(note, _count_note(model_id, flags),
                    f"Applied to {spec.name}: the guide's figure gives {_both(formula)}.",
                    _exact_note(e.weights.bytes, _weights_how(e)))
    return WorkedExample(
        id_, section, f"{fmt}: {what} (applied to {spec.name})",
        f"{nominal:,} parameters × {float(per):g} B = {formula:,} B",
        {"format": fmt, "bits_per_weight": bits, "bytes_per_parameter": bytes_pp, "model": spec.name,
         "parameters": nominal},
        printed, formula, e.weights.bytes, "weights", s, _weights_how(e), verdict, tuple(flags))


# The guide's GGUF table: (format, bits per weight, bytes per parameter), as printed.
GGUF_TABLE = (("Q2_K", "2.0", "~0.25"), ("Q3_K_S", "3.0", "~0.375"), ("Q3_K_M", "3.0", "~0.375"),
              ("Q3_K_L", "3.0", "~0.375"), ("Q4_0", "4.5", "~0.56"), ("Q4_1", "5.0", "~0.625"),
              ("Q4_K_S", "4.0", "~0.5"), ("Q4_K_M", "4.0", "~0.5"), ("Q5_0", "5.5", "~0.69"),
              ("Q5_1", "6.0", "~0.75"), ("Q5_K_S", "5.0", "~0.625"), ("Q5_K_M", "5.0", "~0.625"),
              ("Q6_K", "6.0", "~0.75"), ("Q8_0", "8.5", "~1.06"))
# Its Llama 3 8B file sizes: (format, printed size, bytes per parameter from its GGUF table)
FILE_TABLE = (("FP16", "~13.0 GB", "2"), ("Q8_0", "~6.7 GB", "17/16"), ("Q5_K_M", "~4.9 GB", "0.625"),
              ("Q4_K_M", "~3.5 GB", "0.5"), ("Q3_K_M", "~2.6 GB", "0.375"), ("Q2_K", "~1.6 GB", "0.25"))
# The cheat sheet's bytes per parameter, as printed.
CHEAT_TABLE = (("FP32", "4.0"), ("FP16", "2.0"), ("INT8", "1.0"), ("INT4", "0.5"), ("Q4_K_M", "~0.5"),
               ("Q5_K_M", "~0.625"), ("Q8_0", "~1.06"))


def _file_row(fmt: str, printed: str, bytes_pp: str) -> WorkedExample:
    model_id = "llama-3-8b"
    spec, nominal = preset_model(model_id), NOMINAL[model_id]
    formula = guide_weights(nominal, Fraction(bytes_pp))
    real = REAL_WEIGHTS["FP16 GGUF"] if fmt == "FP16" else fmt
    s, e = _est(model_id, real)
    flags = []
    value = printed_number(printed)
    exact = e.weights.bytes
    if reads_as(printed, formula):
        first = f"Consistent with the guide's own {float(Fraction(bytes_pp)):g} B per parameter ({_both(formula)})."
    else:
        flags.append("arithmetic")
        first = (f"Not what the guide's own {float(Fraction(bytes_pp)):g} B per parameter gives: {nominal / 1e9:g}B × "
                 f"{float(Fraction(bytes_pp)):g} B = {_both(formula)}.")
    real_says = (f"The tensors of a real {fmt} file of {spec.name} take {_both(exact)} ({e.bits_per_weight:.2f} bits "
                 f"per weight; the file adds its header, a few MB of metadata and vocabulary): "
                 f"the printed ~{value:g} is {abs(1 - value * GB / exact) * 100:.0f}% "
                 f"{'under' if value * GB < exact else 'over'} it in GB.")
    verdict = _join(first, real_says, _count_note(model_id, flags))
    return WorkedExample(
        f"file-{model_id}-{fmt.lower()}", S2, f"{spec.name} {fmt} GGUF file size",
        f"{nominal:,} parameters × {float(Fraction(bytes_pp)):g} B = {formula:,} B",
        {"model": spec.name, "format": fmt, "parameters": nominal, "bytes_per_parameter": f"{float(Fraction(bytes_pp)):g}"},
        printed, formula, exact, "weights", s, _weights_how(e), verdict, tuple(flags))


# ---------------------------------------------------------------- sections 3 and 4: KV cache, activations

def _kv_row(id_, model_id, weights, batch, seq, printed, precision="FP16", section=S3) -> WorkedExample:
    spec = preset_model(model_id)
    H, L = spec.hidden_size, spec.num_layers
    P = {"FP16": 2, "INT8": 1}[precision]
    formula = guide_kv(batch, seq, H, L, P)
    s, e = _est(model_id, weights, seq, batch, REAL_KV[precision])
    flags = []
    how = _kv_how(e)
    verdict = _join(_arithmetic(printed, formula, flags), _mha_note(model_id, flags),
                    _context_note(model_id, seq, flags), _exact_note(e.kv_cache.bytes, how))
    return WorkedExample(
        id_, section, f"{spec.name} KV cache, batch {batch} × {seq:,} tokens, {precision}",
        f"2 × {batch} × {seq:,} × {H:,} × {L} × {P} B = {formula:,} B",
        {"model": spec.name, "batch": batch, "sequence_length": seq, "hidden_dim": H, "layers": L,
         "precision_bytes": P},
        printed, formula, e.kv_cache.bytes, "kv_cache", s, how, verdict, tuple(flags))


def _kv_how(e) -> str:
    spec = e.model
    per_token = 2 * spec.num_kv_heads * spec.head_dim * spec.num_layers
    return (f"{spec.num_kv_heads} KV heads × {spec.head_dim} × 2 (K, V) × {spec.num_layers} layers = "
            f"{per_token:,} values per token in {e.kv_format.name}, in {e.engine.label}'s cache cells")


def _act_row(id_, model_id, weights, batch, seq, printed) -> WorkedExample:
    spec = preset_model(model_id)
    H, L = spec.hidden_size, spec.num_layers
    formula = guide_activations(batch, seq, H, L)
    s, e = _est(model_id, weights, seq, batch)
    flags = []
    how = _act_how(e)
    verdict = _join(_arithmetic(printed, formula, flags), _context_note(model_id, seq, flags),
                    "The formula keeps every layer's activations for every token at once; an engine frees each "
                    "layer's before the next and runs long prompts in chunks.", _exact_note(e.activations.bytes, how))
    return WorkedExample(
        id_, S4, f"{spec.name} activations, batch {batch} × {seq:,} tokens",
        f"{batch} × {seq:,} × {H:,} × {L} × 2 B = {formula:,} B",
        {"model": spec.name, "batch": batch, "sequence_length": seq, "hidden_dim": H, "layers": L},
        printed, formula, e.activations.bytes, "activations", s, how, verdict, tuple(flags))


def _act_how(e) -> str:
    s = e.scenario
    chunk = s.prefill_chunk or e.engine.chunk(e.fit.gpu.usable_bytes if e.fit else 0)
    tokens = min(s.batch * s.context, chunk) if chunk else s.batch * s.context
    return f"the peak working set of one forward pass in {e.engine.label} ({tokens:,} tokens at once)"


# ---------------------------------------------------------------- sections 5 and 6: totals

@dataclass(frozen=True)
class _Claim:
    """A fit verdict the guide prints: on which GPU, fits or not, about the weights alone or the total."""
    gpu: str
    fits: bool
    of: str = "total"


def _total_row(id_, section, title, model_id, fmt, batch, seq, printed, parts_printed, overhead_gb,
               kv="FP16", claim=None, baseline=None) -> WorkedExample:
    """A total: the guide's weights (parameters × bytes), KV cache, activations and overhead, each with
    its printed figure (`parts_printed`: weights, KV, activations, overhead), and their sum. `baseline`:
    the row this one claims a reduction from."""
    spec, nominal = preset_model(model_id), NOMINAL[model_id]
    H, L = spec.hidden_size, spec.num_layers
    bpp = {"FP16": "2", "INT8": "1", "Q4_K_M": "0.5"}[fmt]
    P = {"FP16": 2, "INT8": 1}[kv]
    f_parts = (guide_weights(nominal, bpp), guide_kv(batch, seq, H, L, P), guide_activations(batch, seq, H, L),
               overhead_gb * GUIDE_GB)
    formula = sum(f_parts)
    s, e = _est(model_id, REAL_WEIGHTS.get(fmt, fmt), seq, batch, REAL_KV[kv], claim.gpu if claim else "")
    e_parts = (e.weights.bytes, e.kv_cache.bytes, e.activations.bytes, e.overhead.bytes)
    names = ("weights", "kv_cache", "activations", "overhead")
    only_weights = claim is not None and claim.of == "weights"
    parts = () if only_weights else tuple(Part(n, p, f, x) for n, p, f, x in zip(names, parts_printed, f_parts, e_parts))
    flags = []
    formula_bytes = f_parts[0] if only_weights else formula
    exact_bytes = e.weights.bytes if only_weights else e.total
    lines = []
    if not only_weights:
        wrong = [p for p in parts if reads_as(p.printed, p.formula_bytes) == ""]
        units = {reads_as(p.printed, p.formula_bytes) for p in parts} - {""}
        lines.append("Parts (printed → its formula → real): " + "; ".join(
            f"{_LABEL[p.name]} {p.printed} → {_gib(p.formula_bytes)}{' (wrong)' if p in wrong else ''} → "
            f"{_gib(p.exact_bytes)}" for p in parts) + ".")
        if units == {"GB", "GiB"}:
            lines.append("The sum adds decimal GB (the weights) to GiB (the rest).")
    arithmetic = _arithmetic(printed, formula_bytes, flags)
    notes = [_mha_note(model_id, flags) if not only_weights else "", _context_note(model_id, seq, flags),
             _count_note(model_id, flags)]
    how = (f"{e.weight_format.name} weights ({e.bits_per_weight:.2f} bits per weight), {e.kv_format.name} KV cache, "
           f"{e.engine.label}" if not only_weights else _weights_how(e))
    fit = _fit_note(claim, formula_bytes, exact_bytes, e, flags) if claim else ""
    if baseline is not None:
        cut = lambda new, old: f"{(1 - new / old) * 100:.0f}%"  # noqa: E731
        fit = (f"The reduction: {cut(printed_number(printed), printed_number(baseline.printed))} by its printed "
               f"totals, {cut(formula_bytes, baseline.formula_bytes)} by its formula, "
               f"{cut(exact_bytes, baseline.exact_bytes)} for the real model.")
    if "flips" in flags:  # the headline: the guide's verdict is wrong
        arithmetic, fit = fit + " " + arithmetic, ""
    verdict = _join(arithmetic, *lines, *notes, _exact_note(exact_bytes, how), fit)
    inputs = {"model": spec.name, "weights": fmt, "bytes_per_parameter": bpp, "parameters": nominal, "batch": batch,
              "sequence_length": seq, "hidden_dim": H, "layers": L, "kv_precision_bytes": P,
              "overhead_gb": overhead_gb}
    if claim:
        inputs["gpu"] = gpu_named(claim.gpu).name
    formula_text = (f"{nominal:,} × {bpp} B = {f_parts[0]:,} B" if only_weights else
                    f"{nominal:,} × {bpp} + 2 × {batch} × {seq:,} × {H:,} × {L} × {P} + "
                    f"{batch} × {seq:,} × {H:,} × {L} × 2 + {overhead_gb} × 1,073,741,824 = {formula:,} B")
    return WorkedExample(id_, section, title, formula_text, inputs, printed, formula_bytes, exact_bytes,
                         "weights" if only_weights else "total", s, how, verdict, tuple(flags), parts)


_LABEL = {"weights": "weights", "kv_cache": "KV cache", "activations": "activations", "overhead": "overhead"}


def _fit_note(claim: _Claim, formula_bytes: int, exact_bytes: int, e, flags: list) -> str:
    g = gpu_named(claim.gpu)
    by_formula = formula_bytes <= g.memory_bytes
    real = exact_bytes <= e.fit.capacity
    say = {True: "fits", False: "does not fit"}
    what = "the weights alone" if claim.of == "weights" else "the total"
    text = (f"On one {g.name} ({_gib(g.memory_bytes)}; {_gib(e.fit.capacity)} usable by {e.engine.label}), "
            f"{what}: the guide says it {say[claim.fits]}; by its own formula, {_gib(formula_bytes)}, it "
            f"{say[by_formula]}; really, {_gib(exact_bytes)}, it {say[real]}.")
    if claim.fits != real or claim.fits != by_formula:
        flags.append("flips")
        text = "The verdict flips. " + text
    return text


# ---------------------------------------------------------------- all the rows

def worked_examples() -> list:
    """Every worked example of the guide's sections 1–6 and its cheat sheet, in the guide's order."""
    rows = []
    # 1. Base model memory: "Llama 2 70B Model: FP32: 70B × 4 bytes = 280 GB" ...
    for model_id, printed in (("llama-2-70b", ("280 GB", "140 GB", "70 GB", "35 GB")),
                              ("llama-3-8b", ("32 GB", "16 GB", "8 GB", "4 GB"))):
        for (fmt, b), p in zip((("FP32", "4"), ("FP16", "2"), ("INT8", "1"), ("INT4", "0.5")), printed):
            rows.append(_weights_row(model_id, fmt, b, p))
    # 2. GGUF quantization types (bits per weight), applied to Llama 3 8B as its file-size table is
    for fmt, bits, bytes_pp in GGUF_TABLE:
        rows.append(_bpp_row(f"bpw-{fmt.lower()}", S2, "llama-3-8b", fmt, bits, bytes_pp,
                             f"{bits} bits, {bytes_pp} B per parameter"))
    # 2. "Example: Llama 3 8B Model File Sizes"
    for fmt, printed, bytes_pp in FILE_TABLE:
        rows.append(_file_row(fmt, printed, bytes_pp))
    # 3. KV cache examples
    rows.append(_kv_row("kv-llama-2-70b-b8-4096", "llama-2-70b", "FP16", 8, 4096, "≈ 32 GB"))
    rows.append(_kv_row("kv-llama-3-8b-1m", "llama-3-8b", "Q4_K_M", 1, 1_000_000, "≈ 128 GB"))
    # 4. Activation examples
    rows.append(_act_row("act-llama-2-70b-b1-2048", "llama-2-70b", "FP16", 1, 2048, "≈ 2.5 GB"))
    rows.append(_act_row("act-llama-2-70b-b8-2048", "llama-2-70b", "FP16", 8, 2048, "≈ 20 GB"))
    rows.append(_act_row("act-llama-3-8b-1m", "llama-3-8b", "Q4_K_M", 1, 1_000_000, "≈ 64 GB"))
    # 5. Total inference memory
    rows.append(_total_row("total-llama-3-8b-1m", S5, "Llama 3 8B with 1M tokens: total (Q4_K_M, FP16 KV cache)",
                           "llama-3-8b", "Q4_K_M", 1, 1_000_000, "197.5 GB", ("3.5", "128", "64", "2"), 2))
    rows.append(_total_row("total-llama-2-70b-2k-b1", S5, "Llama 2 70B, short context (2K tokens, batch 1): total, FP16",
                           "llama-2-70b", "FP16", 1, 2048, "~160.5 GB", ("140", "~16", "~2.5", "2"), 2))
    rows.append(_total_row("total-llama-2-70b-32k-b8", S5, "Llama 2 70B, long context (32K tokens, batch 8): total, FP16",
                           "llama-2-70b", "FP16", 8, 32768, "~438 GB", ("140", "~256", "~40", "2"), 2))
    # 6. Practical examples
    rows.append(_total_row("ex1-llama-3-8b-24gb", S6, "Example 1: Llama 3 8B, 4K context, on a 24 GB GPU (Q4_K_M)",
                           "llama-3-8b", "Q4_K_M", 1, 4096, "~5.75 GB ✅ Fits comfortably", ("3.5", "~1", "~0.25", "1"),
                           1, claim=_Claim("rtx-4090", True)))
    a100 = dict(model_id="llama-2-70b", batch=4, seq=8192, overhead_gb=2)
    rows.append(_total_row("ex2-fp16", S6, "Example 2: Llama 2 70B on an A100 80GB, 8K × batch 4 — FP16 weights",
                           fmt="FP16", printed="140 GB ❌ Doesn't fit", parts_printed=("140", "", "", ""),
                           claim=_Claim("a100-80gb", False, "weights"), **a100))
    rows.append(_total_row("ex2-int8", S6, "Example 2: INT8 weights", fmt="INT8",
                           printed="~146 GB ❌ Still doesn't fit", parts_printed=("70", "~64", "~10", "2"),
                           claim=_Claim("a100-80gb", False), **a100))
    rows.append(_total_row("ex2-better", S6, "Example 2, “better solution”: Q4_K_M weights, FP16 KV cache",
                           fmt="Q4_K_M", printed="~111 GB ❌ Still exceeds 80GB", parts_printed=("~35", "~64", "~10", "2"),
                           claim=_Claim("a100-80gb", False), **a100))
    rows.append(_total_row("ex2-optimal", S6, "Example 2, “optimal solution”: Q4_K_M weights, INT8 KV cache",
                           fmt="Q4_K_M", kv="INT8", printed="~79 GB ✅ Fits with margin",
                           parts_printed=("~35", "~32", "~10", "2"), claim=_Claim("a100-80gb", True), **a100))
    rows.append(_total_row("ex3-llama-3-8b-1m", S6, "Example 3: Llama 3 8B, 1,000,000 tokens (Q4_K_M, FP16 KV cache)",
                           "llama-3-8b", "Q4_K_M", 1, 1_000_000, "197.5 GB", ("3.5", "128", "64", "2"), 2))
    rows.append(_total_row("ex3-int8-kv", S6, "Example 3 optimized: INT8 KV cache", "llama-3-8b", "Q4_K_M", 1,
                           1_000_000, "133.5 GB (33% reduction)", ("3.5", "64", "64", "2"), 2, kv="INT8",
                           baseline=rows[-1]))
    # Cheat sheet: bytes per parameter, applied to Llama 2 70B (section 1's first model)
    for fmt, bytes_pp in CHEAT_TABLE:
        rows.append(_bpp_row(f"cheat-{fmt.lower()}", CHEAT, "llama-2-70b", fmt, "", bytes_pp.lstrip("~"),
                             f"{bytes_pp} bytes"))
    return rows


# ---------------------------------------------------------------- output

def examples_json() -> str:
    """`python -m pycore examples --json`: the rows as a JSON list."""
    import json
    return json.dumps([w.as_dict() for w in worked_examples()], indent=2, ensure_ascii=False)


def examples_text() -> str:
    """`python -m pycore examples`: the rows as text, by section."""
    lines, section = [], None
    for w in worked_examples():
        if w.section != section:
            section = w.section
            lines += ["", section, "=" * len(section)]
        lines += [f"{w.id}: {w.title}",
                  f"  guide's formula   {w.formula}",
                  f"  printed           {w.printed}",
                  f"  formula gives     {_both(w.formula_bytes)}",
                  f"  this calculator   {_both(w.exact_bytes)} ({w.measure.replace('_', ' ')}: {w.exact_how})",
                  f"  verdict           {w.verdict}",
                  f"  link              ?{w.query}"]
    return "\n".join(lines[1:])


def examples_view() -> list:
    """The page's section: [(section, [row])], each row only text (the template puts it in with Jinja's
    escaping), its link the calculator's query string for the row's scenario."""
    by_section = {}
    for w in worked_examples():
        by_section.setdefault(w.section, []).append({
            "id": w.id, "title": w.title, "formula": w.formula, "printed": w.printed,
            "formula_gib": _gib(w.formula_bytes), "formula_gb": _gb(w.formula_bytes),
            "exact_gib": _gib(w.exact_bytes), "exact_gb": _gb(w.exact_bytes), "exact_how": w.exact_how,
            "measure": {"kv_cache": "KV cache"}.get(w.measure, w.measure), "verdict": w.verdict,
            "formula_bytes": w.formula_bytes, "exact_bytes": w.exact_bytes, "href": "?" + w.query,
            "flips": "flips" in w.flags})
    return [(s, by_section[s]) for s in SECTIONS if s in by_section]
