"""Measured speed (--bench): one real, short, streamed completion.

Sends a fixed prompt asking for ~64 tokens (`stream: true`, temperature 0) to the client's own
chat URL (Ollama: its native /api/chat, whose final line carries eval_count/eval_duration),
times the first token and the decode rate, and prefers what the server itself reports
(llama.cpp `timings`, LM Studio `stats`, Ollama `eval_*`) over wall-clock figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from lmdoctor import estimate, fit, servers, urls
from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, error, info, warn
from lmdoctor.http import StreamedResponse
from lmdoctor.registry import Check

PROMPT = "Count from one to one hundred in words, separated by commas. Output only the list."
MAX_TOKENS = 64
BUDGET_S = 150.0  # a model may have to load first
RETRY_MIN_S = 5.0  # patience left for a second try at a stream another request cut
# measured under half the estimate: something is off, not estimator error (eight in ten devices
# held out of the fit measured 0.71-1.31 × the estimate on a GPU: estimate.DECODE_SPREAD)
BELOW = 0.5
# A CPU-run model: the estimator's own error there is larger (0.79-1.41 ×, and the CPU rows
# outside that band reach 0.6 ×), and other work on the machine takes cores from the runtime,
# so only a measurement under a fifth of the estimate says more than estimator error.
BELOW_CPU = 0.2
# ... and more than this many seconds slower per token: a server's own per-token work
# (sampling, streaming) can halve the speed of a tiny model without anything being wrong
SLACK_S = 0.005
DEPTH = 64  # prompt + reply tokens: the bench decodes at a tiny depth

FAILED_FIX = {
    "memory": "The model does not fit: lower its context or GPU layers, or use a smaller "
    "quantization (see the capacity findings).",
    "load": "The server could not load the model: check its log; the file may be incomplete, "
    "or the runtime too old for this architecture.",
    "timeout": "The model did not answer in time: it may still be loading, or be far too big "
    "for this machine (see the capacity findings).",
    "dropped": "The server closed the connection mid-answer (a crash?): check its log.",
    "interrupted": "Another client's request to the same server cut the stream: run --bench "
    "again while nothing else uses the server (llama-cpp-python ends a stream whenever another "
    "request reaches it; start it with `--interrupt_requests False` to make requests wait).",
    "other": "See the server's log for the full error.",
}
# Patterns, compiled (and cached) by re on first use: only a failed --bench reads them.
OOM = (
    r"(?i)out of memory|\boom\b|failed to allocate|cudaMalloc|insufficient memory"
    r"|requires more system memory|not enough memory"
)
LOAD = r"(?i)failed to load|error loading model|unable to load|could not load"
LLAMACPP_TIMINGS = ("prompt_n", "prompt_ms", "predicted_n", "predicted_ms")
BELOW_FIX = (
    "Check that the model runs on the GPU: LM Studio → model settings → GPU Offload (max); "
    "Ollama → `ollama ps` should say 100% GPU; llama.cpp → --n-gpu-layers 99. A busy GPU, "
    "power limits or heat also slow it."
)


@dataclass
class Measured:
    """What one streamed completion measured."""

    ttft_s: float | None = None
    tokens: int = 0
    decode_tps: float | None = None
    prefill_tps: float | None = None
    load_s: float | None = None
    source: str = "wall clock"
    streamed: bool = True
    error: str | None = None
    server: dict[str, Any] = field(default_factory=dict)
    done: bool = False  # the OpenAI stream's end marker (`data: [DONE]`) arrived
    finished: bool = False  # a chunk said why generation stopped (a finish_reason)

    @property
    def cut(self) -> bool:
        """Ended by the server before any token, without saying why generation stopped.

        llama-cpp-python does exactly this when another request reaches it while it streams
        (server/app.py get_event_publisher, 3691546 lines 205-213: with `interrupt_requests`, on
        by default in settings.py:223-226, it sends `[DONE]` after the chunk in hand once any
        other request waits for the model lock, even GET /v1/models: app.py:73-89, :535-537).
        Its first chat chunk carries only the role and is yielded with the first token's
        chunk (llama_chat_format.py:360-402), so a request that arrives during prompt
        processing leaves exactly `role chunk, [DONE]`. No fault of the server's model."""
        return (
            self.ttft_s is None
            and self.streamed
            and self.done
            and not self.finished
            and self.error is None
        )


def request(ctx: Ctx, kind: servers.ServerKind) -> tuple[str, dict[str, Any]]:
    """The server's own streaming chat when its kind prefers it, else the client's chat URL."""
    messages = [{"role": "user", "content": PROMPT}]
    if kind.bench_request is not None:
        return kind.bench_request(ctx.target, messages, MAX_TOKENS)
    body = {
        "model": ctx.target.model_id,
        "messages": messages,
        "max_tokens": MAX_TOKENS,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    return ctx.target.chat_url, body


def measure(reply: StreamedResponse) -> Measured:
    """Read an SSE (OpenAI) or NDJSON (Ollama) stream; a server that ignored `stream` and sent
    one JSON answer still gives its token count and timings (but no time to first token)."""
    m = Measured()
    times: list[float] = []
    for at, line in reply.lines:
        text = line[5:].strip() if line.startswith("data:") else line.strip()
        m.done = m.done or text == "[DONE]"
        if not text or text == "[DONE]" or text.startswith((":", "event:")):
            continue
        try:
            chunk = json.loads(text)
        except ValueError:
            continue
        if isinstance(chunk, dict):
            _read_chunk(chunk, at, times, m)
    whole = reply.json() if not times else None
    if isinstance(whole, dict) and _content(whole, "message"):
        m.streamed = False
        _server_figures(whole, m)
        m.tokens = m.tokens or 1
        return m
    m.tokens = max(m.tokens, len(times))  # usage counts tokens a chunk may bundle
    if times:
        m.ttft_s = times[0]
    if m.decode_tps is None and len(times) >= 2 and times[-1] > times[0]:
        m.decode_tps = (m.tokens - 1) / (times[-1] - times[0])
    return m


def _read_chunk(chunk: dict[str, Any], at: float, times: list[float], m: Measured) -> None:
    if chunk.get("error"):
        m.error = _message(chunk)
    if _content(chunk, "delta"):
        times.append(at)
    choices = chunk.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        m.finished = m.finished or bool(isinstance(choice, dict) and choice.get("finish_reason"))
    _server_figures(chunk, m)


def _content(chunk: dict[str, Any], part: str) -> bool:
    """Whether an OpenAI chunk (`delta`) / answer (`message`) or an Ollama line carries text;
    reasoning tokens count too (gpt-oss, Qwen3 think before they answer)."""
    keys = ("content", "reasoning_content", "reasoning", "thinking")
    message = chunk.get("message")  # Ollama
    if isinstance(message, dict) and any(message.get(k) for k in keys):
        return True
    choices = chunk.get("choices")
    for choice in choices if isinstance(choices, list) else []:
        inner = choice.get(part) if isinstance(choice, dict) else None
        if isinstance(inner, dict) and any(inner.get(k) for k in keys):
            return True
    return False


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    return float(value)


def _server_figures(chunk: dict[str, Any], m: Measured) -> None:
    timings, stats, usage = chunk.get("timings"), chunk.get("stats"), chunk.get("usage")
    if isinstance(timings, dict) and _num(timings.get("predicted_per_second")):  # llama.cpp
        m.decode_tps, m.source = _num(timings["predicted_per_second"]), "llama.cpp timings"
        m.prefill_tps = _num(timings.get("prompt_per_second"))
        m.tokens = int(_num(timings.get("predicted_n")) or m.tokens)
        m.server = {k: timings.get(k) for k in LLAMACPP_TIMINGS}
    elif isinstance(stats, dict) and _num(stats.get("tokens_per_second")):  # LM Studio
        m.decode_tps, m.source = _num(stats["tokens_per_second"]), "LM Studio stats"
        m.server = {k: v for k, v in stats.items() if isinstance(v, (int, float, str))}
    elif chunk.get("done") is True and _num(chunk.get("eval_duration")):  # Ollama, in ns
        count = _num(chunk.get("eval_count")) or 0
        m.decode_tps = count / chunk["eval_duration"] * 1e9
        m.source, m.tokens = "Ollama eval_count/eval_duration", int(count)
        prompt_ns = _num(chunk.get("prompt_eval_duration"))
        if prompt_ns:
            m.prefill_tps = (_num(chunk.get("prompt_eval_count")) or 0) / prompt_ns * 1e9
        m.load_s = (_num(chunk.get("load_duration")) or 0) / 1e9 or None
        m.server = {k: chunk.get(k) for k in ("prompt_eval_count", "eval_count", "load_duration")}
    if isinstance(usage, dict) and _num(usage.get("completion_tokens")) and not m.server:
        m.tokens = int(usage["completion_tokens"])


def _message(body: Any) -> str:
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        err = err.get("message") or err.get("msg")
    if err is None and isinstance(body, dict):
        err = body.get("detail") or body.get("message")
    return " ".join(str(err).split())[:300] if err else ""


async def run(ctx: Ctx) -> list[Finding]:
    found = await ctx.server()
    # the identified kind, else the one the configured provider names
    kind = servers.by_id(found.kind) if found else servers.by_provider(ctx.target.provider)
    url, body = request(ctx, kind or servers.GENERIC)
    patience = min(ctx.target.request_timeout, BUDGET_S - 5)
    sent = {"url": urls.display(url), "max_tokens": MAX_TOKENS, "prompt": PROMPT}
    left, cuts = patience, 0
    while True:
        try:
            reply = await ctx.client.stream(url, body, patience=left)
        except httpx.TimeoutException as exc:
            failure = f"no answer within {left:g} s ({type(exc).__name__})"
            return [_failed("timeout", failure, sent)]
        except (httpx.HTTPError, OSError) as exc:
            # closed or refused before any answer: a crash on this request, not a slow model
            failure = f"no answer: the connection failed ({type(exc).__name__})"
            return [_failed("dropped", failure, sent)]
        if reply.status >= 400:
            quoted = _message(reply.json()) or reply.snippet(200)
            return [_failed(_kind_of(quoted), f"HTTP {reply.status}: {quoted}", sent)]
        m = measure(reply)
        left = round(left - reply.elapsed_s, 1)
        cuts += m.cut
        # another client cut the stream before its first token: once more, within the patience
        if not m.cut or cuts > 1 or left < RETRY_MIN_S:
            break
    if m.error:
        return [_failed(_kind_of(m.error), m.error, sent)]
    if m.cut:
        why = "the server ended the stream before the first token" + (", twice" if cuts > 1 else "")
        return [_failed("interrupted", why, sent)]
    if m.ttft_s is None and m.streamed:
        why = "dropped" if reply.failure else "timeout" if reply.timed_out else "other"
        return [_failed(why, "the stream carried no tokens", sent)]
    evidence = {
        **sent,
        "ttft_s": _r(m.ttft_s, 3),
        "tokens": m.tokens,
        "decode_tps": _r(m.decode_tps),
        "prefill_tps": _r(m.prefill_tps),
        "load_s": _r(m.load_s),
        "source": m.source,
        "server_reported": m.server,
    }
    first = f"first token after {m.ttft_s:.2f} s" if m.ttft_s is not None else "not streamed"
    summary = (
        f"Measured: {first}, {_r(m.decode_tps) or '?'} tokens/s over {m.tokens} tokens ({m.source})"
    )
    # what the estimator expects here (same machine facts as the capacity check): shown beside
    # the measurement, so the estimate can be judged against the real thing
    here, busy = await _expected(ctx)
    expected = here.decode_tps if here else None
    evidence["expected_decode_tps"] = _r(expected)
    band = here.decode_band if here else None
    evidence["expected_decode_tps_range"] = estimate.round_pair(band, 1)
    if band:  # only an estimated speed has one
        shown = f"{expected:,.{estimate.speed_digits(expected)}f}"
        summary += f"; estimate here ~{shown} tokens/s ({estimate.band_text(band)})"
    if busy:
        evidence["cpu_busy"] = True  # more runnable work than cores: not compared
    findings = [info("bench.result", summary, **evidence)]
    on_cpu = await _cpu_run(ctx)
    if expected and m.decode_tps and not busy and _far_below(m.decode_tps, expected, on_cpu):
        summary = (
            f"Measured {m.decode_tps:.1f} tokens/s, far below the ~{expected:.0f} tokens/s "
            "this hardware should give"
        )
        findings.append(warn("bench.below_estimate", summary, fix=BELOW_FIX, **evidence))
    return findings


async def _expected(ctx: Ctx) -> tuple[estimate.Estimate | None, bool]:
    """(what the estimator expects here at the bench's depth, whether a CPU-run model shares a
    busy CPU)."""
    est, facts = await fit.local_estimate(ctx)
    if est is None or est.fits in (None, "no"):
        return None, False
    short = estimate.estimate(est.spec, est.machine, est.context, DEPTH, loaded=True)
    return short, _busy_cpu(est, facts.get("snapshot") or {})


def _busy_cpu(est: estimate.Estimate, snap: dict[str, Any]) -> bool:
    """A CPU-run model on a machine with more runnable work than cores (load average): the
    cores are time-shared (llama.cpp's threads then wait on each other), so a slow measurement
    says nothing about the server."""
    if est.fits != "cpu":
        return False
    cpu = snap.get("cpu") or {}
    cores, load = cpu.get("physical_cores") or cpu.get("logical_cores"), cpu.get("load_1m")
    return bool(cores and load and load > cores)


async def _cpu_run(ctx: Ctx) -> bool:
    est, _ = await fit.local_estimate(ctx)  # cached: the same estimate _expected read
    return est is not None and est.fits == "cpu"


def _far_below(measured: float, expected: float, on_cpu: bool = False) -> bool:
    below = BELOW_CPU if on_cpu else BELOW
    return measured < below * expected and 1 / measured - 1 / expected > SLACK_S


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _kind_of(message: str) -> str:
    return "memory" if re.search(OOM, message) else "load" if re.search(LOAD, message) else "other"


def _failed(kind: str, quoted: str, sent: dict[str, Any]) -> Finding:
    summary = f"A real completion failed: {quoted}"
    return error("bench.failed", summary, fix=FAILED_FIX[kind], reason=kind, **sent)


CHECK = Check(
    id="bench",
    title="Measured speed (--bench)",
    run=run,
    needs=("models",),
    codes=("bench.result", "bench.below_estimate", "bench.failed"),
    opt_in=True,
    budget_s=BUDGET_S,
)
