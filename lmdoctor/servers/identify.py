"""The fingerprint procedure (llm-servers.md §14 B): which server kind answers at a base URL.

Every probe is a side-effect-free GET, sent without a key first. The signals themselves live
in each kind's module; this module runs them stage by stage, each stage in `rank` order:
response headers, GET /, the model list (per entry, then as a whole), a refusal's body; then
follow-up probes confirm the likely kind (or discriminators decide an unknown one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from lmdoctor import parse, urls
from lmdoctor.servers.answers import (
    Probes,
    Refusal,
    Requests,
    ServerInfo,
    header,
    listed,
    ok,
)
from lmdoctor.servers.kind import GENERIC_ID, ServerKind, Signal, Stage
from lmdoctor.servers.registry import KINDS, by_id

if TYPE_CHECKING:
    from lmdoctor.http import HttpClient, Response
    from lmdoctor.redact import Secret

# vLLM and SGLang refuse a missing key with the same body; their probes tell them apart.
VLLM_OR_SGLANG = "vllm|sglang"
SHARED_SIGNALS = (
    Signal(
        "denial",
        100,
        lambda a: (
            '401 body {"error":"Unauthorized"}' if a.body == {"error": "Unauthorized"} else None
        ),
        kind=VLLM_OR_SGLANG,
    ),
)
SHARED_FOLLOW_UPS = {VLLM_OR_SGLANG: ("/version", "/get_model_info", "/readyz")}


def _kinds() -> Iterable[ServerKind]:
    return KINDS.values()


def _signals(stage: Stage) -> list[tuple[str, Signal]]:
    found = [(s.kind or k.id, s) for k in _kinds() for s in k.signals if s.stage == stage]
    found += [(s.kind or "", s) for s in SHARED_SIGNALS if s.stage == stage]
    return sorted(found, key=lambda pair: pair[1].rank)


def _first(stage: Stage, value: Any) -> tuple[str, str] | None:
    for kind, signal in _signals(stage):
        said = signal.test(value)
        if said:
            return kind, said
    return None


def discriminators() -> tuple[str, ...]:
    """Probes that decide an unknown server (all GET, all free of side effects)."""
    return tuple(dict.fromkeys(p for k in _kinds() for p in k.probes))


def _from_listing(models: list[parse.ListedModel]) -> tuple[str, str] | None:
    owners = {k.owned_by: k.id for k in _kinds() if k.owned_by}
    for m in models:
        if m.owned_by in owners:
            return owners[m.owned_by], f'/v1/models owned_by "{m.owned_by}"'
        found = _first("model", m)
        if found:
            return found
    return _first("listing", models) if models else None


def _from_denial(response: Response | None) -> tuple[str, str] | None:
    """Who sent this 401/403 (or host-guard 400)? The bodies differ per server (§0 table)."""
    if response is None or response.status not in (400, 401, 403):
        return None
    return _first("denial", Refusal.of(response))


def _from_headers(responses: list[Response]) -> tuple[str, str] | None:
    return next(filter(None, (_first("headers", r) for r in responses)), None)


def _from_root(response: Response | None) -> tuple[str, str] | None:
    return _first("root", response) if ok(response) else None


async def identify(
    http: HttpClient, base_url: str, key: Secret | None = None, key_origin: str | None = None
) -> ServerInfo | None:
    """Fingerprint whatever answers at base_url's origin; None if it is not an LLM server."""
    return await identify_with(Requests(http, key, key_origin), base_url)


async def identify_with(fetch: Requests, base_url: str) -> ServerInfo | None:
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
        _from_headers(answers) or _from_root(home) or (_from_listing(models) if models else None)
    )
    found = found or _from_denial(v1) or _from_denial(base)
    if fetch.has_key and (found is None or found[0] == VLLM_OR_SGLANG) and not models:
        keyed = await fetch.get(at("/v1/models"), auth=True)
        models = listed(keyed)
        found = (_from_listing(models) if models else None) or found
    kind = found[0] if found else None
    if found:
        signals.append(found[1])
    if kind is None:
        paths = discriminators()
    else:
        paths = SHARED_FOLLOW_UPS.get(kind) or by_id(kind).follow_ups
    responses = await asyncio.gather(*(fetch.get(at(p)) for p in paths))
    probe = Probes(zip(paths, responses, strict=True))
    kind = _settle(kind, probe, signals)
    if kind is None:
        if models is None:
            return None
        kind = GENERIC_ID
        signals.append("/v1/models answers an OpenAI model list")
    server_kind = by_id(kind)
    extra = server_kind.version_probe
    if extra and extra not in probe:
        probe[extra] = await fetch.get(at(extra))
    server = next((header(r, "server") for r in answers if header(r, "server")), None)
    info = _info(kind, server_kind.version(probe), signals, server)
    if models is None and fetch.has_key:
        # A guarded list (llama-server --api-key): a router shows its mode only to the key.
        # The same keyed request the model check makes, so nothing extra is sent.
        models = listed(await fetch.get(urls.join(base_url, "models"), auth=True))
    mode = server_kind.mode(models or [])
    if mode:
        info.evidence["mode"] = mode
    return info


def _settle(kind: str | None, probe: Probes, signals: list[str]) -> str | None:
    """Confirm or decide the kind from the second round of probes."""
    if kind is None or kind == VLLM_OR_SGLANG:
        decided = _first("probe", probe)
        if decided:
            signals.append(decided[1])
            return decided[0]
        if kind == VLLM_OR_SGLANG:
            signals.append(
                "vLLM and SGLang send the same 401; neither /version nor "
                "/get_model_info told them apart"
            )
            return GENERIC_ID
        return None
    return by_id(kind).settled(probe, signals)


def _info(kind: str, version: str | None, signals: list[str], server: str | None) -> ServerInfo:
    evidence: dict[str, Any] = {"signals": signals}
    if server:
        evidence["server_header"] = server[:100]
    return ServerInfo(kind, by_id(kind).name, version, evidence)
