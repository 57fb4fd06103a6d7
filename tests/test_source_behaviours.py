"""Behaviours found by reading each server's real source (issue 11), on loopback fakes that
cite it: LiteLLM without a database, llama-server's --api-prefix and router mode, servers that
answer any model id, LM Studio 0.3's silent context, LocalAI's exact names."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

import fakes
from conftest import by_code, codes, diagnose
from lmdoctor.findings import Finding, Severity
from lmdoctor.redact import Secret
from lmdoctor.target import Target
from loopback import Reply, Seen, Server

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
    assert by_code(found, "auth.ok").evidence["request"] == "GET /llm/props"
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


@pytest.mark.usefixtures("patient_sse")
def test_router_model_loading_now() -> None:
    server = fakes.llamacpp(router={"smol": ("loading", None)})
    finding = by_code(run(server, "smol"), "model.loading")
    assert finding.severity is Severity.WARN


def test_router_sleeping_model_wakes_on_the_next_request() -> None:
    # server-models.cpp:1443-1445: a sleeping child keeps running and the next request wakes it
    # (also with --no-models-autoload: :1871, sleeping counts as running, server-models.h:94-96).
    for autoload in (True, False):
        server = fakes.llamacpp(router={"smol": ("sleeping", 2048)}, autoload=autoload)
        found = run(server, "smol")
        finding = by_code(found, "model.sleeping")
        assert finding.severity is Severity.INFO
        assert "next request wakes it" in finding.summary
        assert "waits while it is loaded again (up to roughly 0 s" not in finding.detail
        assert "prompt cache is gone" in finding.detail and "not refused" in finding.detail
        assert "--sleep-idle-seconds" in finding.fix
        assert "model.not_loaded" not in codes(found) and errors(found) == []


def test_a_slow_wake_is_a_warning() -> None:
    # 144 MB wakes fast; a 60 GB model's reload may outlast PicoClaw's request_timeout.
    server = fakes.llamacpp(router={"big": ("sleeping", 8192)})
    listed = server.routes["GET /v1/models"]

    def sized(seen: Seen) -> Reply:
        reply = listed(seen) if callable(listed) else listed
        reply.body["data"][0]["meta"]["size"] = 60_000_000_000
        return reply

    server.routes["GET /v1/models"] = sized
    finding = by_code(run(server, "big"), "model.sleeping")
    assert finding.severity is Severity.WARN and "request_timeout above" in finding.fix
    assert "60.0 GB" in finding.detail


def test_single_model_asleep_is_named_and_lmdoctor_does_not_wake_it() -> None:
    # /props answers from the snapshot with is_sleeping true (server-context.cpp:4785-4796);
    # lmdoctor's key probe is GET /props, so nothing it sends wakes the model (POST /tokenize
    # would: server_res_generator waits for the reload, :4212-4218).
    for key in (None, "k"):
        server = fakes.llamacpp("smol", api_key=key, sleeping=True)
        found = run(server, "smol", key)
        assert by_code(found, "model.sleeping").severity is Severity.INFO
        assert by_code(found, "auth.ok")
        assert not [
            s
            for s in server.seen
            if s.path.split("?")[0] not in ("/props", "/v1/models", "/health", "/", "/models")
        ]


@pytest.mark.usefixtures("patient_sse")
def test_router_loading_names_its_progress() -> None:
    # The load progress is only in the router's event stream: "status_change" {status,
    # progress: {stages, current, value}} (server-models.cpp:1286-1322; server-context.cpp:960-982).
    load = {"stages": ["text_model"], "current": "text_model", "value": 0.625}
    events = [
        {"model": "smol", "event": "status_change", "data": {"status": "loading", "progress": load}}
    ]
    server = fakes.llamacpp(router={"smol": ("loading", None)}, events=events)
    finding = by_code(run(server, "smol"), "model.loading")
    assert finding.summary.endswith("right now (loading text_model: 62%)")
    assert finding.evidence["progress"] == "loading text_model: 62%"


@pytest.mark.usefixtures("patient_sse")
def test_router_downloading_names_its_progress() -> None:
    files = {"https://hf.example/a.gguf": {"done": 1_500_000_000, "total": 3_000_000_000}}
    events = [{"model": "smol", "event": "download_progress", "data": {"progress": files}}]
    server = fakes.llamacpp(router={"smol": ("downloading", None)}, events=events)
    finding = by_code(run(server, "smol"), "model.loading")
    assert "(downloading: 50% of 3.0 GB)" in finding.summary


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


# -- Host guards and key comparisons ------------------------------------------------------------


def reverse_proxy(upstream: Server, host: str) -> Server:
    """A reverse proxy on loopback that passes its public name upstream as the Host header (as
    nginx's `proxy_set_header Host $host` does)."""

    def forward(seen: Seen) -> Reply:
        conn = http.client.HTTPConnection(upstream.host, upstream.port, timeout=5)
        headers = {k: v for k, v in seen.headers.items() if k.lower() != "host"}
        headers["Host"] = host
        conn.request(seen.method, seen.path, body=seen.body or None, headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        conn.close()
        kept = {k: v for k, v in answer.getheaders() if k.lower() == "content-type"}
        return Reply(answer.status, body, kept)

    return Server({}, default=forward, server_header="nginx/1.24.0")


def ollama_target(server: Server) -> Target:
    return Target(
        name="local",
        provider="ollama",
        api_base=server.url + "/v1",
        model="ollama/llama3.2",
        model_id="llama3.2",
    )


def test_ollama_behind_a_proxy_passing_its_public_host_is_the_host_guard() -> None:
    upstream = fakes.ollama()
    with upstream, reverse_proxy(upstream, "llm.example.com") as proxy:
        found = diagnose(ollama_target(proxy))
    finding = by_code(found, "auth.forbidden")
    assert finding.summary == "Ollama refuses the request because of the Host header"
    assert "(empty body)" in finding.detail and "Host header is not local" in finding.detail
    assert "proxy_set_header Host localhost:11434" in finding.fix
    assert "OLLAMA_HOST=0.0.0.0:11434" in finding.fix and "OLLAMA_ORIGINS does not" in finding.fix
    assert "key" not in finding.summary.lower()
    assert upstream.seen and all(s.headers.get("Host") == "llm.example.com" for s in upstream.seen)


@pytest.mark.parametrize("host", ["localhost:11434", "127.0.0.1:11434", "ollama.internal"])
def test_ollama_behind_a_proxy_passing_a_local_host_is_healthy(host: str) -> None:
    upstream = fakes.ollama()
    with upstream, reverse_proxy(upstream, host) as proxy:
        found = diagnose(ollama_target(proxy))
    assert errors(found) == [] and by_code(found, "model.ok")


def test_lmdoctor_itself_sends_the_url_host_which_ollama_accepts() -> None:
    server = fakes.ollama()
    with server:
        found = diagnose(ollama_target(server))
    assert errors(found) == []
    assert {s.headers.get("Host") for s in server.seen} == {f"127.0.0.1:{server.port}"}


def test_tgi_compares_the_key_ignoring_case() -> None:
    # router/src/server.rs:2225 lowercases both sides: the client's key works as it is.
    server = fakes.tgi(api_key="hf_SecretKey")
    assert by_code(run(server, "tgi", "HF_SECRETKEY"), "auth.ok")
    assert "auth.invalid_key" in codes(run(fakes.tgi(api_key="hf_SecretKey"), "tgi", "hf_other"))


def test_jan_newer_accepts_x_api_key_and_words_both_refusals_alike() -> None:
    server = fakes.jan(api_key="jan-secret", newer=True)
    with server:
        conn = http.client.HTTPConnection(server.host, server.port, timeout=5)
        conn.request("GET", "/v1/models", headers={"X-Api-Key": "jan-secret"})
        assert conn.getresponse().status == 200
        conn.close()
    assert by_code(run(fakes.jan(newer=True), "Jan-nano-gguf", "jan-secret"), "auth.ok")
    missing = by_code(run(fakes.jan(newer=True), "Jan-nano-gguf"), "auth.missing_key")
    assert "Invalid or missing authorization token" in missing.detail
    wrong = by_code(run(fakes.jan(newer=True), "Jan-nano-gguf", "jan-wrong"), "auth.invalid_key")
    assert "Invalid or missing authorization token" in wrong.detail
