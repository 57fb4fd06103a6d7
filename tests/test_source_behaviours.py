"""Behaviours found by reading each server's real source (issue 11), on loopback fakes that
cite it: LiteLLM without a database, llama-server's --api-prefix and router mode, servers that
answer any model id, LM Studio 0.3's silent context, LocalAI's exact names."""

from __future__ import annotations

from pathlib import Path

import pytest

import fakes
from conftest import by_code, codes, diagnose
from lmdoctor.findings import Finding, Severity
from lmdoctor.redact import Secret
from lmdoctor.target import Target
from loopback import Reply, Server

CONFIG = Path("/home/user/.picoclaw/config.json")
MASTER = "sk-master-0123456789"


def target(server: Server, model_id: str, key: str | None = None, path: str = "/v1") -> Target:
    return Target(
        name="local",
        provider="openai",
        api_base=server.url + path,
        model=f"openai/{model_id}",
        model_id=model_id,
        api_key=Secret(key) if key else None,
        config_path=CONFIG,
        entry="model_list[0]",
        sources={"api_key": "config.json model_list[0].api_keys", "model": "config.json"},
    )


def run(server: Server, model_id: str, key: str | None = None, path: str = "/v1") -> list[Finding]:
    with server:
        found = diagnose(target(server, model_id, key, path))
    assert fakes.generated(server) == []
    return found


def errors(found: list[Finding]) -> list[str]:
    return codes(found, Severity.ERROR)


# -- LiteLLM with a master key and no database -------------------------------------------------


def test_litellm_no_db_master_key_is_healthy() -> None:
    found = run(fakes.litellm(("smollm2",), master_key=MASTER, database=False), "smollm2", MASTER)
    assert by_code(found, "auth.ok") and by_code(found, "model.ok")
    assert errors(found) == []


def test_litellm_no_db_without_a_key_is_a_missing_key_not_a_server_error() -> None:
    found = run(fakes.litellm(("smollm2",), master_key=MASTER, database=False), "smollm2")
    finding = by_code(found, "auth.missing_key")
    assert "plain-text 500" in finding.detail and "master_key" in finding.detail
    assert "http.server_error" not in codes(found)


def test_litellm_no_db_wrong_key_is_not_the_master_key() -> None:
    server = fakes.litellm(("smollm2",), master_key=MASTER, database=False)
    found = run(server, "smollm2", "sk-some-virtual-key-0000")
    finding = by_code(found, "auth.invalid_key")
    assert "not the proxy's master key" in finding.detail
    assert "without a database" in finding.detail
    assert "No connected db." in finding.evidence["server_message"]
    assert "http.bad_response" not in codes(found)


def test_a_keyless_5xx_then_the_key_works_is_auth_ok() -> None:
    # Neither a refusal nor a success without a key: the configured key decides.
    server = fakes.generic_openai(("m",), api_key="right")
    deny = server.routes["GET /v1/models"]

    def models(seen):  # type: ignore[no-untyped-def]
        if fakes.bearer(seen) is None:
            return Reply(500, "Internal Server Error")
        return deny(seen) if callable(deny) else deny

    server.routes["GET /v1/models"] = models
    found = run(server, "m", "right")
    finding = by_code(found, "auth.ok")
    assert "HTTP 500" in finding.evidence["without_key"]


# -- llama-server ------------------------------------------------------------------------------


def test_api_prefix_with_key_is_no_false_error() -> None:
    server = fakes.llamacpp("smol", api_key="k", api_prefix="/llm")
    found = run(server, "smol", "k", path="/llm/v1")
    assert by_code(found, "auth.ok").evidence["request"] == "POST /llm/tokenize"
    assert errors(found) == []


def test_api_prefix_without_key() -> None:
    server = fakes.llamacpp("smol", api_key="k", api_prefix="/llm")
    found = run(server, "smol", path="/llm/v1")
    assert "auth.missing_key" in codes(found)


def router(**kw: object) -> Server:
    return fakes.llamacpp(
        router={"smol": ("loaded", 2048), "lazy": ("unloaded", None), "broken": ("unloaded", None)},
        aliases={"smol": ["smol-a", "smol-b"]},
        **kw,  # type: ignore[arg-type]
    )


def test_router_alias_is_served() -> None:
    found = run(router(), "smol-b")
    assert "listed as `smol`" in by_code(found, "model.ok").summary
    assert errors(found) == []


def test_router_loads_on_first_request() -> None:
    finding = by_code(run(router(), "lazy"), "model.not_loaded")
    assert finding.severity is Severity.WARN and "first request" in finding.detail


def test_router_without_autoload_fails_until_loaded() -> None:
    finding = by_code(run(router(autoload=False), "lazy"), "model.not_loaded")
    assert finding.severity is Severity.ERROR and "/models/load" in finding.fix


def test_router_failed_load_names_the_exit_code() -> None:
    finding = by_code(run(router(failed={"broken": 1}), "broken"), "model.not_loaded")
    assert finding.severity is Severity.ERROR and "exit code 1" in finding.summary
    assert finding.evidence["exit_code"] == 1


def test_router_model_loading_now() -> None:
    server = fakes.llamacpp(router={"smol": ("loading", None)})
    finding = by_code(run(server, "smol"), "model.loading")
    assert finding.severity is Severity.WARN


def test_router_context_is_the_models_own() -> None:
    # A router's /props is a dummy with n_ctx 0: the loaded model's meta.n_ctx counts.
    found = run(router(), "smol")
    assert by_code(found, "model.context_too_small").evidence["loaded_context"] == 2048


# -- servers that answer any model id ----------------------------------------------------------


@pytest.mark.parametrize(
    ("factory", "served"),
    [
        (
            lambda: fakes.sglang("meta-llama/Llama-3.1-8B-Instruct"),
            "meta-llama/Llama-3.1-8B-Instruct",
        ),
        (
            lambda: fakes.textgen("Qwen2.5-7B-Instruct-Q4_K_M.gguf"),
            "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        ),
    ],
)
def test_a_typo_is_a_mismatch_where_any_id_is_served(factory, served: str) -> None:  # type: ignore[no-untyped-def]
    found = run(factory(), "some-typo")
    finding = by_code(found, "model.mismatch")
    assert served in finding.summary
    assert "model.not_found" not in codes(found)


def test_textgen_is_identified_without_loader() -> None:
    found = run(fakes.textgen(), "Qwen2.5-7B-Instruct-Q4_K_M.gguf")
    assert by_code(found, "server.identified").evidence["kind"] == "textgen"


# -- context and names ---------------------------------------------------------------------------


def test_lmstudio_03_context_cannot_be_checked() -> None:
    server = fakes.lmstudio(loaded={"qwen/qwen3-8b": 4096}, api="0.3")
    finding = by_code(run(server, "qwen/qwen3-8b"), "model.context_unknown")
    assert finding.severity is Severity.INFO and "/api/v0/models" in finding.detail


def test_localai_wants_the_exact_name() -> None:
    found = run(fakes.localai(("llama-3.2-1b-instruct",)), "llama-3.2-1b-instruct:latest")
    assert "model.not_found" in codes(found)
