"""Run a command as a starved process would run on a loaded machine, without spending CPU.

    STOP=2 RUN=1 python tools/stutter.py python -m pytest -q tests/test_models.py

The command runs in its own process group, which is frozen (SIGSTOP) for STOP seconds after
every RUN seconds of running. A test and the loopback server threads it starts stop together,
as they do when the scheduler gives the process nothing for a while: any verdict that depends
on a timeout close to the server's real answer time shows up at once. (Busy loops that take the
CPUs instead only slow everything down evenly; a 10x slower run still passed every test that a
2-s freeze turned red.) Exit status: the command's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    stop = float(os.environ.get("STOP", "2"))
    run = float(os.environ.get("RUN", "1"))
    child = subprocess.Popen(argv, start_new_session=True)
    try:
        while child.poll() is None:
            time.sleep(run)
            if child.poll() is not None:
                break
            os.killpg(child.pid, signal.SIGSTOP)
            time.sleep(stop)
            os.killpg(child.pid, signal.SIGCONT)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGCONT)
    return child.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
