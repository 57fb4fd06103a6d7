"""A psutil stand-in answering from tests/fixtures/psutil/*.json (see the README there).

Only what lmdoctor.net.listeners() calls: net_connections, Process(pid).name()/.username(),
process_iter(["username"]) with per-process net_connections, and psutil's exception types.
"""

from __future__ import annotations

import json
from collections import namedtuple
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "psutil"
Addr = namedtuple("Addr", "ip port")
SConn = namedtuple("SConn", "fd family type laddr raddr status pid")
PConn = namedtuple("PConn", "fd family type laddr raddr status")


class Error(Exception):
    pass


class AccessDenied(Error):
    pass


class NoSuchProcess(Error):
    pass


class ZombieProcess(NoSuchProcess):
    pass


_RAISES = {"AccessDenied": AccessDenied, "NoSuchProcess": NoSuchProcess}


class FakePsutil:
    CONN_LISTEN = "LISTEN"
    Error, AccessDenied, NoSuchProcess, ZombieProcess = Error, AccessDenied, NoSuchProcess, (
        ZombieProcess
    )

    def __init__(self, fixture: str) -> None:
        self.data = json.loads((FIXTURES / f"{fixture}.json").read_text(encoding="utf-8"))
        self.procs = {p["pid"]: p for p in self.data["processes"]}

    def net_connections(self, kind: str = "inet") -> list[SConn]:
        rows = self.data["system"]
        if isinstance(rows, str):
            raise _RAISES[rows](rows)
        return [SConn(-1, 2, 1, Addr(*r["laddr"]), (), r["status"], r["pid"]) for r in rows]

    def Process(self, pid: int | None = None) -> _Process:
        pid = self.data["me"] if pid is None else pid
        if pid not in self.procs:
            raise NoSuchProcess(pid)
        return _Process(self.procs[pid])

    def process_iter(self, attrs: list[str] | None = None) -> list[_Process]:
        return [_Process(p, with_info=True) for p in self.procs.values()]


class _Process:
    def __init__(self, data: dict[str, Any], with_info: bool = False) -> None:
        self.data, self.pid = data, data["pid"]
        self.info = {"username": data["username"], "name": data["name"]} if with_info else None

    def name(self) -> str:
        return self.data["name"]

    def username(self) -> str:
        return self.data["username"]

    def net_connections(self, kind: str = "inet") -> list[PConn]:
        rows = self.data["connections"]
        if isinstance(rows, str):
            raise _RAISES[rows](rows)
        return [PConn(-1, 2, 1, Addr(*r["laddr"]), (), r["status"]) for r in rows]
