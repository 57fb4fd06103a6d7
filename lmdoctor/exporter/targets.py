"""The exporter's targets: the config file's model_list entries by name, reloaded on SIGHUP and
when the file (or the .security.yml beside it) changes. A config that cannot be read keeps the
last good one (as Prometheus and blackbox_exporter do) and is reported by the reload gauges.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lmdoctor.target import Target

SECURITY_FILE = ".security.yml"  # merged by the config loader (lmdoctor/config/reading.py)


@dataclass(frozen=True)
class ReloadState:
    successful: bool = True
    last_success: float = 0.0  # unix time of the last good load
    error: str = ""  # one line: why the last reload failed (shown on stderr, never as a label)


def _stamp(path: Path) -> tuple[object, ...]:
    """What changes when a file is rewritten, replaced or removed."""
    stamps: list[object] = []
    for p in (path, path.with_name(SECURITY_FILE)):
        try:
            st = os.stat(p)
            stamps.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def load_targets(path: Path) -> dict[str, list[Target]]:
    """Every model_list entry (and agent reference) by target name; raises ConfigError.
    Several entries may share a name (PicoClaw balances over them): a probe runs them all."""
    from lmdoctor.config import load
    from lmdoctor.redact import remember_url

    by_name: dict[str, list[Target]] = {}
    for target in load(path).select(None, every=True):
        if target.kind == "file":
            continue  # the file's own problems: `lmdoctor check` reports them
        remember_url(target.api_base)  # a server may echo them back: scrub them like keys
        remember_url(target.proxy or "")
        by_name.setdefault(target.name, []).append(target)
    return by_name


class TargetSet:
    """The current targets; `reload()` swaps them in only when the new config loads."""

    def __init__(self, path: Path, log: Callable[[str], None]) -> None:
        self.path, self.log = path, log
        self._lock = threading.Lock()
        self._targets = load_targets(path)  # the first load must succeed: ConfigError otherwise
        self._stamp = _stamp(path)
        self.state = ReloadState(True, time.time())
        self.reloads = {"success": 0, "failure": 0}
        self.wake = threading.Event()  # set by SIGHUP

    def names(self) -> list[str]:
        with self._lock:
            return list(self._targets)

    def get(self, name: str) -> list[Target] | None:
        with self._lock:
            return self._targets.get(name)

    def reload(self) -> bool:
        from lmdoctor.config import ConfigError

        stamp = _stamp(self.path)
        try:
            targets = load_targets(self.path)
        except ConfigError as exc:
            with self._lock:
                self._stamp = stamp  # report a bad file once, not on every poll
                self.state = ReloadState(False, self.state.last_success, str(exc))
                self.reloads["failure"] += 1
            self.log(f"config reload failed, keeping the last good config: {exc}")
            return False
        with self._lock:
            self._targets, self._stamp = targets, stamp
            self.state = ReloadState(True, time.time())
            self.reloads["success"] += 1
        self.log(f"config reloaded: {len(targets)} targets from {self.path}")
        return True

    def changed(self) -> bool:
        with self._lock:
            return _stamp(self.path) != self._stamp

    def watch(self, interval: float, stop: threading.Event) -> None:
        """Reload on SIGHUP (`wake`) and, every `interval` s (0: never), on a file change."""
        while not stop.is_set():
            woken = self.wake.wait(interval if interval > 0 else None)
            if stop.is_set():
                return
            if woken:
                self.wake.clear()
                self.reload()
            elif self.changed():
                self.reload()
