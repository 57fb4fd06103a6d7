"""KoboldCpp (llm-servers.md §11): 5001, Server: ConcedoLlamaForKoboldServer, /api/extra/*."""

from __future__ import annotations

from lmdoctor import parse, urls
from lmdoctor.http import Response
from lmdoctor.servers.answers import Listing, Native, Probes, Refusal, Requests, body_json, ok
from lmdoctor.servers.kind import AuthProbe, ServerKind, Signal


def _by_headers(response: Response) -> str | None:
    server = response.headers.get("server", "")
    if "concedollamaforkoboldserver" in server.lower().replace(" ", ""):
        return f"Server: {server} header"
    return None


def _by_denial(answer: Refusal) -> str | None:
    if "Authentication key is missing or invalid" in answer.err.message:
        return f"{answer.status} body: {answer.quote}"
    return None


def _by_probe(probe: Probes) -> str | None:
    if parse.kobold_version(probe.js("/api/extra/version"))[0]:
        return '/api/extra/version result "KoboldCpp"'
    return None


def _version(probe: Probes) -> str | None:
    return parse.kobold_version(probe.data("/api/extra/version"))[0]


async def native(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    ctx_response = await fetch.get(urls.with_path(root, "/api/extra/true_max_context_length"))
    n_ctx = parse.kobold_context(body_json(ctx_response)) if ok(ctx_response) else None
    models = tuple(parse.ModelFacts(id=i, loaded=True, context_length=n_ctx) for i in listing.ids)
    return Native("KoboldCpp /api/extra/true_max_context_length", models)


KIND = ServerKind(
    id="koboldcpp",
    name="KoboldCpp",
    ref="§11",
    get_key="The key is the `--password` KoboldCpp was started with.",
    auth_off="Or restart KoboldCpp without --password.",
    add_model="KoboldCpp serves one model; set the id to the one it lists.",
    context="Restart KoboldCpp with `--contextsize {n}`.",
    accepts_any_model=True,
    ports=(5001,),
    owned_by="koboldcpp",
    signals=(
        Signal("headers", 20, _by_headers),
        Signal("denial", 70, _by_denial),
        Signal("probe", 40, _by_probe),
    ),
    probes=("/api/extra/version",),
    follow_ups=("/api/extra/version",),
    version=_version,
    native=native,
    auth_probe=AuthProbe("GET", "/api/extra/generate/check"),
)
