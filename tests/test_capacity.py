"""capacity and bench checks against real loopback servers, on recorded-style hardware."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from conftest import PATIENT, by_code, codes
from lmdoctor.context import Session, Settings
from lmdoctor.findings import Finding, Severity
from lmdoctor.http import HttpClient
from lmdoctor.registry import load_checks
from lmdoctor.runner import run_target
from lmdoctor.target import Target
from loopback import RawServer, Reply, Seen, Server
from portable import utf8

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
RTX4090 = json.loads(utf8(FIXTURES / "snapshot-rtx4090.json"))
LAPTOP = json.loads(utf8(FIXTURES / "snapshot-laptop-cpu.json"))
SMOL = "SmolLM2-135M-Instruct-Q8_0.gguf"


def run_checks(
    target: Target,
    snapshot: dict[str, Any],
    ids: Sequence[str] = ("capacity",),
    settings: Settings = PATIENT,
) -> list[Finding]:
    """Run only `ids` on one target, with the run's hardware snapshot already taken."""

    async def go() -> list[Finding]:
        checks = [c for c in load_checks()[0] if c.id in ids]
        http = HttpClient(settings)
        session = Session(settings, http)

        async def recorded() -> dict[str, Any]:
            return snapshot

        await session.memo("hardware", recorded)
        try:
            return (await run_target(session, target, checks)).findings
        finally:
            await http.aclose()

    return asyncio.run(go())


def target(url: str, model: str, provider: str = "openai", timeout: float = 120.0) -> Target:
    return Target(
        name="local", provider=provider, api_base=url + "/v1", model_id=model,
        request_timeout=timeout,
    )  # fmt: skip


def llamacpp(model: str, meta: dict[str, Any] | None, chat: Any = None) -> Server:
    listing = {"object": "list", "data": [
        {"id": model, "object": "model", "created": 1735142223, "owned_by": "llamacpp",
         "meta": meta}]}  # fmt: skip
    routes: dict[str, Any] = {
        "/v1/models": Reply(200, listing),
        "/props": Reply(200, {"default_generation_settings": {"n_ctx": 4096}, "total_slots": 1}),
        "/health": Reply(200, {"status": "ok"}),
    }
    if chat is not None:
        routes["POST /v1/chat/completions"] = chat
    return Server(routes, server_header="llama.cpp")


def ollama(
    name: str, params: int, tags_size: int, loaded: list[tuple[int, int]],
    details: dict[str, str] | None = None,
) -> Server:
    """Ollama serving `name`; `loaded` holds /api/ps's (size, size_vram) rows (empty: on disk,
    not loaded). Shapes from ollama/ollama api/types.go (ListResponse, ProcessModelResponse,
    ShowResponse), as the fakes in tests/fakes cite them."""
    details = details or {"parameter_size": "70.6B", "quantization_level": "Q4_K_M"}
    running = [{"name": name, "model": name, "size": size, "size_vram": vram,
                "context_length": 4096, "details": details} for size, vram in loaded]
    return Server({
        "/": Reply(200, "Ollama is running"),
        "/api/version": Reply(200, {"version": "0.12.3"}),
        "/v1/models": Reply(200, {"object": "list", "data": [
            {"id": name, "object": "model", "created": 1720000000, "owned_by": "library"}]}),
        "/api/tags": Reply(200, {"models": [{"name": name, "model": name, "size": tags_size,
            "details": details}]}),
        "/api/ps": Reply(200, {"models": running}),
        "POST /api/show": Reply(200, {"details": details,
            "model_info": {"general.parameter_count": params}}),
    })  # fmt: skip


SMOL_META = {"n_params": 134515008, "size": 144806912, "n_ctx_train": 8192, "n_vocab": 49152}


# -- capacity ----------------------------------------------------------------------------------


def test_small_model_fits_the_gpu_with_server_metadata():
    with llamacpp(SMOL, SMOL_META) as server:
        found = run_checks(target(server.url, SMOL), RTX4090)
    assert codes(found) == ["capacity.estimate"]
    est = by_code(found, "capacity.estimate")
    assert est.severity is Severity.INFO and "fits in GPU memory" in est.summary
    e = est.evidence
    assert e["fits"] == "gpu" and e["backend"] == "cuda" and e["params_b"] == 0.13
    assert e["weights_gib"] == pytest.approx(144806912 / 1024**3, abs=0.01)  # the file's size
    assert e["context"] == 4096 and e["decode_tps"] > 200 and e["client_context"] == 131072
    json.dumps(e)


def test_the_quantization_is_the_one_llama_server_names():
    """An --alias hides the file name; meta.ftype still names the file's type (llama.cpp
    server-context.cpp, /v1/models meta), and it beats the name's default guess."""
    with llamacpp("smollm2", {**SMOL_META, "ftype": "Q4_1"}) as server:
        found = run_checks(target(server.url, "smollm2"), RTX4090)
    est = by_code(found, "capacity.estimate")
    assert est.evidence["quant"] == "Q4_1"
    assert "Q4_1 5.11 bpw (the server)" in est.detail


def test_a_mismatch_estimates_the_model_the_server_serves_and_says_so():
    # llama.cpp answers every id with its one model: the config's 70B is not what runs
    with llamacpp(SMOL, SMOL_META) as server:
        found = run_checks(target(server.url, "llama-3.1-70b-instruct"), LAPTOP)
    est = by_code(found, "capacity.estimate")
    assert "capacity.no_fit" not in codes(found)
    assert est.evidence["served_model"] == SMOL and est.evidence["params_b"] == 0.13
    assert f"{SMOL} (served instead of llama-3.1-70b-instruct)" in est.summary
    assert "the model the server serves" in est.detail


def test_too_big_for_this_machine_is_no_fit_with_a_smaller_quant():
    model = "Meta-Llama-3.1-70B-Instruct-Q4_K_M.gguf"
    meta = {"n_params": 70553706496, "size": 42520395776}
    with llamacpp(model, meta) as server:
        found = run_checks(target(server.url, model), LAPTOP)
    no_fit = by_code(found, "capacity.no_fit")
    assert no_fit.severity is Severity.ERROR
    assert "needs ~" in no_fit.summary and "GiB RAM free" in no_fit.summary
    assert "smaller model" in no_fit.fix
    assert "capacity.estimate" in codes(found)


def test_unknown_gpus_are_not_a_cpu_only_machine():
    """Issue 16, 3: Windows with GPUs lmdoctor cannot list (no NVML, adapters unreadable): the
    model may sit in VRAM, so no capacity.no_fit error and no "fits cpu" claim."""
    model = "Meta-Llama-3.1-70B-Instruct-Q4_K_M.gguf"
    meta = {"n_params": 70553706496, "size": 42520395776}
    blind = {**LAPTOP, "gpus": [], "gpus_known": False}
    with llamacpp(model, meta) as server:
        found = run_checks(target(server.url, model), blind)
    assert codes(found, Severity.WARN) == []
    estimate = by_code(found, "capacity.estimate")
    assert "GPUs could not be read" in estimate.summary and "tokens/s" not in estimate.summary
    assert estimate.evidence["gpus_known"] is False


def test_too_slow_for_the_clients_timeout():
    model = "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"
    meta = {"n_params": 8030261248, "size": 4920733696}
    with llamacpp(model, meta) as server:
        found = run_checks(target(server.url, model, timeout=120), LAPTOP)
    slow = by_code(found, "capacity.slow")
    assert slow.severity is Severity.WARN
    assert "PicoClaw gives up after 120 s" in slow.summary
    assert "request_timeout" in slow.fix and slow.evidence["first_turn_s"] > 120


def test_ollama_reports_partial_offload():
    name = "llama3.1:70b"
    size, vram = 45_000_000_000, 20_000_000_000
    with ollama(name, 70553706496, 42520395776, [(size, vram)]) as server:
        found = run_checks(target(server.url, name, provider="ollama"), RTX4090)
    partial = by_code(found, "capacity.partial_offload")
    assert partial.severity is Severity.WARN
    assert partial.evidence["gpu_share_reported"] == pytest.approx(vram / size, abs=0.01)
    assert "44 %" in partial.summary or "44 %" in partial.detail
    assert "Xorg" in partial.fix  # the process holding GPU memory


def test_ollama_measuring_the_model_in_vram_beats_a_no_fit_estimate():
    """Issue 16, 3: a GPU lmdoctor cannot see (Windows + AMD) while Ollama's /api/ps says the
    model sits wholly in VRAM: the measurement wins, no capacity.no_fit error."""
    name = "llama3.1:70b"
    size = 45_000_000_000
    with ollama(name, 70553706496, 42520395776, [(size, size)]) as server:
        found = run_checks(target(server.url, name, provider="ollama"), LAPTOP)
    assert "capacity.no_fit" not in codes(found), [f.summary for f in found]


def test_unknown_size():
    with llamacpp("my-finetune.gguf", None) as server:
        found = run_checks(target(server.url, "my-finetune.gguf"), RTX4090)
    unknown = by_code(found, "capacity.unknown_size")
    assert unknown.severity is Severity.INFO
    assert "lmdoctor estimate my-finetune.gguf --params" in unknown.fix


def test_remote_endpoint_gets_a_note_and_no_traffic():
    # 192.0.2.0/24 is TEST-NET-1: never routed; the check must not even try it
    found = run_checks(target("http://192.0.2.10:1234", "qwen/qwen3-8b"), RTX4090)
    assert codes(found) == ["capacity.remote"]
    note = by_code(found, "capacity.remote")
    assert note.severity is Severity.INFO and "192.0.2.10" in note.summary


# -- bench -------------------------------------------------------------------------------------


def sse(tokens: Sequence[str], timings: dict[str, Any] | None = None, **extra: Any) -> str:
    chunks = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]}]
    chunks += [{"choices": [{"index": 0, "delta": {"content": t}}]} for t in tokens]
    last: dict[str, Any] = {"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
    if timings:
        last["timings"] = timings
    chunks.append({**last, **extra})
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


TIMINGS = {"prompt_n": 24, "prompt_ms": 9.1, "prompt_per_second": 2637.4,
           "predicted_n": 64, "predicted_ms": 250.0, "predicted_per_second": 256.0}  # fmt: skip
STREAM = {"Content-Type": "text/event-stream"}


def test_bench_prefers_llamacpp_timings_and_sends_a_small_stream():
    chat = Reply(200, sse(["One", ",", " two"] * 21, TIMINGS), STREAM)
    with llamacpp(SMOL, SMOL_META, chat) as server:
        found = run_checks(target(server.url, SMOL), RTX4090, ids=("bench",))
        sent = [s for s in server.seen if s.path == "/v1/chat/completions"]
    result = by_code(found, "bench.result")
    assert result.evidence["source"] == "llama.cpp timings"
    assert result.evidence["decode_tps"] == 256.0 and result.evidence["tokens"] == 64
    assert result.evidence["prefill_tps"] == 2637.4 and result.evidence["ttft_s"] < 1.5
    (request,) = sent
    body = request.json()
    assert body["stream"] is True and body["max_tokens"] == 64 and body["model"] == SMOL
    assert body["temperature"] == 0 and "bench.below_estimate" not in codes(found)


def test_bench_far_below_the_estimate():
    slow = {**TIMINGS, "predicted_per_second": 12.5}
    chat = Reply(200, sse(["x"] * 64, slow), STREAM)
    with llamacpp(SMOL, SMOL_META, chat) as server:
        found = run_checks(target(server.url, SMOL), RTX4090, ids=("bench",))
    below = by_code(found, "bench.below_estimate")
    assert below.severity is Severity.WARN and below.evidence["expected_decode_tps"] > 25
    assert "GPU" in below.fix


def test_bench_on_a_busy_cpu_does_not_blame_the_server():
    """A CPU-run model on a machine with more runnable work than cores: a slow measurement is
    the machine's load, not a misconfigured server (no bench.below_estimate, said so)."""
    slow = {**TIMINGS, "predicted_per_second": 0.5}
    idle = {**LAPTOP, "cpu": {**LAPTOP["cpu"], "load_1m": 0.1}}
    busy = {**LAPTOP, "cpu": {**LAPTOP["cpu"], "load_1m": 4.0 * LAPTOP["cpu"]["physical_cores"]}}
    found = {}
    for name, snap in (("idle", idle), ("busy", busy)):
        chat = Reply(200, sse(["x"] * 64, slow), STREAM)
        with llamacpp(SMOL, SMOL_META, chat) as server:
            found[name] = run_checks(target(server.url, SMOL), snap, ids=("bench",))
    assert "bench.below_estimate" in codes(found["idle"])
    assert "bench.below_estimate" not in codes(found["busy"])
    assert by_code(found["busy"], "bench.result").evidence["cpu_busy"] is True


def test_bench_failed_quotes_the_server():
    oom = {
        "error": {
            "code": 500,
            "type": "server_error",
            "message": "llama_model_load: failed to allocate CUDA0 buffer of size 17179869184: "
            "out of memory",
        }
    }
    with llamacpp(SMOL, SMOL_META, Reply(500, oom)) as server:
        found = run_checks(target(server.url, SMOL), RTX4090, ids=("bench",))
    failed = by_code(found, "bench.failed")
    assert failed.severity is Severity.ERROR and "HTTP 500" in failed.summary
    assert "out of memory" in failed.summary and failed.evidence["reason"] == "memory"
    assert "smaller" in failed.fix


def test_bench_error_inside_the_stream():
    body = 'data: {"error": {"code": 500, "message": "error loading model: bad magic"}}\n\n'
    with llamacpp(SMOL, SMOL_META, Reply(200, body, STREAM)) as server:
        found = run_checks(target(server.url, SMOL), RTX4090, ids=("bench",))
    failed = by_code(found, "bench.failed")
    assert "bad magic" in failed.summary and failed.evidence["reason"] == "load"


def test_bench_wall_clock_when_the_server_reports_nothing():
    """A server that dribbles tokens: TTFT and decode rate come from arrival times."""

    def handler(sock: socket.socket) -> None:
        if not sock.recv(65536).startswith(b"POST "):  # the identification's probes: no stream
            sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")  # fmt: skip
            return
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Connection: close\r\n\r\n")  # fmt: skip
        time.sleep(0.3)
        for i in range(5):
            chunk = {"choices": [{"index": 0, "delta": {"content": f"t{i}"}}]}
            sock.sendall(f"data: {json.dumps(chunk)}\n\n".encode())
            time.sleep(0.25)
        sock.sendall(b"data: [DONE]\n\n")

    with RawServer(handler) as server:
        found = run_checks(
            Target(name="raw", api_base=server.url + "/v1", model_id="m"), RTX4090, ("bench",)
        )
    result = by_code(found, "bench.result")
    assert result.evidence["source"] == "wall clock" and result.evidence["tokens"] == 5
    # wide bounds: a loaded machine may stall this process (client and server) for a while
    assert 0.25 < result.evidence["ttft_s"] < 5
    assert 1 < result.evidence["decode_tps"] < 12  # 4 gaps of ~0.25 s: ~4 tokens/s


def test_bench_ollama_native_eval_counts():
    name = "llama3.1:8b"
    lines = [{"model": name, "message": {"role": "assistant", "content": w}, "done": False}
             for w in ("One", ",", " two")]  # fmt: skip
    lines.append({"model": name, "done": True, "total_duration": 2_500_000_000,
                  "load_duration": 1_200_000_000, "prompt_eval_count": 30,
                  "prompt_eval_duration": 60_000_000, "eval_count": 64,
                  "eval_duration": 800_000_000})  # fmt: skip

    def chat(seen: Seen) -> Reply:
        assert seen.json()["options"]["num_predict"] == 64
        return Reply(200, "".join(json.dumps(x) + "\n" for x in lines),
                     {"Content-Type": "application/x-ndjson"})  # fmt: skip

    routes = {"/api/version": Reply(200, {"version": "0.12.3"}), "POST /api/chat": chat}
    with Server(routes) as server:
        found = run_checks(target(server.url, name, provider="ollama"), RTX4090, ("bench",))
    result = by_code(found, "bench.result")
    assert result.evidence["source"] == "Ollama eval_count/eval_duration"
    assert result.evidence["decode_tps"] == 80.0 and result.evidence["load_s"] == 1.2
    assert result.evidence["prefill_tps"] == 500.0


def test_bench_server_that_does_not_stream():
    answer = {"object": "chat.completion", "choices": [{"index": 0, "message":
              {"role": "assistant", "content": "one, two"}, "finish_reason": "length"}],
              "usage": {"prompt_tokens": 20, "completion_tokens": 64},
              "timings": TIMINGS}  # fmt: skip
    with llamacpp(SMOL, SMOL_META, Reply(200, answer)) as server:
        found = run_checks(target(server.url, SMOL), RTX4090, ids=("bench",))
    result = by_code(found, "bench.result")
    assert "not streamed" in result.summary and result.evidence["ttft_s"] is None
    assert result.evidence["decode_tps"] == 256.0


def test_bench_odd_chunks_are_not_a_crash():
    body = "".join(
        f"data: {x}\n\n"
        for x in ('{"choices": ["x"]}', '{"choices": [{"delta": "x"}]}', "[1, 2]", "{bad",
                  '{"timings": {"predicted_per_second": "fast"}}')
    )  # fmt: skip
    with llamacpp(SMOL, SMOL_META, Reply(200, body, STREAM)) as server:
        found = run_checks(target(server.url, SMOL), RTX4090, ids=("bench",))
    failed = by_code(found, "bench.failed")
    assert "no tokens" in failed.summary


# -- HttpClient.stream_lines (added for the bench) -----------------------------------------------


def _dribble(lines: int, gap: float, burst: int = 1) -> RawServer:
    """`burst` lines at once, then one every `gap` seconds."""

    def handler(sock: socket.socket) -> None:
        sock.recv(65536)
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
        for i in range(lines):
            sock.sendall(f"data: {i}\n\n".encode())
            if i >= burst - 1:
                time.sleep(gap)

    return RawServer(handler)


def _stream(url: str, **kw: Any) -> Any:
    async def go() -> Any:
        http = HttpClient(PATIENT)
        try:
            return await http.stream_lines("POST", url, json_body={}, **kw)
        finally:
            await http.aclose()

    return asyncio.run(go())


def test_stream_lines_returns_what_arrived_before_the_deadline():
    # 3 lines at once, then one every 0.05 s for 20 s: the deadline cuts it, whatever the load
    with _dribble(400, 0.05, burst=3) as server:
        reply = _stream(server.url + "/v1/chat/completions", deadline=0.6)
    assert reply.status == 200 and reply.timed_out
    data = [text for _, text in reply.lines if text]
    assert 3 <= len(data) < 400 and data[0] == "data: 0"
    stamps = [at for at, _ in reply.lines]
    assert stamps == sorted(stamps) and stamps[-1] < 10


def test_stream_lines_is_bounded():
    with _dribble(2000, 0.0) as server:
        reply = _stream(server.url + "/x", limit=1000, deadline=5)
    assert reply.truncated and len(reply.body) == 1000


def test_stream_lines_sends_the_key_only_to_its_origin():
    from lmdoctor.redact import Secret

    with Server({"/x": Reply(200, "data: 1\n\n", STREAM)}) as server:
        _stream(server.url + "/x", key=Secret("sk-test-123"), key_origin=server.url)
        _stream(server.url + "/x", key=Secret("sk-test-123"), key_origin="http://other:1")
    first, second = server.seen
    assert first.headers.get("Authorization") == "Bearer sk-test-123"
    assert "Authorization" not in second.headers
