"""Fake Jan (llm-servers.md §10)."""

from __future__ import annotations

from collections.abc import Iterable

from fakes.common import _openai_list, bearer, header
from loopback import Reply, Route, Seen, Server

# -- §10 Jan ----------------------------------------------------------------------------------


def jan(
    models: Iterable[str] = ("Jan-nano-gguf",),
    *,
    api_key: str = "jan-secret",
    trusted_hosts: Iterable[str] | None = None,
) -> Server:
    """Jan's Local API Server proxy: key mandatory, plain-text errors, Host guard (§10)."""
    data = [{"id": m, "object": "model", "created": 1, "owned_by": "user"} for m in models]
    trusted = None if trusted_hosts is None else set(trusted_hosts)

    def gate(route: Route) -> Route:
        def handle(seen: Seen) -> Reply:
            host = (header(seen, "host") or "").rsplit(":", 1)[0]
            if trusted is not None and host not in trusted:
                return Reply(403, "Invalid host header")
            given = bearer(seen)
            if given is None:
                return Reply(401, "Missing authorization header")
            if given != api_key:
                return Reply(401, "Invalid or missing authorization token")
            return route(seen) if callable(route) else route

        return handle

    docs = "<!doctype html><html><head><title>API Docs</title></head><body>swagger</body></html>"
    routes: dict[str, Route] = {
        "GET /": Reply(200, docs, {"Content-Type": "text/html"}),
        "GET /openapi.json": Reply(200, {"openapi": "3.0.0"}),
        "GET /v1/models": gate(Reply(200, _openai_list(data))),
        "POST /v1/chat/completions": gate(Reply(503, "No models are available")),
    }
    return Server(routes, default=gate(Reply(404, "Not Found")))
