"""CPU compute facts: FP32 FLOPs per clock by microarchitecture (hardware.CPU_FLOPS_PER_CLOCK),
the clock, and that lmdoctor's machine reading and the accuracy run compute the same FLOPS."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from lmdoctor import estimate, hardware, modelname
from portable import utf8

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "hardware"

# /proc/cpuinfo of a Ryzen 7 7840HS (Phoenix: family 0x19 = 25, model 0x74 = 116), abridged
ZEN4_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 116
model name\t: AMD Ryzen 7 7840HS w/ Radeon 780M Graphics
cpu MHz\t\t: 1600.000
flags\t\t: fpu sse2 avx avx2 fma f16c avx512f avx512bw avx512vl avx512_vnni avx512_bf16
"""


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "estimate_accuracy_cpu", ROOT / "benchmarks" / "estimate_accuracy.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_zen4_and_sapphire_rapids_differ_per_clock():
    """Both have AVX-512, but Zen 4 runs it on two 256-bit FMA pipes and a Xeon Platinum has
    two 512-bit FMA units: the ISA flags alone cannot tell them apart."""
    zen4 = hardware.read_cpuinfo(ZEN4_CPUINFO)
    spr = hardware.read_cpuinfo(utf8(FIXTURES / "cpuinfo-x86-avx512.txt"))
    assert zen4["isa"]["avx512"] and spr["isa"]["avx512"]
    assert zen4["uarch"] == "amd-zen4" and spr["uarch"] == "intel-avx512-server"
    assert hardware.CPU_FLOPS_PER_CLOCK["amd-zen4"] == 32
    assert hardware.CPU_FLOPS_PER_CLOCK["intel-avx512-server"] == 64
    one_zen4 = hardware.cpu_fp32_tflops(zen4["uarch"], 1, 3.0)
    one_spr = hardware.cpu_fp32_tflops(spr["uarch"], 1, 3.0)
    assert one_spr == pytest.approx(2 * one_zen4)
    assert spr["clock_ghz"] == 2.0  # cpuinfo's "cpu MHz" when nothing better is known


@pytest.mark.parametrize(
    ("name", "uarch"),
    [
        ("AMD Ryzen 7 7840HS", "amd-zen4"),
        ("AMD Ryzen 9 7950X 16-Core Processor", "amd-zen4"),
        ("AMD Ryzen 9 9950X 16-Core Processor", "amd-zen5"),
        ("AMD Ryzen AI 5 340 w/ Radeon 840M", "amd-zen5-mobile"),
        ("AMD Ryzen AI 9 HX 370 w/ Radeon 890M", "amd-zen5-mobile"),
        ("AMD Ryzen AI Max+ 395 w/ Radeon 8060S", "amd-zen5"),
        ("AMD EPYC 9654 96-Core Processor", "amd-zen4"),
        ("AMD EPYC 7763 64-Core Processor", "amd-zen3"),
        ("AMD Ryzen 5 3600 6-Core Processor", "amd-zen2"),
        ("Intel(R) Core(TM) i5-4278U CPU @ 2.60GHz", "intel-haswell"),
        ("Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz", "intel-skylake"),
        ("Intel(R) Core(TM) i9-14900K", "intel-skylake"),
        ("Intel(R) Core(TM) Ultra 7 155H", "intel-skylake"),
        ("Intel(R) N150", "intel-gracemont"),
        ("Intel(R) Xeon(R) Gold 6430", "intel-avx512-server"),
        ("Intel(R) Xeon(R) Silver 4210 CPU @ 2.20GHz", "intel-skylake"),  # one FMA512 unit
        ("Intel(R) Celeron(R) N4020 CPU @ 1.10GHz", None),  # Goldmont Plus: no AVX2/FMA
        ("Apple M3 Max", "apple-p"),
        ("Raspberry Pi 5 Model B Rev 1.0", "arm-a76"),
        ("AmpereOne A192-32X", "ampereone"),
    ],
)
def test_names_resolve_to_their_microarchitecture(name: str, uarch: str | None):
    assert hardware.cpu_uarch(name) == uarch


def test_family_and_part_numbers_win_over_a_vague_name():
    # a cloud VM's "AMD EPYC" (family 0x19, model 0x01: Milan, Zen 3) and a Pi's Arm part
    assert hardware.cpu_uarch("AMD EPYC", "AuthenticAMD", 25, 1) == "amd-zen3"
    assert hardware.cpu_uarch("AMD EPYC", "AuthenticAMD", 26, 0x24) == "amd-zen5-mobile"
    skx = ("Intel(R) Xeon(R) Silver 4114", "GenuineIntel", 6, 0x55)
    assert hardware.cpu_uarch(*skx) == "intel-skylake"
    assert hardware.cpu_uarch("Intel(R) Xeon(R) Platinum 8168", "GenuineIntel", 6, 0x55) == (
        "intel-avx512-server"
    )
    pi = hardware.read_cpuinfo(utf8(FIXTURES / "cpuinfo-arm-pi5.txt"))
    assert pi["uarch"] == "arm-a76" and hardware.CPU_FLOPS_PER_CLOCK["arm-a76"] == 16
    # nothing names it: the widest ISA decides, else an unknown scalar-ish core
    assert hardware.cpu_uarch("QEMU Virtual CPU", isa={"avx2": True}) == "intel-skylake"
    assert hardware.cpu_uarch(None) is None
    unknown = hardware.cpu_fp32_tflops(None, 1, 1.0)
    assert unknown == hardware.CPU_FLOPS_PER_CLOCK_UNKNOWN / 1000
    assert hardware.cpu_fp32_tflops("amd-zen4", 1, None) == pytest.approx(
        hardware.DEFAULT_CPU_GHZ * 32 / 1000
    )
    assert hardware.cpu_fp32_tflops("amd-zen4", None, 3.0) is None


def test_apple_clock_comes_from_the_chip_table():
    values = hardware.parse_sysctl(utf8(FIXTURES / "sysctl-m3max-30c.txt"))
    cpu = hardware.cpu_from_sysctl(values)
    assert cpu["uarch"] == "apple-p" and cpu["clock_ghz"] == hardware.APPLE_P_CORE_GHZ["M3"]


def test_max_clock_from_cpufreq(tmp_path: Path):
    (tmp_path / "cpuinfo_max_freq").write_text("5100000\n", encoding="utf-8")
    assert hardware.max_clock_ghz(tmp_path) == 5.1


def test_machine_reading_and_the_accuracy_run_use_one_table():
    """What lmdoctor computes for a 7840HS it reads on the machine is what the accuracy run
    computes for the 7840HS rows (8 threads, the 3.8 GHz clock the rows ran at)."""
    bench = _bench()
    row = next(r for r in bench.load() if r.hardware == "AMD Ryzen 7 7840HS" and r.threads == 8)
    cpu = {**hardware.read_cpuinfo(ZEN4_CPUINFO), "physical_cores": 8, "clock_ghz": 3.8}
    assert estimate.cpu_tflops(cpu) == pytest.approx(row.tflops)
    assert row.tflops == pytest.approx(8 * 3.8 * 32 / 1000)
    # every CPU in the data resolves to a known microarchitecture and has a sourced clock
    for name in {r.hardware for r in bench.load() if r.backend == "cpu"}:
        assert hardware.cpu_uarch(name) in hardware.CPU_FLOPS_PER_CLOCK, name
        assert name in bench.CPU_GHZ, name


def test_prefill_follows_the_flops_table_and_decode_a_rate_per_core():
    """Two 8-core machines that differ only in FLOPs per clock (Zen 4, Xeon Platinum): prefill
    doubles, decode's compute term does not (estimate.CPU_DECODE_GFLOPS_PER_CORE)."""
    spec = modelname.parse("smollm2-135m@q8_0")

    def machine(cpuinfo: str) -> estimate.Machine:
        cpu = {**hardware.read_cpuinfo(cpuinfo), "physical_cores": 8, "clock_ghz": 3.0}
        snap = {"cpu": {**cpu, "ram_bandwidth_gbps": 40.0}, "memory": {"available_gib": 8.0}}
        return estimate.machine_from_snapshot(snap)

    zen4 = machine(ZEN4_CPUINFO)
    spr = machine(utf8(FIXTURES / "cpuinfo-x86-avx512.txt"))
    assert spr.cpu_tflops == pytest.approx(2 * zen4.cpu_tflops)
    a = estimate.estimate(spec, zen4, 2048, 512)
    b = estimate.estimate(spec, spr, 2048, 512)
    assert b.prefill_tps == pytest.approx(2 * a.prefill_tps)
    assert b.decode_tps == pytest.approx(a.decode_tps)
    assert estimate.cpu_decode_tflops(8) == pytest.approx(8 * 0.05)
    # a core does the same decode work per cycle: the rate follows the clock
    assert estimate.cpu_decode_tflops(8, 4.5) == pytest.approx(1.5 * estimate.cpu_decode_tflops(8))


def _zen3_vm(gbps: float) -> estimate.Machine:
    """This project's 2-vCPU Zen 3 VM as its snapshot reads it, the RAM probe run on 2 threads."""
    cpu = {"model": "AMD EPYC", "physical_cores": 2, "uarch": "amd-zen3", "clock_ghz": 2.45}
    return estimate.machine_from_snapshot({
        "cpu": {**cpu, "ram_bandwidth_gbps": gbps, "ram_bandwidth_threads": 2},
        "memory": {"available_gib": 8.0},
    })  # fmt: skip


def test_fewer_threads_than_the_bandwidth_probe_reach_less_bandwidth():
    """A server told to use 1 thread on a machine whose RAM probe ran 2 threads streams its
    weights at about half the measured figure (one core's misses in flight bound it)."""
    spec = modelname.parse("llama-3.2-3b@q4_k_m")  # bandwidth-bound on a CPU
    machine = _zen3_vm(24.0)
    assert machine.cpu_bandwidth_threads == 2
    two = estimate.estimate(spec, machine, 2048, 64)
    one = estimate.estimate(spec, machine._replace(cpu_threads=1), 2048, 64)
    assert one.decode_tps is not None and two.decode_tps is not None
    assert one.decode_tps < 0.6 * two.decode_tps
    assert any("1/2 of the 2-thread figure" in a for a in one.assumptions)
    # a bandwidth that was not measured here (a spec figure) is not scaled
    spec_bw = machine._replace(cpu_bandwidth_threads=None, cpu_threads=1)
    assert estimate.estimate(spec, spec_bw, 2048, 64).decode_tps > one.decode_tps


def test_a_thread_bound_core_pays_its_whole_decode_work():
    """One llama.cpp thread on a 2-vCPU Zen 3 VM whose RAM probe ran 2 threads: nothing hides the
    core's own dequantise-and-dot work behind other threads' memory stalls, so SmolLM2-135M Q4_1
    decodes at ≈ 1 / (its bytes at the thread's bandwidth + 135 M weights at 5 per cycle at
    2.45 GHz) — measured here 52-59 tokens per server CPU-second (NOTES, issue 12, estcpu
    session 4) — not the ≈ 80 the DRAM-bound compute rate gives."""
    spec = modelname.parse("smollm2-135m@q4_1")._replace(size_bytes=98_400_000)
    machine = _zen3_vm(24.1)
    assert machine.cpu_clock_ghz == 2.45
    one = estimate.estimate(spec, machine._replace(cpu_threads=1), 2048, 20)
    assert one.decode_tps is not None and 45 < one.decode_tps < 62
    compute = 0.135e9 / (2.45e9 * estimate.CPU_DECODE_WEIGHTS_PER_CLOCK)
    rate = estimate.core_bound_decode_tflops(1, 2.45)
    assert estimate.CALIBRATION.kappa["cpu"] * 0.135e9 / (rate * 1e12) == pytest.approx(compute)
    # without a clock the DRAM-bound rate stays; with all the probe's threads it is DRAM-bound
    no_clock = machine._replace(cpu_threads=1, cpu_clock_ghz=None)
    assert estimate.estimate(spec, no_clock, 2048, 20).decode_tps > 1.2 * one.decode_tps
    # (two DRAM-bound threads: well over twice the one core-bound thread, ≈ 150 tokens/s)
    assert estimate.estimate(spec, machine, 2048, 20).decode_tps > 2 * one.decode_tps


def test_one_threads_bandwidth_says_whether_the_cores_or_dram_bind():
    """With the probe's one-thread figure: threads that together reach less than DRAM gave the
    probe are bound by their cores (bandwidth threads × one thread's, the whole decode work
    serial with it); threads that would saturate it share DRAM (the overlapped compute term)."""
    spec = modelname.parse("llama-3.2-3b@q4_k_m")
    cpu = {"model": "AMD Ryzen 7 7840HS", "physical_cores": 8, "uarch": "amd-zen4",
           "clock_ghz": 3.8}  # fmt: skip

    def machine(probe_gbps: float, one_gbps: float, threads: int) -> estimate.Machine:
        snap = {
            "cpu": {**cpu, "ram_bandwidth_gbps": probe_gbps, "ram_bandwidth_threads": 4,
                    "ram_bandwidth_1t_gbps": one_gbps},
            "memory": {"available_gib": 8.0},
        }  # fmt: skip
        return estimate.machine_from_snapshot(snap)._replace(cpu_threads=threads)

    # 4 threads reached 4 × one thread's: unsaturated, so 2 threads are core-bound
    linear = machine(80.0, 20.0, 2)
    assert linear.cpu_bandwidth_1t_gbps == pytest.approx(20.0 / estimate.MEASURED_TO_SPEC, 0.01)
    core = estimate.estimate(spec, linear, 2048, 64)
    assert any("2 × the one-thread figure" in a for a in core.assumptions)
    bound = estimate.core_bound_decode_tflops(2, 3.8)
    bw = 2 * 20.0 / estimate.MEASURED_TO_SPEC
    expect = estimate.decode_tps(
        spec.size_bytes or estimate.modelname.weights_bytes(spec), bw, "cpu", bound,
        spec.active_params_b, 0.0, threads=2, layers=28,
    )  # fmt: skip
    assert core.decode_tps == pytest.approx(expect, rel=0.05)  # KV read aside
    # 4 threads reached only 45 of 80: 3 threads (60) saturate DRAM, 1 thread (20) does not
    saturated = machine(45.0, 20.0, 3)
    dram = estimate.estimate(spec, saturated, 2048, 64)
    assert not any("one-thread figure" in a for a in dram.assumptions)
    unscaled = saturated._replace(cpu_bandwidth_1t_gbps=None, cpu_bandwidth_threads=None)
    fast = estimate.estimate(spec, unscaled, 2048, 64)  # a spec figure: the DRAM-bound formula
    assert dram.decode_tps == pytest.approx(fast.decode_tps)
    one = estimate.estimate(spec, saturated._replace(cpu_threads=1), 2048, 64)
    assert one.decode_tps < dram.decode_tps / 2.5
