"""Linux /proc and /sys readers for what a healthy check needs: memory, physical cores, the
process listening on one port and its command line.

psutil answers all of these on every OS, but importing it and walking every socket of every
process (psutil.net_connections) cost ~10 % of a whole `lmdoctor check` (issue 13). Each
reader here returns None when the files are missing, unreadable or unexpected: the caller
then asks psutil, as on macOS and Windows. Values are psutil's on the same machine (tests
compare them).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

PROC = Path("/proc")
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's `st` column (include/net/tcp_states.h)


def _read(path: Path | str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def meminfo(proc: Path = PROC) -> dict[str, int] | None:
    """/proc/meminfo in bytes: {"MemTotal": ..., "MemAvailable": ..., ...}."""
    text = _read(proc / "meminfo")
    if not text:
        return None
    values: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            values[name.strip()] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    return values


def memory(proc: Path = PROC) -> dict[str, int] | None:
    """total, available, swap_total, swap_used in bytes, as psutil's virtual_memory() and
    swap_memory() give them; None when the kernel's MemAvailable is missing or implausible
    (psutil then estimates it from /proc/zoneinfo: let it)."""
    info = meminfo(proc)
    if not info or not {"MemTotal", "MemAvailable", "SwapTotal", "SwapFree"} <= info.keys():
        return None
    total, available = info["MemTotal"], info["MemAvailable"]
    if not 0 < available <= total:  # 0: a kernel bug psutil works around; > total: a container
        return None
    swap_total = info["SwapTotal"]
    return {
        "total": total,
        "available": available,
        "swap_total": swap_total,
        "swap_used": swap_total - info["SwapFree"],
    }


def physical_cores(sys_cpu: Path = Path("/sys/devices/system/cpu")) -> int | None:
    """Distinct cores: one `core_cpus_list` (or the older `thread_siblings_list`) per core,
    shared by its hardware threads (Documentation/admin-guide/cputopology.rst)."""
    try:
        cpus = [
            e.name for e in os.scandir(sys_cpu) if e.name[:3] == "cpu" and e.name[3:4].isdigit()
        ]
    except OSError:
        return None
    for name in ("core_cpus_list", "thread_siblings_list"):
        cores = {_read(sys_cpu / cpu / "topology" / name) for cpu in cpus} - {None}
        if cores:
            return len({text.strip() for text in cores if text is not None})
    return None


def _listening_inodes(port: int, proc: Path) -> set[str] | None:
    """The inodes of the TCP sockets listening on `port` (any address, IPv4 and IPv6)."""
    found: set[str] = set()
    readable = False
    for table in ("tcp", "tcp6"):
        text = _read(proc / "net" / table)
        if text is None:
            continue
        readable = True
        for line in text.splitlines()[1:]:
            fields = line.split()  # sl local_address rem_address st ... uid timeout inode
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            local_port = fields[1].rpartition(":")[2]
            try:
                if int(local_port, 16) == port:
                    found.add(fields[9])
            except ValueError:
                continue
    return found if readable else None


def listening_pids(port: int, proc: Path = PROC) -> set[int] | None:
    """The processes holding a socket that listens on TCP `port`: the port's inodes from
    /proc/net/tcp{,6}, then each process's fd links (`socket:[inode]`), what psutil does for
    every socket of the machine. Processes whose fds are not ours to read are skipped (psutil
    skips them too). None when /proc/net is unreadable."""
    inodes = _listening_inodes(port, proc)
    if inodes is None:
        return None
    pids: set[int] = set()
    if not inodes:
        return pids
    links = {f"socket:[{inode}]" for inode in inodes}
    try:
        processes = [e.name for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return None
    for pid in processes:
        try:
            with os.scandir(proc / pid / "fd") as fds:
                for fd in fds:
                    try:
                        if os.readlink(fd.path) in links:
                            pids.add(int(pid))
                            break
                    except OSError:  # closed meanwhile
                        continue
        except OSError:  # gone, or another user's
            continue
    return pids


def cmdline(pid: int, proc: Path = PROC) -> list[str] | None:
    """The process's arguments (NUL-separated; a process that rewrote its title into one
    space-separated string is split on spaces, as psutil does). None when unreadable."""
    try:
        data = (proc / str(pid) / "cmdline").read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    if not data:
        return []
    sep = "\x00" if data.endswith("\x00") else " "
    data = data.removesuffix(sep)
    args = data.split(sep)
    if sep == "\x00" and len(args) == 1 and " " in data:
        args = data.split(" ")
    return args


def nice_weight(nice: int) -> float:
    """CFS weight of a task at this nice level, in units where nice 0 weighs 1024: the kernel's
    sched_prio_to_weight table (kernel/sched/core.c) is 1024 / 1.25 ** nice, rounded (nice 10:
    110, nice 19: 15): each step gives up ~10 % of the CPU to a nice-0 competitor."""
    return 1024 / 1.25 ** max(-20, min(19, nice))


def _stat_fields(text: str) -> list[str] | None:
    # /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses
    _, paren, rest = text.rpartition(")")
    fields = rest.split()
    return fields if paren and len(fields) > 16 else None


def nice(pid: int, proc: Path = PROC) -> int | None:
    """The process's nice level (/proc/PID/stat field 19); None when unreadable."""
    fields = _stat_fields(_read(proc / str(pid) / "stat") or "")
    try:
        return int(fields[16]) if fields else None
    except ValueError:
        return None


def runnable_weight(exclude: Collection[int] = (), proc: Path = PROC) -> float | None:
    """The CFS weight (nice_weight) of every thread runnable right now (state R in
    /proc/PID/task/TID/stat), threads of the processes in `exclude` left out: the work a thread
    of a new runnable task time-shares the cores with. None when /proc cannot be listed."""
    try:
        processes = [e.name for e in os.scandir(proc) if e.name.isdigit()]
    except OSError:
        return None
    skip = {str(p) for p in exclude}
    total = 0.0
    for pid in processes:
        if pid in skip:
            continue
        try:
            tasks = [e.path for e in os.scandir(proc / pid / "task")]
        except OSError:  # gone meanwhile
            continue
        for task in tasks:
            fields = _stat_fields(_read(Path(task) / "stat") or "")
            if fields and fields[0] == "R":
                try:
                    total += nice_weight(int(fields[16]))
                except ValueError:
                    continue
    return total
