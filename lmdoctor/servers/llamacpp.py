"""llama.cpp's llama-server (llm-servers.md §3): 8080 (moving to 9931), /props, router mode."""

from __future__ import annotations

from lmdoctor import parse, urls
from lmdoctor.http import Response
from lmdoctor.servers.answers import Listing, Native, Probes, Refusal, Requests, body_json, ok
from lmdoctor.servers.kind import AuthProbe, ServerKind, Signal

LOADING = "Loading model"  # its 503 body while the model loads
LOADING_SUMMARY = "llama.cpp is still loading its model (HTTP 503 “Loading model”)"
LOADING_DETAIL = (
    "Until the model is in memory llama-server answers 503 “Loading model” on every route but "
    "the web UI (llama.cpp tools/server/server-http.cpp, middleware_server_state); older "
    "builds also let /v1/models through, with `meta: null`. This is no failure: the key and "
    "model checks need the loaded model and were skipped."
)
LOADING_FIX = (
    "Wait until the load finishes (GET /health answers 200 {\"status\":\"ok\"}; big models take "
    "minutes), then run lmdoctor again, or let it wait: `lmdoctor check --wait 300`. Leave "
    "llama-server running: stopping it starts the load over."
)


def busy(response: Response, message: str) -> tuple[str, str, str] | None:
    """Its answer while the model loads: 503 "Loading model" (any request), or in older builds
    a 200 model list whose only entry has `meta: null` (server-http.cpp middleware_server_state
    let /models, /v1/models and /api/tags through while loading)."""
    if response.status == 503 and LOADING in message:
        return LOADING_SUMMARY, LOADING_DETAIL, LOADING_FIX
    if response.status == 200:
        data = parse.mapping(body_json(response)).get("data")
        entry = data[0] if isinstance(data, list) and len(data) == 1 else None
        if isinstance(entry, dict) and entry.get("owned_by") == "llamacpp" and (
            "meta" in entry and entry["meta"] is None and "status" not in entry
        ):
            summary = "llama.cpp is still loading its model (its model list has `meta: null`)"
            return summary, LOADING_DETAIL, LOADING_FIX
    return None


def _by_headers(response: Response) -> str | None:
    return (
        "Server: llama.cpp header"
        if "llama.cpp" in response.headers.get("server", "").lower()
        else None
    )


def _by_denial(answer: Refusal) -> str | None:
    if answer.err.message == "Invalid API Key" and answer.err.type == "authentication_error":
        return '401 body "Invalid API Key" (authentication_error)'
    return None


def _by_props(probe: Probes) -> str | None:
    props = probe.js("/props")
    if props and parse.llamacpp_props(props).is_llamacpp:
        return "/props has default_generation_settings/build_info"
    return None


def _by_health(probe: Probes) -> str | None:
    health = probe.get("/health")
    if health is not None and health.status == 503 and LOADING in health.text[:300]:
        return '/health 503 "Loading model"'
    return None


def _version(probe: Probes) -> str | None:
    return parse.llamacpp_props(probe.data("/props")).build_info


def _mode(models: list[parse.ListedModel]) -> str | None:
    return "router" if models and any(m.status for m in models) else None


async def native(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    """/props (per-slot n_ctx, slots; a router's models_autoload) and /v1/models (meta, and in
    router mode each model's aliases and status: loaded, loading, unloaded + failed/exit_code,
    sleeping; llama.cpp tools/server/server-models.cpp get_router_models)."""
    response = await fetch.get(urls.with_path(root, "/props"))
    props = parse.llamacpp_props(body_json(response)) if ok(response) else parse.LlamaProps()
    router = props.router or any(m.status for m in listing.models or [])
    models = []
    for m in listing.models or []:
        models.append(
            parse.ModelFacts(
                id=m.id,
                aliases=m.aliases,
                loaded=(m.status == "loaded") if m.status else True,
                # a router's /props is a dummy (n_ctx 0): meta.n_ctx of the loaded model counts
                context_length=m.n_ctx if router else props.n_ctx or m.n_ctx,
                max_context_length=m.n_ctx_train,
                size_bytes=m.size_bytes,
                params_b=m.n_params / 1e9 if m.n_params else None,
                bpw=8 * m.size_bytes / m.n_params if m.size_bytes and m.n_params else None,
                status=m.status,
                exit_code=m.exit_code if m.failed else None,
            )
        )
    source = "llama.cpp /v1/models (router status)" if router else "llama.cpp /props + /v1/models"
    autoload = props.models_autoload if router else None
    parallel = None if router else props.total_slots
    return Native(source, tuple(models), parallel=parallel, autoload=autoload)


KIND = ServerKind(
    id="llamacpp",
    name="llama.cpp (llama-server)",
    ref="§3",
    get_key=(
        "The key is the value llama-server was started with: `--api-key` "
        "(or LLAMA_API_KEY, --api-key-file)."
    ),
    auth_off="Or restart llama-server without --api-key.",
    add_model=(
        "Start llama-server with `--alias {id}`, or use the id it lists "
        "(router mode: put the model in --models-dir or the preset file)."
    ),
    load_model=(
        "Router mode loads it on the first request unless --no-models-autoload is set; "
        'load it now with POST /models/load {{"model": "{id}"}}.'
    ),
    context=(
        "Restart llama-server with `-c {n}` per slot (the context is split across "
        "--parallel slots: use -c {n} × parallel)."
    ),
    open_to_lan="Restart llama-server with `--host 0.0.0.0` (or LLAMA_ARG_HOST=0.0.0.0)",
    loads_on_request=(
        "The llama.cpp router loads it on the first request, which waits for the load; with "
        "--no-models-autoload, requests fail until it is loaded"
    ),
    single_model_unless_router=True,
    ports=(8080, 9931),
    names_port=True,
    usual_port=8080,
    short="llama.cpp",
    processes=("llama-server", "llama_server"),
    owned_by="llamacpp",
    signals=(
        Signal("headers", 10, _by_headers),
        Signal("denial", 110, _by_denial),
        Signal("probe", 10, _by_props),
        Signal("probe", 90, _by_health),
    ),
    probes=("/props", "/health"),
    follow_ups=("/props",),
    version=_version,
    mode=_mode,
    native=native,
    auth_probe=AuthProbe("POST", "/tokenize", {"content": "lmdoctor"}),
    busy=busy,
)
