"""The hardware catalog as data: every device once, with its memory (as sold and usable), memory kind,
bandwidth, dense tensor throughput, low-precision support and the vendor page the figures come from.

Units: memory in GiB as sold (vendors' "GB" of VRAM are binary: a 24 GB card holds 24 GiB); bandwidth in
GB/s (decimal, as vendors print it); throughput in dense TFLOPS / TOPS (10^12 per second, no 2:4 sparsity).

Derivations used where a vendor prints a different figure (each row says which):
- "AI TOPS" of GeForce 40 (FP8 with sparsity) → dense FP16 = AI TOPS / 4, dense INT8 = AI TOPS / 2
  (checks: RTX 4090 1321 / 4 = 330 = the Ada whitepaper's dense FP16-accumulate figure).
- "AI TOPS" of GeForce 50 (FP4 with sparsity) → dense FP16 = AI TOPS / 8, INT8 = AI TOPS / 4
  (check: RTX 5090 3352 / 8 = 419 = the RTX Blackwell whitepaper's dense FP16 figure).
- Tensor rate from the SM count: Turing, Ampere GA10x, Ada and RTX Blackwell SMs do 1024 dense FP16
  FLOPs per clock (check: RTX 3090 82 SM × 1024 × 1.695 GHz = 142.3, the GA102 whitepaper's figure).
- Apple GPUs: 128 FP32 lanes per core, FP16 at the same rate, 2 FLOPs per FMA:
  cores × 256 × clock (check: M1 Max 32 cores × 256 × 1.296 GHz = 10.6, Apple prints 10.4).
- Parts without tensor/matrix units (GeForce 10, GTX 16, Radeon RX 6000): the vector FP16 rate (or the
  FP32 rate where FP16 is slow: Pascal), which is what llama.cpp's kernels reach for there.
- CPU systems: bandwidth = channels × MT/s × 8 bytes; compute from cores × SIMD width × FMA ports.
"""

# Picker groups, in the order the page shows them.
GROUPS = ("NVIDIA GeForce", "NVIDIA GeForce laptop", "NVIDIA workstation", "NVIDIA data center",
          "NVIDIA DGX Spark and Jetson", "AMD Radeon", "AMD Instinct", "AMD Ryzen AI Max (unified memory)",
          "Intel Arc", "Apple silicon (unified memory)", "CPU only (system RAM)")

_URL = {
    "ga102": "https://www.nvidia.com/content/PDF/nvidia-ampere-ga-102-gpu-architecture-whitepaper-v2.pdf",
    "ada": "https://images.nvidia.com/aem-dam/Solutions/geforce/ada/nvidia-ada-gpu-architecture.pdf",
    "blackwell-rtx": "https://images.nvidia.com/aem-dam/Solutions/geforce/blackwell/nvidia-rtx-blackwell-gpu-architecture.pdf",
    "turing": "https://images.nvidia.com/aem-dam/en-zz/Solutions/design-visualization/technologies/turing-architecture/NVIDIA-Turing-Architecture-Whitepaper.pdf",
    "pascal": "https://www.nvidia.com/en-us/geforce/10-series/",
    "gtx16": "https://www.nvidia.com/en-us/geforce/graphics-cards/gtx-1660-ti/",
    "30": "https://www.nvidia.com/en-us/geforce/graphics-cards/30-series/",
    "40": "https://www.nvidia.com/en-us/geforce/graphics-cards/40-series/",
    "50": "https://www.nvidia.com/en-us/geforce/graphics-cards/50-series/",
    "30-laptop": "https://www.nvidia.com/en-us/geforce/laptops/30-series/",
    "40-laptop": "https://www.nvidia.com/en-us/geforce/laptops/40-series/",
    "50-laptop": "https://www.nvidia.com/en-us/geforce/laptops/50-series/",
    "v100": "https://images.nvidia.com/content/technologies/volta/pdf/volta-v100-datasheet-update-us-1165301-r5.pdf",
    "t4": "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/tesla-t4/t4-tensor-core-datasheet-951643.pdf",
    "p40": "https://images.nvidia.com/content/pdf/tesla/184427-Tesla-P40-Datasheet-NV-Final-Letter-Web.pdf",
    "a100": "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf",
    "a10": "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a10/pdf/A10-Product-Brief.pdf",
    "a10g": "https://aws.amazon.com/ec2/instance-types/g5/",
    "a40": "https://images.nvidia.com/content/Solutions/data-center/a40/nvidia-a40-datasheet.pdf",
    "l4": "https://www.nvidia.com/en-us/data-center/l4/",
    "l40": "https://www.nvidia.com/en-us/data-center/l40/",
    "l40s": "https://www.nvidia.com/en-us/data-center/l40s/",
    "l20": "https://www.nvidia.cn/data-center/products/l20/",
    "h100": "https://www.nvidia.com/en-us/data-center/h100/",
    "h200": "https://www.nvidia.com/en-us/data-center/h200/",
    "h20": "https://www.nvidia.cn/data-center/h20/",
    "a800": "https://www.nvidia.cn/data-center/a800/",
    "h800": "https://www.nvidia.cn/data-center/h800/",
    "gh200": "https://www.nvidia.com/en-us/data-center/grace-hopper-superchip/",
    "b200": "https://www.nvidia.com/en-us/data-center/hgx/",
    "gb200": "https://www.nvidia.com/en-us/data-center/gb200-nvl72/",
    "b300": "https://www.nvidia.com/en-us/data-center/hgx/",
    "gb300": "https://www.nvidia.com/en-us/data-center/gb300-nvl72/",
    "rtx-a": "https://www.nvidia.com/en-us/design-visualization/rtx-a6000/",
    "rtx-ada": "https://www.nvidia.com/en-us/design-visualization/rtx-6000/",
    "rtx-pro": "https://www.nvidia.com/en-us/products/workstations/professional-desktop-gpus/rtx-pro-6000/",
    "spark": "https://www.nvidia.com/en-us/products/workstations/dgx-spark/",
    "orin": "https://www.nvidia.com/en-us/autonomous-machines/embedded-systems/jetson-orin/",
    "thor": "https://www.nvidia.com/en-us/autonomous-machines/embedded-systems/jetson-thor/",
    "rx6000": "https://www.amd.com/en/products/graphics/desktops/radeon/6000-series.html",
    "rx7000": "https://www.amd.com/en/products/graphics/desktops/radeon/7000-series.html",
    "rx9000": "https://www.amd.com/en/products/graphics/desktops/radeon/9000-series.html",
    "r9700": "https://www.amd.com/en/products/graphics/workstations/radeon-ai-pro/ai-9000-series/amd-radeon-ai-pro-r9700.html",
    "w7900": "https://www.amd.com/en/products/graphics/workstations/radeon-pro/w7900.html",
    "mi100": "https://www.amd.com/en/products/accelerators/instinct/mi100.html",
    "mi200": "https://www.amd.com/en/products/accelerators/instinct/mi200.html",
    "mi300x": "https://www.amd.com/en/products/accelerators/instinct/mi300/mi300x.html",
    "mi300a": "https://www.amd.com/en/products/accelerators/instinct/mi300/mi300a.html",
    "mi325x": "https://www.amd.com/en/products/accelerators/instinct/mi300/mi325x.html",
    "mi350": "https://www.amd.com/en/products/accelerators/instinct/mi350.html",
    "strix-halo": "https://www.amd.com/en/products/processors/laptop/ryzen/ai-300-series/amd-ryzen-ai-max-plus-395.html",
    "arc-a": "https://www.intel.com/content/www/us/en/products/docs/discrete-gpus/arc/desktop/a-series/overview.html",
    "arc-b": "https://www.intel.com/content/www/us/en/products/docs/discrete-gpus/arc/desktop/b-series/overview.html",
    "arc-pro-b": "https://www.intel.com/content/www/us/en/products/docs/discrete-gpus/arc/workstations/b-series/overview.html",
    "m1": "https://www.apple.com/newsroom/2020/11/apple-unleashes-m1/",
    "m1-pro": "https://www.apple.com/newsroom/2021/10/introducing-m1-pro-and-m1-max-the-most-powerful-chips-apple-has-ever-built/",
    "m1-ultra": "https://www.apple.com/newsroom/2022/03/apple-unveils-m1-ultra-the-worlds-most-powerful-chip-for-a-personal-computer/",
    "m2": "https://www.apple.com/newsroom/2022/06/apple-unveils-m2-with-breakthrough-performance-and-capabilities/",
    "m2-pro": "https://www.apple.com/newsroom/2023/01/apple-unveils-m2-pro-and-m2-max-next-generation-chips-for-next-level-workflows/",
    "m2-ultra": "https://www.apple.com/newsroom/2023/06/apple-introduces-m2-ultra/",
    "m3": "https://www.apple.com/newsroom/2023/10/apple-unveils-m3-m3-pro-and-m3-max-the-most-advanced-chips-for-a-personal-computer/",
    "m3-ultra": "https://www.apple.com/newsroom/2025/03/apple-reveals-m3-ultra-taking-apple-silicon-to-a-new-extreme/",
    "m4": "https://www.apple.com/newsroom/2024/05/apple-introduces-m4-chip/",
    "m4-pro": "https://www.apple.com/newsroom/2024/10/apple-introduces-m4-pro-and-m4-max/",
    "m5": "https://www.apple.com/newsroom/2025/10/apple-unleashes-m5-the-next-big-leap-in-ai-performance-for-apple-silicon/",
    "m5-pro": "https://www.macrumors.com/2026/03/03/apple-unveils-macbook-pro-with-m5-pro-and-m5-max-chips-with-neural-accelerators/",
    "ddr": "https://www.jedec.org/standards-documents/docs/jesd79-5c",
}


def url(key: str) -> str:
    return _URL[key]


# ---------------------------------------------------------------- discrete GPUs
# (id, name, GiB as sold, memory kind, bus, GB/s, dense FP16 TFLOPS, dense INT8 TOPS, fp8, fp4, source key, note)
# usable memory: see hardware.py (nvidia-smi / rocm-smi totals where one was read, else as sold).

GEFORCE = (
    ("gtx-1060-6gb", "NVIDIA GeForce GTX 1060 6GB", 6, "GDDR5", "192-bit", 192, 4.4, 17.5, 0, 0, "pascal", "no tensor cores: FP32 rate (FP16 is 1/64 on Pascal); INT8 by dp4a"),
    ("gtx-1070", "NVIDIA GeForce GTX 1070", 8, "GDDR5", "256-bit", 256, 6.5, 25.9, 0, 0, "pascal", "no tensor cores: FP32 rate; INT8 by dp4a"),
    ("gtx-1080", "NVIDIA GeForce GTX 1080", 8, "GDDR5X", "256-bit", 320, 8.9, 35.5, 0, 0, "pascal", "no tensor cores: FP32 rate; INT8 by dp4a"),
    ("gtx-1080-ti", "NVIDIA GeForce GTX 1080 Ti", 11, "GDDR5X", "352-bit", 484, 11.3, 45.4, 0, 0, "pascal", "no tensor cores: FP32 rate; INT8 by dp4a"),
    ("gtx-1650", "NVIDIA GeForce GTX 1650", 4, "GDDR5", "128-bit", 128, 6.0, 0, 0, 0, "gtx16", "no tensor cores: vector FP16 rate (2× FP32)"),
    ("gtx-1660-super", "NVIDIA GeForce GTX 1660 SUPER", 6, "GDDR6", "192-bit", 336, 10.1, 0, 0, 0, "gtx16", "no tensor cores: vector FP16 rate (2× FP32)"),
    ("gtx-1660-ti", "NVIDIA GeForce GTX 1660 Ti", 6, "GDDR6", "192-bit", 288, 10.9, 0, 0, 0, "gtx16", "no tensor cores: vector FP16 rate (2× FP32)"),
    ("rtx-2060", "NVIDIA GeForce RTX 2060", 6, "GDDR6", "192-bit", 336, 51.6, 103.2, 0, 0, "turing", "30 SM × 1024 × 1.68 GHz"),
    ("rtx-2060-super", "NVIDIA GeForce RTX 2060 SUPER", 8, "GDDR6", "256-bit", 448, 57.4, 114.9, 0, 0, "turing", "34 SM × 1024 × 1.65 GHz"),
    ("rtx-2070", "NVIDIA GeForce RTX 2070", 8, "GDDR6", "256-bit", 448, 59.7, 119.4, 0, 0, "turing", "36 SM × 1024 × 1.62 GHz"),
    ("rtx-2070-super", "NVIDIA GeForce RTX 2070 SUPER", 8, "GDDR6", "256-bit", 448, 72.5, 145.0, 0, 0, "turing", "40 SM × 1024 × 1.77 GHz"),
    ("rtx-2080", "NVIDIA GeForce RTX 2080", 8, "GDDR6", "256-bit", 448, 80.5, 161.1, 0, 0, "turing", "46 SM × 1024 × 1.71 GHz"),
    ("rtx-2080-super", "NVIDIA GeForce RTX 2080 SUPER", 8, "GDDR6", "256-bit", 496, 89.2, 178.4, 0, 0, "turing", "48 SM × 1024 × 1.815 GHz"),
    ("rtx-2080-ti", "NVIDIA GeForce RTX 2080 Ti", 11, "GDDR6", "352-bit", 616, 107.6, 215.2, 0, 0, "turing", "68 SM × 1024 × 1.545 GHz (Turing whitepaper)"),
    ("rtx-3050", "NVIDIA GeForce RTX 3050 8GB", 8, "GDDR6", "128-bit", 224, 36.4, 72.8, 0, 0, "ga102", "20 SM × 1024 × 1.777 GHz"),
    ("rtx-3060-8gb", "NVIDIA GeForce RTX 3060 8GB", 8, "GDDR6", "128-bit", 240, 51.2, 102.4, 0, 0, "ga102", "28 SM × 1024 × 1.777 GHz"),
    ("rtx-3060", "NVIDIA GeForce RTX 3060 12GB", 12, "GDDR6", "192-bit", 360, 51.2, 102.4, 0, 0, "ga102", "28 SM × 1024 × 1.777 GHz"),
    ("rtx-3060-ti", "NVIDIA GeForce RTX 3060 Ti", 8, "GDDR6", "256-bit", 448, 64.8, 129.6, 0, 0, "ga102", "38 SM × 1024 × 1.665 GHz"),
    ("rtx-3070", "NVIDIA GeForce RTX 3070", 8, "GDDR6", "256-bit", 448, 81.3, 162.6, 0, 0, "ga102", "46 SM × 1024 × 1.725 GHz"),
    ("rtx-3070-ti", "NVIDIA GeForce RTX 3070 Ti", 8, "GDDR6X", "256-bit", 608, 87.0, 174.0, 0, 0, "ga102", "48 SM × 1024 × 1.77 GHz"),
    ("rtx-3080", "NVIDIA GeForce RTX 3080 10GB", 10, "GDDR6X", "320-bit", 760, 119.1, 238.1, 0, 0, "ga102", "GA102 whitepaper"),
    ("rtx-3080-12gb", "NVIDIA GeForce RTX 3080 12GB", 12, "GDDR6X", "384-bit", 912, 122.9, 245.8, 0, 0, "ga102", "70 SM × 1024 × 1.71 GHz"),
    ("rtx-3080-ti", "NVIDIA GeForce RTX 3080 Ti", 12, "GDDR6X", "384-bit", 912, 136.4, 272.8, 0, 0, "ga102", "80 SM × 1024 × 1.665 GHz"),
    ("rtx-3090", "NVIDIA GeForce RTX 3090", 24, "GDDR6X", "384-bit", 936, 142.3, 284.7, 0, 0, "ga102", "GA102 whitepaper"),
    ("rtx-3090-ti", "NVIDIA GeForce RTX 3090 Ti", 24, "GDDR6X", "384-bit", 1008, 160.0, 320.0, 0, 0, "ga102", "84 SM × 1024 × 1.86 GHz"),
    ("rtx-4060", "NVIDIA GeForce RTX 4060", 8, "GDDR6", "128-bit", 272, 60.5, 121.0, 1, 0, "40", "AI TOPS 242 / 4"),
    ("rtx-4060-ti", "NVIDIA GeForce RTX 4060 Ti 8GB", 8, "GDDR6", "128-bit", 288, 88.3, 176.5, 1, 0, "40", "AI TOPS 353 / 4"),
    ("rtx-4060-ti-16gb", "NVIDIA GeForce RTX 4060 Ti 16GB", 16, "GDDR6", "128-bit", 288, 88.3, 176.5, 1, 0, "40", "AI TOPS 353 / 4"),
    ("rtx-4070", "NVIDIA GeForce RTX 4070", 12, "GDDR6X", "192-bit", 504, 116.5, 233.0, 1, 0, "40", "AI TOPS 466 / 4"),
    ("rtx-4070-super", "NVIDIA GeForce RTX 4070 SUPER", 12, "GDDR6X", "192-bit", 504, 142.0, 284.0, 1, 0, "40", "AI TOPS 568 / 4"),
    ("rtx-4070-ti", "NVIDIA GeForce RTX 4070 Ti", 12, "GDDR6X", "192-bit", 504, 160.3, 320.5, 1, 0, "40", "AI TOPS 641 / 4"),
    ("rtx-4070-ti-super", "NVIDIA GeForce RTX 4070 Ti SUPER", 16, "GDDR6X", "256-bit", 672, 176.5, 353.0, 1, 0, "40", "AI TOPS 706 / 4"),
    ("rtx-4080", "NVIDIA GeForce RTX 4080", 16, "GDDR6X", "256-bit", 716.8, 195.0, 390.0, 1, 0, "40", "AI TOPS 780 / 4"),
    ("rtx-4080-super", "NVIDIA GeForce RTX 4080 SUPER", 16, "GDDR6X", "256-bit", 736, 209.0, 418.0, 1, 0, "40", "AI TOPS 836 / 4"),
    ("rtx-4090", "NVIDIA GeForce RTX 4090", 24, "GDDR6X", "384-bit", 1008, 330.3, 660.6, 1, 0, "ada", "Ada whitepaper (FP16 accumulate)"),
    ("rtx-5050", "NVIDIA GeForce RTX 5050", 8, "GDDR6", "128-bit", 320, 52.6, 105.3, 1, 1, "50", "AI TOPS 421 / 8"),
    ("rtx-5060", "NVIDIA GeForce RTX 5060", 8, "GDDR7", "128-bit", 448, 76.8, 153.5, 1, 1, "50", "AI TOPS 614 / 8"),
    ("rtx-5060-ti", "NVIDIA GeForce RTX 5060 Ti 16GB", 16, "GDDR7", "128-bit", 448, 94.9, 189.8, 1, 1, "50", "AI TOPS 759 / 8"),
    ("rtx-5060-ti-8gb", "NVIDIA GeForce RTX 5060 Ti 8GB", 8, "GDDR7", "128-bit", 448, 94.9, 189.8, 1, 1, "50", "AI TOPS 759 / 8"),
    ("rtx-5070", "NVIDIA GeForce RTX 5070", 12, "GDDR7", "192-bit", 672, 123.5, 247.0, 1, 1, "50", "AI TOPS 988 / 8"),
    ("rtx-5070-ti", "NVIDIA GeForce RTX 5070 Ti", 16, "GDDR7", "256-bit", 896, 175.8, 351.5, 1, 1, "50", "AI TOPS 1406 / 8"),
    ("rtx-5080", "NVIDIA GeForce RTX 5080", 16, "GDDR7", "256-bit", 960, 225.1, 450.3, 1, 1, "50", "AI TOPS 1801 / 8"),
    ("rtx-5090", "NVIDIA GeForce RTX 5090", 32, "GDDR7", "512-bit", 1792, 419.0, 838.0, 1, 1, "blackwell-rtx", "RTX Blackwell whitepaper"),
)

GEFORCE_LAPTOP = (
    ("rtx-3050-laptop", "NVIDIA GeForce RTX 3050 Laptop", 4, "GDDR6", "128-bit", 192, 28.5, 57.0, 0, 0, "30-laptop", "16 SM × 1024 × 1.74 GHz (highest boost; laptops vary with power)"),
    ("rtx-3060-laptop", "NVIDIA GeForce RTX 3060 Laptop", 6, "GDDR6", "192-bit", 336, 52.3, 104.6, 0, 0, "30-laptop", "30 SM × 1024 × 1.703 GHz (highest boost)"),
    ("rtx-3070-laptop", "NVIDIA GeForce RTX 3070 Laptop", 8, "GDDR6", "256-bit", 448, 65.2, 130.4, 0, 0, "30-laptop", "40 SM × 1024 × 1.59 GHz (highest boost)"),
    ("rtx-3070-ti-laptop", "NVIDIA GeForce RTX 3070 Ti Laptop", 8, "GDDR6", "256-bit", 448, 70.0, 140.0, 0, 0, "30-laptop", "46 SM × 1024 × 1.485 GHz (highest boost)"),
    ("rtx-3080-laptop", "NVIDIA GeForce RTX 3080 Laptop 16GB", 16, "GDDR6", "256-bit", 448, 84.1, 168.2, 0, 0, "30-laptop", "48 SM × 1024 × 1.71 GHz (highest boost)"),
    ("rtx-3080-ti-laptop", "NVIDIA GeForce RTX 3080 Ti Laptop", 16, "GDDR6", "256-bit", 512, 94.4, 188.9, 0, 0, "30-laptop", "58 SM × 1024 × 1.59 GHz (highest boost)"),
    ("rtx-4050-laptop", "NVIDIA GeForce RTX 4050 Laptop", 6, "GDDR6", "96-bit", 192, 48.5, 97.0, 1, 0, "40-laptop", "AI TOPS 194 / 4"),
    ("rtx-4060-laptop", "NVIDIA GeForce RTX 4060 Laptop", 8, "GDDR6", "128-bit", 256, 58.3, 116.5, 1, 0, "40-laptop", "AI TOPS 233 / 4"),
    ("rtx-4070-laptop", "NVIDIA GeForce RTX 4070 Laptop", 8, "GDDR6", "128-bit", 256, 80.3, 160.5, 1, 0, "40-laptop", "AI TOPS 321 / 4"),
    ("rtx-4080-laptop", "NVIDIA GeForce RTX 4080 Laptop", 12, "GDDR6", "192-bit", 432, 135.5, 271.0, 1, 0, "40-laptop", "AI TOPS 542 / 4"),
    ("rtx-4090-laptop", "NVIDIA GeForce RTX 4090 Laptop", 16, "GDDR6", "256-bit", 576, 171.5, 343.0, 1, 0, "40-laptop", "AI TOPS 686 / 4"),
    ("rtx-5050-laptop", "NVIDIA GeForce RTX 5050 Laptop", 8, "GDDR7", "128-bit", 384, 55.0, 110.0, 1, 1, "50-laptop", "AI TOPS 440 / 8"),
    ("rtx-5060-laptop", "NVIDIA GeForce RTX 5060 Laptop", 8, "GDDR7", "128-bit", 384, 71.5, 143.0, 1, 1, "50-laptop", "AI TOPS 572 / 8"),
    ("rtx-5070-laptop", "NVIDIA GeForce RTX 5070 Laptop", 8, "GDDR7", "128-bit", 384, 99.8, 199.5, 1, 1, "50-laptop", "AI TOPS 798 / 8"),
    ("rtx-5070-ti-laptop", "NVIDIA GeForce RTX 5070 Ti Laptop", 12, "GDDR7", "192-bit", 672, 124.0, 248.0, 1, 1, "50-laptop", "AI TOPS 992 / 8"),
    ("rtx-5080-laptop", "NVIDIA GeForce RTX 5080 Laptop", 16, "GDDR7", "256-bit", 896, 166.8, 333.5, 1, 1, "50-laptop", "AI TOPS 1334 / 8"),
    ("rtx-5090-laptop", "NVIDIA GeForce RTX 5090 Laptop", 24, "GDDR7", "256-bit", 896, 228.0, 456.0, 1, 1, "50-laptop", "AI TOPS 1824 / 8"),
)

WORKSTATION = (
    ("rtx-a4000", "NVIDIA RTX A4000", 16, "GDDR6", "256-bit", 448, 76.7, 153.4, 0, 0, "rtx-a", "48 SM × 1024 × 1.56 GHz"),
    ("rtx-a5000", "NVIDIA RTX A5000", 24, "GDDR6", "384-bit", 768, 111.1, 222.2, 0, 0, "rtx-a", "64 SM × 1024 × 1.695 GHz"),
    ("rtx-a6000", "NVIDIA RTX A6000", 48, "GDDR6", "384-bit", 768, 154.8, 309.7, 0, 0, "rtx-a", "datasheet (dense = half of the sparse figure)"),
    ("rtx-4000-ada", "NVIDIA RTX 4000 Ada Generation", 20, "GDDR6", "160-bit", 360, 106.9, 213.8, 1, 0, "rtx-ada", "48 SM × 1024 × 2.175 GHz"),
    ("rtx-5000-ada", "NVIDIA RTX 5000 Ada Generation", 32, "GDDR6", "256-bit", 576, 261.0, 522.0, 1, 0, "rtx-ada", "100 SM × 1024 × 2.55 GHz"),
    ("rtx-6000-ada", "NVIDIA RTX 6000 Ada", 48, "GDDR6", "384-bit", 960, 364.2, 728.5, 1, 0, "rtx-ada", "datasheet"),
    ("rtx-pro-4000", "NVIDIA RTX PRO 4000 Blackwell", 24, "GDDR7", "192-bit", 672, 188.0, 376.0, 1, 1, "rtx-pro", "AI TOPS 1500 (FP4 sparse) / 8"),
    ("rtx-pro-5000", "NVIDIA RTX PRO 5000 Blackwell", 48, "GDDR7", "384-bit", 1344, 264.0, 528.0, 1, 1, "rtx-pro", "AI TOPS 2110 (FP4 sparse) / 8"),
    ("rtx-pro-6000", "NVIDIA RTX PRO 6000 Blackwell", 96, "GDDR7", "512-bit", 1792, 503.8, 1007.6, 1, 1, "rtx-pro", "AI TOPS 4031 (FP4 sparse) / 8"),
)

DATACENTER = (
    ("p40", "NVIDIA Tesla P40", 24, "GDDR5", "384-bit", 346, 11.8, 47.0, 0, 0, "p40", "no tensor cores: FP32 rate; INT8 47 TOPS by dp4a"),
    ("v100-16gb", "NVIDIA V100 16GB", 16, "HBM2", "4096-bit", 900, 125.0, 0, 0, 0, "v100", "SXM2; no INT8 tensor path"),
    ("v100-32gb", "NVIDIA V100 32GB", 32, "HBM2", "4096-bit", 900, 125.0, 0, 0, 0, "v100", "SXM2; no INT8 tensor path"),
    ("t4", "NVIDIA T4", 16, "GDDR6", "256-bit", 320, 65.0, 130.0, 0, 0, "t4", "datasheet"),
    ("a10", "NVIDIA A10", 24, "GDDR6", "384-bit", 600, 125.0, 250.0, 0, 0, "a10", "datasheet"),
    ("a10g", "NVIDIA A10G (AWS)", 24, "GDDR6", "384-bit", 600, 70.0, 140.0, 0, 0, "a10g", "AWS prints no tensor figure; taken as 70 (estimated, a down-clocked A10)"),
    ("a40", "NVIDIA A40", 48, "GDDR6", "384-bit", 696, 149.7, 299.3, 0, 0, "a40", "datasheet"),
    ("l4", "NVIDIA L4", 24, "GDDR6", "192-bit", 300, 121.0, 242.0, 1, 0, "l4", "datasheet (dense = half of sparse)"),
    ("l20", "NVIDIA L20", 48, "GDDR6", "384-bit", 864, 119.5, 239.0, 1, 0, "l20", "datasheet"),
    ("l40", "NVIDIA L40", 48, "GDDR6", "384-bit", 864, 181.0, 362.0, 1, 0, "l40", "datasheet"),
    ("l40s", "NVIDIA L40S", 48, "GDDR6", "384-bit", 864, 362.0, 733.0, 1, 0, "l40s", "datasheet"),
    ("a100-40gb", "NVIDIA A100 40GB", 40, "HBM2", "5120-bit", 1555, 312.0, 624.0, 0, 0, "a100", "datasheet"),
    ("a100-80gb-pcie", "NVIDIA A100 80GB PCIe", 80, "HBM2e", "5120-bit", 1935, 312.0, 624.0, 0, 0, "a100", "datasheet"),
    ("a100-80gb", "NVIDIA A100 80GB", 80, "HBM2e", "5120-bit", 2039, 312.0, 624.0, 0, 0, "a100", "SXM; datasheet"),
    ("a800-80gb", "NVIDIA A800 80GB", 80, "HBM2e", "5120-bit", 2039, 312.0, 624.0, 0, 0, "a800", "A100 with NVLink cut to 400 GB/s"),
    ("h100-pcie", "NVIDIA H100 80GB PCIe", 80, "HBM2e", "5120-bit", 2000, 756.0, 1513.0, 1, 0, "h100", "datasheet"),
    ("h100-sxm", "NVIDIA H100 80GB SXM", 80, "HBM3", "5120-bit", 3350, 989.4, 1979.0, 1, 0, "h100", "datasheet"),
    ("h100-nvl", "NVIDIA H100 NVL 94GB", 94, "HBM3", "6144-bit", 3900, 835.5, 1671.0, 1, 0, "h100", "datasheet"),
    ("h800", "NVIDIA H800 80GB SXM", 80, "HBM3", "5120-bit", 3350, 989.4, 1979.0, 1, 0, "h800", "H100 with NVLink cut to 400 GB/s"),
    ("h20", "NVIDIA H20", 96, "HBM3", "6144-bit", 4000, 148.0, 296.0, 1, 0, "h20", "datasheet"),
    ("h200", "NVIDIA H200 141GB", 141, "HBM3e", "6144-bit", 4800, 989.4, 1979.0, 1, 0, "h200", "datasheet"),
    ("gh200", "NVIDIA GH200 (96 GB HBM3)", 96, "HBM3", "6144-bit", 4000, 989.4, 1979.0, 1, 0, "gh200", "per GPU; Grace's LPDDR5X not counted"),
    ("gh200-144gb", "NVIDIA GH200 (144 GB HBM3e)", 144, "HBM3e", "6144-bit", 4900, 989.4, 1979.0, 1, 0, "gh200", "per GPU; Grace's LPDDR5X not counted"),
    ("b200", "NVIDIA B200", 180, "HBM3e", "8192-bit", 8000, 2250.0, 4500.0, 1, 1, "b200", "HGX B200 per GPU"),
    ("gb200", "NVIDIA GB200 (per GPU)", 186, "HBM3e", "8192-bit", 8000, 2500.0, 5000.0, 1, 1, "gb200", "per Blackwell GPU of a GB200 superchip (NVL72: 13.4 TB / 72)"),
    ("b300", "NVIDIA B300 (Blackwell Ultra)", 288, "HBM3e", "8192-bit", 8000, 2250.0, 4500.0, 1, 1, "b300", "HGX B300 per GPU; INT8 rate reduced on Blackwell Ultra (figure is FP8)"),
    ("gb300", "NVIDIA GB300 (per GPU)", 279, "HBM3e", "8192-bit", 8000, 2500.0, 5000.0, 1, 1, "gb300", "per Blackwell Ultra GPU of a GB300 superchip; figure is FP8"),
)

RADEON = (
    ("rx-6600", "AMD Radeon RX 6600", 8, "GDDR6", "128-bit", 224, 17.9, 0, 0, 0, "rx6000", "no matrix units: vector FP16 rate"),
    ("rx-6600-xt", "AMD Radeon RX 6600 XT", 8, "GDDR6", "128-bit", 256, 21.2, 0, 0, 0, "rx6000", "no matrix units: vector FP16 rate"),
    ("rx-6700-xt", "AMD Radeon RX 6700 XT", 12, "GDDR6", "192-bit", 384, 26.4, 0, 0, 0, "rx6000", "no matrix units: vector FP16 rate"),
    ("rx-6800", "AMD Radeon RX 6800", 16, "GDDR6", "256-bit", 512, 32.3, 0, 0, 0, "rx6000", "no matrix units: vector FP16 rate"),
    ("rx-6800-xt", "AMD Radeon RX 6800 XT", 16, "GDDR6", "256-bit", 512, 41.5, 0, 0, 0, "rx6000", "no matrix units: vector FP16 rate"),
    ("rx-6900-xt", "AMD Radeon RX 6900 XT", 16, "GDDR6", "256-bit", 512, 46.1, 0, 0, 0, "rx6000", "no matrix units: vector FP16 rate"),
    ("rx-6950-xt", "AMD Radeon RX 6950 XT", 16, "GDDR6", "256-bit", 576, 47.3, 0, 0, 0, "rx6000", "no matrix units: vector FP16 rate"),
    ("rx-7600", "AMD Radeon RX 7600", 8, "GDDR6", "128-bit", 288, 43.5, 43.5, 0, 0, "rx7000", "WMMA FP16 peak"),
    ("rx-7600-xt", "AMD Radeon RX 7600 XT", 16, "GDDR6", "128-bit", 288, 45.1, 45.1, 0, 0, "rx7000", "WMMA FP16 peak"),
    ("rx-7700-xt", "AMD Radeon RX 7700 XT", 12, "GDDR6", "192-bit", 432, 70.3, 70.3, 0, 0, "rx7000", "WMMA FP16 peak"),
    ("rx-7800-xt", "AMD Radeon RX 7800 XT", 16, "GDDR6", "256-bit", 624, 74.6, 74.6, 0, 0, "rx7000", "WMMA FP16 peak"),
    ("rx-7900-gre", "AMD Radeon RX 7900 GRE", 16, "GDDR6", "256-bit", 576, 91.5, 91.5, 0, 0, "rx7000", "WMMA FP16 peak"),
    ("rx-7900-xt", "AMD Radeon RX 7900 XT", 20, "GDDR6", "320-bit", 800, 103.0, 103.0, 0, 0, "rx7000", "WMMA FP16 peak"),
    ("rx-7900-xtx", "AMD Radeon RX 7900 XTX", 24, "GDDR6", "384-bit", 960, 122.8, 122.8, 0, 0, "rx7000", "WMMA FP16 peak"),
    ("radeon-pro-w7900", "AMD Radeon PRO W7900", 48, "GDDR6", "384-bit", 864, 122.6, 122.6, 0, 0, "w7900", "WMMA FP16 peak"),
    ("rx-9060-xt", "AMD Radeon RX 9060 XT 16GB", 16, "GDDR6", "128-bit", 320, 102.6, 205.2, 1, 0, "rx9000", "FP16 matrix (dense)"),
    ("rx-9070", "AMD Radeon RX 9070", 16, "GDDR6", "256-bit", 640, 144.5, 289.0, 1, 0, "rx9000", "FP16 matrix (dense)"),
    ("rx-9070-xt", "AMD Radeon RX 9070 XT", 16, "GDDR6", "256-bit", 640, 194.7, 389.4, 1, 0, "rx9000", "FP16 matrix (dense)"),
    ("radeon-ai-pro-r9700", "AMD Radeon AI PRO R9700", 32, "GDDR6", "256-bit", 640, 191.0, 383.0, 1, 0, "r9700", "FP16 matrix (dense)"),
)

INSTINCT = (
    ("mi100", "AMD Instinct MI100", 32, "HBM2", "4096-bit", 1228.8, 184.6, 184.6, 0, 0, "mi100", "datasheet"),
    ("mi210", "AMD Instinct MI210", 64, "HBM2e", "4096-bit", 1638.4, 181.0, 181.0, 0, 0, "mi200", "datasheet"),
    ("mi250x", "AMD Instinct MI250X (one GCD of two)", 64, "HBM2e", "4096-bit", 1638.4, 191.5, 191.5, 0, 0, "mi200", "half of the package's 383 TFLOPS and 3.2768 TB/s"),
    ("mi300a", "AMD Instinct MI300A", 128, "HBM3", "8192-bit", 5300, 980.6, 1961.2, 1, 0, "mi300a", "APU: 128 GB HBM3 shared with the CPU"),
    ("mi300x", "AMD Instinct MI300X", 192, "HBM3", "8192-bit", 5300, 1307.4, 2614.9, 1, 0, "mi300x", "datasheet"),
    ("mi325x", "AMD Instinct MI325X", 256, "HBM3e", "8192-bit", 6000, 1307.4, 2614.9, 1, 0, "mi325x", "datasheet"),
    ("mi350x", "AMD Instinct MI350X", 288, "HBM3e", "8192-bit", 8000, 2300.0, 4600.0, 1, 1, "mi350", "datasheet"),
    ("mi355x", "AMD Instinct MI355X", 288, "HBM3e", "8192-bit", 8000, 2516.6, 5033.2, 1, 1, "mi350", "datasheet"),
)

ARC = (
    ("arc-a380", "Intel Arc A380", 6, "GDDR6", "96-bit", 186, 32.8, 65.5, 0, 0, "arc-a", "XMX FP16 (INT8 / 2)"),
    ("arc-a580", "Intel Arc A580", 8, "GDDR6", "256-bit", 512, 98.3, 196.6, 0, 0, "arc-a", "XMX FP16 (INT8 / 2)"),
    ("arc-a750", "Intel Arc A750", 8, "GDDR6", "256-bit", 512, 115.2, 230.4, 0, 0, "arc-a", "XMX FP16 (INT8 / 2)"),
    ("arc-a770", "Intel Arc A770 16GB", 16, "GDDR6", "256-bit", 560, 137.6, 275.2, 0, 0, "arc-a", "XMX FP16 (INT8 / 2)"),
    ("arc-b570", "Intel Arc B570", 10, "GDDR6", "160-bit", 380, 101.5, 203.0, 0, 0, "arc-b", "XMX FP16 (INT8 203 TOPS / 2)"),
    ("arc-b580", "Intel Arc B580", 12, "GDDR6", "192-bit", 456, 116.5, 233.0, 0, 0, "arc-b", "XMX FP16 (INT8 233 TOPS / 2)"),
    ("arc-pro-b60", "Intel Arc Pro B60", 24, "GDDR6", "192-bit", 456, 98.5, 197.0, 0, 0, "arc-pro-b", "XMX FP16 (INT8 197 TOPS / 2)"),
)

# ---------------------------------------------------------------- unified memory
# (id, name, GiB, memory kind, bus, GB/s, FP16 TFLOPS, INT8 TOPS, fp8, fp4, source, note, usable GiB or None)
UNIFIED = (
    ("dgx-spark", "NVIDIA DGX Spark (GB10)", 128, "LPDDR5X", "256-bit", 273, 125.0, 250.0, 1, 1, "spark",
     "1 PFLOP FP4 with sparsity / 8; 128 GB shared with the CPU", 120),
    ("jetson-orin-nano", "NVIDIA Jetson Orin Nano Super 8GB", 8, "LPDDR5", "128-bit", 102, 16.8, 33.5, 0, 0, "orin",
     "67 INT8 TOPS (sparse) / 2 = 33.5 dense; shared with the CPU", 7),
    ("jetson-orin-nx-16gb", "NVIDIA Jetson Orin NX 16GB", 16, "LPDDR5", "128-bit", 102.4, 25.0, 50.0, 0, 0, "orin",
     "GPU 100 INT8 TOPS (sparse) / 2; shared with the CPU", 15),
    ("jetson-agx-orin-32gb", "NVIDIA Jetson AGX Orin 32GB", 32, "LPDDR5", "256-bit", 204.8, 27.0, 54.0, 0, 0, "orin",
     "GPU 108 INT8 TOPS (sparse) / 2; shared with the CPU", 30),
    ("jetson-agx-orin-64gb", "NVIDIA Jetson AGX Orin 64GB", 64, "LPDDR5", "256-bit", 204.8, 42.5, 85.0, 0, 0, "orin",
     "GPU 170 INT8 TOPS (sparse) / 2; shared with the CPU", 61),
    ("jetson-agx-thor", "NVIDIA Jetson AGX Thor (T5000)", 128, "LPDDR5X", "256-bit", 273, 258.8, 517.5, 1, 1, "thor",
     "2070 FP4 TFLOPS (sparse) / 8; shared with the CPU", 120),
    ("ryzen-ai-max-395-128gb", "AMD Ryzen AI Max+ 395 (Radeon 8060S) 128GB", 128, "LPDDR5X", "256-bit", 256, 59.4, 59.4, 0, 0,
     "strix-halo", "40 CU × 512 FP16 FLOPs/clk (WMMA) × 2.9 GHz; LPDDR5X-8000", 96),
    ("ryzen-ai-max-395-64gb", "AMD Ryzen AI Max+ 395 (Radeon 8060S) 64GB", 64, "LPDDR5X", "256-bit", 256, 59.4, 59.4, 0, 0,
     "strix-halo", "40 CU × 512 × 2.9 GHz; LPDDR5X-8000", 48),
    ("ryzen-ai-max-390-64gb", "AMD Ryzen AI Max 390 (Radeon 8050S) 64GB", 64, "LPDDR5X", "256-bit", 256, 46.3, 46.3, 0, 0,
     "strix-halo", "32 CU × 512 × 2.8 GHz; LPDDR5X-8000", 48),
    ("ryzen-ai-max-385-32gb", "AMD Ryzen AI Max 385 (Radeon 8050S) 32GB", 32, "LPDDR5X", "256-bit", 256, 46.3, 46.3, 0, 0,
     "strix-halo", "32 CU × 512 × 2.8 GHz; LPDDR5X-8000", 24),
)

# Apple: (chip, GPU cores, GB/s, GPU clock GHz, memory options GiB, source key)
APPLE_CHIPS = (
    ("M1", 7, 68.25, 1.278, (8, 16), "m1"),
    ("M1", 8, 68.25, 1.278, (8, 16), "m1"),
    ("M1 Pro", 14, 200, 1.296, (16, 32), "m1-pro"),
    ("M1 Pro", 16, 200, 1.296, (16, 32), "m1-pro"),
    ("M1 Max", 24, 400, 1.296, (32,), "m1-pro"),
    ("M1 Max", 32, 400, 1.296, (32, 64), "m1-pro"),
    ("M1 Ultra", 48, 800, 1.296, (64, 128), "m1-ultra"),
    ("M1 Ultra", 64, 800, 1.296, (64, 128), "m1-ultra"),
    ("M2", 8, 100, 1.398, (8, 16, 24), "m2"),
    ("M2", 10, 100, 1.398, (8, 16, 24), "m2"),
    ("M2 Pro", 16, 200, 1.398, (16, 32), "m2-pro"),
    ("M2 Pro", 19, 200, 1.398, (16, 32), "m2-pro"),
    ("M2 Max", 30, 400, 1.398, (32, 64), "m2-pro"),
    ("M2 Max", 38, 400, 1.398, (32, 64, 96), "m2-pro"),
    ("M2 Ultra", 60, 800, 1.398, (64, 128, 192), "m2-ultra"),
    ("M2 Ultra", 76, 800, 1.398, (64, 128, 192), "m2-ultra"),
    ("M3", 8, 100, 1.38, (8, 16, 24), "m3"),
    ("M3", 10, 100, 1.38, (8, 16, 24), "m3"),
    ("M3 Pro", 14, 150, 1.38, (18, 36), "m3"),
    ("M3 Pro", 18, 150, 1.38, (18, 36), "m3"),
    ("M3 Max", 30, 300, 1.38, (36, 96), "m3"),
    ("M3 Max", 40, 400, 1.38, (48, 64, 128), "m3"),
    ("M3 Ultra", 60, 819, 1.38, (96, 256), "m3-ultra"),
    ("M3 Ultra", 80, 819, 1.38, (96, 256, 512), "m3-ultra"),
    ("M4", 8, 120, 1.578, (16, 24, 32), "m4"),
    ("M4", 10, 120, 1.578, (16, 24, 32), "m4"),
    ("M4 Pro", 16, 273, 1.578, (24, 48), "m4-pro"),
    ("M4 Pro", 20, 273, 1.578, (24, 48, 64), "m4-pro"),
    ("M4 Max", 32, 410, 1.578, (36,), "m4-pro"),
    ("M4 Max", 40, 546, 1.578, (48, 64, 128), "m4-pro"),
    ("M5", 10, 153, 1.6, (16, 24, 32), "m5"),
    # Announced 2026-03-03 (Apple newsroom, as reported by MacRumors): M5 Pro up to a 20-core GPU, up to 64 GB at
    # 307 GB/s; M5 Max up to a 40-core GPU, up to 128 GB at 614 GB/s. Only these top configurations are listed:
    # the binned GPUs and smaller memory options were not read from a source. Clock taken as the M5's.
    ("M5 Pro", 20, 307, 1.6, (64,), "m5-pro"),
    ("M5 Max", 40, 614, 1.6, (128,), "m5-pro"),
)
# FP16 matrix FLOPs per GPU core per clock that llama.cpp's Metal backend reaches the units of: 256 (128 FP32/
# FP16 lanes × 2 for an FMA) through simdgroup matrices up to M4; the M5 family adds a Neural Accelerator to each
# GPU core, which llama.cpp drives through the Metal 4 tensor API on M5 and later (ggml-org/llama.cpp#16634).
# Apple states "over 4x the peak GPU compute for AI compared to M4" for the M5 and for the M5 Pro/Max against
# the M4 Pro/Max (sources "m5", "m5-pro"): taken as 4 × 256 per core per clock (derived from that claim; Apple
# prints no TFLOPS figure).
APPLE_MATRIX_FLOPS_PER_CORE_CLOCK = {"M5": 1024}


def apple_matrix_flops_per_clock(chip: str) -> int:
    """FP16 matrix FLOPs per GPU core per clock for an Apple chip name ("M5 Max" → the "M5" entry), 256 by default."""
    return APPLE_MATRIX_FLOPS_PER_CORE_CLOCK.get(chip.split(" ")[0], 256)

# CPU-only systems: (id, name, RAM GiB as commonly fitted, DDR kind, MT/s, channels, FP16-equivalent
# TFLOPS of the cores (cores × SIMD FLOPs/clk × clock), note)
CPU_SYSTEMS = (
    ("cpu-ddr4-3200-2ch", "Desktop CPU, DDR4-3200 dual channel (8 cores, AVX2)", 64, "DDR4", 3200, 2, 1.1,
     "8 cores × 32 FP32 FLOPs/clk × 4.3 GHz"),
    ("cpu-ddr5-4800-2ch", "Desktop/laptop CPU, DDR5-4800 dual channel (8 cores, AVX2)", 64, "DDR5", 4800, 2, 1.2,
     "8 cores × 32 × 4.7 GHz"),
    ("cpu-ddr5-5600-2ch", "Desktop CPU, DDR5-5600 dual channel (16 cores)", 96, "DDR5", 5600, 2, 2.5,
     "16 cores × 32 × 4.9 GHz"),
    ("cpu-ddr5-6000-2ch", "Desktop CPU, DDR5-6000 dual channel (16 cores, AVX-512)", 96, "DDR5", 6000, 2, 2.5,
     "16 Zen 4/5 cores × 32 × 4.9 GHz"),
    ("cpu-ddr5-6400-2ch", "Desktop CPU, DDR5-6400 dual channel (24 threads)", 128, "DDR5", 6400, 2, 2.0,
     "8 P-cores × 32 × 5.5 GHz + 16 E-cores × 16 × 4.3 GHz (about)"),
    ("cpu-ddr4-2666-6ch", "Server CPU, DDR4-2666 six channel (Xeon Scalable, 24 cores)", 192, "DDR4", 2666, 6, 2.5,
     "24 cores × 64 FP32 FLOPs/clk (AVX-512, 2 FMA) × 1.7 GHz (AVX-512 clock)"),
    ("cpu-ddr4-3200-8ch", "Server CPU, DDR4-3200 eight channel (EPYC Milan, 64 cores)", 512, "DDR4", 3200, 8, 5.1,
     "64 cores × 32 × 2.5 GHz"),
    ("cpu-ddr5-4800-8ch", "Server CPU, DDR5-4800 eight channel (Xeon Sapphire Rapids, 56 cores)", 512, "DDR5", 4800, 8, 7.2,
     "56 cores × 64 × 2.0 GHz"),
    ("cpu-ddr5-4800-12ch", "Server CPU, DDR5-4800 twelve channel (EPYC Genoa, 96 cores)", 768, "DDR5", 4800, 12, 9.2,
     "96 cores × 32 × 3.0 GHz"),
    ("cpu-ddr5-6400-12ch", "Server CPU, DDR5-6400 twelve channel (EPYC Turin, 128 cores)", 1536, "DDR5", 6400, 12, 16.4,
     "128 cores × 32 × 4.0 GHz (AVX-512 on a full 512-bit datapath counted once)"),
)

# CPU cores of unified-memory devices, for llama.cpp's CPU backend (FP32 FLOPs/clk × clock, derived):
# Zen 5 with a full 512-bit datapath: 2 FMA × 16 lanes × 2 = 64 FLOPs/clk per core.
HOST_TFLOPS = {
    "ryzen-ai-max-395-128gb": (5.2, "16 Zen 5 cores × 64 FLOPs/clk × 5.1 GHz"),
    "ryzen-ai-max-395-64gb": (5.2, "16 Zen 5 cores × 64 FLOPs/clk × 5.1 GHz"),
    "ryzen-ai-max-390-64gb": (3.9, "12 Zen 5 cores × 64 FLOPs/clk × 5.0 GHz"),
    "ryzen-ai-max-385-32gb": (2.6, "8 Zen 5 cores × 64 FLOPs/clk × 5.0 GHz"),
}
