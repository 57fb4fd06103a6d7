"""`lmdoctor` against llama.cpp's own `llama-server` (built from the llama.cpp tree that
llama-cpp-python vendors) with SmolLM2-135M: single-model with --api-key / --alias /
--api-prefix, a model still loading (held open by tests/integration/llamaserver.LoadGate),
router mode with aliases and per-model status, and --no-models-autoload.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from integration.drive import PROXY_VARS, Run, config, lmdoctor
from integration.llamaserver import (
    ALIAS,
    LlamaCppServer,
    LoadGate,
    NativeServers,
    get,
    post,
)
from integration.realserver import KEY

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
WRONG = "sk-wrong-key-abcdef0123456789"


def check(tmp_path: Path, base: str, model: str, *extra: str, keys: list[str] | None = None) -> Run:
    path = config(tmp_path, {"model": f"openai/{model}", "api_base": base}, keys)
    return lmdoctor("--config", str(path), *extra, home=tmp_path)


def errors(run: Run) -> list[str]:
    return [f["code"] for f in run.findings if f["severity"] == "error"]


def text(run: Run) -> str:
    return json.dumps(run.findings).lower()


# -- single model -----------------------------------------------------------------------------


def test_healthy_llama_server(native: NativeServers, tmp_path: Path) -> None:
    run = check(tmp_path, native.open.base, ALIAS)
    assert run.rc == 0, run.explain()
    assert run.finding("server.identified")["evidence"]["kind"] == "llamacpp", run.explain()
    assert "model.ok" in run.codes, run.explain()
    assert not errors(run), run.explain()


def test_api_key_missing(native: NativeServers, tmp_path: Path) -> None:
    run = check(tmp_path, native.keyed.base, ALIAS)
    assert run.rc == 1, run.explain()
    assert "auth.missing_key" in run.codes, run.explain()


def test_api_key_wrong(native: NativeServers, tmp_path: Path) -> None:
    run = check(tmp_path, native.keyed.base, ALIAS, keys=[WRONG])
    assert run.rc == 1, run.explain()
    assert "auth.invalid_key" in run.codes, run.explain()
    assert WRONG not in run.stdout + run.stderr


def test_api_key_right(native: NativeServers, tmp_path: Path) -> None:
    run = check(tmp_path, native.keyed.base, ALIAS, keys=[KEY])
    assert run.rc == 0, run.explain()
    assert "auth.ok" in run.codes and "model.ok" in run.codes, run.explain()
    assert KEY not in run.stdout + run.stderr


def test_alias_is_the_model_id(native: NativeServers, tmp_path: Path) -> None:
    status, body = get(f"{native.open.base}/models")
    assert status == 200 and json.loads(body)["data"][0]["id"] == ALIAS
    run = check(tmp_path, native.open.base, ALIAS + "-typo")
    assert "model.ok" not in run.codes, run.explain()
    assert ALIAS in json.dumps([f for f in run.findings if f["code"].startswith("model.")])


def test_api_prefix_with_key_is_no_false_error(native: NativeServers, tmp_path: Path) -> None:
    # Everything lives under /llm; the root answers 404 with the key and 401 without one.
    run = check(tmp_path, native.prefixed.base, ALIAS, keys=[KEY])
    assert run.rc == 0, run.explain()
    assert not errors(run), run.explain()
    assert "model.ok" in run.codes, run.explain()


def test_api_prefix_missing_from_base(native: NativeServers, tmp_path: Path) -> None:
    # Nothing outside the prefix answers but 404 "File Not Found": the base is wrong.
    base = f"http://127.0.0.1:{native.prefixed.port}/v1"
    run = check(tmp_path, base, ALIAS, keys=[KEY])
    assert run.rc == 1, run.explain()
    assert "File Not Found" in json.dumps(run.findings), run.explain()


# -- a model still loading --------------------------------------------------------------------


def test_loading_server_answers_503_everywhere(
    loading_server: tuple[LlamaCppServer, LoadGate],
) -> None:
    """What the vendored llama-server does while it loads (the fakes mirror this)."""
    server, gate = loading_server
    for path in ("/health", "/v1/models", "/models", "/props"):
        status, body = get(server.root + path)
        assert status == 503, (path, status, body)
        assert json.loads(body)["error"]["message"] == "Loading model"
    status, _ = post(server.root + "/tokenize", {"content": "x"})
    assert status == 503
    gate.release()
    server.wait()
    assert get(server.root + "/health")[0] == 200


def test_loading_is_named_not_broken(
    loading_server: tuple[LlamaCppServer, LoadGate], tmp_path: Path
) -> None:
    server, _ = loading_server
    run = check(tmp_path, server.base, ALIAS)
    loading = run.finding("server.loading")
    assert loading["severity"] == "warn", run.explain()
    assert "http.server_error" not in run.codes, run.explain()
    assert "restart" not in text(run), run.explain()
    skipped = [f for f in run.findings if f["code"] in ("auth.skipped", "models.skipped")]
    assert skipped and all("loading" in f["summary"].lower() for f in skipped), run.explain()


def test_wait_until_the_model_has_loaded(
    loading_server: tuple[LlamaCppServer, LoadGate], tmp_path: Path
) -> None:
    server, gate = loading_server
    opener = threading.Timer(2.0, gate.release)
    opener.start()
    started = time.monotonic()
    try:
        run = check(tmp_path, server.base, ALIAS, "--wait", "60")
    finally:
        opener.cancel()
    assert run.rc == 0, run.explain()
    assert "model.ok" in run.codes and "server.loading" not in run.codes, run.explain()
    assert time.monotonic() - started >= 2.0


def test_wait_gives_up_in_time(
    loading_server: tuple[LlamaCppServer, LoadGate], tmp_path: Path
) -> None:
    server, _ = loading_server
    started = time.monotonic()
    run = check(tmp_path, server.base, ALIAS, "--wait", "2")
    elapsed = time.monotonic() - started
    assert run.rc == 1, run.explain()
    assert run.finding("server.loading")["severity"] == "error", run.explain()
    assert 2.0 <= elapsed < 20, elapsed


def test_wait_prints_no_progress_when_not_a_terminal(
    loading_server: tuple[LlamaCppServer, LoadGate], tmp_path: Path
) -> None:
    server, _ = loading_server
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env["HOME"] = str(tmp_path)
    cmd = [sys.executable, "-m", "lmdoctor", "check", server.base, "--model", ALIAS]
    done = subprocess.run(
        [*cmd, "--wait", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert "waiting" not in done.stderr.lower(), done.stderr


# -- router mode ------------------------------------------------------------------------------


def test_router_alias_is_served(native: NativeServers, tmp_path: Path) -> None:
    for model in ("smol", "smol-a", "smol-b"):
        run = check(tmp_path, native.router.base, model)
        assert "model.not_found" not in run.codes, (model, run.explain())
        assert not errors(run), (model, run.explain())


def test_router_unknown_model(native: NativeServers, tmp_path: Path) -> None:
    run = check(tmp_path, native.router.base, "smol-c")
    assert run.rc == 1, run.explain()
    assert "model.not_found" in run.codes, run.explain()


def test_router_model_loads_on_first_request(native: NativeServers, tmp_path: Path) -> None:
    run = check(tmp_path, native.router.base, "smol-lazy")
    assert not errors(run), run.explain()
    assert "first request" in text(run), run.explain()


def test_router_without_autoload_says_it_will_fail(native: NativeServers, tmp_path: Path) -> None:
    run = check(tmp_path, native.router_manual.base, "smol-lazy")
    assert run.rc == 1, run.explain()
    finding = run.finding("model.not_loaded")
    assert finding["severity"] == "error", run.explain()
    assert "models/load" in json.dumps(finding) or "autoload" in json.dumps(finding)


def test_router_failed_load_is_named_with_exit_code(native: NativeServers, tmp_path: Path) -> None:
    post(native.router.root + "/models/load", {"model": "broken"})
    deadline = time.monotonic() + 30
    entry: dict[str, object] = {}
    while time.monotonic() < deadline:
        models = json.loads(get(native.router.base + "/models")[1])["data"]
        entry = next(m for m in models if m["id"] == "broken")
        if entry["status"].get("failed"):  # type: ignore[union-attr]
            break
        time.sleep(0.2)
    assert entry["status"].get("failed"), entry  # type: ignore[union-attr]
    run = check(tmp_path, native.router.base, "broken")
    assert run.rc == 1, run.explain()
    finding = run.finding("model.not_loaded")
    assert "exit" in json.dumps(finding).lower(), run.explain()


# -- a model put to sleep (--sleep-idle-seconds) ------------------------------------------------


def until(what: str, test: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if test():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"not {what} within {timeout:g} s")


def router_status(server: LlamaCppServer, model: str) -> str:
    models = json.loads(get(server.base + "/models")[1])["data"]
    return str(next(m for m in models if m["id"] == model)["status"]["value"])


def props_asleep(server: LlamaCppServer) -> bool:
    status, body = get(server.root + "/props", KEY)
    return status == 200 and json.loads(body).get("is_sleeping") is True


def test_sleeping_model_is_named_and_lmdoctor_does_not_wake_it(
    sleepy: tuple[LlamaCppServer, LlamaCppServer], tmp_path: Path
) -> None:
    single, router = sleepy
    until("asleep", lambda: props_asleep(single))
    run = check(tmp_path, single.base, ALIAS, keys=[KEY])
    assert "auth.ok" in run.codes and not errors(run), run.explain()
    assert run.finding("model.sleeping")["severity"] == "info", run.explain()
    assert props_asleep(single), "lmdoctor's own requests must not wake the model"
    # The next request that needs the model wakes it (server-context.cpp:4212-4218).
    assert post(single.root + "/tokenize", {"content": "x"}, KEY)[0] == 200
    assert not props_asleep(single)

    until("asleep", lambda: router_status(router, "smol") == "sleeping")
    run = check(tmp_path, router.base, "smol")
    finding = run.finding("model.sleeping")
    assert finding["severity"] == "info" and not errors(run), run.explain()
    assert "model.not_loaded" not in run.codes, run.explain()
    assert router_status(router, "smol") == "sleeping"
    status, _ = post(router.root + "/tokenize", {"model": "smol", "content": "x"})
    assert status == 200 and router_status(router, "smol") == "loaded"


def test_router_event_stream_carries_the_load_progress(
    sleepy: tuple[LlamaCppServer, LlamaCppServer],
) -> None:
    """The shape the fakes and lmdoctor read (server-models.cpp:1286-1322, 2115-2131): waking a
    sleeping model loads it again, and the router streams its progress."""
    _, router = sleepy
    until("asleep", lambda: router_status(router, "smol") == "sleeping")
    lines: list[str] = []

    def listen() -> None:
        request = urllib.request.Request(router.root + "/models/sse")
        try:
            with urllib.request.urlopen(request, timeout=10) as stream:
                for raw in stream:
                    lines.append(raw.decode())
                    if '"loaded"' in lines[-1]:
                        return
        except OSError:
            return

    listener = threading.Thread(target=listen)
    listener.start()
    time.sleep(0.5)
    post(router.root + "/tokenize", {"model": "smol", "content": "x"})
    listener.join(15)
    events = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    loading = [
        e for e in events if e["event"] == "status_change" and e["data"]["status"] == "loading"
    ]
    assert loading, lines
    progress = loading[-1]["data"]["progress"]
    assert loading[-1]["model"] == "smol" and 0.0 <= progress["value"] <= 1.0, progress
    assert progress["current"] == "text_model", progress


def test_router_model_loading_then_wait(
    loading_router: tuple[LlamaCppServer, LoadGate], tmp_path: Path
) -> None:
    server, gate = loading_router
    until("loading", lambda: router_status(server, "smol") == "loading")
    run = check(tmp_path, server.base, "smol")
    assert run.finding("model.loading")["severity"] == "warn", run.explain()
    assert "model.not_loaded" not in run.codes and not errors(run), run.explain()
    opener = threading.Timer(2.0, gate.release)
    opener.start()
    try:
        run = check(tmp_path, server.base, "smol", "--wait", "60")
    finally:
        opener.cancel()
    assert run.rc == 0, run.explain()
    assert "model.ok" in run.codes and "model.loading" not in run.codes, run.explain()
