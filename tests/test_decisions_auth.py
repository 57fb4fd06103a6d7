"""Auth verdicts (checks/auth.py) that no other test pinned (issue 17: mutation testing). Each
case runs the auth check against a real loopback server (tests/fakes/ cite their sources; the
unrecognised servers here are bare gateways) and asserts code, severity, fix and evidence."""

from __future__ import annotations

import threading

import pytest
from decisions import KEY_SOURCE, check, target

import fakes
from conftest import SHORT
from lmdoctor.findings import Severity
from loopback import Reply, Seen, Server

# -- checks/auth.py ----------------------------------------------------------------------------


def unknown_server(completions: Reply) -> Server:
    """An unrecognised OpenAI-compatible server with an open model list whose completions
    answer `completions` (a gateway in front of some backend: any status, any message)."""
    server = fakes.generic_openai(("m",))
    server.routes["POST /v1/chat/completions"] = completions
    return server


def test_a_refusal_message_of_200_characters_is_quoted_whole_and_a_longer_one_cut() -> None:
    whole = "k" * 199 + "."
    (finding,) = check(unknown_server(Reply(401, {"error": {"message": whole}})), only="auth")
    assert finding.code == "auth.missing_key"
    assert finding.evidence["server_message"] == whole

    longer = "k" * 200 + "."
    (finding,) = check(unknown_server(Reply(401, {"error": {"message": longer}})), only="auth")
    assert finding.evidence["server_message"] == "k" * 200 + "…"

    # a JSON refusal without a message is quoted from its start, cut at 200 characters
    (finding,) = check(unknown_server(Reply(401, {"items": ["y" * 300]})), only="auth")
    assert finding.evidence["server_message"] == '{"items": ["' + "y" * 188 + "…"

    # a plain-text refusal is quoted from its start, cut at 200 characters as well
    (finding,) = check(unknown_server(Reply(401, "no " * 100)), only="auth")
    assert finding.evidence["server_message"] == ("no " * 100)[:200] + "…"

    # LM Studio's refusal is longer (tests/fakes/lmstudio.py, opencode-lmstudio#41)
    (finding,) = check(fakes.lmstudio(token="sk-lm-right123"), only="auth")
    message = fakes.LMSTUDIO_NO_TOKEN["error"]["message"]
    assert finding.evidence["server_message"] == message[:200] + "…"
    assert f"“{message[:200]}…”" in finding.detail


def test_a_5xx_on_the_key_probe_is_a_server_error_not_a_key_verdict() -> None:
    (finding,) = check(unknown_server(Reply(500, "Internal Server Error")), only="auth")
    assert (finding.code, finding.severity) == ("http.server_error", Severity.ERROR)
    assert finding.summary == (
        "The key check failed: POST /v1/chat/completions → HTTP 500: Internal Server Error"
    )
    assert finding.detail == (
        "An OpenAI-compatible server answered neither a refusal nor a success."
    )
    assert finding.evidence == {
        "request": "POST /v1/chat/completions",
        "status_without_key": 500,
        "server": "openai-compatible",
        "url": finding.evidence["url"],
        "body": "Internal Server Error",
    }
    assert finding.evidence["url"].endswith("/v1/chat/completions")


def test_no_answer_to_the_key_probe_is_named_as_such() -> None:
    # a gateway that checks the key, then waits on its backend until the test ends (far beyond
    # SHORT's 1.5-s read timeout)
    server = fakes.generic_openai(("m",), api_key="right", guard_completions_only=True)
    guarded = server.routes["POST /v1/chat/completions"]
    done = threading.Event()

    def completions(seen: Seen) -> Reply:
        if fakes.bearer(seen) == "right":
            done.wait(60)
        return guarded(seen) if callable(guarded) else guarded

    server.routes["POST /v1/chat/completions"] = completions
    try:
        (finding,) = check(server, key="right", only="auth", settings=SHORT)
    finally:
        done.set()
    assert (finding.code, finding.severity) == ("http.no_answer", Severity.ERROR)
    assert finding.summary == "The key check failed: POST /v1/chat/completions → no answer"
    assert finding.evidence["body"] is None and finding.evidence["status_with_key"] is None


def test_a_plain_403_is_forbidden_not_a_key_problem() -> None:
    message = "Your region is not supported"
    (finding,) = check(unknown_server(Reply(403, {"error": {"message": message}})), only="auth")
    assert (finding.code, finding.severity) == ("auth.forbidden", Severity.ERROR)
    assert finding.summary == "An OpenAI-compatible server refuses the request (HTTP 403)"
    assert finding.fix == "Use the key this server was configured with."
    assert finding.detail.startswith(
        f"It answers POST /v1/chat/completions with HTTP 403: “{message}”. A refusal like this"
    )


def test_a_missing_key_shows_exactly_what_was_asked_and_answered() -> None:
    # TGI: /tokenize guarded, EMPTY 401 (router/src/server.rs:2203-2236 @db931fcf)
    server = fakes.tgi(api_key="right")
    (finding,) = check(server, target(server, config=False), only="auth")
    assert (finding.code, finding.severity) == ("auth.missing_key", Severity.ERROR)
    assert finding.summary == "Hugging Face TGI wants an API key and none is configured"
    assert finding.detail == (
        "It answers POST /tokenize with HTTP 401 (empty body). PicoClaw sends no Authorization "
        "header when the entry has no key."
    )
    assert finding.fix == (
        "Put the key in --api-key (or $LMDOCTOR_API_KEY). The key is the `--api-key` given to "
        "text-generation-launcher. Or restart the launcher without --api-key."
    )
    assert finding.evidence == {
        "request": "POST /tokenize",
        "status_without_key": 401,
        "server": "tgi",
        "server_message": "",
        "reached_openai": False,
    }


def test_the_openai_cloud_without_a_config_names_the_url() -> None:
    server = fakes.openai_cloud()
    (finding,) = check(server, target(server, config=False), only="auth")
    assert finding.code == "auth.missing_key"
    assert "set the URL to it" in finding.fix and "--api-key (or $LMDOCTOR_API_KEY)" in finding.fix


def test_a_backend_failing_behind_the_key_is_a_server_error() -> None:
    # a gateway that checks the key, then its backend fails (502): the key itself was accepted
    server = fakes.generic_openai(("m",), api_key="right", guard_completions_only=True)
    guarded = server.routes["POST /v1/chat/completions"]

    def completions(seen: Seen) -> Reply:
        if fakes.bearer(seen) == "right":
            return Reply(502, "Bad Gateway")
        return guarded(seen) if callable(guarded) else guarded

    server.routes["POST /v1/chat/completions"] = completions
    (finding,) = check(server, key="right", only="auth")
    assert (finding.code, finding.severity) == ("http.server_error", Severity.ERROR)
    assert (
        finding.summary == "The key check failed: POST /v1/chat/completions → HTTP 502: Bad Gateway"
    )
    assert (finding.evidence["status_without_key"], finding.evidence["status_with_key"]) == (
        401,
        502,
    )


@pytest.mark.parametrize("status", [404, 405])
def test_a_model_list_hidden_from_keyless_clients_is_no_open_door(status: int) -> None:
    # some gateways answer 404 (or 405) instead of 401 to clients without a key: the key decides
    server = fakes.generic_openai(("m",), api_key="right")
    listing = server.routes["GET /v1/models"]

    def models(seen: Seen) -> Reply:
        if fakes.bearer(seen) is None:
            return Reply(status, {"error": {"message": "Not Found"}})
        return listing(seen) if callable(listing) else listing

    server.routes["GET /v1/models"] = models
    (finding,) = check(server, key="right", only="auth")
    assert (finding.code, finding.summary) == (
        "auth.ok",
        "An OpenAI-compatible server accepts the configured key",
    )
    assert finding.evidence["without_key"] == f"HTTP {status}: Not Found"


@pytest.mark.parametrize("status", [404, 405])
def test_a_server_without_chat_completions_is_checked_on_its_model_list(status: int) -> None:
    # an embeddings-only server lists models but has no chat route: its list is the probe
    (finding,) = check(
        unknown_server(Reply(status, {"error": {"message": "Not Found"}})), only="auth"
    )
    assert (finding.code, finding.summary) == (
        "auth.ok",
        "An OpenAI-compatible server needs no key",
    )
    assert finding.evidence["request"] == "GET /v1/models"


@pytest.mark.parametrize(
    ("answer", "described"),
    [
        (Reply(404, {"error": {"message": "x " * 100}}), "HTTP 404: " + ("x " * 100)[:160]),
        (Reply(404, "y " * 100), "HTTP 404: " + ("y " * 100)[:160]),
        (Reply(404, {"items": ["y" * 200]}), f'HTTP 404: {{"items": ["{"y" * 108}…'),
        (Reply(404, b""), "HTTP 404 with an empty body"),
        (
            Reply(404, "<html><head><title>Not here</title></head></html>"),
            "HTTP 404 with an HTML page titled “Not here”",
        ),
    ],
)
def test_what_a_keyless_client_got_is_described_in_one_line(answer: Reply, described: str) -> None:
    server = fakes.generic_openai(("m",), api_key="right")
    listing = server.routes["GET /v1/models"]

    def models(seen: Seen) -> Reply:
        if fakes.bearer(seen) is None:
            return answer
        return listing(seen) if callable(listing) else listing

    server.routes["GET /v1/models"] = models
    (finding,) = check(server, key="right", only="auth")
    assert finding.evidence["without_key"] == described


@pytest.mark.parametrize("status", [404, 405])
def test_a_proxy_that_hides_the_key_probe_falls_back_to_the_model_list(status: int) -> None:
    # llama-server guards GET /props and /v1/models alike (tests/fakes/llamacpp.py); a reverse
    # proxy that forwards only /v1/* answers the rest 404 (or 405 where it routes by method)
    server = fakes.llamacpp(api_key="k")
    server.routes["GET /props"] = Reply(status, {"error": {"message": "Not Found"}})
    (finding,) = check(server, only="auth")
    assert (finding.code, finding.evidence["request"]) == ("auth.missing_key", "GET /v1/models")
    assert finding.evidence["server_message"] == "Invalid API Key"


def test_a_gateway_passing_on_openais_refusal_is_named_as_reaching_openai() -> None:
    # a gateway with an open model list forwards chat to OpenAI and passes its 401 on
    # (tests/fakes/openai.py OPENAI_NO_KEY: the body points to platform.openai.com)
    (finding,) = check(unknown_server(Reply(401, fakes.OPENAI_NO_KEY)), only="auth")
    assert finding.code == "auth.missing_key" and finding.evidence["reached_openai"] is True
    assert finding.summary == (
        "The request reaches OpenAI, which wants an API key and none is configured"
    )


def ollama_refusing(answer: Reply) -> Server:
    """What a client gets from Ollama when every route answers `answer` (nothing identifies the
    server; the entry's provider `ollama` names it)."""
    return Server({}, default=answer)


def test_ollamas_host_guard_is_explained_by_its_own_note_alone() -> None:
    # Ollama on loopback answers a non-local Host 403 with an EMPTY body before any route
    # (ollama/ollama@fb307609 server/routes.go:1803-1838 allowedHostsMiddleware), GET / too
    server = ollama_refusing(Reply(403, b""))
    (finding,) = check(server, target(server, "llama3.2", provider="ollama"), only="auth")
    assert (finding.code, finding.severity) == ("auth.forbidden", Severity.ERROR)
    assert finding.summary == "Ollama refuses the request because of the Host header"
    note = finding.evidence["server_note"]
    assert "Host header is not local" in note
    # the kind names the cause: no list of possible causes after it
    assert finding.detail == f"It answers GET /v1/models with HTTP 403 (empty body). {note}."
    assert finding.fix.startswith("Send a local Host: point api_base at http://localhost:11434/v1")


def test_a_403_with_a_message_in_front_of_ollama_is_no_host_guard() -> None:
    # a gateway in front of Ollama refusing with a message: Ollama's own guard sends no body
    # (routes.go:1803-1838), so its Host advice does not apply; the gateway's key does
    message = "Your region is not supported"
    server = ollama_refusing(Reply(403, {"error": {"message": message}}))
    (finding,) = check(server, target(server, "llama3.2", provider="ollama"), only="auth")
    assert (finding.code, finding.severity) == ("auth.forbidden", Severity.ERROR)
    assert finding.summary == "Ollama refuses the request (HTTP 403)"
    assert finding.detail == (
        f"It answers GET /v1/models with HTTP 403: “{message}”. A refusal like this is a "
        "Host-header guard, a region or scope restriction, or a key without access to this model."
    )
    assert finding.fix.startswith("Ollama itself checks no keys: this refusal comes from a reverse")
    assert "server_note" not in finding.evidence


def test_a_host_guard_without_a_note_of_its_kind_lists_the_possible_causes() -> None:
    # Jan answers an untrusted Host 403 "Invalid host header" (tests/fakes/jan.py, §10); its
    # kind adds no note, so the detail keeps the general list; the fix is Jan's Trusted Hosts
    server = fakes.jan(trusted_hosts=["jan.local"])
    t = target(server, "Jan-nano-gguf", key="jan-secret")
    (finding,) = check(server, t, only="auth")
    assert (finding.code, finding.severity) == ("auth.forbidden", Severity.ERROR)
    assert finding.summary == "Jan refuses the request because of the Host header"
    assert finding.detail == (
        "It answers GET /v1/models with HTTP 403: “Invalid host header”. A refusal like this is "
        "a Host-header guard, a region or scope restriction, or a key without access to this "
        "model."
    )
    assert finding.fix.endswith("Trusted Hosts (Jan refuses other Host headers).")
    # a Host guard refuses whatever the key: the check does not try it
    assert "status_with_key" not in finding.evidence


# -- lmdoctor/servers/answers.py: which answers are refusals (denial) ---------------------------


@pytest.mark.parametrize("status", [400, 500])
def test_a_400_or_500_naming_the_key_is_a_refusal(status: int) -> None:
    # gateways that answer a missing key with 400/500 and a message about the key (LiteLLM's
    # token_not_found_in_db, "No api key passed in."): a key verdict, not a broken server
    message = "Authentication Error, No api key passed in."
    (finding,) = check(unknown_server(Reply(status, {"error": {"message": message}})), only="auth")
    assert (finding.code, finding.severity) == ("auth.missing_key", Severity.ERROR)
    assert finding.evidence["status_without_key"] == status
    assert finding.evidence["server_message"] == message


def test_a_4xx_about_the_keys_credits_means_the_key_was_accepted() -> None:
    # a gateway out of credits answers 402 naming the key (OpenRouter's status for "insufficient
    # credits", openrouter.ai/docs/api-reference/errors): only 400/500 bodies are read for key
    # words, so the key is judged accepted and the 402 is left to the later checks
    server = fakes.generic_openai(("m",), api_key="right", guard_completions_only=True)
    guarded = server.routes["POST /v1/chat/completions"]

    def completions(seen: Seen) -> Reply:
        if fakes.bearer(seen) == "right":
            return Reply(402, {"error": {"message": "This API key has no credits left"}})
        return guarded(seen) if callable(guarded) else guarded

    server.routes["POST /v1/chat/completions"] = completions
    (finding,) = check(server, key="right", only="auth")
    assert (finding.code, finding.severity) == ("auth.ok", Severity.OK)
    assert finding.summary == "An OpenAI-compatible server accepts the configured key"
    assert (finding.evidence["status_without_key"], finding.evidence["status_with_key"]) == (
        401,
        402,
    )


def test_a_key_with_a_typographic_quote_is_sent_and_judged_by_the_server() -> None:
    # a key pasted with a closing quote (U+201D): Go's net/http sends a header value's bytes
    # >= 0x80 as they are (golang.org/x/net/http/httpguts ValidHeaderFieldValue), so PicoClaw's
    # request reaches vLLM, which compares the key (tests/fakes/vllm.py) and answers 401
    server = fakes.vllm(api_key="right")
    (finding,) = check(server, target(server, key="right\u201d"), only="auth")
    assert (finding.code, finding.severity) == ("auth.invalid_key", Severity.ERROR)
    assert finding.summary == f"vLLM rejects the configured key (from {KEY_SOURCE})"
    assert finding.evidence["status_with_key"] == 401
    assert any(fakes.header(s, "authorization") for s in server.seen)


def test_a_wrong_key_sent_to_openai_names_openai_as_the_one_that_rejects_it() -> None:
    # api.openai.com answers a wrong key 401 invalid_api_key (tests/fakes/openai.py, §13)
    server = fakes.openai_cloud()
    (finding,) = check(server, target(server, "gpt-4o", key="sk-proj-wrongwrong"), only="auth")
    assert (finding.code, finding.severity) == ("auth.invalid_key", Severity.ERROR)
    assert finding.summary == (
        f"The request reaches OpenAI, which rejects the configured key (from {KEY_SOURCE})"
    )
    assert finding.evidence["reached_openai"] is True
    assert finding.fix.startswith(f"Replace the key in {KEY_SOURCE}. The request reaches OpenAI")
