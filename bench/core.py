"""Core throughput in CPython: full estimates per second, and the all-formats × all-GPUs table of one
model, and the hardware-first list of every catalog model on one device (cold: every cache pycore keeps emptied
first, as in a fresh process that has read the catalog; warm: cached). Prints medians; never fails.

    .venv/bin/python bench/core.py
"""
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pycore import formats, presets  # noqa: E402
from pycore.hardware import GPUS  # noqa: E402
from pycore.memory import estimate  # noqa: E402
from pycore.scenario import Scenario  # noqa: E402
from pycore.solve import format_table  # noqa: E402

RUNS = 7


def clear_caches():
    """Empty every cache pycore keeps (lru_cache), except the catalog's model specs (presets.model): what a
    fresh process has computed after reading the catalog."""
    from pycore import speed  # noqa: F401  (imported, so that its caches are emptied too)
    from pycore.engines import llamacpp, ollama, vllm  # noqa: F401
    for name, module in list(sys.modules.items()):
        if name == "pycore" or name.startswith("pycore."):
            for fn in list(vars(module).values()):
                if hasattr(fn, "cache_clear") and fn is not presets.model and getattr(fn, "__module__", "") == name:
                    fn.cache_clear()


def estimates_per_second(s: Scenario, n: int = 5000) -> float:
    estimate(s)
    start = time.perf_counter()
    for _ in range(n):
        estimate(s)
    return n / (time.perf_counter() - start)


def table_ms(s: Scenario, cold: bool) -> float:
    if cold:
        clear_caches()
    start = time.perf_counter()
    rows = format_table(s, list(GPUS))
    assert rows
    return (time.perf_counter() - start) * 1000


def hardware_first_ms(gpu_id: str, cold: bool) -> tuple:
    """The hardware-first list (every catalog model, best fitting format, speed) on one device: (wall-clock ms,
    CPU ms of this process). On an idle machine the two agree; on a shared one the CPU time is what the
    listing itself costs."""
    from pycore.hardware import gpu
    from pycore.hwfirst import fit_table
    if cold:
        clear_caches()
    start, cpu = time.perf_counter(), time.process_time()
    rows = fit_table(gpu(gpu_id), context=8192, ram_bytes=64 << 30, host=gpu("cpu-ddr5-5600-2ch"))
    assert rows
    return (time.perf_counter() - start) * 1000, (time.process_time() - cpu) * 1000


def main():
    print(f"python {sys.version.split()[0]}, {RUNS} runs each, medians")
    print(f"{'model':<16} {'estimates/s':>12} {'table cold ms':>14} {'table warm ms':>14}   "
          f"({len(formats.WEIGHT_FORMATS)} formats × {len(GPUS)} GPUs)")
    for model_id in ("llama-3.1-8b", "gemma-3-27b", "deepseek-v3", "gpt-oss-120b"):
        s = Scenario(model_id, weights="Q4_K_M", context=8192, gpu="rtx-4090")
        rate = statistics.median(estimates_per_second(s) for _ in range(RUNS))
        cold = statistics.median(table_ms(s, cold=True) for _ in range(RUNS))
        warm = statistics.median(table_ms(s, cold=False) for _ in range(RUNS))
        print(f"{model_id:<16} {rate:>12,.0f} {cold:>14.1f} {warm:>14.1f}")
    from pycore.presets import PRESETS
    print(f"\nhardware first: all {len(PRESETS)} catalog models on one device, context 8192, 64 GiB RAM "
          "(target < 300 ms; cold = every cache emptied but the model specs)")
    print(f"{'device':<16} {'cold ms':>10} {'(CPU ms)':>10} {'warm ms':>10}")
    for gpu_id in ("rtx-4090", "m4-max-128gb", "h100-sxm"):
        runs = [hardware_first_ms(gpu_id, cold=True) for _ in range(RUNS)]
        cold, cold_cpu = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        warm = statistics.median(hardware_first_ms(gpu_id, cold=False)[0] for _ in range(RUNS))
        print(f"{gpu_id:<16} {cold:>10.1f} {cold_cpu:>10.1f} {warm:>10.1f}")
    print()
    print("estimates/s with an engine profile's placement rules on (GPU + system RAM, log lines, inverse answers)")
    for label, s in (
            ("llama.cpp full", Scenario("llama-3.1-8b", weights="Q4_K_M", context=8192, gpu="rtx-4090", engine="llama.cpp")),
            ("llama.cpp --ngl 40", Scenario("llama-3.1-70b", weights="Q4_K_M", context=8192, gpu="rtx-4090",
                                            engine="llama.cpp", ngl=40)),
            ("ollama", Scenario("gpt-oss-120b", weights="MXFP4", context=8192, gpu="rtx-4090", engine="ollama")),
            ("vllm", Scenario("llama-3.1-8b", weights="BF16", context=8192, gpu="h100-sxm", engine="vllm"))):
        rate = statistics.median(estimates_per_second(s) for _ in range(RUNS))
        print(f"{label:<20} {rate:>12,.0f}")


if __name__ == "__main__":
    main()
