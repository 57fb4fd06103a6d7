"""Fake LiteLLM proxy (llm-servers.md §7).

Sources: litellm 1.108.7 (PyPI; the proxy tests/integration runs) for the routes:
litellm/proxy/proxy_server.py and proxy/health_endpoints/_health_endpoints.py (lines below);
litellm 1.110.2 (PyPI wheel) where a body says so.
"""

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


# litellm 1.110.2 (PyPI) litellm/proxy/auth/user_api_key_auth.py:3113-3121: a key that is not
# the master key, with no database connected; rendered by proxy_server.py:2345-2365 (the code is
# a string: _types.py:3928). Seen as is from the real 1.108.7 proxy (tests/integration).
LITELLM_NO_DB = {
    "error": {
        "message": "No connected db.",
        "type": "no_db_connection",
        "param": None,
        "code": "400",
    }
}


def litellm(
    models: Iterable[str] = ("gpt-4o-mini", "local-llama"),
    *,
    master_key: str | None = None,
    wrong_key_status: int = 401,
    database: bool = True,
) -> Server:
    """LiteLLM proxy: string code "401", constant created, /health/liveliness (§7).
    `database=False`: started with a master key and no database, the way most people start
    it: a wrong key gets 400 "No connected db." and no key a plain-text 500 (the real proxy,
    litellm 1.108.7: its auth error handler imports prisma, which is not installed)."""
    data = [
        {"id": m, "object": "model", "created": 1677610602, "owned_by": "openai"} for m in models
    ]
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, {"data": data, "object": "list"}),  # proxy_server.py:11835
        "GET /models": Reply(200, {"data": data, "object": "list"}),  # proxy_server.py:11837
        # proxy_server.py:12255 (a fake never generates)
        "POST /v1/chat/completions": Reply(500, {"error": {"message": "a fake never generates"}}),
    }

    def deny(seen: Seen) -> Reply:
        if bearer(seen) is None:
            if not database:
                return Reply(500, "Internal Server Error")
            return Reply(401, LITELLM_NO_KEY)  # user_api_key_auth.py:2863-2869 (1.110.2)
        if not database:
            return Reply(400, LITELLM_NO_DB)
        return Reply(wrong_key_status, litellm_wrong_key(wrong_key_status))

    routes = {
        **_guard(routes, master_key, deny),
        "GET /health/liveliness": Reply(200, "I'm alive!"),  # _health_endpoints.py:2065-2068
        # _health_endpoints.py:1958-1961 (1.110.2: :2215-2236)
        "GET /health/readiness": Reply(
            200,
            {
                "status": "healthy",
                "db": "connected" if database else "Not connected",
                "litellm_version": "1.74.3",
            },
        ),
    }
    return Server(routes, default=Reply(404, {"detail": "Not Found"}), server_header="uvicorn")
