"""Fake vLLM (llm-servers.md §5).

Sources: vllm-project/vllm vllm/entrypoints/serve/middleware/authenticate.py
@baaf6e9c171b38e155d4191ac29f3a4a08817146
- Only paths under /v1, /v2, /inference, /cohere are guarded (GUARDED_PREFIX :10); 401
  {"error":"Unauthorized"} for a missing and a wrong key (:52-54); /health, /version,
  /tokenize are public.
- Unknown model: 404 "The model `x` does not exist." (serving engine `_check_model`: the exact
  served name or a LoRA name).
- Routes and bodies other than auth: llm-servers.md §5, from vllm/entrypoints/openai/
  api_server.py and protocol.py (`ModelCard`), cited by name: the repository is too large to
  fetch here and only single files are indexed, so no line numbers.
"""

from __future__ import annotations

from fakes.common import _guard, _openai_list
from loopback import Reply, Route, Seen, Server

# -- §5 vLLM, §6 SGLang -------------------------------------------------------------------------


def vllm(
    served: str = "Qwen/Qwen2.5-7B-Instruct",
    *,
    api_key: str | None = None,
    max_model_len: int = 32768,
    version: str = "0.10.1",
) -> Server:
    """vllm serve: guards only /v1* (401 {"error":"Unauthorized"}), /version public (§5)."""
    card = {
        "id": served,
        "object": "model",
        "created": 1748772000,
        "owned_by": "vllm",
        "root": served,
        "parent": None,
        "max_model_len": max_model_len,
        "permission": [],
    }
    v1: dict[str, Route] = {
        # §5 api_server.py show_available_models
        "GET /v1/models": Reply(200, _openai_list([card])),
        # §5 api_server.py create_chat_completion (a fake never generates)
        "POST /v1/chat/completions": Reply(500, {"error": {"message": "a fake never generates"}}),
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"error": "Unauthorized"})

    routes = {
        **_guard(v1, api_key, deny),
        "GET /health": Reply(200, b""),  # §5 api_server.py health: 200, empty body
        "GET /version": Reply(200, {"version": version}),  # §5 api_server.py show_version
        # §5 api_server.py tokenize (TokenizeResponse: tokens, count, max_model_len)
        "POST /tokenize": Reply(200, {"tokens": [1], "count": 1, "max_model_len": max_model_len}),
    }
    return Server(routes, default=Reply(404, {"detail": "Not Found"}), server_header="uvicorn")
