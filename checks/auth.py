"""Does the server want a key, and is the configured one right? (llm-servers.md §14 D)

The same protected request is sent twice: (a) with no key, (b) with the configured key (only
to the target's own origin). Several servers leave /v1/models open and guard other routes, so
the request is one the server protects and that generates nothing: llama.cpp `GET /props`
(which never wakes a sleeping model), TGI `POST /tokenize`, KoboldCpp
`GET /api/extra/generate/check`, everyone else `GET {api_base}/models`; an unrecognised
server whose model list is open gets `POST {api_base}/chat/completions` with an empty messages
list and max_tokens 1.
"""

from __future__ import annotations

from lmdoctor import parse, redact, servers, urls
from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, error, info, ok
from lmdoctor.http import Response
from lmdoctor.registry import Check
from lmdoctor.target import Target

OPENAI_FIX = (
    "The request reaches OpenAI's API, not a local server. If you meant a local server, set "
    "{base_key} to it (e.g. http://localhost:1234/v1) and give the model a provider prefix "
    "PicoClaw knows (lmstudio/, ollama/, vllm/); otherwise put an OpenAI key in {keys_key}."
)


def keys_key(target: Target) -> str:
    if target.config_path is None:
        return "--api-key (or $LMDOCTOR_API_KEY)"
    return f".security.yml model_list.{target.name}.api_keys (or {target.where}.api_keys)"


def quote(response: Response | None) -> str:
    if response is None:
        return ""
    title = parse.html_title(response.text) if "<" in response.text[:100] else None
    if title:
        return f"an HTML page titled “{redact.scrub(title)}”"
    message = " ".join((servers.error_of(response).message or response.snippet(200)).split())
    return redact.scrub(message if len(message) <= 200 else message[:200] + "…")


def why(kind: servers.ServerKind, response: Response | None) -> tuple[str | None, str]:
    """(refusal, note): denial()'s word for a refusal ("key", "host", "forbidden") or None,
    and the server kind's explanation of an answer that is a refusal in disguise."""
    explained = kind.explain_refusal(response) if kind.explain_refusal and response else None
    if explained is not None:
        return explained
    return servers.denial(response), ""


def passed(response: Response | None) -> bool:
    """The request got past the server's key check (whatever it then said about the body)."""
    return (
        response is not None
        and servers.denial(response) is None
        and response.status < 500
        and response.status not in (404, 405)
    )


async def probe(
    ctx: Ctx, kind: servers.ServerKind
) -> tuple[str, str, object, Response | None]:
    """(method, url, body, answer without a key) for a request this server protects."""
    fetch, target = ctx.client, ctx.target
    if kind.auth_probe is not None:
        method, path, body = kind.auth_probe.method, kind.auth_probe.path, kind.auth_probe.body
        url = urls.join(urls.api_root(target.api_base), path)  # under an --api-prefix too
        answer = await fetch.send(method, url, body=body)
        if answer is not None and answer.status not in (404, 405):
            return method, url, body, answer
    url = urls.join(target.api_base, "models")
    answer = await fetch.get(url)
    if not kind.models_guarded and passed(answer):
        # Unknown server, open model list: completions may still be guarded. An empty
        # messages list is rejected before any generation by the servers we know.
        body = {"model": target.model_id, "messages": [], "max_tokens": 1}
        chat = urls.join(target.api_base, "chat/completions")
        posted = await fetch.send("POST", chat, body=body)
        if posted is not None and posted.status not in (404, 405):
            return "POST", chat, body, posted
    return "GET", url, None, answer


async def run(ctx: Ctx) -> list[Finding]:
    target = ctx.target
    found = await ctx.server()
    kind = found.kind if found else None
    facts = servers.likely(kind, target.provider)
    method, url, body, without = await probe(ctx, servers.by_id(kind))
    evidence: dict[str, object] = {
        "request": f"{method} {urls.path(url) or '/'}",
        "status_without_key": without.status if without is not None else None,
        "server": kind,
    }
    # Unidentified (every route refused): the kind the provider names explains its refusals
    # (Ollama's Host guard answers a bare 403 even to GET /, so nothing identifies it).
    server_kind = facts
    refusal, note = why(server_kind, without)
    if refusal is None and passed(without):
        if target.api_key:
            return [
                info(
                    "auth.key_not_needed",
                    f"{facts.title} does not check keys: {evidence['request']} works without one",
                    "The configured key is sent but ignored.",
                    " ".join(("Nothing to fix.", server_kind.require_keys)).strip(),
                    **evidence,
                    key_source=target.sources.get("api_key"),
                )
            ]
        return [ok("auth.ok", f"{facts.title} needs no key", **evidence)]
    with_key = None
    if target.api_key and refusal != "host":
        # Also when the keyless answer was neither a refusal nor a success (a 5xx, a 404):
        # the configured key decides, as it does for the client.
        with_key = await ctx.client.send(method, url, auth=True, body=body)
        evidence["status_with_key"] = with_key.status if with_key is not None else None
        keyed_refusal, keyed_note = why(server_kind, with_key)
        if keyed_refusal is None and passed(with_key):
            if refusal is None:
                evidence["without_key"] = servers.describe(without)
            return [ok("auth.ok", f"{facts.title} accepts the configured key", **evidence)]
        refusal, note = keyed_refusal, keyed_note
        if refusal is None:
            return [failed(with_key, url, facts.title, evidence)]
    elif refusal is None:  # no key to try: a 5xx, a 404 or no answer stays unexplained
        return [failed(without, url, facts.title, evidence)]
    answer = with_key if with_key is not None else without
    evidence["server_message"] = quote(answer)
    if note:
        evidence["server_note"] = note
    return [refused(target, kind, refusal, answer, evidence)]


def refused(
    target: Target, kind: str | None, refusal: str | None, answer: Response | None, evidence: dict
) -> Finding:
    facts = servers.likely(kind, target.provider)
    text = answer.text if answer is not None else ""
    to_openai = servers.openai.reached(kind, text)
    evidence["reached_openai"] = to_openai
    said = f"It answers {evidence['request']} with HTTP {answer.status if answer else '?'}"
    said += f": “{evidence['server_message']}”" if evidence["server_message"] else " (empty body)"
    if evidence.get("server_note"):
        said += f". {evidence['server_note']}"
    how_to = " ".join(filter(None, (facts.get_key, facts.auth_off)))
    if to_openai:
        base_key = f"{target.where}.api_base" if target.config_path else "the URL"
        how_to = OPENAI_FIX.format(base_key=base_key, keys_key=keys_key(target))
    if refusal in ("host", "forbidden"):
        guard = refusal == "host"
        return error(
            "auth.forbidden",
            f"{facts.title} refuses the request"
            + (" because of the Host header" if guard else " (HTTP 403)"),
            f"{said}."
            + (
                ""
                if guard and evidence.get("server_note")  # the server kind names the cause
                else " A refusal like this is a Host-header guard, a region or scope "
                "restriction, or a key without access to this model."
            ),
            (facts.forbidden if guard and facts.forbidden else how_to)
            or "Give this key access to the model on the server.",
            **evidence,
        )
    if not target.api_key:
        prefix = "The request reaches OpenAI, which" if to_openai else facts.title
        return error(
            "auth.missing_key",
            f"{prefix} wants an API key and none is configured",
            f"{said}. PicoClaw sends no Authorization header when the entry has no key.",
            f"Put the key in {keys_key(target)}. {how_to}",
            **evidence,
        )
    source = target.sources.get("api_key", "the configuration")
    prefix = "The request reaches OpenAI, which" if to_openai else facts.title
    return error(
        "auth.invalid_key",
        f"{prefix} rejects the configured key (from {source})",
        f"{said} (without a key: HTTP {evidence['status_without_key']}). The key is "
        f"{target.api_key.fingerprint()}.",
        f"Replace the key in {source}. {how_to}",
        **evidence,
        key_source=source,
        key_shape=target.api_key.fingerprint(),
    )


def failed(answer: Response | None, url: str, name: str, evidence: dict) -> Finding:
    what = servers.describe(answer)
    code = "http.no_answer" if answer is None else "http.bad_response"
    return error(
        "http.server_error" if answer is not None and answer.status >= 500 else code,
        f"The key check failed: {evidence['request']} → {what}",
        f"{name} answered neither a refusal nor a success.",
        "Read the server's log for this request; restart the server if it persists.",
        **evidence,
        url=urls.display(url),
        body=answer.snippet() if answer is not None else None,
    )


CHECK = Check(
    id="auth",
    title="API key",
    run=run,
    needs=("server",),
    codes=(
        "auth.ok",
        "auth.missing_key",
        "auth.invalid_key",
        "auth.forbidden",
        "auth.key_not_needed",
    ),
)
