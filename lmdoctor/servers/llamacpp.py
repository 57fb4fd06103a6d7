"""llama.cpp's llama-server (llm-servers.md §3): 8080 (moving to 9931), /props, router mode."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lmdoctor import parse, urls
from lmdoctor.http import Response
from lmdoctor.servers.answers import Listing, Native, Probes, Refusal, Requests, body_json, ok
from lmdoctor.servers.kind import AuthProbe, ServerKind, Signal

if TYPE_CHECKING:
    from lmdoctor.http import HttpClient
    from lmdoctor.secret import Secret

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


# llama-server --sleep-idle-seconds (ggml-org/llama.cpp@0c1e5709, the tree vendored in
# llama-cpp-python 0.3.36): after that many idle seconds the server frees the model and its KV
# cache but keeps running (server-context.cpp:935-951 handle_sleeping_state, README-dev.md
# :295-325); GET /health, /props, /models and /metrics answer from a snapshot without waking it
# (create_response(true), server-context.cpp:4635-4650, 4785-4796, 5053-5064; README.md
# :2096-2109); any other request waits in server_res_generator (:4212-4218) until the model is
# loaded again (load_model, :985). A router lists such a model as "sleeping" and proxies
# requests to it even with --no-models-autoload (server-models.cpp:1443-1445, :1871, :94-100
# of server-models.h: sleeping counts as running).
WAKES = (
    "llama-server put it to sleep after --sleep-idle-seconds without requests: the weights and "
    "the KV cache are freed, the process keeps running. The next request that needs the model "
    "(a completion; not /health, /props, /models or /metrics) wakes it and waits while it is "
    "loaded again{timing}, and the prompt cache is gone, so that request's whole prompt is "
    "processed again. Requests are not refused"
)
KEEP_AWAKE = (
    "Nothing to fix if the first request after a pause may be slow. To keep the model loaded, "
    "start llama-server without --sleep-idle-seconds, or with a longer one (router mode: also "
    "in the model's preset)."
)
SSE_PATIENCE_S = 1.5  # the router sends load progress every 200 ms, downloads every 100 ms


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


def _router_progress(lines: list[tuple[float, str]], name: str) -> tuple[float, str] | None:
    """The last progress the router's event stream (GET /models/sse) reported for `name`, as
    (fraction done, words). Its /v1/models carries no progress (get_router_models,
    server-models.cpp:2021-2094, merges loaded_info only while a model is running,
    server-models.h:94-96); the events do: "status_change" {status: "loading", progress:
    {stages, current, value 0..1}} (server-models.cpp:1286-1322, from load_progress_callback,
    server-context.cpp:960-982) and "download_progress" {progress: {URL: {done, total}}}
    (server-models.cpp:1325-1353), each sent as `data: {"model", "event", "data"}` (:650-661,
    :2115-2131)."""
    said = None
    for _, line in lines:
        if not line.startswith("data:"):
            continue
        try:
            event = parse.mapping(json.loads(line[5:]))
        except ValueError:
            continue
        progress = parse.mapping(parse.mapping(event.get("data")).get("progress"))
        if event.get("model") != name or not progress:
            continue
        if event.get("event") == "download_progress":
            done = total = 0
            for part in progress.values():
                size = parse.integer(parse.mapping(part).get("total")) or 0
                if size > 0:
                    done += parse.integer(parse.mapping(part).get("done")) or 0
                    total += size
            if total:
                share = min(done / total, 1.0)
                said = (share, f"downloading: {share:.0%} of {total / 1e9:.1f} GB")
        elif isinstance(progress.get("value"), int | float):
            share = min(max(float(progress["value"]), 0.0), 1.0)
            stage = parse.text(progress.get("current"), 40)
            said = (share, f"loading{f' {stage}' if stage else ''}: {share:.0%}")
    return said


async def router_progress(
    http: HttpClient, root: str, key: Secret | None, key_origin: str | None, name: str
) -> tuple[float, str] | None:
    """Listen to the router's event stream briefly for `name`'s load or download progress."""
    import httpx  # lazily: the CLI starts without it

    try:
        answer = await http.stream_lines(
            "GET",
            urls.join(root, "/models/sse"),
            key=key,
            key_origin=key_origin,
            deadline=SSE_PATIENCE_S,
            first_byte_timeout=SSE_PATIENCE_S,
        )
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError):
        return None  # progress is a nicety: no answer, no progress
    return _router_progress(answer.lines, name) if answer.status == 200 else None


async def _progress_words(fetch: Requests, root: str, name: str) -> str | None:
    found = await router_progress(fetch.http, root, fetch.key, fetch.key_origin, name)
    return found[1] if found else None


async def native(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    """/props (per-slot n_ctx, slots, is_sleeping; a router's models_autoload) and /v1/models
    (meta, and in router mode each model's aliases and status: loaded, loading, downloading,
    unloaded + failed/exit_code, sleeping; server-models.cpp get_router_models); for a model
    loading or downloading now, its progress from the router's event stream."""
    response = await fetch.get(urls.with_path(root, "/props"), auth=True)
    props = parse.llamacpp_props(body_json(response)) if ok(response) else parse.LlamaProps()
    router = props.router or any(m.status for m in listing.models or [])
    models = []
    for m in listing.models or []:
        status = m.status or ("sleeping" if props.is_sleeping and not router else None)
        busy_now = status in ("loading", "downloading") and model_id in (m.id, *m.aliases)
        models.append(
            parse.ModelFacts(
                id=m.id,
                aliases=m.aliases,
                loaded=(status == "loaded") if status else True,
                # a router's /props is a dummy (n_ctx 0): meta.n_ctx of the loaded model counts
                context_length=m.n_ctx if router else props.n_ctx or m.n_ctx,
                max_context_length=m.n_ctx_train,
                size_bytes=m.size_bytes,
                quant=m.quant,
                params_b=m.n_params / 1e9 if m.n_params else None,
                bpw=8 * m.size_bytes / m.n_params if m.size_bytes and m.n_params else None,
                status=status,
                exit_code=m.exit_code if m.failed else None,
                progress=(await _progress_words(fetch, root, m.id)) if busy_now else None,
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
    wakes_on_request=WAKES,
    keep_awake=KEEP_AWAKE,
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
    # GET /props: guarded whenever --api-key is set (only /health, /v1/health and the UI are
    # public, server-http.cpp:251-258), generates nothing and, unlike /tokenize, does not wake
    # a sleeping model (create_response(true), server-context.cpp:4785-4796)
    auth_probe=AuthProbe("GET", "/props"),
    busy=busy,
)
