"""Is a target ready to be diagnosed, or still starting / loading its model? (`check --wait`)

A server that is still loading is not broken: llama-server answers 503 "Loading model" on every
route until its model is in memory (tools/server/server-http.cpp `middleware_server_state`), a
router lists the model with status "loading", vLLM, TGI and llama-cpp-python do not even listen
until they have loaded. `--wait SECONDS` polls every target with one cheap request until each is
ready or the time is up, so a CI job needs no curl loop; the checks then run as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import httpx

from lmdoctor import urls
from lmdoctor.http import LIST_LIMIT

if TYPE_CHECKING:
    from lmdoctor.http import HttpClient, Response
    from lmdoctor.target import Target

POLL_INTERVAL_S = 0.5


@dataclass(frozen=True)
class State:
    """One poll's verdict. `what` says why it is not ready, in words for a progress line."""

    ready: bool
    what: str = ""
    progress: float | None = None  # 0..1 where the server says
    router_model: str | None = None  # a llama.cpp router model loading or downloading now


def _router_entry(body: Any, model_id: str) -> dict[str, Any] | None:
    """The llama.cpp router's entry for model_id (by id or alias), if the list has one."""
    data = body.get("data") if isinstance(body, dict) else None
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("status"), dict):
            continue
        named = entry.get("aliases")
        aliases: list[Any] = named if isinstance(named, list) else []
        if model_id == entry.get("id") or model_id in aliases:
            return entry
    return None


def judge(response: Response | None, model_id: str) -> State:
    """Ready or not, from GET {api_base}/models (None: nothing answered)."""
    if response is None:
        return State(False, "nothing answers yet")
    if response.status == 503:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        message = err.get("message") if isinstance(err, dict) else None
        said = str(message or response.text[:80]).strip()
        return State(False, f"answers 503 “{said}”" if said else "answers 503")
    if response.status == 200:
        body = response.json()
        entry = _router_entry(body, model_id)
        status = entry["status"] if entry else {}
        if entry and status.get("value") in ("loading", "downloading"):
            return State(False, f"{model_id} is {status['value']}", router_model=entry["id"])
        if _llamacpp_meta_pending(body):
            return State(False, "is loading the model (its model list has no metadata yet)")
    return State(True)


def _llamacpp_meta_pending(body: Any) -> bool:
    """Older llama-server let /v1/models through while loading, with `meta: null`."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
        return False
    entry = data[0]
    return entry.get("owned_by") == "llamacpp" and "meta" in entry and entry["meta"] is None


async def poll(http: HttpClient, target: Target) -> State:
    url = urls.join(target.api_base, "models")
    try:
        response = await http.request(
            "GET", url, key=target.api_key, key_origin=target.api_base, limit=LIST_LIMIT
        )
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ValueError):
        response = None
    state = judge(response, target.model_id)
    if state.router_model:  # how far: only the router's event stream says
        from lmdoctor.servers.llamacpp import router_progress

        root = urls.api_root(target.api_base)
        found = await router_progress(
            http, root, target.api_key, target.api_base, state.router_model
        )
        if found:
            state = replace(state, progress=found[0])
    return state


async def wait(
    http: HttpClient,
    targets: Sequence[Target],
    seconds: float,
    show: Callable[[str], None] | None = None,
) -> dict[str, State]:
    """Poll until every endpoint target is ready or `seconds` have passed; the last state of
    each (by target name). `show` gets a one-line progress text on every round."""
    started = time.monotonic()
    pending = {t.name: t for t in targets if t.is_endpoint}
    states: dict[str, State] = {name: State(False) for name in pending}
    while pending:
        found = await asyncio.gather(*(poll(http, t) for t in pending.values()))
        for name, state in zip(list(pending), found, strict=True):
            states[name] = state
            if state.ready:
                del pending[name]
        elapsed = time.monotonic() - started
        if not pending or elapsed >= seconds:
            break
        if show is not None:
            show(progress_line(pending, states, elapsed, seconds))
        await asyncio.sleep(min(POLL_INTERVAL_S, max(0.0, seconds - elapsed)))
    return states


def progress_line(
    pending: dict[str, Target], states: dict[str, State], elapsed: float, seconds: float
) -> str:
    name, target = next(iter(pending.items()))
    host, port = urls.host_port(target.api_base)
    state = states[name]
    pct = f" {state.progress:.0%}" if state.progress is not None else ""
    more = f" (+{len(pending) - 1} more)" if len(pending) > 1 else ""
    return f"waiting {elapsed:.0f}/{seconds:g} s: {host}:{port} {state.what}{pct}{more}"
