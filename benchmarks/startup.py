"""Startup cost of `lmdoctor --help` and `--version` against a bare `python -c pass`.

Target (issue 7): within 150 ms of the bare interpreter (heavy modules are imported lazily,
inside the commands). Prints the median of N runs of each, and the difference.

    python benchmarks/startup.py [--runs 15]
    python -X importtime -m lmdoctor --help 2>&1 >/dev/null | sort -t'|' -k2 -n | tail

The second line shows which import is slow when the target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_MS = 150.0
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "lmdoctor --help": [sys.executable, "-m", "lmdoctor", "--help"],
    "lmdoctor --version": [sys.executable, "-m", "lmdoctor", "--version"],
}
SCRIPT = Path(sys.executable).with_name("lmdoctor")  # the console script pip installed
if SCRIPT.exists():
    COMMANDS["lmdoctor (script) --help"] = [str(SCRIPT), "--help"]


def wall_ms(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    for cmd in COMMANDS.values():
        wall_ms(cmd)  # warm the OS file cache and the .pyc files
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):  # interleaved, so background load hits all alike
        for name, cmd in COMMANDS.items():
            samples[name].append(wall_ms(cmd))
    base = statistics.median(samples["python -c pass"])
    failed = False
    print(f"median of {args.runs} runs ({sys.executable})")
    for name, values in samples.items():
        median = statistics.median(values)
        extra = median - base
        verdict = ""
        if name != "python -c pass":
            ok = extra <= TARGET_MS
            failed |= not ok
            verdict = f"  +{extra:6.1f} ms  {'ok' if ok else 'SLOW'} (target +{TARGET_MS:.0f} ms)"
        print(f"  {name:26} {median:7.1f} ms{verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
