"""A server run as a child process whose output goes to a log file: what every real server of the
integration tests (llama-cpp-python, llama-server, LiteLLM) shares."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class ServerProcess:
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    def log_tail(self, size: int = 3000) -> str:
        """The end of the server's log, for a failure message."""
        if self.log is None or not self.log.exists():
            return "(no log)"
        return self.log.read_bytes()[-size:].decode("utf-8", "replace")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 10 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@contextmanager
def running(servers: Sequence[Any]) -> Iterator[None]:
    """Start every server at once, then wait for each (their model loads overlap); stop them all
    when the block ends, however it ends."""
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait()
        yield
    finally:
        for server in servers:
            server.stop()
