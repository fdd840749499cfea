"""The speed model against published llama-bench results: the development rows (tests/speed_reference.py, a
transcription of shared/reference/speed_dev.json) and the held-out rows (tests/speed_heldout.py, published
results that are not in that file, each with its URL). Prints predicted vs published tokens/s for every row
(--rows) and the median absolute error per backend and test kind, for both sets. `--fit` searches the
efficiency tables' values per backend (a grid minimising the median absolute error over all of that backend's
devices, development rows only) and prints them; the tables in pycore/speed.py hold the chosen values.

    .venv/bin/python bench/speed.py [--rows] [--fit]
"""
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pycore import speed as S  # noqa: E402
from pycore.hardware import gpu  # noqa: E402
from pycore.memory import estimate  # noqa: E402
from pycore.scenario import Scenario  # noqa: E402
from speed_heldout import ROWS as HELDOUT  # noqa: E402
from speed_reference import ROWS  # noqa: E402


def predict(row):
    """Predicted tokens/s for a row; its test is llama-bench's name: ppN, tgN, optionally "@dD" (after D tokens)."""
    gid, backend, model, quant, test = row[:5]
    e = estimate(Scenario(model, weights=quant, context=512, engine="llama.cpp"))
    device = gpu(gid)
    test, _, depth = test.partition("@d")
    depth = int(depth or 0)
    n = int(test[2:])
    if test.startswith("tg"):
        # llama-bench tg128 generates 128 tokens after the depth: mean depth depth + n / 2
        return S.speed(e, device, depth=depth + n // 2, prompt_tokens=512, backend=backend, batch=1).decode_tokens_per_s
    return S.speed(e, device, depth=0, prompt_tokens=n, backend=backend, batch=1,
                   prefill_depth=depth).prefill_tokens_per_s


def errors(rows_in=ROWS):
    """{(backend, kind): [abs % error]} and the per-row table."""
    out, rows = {}, []
    for row in rows_in:
        got = predict(row)
        err = (got - row[5]) / row[5] * 100
        kind = "tg" if row[4].startswith("tg") else "pp"
        out.setdefault((row[1], kind), []).append(abs(err))
        rows.append((row, got, err))
    return out, rows


def table(errs) -> str:
    lines = [f"{'backend':<8} {'test':<4} {'rows':>4} {'median |err| %':>15} {'max |err| %':>12}"]
    for (backend, kind), v in sorted(errs.items()):
        lines.append(f"{backend:<8} {kind:<4} {len(v):>4} {statistics.median(v):>15.1f} {max(v):>12.1f}")
    return "\n".join(lines)


def _key(table, row):
    return S.efficiency_key(table, row[1], gpu(row[0]))


def _median_error(rows):
    return statistics.median(abs(predict(r) - r[5]) / r[5] for r in rows)


def fit():
    """Per key of the tables (a backend, or a backend and a device class), the grid values with the
    smallest median absolute error over that key's rows."""
    for key in [k for k in S.DECODE_BANDWIDTH_EFFICIENCY] + [k for k in S.DECODE_FIXED_SECONDS
                                                              if k not in S.DECODE_BANDWIDTH_EFFICIENCY]:
        tg = [r for r in ROWS if r[4].startswith("tg") and _key(S.DECODE_FIXED_SECONDS, r) == key
              and _key(S.DECODE_BANDWIDTH_EFFICIENCY, r) in (key, key[0] if isinstance(key, tuple) else key)]
        if len(tg) < 2:
            continue
        best = None
        effs = [x / 100 for x in range(40, 91, 5)]  # above 90% of a datasheet peak is not reached by streaming reads
        if key not in S.DECODE_BANDWIDTH_EFFICIENCY:  # a device class with its own fixed cost only
            effs = [S.DECODE_BANDWIDTH_EFFICIENCY[key[0]]]
        for eff in effs:
            for fixed in [x / 10000 for x in range(0, 80, 5)]:
                S.DECODE_BANDWIDTH_EFFICIENCY[key if key in S.DECODE_BANDWIDTH_EFFICIENCY else key[0]] = eff
                S.DECODE_FIXED_SECONDS[key] = fixed
                score = _median_error(tg)
                if best is None or score < best[0]:
                    best = (score, eff, fixed)
        S.DECODE_BANDWIDTH_EFFICIENCY[key if key in S.DECODE_BANDWIDTH_EFFICIENCY else key[0]] = best[1]
        S.DECODE_FIXED_SECONDS[key] = best[2]
        print(f"decode  {str(key):<24} {len(tg):>3} rows: efficiency {best[1]:.2f}, fixed {best[2] * 1e3:.1f} ms "
              f"(median |err| {best[0] * 100:.1f}%)")
    moe_models = {"gpt-oss-20b", "gpt-oss-120b", "qwen3-30b-a3b"}
    for key in S.DECODE_MOE_LAYER_SECONDS:
        tg = [r for r in ROWS if r[4].startswith("tg") and r[2] in moe_models and r[1] == key]
        if len(tg) < 2:
            continue
        best = None
        for us in range(0, 200, 5):
            S.DECODE_MOE_LAYER_SECONDS[key] = us * 1e-6
            score = _median_error(tg)
            if best is None or score < best[0]:
                best = (score, us)
        S.DECODE_MOE_LAYER_SECONDS[key] = best[1] * 1e-6
        print(f"decode  MoE layer {key:<14} {len(tg):>3} rows: {best[1]} µs per MoE layer "
              f"(median |err| {best[0] * 100:.1f}%)")
    # Prefill, in three steps so that each value comes from rows it alone explains: (1) the efficiency of every
    # key with at least 2 rows off power-limited SoCs, on those rows; (2) the SoC sustained fraction, the median
    # ratio of published to predicted over the SoC rows of the keys fitted in (1); (3) the remaining keys (ROCm:
    # one discrete device) on all their rows, the SoC fraction held.
    def is_soc(r):
        return S.sustained_compute(gpu(r[0]), r[1]) != 1

    def fit_key(key, rows):
        best = None
        for ceff in [x / 100 for x in range(2, 101, 1)]:
            S.PREFILL_COMPUTE_EFFICIENCY[key] = ceff
            score = _median_error(rows)
            if best is None or score < best[0]:
                best = (score, ceff)
        S.PREFILL_COMPUTE_EFFICIENCY[key] = best[1]
        print(f"prefill {str(key):<24} {len(rows):>3} rows: efficiency {best[1]:.2f} (median |err| {best[0] * 100:.1f}%)")

    pp_rows = {key: [r for r in ROWS if r[4].startswith("pp") and _key(S.PREFILL_COMPUTE_EFFICIENCY, r) == key]
               for key in S.PREFILL_COMPUTE_EFFICIENCY}
    first = [k for k, rows in pp_rows.items() if len([r for r in rows if not is_soc(r)]) >= 2]
    for key in first:
        fit_key(key, [r for r in pp_rows[key] if not is_soc(r)])
    soc = [r for k in first for r in pp_rows[k] if is_soc(r)]
    S.SOC_SUSTAINED_COMPUTE = 1.0
    S.SOC_SUSTAINED_COMPUTE = round(statistics.median(r[5] / predict(r) for r in soc), 2)
    print(f"prefill SoC sustained fraction over {len(soc)} rows ({len({r[0] for r in soc})} devices): "
          f"{S.SOC_SUSTAINED_COMPUTE:.2f}")
    for key, rows in pp_rows.items():
        if key not in first and len(rows) >= 2:
            fit_key(key, rows)


def main():
    if "--fit" in sys.argv:
        fit()
    for name, rows_in, where in (("development", ROWS, "shared/reference/speed_dev.json"),
                                 ("held-out", HELDOUT, "tests/speed_heldout.py, not fitted on")):
        errs, rows = errors(rows_in)
        if "--rows" in sys.argv:
            for row, got, err in rows:
                print(f"{row[0]:<24} {row[1]:<7} {row[2]:<14} {row[3]:<7} {row[4]:<7} {row[5]:>10.2f} {got:>10.2f} "
                      f"{err:>+7.1f}%")
        print(f"{name}: {len(rows_in)} published llama-bench rows ({where})")
        print(table(errs))


if __name__ == "__main__":
    main()
