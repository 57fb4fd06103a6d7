"""Fake llama.cpp's llama-server (llm-servers.md §3)."""

from __future__ import annotations

from typing import Any

from fakes.common import _guard, _openai_list
from loopback import Reply, Route, Seen, Server

# -- §3 llama.cpp llama-server -----------------------------------------------------------------

LLAMACPP_DENY = {
    "error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}
}
LLAMACPP_LOADING = {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}


def llamacpp(
    model: str = "../models/SmolLM2-135M-Instruct-Q8_0.gguf",
    *,
    api_key: str | None = None,
    n_ctx: int = 4096,
    slots: int = 1,
    loading: bool = False,
    router: dict[str, tuple[str, int | None]] | None = None,
    build: str = "b6500-8f8c4a2e",
) -> Server:
    """llama-server: single-model (the id is -m's path or --alias; any id is accepted) or, with
    `router` (id → (status, n_ctx or None)), router mode. `loading`: every route answers 503."""

    def v1_models(seen: Seen) -> Reply:  # §3 GET /v1/models
        if router is not None:
            data = []
            for mid, (status, ctx) in router.items():
                entry: dict[str, Any] = {
                    "id": mid,
                    "object": "model",
                    "owned_by": "llamacpp",
                    "status": {"value": status, "args": [], "preset": ""},
                }
                if ctx:
                    entry["meta"] = {
                        "n_ctx": ctx,
                        "n_ctx_train": 8192,
                        "n_params": 134515008,
                        "size": 144805376,
                    }
                data.append(entry)
            return Reply(200, _openai_list(data))
        meta = {
            "vocab_type": 2,
            "n_vocab": 49152,
            "n_ctx_train": 8192,
            "n_embd": 576,
            "n_params": 134515008,
            "size": 144805376,
            "n_ctx": n_ctx * slots,
        }
        entry = {
            "id": model,
            "object": "model",
            "created": 1735142223,
            "owned_by": "llamacpp",
            "meta": meta,
        }
        return Reply(200, _openai_list([entry]))

    props = {  # §3 GET /props
        "default_generation_settings": {"n_ctx": 0 if router is not None else n_ctx},
        "total_slots": slots,
        "model_path": model,
        "chat_template": "{{ messages }}",
        "modalities": {"vision": False},
        "build_info": build,
        "is_sleeping": False,
    }

    def tokenize(seen: Seen) -> Reply:
        return Reply(200, {"tokens": [1, 2, 3]})

    def chat(seen: Seen) -> Reply:
        return Reply(500, {"error": {"message": "a fake never generates"}})

    routes: dict[str, Route] = {
        "GET /health": Reply(200, {"status": "ok"}),
        "GET /v1/health": Reply(200, {"status": "ok"}),
        "GET /v1/models": v1_models,
        "GET /models": v1_models,
        "GET /props": Reply(200, props),
        "POST /tokenize": tokenize,
        "POST /v1/chat/completions": chat,
    }
    not_found = Reply(
        404, {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}}
    )
    if loading:  # §3: while not ready every endpoint returns 503
        routes, not_found = {}, Reply(503, LLAMACPP_LOADING)

    def deny(seen: Seen) -> Reply:  # §3 Auth: identical for missing and wrong keys
        return Reply(401, LLAMACPP_DENY)

    public = ("/health", "/v1/health", "/models", "/v1/models", "/")
    routes = _guard(routes, api_key, deny, public)
    default = _guard({"*": not_found}, api_key, deny)["*"]
    return Server(routes, default=default, server_header="llama.cpp")
