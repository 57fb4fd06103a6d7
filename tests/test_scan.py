"""`lmdoctor scan`: LLM servers on this machine, found through psutil and the well-known ports.

Other processes on the machine may run servers too: assertions pick this test's port.
"""

from __future__ import annotations

import json
import time

import psutil
from click.testing import CliRunner

from lmdoctor import discovery, net
from lmdoctor.cli import main
from lmdoctor.render import scan as render_scan
from loopback import Reply, Server

MODELS = Reply(
    200,
    {
        "object": "list",
        "data": [
            {"id": "qwen/qwen3-8b", "object": "model", "owned_by": "organization_owner"},
            {"id": "openai/gpt-oss-20b", "object": "model", "owned_by": "organization_owner"},
        ],
    },
)


def _ours(results: list[discovery.FoundServer], port: int) -> discovery.FoundServer:
    matches = [s for s in results if s.port == port]
    assert matches, f"port {port} not in {[s.port for s in results]}"
    return matches[0]


def test_scan_finds_a_loopback_server_with_its_models_process_and_binding():
    with Server({"/v1/models": MODELS}) as server:
        started = time.perf_counter()
        results = discovery.run_scan(1.0)
        elapsed = time.perf_counter() - started
    found = _ours(results, server.port)
    assert found.models == ["qwen/qwen3-8b", "openai/gpt-oss-20b"]
    assert found.listens_on == ["127.0.0.1"] and found.beyond_loopback is False
    assert found.process == psutil.Process().name() and found.pid is not None
    assert found.api_base == f"http://127.0.0.1:{server.port}/v1"
    assert elapsed < 10  # concurrent, short timeouts: closed loopback ports refuse at once


def test_scan_leaves_out_http_servers_that_are_not_llm_servers():
    with Server({"/": Reply(200, "<html><title>Grafana</title></html>")}) as server:
        results = discovery.run_scan(1.0)
    assert server.port not in [s.port for s in results]


def test_bindings_beyond_loopback_come_from_the_listening_sockets():
    found = discovery.FoundServer("127.0.0.1", 11434, "ollama", "Ollama", "0.5.1", ["llama3.2"])
    listeners = [net.Listener("0.0.0.0", 11434, 42, "ollama"), net.Listener("::", 11434, 42)]
    discovery._with_bind_facts(found, listeners, None)
    assert found.beyond_loopback is True and found.listens_on == ["0.0.0.0", "::"]
    assert (found.process, found.pid) == ("ollama", 42)


def test_without_socket_data_lan_reachability_is_what_a_connect_said():
    found = discovery.FoundServer("127.0.0.1", 1234, "lmstudio", "LM Studio")
    discovery._with_bind_facts(found, None, None)
    assert found.beyond_loopback is None and found.listens_on == []


def test_render_table_and_json():
    servers = [
        discovery.FoundServer(
            "127.0.0.1", 1234, "lmstudio", "LM Studio", None, ["a", "b", "c", "d"],
            ["127.0.0.1"], False, "LM Studio", 7,
        ),
        discovery.FoundServer("::1", 11434, "ollama", "Ollama", "0.5.1", None, ["::"], True),
    ]  # fmt: skip
    table = render_scan.render(servers, "table")
    assert "LM Studio" in table and "a, b, c (+1 more)" in table
    assert "this machine only" in table and "LAN too" in table
    assert "http://[::1]:11434/v1" in table and "needs a key" in table
    data = json.loads(render_scan.render(servers, "json"))
    assert data["schema_version"] == 1
    first = data["servers"][0]
    assert first["server"] == "lmstudio" and first["beyond_loopback"] is False
    assert first["api_base"] == "http://127.0.0.1:1234/v1" and first["models"] == list("abcd")


def test_render_nothing_found_names_where_it_looked():
    text = render_scan.render([], "table")
    assert "No LLM server" in text and "11434" in text


def test_cli_scan_json():
    with Server({"/v1/models": MODELS}) as server:
        result = CliRunner().invoke(main, ["scan", "--format", "json", "--timeout", "1"])
    assert result.exit_code == 0, result.output
    ports = [s["port"] for s in json.loads(result.output)["servers"]]
    assert server.port in ports
