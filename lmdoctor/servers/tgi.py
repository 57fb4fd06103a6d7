"""Hugging Face TGI (llm-servers.md §8): x-compute-* headers, /info, one model, POST /tokenize."""

from __future__ import annotations

from lmdoctor import parse, urls
from lmdoctor.http import Response
from lmdoctor.servers.answers import Listing, Native, Probes, Requests, body_json
from lmdoctor.servers.kind import AuthProbe, ServerKind, Signal


def _by_headers(response: Response) -> str | None:
    if "x-compute-type" in response.headers or "x-compute-time" in response.headers:
        return "x-compute-* headers"
    return None


def _by_model(m: parse.ListedModel) -> str | None:
    return "/v1/models created 0, owned_by = id" if m.created == 0 and m.owned_by == m.id else None


def _by_probe(probe: Probes) -> str | None:
    return (
        '/info router "text-generation-router"'
        if parse.tgi_info(probe.js("/info")).is_tgi
        else None
    )


def _version(probe: Probes) -> str | None:
    return parse.tgi_info(probe.data("/info")).version


async def native(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    info = parse.tgi_info(body_json(await fetch.get(urls.with_path(root, "/info"))))
    served = info.model_id or (listing.ids[0] if listing.ids else "")
    if not served:
        return Native()
    model = parse.ModelFacts(id=served, loaded=True, context_length=info.max_total_tokens)
    return Native("TGI /info", (model,))


KIND = ServerKind(
    id="tgi",
    name="Hugging Face TGI",
    ref="§8",
    get_key="The key is the `--api-key` given to text-generation-launcher.",
    auth_off="Or restart the launcher without --api-key.",
    add_model="TGI serves one model and ignores the id; set it to the id it lists.",
    context="Restart the launcher with `--max-total-tokens {n}` (and --max-input-tokens).",
    accepts_any_model=True,
    ports=(3000,),
    signals=(
        Signal("headers", 30, _by_headers),
        Signal("model", 40, _by_model),
        Signal("probe", 20, _by_probe),
    ),
    probes=("/info",),
    follow_ups=("/info",),
    version=_version,
    native=native,
    auth_probe=AuthProbe("POST", "/tokenize", {"inputs": "lmdoctor"}),
)
