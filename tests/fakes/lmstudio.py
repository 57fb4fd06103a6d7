"""Fake LM Studio (llm-servers.md §1).

Sources: lmstudio-ai/docs@c6854fba2575bf21e07702ee210e1bed09e7c577
- Authentication needs 0.4.0+ and is off by default; when on, every request needs a token
  (1_developer/0_core/authentication.mdx:8-19). The refusal body is from
  agustif/opencode-lmstudio#41 (not in the docs).
- /v1/models lists every download when JIT is on (1_developer/3_openai-compat/models.md:10).
- GET /api/v1/models: loaded_instances[].config.context_length (1_developer/2_rest/list.md:62-98).
- GET /api/v0/models: state and max_context_length only, no loaded context
  (1_developer/2_rest/endpoints.mdx:40-90).
"""

from __future__ import annotations

from collections.abc import Iterable

from fakes.common import _guard, _with_headers
from loopback import Reply, Route, Seen, Server

# -- §1 LM Studio -----------------------------------------------------------------------------

LMSTUDIO_NO_TOKEN = {  # §1 Auth: missing token (agustif/opencode-lmstudio#41)
    "error": {
        "type": "invalid_request",
        "code": "invalid_api_key",
        "message": (
            "An LM Studio API token is required to make requests to this server, but none was "
            "provided using the Authorization header using the 'Bearer' scheme (i.e., "
            "'Authorization: Bearer $LM_API_TOKEN'). Learn more at: "
            "https://lmstudio.ai/docs/developer/core/authentication."
        ),
    }
}


def lmstudio(
    downloaded: Iterable[str] = ("qwen/qwen3-8b", "google/gemma-3-12b"),
    loaded: dict[str, int] | None = None,
    *,
    api: str = "0.4",
    jit: bool = True,
    token: str | None = None,
    instance_ids: dict[str, str] | None = None,
) -> Server:
    """LM Studio 0.4 (REST v1 + v0) or 0.3 (v0 only). `loaded`: key → loaded context length.
    `jit`: /v1/models lists every download (on) or only loaded models (off) (§1 GET /v1/models).
    `token`: "Require Authentication" on (0.4+ only)."""
    downloaded = list(downloaded)
    loaded = {} if loaded is None else loaded
    instance_ids = instance_ids or {}
    express = {"X-Powered-By": "Express"}  # §1 Fingerprint

    def api_id(key: str) -> str:
        return instance_ids.get(key, key)

    def v1_models(seen: Seen) -> Reply:  # §1 GET /v1/models (no `created`)
        listed = downloaded if jit else [k for k in downloaded if k in loaded]
        data = [
            {"id": api_id(k), "object": "model", "owned_by": "organization_owner"} for k in listed
        ]
        return Reply(200, {"data": data, "object": "list"})

    def rest_v1(seen: Seen) -> Reply:  # §1 Native REST v1 (0.4.0+)
        models = []
        for key in downloaded:
            instances = []
            if key in loaded:
                config = {
                    "context_length": loaded[key],
                    "eval_batch_size": 512,
                    "parallel": 4,
                    "flash_attention": True,
                    "offload_kv_cache_to_gpu": True,
                }
                instances = [{"id": api_id(key), "config": config}]
            models.append(
                {
                    "type": "llm",
                    "publisher": key.split("/")[0],
                    "key": key,
                    "display_name": key.split("/")[-1],
                    "architecture": "qwen3",
                    "quantization": {"name": "Q4_K_M", "bits_per_weight": 4.8},
                    "size_bytes": 5_030_000_000,
                    "params_string": "8B",
                    "loaded_instances": instances,
                    "max_context_length": 40960,
                    "format": "gguf",
                    "capabilities": {"vision": False, "trained_for_tool_use": True},
                }
            )
        return Reply(200, {"models": models})

    def rest_v0(seen: Seen) -> Reply:  # §1 Native REST v0 (0.3.6+)
        data = [
            {
                "id": k,
                "object": "model",
                "type": "llm",
                "publisher": k.split("/")[0],
                "arch": "qwen3",
                "compatibility_type": "gguf",
                "quantization": "Q4_K_M",
                "state": "loaded" if k in loaded else "not-loaded",
                "max_context_length": 40960,
            }
            for k in downloaded
        ]
        return Reply(200, {"object": "list", "data": data})

    # §1: unknown paths → HTTP 200 + error body (lmstudio-ai/lmstudio-bug-tracker#618, #1879)
    def unexpected(seen: Seen) -> Reply:
        path = seen.path.split("?")[0]
        return Reply(200, {"error": f"Unexpected endpoint or method. ({seen.method} {path})"})

    def chat(seen: Seen) -> Reply:
        return Reply(500, {"error": "a fake never generates"})

    routes: dict[str, Route] = {
        "GET /v1/models": v1_models,  # 1_developer/3_openai-compat/models.md:10-15
        "GET /api/v0/models": rest_v0,  # 1_developer/2_rest/endpoints.mdx:40-90
        "POST /v1/chat/completions": chat,  # 1_developer/3_openai-compat/index.mdx:30
    }
    if api == "0.4":
        routes["GET /api/v1/models"] = rest_v1  # 1_developer/2_rest/list.md:11-98

    def deny(seen: Seen) -> Reply:
        return Reply(401, LMSTUDIO_NO_TOKEN)

    if api == "0.4":
        routes = _guard(routes, token, deny)
        default = _guard({"*": unexpected}, token, deny)["*"]
    else:
        default = unexpected
    routes = {k: _with_headers(v, express) for k, v in routes.items()}
    return Server(routes, default=_with_headers(default, express))
