"""What every server kind shares: bounded, cached requests and readers of their answers.

`Requests` makes side-effect-free probes that never raise (a transport failure is None, its
class kept in `failures`); each distinct request is made once. Readers turn answers into
typed facts: the model list (`Listing`), the native model state (`Native`), refusals
(`denial`), one-line descriptions, and the bases to try when api_base serves no model list.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import httpx

from lmdoctor import modelids, parse, urls
from lmdoctor.http import LIST_LIMIT, PROBE_LIMIT
from lmdoctor.parse import ModelFacts

if TYPE_CHECKING:
    from lmdoctor.http import HttpClient, Response
    from lmdoctor.redact import Secret

PARALLEL = 4  # concurrent probes per target


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

    @property
    def server_kind(self) -> str:
        return self.kind


# -- requests, each made once ------------------------------------------------------------------

RequestKey = tuple[str, str, bool, str]


class Requests:
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
        self._tasks: dict[Any, asyncio.Future[Any]] = {}
        self.failures: dict[RequestKey, str] = {}
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
        key: RequestKey = (method, url, auth, json.dumps(body, sort_keys=True))
        return await self._once(key, lambda: self._send(key, body))

    def failure(self, method: str, url: str, *, auth: bool = False) -> str | None:
        auth = auth and self.has_key
        return next((v for k, v in self.failures.items() if k[:3] == (method, url, auth)), None)

    async def _once(self, key: Any, factory: Any) -> Any:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._tasks[key] = task
        # shield: one check timing out must not cancel the work others wait for
        return await asyncio.shield(task)

    async def aclose(self) -> None:
        """Cancel what is still running and wait (briefly) for it: no request of this target
        may outlive the shared HTTP client, which the CLI closes next."""
        pending = [task for task in self._tasks.values() if not task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)

    async def _send(self, key: RequestKey, body: Any) -> Response | None:
        method, url, auth, _ = key
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
            self.failures[key] = type(exc).__name__
            return None


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


def ok(response: Response | None) -> bool:
    return response is not None and 200 <= response.status < 300


def header(response: Response | None, name: str) -> str:
    return response.headers.get(name, "") if response is not None else ""


class Probes(dict[str, "Response | None"]):
    """The answers to a round of fingerprint probes, by path."""

    def ok(self, path: str) -> bool:
        return ok(self.get(path))

    def data(self, path: str) -> Any:
        """The JSON of a 2xx answer, else None."""
        response = self.get(path)
        return body_json(response) if ok(response) else None

    def js(self, path: str) -> dict[str, Any]:
        """The JSON object of a 2xx answer, else {}."""
        return parse.mapping(self.data(path))

    def header(self, path: str, name: str) -> str:
        return header(self.get(path), name)


# NamedTuple, not a frozen dataclass: the same immutable value (eq, hash, repr by fields), defined
# without the ~3.5 M instructions of exec'd methods a dataclass costs every start-up (NOTES, 13).
class Refusal(NamedTuple):
    """A 400/401/403 answer, read once for the denial signals of every kind."""

    response: Response
    raw: str
    err: parse.ErrorInfo
    body: Any

    @classmethod
    def of(cls, response: Response) -> Refusal:
        return cls(response, response.text[:2000], error_of(response), body_json(response))

    @property
    def status(self) -> int:
        return self.response.status

    @property
    def quote(self) -> str:
        return self.err.message[:80]


# -- the model list at a base ------------------------------------------------------------------


class Listing(NamedTuple):
    """GET {api_base}/models as the client would send it (with the key)."""

    url: str
    response: Response | None
    failure: str | None = None  # transport error class when there was no answer
    models: list[parse.ListedModel] | None = None  # None: the answer is not a model list

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models or []]


async def list_models(fetch: Requests, base: str) -> Listing:
    url = urls.join(base, "models")
    response = await fetch.get(url, auth=True)
    return Listing(url, response, fetch.failure("GET", url, auth=True), listed(response))


# -- native APIs: loaded state, context, size -------------------------------------------------


class Native(NamedTuple):
    """What the server's own API says about its models.

    `models`: every model it knows (LM Studio and Ollama: downloaded ones too; elsewhere the
    served ones). `source` names the API read, for evidence; "" when there is none.
    """

    source: str = ""
    models: tuple[ModelFacts, ...] = ()
    complete: bool = False  # `models` holds every downloaded model, not only served ones
    parallel: int | None = None  # llama.cpp slots sharing the context
    autoload: bool | None = None  # llama.cpp router: loads a model on its first request
    context_silent: bool = False  # its API gives no loaded context (LM Studio 0.3 v0)

    def find(self, model_id: str, default_tag: str | None = None) -> ModelFacts | None:
        for model in self.models:
            if any(modelids.same_model(model_id, name, default_tag) for name in model.names):
                return model
        return None


async def from_listing_only(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    """vLLM/SGLang (max_model_len), and every server without a native reader."""
    models = tuple(
        ModelFacts(
            id=m.id, loaded=True if m.max_model_len else None, context_length=m.max_model_len
        )
        for m in listing.models or []
    )
    return Native("/v1/models" if models else "", models)


async def loaded_listing(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    """Servers whose /v1/models lists the loaded models only (Jan, text-generation-webui)."""
    models = tuple(ModelFacts(id=i, loaded=True) for i in listing.ids)
    return Native("/v1/models (lists loaded models only)", models)


# -- answers that are not a model list ----------------------------------------------------------

# What a 400/500 says when it is really about the key (LiteLLM token_not_found_in_db, ...). A
# pattern, compiled (and cached) by re on first use: only a 400/500 answer needs it.
AUTH_WORDS = (
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
    if response.status in (400, 500) and re.search(AUTH_WORDS, words):
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


async def working_base(fetch: Requests, api_base: str) -> tuple[str, str, Listing] | None:
    """The first candidate base whose /models is a model list: (base, mistake, listing)."""
    candidates = candidate_bases(api_base)
    listings = await asyncio.gather(*(list_models(fetch, base) for base, _ in candidates))
    for (base, problem), listing in zip(candidates, listings, strict=True):
        if listing.models is not None:
            return base, problem, listing
    return None
