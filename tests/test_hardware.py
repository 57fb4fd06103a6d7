"""Hardware readers against recorded-style fixtures (tests/fixtures/hardware/README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lmdoctor import estimate, hardware
from lmdoctor.render import hardware as render_hardware
from portable import utf8

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"


class NVMLError_NotSupported(Exception):
    pass


class NVMLError_LibraryNotFound(Exception):
    pass


class FakeNVML:
    """Answers like pynvml from a fixture; "NotSupported" raises like NVML does."""

    NVML_CLOCK_MEM = 2

    def __init__(self, fixture: str | None = None, *, no_driver: bool = False) -> None:
        self.data = json.loads(utf8(FIXTURES / fixture)) if fixture else {}
        self.no_driver = no_driver
        self.shut = False

    def _value(self, handle: int, key: str) -> Any:
        value = self.data["devices"][handle][key]
        if value == "NotSupported":
            raise NVMLError_NotSupported()
        return value

    def nvmlInit(self) -> None:
        if self.no_driver:
            raise NVMLError_LibraryNotFound()

    def nvmlShutdown(self) -> None:
        self.shut = True

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.data["driver"]

    def nvmlDeviceGetCount(self) -> int:
        return len(self.data["devices"])

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, h: int) -> bytes:
        return self._value(h, "name").encode()  # older pynvml returns bytes

    def nvmlDeviceGetMemoryInfo(self, h: int) -> Any:
        return type("Memory", (), self._value(h, "memory"))()

    def nvmlDeviceGetMaxClockInfo(self, h: int, clock: int) -> int:
        assert clock == self.NVML_CLOCK_MEM
        return self._value(h, "max_mem_clock_mhz")

    def nvmlDeviceGetMemoryBusWidth(self, h: int) -> int:
        return self._value(h, "bus_width")

    def nvmlDeviceGetCudaComputeCapability(self, h: int) -> tuple[int, int]:
        return tuple(self._value(h, "cc"))  # type: ignore[return-value]

    def nvmlDeviceGetUtilizationRates(self, h: int) -> Any:
        return type("Util", (), self._value(h, "util"))()

    def nvmlDeviceGetComputeRunningProcesses(self, h: int) -> list[Any]:
        return [type("P", (), p)() for p in self._value(h, "compute_processes")]

    def nvmlDeviceGetGraphicsRunningProcesses(self, h: int) -> list[Any]:
        return [type("P", (), p)() for p in self._value(h, "graphics_processes")]


def test_nvml_rtx4090_bandwidth_from_clock_and_bus():
    nvml = FakeNVML("nvml-rtx4090.json")
    gpus, problem = hardware.read_nvml(nvml, lambda pid: {4242: "ollama"}.get(pid))
    assert problem is None and nvml.shut
    (gpu,) = gpus
    assert gpu["name"] == "NVIDIA GeForce RTX 4090"
    assert gpu["bandwidth_gbps"] == pytest.approx(1008.1, abs=0.1)  # 10501 MHz × 2 × 48 B
    assert gpu["bandwidth_source"].startswith("NVML")
    assert gpu["vram_total_gib"] == pytest.approx(23.99, abs=0.01)
    assert gpu["vram_free_gib"] == pytest.approx(17.0, abs=0.01)
    assert gpu["compute_capability"] == "8.9" and gpu["arch"] == "ada"
    assert gpu["utilization_pct"] == 3 and gpu["memory_type"] == "gddr"
    assert gpu["processes"] == [{"pid": 4242, "name": "ollama", "used_gib": 6.53}]
    json.dumps(gpus)


def test_nvml_hbm_and_unsupported_fields_fall_back_to_the_table():
    gpus, _ = hardware.read_nvml(FakeNVML("nvml-a100-h100.json"))
    a100, h100 = gpus
    assert a100["bandwidth_gbps"] == pytest.approx(2039, abs=1)  # 1593 MHz × 2 × 640 B
    assert a100["memory_type"] == "hbm" and a100["arch"] == "ampere-hbm"
    assert h100["bus_width_bits"] is None
    assert h100["bandwidth_gbps"] == 2000 and h100["bandwidth_source"] == "table"
    assert h100["utilization_pct"] is None and h100["processes"] == []
    assert h100["arch"] == "hopper" and h100["memory_type"] == "hbm"


def test_nvml_unified_memory_gb10():
    (gpu,), _ = hardware.read_nvml(FakeNVML("nvml-gb10.json"))
    assert gpu["vram_total_gib"] is None and gpu["unified"]
    assert gpu["bandwidth_gbps"] == 273 and gpu["arch"] == "blackwell"


def test_nvml_without_driver_is_unknown_not_a_crash():
    assert hardware.read_nvml(FakeNVML(no_driver=True)) == (
        [],
        "no NVIDIA driver (NVML not available)",
    )
    assert hardware.read_nvml(None) == ([], "nvidia-ml-py is not installed")


def test_real_pynvml_here_degrades_quietly(capfd: pytest.CaptureFixture[str]):
    """This machine has no GPU driver: the real module must say so, and print nothing."""
    gpus, problem = hardware.read_nvml(hardware._load_pynvml())
    out, err = capfd.readouterr()
    if gpus:
        pytest.skip("an NVIDIA driver is present here")
    assert problem and out == "" and err == ""


def test_cpuinfo_x86_flags():
    cpu = hardware.read_cpuinfo(utf8(FIXTURES / "cpuinfo-x86-avx512.txt"))
    assert cpu["model"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert cpu["isa"]["avx2"] and cpu["isa"]["avx512"] and cpu["isa"]["amx"]
    assert cpu["isa"]["avx512_vnni"] and not cpu["isa"]["neon"]


def test_cpuinfo_arm_pi5():
    cpu = hardware.read_cpuinfo(utf8(FIXTURES / "cpuinfo-arm-pi5.txt"))
    assert cpu["model"] == "Raspberry Pi 5 Model B Rev 1.0"
    assert cpu["isa"]["neon"] and cpu["isa"]["dotprod"] and not cpu["isa"]["i8mm"]
    assert hardware.read_cpuinfo("")["model"] is None


def test_sysctl_binned_m3_max():
    values = hardware.parse_sysctl(utf8(FIXTURES / "sysctl-m3max-30c.txt"))
    gpu = hardware.apple_gpu(values)
    assert gpu is not None and gpu["name"] == "Apple M3 Max"
    assert gpu["bandwidth_gbps"] == 300  # 10 P-cores: the 30-core-GPU bin
    assert gpu["vram_total_gib"] == pytest.approx(36 * 0.67, abs=0.01)
    cpu = hardware.cpu_from_sysctl(values)
    assert cpu["model"] == "Apple M3 Max" and cpu["isa"]["neon"] and cpu["physical_cores"] == 14


def test_sysctl_ultra_with_wired_limit():
    values = hardware.parse_sysctl(utf8(FIXTURES / "sysctl-m2ultra.txt"))
    gpu = hardware.apple_gpu(values)
    assert gpu is not None and gpu["arch"] == "apple-ultra" and gpu["bandwidth_gbps"] == 800
    assert gpu["vram_total_gib"] == pytest.approx(180000 / 1024, abs=0.01)  # iogpu.wired_limit_mb
    assert hardware.apple_gpu({"machdep.cpu.brand_string": "Intel(R) Core(TM) i9"}) is None


def _tree(tmp_path: Path, fixture: str) -> Path:
    for rel, text in json.loads(utf8(FIXTURES / fixture)).items():
        if rel.startswith("_"):
            continue
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_amd_sysfs_discrete(tmp_path: Path):
    (gpu,) = hardware.read_amd_sysfs(_tree(tmp_path, "sysfs-rx7900xtx.json"))
    assert gpu["name"] == "RX 7900 XTX" and gpu["bandwidth_gbps"] == 960
    assert gpu["vram_total_gib"] == pytest.approx(23.98, abs=0.01)
    assert gpu["vram_free_gib"] == pytest.approx(22.86, abs=0.01)
    assert not gpu["unified"] and gpu["utilization_pct"] == 2


def test_amd_sysfs_apu_uses_gtt(tmp_path: Path):
    (gpu,) = hardware.read_amd_sysfs(_tree(tmp_path, "sysfs-strix-halo.json"))
    assert gpu["unified"] and gpu["vram_total_gib"] == pytest.approx(112.0, abs=0.01)
    assert gpu["bandwidth_gbps"] == 256


def test_amd_sysfs_missing_or_odd_files(tmp_path: Path):
    assert hardware.read_amd_sysfs(tmp_path / "nope") == []
    (tmp_path / "card0" / "device").mkdir(parents=True)
    (tmp_path / "card0" / "device" / "mem_info_vram_total").write_text("garbage")
    assert hardware.read_amd_sysfs(tmp_path) == []


def test_amdsmi_fake():
    class FakeAmdSmi:
        def amdsmi_init(self) -> None: ...
        def amdsmi_shut_down(self) -> None: ...
        def amdsmi_get_processor_handles(self) -> list[int]:
            return [0]

        def amdsmi_get_gpu_asic_info(self, h: int) -> dict[str, Any]:
            return {"market_name": "AMD Radeon RX 7900 XT"}

        def amdsmi_get_gpu_vram_usage(self, h: int) -> dict[str, int]:
            return {"vram_total": 20464, "vram_used": 464}

    (gpu,) = hardware.read_amdsmi(FakeAmdSmi())
    assert gpu["bandwidth_gbps"] == 800 and gpu["vram_free_gib"] == pytest.approx(19.53, abs=0.01)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("NVIDIA GeForce RTX 4070 Ti SUPER", "RTX 4070 Ti SUPER"),
        ("NVIDIA GeForce RTX 4070 Ti", "RTX 4070 Ti"),
        ("4090", "RTX 4090"),
        ("NVIDIA A100-SXM4-80GB", "A100 SXM4 80GB"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA H100 80GB HBM3", "H100 80GB HBM3"),
        ("AMD Radeon RX 7900 XTX", "RX 7900 XTX"),
        ("NVIDIA Quadro K620", None),
    ],
)
def test_gpu_table_lookup(name: str, expected: str | None):
    spec = hardware.gpu_spec(name)
    assert (spec.name if spec else None) == expected


def test_ram_bandwidth_probe_is_small_and_positive():
    value = hardware.measure_ram_bandwidth(seconds=0.02, threads=1, mib=4)
    assert value is not None and value > 0.1


def test_snapshot_here_is_json_and_never_raises(tmp_path, monkeypatch):
    monkeypatch.setenv("LMDOCTOR_CACHE_DIR", str(tmp_path))  # nothing measured this "boot"
    snap = hardware.snapshot(measure_bandwidth=False)
    json.dumps(snap)
    assert snap["cpu"]["ram_bandwidth_gbps"] is None
    assert isinstance(snap["gpus"], list) and "nvidia" in snap["probes"]


@pytest.mark.parametrize("fixture", ["snapshot-rtx4090.json", "snapshot-laptop-cpu.json"])
def test_render_table_and_json(fixture: str):
    snap = json.loads(utf8(FIXTURES / fixture))
    table = render_hardware.render(snap, estimate.capabilities(snap), "table")
    assert "What it can run" in table and "Llama-3.1-8B" in table
    data = json.loads(render_hardware.render(snap, estimate.capabilities(snap), "json"))
    assert data["can_run"]["models"][1]["model"] == "Llama-3.1-8B"
    if snap["gpus"]:
        assert data["can_run"]["models"][1]["fits"] == "gpu"
        assert data["can_run"]["largest_dense_q4_k_m_b"]["gpu"] > 30
        assert "RTX 4090" in table and "Xorg" in table
    else:
        assert "none found" in table
        assert data["can_run"]["largest_dense_q4_k_m_b"]["gpu"] is None


def test_ram_bandwidth_is_measured_once_per_boot(tmp_path, monkeypatch):
    monkeypatch.setenv("LMDOCTOR_CACHE_DIR", str(tmp_path))
    calls: list[int] = []

    def fake(seconds: float = 0.12, threads: int = 4, mib: int = 32) -> float:
        calls.append(threads)
        return 21.5

    monkeypatch.setattr(hardware, "measure_ram_bandwidth", fake)
    monkeypatch.setattr(hardware, "boot_id", lambda: "boot-a")
    monkeypatch.setattr(hardware, "_busy", lambda cores: False)
    assert hardware.ram_bandwidth(2, measure=False) == (None, None)  # nothing cached yet
    first = hardware.ram_bandwidth(2)
    assert first[0] == 21.5 and "best this boot" in (first[1] or "")
    assert hardware.ram_bandwidth(2, measure=False)[0] == 21.5  # a check reads it back
    assert hardware.ram_bandwidth(2)[0] == 21.5 and calls == [2]  # not measured again
    monkeypatch.setattr(hardware, "boot_id", lambda: "boot-b")  # rebooted: measure again
    assert hardware.ram_bandwidth(2, measure=False) == (None, None)
    hardware.ram_bandwidth(2)
    assert calls == [2, 2]


def test_unknown_bandwidth_never_prints_none():
    snap = json.loads((FIXTURES / "snapshot-laptop-cpu.json").read_text(encoding="utf-8"))
    snap["cpu"]["ram_bandwidth_gbps"] = None
    assert "None GB/s" not in render_hardware.render(snap, estimate.capabilities(snap), "table")


def test_a_bandwidth_measured_on_a_busy_machine_is_measured_again(tmp_path, monkeypatch):
    monkeypatch.setenv("LMDOCTOR_CACHE_DIR", str(tmp_path))
    speeds = iter([3.0, 12.0, 9.0])
    monkeypatch.setattr(hardware, "measure_ram_bandwidth", lambda **kw: next(speeds))
    monkeypatch.setattr(hardware, "boot_id", lambda: "boot-a")
    monkeypatch.setattr(hardware, "_busy", lambda cores: True)
    assert hardware.ram_bandwidth(2)[0] == 3.0  # contended
    monkeypatch.setattr(hardware, "_busy", lambda cores: False)
    assert hardware.ram_bandwidth(2, measure=False)[0] == 3.0
    assert hardware.ram_bandwidth(2, refresh_busy=False)[0] == 3.0  # a check keeps it
    assert hardware.ram_bandwidth(2)[0] == 12.0  # calm now: measured again, the best kept
    assert hardware.ram_bandwidth(2)[0] == 12.0  # and no longer re-measured


def test_the_snapshot_measures_one_thread_beside_the_probes_threads(tmp_path, monkeypatch):
    """The one-thread figure has its own per-boot cache beside the probe's."""
    monkeypatch.setenv("LMDOCTOR_CACHE_DIR", str(tmp_path))
    calls: list[int] = []

    def fake(seconds: float = 0.12, threads: int = 4, mib: int = 32) -> float:
        calls.append(threads)
        return 10.0 * threads

    monkeypatch.setattr(hardware, "measure_ram_bandwidth", fake)
    monkeypatch.setattr(hardware, "boot_id", lambda: "boot-a")
    monkeypatch.setattr(hardware, "_busy", lambda cores: False)
    assert hardware.ram_bandwidth(2)[0] == 20.0
    assert hardware.ram_bandwidth(1, cache=hardware.CACHE_NAME_1T)[0] == 10.0
    assert hardware.ram_bandwidth(2, measure=False)[0] == 20.0  # each its own figure
    assert hardware.ram_bandwidth(1, measure=False, cache=hardware.CACHE_NAME_1T)[0] == 10.0
    assert calls == [2, 1]
    assert (tmp_path / hardware.CACHE_NAME_1T).exists()
