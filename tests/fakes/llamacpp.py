"""Fake llama.cpp's llama-server (llm-servers.md §3).

Sources (the same behaviours are checked against the real binary in
tests/integration/test_llama_server.py):
- VENDORED: llama.cpp as vendored in llama-cpp-python 0.3.36 (PyPI sdist, vendor/llama.cpp,
  whose git metadata names ggml-org/llama.cpp@0c1e57098bba43ac29e6e3b677cdceebdd22334f; the
  binary built from it reports "commit 0c1e570"; abetlen/llama-cpp-python@3691546 pinned
  4df29be4f4c3673f428170fda944a5b19f743bb8 for 0.3.35), tools/server/server-http.cpp,
  server-models.cpp, server-context.cpp, server.cpp.
- 00dd081: ggml-org/llama.cpp@00dd0816129a5210351c78bb90e0828f8eb69f99
  tools/server/server-http.cpp (`get_public_endpoints`: /models and /v1/models public).
- OLDER: the earlier server-http.cpp (`middleware_server_state` lets /models, /v1/models and
  /api/tags through while loading; public endpoints include /api/tags).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from fakes.common import _guard, _openai_list, bearer
from loopback import Reply, Route, Seen, Server

# -- §3 llama.cpp llama-server -----------------------------------------------------------------

# VENDORED server-http.cpp:290-300 — identical for a missing and a wrong key
LLAMACPP_DENY = {
    "error": {"message": "Invalid API Key", "type": "authentication_error", "code": 401}
}
# VENDORED server-http.cpp:313-322 (middleware_server_state while !is_ready)
LLAMACPP_LOADING = {"error": {"message": "Loading model", "type": "unavailable_error", "code": 503}}
# VENDORED server-http.cpp:142-154 (set_error_handler for 404)
LLAMACPP_NOT_FOUND = {
    "error": {"message": "File Not Found", "type": "not_found_error", "code": 404}
}


def llamacpp(
    model: str = "../models/SmolLM2-135M-Instruct-Q8_0.gguf",
    *,
    api_key: str | None = None,
    n_ctx: int = 4096,
    slots: int = 1,
    loading: bool = False,
    router: dict[str, tuple[str, int | None]] | None = None,
    aliases: Mapping[str, Iterable[str]] | None = None,
    failed: Mapping[str, int] | None = None,
    autoload: bool = True,
    api_prefix: str = "",
    version: str = "vendored",
    build: str = "b6500-8f8c4a2e",
    sleeping: bool = False,
    events: Iterable[Mapping[str, Any]] = (),
) -> Server:
    """llama-server: single-model (the id is -m's path or --alias; any id is accepted) or, with
    `router` (id → (status, n_ctx or None)), router mode, where `aliases` (id → names),
    `failed` (id → exit code of its failed load) and `autoload` (--no-models-autoload when
    False) apply. `loading`: the model is still loading. `api_prefix`: --api-prefix.
    `version`: "vendored" (default), "00dd081" or "older" (see the module docstring).
    `sleeping`: single model, started with --sleep-idle-seconds and asleep now (a request that
    needs the model wakes it). `events`: what the router's GET /models/sse streams."""
    aliases = aliases or {}
    failed = failed or {}
    asleep = {"now": sleeping}

    def v1_models(seen: Seen) -> Reply:
        if router is not None:  # VENDORED server-models.cpp:2020-2090 (get_router_models)
            data = []
            for mid, (status, ctx) in router.items():
                state: dict[str, Any] = {"value": status, "args": ["llama-server"]}
                if mid in failed:  # :2047-2050 — a failed load: unloaded + failed + exit_code
                    state.update(value="unloaded", failed=True, exit_code=failed[mid])
                entry: dict[str, Any] = {
                    "id": mid,
                    "aliases": list(aliases.get(mid, ())),
                    "tags": [],
                    "object": "model",
                    "owned_by": "llamacpp",
                    "created": 1735142223,
                    "status": state,
                }
                if ctx:  # :2079-2085 — a running model's own /v1/models info is merged in
                    entry["meta"] = {
                        "n_ctx": ctx,
                        "n_ctx_train": 8192,
                        "n_params": 134515008,
                        "size": 144805376,
                    }
                data.append(entry)
            return Reply(200, _openai_list(data))
        # VENDORED tools/server/README.md:1245 (GET /v1/models); meta.n_ctx: the allocated context
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
            "meta": None if loading else meta,  # OLDER: meta null while loading
        }
        return Reply(200, _openai_list([entry]))

    if router is not None:  # VENDORED server-models.cpp:1932-1950 (get_router_props)
        props: dict[str, Any] = {
            "role": "router",
            "max_instances": 4,
            "models_autoload": autoload,
            "model_alias": "llama-server",
            "model_path": "none",
            "default_generation_settings": {"params": {}, "n_ctx": 0},
            "build_info": build,
        }
    else:  # VENDORED tools/server/README.md:830 (GET /props)
        props = {
            "default_generation_settings": {"n_ctx": n_ctx},
            "total_slots": slots,
            "model_path": model,
            "chat_template": "{{ messages }}",
            "modalities": {"vision": False},
            "build_info": build,
        }

    def get_props(seen: Seen) -> Reply:
        # VENDORED server-context.cpp:4785-4796: answered without waking (create_response(true)),
        # from the snapshot taken when it fell asleep, with is_sleeping true (:5540-5549, :4615)
        return Reply(200, props if router is not None else {**props, "is_sleeping": asleep["now"]})

    def wakes(route: Route) -> Route:
        """VENDORED server-context.cpp:4212-4218: every other handler waits in
        server_res_generator until the model is loaded again (wait_until_no_sleep)."""

        def handle(seen: Seen) -> Reply:
            asleep["now"] = False
            return route(seen) if callable(route) else route

        return handle

    def tokenize(seen: Seen) -> Reply:
        return Reply(200, {"tokens": [1, 2, 3]})

    def chat(seen: Seen) -> Reply:
        return Reply(500, {"error": {"message": "a fake never generates"}})

    def models_sse(seen: Seen) -> Reply:
        # VENDORED server-models.cpp:2115-2131: `data: <json>\n\n` per event, no snapshot of
        # the current state (a real stream stays open; this one ends after the events)
        body = "".join(f"data: {json.dumps(dict(e))}\n\n" for e in events)
        return Reply(200, body.encode(), {"Content-Type": "text/event-stream"})

    routes: dict[str, Route] = {  # VENDORED server.cpp (ctx_http.get/post)
        "GET /health": Reply(200, {"status": "ok"}),  # :251
        "GET /v1/health": Reply(200, {"status": "ok"}),  # :252
        "GET /v1/models": v1_models,  # :257 (router: :242, get_router_models)
        "GET /models": v1_models,  # :256
        "GET /props": get_props,  # :254 (router: :241, get_router_props)
        "POST /tokenize": wakes(tokenize),  # :277
        "POST /v1/chat/completions": wakes(chat),  # :262
    }
    if router is not None:
        routes["GET /models/sse"] = models_sse  # :247
    not_found = Reply(404, LLAMACPP_NOT_FOUND)
    if loading:
        # VENDORED and 00dd081 server-http.cpp middleware_server_state: every route but the
        # web UI answers 503 until the model is loaded. OLDER: /models, /v1/models and
        # /api/tags are let through ("allow the models endpoint to be accessed during loading").
        kept = ("/models", "/v1/models") if version == "older" else ()
        routes = {k: v for k, v in routes.items() if k.split(" ")[-1] in kept}
        not_found = Reply(503, LLAMACPP_LOADING)

    def deny(seen: Seen) -> Reply:
        return Reply(401, LLAMACPP_DENY)

    # Public routes (no key needed), compared with the FULL path, so under --api-prefix none is
    # public: VENDORED server-http.cpp:251-258 (/health, /v1/health, web UI assets; "/" too),
    # 00dd081 adds /models, /v1/models; OLDER also /api/tags.
    public = ["/health", "/v1/health", "/"]
    if version in ("00dd081", "older"):
        public += ["/models", "/v1/models"]
    public = [p for p in public if not api_prefix]
    routes = _guard(routes, api_key, deny, public)
    # --api-prefix: every route is registered as prefix + path (server-http.cpp `get`/`post`:
    # path_prefix + path); the bare paths are gone.
    routes = {f"{k.split(' ')[0]} {api_prefix}{k.split(' ')[1]}": v for k, v in routes.items()}
    guard_default = [] if api_prefix else [p for p in public if p == "/"]

    def fallback(seen: Seen) -> Reply:
        path = seen.path.split("?")[0]
        if loading:  # the state middleware runs before the key check (server-http.cpp:354-359)
            return not_found
        if api_key is not None and path not in guard_default and bearer(seen) != api_key:
            return deny(seen)
        return not_found

    return Server(routes, default=fallback, server_header="llama.cpp")
