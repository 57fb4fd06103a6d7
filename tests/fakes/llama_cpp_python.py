"""Fake llama-cpp-python (llm-servers.md §4).

Sources: abetlen/llama-cpp-python@3691546f1c9e0c1bf93323dff02230bd959cf562
- authenticate (llama_cpp/server/app.py:241-259): every route, /v1/models included
  (:529-533); 401 {"detail":"Invalid API key"} for a missing and a wrong key.
- /v1/models: id = model_alias, owned_by "me", permissions [] (:538-551).
- Unknown model ids fall back to the default model (llama_cpp/server/model.py:36-41).
"""

from __future__ import annotations

from fakes.common import _guard, _openai_list
from loopback import Reply, Route, Seen, Server

# -- §4 llama-cpp-python ------------------------------------------------------------------------


def llama_cpp_python(alias: str = "smollm2", *, api_key: str | None = None) -> Server:
    """llama_cpp.server: owned_by "me", /v1/models protected, unknown model → default (§4)."""
    models = _openai_list([{"id": alias, "object": "model", "owned_by": "me", "permissions": []}])
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, models),  # llama_cpp/server/app.py:529-551
        # app.py:376-377 (a fake never generates)
        "POST /v1/chat/completions": Reply(500, {"detail": "a fake never generates"}),
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"detail": "Invalid API key"})

    return Server(
        _guard(routes, api_key, deny),
        default=Reply(404, {"detail": "Not Found"}),
        server_header="uvicorn",
    )
