"""Is the id the client sends served, loaded, and loaded with enough context? (§14 E)

The listing (GET {api_base}/models) says what is served; the server's own API says what is
loaded and with which context (LM Studio /api/v1|v0/models, Ollama /api/ps + /api/show,
llama.cpp /props and router status, vLLM max_model_len, TGI /info).
"""

from __future__ import annotations

from lmdoctor import modelids
from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, error, info, ok, warn
from lmdoctor.modelids import closest, model_value, sent_because, set_model, why_missing
from lmdoctor.parse import ModelFacts
from lmdoctor.registry import Check
from lmdoctor.servers import ServerKind
from lmdoctor.target import Target

LOAD_GBPS = 0.6  # rough cold-load speed (LM Studio: 15–25 s for a 20B model, §15 item 12)
OFFLOAD_FIX = (
    "Free GPU memory (unload other models: `ollama stop <model>`), lower num_ctx, or use a "
    "smaller quantization."
)


def not_found(target: Target, facts: ServerKind, ids: list[str]) -> Finding:
    reason, meant = why_missing(target, ids, facts.default_tag)
    add = facts.add_model.format(id=target.model_id)
    fix = add
    if meant:
        fix = f"{set_model(target, meant)}; or: {add}"
    return error(
        "model.not_found",
        f"{facts.title} does not serve `{target.model_id}`: {reason}",
        f"{sent_because(target)}. {facts.title} lists {len(ids)} model(s)"
        + (f"; closest: {', '.join(closest(target.model_id, ids))}" if ids else "")
        + ".",
        fix,
        model=target.model,
        model_id=target.model_id,
        model_source=target.sources.get("model"),
        closest=closest(target.model_id, ids),
        meant=meant,
        listed=[i[:200] for i in ids[:20]],
        listed_count=len(ids),
    )


def unasked(title: str, ids: list[str]) -> Finding:
    """No model id was given (`check URL` alone): say what the server serves."""
    listed = ", ".join(f"`{i}`" for i in ids[:3]) + (f" and {len(ids) - 3} more" if ids[3:] else "")
    return ok(
        "model.ok",
        f"{title} serves {listed}; give --model ID to check the id your client sends",
        listed=ids[:20],
    )


def mismatch(target: Target, facts: ServerKind, served: str) -> Finding:
    add = facts.add_model.format(id=target.model_id)
    if target.config_path is not None and model_value(target, served) is None:
        # an id PicoClaw cannot send (a file path): only an alias on the server helps
        fix = f"{set_model(target, served)}. " + add.replace(", or use the id it lists", "")
    else:
        fix = f"If `{served}` is what you want, say so. {set_model(target, served)}. " + add
    return warn(
        "model.mismatch",
        f"{facts.title} answers every model id with `{served}`, not `{target.model_id}`",
        f"{sent_because(target)}; {facts.name} does not check the id, so requests work but "
        f"`{served}` answers them.",
        fix,
        model_id=target.model_id,
        served=served,
    )


def load_seconds(size: int | None) -> int | None:
    """Rough whole seconds to load a model of `size` bytes (LOAD_GBPS), or None."""
    return round(size / (LOAD_GBPS * 1e9)) if size else None


def longer_timeout(target: Target, load_s: int | None) -> str:
    """Advice to raise request_timeout to twice the load (" Or raise … above N s.") when the
    load may take half of it or more: a cold start plus the answer; "" otherwise."""
    if not load_s or load_s < target.request_timeout / 2:
        return ""
    key = f"{target.where}.request_timeout" if target.config_path else "request_timeout"
    return f" Or raise {key} above {2 * load_s} s."


def not_loaded(target: Target, facts: ServerKind, jit: bool | None, size: int | None) -> Finding:
    load_s = load_seconds(size)
    timing = ""
    if load_s and jit is not False:
        timing = f" (roughly {load_s} s for {size / 1e9:.1f} GB"
        timing += (
            f", beyond PicoClaw's request_timeout of {target.request_timeout:g} s)"
            if load_s >= target.request_timeout
            else ")"
        )
    fix = facts.load_model.format(id=target.model_id) or "Load the model on the server."
    fix += longer_timeout(target, load_s)
    severity = error if jit is False else warn
    jit_text = facts.loading(jit)
    return severity(
        "model.not_loaded",
        f"`{target.model_id}` is known to {facts.name} but not loaded",
        f"{jit_text}{timing}.",
        fix,
        model_id=target.model_id,
        jit=jit,
        size_bytes=size,
        estimated_load_s=load_s,
        request_timeout=target.request_timeout,
    )


def asleep(target: Target, facts: ServerKind, model: ModelFacts) -> Finding:
    """A model the server unloaded when idle and reloads on the next request (llama-server
    --sleep-idle-seconds): requests work, the first one waits for the reload. A warning only
    when that reload may outlast the client's request_timeout."""
    size = model.size_bytes
    load_s = load_seconds(size)
    timing = f" (up to roughly {load_s} s for {size / 1e9:.1f} GB)" if size and load_s else ""
    longer = longer_timeout(target, load_s)
    fix = facts.keep_awake + longer
    severity = warn if longer else info
    return severity(
        "model.sleeping",
        f"`{target.model_id}` is asleep on {facts.name}: the next request wakes it",
        facts.wakes_on_request.format(timing=timing) + ".",
        fix,
        model_id=target.model_id,
        status=model.status,
        size_bytes=size,
        estimated_load_s=load_s,
        request_timeout=target.request_timeout,
    )


def loading(target: Target, facts: ServerKind, model: ModelFacts) -> Finding:
    """A model loading or downloading right now (llama.cpp router); its progress where the
    server reports it."""
    how_far = f" ({model.progress})" if model.progress else ""
    return warn(
        "model.loading",
        f"`{target.model_id}` is {model.status} on {facts.name} right now{how_far}",
        f"The server lists it with status “{model.status}”; requests for it wait "
        "until it is ready.",
        "Wait for it (`lmdoctor check --wait 300` waits for you), then run lmdoctor again.",
        model_id=target.model_id,
        status=model.status,
        progress=model.progress,
    )


def load_failed(target: Target, facts: ServerKind, model: ModelFacts) -> Finding:
    """A router model whose last load failed: requests for it fail until it loads."""
    return error(
        "model.not_loaded",
        f"`{target.model_id}` failed to load on {facts.name} (exit code {model.exit_code})",
        f"The model process exited with code {model.exit_code} while loading `{model.id}`; "
        "requests for it fail until a load succeeds.",
        "Read the server's log for this model's load (a missing or broken GGUF file, not "
        "enough memory, a bad preset option), fix it, then "
        + (facts.load_model.format(id=model.id) or "load it again."),
        model_id=target.model_id,
        status=model.status,
        exit_code=model.exit_code,
    )


def context_unknown(target: Target, facts: ServerKind, source: str) -> Finding:
    """Loaded, but the server's API gives no loaded context (LM Studio 0.3 /api/v0/models
    documents only max_context_length: lmstudio-ai/docs 1_developer/2_rest/endpoints.mdx)."""
    return info(
        "model.context_unknown",
        f"{facts.title} does not say with which context `{target.model_id}` is loaded",
        f"{source} gives no loaded context length, so lmdoctor cannot check it against "
        f"PicoClaw's max_tokens ({target.max_tokens:,}) and context_window "
        f"({target.client_context:,}).",
        facts.context.format(id=target.model_id, n=target.client_context)
        if facts.context
        else "",
        model_id=target.model_id,
        source=source,
    )


def context_check(
    target: Target, facts: ServerKind, model: ModelFacts, source: str, name: str
) -> list[Finding]:
    n = model.context_length
    if not n or (n > target.max_tokens and n >= target.client_context):
        return []
    needed = min(target.client_context, model.max_context_length or target.client_context)
    keep = (
        f"set agents.defaults.max_tokens to {max(n // 4, 256)} and "
        f"agents.defaults.context_window to {n} in config.json."
    )
    if n >= needed:  # loaded with all the model holds, or all PicoClaw keeps: no reload helps
        limit = model.max_context_length
        why = (
            f"The model supports at most {limit:,} tokens and is loaded with {n:,}"
            if limit and n >= limit
            else f"The {n:,} tokens loaded hold the history PicoClaw keeps, but max_tokens "
            "leaves no room for the prompt"
        )
        fix = f"{why}: {keep}"
    else:
        how = facts.context.format(id=target.model_id, n=needed) if facts.context else ""
        if how and needed < target.client_context:  # the model cannot hold what PicoClaw plans
            how += (
                f" The model supports at most {needed:,} tokens, so also set "
                f"agents.defaults.context_window to {needed} and max_tokens to at most "
                f"{needed // 4} in config.json."
            )
        fix = f"{how} To keep the current load instead, {keep}".strip()
    return [
        warn(
            "model.context_too_small",
            f"`{name}` is loaded with a {n:,}-token context; PicoClaw asks for up to "
            f"{target.max_tokens:,} new tokens and keeps {target.client_context:,} in history",
            "PicoClaw sends max_tokens (agents.defaults.max_tokens, default 32768) and trims "
            "history to agents.defaults.context_window (4 × max_tokens when unset); a request "
            f"whose prompt plus max_tokens exceeds {n:,} is refused or cut by the server.",
            fix,
            loaded_context=n,
            max_tokens=target.max_tokens,
            client_context=target.client_context,
            max_context_length=model.max_context_length,
            source=source,
        )
    ]


def offload_check(target: Target, model: ModelFacts) -> list[Finding]:
    size, vram = model.size_loaded, model.size_vram
    if not size or vram is None or not 0 < vram < size:
        return []
    share = round(100 * vram / size)
    return [
        warn(
            "capacity.partial_offload",
            f"Only {share}% of `{model.id}` is in GPU memory; the rest runs on the CPU (slow)",
            f"Measured by Ollama (/api/ps): size {size:,} bytes, size_vram {vram:,} bytes.",
            OFFLOAD_FIX,
            size=size,
            size_vram=vram,
            gpu_percent=share,
            measured=True,
        )
    ]


async def run(ctx: Ctx) -> list[Finding]:
    target = ctx.target
    found = await ctx.server()
    listing = await ctx.listing()
    if listing.models is None:
        return []  # the server and auth checks explain why there is no list
    facts, ids = await ctx.server_kind(), listing.ids
    if not target.model_id and ids:  # `check URL` without --model: nothing to compare
        return [unasked(facts.title, ids)]
    state = await ctx.native()
    tag = facts.default_tag
    model = state.find(target.model_id, tag)
    served = modelids.find(target.model_id, ids, tag)
    if served is None:  # llama.cpp router: a request may name one of a model's aliases
        served = next((m.id for m in listing.models if target.model_id in m.aliases), None)
    router = bool(found and found.evidence.get("mode") == "router")
    findings: list[Finding] = []
    if served is None and facts.accepts_any_id(router) and ids:
        model = state.find(ids[0], tag)
        findings.append(mismatch(target, facts, ids[0]))
    elif served is None and model is not None and model.loaded is False and facts.jit:
        return [not_loaded(target, facts, False, model.size_bytes)]  # downloaded, JIT off
    elif served is None and not ids:
        message = facts.none_loaded or f"{facts.title} serves no model"
        nothing_downloaded = state.complete and not state.models
        how = facts.add_model if nothing_downloaded else facts.load_model or facts.add_model
        fix = how.format(id=target.model_id or "MODEL_ID")
        kind = found.kind if found else None
        return [error("model.none_loaded", message, "GET /models lists nothing.", fix, server=kind)]
    elif served is None:
        return [not_found(target, facts, ids)]
    else:
        as_ = f" (listed as `{served}`)" if served != target.model_id else ""
        # loaded/context_tokens: for the OpenMetrics output (None where the server says nothing)
        findings.append(
            ok(
                "model.ok",
                f"`{target.model_id}` is served{as_}",
                listed_as=served,
                loaded=model.loaded if model else None,
                context_tokens=model.context_length if model else None,
            )
        )
    if model is not None and model.exit_code is not None:
        findings.append(load_failed(target, facts, model))
    elif model is not None and model.status in ("loading", "downloading"):
        findings.append(loading(target, facts, model))
    elif model is not None and model.status == "sleeping" and facts.wakes_on_request:
        findings.append(asleep(target, facts, model))
    elif model is not None and model.loaded is False:
        jit = True if facts.jit else state.autoload  # listed although not loaded: JIT is on
        findings.append(not_loaded(target, facts, jit, model.size_bytes))
    if model is not None and model.loaded and not model.context_length and state.context_silent:
        findings.append(context_unknown(target, facts, state.source))
    if model is not None:
        findings += context_check(target, facts, model, state.source, served or model.id)
        findings += offload_check(target, model)
    return findings


CHECK = Check(
    id="models",
    title="Model served and loaded",
    run=run,
    needs=("server", "auth"),
    codes=(
        "model.ok",
        "model.not_found",
        "model.none_loaded",
        "model.not_loaded",
        "model.context_too_small",
        "model.mismatch",
        "model.context_unknown",
        "model.loading",
        "model.sleeping",
        "capacity.partial_offload",
    ),
)
