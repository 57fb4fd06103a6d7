"""Fake SGLang (llm-servers.md §6).

Sources: sglang 0.5.23 (PyPI wheel)
- sglang/srt/utils/auth.py:98-106: OPTIONS, /health*, /ready*, /metrics* always public; any other
  path needs the key: 401 {"error":"Unauthorized"} (:192-201), the same body as vLLM.
- Any model id without ":" is served by the loaded model (srt/entrypoints/openai/
  serving_base.py:40-60; sgl-project/sglang#7035, #9294).
"""

from __future__ import annotations

from fakes.common import _guard, _openai_list
from loopback import Reply, Route, Seen, Server


def sglang(
    served: str = "meta-llama/Llama-3.1-8B-Instruct",
    *,
    api_key: str | None = None,
    context_length: int = 8192,
) -> Server:
    """SGLang: guards all but /health* (same 401 body as vLLM), owned_by "sglang" (§6)."""
    card = {
        "id": served,
        "object": "model",
        "created": 1748772000,
        "owned_by": "sglang",
        "root": served,
        "max_model_len": context_length,
    }
    routes: dict[str, Route] = {  # sglang/srt/entrypoints/http_server.py (0.5.23)
        "GET /v1/models": Reply(200, _openai_list([card])),  # :1993-2008 (ModelCard)
        "GET /get_model_info": Reply(  # :802-809 (deprecated alias of /model_info, :812)
            200, {"model_path": served, "tokenizer_path": served, "is_generation": True}
        ),
        # :853
        "GET /get_server_info": Reply(200, {"context_length": context_length, "version": "0.4.9"}),
        "GET /health": Reply(200, b""),  # :721
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"error": "Unauthorized"})

    return Server(
        _guard(routes, api_key, deny, public=("/health",)),
        default=_guard({"*": Reply(404, {"detail": "Not Found"})}, api_key, deny)["*"],
        server_header="uvicorn",
    )
