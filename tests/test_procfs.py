"""lmdoctor/procfs.py (issue 13, item 10): the /proc readers a healthy check uses instead of
psutil give psutil's figures on this machine, and say None (psutil then answers) when the
files are missing or implausible."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lmdoctor import hardware, procfs
from lmdoctor.system import System
from portable import symlink

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")


@linux
def test_memory_is_psutils() -> None:
    import psutil

    found = procfs.memory()
    assert found is not None
    assert found["total"] == psutil.virtual_memory().total
    assert found["swap_total"] == psutil.swap_memory().total
    # available and swap used move between the two reads: close, not equal
    assert abs(found["available"] - psutil.virtual_memory().available) < 256 * 2**20
    assert abs(found["swap_used"] - psutil.swap_memory().used) < 256 * 2**20


@linux
def test_cores_are_psutils() -> None:
    import psutil

    assert procfs.physical_cores() == psutil.cpu_count(logical=False)


@linux
def test_the_snapshot_has_psutils_figures() -> None:
    import psutil

    snap = hardware.snapshot(measure_bandwidth=False)
    assert snap["memory"]["total_gib"] == round(psutil.virtual_memory().total / hardware.GIB, 2)
    assert snap["cpu"]["physical_cores"] == psutil.cpu_count(logical=False)
    assert snap["cpu"]["logical_cores"] == psutil.cpu_count(logical=True)


@linux
def test_the_listening_process_and_its_command_line() -> None:
    import psutil

    server = subprocess.Popen(
        [sys.executable, "-c", "import socket, sys, time\ns = socket.socket()\n"
         "s.bind(('127.0.0.1', 0)); s.listen()\nprint(s.getsockname()[1], flush=True)\n"
         "time.sleep(60)", "an argument with spaces"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        assert procfs.listening_pids(port) == {server.pid}
        assert procfs.cmdline(server.pid) == psutil.Process(server.pid).cmdline()
        assert procfs.cmdline(server.pid)[-1] == "an argument with spaces"
    finally:
        server.kill()
        server.wait()


@linux
def test_a_port_nobody_listens_on() -> None:
    with socket.socket() as s:  # bound, not listening: not a listener
        s.bind(("127.0.0.1", 0))
        assert procfs.listening_pids(s.getsockname()[1]) == set()


@linux
def test_an_ipv6_listener_is_found() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    with socket.socket(socket.AF_INET6) as s:
        try:
            s.bind(("::1", 0))
        except OSError:
            pytest.skip("no ::1")
        s.listen()
        assert procfs.listening_pids(s.getsockname()[1]) == {os.getpid()}


def _proc(tmp_path: Path, meminfo: str | None = None, tcp: str | None = None) -> Path:
    if meminfo is not None:
        (tmp_path / "meminfo").write_text(meminfo)
    if tcp is not None:
        (tmp_path / "net").mkdir()
        (tmp_path / "net" / "tcp").write_text(tcp)
    return tmp_path


MEMINFO = (
    "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"
    "SwapTotal:       2000000 kB\nSwapFree:        1500000 kB\nHugePages_Total:       0\n"
)


def test_memory_from_a_meminfo(tmp_path: Path) -> None:
    assert procfs.memory(_proc(tmp_path, MEMINFO)) == {
        "total": 16000000 * 1024,
        "available": 8000000 * 1024,
        "swap_total": 2000000 * 1024,
        "swap_used": 500000 * 1024,
    }


@pytest.mark.parametrize(
    "change",
    [
        ("MemAvailable:    8000000 kB\n", ""),  # kernels before 3.14: psutil estimates it
        ("MemAvailable:    8000000 kB", "MemAvailable:          0 kB"),  # psutil issue 1915
        ("MemAvailable:    8000000 kB", "MemAvailable:   99000000 kB"),  # a container's view
        ("SwapFree:        1500000 kB\n", ""),
    ],
)
def test_an_odd_meminfo_is_left_to_psutil(tmp_path: Path, change: tuple[str, str]) -> None:
    assert procfs.memory(_proc(tmp_path, MEMINFO.replace(*change))) is None


def test_no_proc_is_left_to_psutil(tmp_path: Path) -> None:
    assert procfs.memory(tmp_path) is None
    assert procfs.listening_pids(8080, tmp_path) is None
    assert procfs.cmdline(1, tmp_path) is None
    assert procfs.physical_cores(tmp_path / "cpu") is None


TCP = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 "
    "4242 1 0000000000000000 100 0 0 10 0\n"
    "   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "4343 1 0000000000000000 20 4 30 10 -1\n"
)


def test_the_listener_and_its_process_in_a_proc_tree(tmp_path: Path) -> None:
    proc = _proc(tmp_path, tcp=TCP)
    for pid, target in ((7, "socket:[4242]"), (8, "socket:[4343]"), (9, "/dev/null")):
        (proc / str(pid) / "fd").mkdir(parents=True)
        symlink(proc / str(pid) / "fd" / "3", Path(target))
    (proc / "7" / "cmdline").write_bytes(b"llama-server\x00-t\x004\x00")
    (proc / "8" / "cmdline").write_bytes(b"python my server --port 8080")  # a rewritten title
    assert procfs.listening_pids(8080, proc) == {7}  # 8 holds a connection, not the listener
    assert procfs.listening_pids(8081, proc) == set()
    assert procfs.cmdline(7, proc) == ["llama-server", "-t", "4"]
    assert procfs.cmdline(8, proc) == ["python", "my", "server", "--port", "8080"]


def test_physical_cores_from_a_sys_tree(tmp_path: Path) -> None:
    for cpu, core in (("cpu0", "0,2"), ("cpu1", "1,3"), ("cpu2", "0,2"), ("cpu3", "1,3")):
        (tmp_path / cpu / "topology").mkdir(parents=True)
        (tmp_path / cpu / "topology" / "core_cpus_list").write_text(core + "\n")
    (tmp_path / "cpufreq").mkdir()  # not a CPU
    assert procfs.physical_cores(tmp_path) == 2


def test_a_simulated_system_still_asks_psutil(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("procfs read for a simulated OS")

    monkeypatch.setattr(procfs, "memory", fail)
    monkeypatch.setattr(procfs, "physical_cores", fail)
    windows = System("Windows", env={}, simulated=True)
    assert not hardware._real_linux(windows)
    hardware._memory(windows)
    hardware._cpu_counts({}, windows)


def test_cpufreq_folders_as_psutil_looks_for_them(tmp_path: Path) -> None:
    """No cpufreq (many VMs): psutil.cpu_freq() says max 0 there, so the clock needs no psutil."""
    assert not hardware._has_cpufreq(tmp_path)
    (tmp_path / "cpu0" / "cpufreq").mkdir(parents=True)
    assert hardware._has_cpufreq(tmp_path)
    (tmp_path / "cpu0" / "cpufreq").rmdir()
    (tmp_path / "cpufreq" / "policy0").mkdir(parents=True)
    assert hardware._has_cpufreq(tmp_path)


@linux
def test_the_clock_without_cpufreq_is_psutils(monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    if hardware._has_cpufreq():
        pytest.skip("cpufreq here: psutil is asked as before")
    freq = psutil.cpu_freq()
    assert not (freq and freq.max)
    assert hardware.max_clock_ghz() is None


def _task(proc: Path, pid: int, tid: int, state: str, nice: int, comm: str = "w") -> None:
    task = proc / str(pid) / "task" / str(tid)
    task.mkdir(parents=True, exist_ok=True)
    # fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime priority nice … (proc(5))
    rest = f"{state} 1 1 1 0 -1 0 0 0 0 0 5 1 0 0 {20 + nice} {nice} 1 0 100"
    (task / "stat").write_text(f"{tid} ({comm}) {rest}\n")
    if tid == pid:
        (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) {rest}\n")


def test_runnable_threads_weigh_what_the_scheduler_gives_them(tmp_path: Path) -> None:
    """Only running/runnable threads (R) count, each at its CFS weight (nice 10 ≈ 110/1024 of a
    nice-0 thread); the processes in `exclude` (the server, lmdoctor) are left out."""
    _task(tmp_path, 10, 10, "R", 10, comm="make (cc1) x")  # comm with ") " inside
    _task(tmp_path, 10, 11, "R", 10)
    _task(tmp_path, 20, 20, "S", 0)  # asleep
    _task(tmp_path, 30, 30, "R", 0)
    _task(tmp_path, 40, 40, "R", 0)  # the server, excluded
    (tmp_path / "self").mkdir()
    assert procfs.nice_weight(0) == 1024
    assert round(procfs.nice_weight(10)) == 110 and round(procfs.nice_weight(19)) == 15
    weight = procfs.runnable_weight({40}, proc=tmp_path)
    assert weight == pytest.approx(1024 + 2 * procfs.nice_weight(10))
    assert procfs.nice(10, proc=tmp_path) == 10 and procfs.nice(30, proc=tmp_path) == 0
    assert procfs.nice(99, proc=tmp_path) is None
    assert procfs.runnable_weight(proc=tmp_path / "missing") is None


@linux
def test_this_process_is_left_out_of_the_runnable_work() -> None:
    weight = procfs.runnable_weight({os.getpid()})
    assert weight is not None and weight >= 0
    assert procfs.nice(os.getpid()) == os.nice(0)
