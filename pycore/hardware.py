"""GPUs and how a model is laid out over several of them.

Capacities are kept twice: as sold (what the box says) and as usable (what the driver lets
programs allocate, or for Apple silicon the share of unified memory the GPU may wire).
"""
from dataclasses import dataclass

from .errors import InputError, UnknownNameError
from . import devices as D
from .units import GiB, MiB


@dataclass(frozen=True)
class GPU:
    """One device of the catalog. Memory in bytes; bandwidth in GB/s (10^9 B/s, as vendors print it);
    throughput in dense TFLOPS/TOPS (no 2:4 sparsity); None where no figure is known (a custom device)."""

    id: str
    name: str
    vendor: str
    memory_bytes: int  # as sold
    usable_bytes: int  # what allocations can use
    source: str  # where the usable figure comes from
    note: str = ""
    group: str = ""  # picker group (devices.GROUPS)
    kind: str = "gpu"  # gpu, laptop, workstation, datacenter, unified, cpu
    memory_type: str = ""  # GDDR6, GDDR6X, GDDR7, HBM2e, HBM3, HBM3e, LPDDR5, LPDDR5X, DDR4, DDR5
    bus: str = ""  # memory bus width, or DDR channels
    bandwidth_gbps: object = None  # float GB/s
    fp16_tflops: object = None  # dense FP16/BF16 tensor (matrix) throughput
    int8_tops: object = None  # dense INT8 tensor throughput (0: no INT8 tensor path)
    fp8: bool = False  # FP8 tensor support
    fp4: bool = False  # FP4 tensor support
    backend: str = ""  # llama.cpp's usual backend here: CUDA, ROCm, Metal, Vulkan, SYCL, CPU
    spec_source: str = ""  # URL of the bandwidth and throughput figures
    spec_note: str = ""  # how the throughput figure was read or derived
    host_tflops: object = None  # the CPU cores' throughput, for the CPU backend on a device with a GPU

    @property
    def bandwidth_bytes_per_s(self) -> float:
        return (self.bandwidth_gbps or 0) * 1e9


def apple_gpu_share(ram_bytes: int) -> int:
    """What Metal lets the GPU wire by default (recommendedMaxWorkingSetSize): 2/3 of unified memory
    up to 32 GiB, 3/4 above. Printed by llama.cpp's Metal backend: 21845.34 MiB on 32 GB
    (ollama/ollama#434), 49152 MiB on 64 GB (ggml-org/llama.cpp#1870), 73728 MiB on 96 GB (#3213).
    Newer macOS releases allow more, and `sudo sysctl iogpu.wired_limit_mb=N` raises it."""
    return ram_bytes * 2 // 3 if ram_bytes <= 32 * GiB else ram_bytes * 3 // 4


_SMI = "nvidia-smi total"
_MODAL = "nvidia-smi totals of Modal's fleet (modal-labs/modal-client#2797)"
_AMD_EST = "no printed total found; AMD Instinct parts report 16 MiB under nominal (MI210, MI300X)"

# Usable memory where a driver's printed total was read: nvidia-smi MiB (NVIDIA), rocm-smi bytes (AMD).
# Every other discrete device is taken at its capacity as sold, and says so.
_PRINTED = {
    "rtx-3060": (12288 * MiB, f"{_SMI} 12288 MiB (geerlingguy/raspberry-pi-pcie-devices#790)"),
    "rtx-3080": (10240 * MiB, f"{_SMI} 10240 MiB (public log)"),
    "rtx-3090": (24576 * MiB, f"{_SMI} 24576 MiB (noonghunna/club-3090#390)"),
    "rtx-3090-ti": (24564 * MiB, f"{_SMI} 24564 MiB (public log)"),
    "rtx-4060-ti-16gb": (16380 * MiB, f"{_SMI} 16380 MiB (public log)"),
    "rtx-4070-ti-super": (16376 * MiB, "no printed total found; taken as the RTX 4080's 16376 MiB (same 16 GB GDDR6X), estimated"),
    "rtx-4080": (16376 * MiB, f"{_SMI} 16376 MiB (public log)"),
    "rtx-4090": (24564 * MiB, f"{_SMI} 24564 MiB (RLinf/RLinf#255)"),
    "rtx-5080": (16303 * MiB, f"{_SMI} 16303 MiB (public log)"),
    "rtx-5090": (32607 * MiB, f"{_SMI} 32607 MiB (noonghunna/club-3090#1261)"),
    "rtx-a6000": (49140 * MiB, f"{_SMI} 49140 MiB (public log)"),
    "rtx-6000-ada": (49140 * MiB, f"{_SMI} 49140 MiB (public log)"),
    "rtx-pro-6000": (97887 * MiB, f"{_SMI} 97887 MiB (public log)"),
    "t4": (15360 * MiB, f"{_MODAL}: 15360 MiB (ECC takes 1/16 of GDDR6)"),
    "v100-16gb": (16160 * MiB, f"{_SMI} 16160 MiB (public log)"),
    "v100-32gb": (32510 * MiB, f"{_SMI} 32510 MiB (older drivers; newer show 32768)"),
    "a10": (23028 * MiB, f"{_MODAL}: 23028 MiB"),
    "a10g": (23028 * MiB, f"{_SMI} 23028 MiB (public log)"),
    "l4": (23034 * MiB, f"{_MODAL}: 23034 MiB"),
    "l40s": (46068 * MiB, f"{_MODAL}: 46068 MiB"),
    "a100-40gb": (40960 * MiB, f"{_MODAL}: 40960 MiB"),
    "a100-80gb": (81920 * MiB, f"{_MODAL}: 81920 MiB"),
    "h100-sxm": (81559 * MiB, f"{_SMI} 81559 MiB (NVIDIA/nccl#1264)"),
    "h100-pcie": (81559 * MiB, f"{_SMI} 81559 MiB (public log)"),
    "h100-nvl": (95830 * MiB, f"{_SMI} 95830 MiB (NVIDIA/gpu-admin-tools#4)"),
    "h200": (143771 * MiB, f"{_SMI} 143771 MiB (utkuozdemir/nvidia_gpu_exporter)"),
    "b200": (183359 * MiB, f"{_SMI} 183359 MiB (public log)"),
    "gh200": (97871 * MiB, f"{_SMI} 97871 MiB (public log); Grace's LPDDR5X not counted"),
    "mi210": (68702699520, "rocm-smi VRAM Total Memory 68702699520 B (public log)"),
    "mi250x": (68702699520, "rocm-smi 68702699520 B per GCD (public log); a package is 2 devices of 64 GB"),
    "mi300x": (206141652992, "rocm-smi VRAM Total Memory 206141652992 B (ROCm/legacy-rocm-build#4750)"),
    "mi325x": (256 * GiB - 16 * MiB, _AMD_EST + ", estimated"),
    "mi355x": (288 * GiB - 16 * MiB, _AMD_EST + ", estimated"),
    "rx-7900-xtx": (25753026560, "rocm-smi VRAM Total Memory 25753026560 B (public log)"),
}
_AS_SOLD = "no printed driver total read: usable taken as the capacity as sold (estimated)"

# Apple ids that predate the per-variant catalog, kept so old links and tests keep working.
_APPLE_SOURCES = {
    "m1-8gb": "ggml-org/llama.cpp#5207: 5461.34 MiB = 2/3 of 8 GiB",
    "m1-pro-16gb": "abetlen/llama-cpp-python#687: 10922.67 MiB = 2/3",
    "m2-24gb": "llama.cpp Metal log 17179.89 MB = 2/3 of 24 GiB",
    "m2-max-32gb": "ollama/ollama#434: 21845.34 MiB = 2/3",
    "m4-32gb": "2/3 rule; a macOS 15+ log shows 26800.60 MB (0.78)",
    "m4-max-36gb": "llama.cpp b7690 log 28991.03 MB = 3/4 of 36 GiB",
    "m4-pro-48gb": "3/4 rule; a newer macOS log shows 40200.90 MB",
    "m3-max-48gb": "llama.cpp Metal log 38654.71 MB = 3/4",
    "m1-max-64gb": "ggml-org/llama.cpp#1870: 49152.00 MiB = 3/4",
    "m2-max-96gb": "ggml-org/llama.cpp#3213: 73728 MiB = 3/4",
    "m4-max-128gb": "llama.cpp build 8468 log 103079.22 MB = 3/4",
    "m3-ultra-512gb": "3/4 rule; a newer macOS log shows 498216.21 MB",
}
ALIASES = {"mac-8gb": "m1-8gb"}  # "Apple M-series 8 GB": the M1's 8-core GPU with 8 GB


def _discrete(rows, vendor, group, kind, backend):
    out = []
    for (gid, name, sold, mem, bus, bw, fp16, int8, fp8, fp4, src, note) in rows:
        usable, usource = _PRINTED.get(gid, (sold * GiB, _AS_SOLD))
        out.append(GPU(gid, name, vendor, sold * GiB, usable, usource, "" if gid in _PRINTED else "estimated",
                       group, kind, mem, bus, float(bw), float(fp16), float(int8), bool(fp8), bool(fp4), backend,
                       D.url(src), note))
    return out


def _unified():
    out = []
    for (gid, name, sold, mem, bus, bw, fp16, int8, fp8, fp4, src, note, usable_gib) in D.UNIFIED:
        nvidia = name.startswith("NVIDIA")
        rule = ("unified memory shared with the CPU; the GPU's share taken as {} GiB of {} (estimated: the OS and "
                "CPU keep the rest{})").format(usable_gib, sold, "" if nvidia else
                                               "; Windows lets the GPU take at most 3/4 as dedicated memory")
        out.append(GPU(gid, name, "NVIDIA" if nvidia else "AMD", sold * GiB, usable_gib * GiB, rule, "estimated",
                       "NVIDIA DGX Spark and Jetson" if nvidia else "AMD Ryzen AI Max (unified memory)", "unified",
                       mem, bus, float(bw), float(fp16), float(int8), bool(fp8), bool(fp4),
                       "CUDA" if nvidia else "Vulkan", D.url(src),
                       note + (f"; CPU: {D.HOST_TFLOPS[gid][1]}" if gid in D.HOST_TFLOPS else ""),
                       D.HOST_TFLOPS.get(gid, (None,))[0]))
    return out


def _apple():
    out = []
    cores_by_option = {}
    for chip, cores, _, _, options, _ in D.APPLE_CHIPS:
        for gb in options:
            cores_by_option.setdefault((chip, gb), []).append(cores)
    for chip, cores, bw, clock, options, src in D.APPLE_CHIPS:
        slug = chip.lower().replace(" ", "-")
        per_clock = D.apple_matrix_flops_per_clock(chip)
        accel = ("; the GPU Neural Accelerators, used by llama.cpp through the Metal 4 tensor API: 4 × 256, "
                 "from Apple's \"over 4x the peak GPU compute for AI\"" if per_clock != 256 else "")
        tflops = round(cores * per_clock * clock / 1000, 1)
        for gb in options:
            variants = cores_by_option[(chip, gb)]
            gid = f"{slug}-{gb}gb" if cores == max(variants) else f"{slug}-{cores}c-{gb}gb"
            ram = gb * GiB
            out.append(GPU(gid, f"Apple {chip} ({cores}-core GPU) {gb} GB", "Apple", ram, apple_gpu_share(ram),
                           _APPLE_SOURCES.get(gid, "Metal's default GPU working set: 2/3 up to 32 GiB, 3/4 above"),
                           "unified memory; usable = Metal's default GPU working set", "Apple silicon (unified memory)",
                           "unified", "LPDDR5X" if chip[:2] in ("M4", "M5") else "LPDDR5", "unified",
                           float(bw), tflops, 0.0, False, False, "Metal", D.url(src),
                           f"{cores} cores × {per_clock} FP16 FLOPs/clk × {clock} GHz (derived; Apple prints no tensor "
                           f"figure{accel})"))
    return out


def _cpus():
    out = []
    for gid, name, gb, ddr, mts, channels, tflops, note in D.CPU_SYSTEMS:
        bw = channels * mts * 8 / 1000
        out.append(GPU(gid, name, "CPU", gb * GiB, gb * GiB, "system RAM, as fitted (use --ram for yours)", "",
                       "CPU only (system RAM)", "cpu", ddr, f"{channels} channels", bw, float(tflops), 0.0, False,
                       False, "CPU", D.url("ddr"),
                       f"bandwidth = {channels} channels × {mts} MT/s × 8 B = {bw:g} GB/s; compute {note} (derived)"))
    return out


# The catalog: every device once (see devices.py for the figures and their sources).
GPU_TABLE = tuple(
    _discrete(D.GEFORCE, "NVIDIA", "NVIDIA GeForce", "gpu", "CUDA")
    + _discrete(D.GEFORCE_LAPTOP, "NVIDIA", "NVIDIA GeForce laptop", "laptop", "CUDA")
    + _discrete(D.WORKSTATION, "NVIDIA", "NVIDIA workstation", "workstation", "CUDA")
    + _discrete(D.DATACENTER, "NVIDIA", "NVIDIA data center", "datacenter", "CUDA")
    + _unified()
    + _discrete(D.RADEON, "AMD", "AMD Radeon", "gpu", "ROCm")
    + _discrete(D.INSTINCT, "AMD", "AMD Instinct", "datacenter", "ROCm")
    + _discrete(D.ARC, "Intel", "Intel Arc", "gpu", "Vulkan")
    + _apple()
    + _cpus()
)
GPUS = {g.id: g for g in GPU_TABLE}
for _alias, _target in ALIASES.items():
    assert _target in GPUS and _alias not in GPUS
assert len(GPUS) == len(GPU_TABLE), "duplicate device id"


def gpu_dict(g: GPU) -> dict:
    """Every field of a device, JSON-able (the `gpus --json` rows)."""
    from dataclasses import asdict
    return asdict(g)


def gpu(gpu_id: str) -> GPU:
    key = gpu_id.strip().lower() if isinstance(gpu_id, str) else None
    key = ALIASES.get(key, key)
    if key not in GPUS:
        raise UnknownNameError("gpu", f"unknown GPU {str(gpu_id)[:40]!r} (see `python -m pycore gpus`)")
    return GPUS[key]


def custom_gpu(memory_bytes: int, bandwidth_gbps=None, fp16_tflops=None) -> GPU:
    if not isinstance(memory_bytes, int) or isinstance(memory_bytes, bool) or memory_bytes <= 0:
        raise InputError("gpu_memory", "must be a positive number of bytes")
    if memory_bytes > 1 << 50:
        raise InputError("gpu_memory", "more than 1 PiB per GPU is not a real device")
    for field, value, limit in (("bandwidth", bandwidth_gbps, 1e6), ("tflops", fp16_tflops, 1e6)):
        if value is not None and not (0 < value <= limit):
            raise InputError(field, f"{value!r} is not a usable figure")
    return GPU("custom", "Custom GPU", "custom", memory_bytes, memory_bytes, "entered by the user",
               bandwidth_gbps=bandwidth_gbps, fp16_tflops=fp16_tflops, backend="CUDA" if bandwidth_gbps else "")


# ---------------------------------------------------------------- multi-GPU layout

TENSOR = "tensor"
PIPELINE = "pipeline"


@dataclass(frozen=True)
class Layout:
    """How the model is split: tp ranks per stage, pp stages; devices = tp × pp, times dp data-parallel
    engines (vLLM --data-parallel-size: set by the vLLM planner on the estimate it returns)."""

    tp: int
    pp: int
    dp: int = 1

    @property
    def devices(self) -> int:
        return self.tp * self.pp * self.dp


def layout(parallel: str, gpus: int, spec) -> Layout:
    if parallel not in (TENSOR, PIPELINE):
        raise InputError("parallel", f"must be '{TENSOR}' or '{PIPELINE}'")
    if gpus == 1:
        return Layout(1, 1)
    if parallel == PIPELINE:
        if gpus > spec.num_layers:
            raise InputError("gpus", f"{gpus} pipeline stages for {spec.num_layers} layers: at most one stage per layer")
        return Layout(1, gpus)
    if spec.num_heads % gpus:
        raise InputError("gpus", f"tensor parallelism splits {spec.num_heads} attention heads evenly: "
                                 f"{gpus} GPUs do not divide them (try pipeline parallelism)")
    kv = spec.num_kv_heads
    if not spec.is_mla and kv % gpus and gpus % kv:
        raise InputError("gpus", f"{kv} KV heads cannot be split or replicated evenly over {gpus} GPUs")
    return Layout(gpus, 1)


def stage_layers(num_layers: int, pp: int) -> tuple:
    """Layers per pipeline stage: an even split, the remainder going to the stages before the last
    (vLLM get_pp_indices), so the stage holding the output head is not also the longest."""
    base, extra = divmod(num_layers, pp)
    sizes = [base] * pp
    for i in range(extra):  # extra < pp, so this never reaches past the first stage
        sizes[-2 - i] += 1
    bounds, start = [], 0
    for size in sizes:
        bounds.append((start, start + size))
        start += size
    return tuple(bounds)
