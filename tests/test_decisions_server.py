"""Verdicts of the server check (checks/server.py) that mutation testing found unpinned
(issue 17)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

import fakes
from conftest import PATIENT, by_code, codes
from lmdoctor.context import Session, Settings
from lmdoctor.findings import Finding, Severity
from lmdoctor.http import HttpClient
from lmdoctor.registry import load_checks, select
from lmdoctor.runner import run_target
from lmdoctor.target import Target
from loopback import RawServer, Reply, Server, free_port

CONFIG = Path("/home/user/.picoclaw/config.json")


def _target(base: str, config: Path | None = CONFIG) -> Target:
    return Target(
        name="local",
        provider="openai",
        api_base=base,
        model="m",
        model_id="m",
        config_path=config,
        entry="model_list[0]" if config else None,
    )


def _server_check(
    target: Target, settings: Settings = PATIENT, skip: tuple[str, ...] = ()
) -> list[Finding]:
    """--only server (with what it needs), optionally --skip some; the server check's findings."""
    import asyncio

    async def go() -> list[Finding]:
        checks, _ = load_checks()
        http = HttpClient(settings)
        try:
            result = await run_target(
                Session(settings, http), target, select(checks, ["server"], skip)
            )
        finally:
            await http.aclose()
        return result.findings

    return [f for f in asyncio.run(go()) if f.check == "server"]


def test_still_loading_after_waiting_is_an_error_that_says_how_long():
    waited = PATIENT._replace(wait_s=2.5)
    with fakes.llamacpp(loading=True) as server:
        found = _server_check(_target(server.url + "/v1"), waited)
    loading = by_code(found, "server.loading")
    assert loading.severity is Severity.ERROR and loading.blocks
    assert loading.summary.endswith(f"at 127.0.0.1:{server.port}, still after waiting 2.5 s")
    assert loading.fix.endswith(
        "Give it longer (`--wait` more seconds) or look at the server's log for a load that hangs."
    )
    assert loading.evidence["waited_s"] == 2.5 and loading.evidence["status"] == 503
    assert loading.evidence["model_id"] == "m"


def test_still_loading_without_waiting_is_a_warning_without_a_wait_figure():
    with fakes.llamacpp(loading=True) as server:
        loading = by_code(_server_check(_target(server.url + "/v1")), "server.loading")
    assert loading.severity is Severity.WARN and "waited_s" not in loading.evidence
    assert loading.summary.endswith(f"at 127.0.0.1:{server.port}")


def test_an_older_llama_server_listing_while_loading_after_waiting_is_an_error():
    waited = PATIENT._replace(wait_s=3.0)
    with fakes.llamacpp(loading=True, version="older") as server:
        loading = by_code(_server_check(_target(server.url + "/v1"), waited), "server.loading")
    assert loading.severity is Severity.ERROR and "still after waiting 3 s" in loading.summary


def test_a_proxy_that_wants_its_own_credentials_is_not_a_wrong_path():
    """407 is the proxy check's to explain, not a sign that api_base is wrong."""
    with Server({"/v1/models": Reply(407, {"error": "Proxy Authentication Required"})}) as server:
        assert _server_check(_target(server.url + "/v1")) == []


def test_a_refusal_disguised_as_a_500_is_left_to_the_auth_check():
    """LiteLLM with a master key and no database: no key gives a plain-text 500."""
    with fakes.litellm(master_key="sk-master", database=False) as server:
        found = _server_check(_target(server.url + "/v1"))
    assert codes(found) == ["server.identified"], [(f.code, f.summary) for f in found]


def test_a_wrong_path_without_a_config_file_says_where_picoclaw_keeps_it():
    with fakes.vllm() as server:
        found = _server_check(_target(server.url + "/v1/v1", config=None))
    finding = by_code(found, "http.double_v1")
    working = server.url + "/v1"
    assert finding.fix == f'Use "{working}" as the base URL (in PicoClaw: model_list[].api_base).'
    assert finding.evidence["config_key"] == "the URL you pass"
    assert finding.summary == (
        f"api_base repeats /v1: {server.url}/v1/v1 serves no model list, {working} does"
    )
    assert finding.detail.endswith(f"while GET {working}/models lists 1 model(s).")


def test_a_web_server_without_a_title_or_server_header_is_described_by_its_answer():
    page = Reply(200, "plain words, no html", headers={"Content-Type": "text/plain"})
    with Server({"/": page}, default=page, server_header="") as server:
        found = _server_check(_target(server.url + "/v1"))
    finding = by_code(found, "http.not_llm_server")
    assert finding.summary == (
        f"127.0.0.1:{server.port} answers HTTP, but not with an OpenAI-compatible API "
        "(HTTP 200: plain words, no html)"
    )
    assert finding.evidence["title"] is None and finding.evidence["status"] == 200
    assert finding.fix.startswith("Check the host and port in config.json model_list[0].api_base")


def test_a_long_server_header_is_cut_at_60_characters():
    name = "x" * 70
    page = Reply(200, "<html><title>Home</title></html>", headers={"Content-Type": "text/html"})
    with Server({"/": page}, default=page, server_header=name) as server:
        finding = by_code(_server_check(_target(server.url + "/v1")), "http.not_llm_server")
    assert finding.summary.endswith(f"(Server: {'x' * 60}, an HTML page titled “Home”)")
    assert finding.evidence["server_header"] == name and finding.evidence["title"] == "Home"


class _OnceThenSilent(RawServer):
    """Answers the first connection with a model list (the network check's probe), then
    closes every later one without a word: the listing the client sends gets no answer."""

    def __init__(self) -> None:
        self.lock, self.count = threading.Lock(), 0
        super().__init__(self._serve)

    def _serve(self, conn: socket.socket) -> None:
        with self.lock:
            self.count += 1
            first = self.count == 1
        conn.recv(4096)
        if first:
            body = b'{"object":"list","data":[{"id":"m","object":"model"}]}'
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


def test_no_answer_after_the_network_check_passed_says_to_run_again():
    with _OnceThenSilent() as server:
        found = _server_check(_target(server.url + "/v1"))
    finding = by_code(found, "http.no_answer")
    assert finding.severity is Severity.ERROR
    assert finding.fix == "Run lmdoctor again; if it repeats, the network check's findings say why."
    assert finding.summary == f"No HTTP answer from GET {server.url}/v1/models"
    assert finding.evidence["failure"]  # what went wrong, named in the detail
    assert finding.detail == f"The request failed ({finding.evidence['failure']})."


def test_no_answer_with_the_network_check_skipped_says_to_run_it():
    port = free_port()
    found = _server_check(_target(f"http://127.0.0.1:{port}/v1"), skip=("network",))
    finding = by_code(found, "http.no_answer")
    assert finding.fix == (
        "Run lmdoctor again without --skip network: its findings say why the request failed."
    )
    assert finding.evidence["failure"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_names_the_kind_and_is_quoted(status):
    server = fakes.vllm()
    server.routes["GET /v1/models"] = Reply(status, {"error": {"message": "engine dead"}})
    with server:
        found = _server_check(_target(server.url + "/v1"))
    finding = by_code(found, "http.server_error")
    assert finding.detail == "vLLM answered with a server error; PicoClaw will get the same."
    assert finding.evidence["status"] == status


def test_a_4xx_on_the_listing_is_not_a_server_error():
    server = fakes.vllm()
    server.routes["GET /v1/models"] = Reply(499, {"error": {"message": "client closed"}})
    with server:
        found = _server_check(_target(server.url + "/v1"))
    assert "http.server_error" not in codes(found)


def test_a_wrong_path_lists_at_most_ten_of_the_models_the_right_one_serves():
    names = [f"model-{n:02}:latest" for n in range(12)]
    with fakes.ollama(names) as server:
        found = _server_check(_target(server.url))
    finding = by_code(found, "http.missing_v1")
    assert finding.evidence["listed"] == names[:10]
    assert finding.detail.endswith(f"while GET {server.url}/v1/models lists 12 model(s).")
