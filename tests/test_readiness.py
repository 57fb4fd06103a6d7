"""`check --wait`: lmdoctor.readiness against loopback servers that load, start late, or never
become ready. The 503 body and the router status shapes are llama-server's: llama.cpp as
vendored in llama-cpp-python 0.3.36, tools/server/server-http.cpp:307-327 (middleware_server_state)
and tools/server/server-models.cpp:2035-2052 (router status value, failed, exit_code)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from click.testing import CliRunner

import fakes
from conftest import PATIENT
from lmdoctor import readiness
from lmdoctor.cli import main
from lmdoctor.config import adhoc_target
from lmdoctor.http import HttpClient
from loopback import Reply, Seen, Server, free_port

LOADING = {"error": {"message": "Loading model", "type": "unavailable_error", "code": 503}}


def models(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"object": "list", "data": list(entries)}


SMOL = {"id": "smol", "object": "model", "owned_by": "llamacpp", "meta": {"n_ctx": 2048}}


class Loads:
    """503 "Loading model" on every route until `ready_after` requests have been seen."""

    def __init__(self, ready_after: int) -> None:
        self.left = ready_after

    def __call__(self, seen: Seen) -> Reply:
        self.left -= 1
        return Reply(503, LOADING) if self.left >= 0 else Reply(200, models(SMOL))


def poll(url: str, model: str = "smol") -> readiness.State:
    async def go() -> readiness.State:
        http = HttpClient(PATIENT)
        try:
            return await readiness.poll(http, adhoc_target(url, model, None))
        finally:
            await http.aclose()

    return asyncio.run(go())


def test_loading_503_is_not_ready() -> None:
    with Server({"GET /v1/models": Reply(503, LOADING)}) as server:
        state = poll(server.url + "/v1")
    assert not state.ready and "Loading model" in state.what


def test_nothing_listening_is_not_ready() -> None:
    state = poll(f"http://127.0.0.1:{free_port()}/v1")
    assert not state.ready and "nothing answers" in state.what


@pytest.mark.parametrize("status", [200, 401, 404])
def test_any_other_answer_is_ready(status: int) -> None:
    # A refusal or a wrong path is a diagnosis for the checks, not a reason to wait.
    with Server({"GET /v1/models": Reply(status, models(SMOL))}) as server:
        assert poll(server.url + "/v1").ready


def test_router_model_loading_by_alias() -> None:
    entry = {
        "id": "smol",
        "aliases": ["smol-a"],
        "object": "model",
        "owned_by": "llamacpp",
        "status": {"value": "loading", "args": ["llama-server"]},
    }
    with Server({"GET /v1/models": Reply(200, models(entry))}) as server:
        state = poll(server.url + "/v1", "smol-a")
        assert not state.ready and "loading" in state.what
        assert poll(server.url + "/v1", "other").ready  # not our model: nothing to wait for


@pytest.mark.usefixtures("patient_sse")
def test_router_download_progress_comes_from_its_event_stream() -> None:
    # /v1/models carries no progress (server-models.cpp:2021-2094 merges loaded_info only for a
    # running model); GET /models/sse sends "download_progress" {progress: {URL: {done, total}}}
    # (server-models.cpp:1325-1353) as `data: {"model", "event", "data"}` (:650-661, :2115-2131).
    def progress(model: str, *parts: tuple[int, int]) -> dict[str, Any]:
        files = {
            f"https://hf.example/{i}.gguf": {"done": d, "total": t}
            for i, (d, t) in enumerate(parts)
        }
        return {"model": model, "event": "download_progress", "data": {"progress": files}}

    events = [progress("other", (9, 10)), progress("smol", (25, 100), (25, 100))]
    server = fakes.llamacpp(router={"smol": ("downloading", None)}, events=events)
    with server:
        state = poll(server.url + "/v1")
    assert not state.ready and state.progress == pytest.approx(0.25)
    assert "smol is downloading" in state.what


def test_older_llama_server_meta_null_while_loading() -> None:
    # Older builds let /v1/models through while loading, with "meta": null
    # (ggml-org/llama.cpp server-http.cpp, middleware_server_state: "allow the models endpoint").
    entry = {"id": "smol", "object": "model", "owned_by": "llamacpp", "meta": None}
    with Server({"GET /v1/models": Reply(200, models(entry))}) as server:
        assert not poll(server.url + "/v1").ready


def run_check(url: str, *args: str) -> Any:
    return CliRunner().invoke(
        main, ["check", url, "--model", "smol", "--format", "json", *args], env={"CI": ""}
    )


def test_wait_returns_once_loaded() -> None:
    loads = Loads(ready_after=3)
    routes = {"GET /v1/models": loads, "GET /health": Reply(200, {"status": "ok"})}
    with Server(routes, server_header="llama.cpp") as server:
        started = time.monotonic()
        result = run_check(server.url + "/v1", "--wait", "20")
    assert time.monotonic() - started < 15
    assert loads.left < 0, "lmdoctor must have polled until the model was loaded"
    assert '"server.loading"' not in result.output


def test_wait_waits_for_a_server_that_starts_late() -> None:
    port = free_port()
    holder: dict[str, Server] = {}

    def start_later() -> None:
        time.sleep(1.0)
        holder["s"] = Server({"GET /v1/models": Reply(200, models(SMOL))}, port=port).__enter__()

    thread = threading.Thread(target=start_later)
    thread.start()
    try:
        result = run_check(f"http://127.0.0.1:{port}/v1", "--wait", "20")
    finally:
        thread.join()
        if "s" in holder:
            holder["s"].__exit__()
    assert '"net.refused"' not in result.output, result.output


def test_wait_gives_up_after_the_time() -> None:
    with Server({"GET /v1/models": Reply(503, LOADING)}, server_header="llama.cpp") as server:
        started = time.monotonic()
        run_check(server.url + "/v1", "--wait", "1")
        elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 15


def test_wait_prints_nothing_extra_without_a_terminal() -> None:
    with Server({"GET /v1/models": Reply(503, LOADING)}) as server:
        result = CliRunner().invoke(
            main, ["check", server.url + "/v1", "--model", "smol", "--wait", "0.6"]
        )
    assert "\x1b[2K" not in result.output and "/0.6 s" not in result.output


def test_wait_rejects_a_negative_time() -> None:
    result = CliRunner().invoke(main, ["check", "http://127.0.0.1:1/v1", "--wait", "-1"])
    assert result.exit_code == 2
