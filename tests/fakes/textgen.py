"""Fake text-generation-webui (llm-servers.md §12).

Sources: oobabooga/text-generation-webui@1dcde41d03d13fc768316f4d2256a8a6dd044268
- Host guard before everything unless --listen/--public-api: 400 {"detail":"Invalid host header"}
  (modules/api/script.py:144-155).
- Key: every /v1 route has check_key; 401 {"detail":"Unauthorized"} for a missing and a wrong
  key alike (script.py:68-71, :94; routes :163, :211, :323, :415, :463).
- /v1/models lists the loaded model only, created 0, owned_by "user" (modules/api/models.py:22-41).
- /v1/internal/model/info: model_name and lora_names only (script.py:463, typing.py:263-265).
- Any model id is served by the loaded model (completions.py:586 pops and ignores it).
"""

from __future__ import annotations

from collections.abc import Iterable

from fakes.common import _openai_list, header
from loopback import Reply, Route, Seen, Server

# -- §12 text-generation-webui --------------------------------------------------------------


def textgen(
    model: str | None = "Qwen2.5-7B-Instruct-Q4_K_M.gguf",
    *,
    api_key: str | None = None,
    allowed_hosts: Iterable[str] = ("localhost", "127.0.0.1"),
) -> Server:
    """text-generation-webui --api: lists the loaded model only, Host guard (§12)."""
    allowed = set(allowed_hosts)

    def gate(route: Route) -> Route:
        def handle(seen: Seen) -> Reply:
            host = (header(seen, "host") or "").rsplit(":", 1)[0]
            if host not in allowed:
                return Reply(400, {"detail": "Invalid host header"})
            if api_key is not None and header(seen, "authorization") != f"Bearer {api_key}":
                return Reply(401, {"detail": "Unauthorized"})
            return route(seen) if callable(route) else route

        return handle

    data = [{"id": model, "object": "model", "created": 0, "owned_by": "user"}] if model else []
    routes: dict[str, Route] = {
        "GET /v1/models": gate(Reply(200, _openai_list(data))),  # modules/api/script.py:323
        # oobabooga/text-generation-webui@1dcde41 modules/api/script.py:463 response_model=
        # ModelInfoResponse (typing.py:263-265): FastAPI drops get_current_model_info()'s loader
        "GET /v1/internal/model/info": gate(
            Reply(200, {"model_name": model, "lora_names": []})
        ),
        "GET /v1/internal/health": gate(Reply(200, {"status": "ok"})),  # script.py:415
    }
    return Server(
        routes, default=gate(Reply(404, {"detail": "Not Found"})), server_header="uvicorn"
    )
