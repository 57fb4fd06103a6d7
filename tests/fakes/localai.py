"""Fake LocalAI (llm-servers.md §9).

Sources: mudler/LocalAI@82c191afadf5f005281e798ccfa0ffd0d5805030
- Public (core/http/auth/public_routes.go:16-57): /healthz, /readyz, /.well-known/localai.json,
  "/", /swagger, auth bootstrap, UI assets.
- Refusal (core/http/auth/middleware.go:559-582): 401 + WWW-Authenticate: Bearer, {"error":
  {"code":401,"message":"An authentication key is required","type":"invalid_request_error"}}.
- "/" answers "Ollama is running" only with the Ollama root flag (core/http/app.go:593-595,
  routes/ollama.go:88-93); /api/tags, /api/version are always there (routes/ollama.go:80-86).
- /v1/models entries carry only id and object (endpoints/openai/list.go:30-32).
- Unknown model: 404 "model \"x\" not found..." on the exact name, no :latest implied
  (middleware/request.go:156-168).
"""

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
    listed = [{"id": n, "object": "model"} for n in names]
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, _openai_list(listed)),  # routes/openai.go:274
        "GET /api/version": Reply(200, {"version": "0.9.0"}),  # routes/ollama.go:84
        "GET /api/tags": Reply(  # routes/ollama.go:80
            200, {"models": [{"name": n, "model": n, "size": 1} for n in names]}
        ),
        "GET /version": Reply(200, {"version": "v3.4.0"}),  # routes/localai.go:282 (guarded)
    }

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

    public: dict[str, Route] = {  # auth/public_routes.go:16-57
        "GET /readyz": Reply(200, "OK"),  # routes/health.go:31
        "GET /healthz": Reply(200, "OK"),  # routes/health.go:23
        # routes/localai.go:289
        "GET /.well-known/localai.json": Reply(200, {"endpoints": ["/metrics", "/system"]}),
    }
    if ollama_root:  # routes/ollama.go:88-93; "/" is public (public_routes.go:40-41)
        public["GET /"] = Reply(200, "Ollama is running")
    return Server(
        {**_guard(routes, api_key, deny), **public}, default=Reply(404, {"error": "not found"})
    )
