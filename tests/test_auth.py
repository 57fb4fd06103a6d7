"""The auth check: each server's real refusals, on the route it really protects (§14 D)."""

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
KEY_SOURCE = ".security.yml model_list.local"


def target(server: Server, key: str | None, provider: str = "openai") -> Target:
    return Target(
        name="local",
        provider=provider,
        api_base=server.url + "/v1",
        model="m",
        model_id="m",
        api_key=Secret(key) if key else None,
        sources={"api_key": KEY_SOURCE} if key else {},
        config_path=CONFIG,
        entry="model_list[0]",
    )


def run(server: Server, key: str | None) -> list[Finding]:
    with server:
        found = diagnose(target(server, key), only=["auth"])
    assert fakes.generated(server) == [], "lmdoctor must not generate"
    return [f for f in found if f.check == "auth"]


# (case, fake, configured key, code, request lmdoctor used, words in the quoted message, in fix)
CASES: list[tuple[str, Callable[[], Server], str | None, str, str, str, str]] = [
    ("lmstudio auth off", fakes.lmstudio, None, "auth.ok", "GET /v1/models", "", ""),
    ("lmstudio auth off, key set", fakes.lmstudio, "sk-lm-whatever1", "auth.key_not_needed",
     "GET /v1/models", "", "Require Authentication"),
    ("lmstudio no key", lambda: fakes.lmstudio(token="sk-lm-right123"), None, "auth.missing_key",
     "GET /v1/models", "LM Studio API token is required", "Manage Tokens"),
    ("lmstudio wrong key", lambda: fakes.lmstudio(token="sk-lm-right123"), "sk-lm-wrong123",
     "auth.invalid_key", "GET /v1/models", "LM Studio API token", "Manage Tokens"),
    ("lmstudio right key", lambda: fakes.lmstudio(token="sk-lm-right123"), "sk-lm-right123",
     "auth.ok", "GET /v1/models", "", ""),
    ("llama.cpp no key (models list is open)", lambda: fakes.llamacpp(api_key="right"), None,
     "auth.missing_key", "GET /props", "Invalid API Key", "--api-key"),
    ("llama.cpp wrong key", lambda: fakes.llamacpp(api_key="right"), "wrong", "auth.invalid_key",
     "GET /props", "Invalid API Key", "--api-key"),
    ("llama.cpp right key", lambda: fakes.llamacpp(api_key="right"), "right", "auth.ok",
     "GET /props", "", ""),
    ("llama.cpp no auth, key set", fakes.llamacpp, "anything", "auth.key_not_needed",
     "GET /props", "", ""),
    ("llama-cpp-python no key", lambda: fakes.llama_cpp_python(api_key="right"), None,
     "auth.missing_key", "GET /v1/models", "Invalid API key", "--api_key"),
    ("vllm wrong key", lambda: fakes.vllm(api_key="right"), "wrong", "auth.invalid_key",
     "GET /v1/models", "Unauthorized", "--api-key"),
    ("vllm right key", lambda: fakes.vllm(api_key="right"), "right", "auth.ok", "GET /v1/models",
     "", ""),
    ("sglang no key", lambda: fakes.sglang(api_key="right"), None, "auth.missing_key",
     "GET /v1/models", "Unauthorized", ""),
    ("litellm no key", lambda: fakes.litellm(master_key="sk-1234"), None, "auth.missing_key",
     "GET /v1/models", "No api key passed in", "master_key"),
    ("litellm wrong key", lambda: fakes.litellm(master_key="sk-1234"), "sk-9999",
     "auth.invalid_key", "GET /v1/models", "not found in db", "/key/generate"),
    ("litellm wrong key, 400 naming the db", lambda: fakes.litellm(master_key="sk-1234",
     wrong_key_status=400), "sk-9999", "auth.invalid_key", "GET /v1/models", "not found in db", ""),
    ("tgi no key (empty 401)", lambda: fakes.tgi(api_key="right"), None, "auth.missing_key",
     "POST /tokenize", "", "--api-key"),
    ("tgi wrong key", lambda: fakes.tgi(api_key="right"), "wrong", "auth.invalid_key",
     "POST /tokenize", "", ""),
    ("localai no key", lambda: fakes.localai(api_key="right"), None, "auth.missing_key",
     "GET /v1/models", "An authentication key is required", "LOCALAI_API_KEY"),
    ("koboldcpp password", lambda: fakes.koboldcpp(password="pw"), None, "auth.missing_key",
     "GET /api/extra/generate/check", "Authentication key is missing", "--password"),
    ("koboldcpp right password", lambda: fakes.koboldcpp(password="pw"), "pw", "auth.ok",
     "GET /api/extra/generate/check", "", ""),
    ("jan no key", fakes.jan, None, "auth.missing_key", "GET /v1/models",
     "Missing authorization header", "Local API Server"),
    ("jan wrong key", fakes.jan, "nope", "auth.invalid_key", "GET /v1/models",
     "Invalid or missing authorization token", "Local API Server"),
    ("jan untrusted host", lambda: fakes.jan(trusted_hosts=["jan.local"]), "jan-secret",
     "auth.forbidden", "GET /v1/models", "Invalid host header", "Trusted Hosts"),
    ("textgen host guard", lambda: fakes.textgen(allowed_hosts=["localhost"]), None,
     "auth.forbidden", "GET /v1/models", "Invalid host header", "--listen"),
    ("textgen wrong key", lambda: fakes.textgen(api_key="right"), "wrong", "auth.invalid_key",
     "GET /v1/models", "Unauthorized", "--api-key"),
    ("unknown server guarding completions only", lambda: fakes.generic_openai(api_key="right",
     guard_completions_only=True), None, "auth.missing_key", "POST /v1/chat/completions", "bad key",
     ""),
    ("unknown server, right key", lambda: fakes.generic_openai(api_key="right",
     guard_completions_only=True), "right", "auth.ok", "POST /v1/chat/completions", "", ""),
    ("unknown server, no auth", fakes.generic_openai, None, "auth.ok", "POST /v1/chat/completions",
     "", ""),
]  # fmt: skip


@pytest.mark.parametrize(
    ("factory", "key", "code", "request_", "quoted", "fixed"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_auth_diagnosis(
    factory: Callable[[], Server],
    key: str | None,
    code: str,
    request_: str,
    quoted: str,
    fixed: str,
) -> None:
    found = run(factory(), key)
    assert codes(found) == [code]
    finding = found[0]
    assert finding.evidence["request"] == request_
    assert quoted in finding.evidence.get("server_message", "")
    assert fixed in finding.fix
    if code == "auth.missing_key":
        assert ".security.yml model_list.local.api_keys" in finding.fix
        assert "config.json model_list[0].api_keys" in finding.fix
    if code == "auth.invalid_key":
        assert finding.evidence["key_source"] == KEY_SOURCE
        assert finding.evidence["key_shape"] == Secret(key or "").fingerprint()
        assert key not in str(finding.evidence) + finding.summary + finding.detail
    expected = {"auth.ok": Severity.OK, "auth.key_not_needed": Severity.INFO}
    assert finding.severity is expected.get(code, Severity.ERROR)


def test_without_and_with_key_are_both_sent_and_the_key_only_once_needed() -> None:
    server = fakes.vllm(api_key="right")
    run(server, "wrong")
    probes = [(s.path, fakes.bearer(s)) for s in server.seen if s.path == "/v1/models"]
    assert ("/v1/models", None) in probes and ("/v1/models", "wrong") in probes


def test_the_empty_completion_probe_cannot_generate() -> None:
    server = fakes.generic_openai()
    run(server, None)
    (post,) = [s for s in server.seen if s.method == "POST"]
    assert post.json() == {"model": "m", "messages": [], "max_tokens": 1}


def test_a_request_that_reaches_openai_says_so() -> None:
    found = run(fakes.openai_cloud(), None)
    finding = by_code(found, "auth.missing_key")
    assert finding.summary.startswith("The request reaches OpenAI")
    assert finding.evidence["reached_openai"] is True
    assert "config.json model_list[0].api_base" in finding.fix and "lmstudio/" in finding.fix

    finding = by_code(run(fakes.openai_cloud(), "lm-studio"), "auth.invalid_key")
    assert finding.evidence["reached_openai"] is True


def test_the_key_never_follows_a_redirect_to_another_port() -> None:
    elsewhere = fakes.lmstudio()
    with elsewhere:
        moved = Reply(302, b"", {"Location": elsewhere.url + "/v1/models"})
        front = Server({"GET /v1/models": moved})
        with front:
            diagnose(target(front, "sk-lm-secretkey99"), only=["auth"])
    assert any(fakes.bearer(s) == "sk-lm-secretkey99" for s in front.seen)
    assert elsewhere.seen, "the redirect was followed"
    assert all(fakes.header(s, "authorization") is None for s in elsewhere.seen)


def test_ollama_hidden_behind_a_proxy_gets_the_proxy_advice() -> None:
    server = fakes.ollama(proxy_key="p")
    with server:
        found = diagnose(target(server, None, provider="ollama"), only=["auth"])
    finding = by_code(found, "auth.missing_key")
    assert "reverse proxy" in finding.fix
    assert finding.evidence["server_message"] == "an HTML page titled “401 Authorization Required”"
