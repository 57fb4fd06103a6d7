"""Fake LiteLLM proxy (llm-servers.md §7)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fakes.common import _guard, bearer
from loopback import Reply, Route, Seen, Server

# -- §7 LiteLLM proxy -------------------------------------------------------------------------

LITELLM_NO_KEY = {
    "error": {
        "message": "Authentication Error, No api key passed in.",
        "type": "auth_error",
        "param": "None",
        "code": "401",
    }
}


def litellm_wrong_key(status: int = 401) -> dict[str, Any]:
    return {
        "error": {
            "message": "Authentication Error, Invalid proxy server token passed. "
            "key=88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b, "
            "not found in db. Create key via `/key/generate` call.",
            "type": "token_not_found_in_db",
            "param": "key",
            "code": str(status),
        }
    }


def litellm(
    models: Iterable[str] = ("gpt-4o-mini", "local-llama"),
    *,
    master_key: str | None = None,
    wrong_key_status: int = 401,
) -> Server:
    """LiteLLM proxy: string code "401", constant created, /health/liveliness (§7)."""
    data = [
        {"id": m, "object": "model", "created": 1677610602, "owned_by": "openai"} for m in models
    ]
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, {"data": data, "object": "list"}),
        "GET /models": Reply(200, {"data": data, "object": "list"}),
        "POST /v1/chat/completions": Reply(500, {"error": {"message": "a fake never generates"}}),
    }

    def deny(seen: Seen) -> Reply:
        if bearer(seen) is None:
            return Reply(401, LITELLM_NO_KEY)
        return Reply(wrong_key_status, litellm_wrong_key(wrong_key_status))

    routes = {
        **_guard(routes, master_key, deny),
        "GET /health/liveliness": Reply(200, "I'm alive!"),
        "GET /health/readiness": Reply(
            200, {"status": "healthy", "db": "connected", "litellm_version": "1.74.3"}
        ),
    }
    return Server(routes, default=Reply(404, {"detail": "Not Found"}), server_header="uvicorn")
