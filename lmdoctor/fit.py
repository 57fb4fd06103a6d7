"""Will the target's model fit this machine, and how fast will it run? (shared by checks)

The capacity check reports this estimate and the bench check compares its measurement with
it; both read it through `fit.local_estimate(ctx)`, computed once per target (in the target's
one cache, `ctx.client`). Size: the server's
facts (`Ctx.model()`) over what the id's name says; hardware: the run's one snapshot.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from lmdoctor import estimate, hardware, modelids, modelname, net, urls

if TYPE_CHECKING:
    from lmdoctor.context import Ctx

# (estimate, facts): the estimate is None for remote endpoints and unknown sizes; facts say
# why ("remote": host, "unknown": True) and hold "details", "snapshot", "kind" otherwise.
LocalEstimate = tuple["estimate.Estimate | None", dict[str, Any]]


async def local_estimate(ctx: Ctx) -> LocalEstimate:
    """The fit and speed estimate for the target's model on this machine, once per target."""
    return await ctx.client.once(local_estimate, lambda: _local_estimate(ctx))


async def _local_estimate(ctx: Ctx) -> LocalEstimate:
    target = ctx.target
    host = urls.host_port(target.api_base)[0]
    if not await net.is_served_here(host, ctx.settings.connect_timeout):
        return None, {"remote": host}
    details = await ctx.model()
    found = await ctx.server()
    kind = found.kind if found else target.provider
    # A server that answers every id with its one model (llama.cpp, a single LM Studio model)
    # runs what it serves, not what the config names: estimate that one, and say so.
    served = await _served_instead(ctx)
    if served is not None:
        details = (await ctx.native()).find(served, (await ctx.server_kind()).default_tag)
    spec = estimate.merge_details(modelname.parse(served or target.model_id, kind), details)
    if served is not None:
        note = f"estimated for {served}, the model the server serves (the config names "
        spec = replace(spec, notes=(f"{note}{target.model_id})", *spec.notes))
    if not spec.known:
        return None, {"unknown": True, "details": details}
    snap = await hardware.sample(ctx.session)
    machine = estimate.machine_from_snapshot(snap)
    loaded = details.loaded if details else None
    # the context the server allocates (loaded, or configured); else the servers' default
    context = (details.context_length if details else None) or estimate.DEFAULT_CONTEXT
    prompt = min(estimate.AGENT_PROMPT_TOKENS, context)
    est = estimate.estimate(spec, machine, context, prompt, loaded=loaded)
    facts: dict[str, Any] = {"details": details, "snapshot": snap, "kind": kind}
    if served is not None:
        facts["served"] = served
    return est, facts


async def _served_instead(ctx: Ctx) -> str | None:
    """The model a server that answers any id serves instead of the configured one, else None
    (the models check's model.mismatch rule)."""
    listing = await ctx.listing()
    ids = listing.ids if listing.models is not None else []
    server_kind = await ctx.server_kind()
    if not ids or modelids.find(ctx.target.model_id, ids, server_kind.default_tag) is not None:
        return None
    found = await ctx.server()
    router = bool(found and found.evidence.get("mode") == "router")
    return ids[0] if server_kind.accepts_any_id(router) else None
