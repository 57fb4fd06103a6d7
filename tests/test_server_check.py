"""The server check: who answers, and is api_base the path of its OpenAI API? (§14 B, C)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import fakes
from conftest import by_code, codes, diagnose
from lmdoctor.findings import Finding, Severity
from lmdoctor.redact import Secret
from lmdoctor.target import Target
from loopback import Reply, Server

CONFIG = Path("/home/user/.picoclaw/config.json")


def target(server: Server, path: str = "/v1", model: str = "m", key: str | None = None) -> Target:
    return Target(
        name="local",
        provider="openai",
        api_base=server.url + path,
        model=model,
        model_id=model,
        api_key=Secret(key) if key else None,
        config_path=CONFIG,
        entry="model_list[0]",
    )


def run(server: Server, path: str = "/v1", key: str | None = None) -> list[Finding]:
    with server:
        found = [f for f in diagnose(target(server, path, key=key), only=["server"])]
    assert fakes.generated(server) == []
    return [f for f in found if f.check == "server"]


HEALTHY: list[tuple[str, Callable[[], Server], str]] = [
    ("lmstudio", fakes.lmstudio, "LM Studio"),
    ("ollama", fakes.ollama, "Ollama 0.12.3"),
    ("llamacpp", fakes.llamacpp, "llama.cpp (llama-server) b6500-8f8c4a2e"),
    ("vllm", fakes.vllm, "vLLM 0.10.1"),
    ("litellm", fakes.litellm, "LiteLLM proxy 1.74.3"),
    ("tgi", fakes.tgi, "Hugging Face TGI 3.3.4"),
    ("koboldcpp", fakes.koboldcpp, "KoboldCpp 1.76"),
    ("localai", fakes.localai, "LocalAI v3.4.0"),
]


@pytest.mark.parametrize(("kind", "factory", "named"), HEALTHY, ids=[h[0] for h in HEALTHY])
def test_a_healthy_server_is_identified_and_nothing_else(
    kind: str, factory: Callable[[], Server], named: str
) -> None:
    found = run(factory())
    assert codes(found) == ["server.identified"]
    finding = found[0]
    assert finding.severity is Severity.INFO and finding.summary.startswith(named)
    assert finding.evidence["kind"] == kind and finding.evidence["signals"]


def test_a_refusal_is_left_to_the_auth_check() -> None:
    assert codes(run(fakes.lmstudio(token="sk-lm-t0ken123"))) == ["server.identified"]


# (fake, configured path, code, working path, key)
PATHS = [
    ("ollama without /v1 (404 page not found)", fakes.ollama, "", "http.missing_v1", "/v1", None),
    ("lmstudio without /v1 (HTTP 200 error body)", fakes.lmstudio, "", "http.missing_v1", "/v1",
     None),
    ("/v1/v1", fakes.vllm, "/v1/v1", "http.double_v1", "/v1", None),
    ("chat path in base", fakes.llamacpp, "/v1/chat/completions", "http.endpoint_in_base", "/v1",
     None),
    ("ollama native /api", fakes.ollama, "/api", "http.native_api_base", "/v1", None),
    ("lmstudio native /api/v1", fakes.lmstudio, "/api/v1", "http.native_api_base", "/v1", None),
    ("jan at its docs root", fakes.jan, "", "http.missing_v1", "/v1", "jan-secret"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("factory", "path", "code", "working", "key"),
    [p[1:] for p in PATHS],
    ids=[p[0] for p in PATHS],
)
def test_a_wrong_path_names_the_base_that_works(
    factory: Callable[[], Server], path: str, code: str, working: str, key: str | None
) -> None:
    server = factory()
    found = run(server, path, key=key)
    finding = by_code(found, code)
    assert finding.severity is Severity.ERROR
    assert finding.evidence["working_base"] == server.url + working
    assert finding.evidence["config_key"] == "config.json model_list[0].api_base"
    assert finding.fix == f'Set config.json model_list[0].api_base to "{server.url + working}".'
    assert finding.evidence["answer"]  # what the wrong path said, parsed from the body


def test_lmstudio_200_error_body_is_read_not_trusted() -> None:
    finding = by_code(run(fakes.lmstudio(), ""), "http.missing_v1")
    assert "Unexpected endpoint or method. (GET /models)" in finding.evidence["answer"]
    assert "HTTP 200" in finding.evidence["answer"]


def test_a_web_server_is_named_not_llm() -> None:
    found = run(fakes.web_page("Welcome to nginx!", "nginx/1.24.0"))
    finding = by_code(found, "http.not_llm_server")
    assert "Server: nginx/1.24.0" in finding.summary and "Welcome to nginx!" in finding.summary
    assert finding.evidence["title"] == "Welcome to nginx!"
    assert "config.json model_list[0].api_base" in finding.fix and "lmdoctor scan" in finding.fix
    assert codes(found) == ["http.not_llm_server"]


@pytest.mark.parametrize("version", ["vendored", "00dd081"])
def test_llamacpp_still_loading_is_named_loading_not_broken(version: str) -> None:
    found = run(fakes.llamacpp(loading=True, version=version))
    finding = by_code(found, "server.loading")
    assert finding.severity is Severity.WARN and finding.blocks
    assert "still loading" in finding.summary and finding.evidence["status"] == 503
    assert "/health" in finding.fix and "--wait" in finding.fix
    assert "restart" not in finding.fix.lower()
    assert codes(found) == ["server.identified", "server.loading"]


def test_older_llamacpp_lists_its_model_while_loading_with_meta_null() -> None:
    found = run(fakes.llamacpp(loading=True, version="older"))
    assert codes(found) == ["server.identified", "server.loading"]
    assert "meta: null" in by_code(found, "server.loading").summary


def test_llamacpp_loading_with_a_key_is_still_loading() -> None:
    # The state middleware runs before the key check: no key still gets the 503.
    found = run(fakes.llamacpp(loading=True, api_key="k"))
    assert codes(found) == ["server.identified", "server.loading"]


def test_loading_blocks_the_checks_that_need_the_model(tmp_path: Path) -> None:
    with fakes.llamacpp(loading=True) as server:
        found = diagnose(target(server))
    skipped = [f for f in found if f.code in ("auth.skipped", "models.skipped")]
    assert {f.code for f in skipped} == {"auth.skipped", "models.skipped"}
    assert all("server.loading" in f.summary for f in skipped), [f.summary for f in skipped]
    assert "http.server_error" not in codes(found)


def test_a_5xx_is_quoted() -> None:
    memory = "model requires more system memory (5.3 GiB) than is available (3.3 GiB)"
    server = fakes.ollama()
    server.routes["GET /v1/models"] = Reply(500, {"error": {"message": memory}})
    finding = by_code(run(server), "http.server_error")
    assert memory in finding.summary and finding.evidence["status"] == 500


def test_a_known_server_without_a_model_list_is_a_bad_response() -> None:
    server = fakes.vllm()
    server.routes["GET /v1/models"] = Reply(200, "<<not json>>")
    finding = by_code(run(server), "http.bad_response")
    assert finding.evidence["status"] == 200 and "not json" in finding.evidence["body"]


def test_the_check_needs_no_more_than_a_few_requests() -> None:
    server = fakes.lmstudio()
    run(server)
    assert len([s for s in server.seen if s.path in ("/", "/v1/models")]) <= 4
