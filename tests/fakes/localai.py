"""Fake LocalAI (llm-servers.md §9)."""

from __future__ import annotations

from collections.abc import Iterable

from fakes.common import _guard, _openai_list
from loopback import Reply, Route, Seen, Server

# -- §9 LocalAI ---------------------------------------------------------------------------------


def localai(
    models: Iterable[str] = ("llama-3.2-1b-instruct:q4_k_m",),
    *,
    api_key: str | None = None,
    ollama_root: bool = True,
) -> Server:
    """LocalAI, imitating Ollama at / and /api/* (§9): only /readyz and /.well-known tell."""
    names = list(models)
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, _openai_list([{"id": n, "object": "model"} for n in names])),
        "GET /api/version": Reply(200, {"version": "0.9.0"}),
        "GET /api/tags": Reply(
            200, {"models": [{"name": n, "model": n, "size": 1} for n in names]}
        ),
        "GET /version": Reply(200, {"version": "v3.4.0"}),
    }
    if ollama_root:
        routes["GET /"] = Reply(200, "Ollama is running")

    def deny(seen: Seen) -> Reply:
        return Reply(
            401,
            {
                "error": {
                    "code": 401,
                    "message": "An authentication key is required",
                    "type": "invalid_request_error",
                }
            },
            {"WWW-Authenticate": "Bearer"},
        )

    public = {
        "GET /readyz": Reply(200, "OK"),
        "GET /healthz": Reply(200, "OK"),
        "GET /.well-known/localai.json": Reply(200, {"endpoints": ["/metrics", "/system"]}),
    }
    return Server(
        {**_guard(routes, api_key, deny), **public}, default=Reply(404, {"error": "not found"})
    )
