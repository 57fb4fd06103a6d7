"""How far lmdoctor's speed estimate lands from measured tokens/s, beside the peers' formula.

    .venv/bin/python benchmarks/estimate_accuracy.py [--csv PATH] [--rows] [--no-loo]

Reads benchmarks/data/speed-measurements.csv (a copy of the shared measurement file,
estimation.md §5) and prints, for decode (tg) and prefill (pp): median and p90 of
|estimate / measured - 1| for

  * lmdoctor with its hard-coded constants (lmdoctor/estimate.py CALIBRATION),
  * lmdoctor refitted here from scratch (the fit that produced those constants),
  * leave-one-out: each row predicted by constants fitted without it (honest error on
    hardware the table does not cover),
  * the constant-efficiency formula peers use (llmfit fit.rs estimate_tps:
    BW / (params × nominal bytes/param) × 0.55 × run-mode factor; estimation.md §1.1),

and the same split by source. Pure Python (no numpy): a small Nelder-Mead minimises a robust
(soft-L1) loss on log errors. Rows without a spec bandwidth (three CPU boards) cannot be
estimated by either formula and are left out; the partial-offload row (RTX 2080 +
--n-cpu-moe) is shown apart, with its host's DRAM bandwidth assumed.
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from lmdoctor import estimate, hardware, modelname
from lmdoctor.estimate import CALIBRATION, Calibration
from lmdoctor.modelname import ModelSpec

# a copy of ../shared/data/speed-measurements.csv (estimation.md §5), kept with the benchmark
DEFAULT_CSV = Path(__file__).parent / "data" / "speed-measurements.csv"
# llmfit's nominal bytes per parameter for its speed formula (fit.rs), and its run-mode factors
PEER_BYTES = {"Q4_0": 0.5, "Q4_K_M": 0.5, "MXFP4": 0.5, "Q8_0": 1.0, "Q6_K": 0.75, "F16": 2.0}
PEER_EFFICIENCY = 0.55
PEER_RUN_MODE = {"gpu": 1.0, "cpu": 0.3}
# i9-10900X: four channels of DDR4-2933 (spec) for the --n-cpu-moe row ⚠ assumed
PARTIAL_ROW_DRAM_GBPS = 93.9


@dataclass(frozen=True)
class Row:
    hardware: str
    backend: str
    bandwidth: float | None
    model: str
    spec: ModelSpec
    test: str
    pp: float | None
    tg: float
    source: str
    memory_class: str
    arch: str | None

    @property
    def partial(self) -> bool:
        return "n-cpu-moe" in self.hardware

    @property
    def depth(self) -> int:
        """Mean KV depth while generating (tg128 from empty: 64)."""
        if "tg1024" in self.test:
            return 512
        if "tg32" in self.test:
            return 16
        if "eval rate" in self.test:
            return 256
        return 64 if "tg128" in self.test or "llmfit" in self.test else 128

    @property
    def prompt(self) -> int:
        for n in (512, 1024, 2048):
            if f"pp{n}" in self.test:
                return n
        return 512

    @property
    def source_group(self) -> str:
        s = self.source
        if "discussions/15013" in s:
            return "llama.cpp CUDA scoreboard"
        if "discussions/4167" in s:
            return "llama.cpp Apple scoreboard"
        if "XiongjieDai" in s:
            return "XiongjieDai (2024 ./main)"
        if "geerlingguy" in s:
            return "geerlingguy (Ollama / llama.cpp)"
        return "other (forums, issues)"


def _classify(hw: str, backend: str) -> tuple[str, str | None]:
    """(memory class, architecture) from the hardware column."""
    if backend == "cpu":
        return "dram", None
    if "apple" in hw.lower():
        ultra = "ultra" in hw.lower()
        return ("apple-ultra" if ultra else "unified"), ("apple-ultra" if ultra else "apple")
    spec = hardware.gpu_spec(hw)
    if spec is None:
        return "gddr", None
    return spec.memory, spec.arch


def load(path: Path) -> list[Row]:
    rows = []
    with path.open(newline="") as fh:
        for r in csv.DictReader(fh):
            params, active = float(r["params_b"]), float(r["active_params_b"])
            spec = replace(
                modelname.parse(r["model"]),
                params_b=params,
                active_params_b=active,
                quant=r["quant"],
                bpw=float(r["bpw"]),
                size_bytes=None,
            )
            memory_class, arch = _classify(r["hardware"], r["backend"])
            rows.append(
                Row(
                    hardware=r["hardware"],
                    backend=r["backend"],
                    bandwidth=float(r["bandwidth_gbps"]) if r["bandwidth_gbps"] else None,
                    model=r["model"],
                    spec=spec,
                    test=r["test"],
                    pp=float(r["pp_tps"]) if r["pp_tps"] else None,
                    tg=float(r["tg_tps"]),
                    source=r["source"],
                    memory_class=memory_class,
                    arch=arch,
                )
            )
    return rows


# -- predictions ---------------------------------------------------------------------------------


def kv_read(row: Row) -> float:
    kv, _ = estimate.kv_bytes(row.spec, row.depth)
    return kv or 0.0


def predict_decode(row: Row, cal: Calibration) -> float:
    assert row.bandwidth is not None
    read = estimate.bytes_per_token(row.spec, cal) or 0.0
    if row.partial:  # --n-cpu-moe 12 of 24 layers: half the experts read from DRAM
        return estimate.partial_decode_tps(
            read, 0.5, row.bandwidth, PARTIAL_ROW_DRAM_GBPS, "cuda", "gddr", kv_read(row), cal
        )
    return estimate.decode_tps(
        read, row.bandwidth, row.backend, row.memory_class, kv_read(row), cal
    )


def predict_prefill(row: Row, cal: Calibration) -> float:
    assert row.bandwidth is not None
    flops = estimate.flops_per_token(row.spec, row.prompt) or 0.0
    tflops = estimate.prefill_tflops(row.bandwidth, row.backend, row.arch, cal)
    if row.spec.is_moe:
        tflops *= cal.moe_prefill
    return tflops * 1e12 / flops


def peer_decode(row: Row) -> float:
    assert row.bandwidth is not None
    active = row.spec.active_params_b or row.spec.params_b or 0.0
    bytes_per_param = PEER_BYTES.get(row.spec.quant or "", row.spec.bpw or 8 / 8)
    mode = PEER_RUN_MODE["cpu" if row.backend == "cpu" else "gpu"]
    if row.partial:
        mode = 0.8  # llmfit's MoE-offload factor
    return row.bandwidth / (active * bytes_per_param) * PEER_EFFICIENCY * mode


# -- fitting -------------------------------------------------------------------------------------

DECODE_KNOBS = ("eta_cuda", "t0_cuda", "eta_metal", "t0_metal", "eta_cpu", "hbm", "ultra", "moe")
LOWER = (0.3, 0.0, 0.3, 0.0, 0.2, 0.3, 0.3, 0.8)
UPPER = (1.0, 5.0, 1.0, 5.0, 1.0, 1.0, 1.0, 2.0)


def with_decode(cal: Calibration, x: Sequence[float]) -> Calibration:
    k = dict(zip(DECODE_KNOBS, x, strict=True))
    return replace(
        cal,
        eta={**cal.eta, "cuda": k["eta_cuda"], "metal": k["eta_metal"], "cpu": k["eta_cpu"]},
        t0_ms={**cal.t0_ms, "cuda": k["t0_cuda"], "metal": k["t0_metal"]},
        class_eta={"hbm": k["hbm"], "apple-ultra": k["ultra"]},
        moe_bytes=k["moe"],
    )


def decode_vector(cal: Calibration) -> list[float]:
    return [
        cal.eta["cuda"], cal.t0_ms["cuda"], cal.eta["metal"], cal.t0_ms["metal"], cal.eta["cpu"],
        cal.class_eta["hbm"], cal.class_eta["apple-ultra"], cal.moe_bytes,
    ]  # fmt: skip


def soft_l1(z: float, scale: float = 0.15) -> float:
    return 2 * scale * scale * (math.sqrt(1 + (z / scale) ** 2) - 1)


def nelder_mead(
    f: Callable[[list[float]], float], x0: list[float], step: float = 0.1, iters: int = 1500
) -> list[float]:
    n = len(x0)
    simplex = [list(x0)] + [
        [x + (step * max(abs(x), 0.5) if i == j else 0) for j, x in enumerate(x0)] for i in range(n)
    ]
    values = [f(p) for p in simplex]
    for _ in range(iters):
        order = sorted(range(n + 1), key=values.__getitem__)
        simplex, values = [simplex[i] for i in order], [values[i] for i in order]
        if values[-1] - values[0] < 1e-10:
            break
        centroid = [sum(p[j] for p in simplex[:-1]) / n for j in range(n)]
        worst = simplex[-1]

        def toward(t: float, w: list[float] = worst, c: list[float] = centroid) -> list[float]:
            return [c[j] + t * (w[j] - c[j]) for j in range(n)]

        reflected = toward(-1.0)
        fr = f(reflected)
        if fr < values[0]:
            expanded = toward(-2.0)
            fe = f(expanded)
            simplex[-1], values[-1] = (expanded, fe) if fe < fr else (reflected, fr)
        elif fr < values[-2]:
            simplex[-1], values[-1] = reflected, fr
        else:
            contracted = toward(0.5)
            fc = f(contracted)
            if fc < values[-1]:
                simplex[-1], values[-1] = contracted, fc
            else:
                best = simplex[0]
                simplex = [best] + [
                    [(b + p) / 2 for b, p in zip(best, q, strict=True)] for q in simplex[1:]
                ]
                values = [values[0]] + [f(p) for p in simplex[1:]]
    return simplex[min(range(n + 1), key=values.__getitem__)]


def fit_decode(rows: Sequence[Row], base: Calibration = CALIBRATION) -> Calibration:
    def loss(x: list[float]) -> float:
        clipped = [min(max(v, lo), hi) for v, lo, hi in zip(x, LOWER, UPPER, strict=True)]
        penalty = sum((v - c) ** 2 for v, c in zip(x, clipped, strict=True)) * 100
        cal = with_decode(base, clipped)
        return penalty + sum(soft_l1(math.log(predict_decode(r, cal) / r.tg)) for r in rows)

    x = decode_vector(base)
    for _ in range(3):  # restarts shake the simplex out of flat valleys
        x = nelder_mead(loss, x)
    return with_decode(
        base, [min(max(v, lo), hi) for v, lo, hi in zip(x, LOWER, UPPER, strict=True)]
    )


def fit_prefill(rows: Sequence[Row], base: Calibration = CALIBRATION) -> Calibration:
    """Per-architecture median of effective TFLOPS per TB/s (dense rows), then the MoE factor
    as the median of MoE rows' ratio over their architecture's dense ratio."""
    implied: dict[str, list[float]] = {}
    for r in rows:
        if r.spec.is_moe or r.arch is None or r.pp is None or r.bandwidth is None:
            continue
        flops = estimate.flops_per_token(r.spec, r.prompt) or 0.0
        implied.setdefault(r.arch, []).append(flops * r.pp / 1e12 / (r.bandwidth / 1000))
    ratios = dict(base.prefill_per_tbs)
    for arch, values in implied.items():
        ratios[arch] = round(statistics.median(values), 1)
    moe = []
    for r in rows:
        if r.spec.is_moe and r.pp is not None and r.bandwidth is not None and r.arch in implied:
            flops = estimate.flops_per_token(r.spec, r.prompt) or 0.0
            moe.append(flops * r.pp / 1e12 / (r.bandwidth / 1000) / ratios[r.arch])
    return replace(
        base,
        prefill_per_tbs=ratios,
        moe_prefill=round(statistics.median(moe), 2) if moe else base.moe_prefill,
    )


# -- report --------------------------------------------------------------------------------------


def errors(pairs: Sequence[tuple[float, float]]) -> tuple[float, float, int]:
    errs = sorted(abs(p / m - 1) for p, m in pairs)
    if not errs:
        return math.nan, math.nan, 0
    p90 = errs[min(len(errs) - 1, math.ceil(0.9 * len(errs)) - 1)]
    return statistics.median(errs), p90, len(errs)


def pct(value: float) -> str:
    return "   n/a" if math.isnan(value) else f"{value * 100:5.1f} %"


def line(label: str, pairs: Sequence[tuple[float, float]]) -> str:
    median, p90, n = errors(pairs)
    return f"  {label:<44} median {pct(median)}   p90 {pct(p90)}   n={n}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--rows", action="store_true", help="print every row's estimate")
    parser.add_argument("--no-loo", action="store_true", help="skip leave-one-out (faster)")
    args = parser.parse_args(argv)

    rows = load(args.csv)
    usable = [r for r in rows if r.bandwidth is not None]
    decode_rows = [r for r in usable if not r.partial]
    fitted_on = [r for r in decode_rows if r.backend in ("cuda", "metal", "cpu")]
    prefill_rows = [r for r in usable if r.pp is not None]
    left_out = [r for r in rows if r.bandwidth is None]

    refit = fit_prefill(prefill_rows, fit_decode(fitted_on))
    print(
        f"{len(rows)} rows; {len(decode_rows)} decode and {len(prefill_rows)} prefill rows with a"
    )
    print(f"spec bandwidth; {len(left_out)} CPU rows without one are left out.\n")
    print("Refitted decode constants (hard-coded in lmdoctor/estimate.py in brackets):")
    for knob, new, old in zip(
        DECODE_KNOBS, decode_vector(refit), decode_vector(CALIBRATION), strict=True
    ):
        print(f"  {knob:<10} {new:6.3f}   [{old:g}]")
    print("Prefill TFLOPS per TB/s by architecture (from the rows):")
    for arch in sorted({r.arch for r in prefill_rows if r.arch}):
        print(
            f"  {arch:<12} {refit.prefill_per_tbs[arch]:6.1f}   "
            f"[{CALIBRATION.prefill_per_tbs.get(arch)}]"
        )
    print(f"  moe factor   {refit.moe_prefill:6.2f}   [{CALIBRATION.moe_prefill}]\n")

    ours = [(predict_decode(r, CALIBRATION), r.tg) for r in decode_rows]
    peers = [(peer_decode(r), r.tg) for r in decode_rows]
    ours_pp = [(predict_prefill(r, CALIBRATION), r.pp or 0) for r in prefill_rows]
    # one TFLOPS-per-bandwidth ratio for every GPU: what bandwidth alone predicts
    single = statistics.median(
        (estimate.flops_per_token(r.spec, r.prompt) or 0) * (r.pp or 0) / r.bandwidth
        for r in prefill_rows
        if r.backend != "cpu" and r.bandwidth and not r.spec.is_moe
    )
    flat_pp = [
        (
            single * (r.bandwidth or 0) / (estimate.flops_per_token(r.spec, r.prompt) or 1),
            r.pp or 0,
        )
        for r in prefill_rows
        if r.backend != "cpu"
    ]
    print("Decode (tokens/s), |estimate / measured - 1|:")
    print(line("lmdoctor (hard-coded constants)", ours))
    print(line("lmdoctor (refitted here)", [(predict_decode(r, refit), r.tg) for r in decode_rows]))
    if not args.no_loo:
        loo = []
        for i, r in enumerate(decode_rows):
            others = [o for j, o in enumerate(decode_rows) if j != i and o in fitted_on]
            loo.append((predict_decode(r, fit_decode(others)), r.tg))
        print(line("lmdoctor, leave-one-out", loo))
    print(line("peers' constant efficiency (llmfit, 0.55)", peers))
    print("\nPrefill (tokens/s):")
    print(line("lmdoctor (hard-coded constants)", ours_pp))
    if not args.no_loo:
        loo_pp = []
        for i, r in enumerate(prefill_rows):
            cal = fit_prefill([o for j, o in enumerate(prefill_rows) if j != i], CALIBRATION)
            # an architecture left with no rows falls back to its backend's ratio
            if not any(o.arch == r.arch for j, o in enumerate(prefill_rows) if j != i):
                ratios = dict(cal.prefill_per_tbs)
                ratios.pop(r.arch or "", None)
                cal = replace(cal, prefill_per_tbs=ratios)
            loo_pp.append((predict_prefill(r, cal), r.pp or 0))
        print(line("lmdoctor, leave-one-out", loo_pp))
    print(line("one ratio for every GPU row (bandwidth only)", flat_pp))
    print("  (llmfit does not estimate prefill: PR AlexsJones/llmfit#704)")

    print("\nDecode by source (lmdoctor | peers):")
    for group in sorted({r.source_group for r in decode_rows}):
        ours_g = [p for p, r in zip(ours, decode_rows, strict=True) if r.source_group == group]
        peer_g = [p for p, r in zip(peers, decode_rows, strict=True) if r.source_group == group]
        m1, p1, n = errors(ours_g)
        m2, p2, _ = errors(peer_g)
        print(f"  {group:<34} n={n:<3} {pct(m1)} / p90 {pct(p1)} | {pct(m2)} / p90 {pct(p2)}")
    print("\nDecode by backend (lmdoctor):")
    for backend in sorted({r.backend for r in decode_rows}):
        print(
            line(
                backend, [p for p, r in zip(ours, decode_rows, strict=True) if r.backend == backend]
            )
        )

    partial = [r for r in usable if r.partial]
    for r in partial:
        print(
            f"\nPartial offload ({r.hardware}, DRAM {PARTIAL_ROW_DRAM_GBPS} GB/s assumed): "
            f"measured {r.tg:.1f}, lmdoctor {predict_decode(r, CALIBRATION):.1f}, "
            f"peers {peer_decode(r):.1f} tokens/s"
        )
    if args.rows:
        print("\nRows (decode measured / ours / peers; prefill measured / ours):")
        for r in usable:
            pp = f"{r.pp:8.0f} / {predict_prefill(r, CALIBRATION):8.0f}" if r.pp else " " * 19
            print(
                f"  {r.hardware[:34]:<34} {r.model[:18]:<18} {r.tg:7.1f} / "
                f"{predict_decode(r, CALIBRATION):7.1f} / {peer_decode(r):7.1f}   {pp}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
