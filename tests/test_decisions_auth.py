"""Auth verdicts (checks/auth.py) that no other test pinned (issue 17: mutation testing). Each
case runs the auth check against a real loopback server (tests/fakes/ cite their sources; the
unrecognised servers here are bare gateways) and asserts code, severity, fix and evidence."""

from __future__ import annotations

from decisions import check

import fakes
from lmdoctor.findings import Severity
from loopback import Reply, Server

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
    assert finding.evidence["status_without_key"] == 500
