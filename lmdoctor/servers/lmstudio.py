"""LM Studio (llm-servers.md §1): Express server on 1234, native REST /api/v1 (0.4+) and /api/v0."""

from __future__ import annotations

from lmdoctor import parse, urls
from lmdoctor.http import Response
from lmdoctor.servers.answers import (
    Listing,
    Native,
    Refusal,
    Requests,
    body_json,
    from_listing_only,
    header,
    ok,
)
from lmdoctor.servers.kind import ServerKind, Signal

UNEXPECTED = "Unexpected endpoint or method"  # LM Studio's 200 answer to unknown paths
JIT = {
    True: "Just-in-Time loading is on, so the first request loads it and waits for the load",
    False: "Just-in-Time loading is off, so requests for it fail until it is loaded",
    None: (
        "If Just-in-Time loading is on, the first request loads it and waits for the load; "
        "if it is off, requests fail until it is loaded"
    ),
}


def _by_headers(response: Response) -> str | None:
    if header(response, "x-powered-by").lower() == "express" and UNEXPECTED in response.text[:500]:
        return 'X-Powered-By: Express + "Unexpected endpoint or method" body'
    return None


def _by_denial(answer: Refusal) -> str | None:
    if "LM Studio" in answer.err.message:
        return f"{answer.status} body: {answer.quote}"
    return None


async def native(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    v1 = await fetch.get(urls.with_path(root, "/api/v1/models"), auth=True)
    if ok(v1) and isinstance(parse.mapping(body_json(v1)).get("models"), list):
        return Native(
            "LM Studio /api/v1/models", tuple(parse.lmstudio_v1_models(body_json(v1))), True
        )
    v0 = await fetch.get(urls.with_path(root, "/api/v0/models"), auth=True)
    if ok(v0) and isinstance(parse.mapping(body_json(v0)).get("data"), list):
        # v0 documents no loaded context (lmstudio-ai/docs@c6854fba 1_developer/2_rest/
        # endpoints.mdx:40-90: state, max_context_length): some builds add
        # loaded_context_length, read when present; otherwise the check says it cannot tell.
        return Native(
            "LM Studio /api/v0/models",
            tuple(parse.lmstudio_v0_models(body_json(v0))),
            True,
            context_silent=True,
        )
    return await from_listing_only(fetch, root, listing, model_id)


KIND = ServerKind(
    id="lmstudio",
    name="LM Studio",
    ref="§1",
    get_key=(
        "Create a token in LM Studio: Developer → Server Settings → Manage Tokens "
        "(tokens look like sk-lm-…)."
    ),
    auth_off="Or switch off Developer → Server Settings → Require Authentication.",
    require_keys="To require keys, switch on Developer → Server Settings → Require Authentication.",
    add_model=(
        "Download and load it in LM Studio (Developer tab → Load Model, or "
        "`lms load {id}`), or re-copy the API Model Identifier from the right-hand "
        "panel and use it as `lmstudio/<identifier>`."
    ),
    load_model="Load it in LM Studio's Developer tab, or run `lms load {id}`.",
    context=(
        "Reload it with a larger context: Developer tab → model settings → Context "
        "Length ≥ {n}, or `lms load {id} --context-length {n}`."
    ),
    start="Start the LM Studio server (Developer tab → Start Server, or `lms server start`)",
    # `lms` is on PATH only after `lms bootstrap` (LM Studio docs, "lms"); on Windows a port in a
    # range Hyper-V, WSL2 or Docker reserved makes the server fail with "listen EACCES"
    # (Microsoft: `netsh interface ipv4 show excludedportrange`)
    start_on={
        "Windows": "Start the LM Studio server (Developer tab → Start Server, or `lms server "
        "start`; if `lms` is not found, run `%USERPROFILE%\\.lmstudio\\bin\\lms.exe bootstrap` "
        "once). If its log says 'listen EACCES', port PORT lies in a range Windows reserved for "
        "Hyper-V, WSL2 or Docker: list them with `netsh int ipv4 show excludedportrange "
        "protocol=tcp` and use a port outside them",
        "Darwin": "Start the LM Studio server (Developer tab → Start Server, or `lms server "
        "start`; if `lms` is not found, run `~/.lmstudio/bin/lms bootstrap` once)",
    },
    open_to_lan='In LM Studio turn on Developer → Server Settings → "Serve on Local Network" '
    "(or `lms server start --bind 0.0.0.0`)",
    none_loaded=(
        "LM Studio serves no model: nothing is loaded and Just-in-Time loading is off "
        "(or nothing is downloaded)"
    ),
    jit_texts=JIT,
    ports=(1234,),
    names_port=True,
    usual_port=1234,
    short="LM Studio",
    processes=("lm studio", "lm-studio"),
    providers=("lmstudio",),
    owned_by="organization_owner",
    signals=(Signal("headers", 40, _by_headers), Signal("denial", 20, _by_denial)),
    native=native,
)
