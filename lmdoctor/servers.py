"""Server fingerprints and native APIs (LM Studio, Ollama, llama.cpp, vLLM, LiteLLM, ...).

Every probe here is a side-effect-free request (GETs, plus POST /api/show on Ollama), sent
without a key first; none loads a model or generates a token. Within one target each distinct
request is made once and shared by the server, auth, models and capacity checks (`fetcher`).
Shapes and signals: ../shared/reference/llm-servers.md, §14 for the procedure.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from lmdoctor import kinds, parse, urls
from lmdoctor.http import LIST_LIMIT, PROBE_LIMIT

PARALLEL = 4  # concurrent probes per target

if TYPE_CHECKING:
    from lmdoctor.context import Ctx
    from lmdoctor.http import HttpClient, Response
    from lmdoctor.redact import Secret


@dataclass(frozen=True)
class ServerInfo:
    """Which software answers. `kind` is a stable id used in fix texts and JSON:
    lmstudio, ollama, llamacpp, llama-cpp-python, vllm, sglang, litellm, tgi, localai,
    koboldcpp, jan, textgen, openai (the OpenAI cloud), openai-compatible (unknown but speaks
    the API). `evidence["signals"]` lists what decided it; `evidence["mode"]` is "router" for
    a llama.cpp router."""

    kind: str
    name: str
    version: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def signals(self) -> list[str]:
        return list(self.evidence.get("signals", []))


@dataclass(frozen=True)
class ModelDetails:
    """What the server says about one model (None where it says nothing)."""

    id: str
    params_b: float | None = None
    active_params_b: float | None = None
    quant: str | None = None
    bpw: float | None = None
    size_bytes: int | None = None
    loaded: bool | None = None
    context_length: int | None = None  # the loaded / allocated context
    max_context_length: int | None = None
    size_vram: int | None = None  # Ollama /api/ps: bytes of the model in GPU memory
    size_loaded: int | None = None  # Ollama /api/ps size: weights + KV cache as loaded
    source: str = ""  # which API said so, e.g. "Ollama /api/ps"


# -- requests, each made once per target -------------------------------------------------------


class Fetcher:
    """Bounded probes that never raise: a transport failure is None (its class in `failures`).

    `auth=True` attaches the key (only ever to the key's own origin: HttpClient enforces it).
    """

    def __init__(
        self,
        http: HttpClient,
        key: Secret | None = None,
        key_origin: str | None = None,
        deadline: float | None = None,
    ) -> None:
        self.http, self.key, self.key_origin, self.deadline = http, key, key_origin, deadline
        self._tasks: dict[str, asyncio.Task[Response | None]] = {}
        self.failures: dict[str, str] = {}
        # Few connections at a time: small servers (Python's http.server, which KoboldCpp
        # uses) keep a listen backlog of 5, and a dropped SYN costs a 1 s retry.
        self._slots = asyncio.Semaphore(PARALLEL)

    @property
    def has_key(self) -> bool:
        return bool(self.key)

    async def get(self, url: str, *, auth: bool = False) -> Response | None:
        return await self.send("GET", url, auth=auth)

    async def send(
        self, method: str, url: str, *, auth: bool = False, body: Any = None
    ) -> Response | None:
        auth = auth and self.has_key
        memo = f"{method} {url} {'key' if auth else 'nokey'} {json.dumps(body, sort_keys=True)}"
        task = self._tasks.get(memo)
        if task is None:
            task = asyncio.ensure_future(self._send(memo, method, url, auth, body))
            self._tasks[memo] = task
        return await asyncio.shield(task)

    def failure(self, method: str, url: str, *, auth: bool = False) -> str | None:
        auth = auth and self.has_key
        prefix = f"{method} {url} {'key' if auth else 'nokey'} "
        return next((v for k, v in self.failures.items() if k.startswith(prefix)), None)

    async def _send(
        self, memo: str, method: str, url: str, auth: bool, body: Any
    ) -> Response | None:
        path = urls.path(url).rstrip("/")
        limit = LIST_LIMIT if path.endswith(("/models", "/api/tags")) else PROBE_LIMIT
        try:
            async with self._slots:
                return await self.http.request(
                    method,
                    url,
                    key=self.key if auth else None,
                    key_origin=self.key_origin,
                    json_body=body,
                    limit=limit,
                    deadline=self.deadline,
                )
        except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError) as exc:
            self.failures[memo] = type(exc).__name__
            return None


async def fetcher(ctx: Ctx) -> Fetcher:
    """The target's shared Fetcher (its key, sent only to the target's origin)."""

    async def make() -> Fetcher:
        t = ctx.target
        return Fetcher(ctx.session.http, t.api_key, t.api_base)

    return await ctx.memo("servers.fetcher", make)


# -- small readers of responses ----------------------------------------------------------------


def body_json(response: Response | None) -> Any:
    return response.json() if response is not None else None


def error_of(response: Response | None) -> parse.ErrorInfo:
    if response is None:
        return parse.ErrorInfo()
    return parse.error_info(response.json(), response.text[:2000])


def listed(response: Response | None) -> list[parse.ListedModel] | None:
    """The model list in a 2xx answer, or None when it is not one."""
    if response is None or not 200 <= response.status < 300:
        return None
    try:
        return parse.model_list(response.json())
    except parse.ShapeError:
        return None


def _ok(response: Response | None) -> bool:
    return response is not None and 200 <= response.status < 300


def _header(response: Response | None, name: str) -> str:
    return response.headers.get(name, "") if response is not None else ""


# -- fingerprint (§14 B) ----------------------------------------------------------------------

OWNED_BY = {
    "organization_owner": "lmstudio",
    "llamacpp": "llamacpp",
    "vllm": "vllm",
    "sglang": "sglang",
    "koboldcpp": "koboldcpp",
    "me": "llama-cpp-python",
}
LITELLM_CREATED = 1677610602
UNEXPECTED = "Unexpected endpoint or method"  # LM Studio's 200 answer to unknown paths
OPENAI_SIGNS = (
    "platform.openai.com",
    "Incorrect API key provided",
    "You didn't provide an API key",
)
# Probes that decide an unknown server (all GET, all free of side effects).
DISCRIMINATORS = (
    "/api/version",
    "/props",
    "/version",
    "/info",
    "/health/liveliness",
    "/api/extra/version",
    "/get_model_info",
    "/health",
    "/readyz",
    "/.well-known/localai.json",
    "/v1/internal/model/info",
)
# Once a kind is likely: what confirms it or gives its version.
FOLLOW_UPS = {
    "ollama": ("/api/version", "/readyz", "/.well-known/localai.json"),
    "llamacpp": ("/props",),
    "vllm": ("/version",),
    "vllm|sglang": ("/version", "/get_model_info", "/readyz"),
    "sglang": ("/get_server_info",),
    "litellm": ("/health/readiness",),
    "tgi": ("/info",),
    "koboldcpp": ("/api/extra/version",),
    "localai": ("/version", "/readyz", "/.well-known/localai.json"),
}


def _from_headers(response: Response | None) -> tuple[str, str] | None:
    server = _header(response, "server")
    if "llama.cpp" in server.lower():
        return "llamacpp", "Server: llama.cpp header"
    if "concedollamaforkoboldserver" in server.lower().replace(" ", ""):
        return "koboldcpp", f"Server: {server} header"
    if response is not None and (
        "x-compute-type" in response.headers or "x-compute-time" in response.headers
    ):
        return "tgi", "x-compute-* headers"
    if (
        response is not None
        and _header(response, "x-powered-by").lower() == "express"
        and UNEXPECTED in response.text[:500]
    ):
        return "lmstudio", 'X-Powered-By: Express + "Unexpected endpoint or method" body'
    return None


def _from_listing(models: list[parse.ListedModel]) -> tuple[str, str] | None:
    for m in models:
        if m.owned_by in OWNED_BY:
            return OWNED_BY[m.owned_by], f'/v1/models owned_by "{m.owned_by}"'
        if m.created == LITELLM_CREATED:
            return "litellm", f"/v1/models created {LITELLM_CREATED} (LiteLLM's constant)"
        if m.owned_by == "user" and m.created in (0, 1):
            found = "textgen" if m.created == 0 else "jan"
            return found, f'/v1/models owned_by "user", created {m.created}'
        if m.created == 0 and m.owned_by == m.id:
            return "tgi", "/v1/models created 0, owned_by = id"
    if models and all(m.fields <= {"id", "object"} for m in models):
        return "localai", "/v1/models entries carry only id and object"
    if models and all(":" in m.id and m.created is not None and m.owned_by for m in models):
        return "ollama", "/v1/models ids carry :tags"
    return None


def _from_denial(response: Response | None) -> tuple[str, str] | None:
    """Who sent this 401/403 (or host-guard 400)? The bodies differ per server (§0 table)."""
    if response is None or response.status not in (400, 401, 403):
        return None
    raw = response.text[:2000]
    err = error_of(response)
    body = body_json(response)
    quote = err.message[:80]
    if any(s in raw for s in OPENAI_SIGNS):
        return "openai", "401 body points to platform.openai.com"
    if "LM Studio" in err.message:
        return "lmstudio", f"{response.status} body: {quote}"
    if err.code == "401" and (
        err.type in ("auth_error", "token_not_found_in_db") or "proxy" in raw
    ):
        return "litellm", f'{response.status} body with string code "401" ({err.type})'
    if "An authentication key is required" in err.message:
        return "localai", f"{response.status} body: {quote}"
    if raw.strip() in ("Missing authorization header", "Invalid or missing authorization token"):
        return "jan", f"{response.status} plain-text body: {raw.strip()}"
    if raw.strip() == "Invalid host header":
        return "jan", "403 plain-text body: Invalid host header"
    if "Authentication key is missing or invalid" in err.message:
        return "koboldcpp", f"{response.status} body: {quote}"
    if body == {"detail": "Invalid API key"}:
        return "llama-cpp-python", '401 body {"detail":"Invalid API key"}'
    if body in ({"detail": "Unauthorized"}, {"detail": "Invalid host header"}):
        return "textgen", f"{response.status} body {json.dumps(body)}"
    if body == {"error": "Unauthorized"}:
        return "vllm|sglang", '401 body {"error":"Unauthorized"}'
    if err.message == "Invalid API Key" and err.type == "authentication_error":
        return "llamacpp", '401 body "Invalid API Key" (authentication_error)'
    return None


def _from_root(response: Response | None) -> tuple[str, str] | None:
    if not _ok(response):
        return None
    assert response is not None
    if response.text[:100].strip().startswith("Ollama is running"):
        return "ollama", 'GET / answers "Ollama is running"'
    if parse.html_title(response.text) == "API Docs":
        return "jan", "GET / is an API Docs page"
    return None


def _from_discriminators(probe: dict[str, Response | None]) -> tuple[str, str] | None:
    def js(path: str) -> dict[str, Any]:
        response = probe.get(path)
        return parse.mapping(body_json(response)) if _ok(response) else {}

    if js("/props") and parse.llamacpp_props(js("/props")).is_llamacpp:
        return "llamacpp", "/props has default_generation_settings/build_info"
    if parse.tgi_info(js("/info")).is_tgi:
        return "tgi", '/info router "text-generation-router"'
    liveliness = probe.get("/health/liveliness")
    if _ok(liveliness) and "I'm alive" in liveliness.text[:100]:  # type: ignore[union-attr]
        return "litellm", '/health/liveliness answers "I\'m alive!"'
    if parse.kobold_version(js("/api/extra/version"))[0]:
        return "koboldcpp", '/api/extra/version result "KoboldCpp"'
    if {"lora_names", "loader"} <= js("/v1/internal/model/info").keys():
        return "textgen", "/v1/internal/model/info has lora_names and loader"
    if "model_path" in js("/get_model_info"):
        return "sglang", "/get_model_info has model_path"
    localai = _ok(probe.get("/readyz")) or _ok(probe.get("/.well-known/localai.json"))
    if localai and (js("/api/version") or js("/version")):
        return "localai", "/readyz or /.well-known/localai.json answers (LocalAI)"
    if parse.version(js("/api/version")):
        return "ollama", "/api/version answers {version}"
    health = probe.get("/health")
    if health is not None and health.status == 503 and "Loading model" in health.text[:300]:
        return "llamacpp", '/health 503 "Loading model"'
    if parse.version(js("/version")) and "uvicorn" in _header(probe.get("/version"), "server"):
        return "vllm", "/version answers {version} from uvicorn"
    return None


def _version(kind: str, probe: dict[str, Response | None]) -> str | None:
    def js(path: str) -> Any:
        response = probe.get(path)
        return body_json(response) if _ok(response) else None

    if kind == "ollama":
        return parse.version(js("/api/version"))
    if kind == "llamacpp":
        return parse.llamacpp_props(js("/props")).build_info
    if kind in ("vllm", "localai"):
        return parse.version(js("/version"))
    if kind == "sglang":
        return parse.version(js("/get_server_info"))
    if kind == "litellm":
        return parse.version(js("/health/readiness"), "litellm_version")
    if kind == "tgi":
        return parse.tgi_info(js("/info")).version
    if kind == "koboldcpp":
        return parse.kobold_version(js("/api/extra/version"))[0]
    return None


async def identify(
    http: HttpClient, base_url: str, key: Secret | None = None, key_origin: str | None = None
) -> ServerInfo | None:
    """Fingerprint whatever answers at base_url's origin; None if it is not an LLM server."""
    return await _identify(Fetcher(http, key, key_origin), base_url)


async def _identify(fetch: Fetcher, base_url: str) -> ServerInfo | None:
    root = urls.root(base_url)

    def at(path: str) -> str:
        return urls.with_path(root, path)

    if urls.origin(base_url)[1] == "api.openai.com":
        return _info("openai", None, ["host api.openai.com"], None)
    home, v1, base = await asyncio.gather(
        fetch.get(at("/")), fetch.get(at("/v1/models")), fetch.get(urls.join(base_url, "models"))
    )
    answers = [r for r in (home, v1, base) if r is not None]
    if not answers:
        return None
    signals: list[str] = []
    models = listed(v1) or listed(base)
    found = (
        next(filter(None, (_from_headers(r) for r in answers)), None)
        or _from_root(home)
        or (_from_listing(models) if models else None)
    )
    found = found or _from_denial(v1) or _from_denial(base)
    if fetch.has_key and (found is None or found[0] == "vllm|sglang") and not models:
        keyed = await fetch.get(at("/v1/models"), auth=True)
        models = listed(keyed)
        found = (_from_listing(models) if models else None) or found
    kind = found[0] if found else None
    if found:
        signals.append(found[1])
    probe_paths = FOLLOW_UPS.get(kind, ()) if kind else DISCRIMINATORS
    responses = await asyncio.gather(*(fetch.get(at(p)) for p in probe_paths))
    probe = dict(zip(probe_paths, responses, strict=True))
    kind = _settle(kind, probe, signals)
    if kind == "localai" and "/version" not in probe:
        probe["/version"] = await fetch.get(at("/version"))
    if kind is None:
        if models is None:
            return None
        kind = "openai-compatible"
        signals.append("/v1/models answers an OpenAI model list")
    server = next((_header(r, "server") for r in answers if _header(r, "server")), None)
    info = _info(kind, _version(kind, probe), signals, server)
    if kind == "llamacpp" and models and any(m.status for m in models):
        info.evidence["mode"] = "router"
    return info


def _settle(kind: str | None, probe: dict[str, Response | None], signals: list[str]) -> str | None:
    """Confirm or decide the kind from the second round of probes."""
    if kind is None or kind == "vllm|sglang":
        decided = _from_discriminators(probe)
        if decided:
            signals.append(decided[1])
            return decided[0]
        if kind == "vllm|sglang":
            signals.append(
                "vLLM and SGLang send the same 401; neither /version nor "
                "/get_model_info told them apart"
            )
            return "openai-compatible"
        return None
    if kind in ("ollama", "localai", "jan") and (
        _ok(probe.get("/readyz")) or _ok(probe.get("/.well-known/localai.json"))
    ):
        signals.append("/readyz or /.well-known/localai.json answers: LocalAI (it imitates Ollama)")
        return "localai"
    if kind == "localai" and len(signals) == 1 and "only id and object" in signals[0]:
        return "openai-compatible"  # the weak LocalAI signal was not confirmed
    return kind


def _info(kind: str, version: str | None, signals: list[str], server: str | None) -> ServerInfo:
    evidence: dict[str, Any] = {"signals": signals}
    if server:
        evidence["server_header"] = server[:100]
    return ServerInfo(kind, kinds.kind(kind).name, version, evidence)


async def server_info(ctx: Ctx) -> ServerInfo | None:
    """identify() for the target, memoized per target."""
    fetch = await fetcher(ctx)
    return await ctx.memo("server", lambda: _identify(fetch, ctx.target.api_base))


# -- the model list at the configured base ---------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """GET {api_base}/models as the client would send it (with the key)."""

    url: str
    response: Response | None
    failure: str | None = None  # transport error class when there was no answer
    models: list[parse.ListedModel] | None = None  # None: the answer is not a model list

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models or []]


async def list_models(fetch: Fetcher, base: str) -> Listing:
    url = urls.join(base, "models")
    response = await fetch.get(url, auth=True)
    return Listing(url, response, fetch.failure("GET", url, auth=True), listed(response))


async def models_listing(ctx: Ctx) -> Listing:
    """GET {api_base}/models with the target's key, memoized per target."""
    fetch = await fetcher(ctx)
    return await ctx.memo("models", lambda: list_models(fetch, ctx.target.api_base))


async def model_ids(ctx: Ctx) -> list[str]:
    """The ids GET {api_base}/models lists, memoized per target."""
    return (await models_listing(ctx)).ids


# -- model ids ------------------------------------------------------------------------------


def same_model(a: str, b: str, kind: str | None = None) -> bool:
    """Ids the server treats as one: equal, or (Ollama) equal once `:latest` is implied."""
    if a == b:
        return True
    if kind in ("ollama", "localai"):
        return _ollama_name(a) == _ollama_name(b)
    return False


def _ollama_name(name: str) -> str:
    return name if ":" in name.rsplit("/", 1)[-1] else name + ":latest"


def find(model_id: str, names: Iterable[str], kind: str | None = None) -> str | None:
    """The listed name the server will resolve model_id to, or None."""
    names = list(names)
    if model_id in names:
        return model_id
    return next((n for n in names if same_model(model_id, n, kind)), None)


# -- native APIs: loaded state, context, size -------------------------------------------------


@dataclass(frozen=True)
class Native:
    """What the server's own API says about its models.

    `models`: every model it knows (LM Studio and Ollama: downloaded ones too; elsewhere the
    served ones). `jit`: LM Studio's Just-in-Time loading when it can be inferred. `source`
    names the API read, for evidence; "" when there is none.
    """

    source: str = ""
    models: tuple[parse.NativeModel, ...] = ()
    complete: bool = False  # `models` holds every downloaded model, not only served ones
    parallel: int | None = None  # llama.cpp slots sharing the context

    def find(self, model_id: str, kind: str | None = None) -> parse.NativeModel | None:
        for model in self.models:
            if any(same_model(model_id, name, kind) for name in model.names):
                return model
        return None


async def native(ctx: Ctx) -> Native:
    """The native state of the target's server, memoized per target."""

    async def build() -> Native:
        info = await server_info(ctx)
        listing = await models_listing(ctx)
        fetch = await fetcher(ctx)
        root = urls.root(ctx.target.api_base)
        kind = info.kind if info else None
        reader = _NATIVE.get(kind or "", _from_listing_only)
        try:
            return await reader(fetch, root, listing, ctx.target.model_id)
        except parse.ShapeError:
            return await _from_listing_only(fetch, root, listing, ctx.target.model_id)

    return await ctx.memo("servers.native", build)


async def _lmstudio(fetch: Fetcher, root: str, listing: Listing, model_id: str) -> Native:
    v1 = await fetch.get(urls.with_path(root, "/api/v1/models"), auth=True)
    if _ok(v1) and isinstance(parse.mapping(body_json(v1)).get("models"), list):
        return Native(
            "LM Studio /api/v1/models", tuple(parse.lmstudio_v1_models(body_json(v1))), True
        )
    v0 = await fetch.get(urls.with_path(root, "/api/v0/models"), auth=True)
    if _ok(v0) and isinstance(parse.mapping(body_json(v0)).get("data"), list):
        return Native(
            "LM Studio /api/v0/models", tuple(parse.lmstudio_v0_models(body_json(v0))), True
        )
    return await _from_listing_only(fetch, root, listing, model_id)


async def _ollama(fetch: Fetcher, root: str, listing: Listing, model_id: str) -> Native:
    tags, ps, show = await asyncio.gather(
        fetch.get(urls.with_path(root, "/api/tags")),
        fetch.get(urls.with_path(root, "/api/ps")),
        fetch.send("POST", urls.with_path(root, "/api/show"), body={"model": model_id}),
    )
    downloaded = parse.ollama_models(body_json(tags), running=False) if _ok(tags) else []
    running = parse.ollama_models(body_json(ps), running=True) if _ok(ps) else []
    facts = parse.ollama_show(body_json(show)) if _ok(show) else parse.OllamaShow()
    merged = []
    for model in downloaded or running:
        live = next((r for r in running if same_model(model.id, r.id, "ollama")), None)
        mine = same_model(model.id, model_id, "ollama")
        total, active = parse.params_b(facts.params_label) if mine else (None, None)
        counted = facts.parameter_count / 1e9 if mine and facts.parameter_count else None
        merged.append(
            parse.NativeModel(
                id=model.id,
                aliases=model.aliases,
                loaded=live is not None if _ok(ps) else None,
                context_length=(live.context_length if live else None)
                or (facts.num_ctx if mine else None),
                max_context_length=facts.trained_context if mine else None,
                size_bytes=model.size_bytes if downloaded else None,
                size_loaded=live.size_bytes if live else None,
                size_vram=live.size_vram if live else None,
                params_b=counted or total or model.params_b,
                active_params_b=active or model.active_params_b,
                quant=model.quant or (facts.quant if mine else None),
            )
        )
    source = "Ollama /api/tags + /api/ps + /api/show"
    return Native(source, tuple(merged), complete=_ok(tags))


async def _llamacpp(fetch: Fetcher, root: str, listing: Listing, model_id: str) -> Native:
    props = parse.LlamaProps()
    router = any(m.status for m in listing.models or [])
    if not router:
        response = await fetch.get(urls.with_path(root, "/props"))
        props = parse.llamacpp_props(body_json(response)) if _ok(response) else props
    models = []
    for m in listing.models or []:
        loaded = (m.status == "loaded") if m.status else True
        models.append(
            parse.NativeModel(
                id=m.id,
                loaded=loaded,
                context_length=props.n_ctx or m.n_ctx,
                max_context_length=m.n_ctx_train,
                size_bytes=m.size_bytes,
                params_b=m.n_params / 1e9 if m.n_params else None,
                bpw=8 * m.size_bytes / m.n_params if m.size_bytes and m.n_params else None,
            )
        )
    source = "llama.cpp /v1/models (router status)" if router else "llama.cpp /props + /v1/models"
    return Native(source, tuple(models), parallel=props.total_slots)


async def _tgi(fetch: Fetcher, root: str, listing: Listing, model_id: str) -> Native:
    info = parse.tgi_info(body_json(await fetch.get(urls.with_path(root, "/info"))))
    served = info.model_id or (listing.ids[0] if listing.ids else "")
    if not served:
        return Native()
    model = parse.NativeModel(id=served, loaded=True, context_length=info.max_total_tokens)
    return Native("TGI /info", (model,))


async def _koboldcpp(fetch: Fetcher, root: str, listing: Listing, model_id: str) -> Native:
    ctx_response = await fetch.get(urls.with_path(root, "/api/extra/true_max_context_length"))
    n_ctx = parse.kobold_context(body_json(ctx_response)) if _ok(ctx_response) else None
    models = tuple(parse.NativeModel(id=i, loaded=True, context_length=n_ctx) for i in listing.ids)
    return Native("KoboldCpp /api/extra/true_max_context_length", models)


async def _from_listing_only(fetch: Fetcher, root: str, listing: Listing, model_id: str) -> Native:
    """vLLM/SGLang (max_model_len), Jan/textgen (lists loaded models only), and the rest."""
    models = tuple(
        parse.NativeModel(
            id=m.id, loaded=True if m.max_model_len else None, context_length=m.max_model_len
        )
        for m in listing.models or []
    )
    return Native("/v1/models" if models else "", models)


async def _loaded_listing(fetch: Fetcher, root: str, listing: Listing, model_id: str) -> Native:
    models = tuple(parse.NativeModel(id=i, loaded=True) for i in listing.ids)
    return Native("/v1/models (lists loaded models only)", models)


_NATIVE = {
    "lmstudio": _lmstudio,
    "ollama": _ollama,
    "llamacpp": _llamacpp,
    "tgi": _tgi,
    "koboldcpp": _koboldcpp,
    "jan": _loaded_listing,
    "textgen": _loaded_listing,
}


async def model_details(ctx: Ctx) -> ModelDetails | None:
    """Native-API metadata for the target's model_id, memoized per target."""

    async def build() -> ModelDetails | None:
        info = await server_info(ctx)
        state = await native(ctx)
        kind = info.kind if info else None
        model = state.find(ctx.target.model_id, kind)
        if model is None and kinds.kind(kind).accepts_any_model and len(state.models) == 1:
            model = state.models[0]  # the one model such a server answers every id with
        if model is None:
            return None
        return ModelDetails(
            id=model.id,
            params_b=model.params_b,
            active_params_b=model.active_params_b,
            quant=model.quant,
            bpw=model.bpw,
            size_bytes=model.size_bytes,
            loaded=model.loaded,
            context_length=model.context_length,
            max_context_length=model.max_context_length,
            size_vram=model.size_vram,
            size_loaded=model.size_loaded,
            source=state.source,
        )

    return await ctx.memo("servers.model_details", build)


# -- answers that are not a model list ----------------------------------------------------------

# What a 400/500 says when it is really about the key (LiteLLM token_not_found_in_db, ...).
AUTH_WORDS = re.compile(
    r"(?i)\b(?:api[ _-]?keys?|apikey|authori[sz]ation|authentication|unauthori[sz]ed"
    r"|not authenticated|token_not_found|invalid (?:proxy server )?token|credentials?)\b"
)
HOST_GUARD = "invalid host header"


def denial(response: Response | None) -> str | None:
    """Why the server refused this request, if it did: "key" (no or a wrong key: 401, a
    FastAPI 403 "Not authenticated", a 400/500 naming the key or its database), "host" (a
    Host-header guard: Jan 403, textgen 400), "forbidden" (any other 403), or None."""
    if response is None:
        return None
    err = error_of(response)
    words = f"{err.message} {err.type} {err.code}".lower()
    if HOST_GUARD in words or HOST_GUARD in response.text[:200].lower():
        return "host"
    if response.status == 401:
        return "key"
    if response.status == 403:
        return "key" if "not authenticated" in words else "forbidden"
    if response.status in (400, 500) and AUTH_WORDS.search(words):
        return "key"
    return None


def describe(response: Response | None) -> str:
    """One line on what came back, for summaries: status plus the message, title or start."""
    if response is None:
        return "no answer"
    status = f"HTTP {response.status}"
    title = parse.html_title(response.text) if "<" in response.text[:200] else None
    if title:
        return f"{status} with an HTML page titled “{title}”"
    message = error_of(response).message
    if message:
        return f"{status}: {' '.join(message.split())[:160]}"
    if not response.body:
        return f"{status} with an empty body"
    return f"{status}: {response.snippet(120)}"


ENDPOINTS = ("/chat/completions", "/completions", "/models", "/embeddings", "/responses")
NATIVE_BASES = ("/api", "/api/v0", "/api/v1", "/api/chat", "/api/generate")


def candidate_bases(api_base: str) -> list[tuple[str, str]]:
    """Bases to try when {api_base}/models is no model list, each with the mistake it would
    reveal: endpoint_in_base, double_v1, native_api_base, missing_v1 (in that order)."""
    path = urls.path(api_base).rstrip("/")
    found: list[tuple[str, str]] = []
    for endpoint in ENDPOINTS:
        if path.endswith(endpoint):
            found.append((path[: -len(endpoint)], "endpoint_in_base"))
    if "/v1/v1" in path:
        found.append((path.replace("/v1/v1", "/v1"), "double_v1"))
    if path in NATIVE_BASES:
        found.append(("/v1", "native_api_base"))
    if not path.endswith("/v1"):
        found.append((path + "/v1", "missing_v1"))
    found.append(("/v1", "wrong_path"))
    bases, seen = [], {path}
    for candidate, problem in found:
        if candidate not in seen:
            seen.add(candidate)
            bases.append((urls.with_path(api_base, candidate), problem))
    return bases


async def working_base(fetch: Fetcher, api_base: str) -> tuple[str, str, Listing] | None:
    """The first candidate base whose /models is a model list: (base, mistake, listing)."""
    candidates = candidate_bases(api_base)
    listings = await asyncio.gather(*(list_models(fetch, base) for base, _ in candidates))
    for (base, problem), listing in zip(candidates, listings, strict=True):
        if listing.models is not None:
            return base, problem, listing
    return None
