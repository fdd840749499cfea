"""GPUs and how a model is laid out over several of them.

Capacities are kept twice: as sold (what the box says) and as usable (what the driver lets
programs allocate, or for Apple silicon the share of unified memory the GPU may wire).
"""
from dataclasses import dataclass

from .errors import InputError, UnknownNameError
from .units import GiB, MiB


@dataclass(frozen=True)
class GPU:
    id: str
    name: str
    vendor: str
    memory_bytes: int  # as sold
    usable_bytes: int  # what allocations can use
    source: str
    note: str = ""


def _nvidia(id, name, sold_gb, smi_mib, source, note=""):
    """NVIDIA/AMD VRAM: the box's "GB" are binary (24 GB = 24 GiB); usable is the driver's total."""
    usable = smi_mib * MiB if smi_mib else sold_gb * GiB
    return GPU(id, name, "NVIDIA", sold_gb * GiB, usable, source, note)


def _amd(id, name, sold_gb, total_bytes, source, note=""):
    return GPU(id, name, "AMD", sold_gb * GiB, total_bytes, source, note)


def apple_gpu_share(ram_bytes: int) -> int:
    """What Metal lets the GPU wire by default (recommendedMaxWorkingSetSize): 2/3 of unified memory
    up to 32 GiB, 3/4 above. Printed by llama.cpp's Metal backend: 21845.34 MiB on 32 GB
    (ollama/ollama#434), 49152 MiB on 64 GB (ggml-org/llama.cpp#1870), 73728 MiB on 96 GB (#3213).
    Newer macOS releases allow more, and `sudo sysctl iogpu.wired_limit_mb=N` raises it."""
    return ram_bytes * 2 // 3 if ram_bytes <= 32 * GiB else ram_bytes * 3 // 4


def _apple(id, name, ram_gb, source):
    ram = ram_gb * GiB
    return GPU(id, name, "Apple", ram, apple_gpu_share(ram), source,
               "unified memory; usable = Metal's default GPU working set")


_SMI = "nvidia-smi total"
_MODAL = "nvidia-smi totals of Modal's fleet (modal-labs/modal-client#2797)"

# The catalog. "usable" is what the driver reports as total memory (nvidia-smi / rocm-smi), or for
# Apple silicon the GPU's share of unified memory. The CUDA context and runtime are counted as overhead.
GPU_TABLE = (
    _nvidia("rtx-3060", "NVIDIA GeForce RTX 3060 12GB", 12, 12288, f"{_SMI} 12288 MiB (geerlingguy/raspberry-pi-pcie-devices#790)"),
    _nvidia("rtx-3080", "NVIDIA GeForce RTX 3080 10GB", 10, 10240, f"{_SMI} 10240 MiB (public log)"),
    _nvidia("rtx-3090", "NVIDIA GeForce RTX 3090", 24, 24576, f"{_SMI} 24576 MiB (noonghunna/club-3090#390)"),
    _nvidia("rtx-3090-ti", "NVIDIA GeForce RTX 3090 Ti", 24, 24564, f"{_SMI} 24564 MiB (public log)"),
    _nvidia("rtx-4060-ti-16gb", "NVIDIA GeForce RTX 4060 Ti 16GB", 16, 16380, f"{_SMI} 16380 MiB (public log)"),
    _nvidia("rtx-4070-ti-super", "NVIDIA GeForce RTX 4070 Ti SUPER", 16, 16376,
            "no printed total found; taken as the RTX 4080's 16376 MiB (same 16 GB GDDR6X)", "estimated"),
    _nvidia("rtx-4080", "NVIDIA GeForce RTX 4080", 16, 16376, f"{_SMI} 16376 MiB (public log)"),
    _nvidia("rtx-4090", "NVIDIA GeForce RTX 4090", 24, 24564, f"{_SMI} 24564 MiB (RLinf/RLinf#255)"),
    _nvidia("rtx-5080", "NVIDIA GeForce RTX 5080", 16, 16303, f"{_SMI} 16303 MiB (public log)"),
    _nvidia("rtx-5090", "NVIDIA GeForce RTX 5090", 32, 32607, f"{_SMI} 32607 MiB (noonghunna/club-3090#1261)"),
    _nvidia("rtx-a6000", "NVIDIA RTX A6000", 48, 49140, f"{_SMI} 49140 MiB (public log)"),
    _nvidia("rtx-6000-ada", "NVIDIA RTX 6000 Ada", 48, 49140, f"{_SMI} 49140 MiB (public log)"),
    _nvidia("rtx-pro-6000", "NVIDIA RTX PRO 6000 Blackwell", 96, 97887, f"{_SMI} 97887 MiB (public log)"),
    _nvidia("t4", "NVIDIA T4", 16, 15360, f"{_MODAL}: 15360 MiB (ECC takes 1/16 of GDDR6)"),
    _nvidia("v100-16gb", "NVIDIA V100 16GB", 16, 16160, f"{_SMI} 16160 MiB (public log)"),
    _nvidia("v100-32gb", "NVIDIA V100 32GB", 32, 32510, f"{_SMI} 32510 MiB (older drivers; newer show 32768)"),
    _nvidia("a10", "NVIDIA A10", 24, 23028, f"{_MODAL}: 23028 MiB"),
    _nvidia("a10g", "NVIDIA A10G (AWS)", 24, 23028, f"{_SMI} 23028 MiB (public log)"),
    _nvidia("l4", "NVIDIA L4", 24, 23034, f"{_MODAL}: 23034 MiB"),
    _nvidia("l40s", "NVIDIA L40S", 48, 46068, f"{_MODAL}: 46068 MiB"),
    _nvidia("a100-40gb", "NVIDIA A100 40GB", 40, 40960, f"{_MODAL}: 40960 MiB"),
    _nvidia("a100-80gb", "NVIDIA A100 80GB", 80, 81920, f"{_MODAL}: 81920 MiB"),
    _nvidia("h100-sxm", "NVIDIA H100 80GB SXM", 80, 81559, f"{_SMI} 81559 MiB (NVIDIA/nccl#1264)"),
    _nvidia("h100-pcie", "NVIDIA H100 80GB PCIe", 80, 81559, f"{_SMI} 81559 MiB (public log)"),
    _nvidia("h100-nvl", "NVIDIA H100 NVL 94GB", 94, 95830, f"{_SMI} 95830 MiB (NVIDIA/gpu-admin-tools#4)"),
    _nvidia("h200", "NVIDIA H200 141GB", 141, 143771, f"{_SMI} 143771 MiB (utkuozdemir/nvidia_gpu_exporter)"),
    _nvidia("b200", "NVIDIA B200", 180, 183359, f"{_SMI} 183359 MiB (public log)"),
    _nvidia("gh200", "NVIDIA GH200 (96 GB HBM3)", 96, 97871, f"{_SMI} 97871 MiB (public log); Grace's LPDDR5X not counted"),
    _amd("mi210", "AMD Instinct MI210", 64, 68702699520, "rocm-smi VRAM Total Memory 68702699520 B (public log)"),
    _amd("mi250x", "AMD Instinct MI250X (one GCD of two)", 64, 68702699520,
         "rocm-smi 68702699520 B per GCD (public log); a package is 2 devices of 64 GB"),
    _amd("mi300x", "AMD Instinct MI300X", 192, 206141652992, "rocm-smi VRAM Total Memory 206141652992 B (ROCm/legacy-rocm-build#4750)"),
    _amd("mi325x", "AMD Instinct MI325X", 256, 256 * GiB - 16 * MiB,
         "no printed total found; AMD Instinct parts report 16 MiB under nominal (MI210, MI300X)", "estimated"),
    _amd("mi355x", "AMD Instinct MI355X", 288, 288 * GiB - 16 * MiB,
         "no printed total found; AMD Instinct parts report 16 MiB under nominal (MI210, MI300X)", "estimated"),
    _amd("rx-7900-xtx", "AMD Radeon RX 7900 XTX", 24, 25753026560, "rocm-smi VRAM Total Memory 25753026560 B (public log)"),
    _apple("mac-8gb", "Apple M-series 8 GB", 8, "ggml-org/llama.cpp#5207: 5461.34 MiB = 2/3 of 8 GiB"),
    _apple("m1-pro-16gb", "Apple M1 Pro 16 GB", 16, "abetlen/llama-cpp-python#687: 10922.67 MiB = 2/3"),
    _apple("m2-24gb", "Apple M2 24 GB", 24, "llama.cpp Metal log 17179.89 MB = 2/3 of 24 GiB"),
    _apple("m2-max-32gb", "Apple M2 Max 32 GB", 32, "ollama/ollama#434: 21845.34 MiB = 2/3"),
    _apple("m4-32gb", "Apple M4 32 GB", 32, "2/3 rule; a macOS 15+ log shows 26800.60 MB (0.78)"),
    _apple("m4-max-36gb", "Apple M4 Max 36 GB", 36, "llama.cpp b7690 log 28991.03 MB = 3/4 of 36 GiB"),
    _apple("m4-pro-48gb", "Apple M4 Pro 48 GB", 48, "3/4 rule; a newer macOS log shows 40200.90 MB"),
    _apple("m3-max-48gb", "Apple M3 Max 48 GB", 48, "llama.cpp Metal log 38654.71 MB = 3/4"),
    _apple("m1-max-64gb", "Apple M1 Max 64 GB", 64, "ggml-org/llama.cpp#1870: 49152.00 MiB = 3/4"),
    _apple("m2-max-96gb", "Apple M2 Max 96 GB", 96, "ggml-org/llama.cpp#3213: 73728 MiB = 3/4"),
    _apple("m4-max-128gb", "Apple M4 Max 128 GB", 128, "llama.cpp build 8468 log 103079.22 MB = 3/4"),
    _apple("m2-ultra-192gb", "Apple M2 Ultra 192 GB", 192, "3/4 rule (no printed value found)"),
    _apple("m3-ultra-512gb", "Apple M3 Ultra 512 GB", 512, "3/4 rule; a newer macOS log shows 498216.21 MB"),
)
GPUS = {g.id: g for g in GPU_TABLE}


def gpu(gpu_id: str) -> GPU:
    if not isinstance(gpu_id, str) or gpu_id.strip().lower() not in GPUS:
        raise UnknownNameError("gpu", f"unknown GPU {str(gpu_id)[:40]!r} (see `python -m pycore gpus`)")
    return GPUS[gpu_id.strip().lower()]


def custom_gpu(memory_bytes: int) -> GPU:
    if not isinstance(memory_bytes, int) or isinstance(memory_bytes, bool) or memory_bytes <= 0:
        raise InputError("gpu_memory", "must be a positive number of bytes")
    if memory_bytes > 1 << 50:
        raise InputError("gpu_memory", "more than 1 PiB per GPU is not a real device")
    return GPU("custom", "Custom GPU", "custom", memory_bytes, memory_bytes, "entered by the user")


# ---------------------------------------------------------------- multi-GPU layout

TENSOR = "tensor"
PIPELINE = "pipeline"


@dataclass(frozen=True)
class Layout:
    """How the model is split: tp ranks per stage, pp stages; devices = tp × pp."""

    tp: int
    pp: int

    @property
    def devices(self) -> int:
        return self.tp * self.pp


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
