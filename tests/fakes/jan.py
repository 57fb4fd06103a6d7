"""Fake Jan (llm-servers.md §10).

Sources: janhq/jan src-tauri/src/core/server/proxy.rs@e78b82eb3e12a6e3464ea74c3904c53cb859fc5c
(proxy_request; the snapshot holds an unresolved merge with
e49d51786081e89f4d262e710160cdbef16ba6a5)
- Whitelisted (no Host check, no key): "/", "/openapi.json", "/favicon.ico", swagger assets.
- Host guard first: 403 text "Invalid host header" (no Host: 400 "Missing host header").
- Key (when set): no header → 401 "Missing authorization header"; wrong → 401 "Invalid or
  missing authorization token" (newer side: both the latter; X-Api-Key also accepted).
- GET /models: running sessions only, created 1, owned_by "user"; POST chat with none running:
  503 "No models are available"; unknown id: 404 "No running session found for model 'X'".
"""

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
    newer: bool = False,
) -> Server:
    """Jan's Local API Server proxy: key mandatory, plain-text errors, Host guard (§10).
    `newer`: the e49d5178 side of proxy_request's key check (X-Api-Key accepted as well as
    Authorization: Bearer; one 401 wording for a missing and a wrong key)."""
    data = [{"id": m, "object": "model", "created": 1, "owned_by": "user"} for m in models]
    trusted = None if trusted_hosts is None else set(trusted_hosts)

    def gate(route: Route) -> Route:
        def handle(seen: Seen) -> Reply:
            host = (header(seen, "host") or "").rsplit(":", 1)[0]
            if trusted is not None and host not in trusted:
                return Reply(403, "Invalid host header")
            given = bearer(seen)
            if newer:
                # e49d5178: `auth_valid` (Authorization stripped of "Bearer ") or
                # `api_key_valid` (X-Api-Key, exact); neither → one 401 for both cases
                if given != api_key and header(seen, "x-api-key") != api_key:
                    return Reply(401, "Invalid or missing authorization token")
                return route(seen) if callable(route) else route
            # e78b82eb (HEAD side): only Authorization, exactly "Bearer " + key
            if given is None:
                return Reply(401, "Missing authorization header")
            if given != api_key:
                return Reply(401, "Invalid or missing authorization token")
            return route(seen) if callable(route) else route

        return handle

    docs = "<!doctype html><html><head><title>API Docs</title></head><body>swagger</body></html>"
    routes: dict[str, Route] = {  # proxy_request's `match (method, destination_path)` arms
        "GET /": Reply(200, docs, {"Content-Type": "text/html"}),  # (GET, "/"): "API Docs"
        "GET /openapi.json": Reply(200, {"openapi": "3.0.0"}),  # (GET, "/openapi.json")
        "GET /v1/models": gate(Reply(200, _openai_list(data))),  # (GET, "/models")
        # (POST, "/chat/completions") with no running session
        "POST /v1/chat/completions": gate(Reply(503, "No models are available")),
    }
    return Server(routes, default=gate(Reply(404, "Not Found")))
