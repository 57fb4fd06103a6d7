"""Loopback fakes of the LLM servers people run, each answering in its documented shapes.

Every factory returns an unstarted `loopback.Server` (use it as a context manager). Each route
names the section of ../shared/reference/llm-servers.md whose shape it reproduces. The fakes
only answer what lmdoctor may ask; generation routes are there so that tests can assert that
lmdoctor never called them (`generated(server)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from loopback import Reply, Route, Seen, Server

GENERATION = (
    "/v1/chat/completions",
    "/v1/completions",
    "/chat/completions",
    "/api/chat",
    "/api/generate",
    "/generate",
    "/completion",
)


def bearer(seen: Seen) -> str | None:
    """The key a request carries (Authorization: Bearer …), header name case-insensitive."""
    value = next((v for k, v in seen.headers.items() if k.lower() == "authorization"), None)
    if value is None:
        return None
    scheme, _, rest = value.partition(" ")
    return rest if scheme.lower() == "bearer" else value


def header(seen: Seen, name: str) -> str | None:
    return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), None)


def generated(server: Server) -> list[str]:
    """Requests that could have made the server generate (there must be none). The one
    completion lmdoctor may send, to an unrecognised server, has an empty messages list."""
    found = []
    for seen in server.seen:
        if seen.path.split("?")[0] not in GENERATION:
            continue
        try:
            body = seen.json() or {}
        except ValueError:
            body = {}
        if not (
            isinstance(body, dict) and body.get("messages") == [] and body.get("max_tokens") == 1
        ):
            found.append(f"{seen.method} {seen.path}")
    return found


def _guard(
    routes: dict[str, Route],
    key: str | None,
    deny: Callable[[Seen], Reply],
    public: Iterable[str] = (),
) -> dict[str, Route]:
    """Wrap every route but `public` ones so that a wrong or missing key gets `deny`."""
    if key is None:
        return routes
    public = set(public)

    def wrap(path: str, route: Route) -> Route:
        if path.split(" ")[-1] in public:
            return route

        def guarded(seen: Seen) -> Reply:
            if bearer(seen) != key:
                return deny(seen)
            return route(seen) if callable(route) else route

        return guarded

    return {path: wrap(path, route) for path, route in routes.items()}


def _with_headers(route: Route, headers: dict[str, str]) -> Route:
    def add(seen: Seen) -> Reply:
        reply = route(seen) if callable(route) else route
        return Reply(reply.status, reply.body, {**headers, **reply.headers})

    return add


def _openai_list(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": entries}


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

    def unexpected(seen: Seen) -> Reply:  # §1: unknown paths → HTTP 200 + error body
        path = seen.path.split("?")[0]
        return Reply(200, {"error": f"Unexpected endpoint or method. ({seen.method} {path})"})

    def chat(seen: Seen) -> Reply:
        return Reply(500, {"error": "a fake never generates"})

    routes: dict[str, Route] = {
        "GET /v1/models": v1_models,
        "GET /api/v0/models": rest_v0,
        "POST /v1/chat/completions": chat,
    }
    if api == "0.4":
        routes["GET /api/v1/models"] = rest_v1

    def deny(seen: Seen) -> Reply:
        return Reply(401, LMSTUDIO_NO_TOKEN)

    if api == "0.4":
        routes = _guard(routes, token, deny)
        default = _guard({"*": unexpected}, token, deny)["*"]
    else:
        default = unexpected
    routes = {k: _with_headers(v, express) for k, v in routes.items()}
    return Server(routes, default=_with_headers(default, express))


# -- §2 Ollama ---------------------------------------------------------------------------------


def ollama(
    downloaded: Iterable[str] = ("llama3.2:latest", "qwen3:8b"),
    running: dict[str, tuple[int, int, int]] | None = None,
    *,
    version: str = "0.12.3",
    num_ctx: int | None = None,
    proxy_key: str | None = None,
) -> Server:
    """Ollama. `running`: name → (size, size_vram, context_length) as /api/ps reports them.
    `proxy_key`: a reverse proxy in front that wants a key (Ollama itself checks none, §2)."""
    downloaded = list(downloaded)
    running = running or {}
    not_found = Reply(404, "404 page not found")  # Go's default 404 (§15 item 4)

    def details(name: str) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        }

    def tags(seen: Seen) -> Reply:  # §2 /api/tags
        models = [
            {
                "name": n,
                "model": n,
                "modified_at": "2025-06-01T10:00:00Z",
                "size": 2_019_393_189,
                "digest": "a80c4f17acd5",
                "details": details(n),
            }
            for n in downloaded
        ]
        return Reply(200, {"models": models})

    def ps(seen: Seen) -> Reply:  # §2 /api/ps
        models = [
            {
                "name": n,
                "model": n,
                "size": size,
                "digest": "a80c4f17acd5",
                "details": details(n),
                "expires_at": "2025-06-01T10:05:00Z",
                "size_vram": vram,
                "context_length": ctx,
            }
            for n, (size, vram, ctx) in running.items()
        ]
        return Reply(200, {"models": models})

    def resolve(name: str) -> str | None:
        full = name if ":" in name else name + ":latest"
        return full if full in downloaded else None

    def show(seen: Seen) -> Reply:  # §2 POST /api/show
        name = str((seen.json() or {}).get("model", ""))
        if resolve(name) is None:
            return Reply(404, {"error": f"model '{name}' not found"})
        body: dict[str, Any] = {
            "details": details(name),
            "model_info": {
                "general.architecture": "llama",
                "general.parameter_count": 3_212_749_888,
                "llama.context_length": 131072,
            },
            "capabilities": ["completion", "tools"],
        }
        if num_ctx:
            body["parameters"] = f'num_ctx                        {num_ctx}\nstop "<|eot_id|>"'
        return Reply(200, body)

    def v1_models(seen: Seen) -> Reply:  # §2 GET /v1/models (downloaded models)
        data = [
            {"id": n, "object": "model", "created": 1748772000, "owned_by": "library"}
            for n in downloaded
        ]
        return Reply(200, _openai_list(data))

    def chat(seen: Seen) -> Reply:
        return Reply(500, {"error": {"message": "a fake never generates"}})

    routes: dict[str, Route] = {
        "GET /": Reply(200, "Ollama is running"),  # §2 Routes
        "GET /api/version": Reply(200, {"version": version}),
        "GET /api/tags": tags,
        "GET /api/ps": ps,
        "POST /api/show": show,
        "GET /v1/models": v1_models,
        "POST /v1/chat/completions": chat,
    }

    def deny(seen: Seen) -> Reply:  # nginx basic/bearer auth in front of Ollama
        return Reply(
            401,
            "<html><head><title>401 Authorization Required</title></head></html>",
            {"Content-Type": "text/html"},
        )

    return Server(
        _guard(routes, proxy_key, deny), default=_guard({"*": not_found}, proxy_key, deny)["*"]
    )


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


# -- §4 llama-cpp-python ------------------------------------------------------------------------


def llama_cpp_python(alias: str = "smollm2", *, api_key: str | None = None) -> Server:
    """llama_cpp.server: owned_by "me", /v1/models protected, unknown model → default (§4)."""
    models = _openai_list([{"id": alias, "object": "model", "owned_by": "me", "permissions": []}])
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, models),
        "POST /v1/chat/completions": Reply(500, {"detail": "a fake never generates"}),
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"detail": "Invalid API key"})

    return Server(
        _guard(routes, api_key, deny),
        default=Reply(404, {"detail": "Not Found"}),
        server_header="uvicorn",
    )


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
        "GET /v1/models": Reply(200, _openai_list([card])),
        "POST /v1/chat/completions": Reply(500, {"error": {"message": "a fake never generates"}}),
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"error": "Unauthorized"})

    routes = {
        **_guard(v1, api_key, deny),
        "GET /health": Reply(200, b""),
        "GET /version": Reply(200, {"version": version}),
        "POST /tokenize": Reply(200, {"tokens": [1], "count": 1, "max_model_len": max_model_len}),
    }
    return Server(routes, default=Reply(404, {"detail": "Not Found"}), server_header="uvicorn")


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
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, _openai_list([card])),
        "GET /get_model_info": Reply(
            200, {"model_path": served, "tokenizer_path": served, "is_generation": True}
        ),
        "GET /get_server_info": Reply(200, {"context_length": context_length, "version": "0.4.9"}),
        "GET /health": Reply(200, b""),
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"error": "Unauthorized"})

    return Server(
        _guard(routes, api_key, deny, public=("/health",)),
        default=_guard({"*": Reply(404, {"detail": "Not Found"})}, api_key, deny)["*"],
        server_header="uvicorn",
    )


# -- §7 LiteLLM proxy -------------------------------------------------------------------------

LITELLM_NO_KEY = {
    "error": {
        "message": "Authentication Error, No api key passed in.",
        "type": "auth_error",
        "param": "None",
        "code": "401",
    }
}


def litellm_wrong_key(status: int = 401) -> dict[str, Any]:
    return {
        "error": {
            "message": "Authentication Error, Invalid proxy server token passed. "
            "key=88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b, "
            "not found in db. Create key via `/key/generate` call.",
            "type": "token_not_found_in_db",
            "param": "key",
            "code": str(status),
        }
    }


def litellm(
    models: Iterable[str] = ("gpt-4o-mini", "local-llama"),
    *,
    master_key: str | None = None,
    wrong_key_status: int = 401,
) -> Server:
    """LiteLLM proxy: string code "401", constant created, /health/liveliness (§7)."""
    data = [
        {"id": m, "object": "model", "created": 1677610602, "owned_by": "openai"} for m in models
    ]
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, {"data": data, "object": "list"}),
        "GET /models": Reply(200, {"data": data, "object": "list"}),
        "POST /v1/chat/completions": Reply(500, {"error": {"message": "a fake never generates"}}),
    }

    def deny(seen: Seen) -> Reply:
        if bearer(seen) is None:
            return Reply(401, LITELLM_NO_KEY)
        return Reply(wrong_key_status, litellm_wrong_key(wrong_key_status))

    routes = {
        **_guard(routes, master_key, deny),
        "GET /health/liveliness": Reply(200, "I'm alive!"),
        "GET /health/readiness": Reply(
            200, {"status": "healthy", "db": "connected", "litellm_version": "1.74.3"}
        ),
    }
    return Server(routes, default=Reply(404, {"detail": "Not Found"}), server_header="uvicorn")


# -- §8 Hugging Face TGI -----------------------------------------------------------------------


def tgi(
    model_id: str = "HuggingFaceTB/SmolLM2-135M-Instruct",
    *,
    api_key: str | None = None,
    max_total_tokens: int = 2048,
) -> Server:
    """TGI: /v1/models open, generation routes and /tokenize guarded with an EMPTY 401 (§8)."""
    compute = {"x-compute-type": "gpu+optimized", "x-compute-time": "0.01"}
    info = {
        "model_id": model_id,
        "model_sha": "abc",
        "model_pipeline_tag": "text-generation",
        "max_concurrent_requests": 128,
        "max_best_of": 2,
        "max_stop_sequences": 4,
        "max_input_tokens": max_total_tokens - 1,
        "max_total_tokens": max_total_tokens,
        "validation_workers": 2,
        "max_client_batch_size": 4,
        "router": "text-generation-router",
        "version": "3.3.4",
        "sha": "9f3a",
        "docker_label": "sha-9f3a",
    }
    guarded: dict[str, Route] = {
        "POST /tokenize": Reply(200, [{"id": 1, "text": "lm", "start": 0, "stop": 2}], compute),
        "POST /v1/chat/completions": Reply(500, {"error": "a fake never generates"}),
        "POST /generate": Reply(500, {"error": "a fake never generates"}),
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, b"")

    routes = {
        **_guard(guarded, api_key, deny),
        "GET /v1/models": Reply(
            200,
            _openai_list([{"id": model_id, "object": "model", "created": 0, "owned_by": model_id}]),
        ),
        "GET /info": Reply(200, info),
        "GET /health": Reply(200, b""),
    }
    return Server(routes, default=Reply(404, b""))


# -- §9 LocalAI ---------------------------------------------------------------------------------


def localai(
    models: Iterable[str] = ("llama-3.2-1b-instruct:q4_k_m",),
    *,
    api_key: str | None = None,
    ollama_root: bool = True,
) -> Server:
    """LocalAI, imitating Ollama at / and /api/* (§9): only /readyz and /.well-known tell."""
    names = list(models)
    routes: dict[str, Route] = {
        "GET /v1/models": Reply(200, _openai_list([{"id": n, "object": "model"} for n in names])),
        "GET /api/version": Reply(200, {"version": "0.9.0"}),
        "GET /api/tags": Reply(
            200, {"models": [{"name": n, "model": n, "size": 1} for n in names]}
        ),
        "GET /version": Reply(200, {"version": "v3.4.0"}),
    }
    if ollama_root:
        routes["GET /"] = Reply(200, "Ollama is running")

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

    public = {
        "GET /readyz": Reply(200, "OK"),
        "GET /healthz": Reply(200, "OK"),
        "GET /.well-known/localai.json": Reply(200, {"endpoints": ["/metrics", "/system"]}),
    }
    return Server(
        {**_guard(routes, api_key, deny), **public}, default=Reply(404, {"error": "not found"})
    )


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


# -- §11 KoboldCpp ----------------------------------------------------------------------------


def koboldcpp(
    name: str = "koboldcpp/Mistral-7B-Q4", *, password: str | None = None, maxctx: int = 4096
) -> Server:
    """KoboldCpp: Server header, /api/extra/version with `protected`, --password (§11)."""
    deny_body = {
        "detail": {
            "error": "Unauthorized",
            "msg": "Authentication key is missing or invalid.",
            "type": "unauthorized",
        }
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, deny_body)

    model = {
        "id": name,
        "object": "model",
        "created": 1748772000,
        "owned_by": "koboldcpp",
        "permission": [],
        "root": "koboldcpp",
    }
    routes: dict[str, Route] = {
        **_guard(
            {"GET /api/extra/generate/check": Reply(200, {"results": [{"text": ""}]})},
            password,
            deny,
        ),
        "GET /api/extra/version": Reply(
            200,
            {
                "result": "KoboldCpp",
                "version": "1.76",
                "protected": password is not None,
                "txt2img": False,
                "vision": False,
            },
        ),
        "GET /v1/models": Reply(200, _openai_list([model])),
        "GET /api/extra/true_max_context_length": Reply(200, {"value": maxctx}),
        "GET /api/v1/model": Reply(200, {"result": name}),
    }
    return Server(
        routes,
        default=Reply(404, {"error": "not found"}),
        server_header="ConcedoLlamaForKoboldServer",
    )


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
        "GET /v1/models": gate(Reply(200, _openai_list(data))),
        "GET /v1/internal/model/info": gate(
            Reply(200, {"model_name": model, "lora_names": [], "loader": "llama.cpp"})
        ),
        "GET /v1/internal/health": gate(Reply(200, {"status": "ok"})),
    }
    return Server(
        routes, default=gate(Reply(404, {"detail": "Not Found"})), server_header="uvicorn"
    )


# -- §13 OpenAI cloud, and things that are no LLM server ----------------------------------------

OPENAI_WRONG_KEY = {  # §13 (OpenHands/OpenHands#806)
    "error": {
        "message": "Incorrect API key provided: lm-studio. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
OPENAI_NO_KEY = {
    "error": {
        "message": "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can "
        "obtain an API key from https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}


def openai_cloud(valid_key: str = "sk-proj-validvalidvalid") -> Server:
    """What api.openai.com answers to a request that was meant for a local server (§13)."""

    def models(seen: Seen) -> Reply:
        given = bearer(seen)
        if given is None:
            return Reply(401, OPENAI_NO_KEY, {"server": "cloudflare"})
        if given != valid_key:
            return Reply(401, OPENAI_WRONG_KEY, {"server": "cloudflare"})
        return Reply(
            200,
            _openai_list(
                [{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}]
            ),
        )

    return Server({"GET /v1/models": models}, default=Reply(404, {"error": {"message": "x"}}))


def web_page(title: str = "Welcome to nginx!", server: str = "nginx/1.24.0") -> Server:
    """A web server that is no LLM server: HTML everywhere."""
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>hi</body></html>"
    html = {"Content-Type": "text/html"}
    return Server(
        {"GET /": Reply(200, page, html)}, default=Reply(404, page, html), server_header=server
    )


def generic_openai(
    models: Iterable[str] = ("my-model",),
    *,
    api_key: str | None = None,
    guard_completions_only: bool = False,
) -> Server:
    """An unrecognised OpenAI-compatible server (bare OpenAI shapes, no fingerprint)."""
    data = [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "someone"} for m in models
    ]

    def chat(seen: Seen) -> Reply:
        if not (seen.json() or {}).get("messages"):
            return Reply(
                400,
                {
                    "error": {
                        "message": "messages must not be empty",
                        "type": "invalid_request_error",
                    }
                },
            )
        return Reply(500, {"error": {"message": "a fake never generates"}})

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})

    listing: dict[str, Route] = {"GET /v1/models": Reply(200, _openai_list(data))}
    completions: dict[str, Route] = {"POST /v1/chat/completions": chat}
    if guard_completions_only:
        routes = {**listing, **_guard(completions, api_key, deny)}
    else:
        routes = _guard({**listing, **completions}, api_key, deny)
    return Server(
        routes, default=Reply(404, {"error": {"message": "Not Found"}}), server_header="Python"
    )
