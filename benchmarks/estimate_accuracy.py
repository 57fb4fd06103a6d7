"""How far lmdoctor's speed estimate lands from measured tokens/s on hardware it was not fitted on.

    .venv/bin/python benchmarks/estimate_accuracy.py [--rows] [--residuals] [--markdown] [--quick]

Reads benchmarks/data/measurements.csv (measured rows from public sources, each with its URL,
date or build and test; benchmarks/data/README.md) and benchmarks/data/hardware.csv (spec
bandwidth, FP32 TFLOPS). For decode (tg) and prefill (pp) it prints median and p90 of
|estimate / measured - 1|, per backend, for

  * lmdoctor with its hard-coded constants (lmdoctor/estimate.py CALIBRATION), in sample;
  * grouped cross-validation: the constants refitted without one hardware family (all NVIDIA
    Pascal cards, all Apple M3 chips, all DDR5 x86 CPUs …) then used on that family; and
    without one backend generation (CUDA rows of 2024, Vulkan rows of 2025 …);
  * the constant-efficiency baseline peers use: 0.55 × bandwidth / active weight bytes
    (llmfit fit.rs estimate_tps; estimation.md §1.1).

Each run also prints 90 % intervals of these figures (a cluster bootstrap over submissions), each
backend's family-out median against the baseline's with its interval, and the data's noise
floor: rows whose configuration another source measured too, against the median of those.

Rows marked use != yes (partial offload, a host that throttles the GPU, runs that disagree,
an unrecorded backend) are listed in the CSV with the reason and left out. Pure Python: a
coordinate search minimises a robust (soft-L1) loss on log errors.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import statistics
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from lmdoctor import estimate, hardware, modelname
from lmdoctor.estimate import CALIBRATION, Calibration

DATA = Path(__file__).parent / "data"
DEFAULT_CSV = DATA / "measurements.csv"
HARDWARE_CSV = DATA / "hardware.csv"
CPU_CLOCKS_CSV = DATA / "cpu_clocks.csv"  # each CPU's clock with its source
BASELINE_EFFICIENCY = 0.55
BASELINE = "baseline 0.55 × BW / bytes"
BACKENDS = ("cuda", "metal", "rocm", "vulkan", "sycl", "cpu")
SERVED = ("Ollama", "llama-server")  # tests that stream through a server


@dataclass(frozen=True)
class Row:
    hardware: str
    family: str
    arch: str | None
    backend: str
    backend_gen: str
    bandwidth: float
    tflops: float | None
    model: str
    spec: modelname.ModelSpec
    weight_bytes: float
    test: str
    pp: float | None
    tg: float | None
    source: str
    threads: int | None = None  # CPU threads the run used (llama-bench -t; Ollama: the cores)
    # what decode's compute term runs at: `tflops` on a GPU; on a CPU a rate per core used, at
    # its clock (estimate.cpu_decode_tflops, as lmdoctor computes it on the machine)
    decode_tf: float | None = None
    # whether the run's CUDA build replayed kernels as graphs (ran_cuda_graphs); None: as today
    graphs: bool | None = None

    @property
    def served(self) -> bool:
        return any(word in self.test for word in SERVED)

    @property
    def prompt(self) -> int:
        for n in (512, 1024, 2048):
            if f"pp{n}" in self.test or f"prompt {n}" in self.test:
                return n
        return 512

    @property
    def read_bytes(self) -> float:
        return self.weight_bytes * (self.active / (self.spec.params_b or self.active))

    @property
    def active(self) -> float:
        return self.spec.active_params_b or self.spec.params_b or 0.0

    @property
    def layers(self) -> int | None:
        return self.spec.family.layers if self.spec.family else None

    @property
    def moe(self) -> bool:
        return self.spec.is_moe


def _cpu_clocks(path: Path = CPU_CLOCKS_CSV) -> dict[str, float]:
    with path.open(newline="", encoding="utf-8") as fh:
        return {r["hardware"]: float(r["cpu_ghz"]) for r in csv.DictReader(fh)}


CPU_GHZ = _cpu_clocks()


def _tflops(hw: dict[str, str], backend: str, threads: int | None = None) -> float | None:
    """The device's FP32 TFLOPS as the estimator would know it (lmdoctor/hardware.py); on a
    CPU those of the threads the run used."""
    if hw["fp32_tflops"]:
        return float(hw["fp32_tflops"])
    if backend == "cpu":
        cores = int(hw["cpu_cores"]) if hw["cpu_cores"] else None
        used = min(threads or cores or 0, cores or 0)
        # the same table and function lmdoctor uses on the machine (hardware.cpu_uarch reads
        # the CPU's name as it reads a /proc/cpuinfo "model name"); the clock is the spec's
        ghz = CPU_GHZ.get(hw["hardware"])
        return hardware.cpu_fp32_tflops(hardware.cpu_uarch(hw["hardware"]), used, ghz)
    return hardware.fp32_tflops(hw["hardware"], float(hw["bandwidth_gbps"]), "apple")


# When llama.cpp's CUDA graphs (estimate.GRAPHLESS_LAUNCH_MS) were off, by the run's date:
# before 2024-05-15 everywhere: graphs came with PR #6766 (2024-05) and, until PR #7302
# (2024-05-15), a prompt's batch turned them off for the decode after it (the consecutive-update
# counter; #7302: pp512+tg128 +15 % on an RTX 3090 Ti) — XiongjieDai's CUDA rows are builds
# b2824-b2843 of 2024-05-09..12 running `./main` after a 258-token prompt (its notebooks); on
# Volta and Turing before 2026-08: the gate was Ampere until PR #25749 (opened 2026-07-16, merged
# before 2026-08-25, when PR #27721 quotes the Volta gate). A row with no date is taken as today.
GRAPHS_FOR_ALL = "2024-05-15"
GRAPHS_FOR_VOLTA = "2026-08"
_DATE = re.compile(r"\d{4}(?:-\d{2}){0,2}")


def ran_cuda_graphs(backend: str, arch: str | None, date_or_build: str) -> bool | None:
    """False when the row's CUDA build ran without graphs (the dates above), else None."""
    date = _DATE.match(date_or_build)
    if backend != "cuda" or date is None:
        return None
    if date.group() < GRAPHS_FOR_ALL or (
        arch in ("volta", "turing") and date.group() < GRAPHS_FOR_VOLTA
    ):
        return False
    return None


def load(path: Path = DEFAULT_CSV, hardware_path: Path = HARDWARE_CSV) -> list[Row]:
    with hardware_path.open(newline="", encoding="utf-8") as fh:
        hws = {h["hardware"]: h for h in csv.DictReader(fh)}
    rows = []
    with path.open(newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["use"] not in ("yes", "prefill-no") or not r["bandwidth_gbps"]:
                continue
            hw = hws[r["hardware"]]
            params, active = float(r["params_b"]), float(r["active_params_b"])
            threads = int(r["cpu_cores"]) if r["backend"] == "cpu" and r["cpu_cores"] else None
            tflops = _tflops(hw, r["backend"], threads)
            decode_tf = tflops
            if r["backend"] == "cpu" and hw["cpu_cores"]:
                used = min(threads or int(hw["cpu_cores"]), int(hw["cpu_cores"]))
                decode_tf = estimate.cpu_decode_tflops(used, CPU_GHZ.get(hw["hardware"]))
            parsed = modelname.parse(r["model"])
            size = float(r["bytes"])
            if r["bytes_basis"].startswith("params x"):
                # an estimated size, not the file's: the same rule as lmdoctor's (bpw_for), K-quant
                # fallback tensors of a model whose hidden size is not a multiple of 256 included
                size += params * 1e9 * modelname.kquant_fallback_bpw(r["quant"], parsed.family) / 8
            spec = parsed._replace(
                params_b=params,
                active_params_b=active,
                quant=r["quant"],
                size_bytes=int(size),
            )
            rows.append(
                Row(
                    hardware=r["hardware"],
                    family=r["family"],
                    arch=r["arch"] if r["arch"] != "cpu" else None,
                    backend=r["backend"],
                    backend_gen=r["backend_gen"],
                    bandwidth=float(r["bandwidth_gbps"]),
                    tflops=tflops,
                    model=r["model"],
                    spec=spec,
                    weight_bytes=float(int(size)),
                    test=r["test"],
                    pp=float(r["pp_tps"]) if r["pp_tps"] and r["use"] == "yes" else None,
                    tg=float(r["tg_tps"]) if r["tg_tps"] else None,
                    source=r["source"],
                    threads=threads,
                    decode_tf=decode_tf,
                    graphs=ran_cuda_graphs(r["backend"], r["arch"], r["date_or_build"]),
                )
            )
    return rows


# -- predictions ---------------------------------------------------------------------------------


def predict_decode(row: Row, cal: Calibration) -> float:
    read = row.read_bytes * (cal.moe_bytes if row.moe else 1.0)
    return estimate.decode_tps(
        read,
        row.bandwidth,
        row.backend,
        estimate.decode_tflops(row.decode_tf, row.backend, row.arch),
        row.active,
        0.0,
        cal,
        served=row.served,
        threads=row.threads,
        layers=row.layers,
        arch=row.arch,
        graphs=row.graphs,
    )


def predict_prefill(row: Row, cal: Calibration) -> float:
    flops = estimate.flops_per_token(row.spec, row.prompt) or 0.0
    tflops = estimate.prefill_tflops(row.tflops or 0.0, row.backend, row.arch, cal, row.hardware)
    if row.moe:
        tflops *= cal.moe_prefill
    return tflops * 1e12 / flops


def baseline_decode(row: Row) -> float:
    """The constant-efficiency formula: 0.55 × bandwidth / active weight bytes."""
    return BASELINE_EFFICIENCY * row.bandwidth * 1e9 / row.read_bytes


# -- fitting -------------------------------------------------------------------------------------

KNOBS = (
    "eta_cuda", "eta_metal", "eta_rocm", "eta_vulkan", "eta_sycl", "eta_cpu",
    "t0_gpu", "t0_cpu", "t0_rocm", "kappa_gpu", "kappa_cpu", "server_ms", "moe_bytes",
    "cpu_sync_ms", "ultra_sync_ms",
)  # fmt: skip
BOUNDS = {
    "eta": (0.3, 1.0), "t0_gpu": (0.0, 5.0), "t0_cpu": (0.0, 5.0), "t0_rocm": (0.0, 5.0),
    "kappa_gpu": (0.0, 40.0), "kappa_cpu": (0.0, 40.0), "server_ms": (0.0, 5.0),
    "moe_bytes": (0.8, 3.0), "cpu_sync_ms": (0.0, 1.0), "ultra_sync_ms": (0.0, 10.0),
}  # fmt: skip
# A weak prior: a backend with few rows is pulled toward this share of spec bandwidth.
ETA_PRIOR, ETA_PRIOR_SIGMA, PRIOR_WEIGHT = 0.8, 0.25, 0.5
# A CPU launches no kernels: its fixed cost per token is near 0 (estimation.md §6 prior, "~0
# CPU"); without rows of tiny models the fit would otherwise charge per-thread costs to it.
T0_CPU_PRIOR_SIGMA_MS = 0.5


def _bounds(knob: str) -> tuple[float, float]:
    return BOUNDS["eta"] if knob.startswith("eta_") else BOUNDS[knob]


def vector(cal: Calibration) -> dict[str, float]:
    v = {f"eta_{b}": cal.eta[b] for b in BACKENDS}
    v.update(
        t0_gpu=cal.t0_ms["gpu"], t0_cpu=cal.t0_ms["cpu"], t0_rocm=estimate._t0_ms("rocm", cal),
        kappa_gpu=cal.kappa["gpu"], kappa_cpu=cal.kappa["cpu"], server_ms=cal.server_ms,
        moe_bytes=cal.moe_bytes,
        cpu_sync_ms=cal.cpu_sync_ms, ultra_sync_ms=cal.ultra_sync_ms,
    )  # fmt: skip
    return v


def with_vector(cal: Calibration, v: dict[str, float]) -> Calibration:
    return cal._replace(
        eta={b: v[f"eta_{b}"] for b in BACKENDS},
        t0_ms={"gpu": v["t0_gpu"], "cpu": v["t0_cpu"], "rocm": v["t0_rocm"]},
        kappa={"gpu": v["kappa_gpu"], "cpu": v["kappa_cpu"]},
        server_ms=v["server_ms"],
        moe_bytes=v["moe_bytes"],
        cpu_sync_ms=v["cpu_sync_ms"],
        ultra_sync_ms=v["ultra_sync_ms"],
    )


def _fast_decode(pre: tuple[float, ...], v: dict[str, float]) -> float:
    """predict_decode with the row's constants precomputed (same formula, checked by tests)."""
    read, bw, backend_i, compute, served, moe, threads, depth, ultra, graphless = pre
    backend = BACKENDS[int(backend_i)]
    gpu = backend != "cpu"
    seconds = read * (v["moe_bytes"] if moe else 1.0) / (v[f"eta_{backend}"] * bw * 1e9)
    seconds += v["kappa_gpu" if gpu else "kappa_cpu"] * compute
    t0 = v["t0_rocm"] if backend == "rocm" else v["t0_gpu" if gpu else "t0_cpu"]
    seconds += (t0 + (v["server_ms"] if served else 0.0)) / 1000
    if not gpu and threads:
        seconds += v["cpu_sync_ms"] * (threads / 8) ** 2 * depth / 1000
    if gpu and ultra:
        seconds += v["ultra_sync_ms"] * depth / 1000
    return 1 / (seconds + graphless)


def _precompute(row: Row) -> tuple[float, ...]:
    tflops = estimate.decode_tflops(row.decode_tf, row.backend, row.arch)
    compute = row.active * 1e9 / (tflops * 1e12) if tflops else 0.0
    return (
        row.read_bytes, row.bandwidth, float(BACKENDS.index(row.backend)), compute,
        float(row.served), float(row.moe), float(row.threads or 0),
        estimate.depth(row.layers), float(row.arch == "apple-ultra"),
        estimate.graphless_s(row.backend, row.arch, row.layers, row.graphs),
    )  # fmt: skip


def submission(row: Row) -> tuple[str, str]:
    """One device on one backend: its rows (one host, one harness, one build) share their errors."""
    return row.hardware, row.backend


def source_weights(rows: Sequence[Row]) -> list[float]:
    """1 / sqrt(rows of the same submission): one submission's 30 rows must not outvote five
    devices."""
    count: dict[tuple[str, str], int] = {}
    for r in rows:
        count[submission(r)] = count.get(submission(r), 0) + 1
    return [1 / math.sqrt(count[submission(r)]) for r in rows]


def soft_l1(z: float, scale: float = 0.15) -> float:
    return 2 * scale * scale * (math.sqrt(1 + (z / scale) ** 2) - 1)


def fit_decode(
    rows: Sequence[Row], base: Calibration = CALIBRATION, rounds: int = 3
) -> Calibration:
    weights = source_weights(rows)
    data = [(_precompute(r), r.tg, w) for r, w in zip(rows, weights, strict=True) if r.tg]
    used = {BACKENDS[int(p[2])] for p, _, _ in data}

    def loss(v: dict[str, float]) -> float:
        total = sum(w * soft_l1(math.log(_fast_decode(p, v) / tg)) for p, tg, w in data)
        for b in BACKENDS:
            total += PRIOR_WEIGHT * (math.log(v[f"eta_{b}"] / ETA_PRIOR) / ETA_PRIOR_SIGMA) ** 2 / 2
        total += PRIOR_WEIGHT * (v["t0_cpu"] / T0_CPU_PRIOR_SIGMA_MS) ** 2 / 2
        return total

    v = vector(base)
    knobs = [k for k in KNOBS if not k.startswith("eta_") or k[4:] in used]
    if "rocm" not in used:
        knobs.remove("t0_rocm")
    for _ in range(rounds):
        for knob in knobs:
            lo, hi = _bounds(knob)
            best_loss, best = loss(v), v[knob]
            for _zoom in range(3):
                for i in range(17):
                    trial = lo + (hi - lo) * i / 16
                    value = loss({**v, knob: trial})
                    if value < best_loss:
                        best_loss, best = value, trial
                step = (hi - lo) / 16
                lo, hi = max(_bounds(knob)[0], best - step), min(_bounds(knob)[1], best + step)
            v[knob] = best
    for b in BACKENDS:  # a backend without rows keeps the prior, not a stale value
        if b not in used:
            v[f"eta_{b}"] = ETA_PRIOR
    if "rocm" not in used:  # no HIP rows: HIP's fixed cost is unknown, take the GPUs'
        v["t0_rocm"] = v["t0_gpu"]
    return with_vector(base, v)


def implied_mu(row: Row) -> float:
    """The row's measured prefill FLOPS over what prefill_tflops counts before its μ."""
    flops = estimate.flops_per_token(row.spec, row.prompt) or 0.0
    counted = estimate.sustained_tflops(row.tflops or 1, row.backend, row.arch, row.hardware)
    return flops * (row.pp or 0) / 1e12 / counted


def fit_prefill(rows: Sequence[Row], base: Calibration = CALIBRATION) -> Calibration:
    """Per compute class: the median of measured effective FLOPS / shader FP32 FLOPS (dense
    rows); then the MoE factor as the median of MoE rows over their class."""
    by_class: dict[str, list[float]] = {}
    for r in rows:
        if r.pp and r.tflops and not r.moe:
            by_class.setdefault(estimate.compute_class(r.arch, r.backend), []).append(implied_mu(r))
    mu = dict(base.prefill_mu)
    for cls, values in by_class.items():
        mu[cls] = round(statistics.median(values), 3)
    moe = [
        implied_mu(r) / mu[estimate.compute_class(r.arch, r.backend)]
        for r in rows
        if r.pp and r.tflops and r.moe and estimate.compute_class(r.arch, r.backend) in by_class
    ]
    return base._replace(
        prefill_mu=mu,
        moe_prefill=round(statistics.median(moe), 2) if moe else base.moe_prefill,
    )


def prefill_without(rows: Sequence[Row], held: Sequence[Row], base: Calibration) -> Calibration:
    """Prefill constants fitted without `held`; a compute class left with no rows falls back to
    the median over the other classes (what an unseen class would get)."""
    cal = fit_prefill(rows, base)
    seen = {estimate.compute_class(r.arch, r.backend) for r in rows if r.pp and not r.moe}
    others = [cal.prefill_mu[c] for c in seen if c != "cpu"]
    fallback = statistics.median(others) if others else 1.0
    mu = {c: (v if c in seen else fallback) for c, v in cal.prefill_mu.items()}
    return cal._replace(prefill_mu=mu)


# -- report --------------------------------------------------------------------------------------


def errors(pairs: Sequence[tuple[float, float]]) -> tuple[float, float, int]:
    errs = sorted(abs(p / m - 1) for p, m in pairs)
    if not errs:
        return math.nan, math.nan, 0
    p90 = errs[min(len(errs) - 1, math.ceil(0.9 * len(errs)) - 1)]
    return statistics.median(errs), p90, len(errs)


def pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value * 100:.0f} %"


BOOTSTRAP_RESAMPLES = 1000
T = TypeVar("T")
S = TypeVar("S")


def _clusters(items: Iterable[tuple[Row, T]]) -> list[list[T]]:
    """The items grouped by the submission of their row (the bootstrap's unit)."""
    groups: dict[tuple[str, str], list[T]] = {}
    for row, item in items:
        groups.setdefault(submission(row), []).append(item)
    return list(groups.values())


def _bootstrap(groups: list[list[T]], statistic: Callable[[list[T]], S], seed: int) -> list[S]:
    """`statistic` of BOOTSTRAP_RESAMPLES cluster resamples: as many whole groups as there are,
    drawn with replacement."""
    rng = random.Random(seed)
    return [
        statistic([item for _ in groups for item in rng.choice(groups)])
        for _ in range(BOOTSTRAP_RESAMPLES)
    ]


def _span(values: list[float]) -> tuple[float, float]:
    """The 5th and 95th percentile: a 90 % interval."""
    ordered = sorted(values)
    return ordered[int(0.05 * len(ordered))], ordered[int(0.95 * len(ordered)) - 1]


def interval(
    pairs: Sequence[tuple[Row, float]], measured: Callable[[Row], float | None], seed: int = 0
) -> tuple[tuple[float, float], tuple[float, float]]:
    """90 % intervals of the median and the p90 error: a cluster bootstrap that resamples whole
    submissions, since a submission's rows share their errors. A change smaller than these
    widths is not shown by this data."""
    groups = _clusters((r, (p, measured(r) or 1)) for r, p in pairs)
    if not groups:
        return (math.nan, math.nan), (math.nan, math.nan)
    stats = _bootstrap(groups, lambda sample: errors(sample)[:2], seed)
    return _span([m for m, _ in stats]), _span([p90 for _, p90 in stats])


def paired_gap(
    ours: Sequence[tuple[Row, float]],
    theirs: Sequence[tuple[Row, float]],
    measured: Callable[[Row], float | None],
    seed: int = 0,
) -> tuple[float, float, float]:
    """Our median error minus theirs on the same rows, with its 90 % interval (the same cluster
    bootstrap, both estimators resampled together): below 0 we are closer."""
    theirs_of = {id(r): p for r, p in theirs}
    groups = _clusters(
        (r, (p, theirs_of[id(r)], measured(r) or 1)) for r, p in ours if id(r) in theirs_of
    )
    if not groups:
        return math.nan, math.nan, math.nan

    def gap(sample: list[tuple[float, float, float]]) -> float:
        mine, _, _ = errors([(p, m) for p, _, m in sample])
        other, _, _ = errors([(q, m) for _, q, m in sample])
        return mine - other

    lo, hi = _span(_bootstrap(groups, gap, seed))
    return gap([t for g in groups for t in g]), lo, hi


def grouped(
    rows: Sequence[Row],
    key: Callable[[Row], str],
    fit: Callable[[Sequence[Row]], Calibration],
    predict: Callable[[Row, Calibration], float],
    want: Callable[[Row], float | None],
) -> list[tuple[Row, float]]:
    """Each group predicted by constants fitted on every other group."""
    out = []
    for group in sorted({key(r) for r in rows}):
        held = [r for r in rows if key(r) == group and want(r)]
        if not held:
            continue
        cal = fit([r for r in rows if key(r) != group])
        out += [(r, predict(r, cal)) for r in held]
    return out


@dataclass
class Report:
    decode: dict[str, list[tuple[Row, float]]]
    prefill: dict[str, list[tuple[Row, float]]]


def evaluate(rows: Sequence[Row], rounds: int = 3) -> Report:
    tg_rows = [r for r in rows if r.tg]
    pp_rows = [r for r in rows if r.pp]
    decode = {
        "lmdoctor (hard-coded constants, in sample)": [
            (r, predict_decode(r, CALIBRATION)) for r in tg_rows
        ],
        "leave one hardware family out": grouped(
            tg_rows, lambda r: r.family, lambda t: fit_decode(t, rounds=rounds), predict_decode,
            lambda r: r.tg,
        ),
        "leave one backend generation out": grouped(
            tg_rows, lambda r: r.backend_gen, lambda t: fit_decode(t, rounds=rounds),
            predict_decode, lambda r: r.tg,
        ),
        BASELINE: [(r, baseline_decode(r)) for r in tg_rows],
    }  # fmt: skip
    prefill = {
        "lmdoctor (hard-coded constants, in sample)": [
            (r, predict_prefill(r, CALIBRATION)) for r in pp_rows
        ],
        "leave one hardware family out": grouped(
            pp_rows, lambda r: r.family,
            lambda t: prefill_without(t, [], CALIBRATION), predict_prefill, lambda r: r.pp,
        ),
        "leave one backend generation out": grouped(
            pp_rows, lambda r: r.backend_gen,
            lambda t: prefill_without(t, [], CALIBRATION), predict_prefill, lambda r: r.pp,
        ),
    }  # fmt: skip
    return Report(decode, prefill)


# the fewest rows a backend needs for its own speed band (estimate.DECODE_SPREAD; fewer take
# every backend's)
BAND_MIN_ROWS = 10


def spread(
    pairs: Sequence[tuple[Row, float]], measured: Callable[[Row], float | None]
) -> dict[str, tuple[float, float]]:
    """Measured ÷ estimated at the 1st and 9th decile (eight in ten rows between), per backend
    with BAND_MIN_ROWS rows and over "all": what estimate.DECODE_SPREAD and PREFILL_SPREAD
    hard-code (from the family-held-out predictions)."""
    ratios: dict[str, list[float]] = {"all": []}
    for r, p in pairs:
        ratio = (measured(r) or math.nan) / p
        ratios["all"].append(ratio)
        ratios.setdefault(r.backend, []).append(ratio)
    bands = {}
    for backend, values in ratios.items():
        if backend == "all" or len(values) >= BAND_MIN_ROWS:
            deciles = statistics.quantiles(values, n=10, method="inclusive")
            bands[backend] = (round(deciles[0], 2), round(deciles[-1], 2))
    return bands


Configuration = tuple[str, str, str, str | None, bool]


def configuration(row: Row) -> Configuration:
    """What a measurement measured: the same key, measured twice, should give the same speed."""
    return row.hardware, row.backend, row.model, row.spec.quant, row.served


def other_sources(
    rows: Sequence[Row], measured: Callable[[Row], float | None] = lambda r: r.tg
) -> list[tuple[Row, float]]:
    """The data's own noise floor: each row (decode, or what `measured` reads) whose
    configuration another source measured too, "predicted" by the median of those other
    sources' rows. No estimator can be expected to land closer to a row than a second
    measurement of the very same thing does."""
    by_config: dict[Configuration, list[Row]] = {}
    for r in rows:
        if measured(r):
            by_config.setdefault(configuration(r), []).append(r)
    out = []
    for same in by_config.values():
        for r in same:
            others = [v for o in same if o.source != r.source and (v := measured(o))]
            if others:
                out.append((r, statistics.median(others)))
    return out


def table(
    results: dict[str, list[tuple[Row, float]]], measured: Callable[[Row], float | None]
) -> list[str]:
    lines = ["| | all | " + " | ".join(BACKENDS) + " |", "|---|---|" + "---|" * len(BACKENDS)]
    for label, pairs in results.items():
        cells = []
        for sel in (None, *BACKENDS):
            sub = [(p, measured(r) or 1) for r, p in pairs if sel is None or r.backend == sel]
            median, p90, n = errors(sub)
            cells.append("–" if not n else f"{pct(median)} / {pct(p90)} (n={n})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def _flops_per_byte(row: Row) -> str:
    """The device's decode compute per byte of bandwidth, binned: where the compute term weighs."""
    tflops = estimate.decode_tflops(row.decode_tf, row.backend, row.arch)
    if row.backend == "cpu" or not tflops:
        return "cpu"
    ratio = tflops * 1000 / row.bandwidth
    return next(label for top, label in RATIO_BINS if ratio < top)


RATIO_BINS = ((15, "GPU < 15 FLOP/B"), (30, "GPU 15-30 FLOP/B"), (60, "GPU 30-60 FLOP/B"),
              (math.inf, "GPU >= 60 FLOP/B"))  # fmt: skip
SIZE_BINS = ((1, "< 1 B active"), (4, "1-4 B"), (10, "4-10 B"), (math.inf, ">= 10 B"))
RESIDUAL_VIEWS: dict[str, Callable[[Row], str]] = {
    "backend generation": lambda r: r.backend_gen,
    "hardware family": lambda r: r.family,
    "compute per byte": _flops_per_byte,
    "model size": lambda r: next(label for top, label in SIZE_BINS if r.active < top),
    "harness": lambda r: "served (Ollama, llama-server)" if r.served else "llama-bench, ./main",
}


def residuals(pairs: Sequence[tuple[Row, float]]) -> list[str]:
    """Where the misses sit: per group, the median signed error (+: estimate too fast) and the
    rows off by more than 30 % (the p90 target), for the next model change to explain."""
    lines = []
    for view, key in RESIDUAL_VIEWS.items():
        lines.append(f"  by {view}:")
        groups: dict[str, list[float]] = {}
        for row, predicted in pairs:
            groups.setdefault(key(row), []).append(predicted / (row.tg or 1) - 1)
        for label, errs in sorted(groups.items()):
            over = sum(abs(e) > 0.3 for e in errs)
            lines.append(
                f"    {label:<32} n={len(errs):<4} median {statistics.median(errs) * 100:+5.0f} %"
                f"   over 30 %: {over}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--rows", action="store_true", help="every row's measured and estimated")
    parser.add_argument("--markdown", action="store_true", help="tables for the README")
    parser.add_argument("--quick", action="store_true", help="one fitting round (faster)")
    parser.add_argument(
        "--residuals", action="store_true", help="family-held-out decode misses, by group"
    )
    args = parser.parse_args(argv)

    rows = load(args.csv)
    refit = fit_prefill(rows, fit_decode(rows))
    print(f"{len(rows)} usable rows ({sum(1 for r in rows if r.tg)} decode, "
          f"{sum(1 for r in rows if r.pp)} prefill) from {args.csv.name}.\n")  # fmt: skip
    print("Constants refitted on every row (hard-coded in lmdoctor/estimate.py in brackets):")
    old = vector(CALIBRATION)
    for knob, value in vector(refit).items():
        print(f"  {knob:<11} {value:7.3f}   [{old[knob]:g}]")
    for cls, mu in sorted(refit.prefill_mu.items()):
        print(f"  prefill_mu[{cls}] {mu:6.2f}   [{CALIBRATION.prefill_mu.get(cls)}]")
    print(f"  moe_prefill {refit.moe_prefill:6.2f}   [{CALIBRATION.moe_prefill}]\n")

    report = evaluate(rows, rounds=1 if args.quick else 3)
    print("Decode (tokens/s): median / p90 of |estimate / measured - 1| (rows)")
    print("\n".join(table(report.decode, lambda r: r.tg)))
    print("\nPrefill (tokens/s): median / p90 (rows); peers do not estimate prefill")
    print("\n".join(table(report.prefill, lambda r: r.pp)))
    views: tuple[tuple[str, dict[str, list[tuple[Row, float]]], Callable[[Row], float | None]], ...]
    views = (("decode", report.decode, lambda r: r.tg), ("prefill", report.prefill, lambda r: r.pp))
    print("\n90 % intervals (cluster bootstrap over submissions), all backends: median / p90")
    for kind, results, measured in views:
        for label, pairs in results.items():
            (m_lo, m_hi), (p_lo, p_hi) = interval(pairs, measured)
            print(f"  {kind:<7} {label:<44} {pct(m_lo)}–{pct(m_hi)} / {pct(p_lo)}–{pct(p_hi)}")
    print("\nDecode, family held out minus the baseline, median error per backend "
          "(points, 90 % interval; below 0: lmdoctor is closer)")  # fmt: skip
    family_out = report.decode["leave one hardware family out"]
    for backend in BACKENDS:
        mine = [(r, p) for r, p in family_out if r.backend == backend]
        gap, lo, hi = paired_gap(mine, report.decode[BASELINE], lambda r: r.tg)
        if mine:
            span = f"[{lo * 100:+.0f}, {hi * 100:+.0f}]"
            print(f"  {backend:<7} {gap * 100:+4.0f}  {span}  (n={len(mine)})")
    print("\nSpeed bands: measured ÷ estimated, 10th–90th percentile, family held out "
          "(hard-coded: estimate.DECODE_SPREAD, PREFILL_SPREAD)")  # fmt: skip
    hard_coded = {"decode": estimate.DECODE_SPREAD, "prefill": estimate.PREFILL_SPREAD}
    for kind, results, measured in views:
        bands = spread(results["leave one hardware family out"], measured)
        print(f"  {kind:<7} " + ", ".join(
            f"{b} {lo:.2f}–{hi:.2f} [{hard_coded[kind].get(b)}]" for b, (lo, hi) in bands.items()
        ))  # fmt: skip
    for kind, results, measured in views:
        floor = other_sources(rows, measured)
        replicated = {id(r) for r, _ in floor}
        print(f"\nNoise floor: the {len(floor)} {kind} rows whose configuration (hardware, "
              "backend, model, quant, harness) another source measured too")  # fmt: skip
        print("\n".join(table(
            {"another source's measurement (median of them)": floor}
            | {label: [(r, p) for r, p in pairs if id(r) in replicated]
               for label, pairs in results.items()},
            measured,
        )))  # fmt: skip
    if args.residuals:
        print("\nDecode misses with the hardware family held out (signed: + is too fast):")
        print("\n".join(residuals(report.decode["leave one hardware family out"])))
    if args.rows:
        print("\nRows (decode measured / in sample / family held out / baseline):")
        held = {id(r): p for r, p in report.decode["leave one hardware family out"]}
        for r, p in report.decode["lmdoctor (hard-coded constants, in sample)"]:
            print(
                f"  {r.hardware[:30]:<30} {r.backend:<6} {r.model[:18]:<18} {r.spec.quant:<6} "
                f"{r.tg:8.1f} / {p:8.1f} / {held.get(id(r), math.nan):8.1f} / "
                f"{baseline_decode(r):8.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
