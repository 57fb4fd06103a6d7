"""Which server answers, and is api_base the path of its OpenAI-compatible API?

GET {api_base}/models is what the client's base must serve. Bodies are parsed, not only
status codes: LM Studio answers wrong paths with HTTP 200 and an error body (llm-servers.md
§1, §14 C). When the base is wrong, lmdoctor finds the one that works and names it.
"""

from __future__ import annotations

from lmdoctor import parse, servers, urls
from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, Severity, error, info
from lmdoctor.http import Response
from lmdoctor.registry import Check
from lmdoctor.target import Target

PATH_CODES = {
    "missing_v1": "http.missing_v1",
    "double_v1": "http.double_v1",
    "endpoint_in_base": "http.endpoint_in_base",
    "native_api_base": "http.native_api_base",
    "wrong_path": "http.missing_v1",
}
PATH_SUMMARIES = {
    "missing_v1": "api_base lacks /v1: {base} serves no model list, {working} does",
    "double_v1": "api_base repeats /v1: {base} serves no model list, {working} does",
    "endpoint_in_base": (
        "api_base ends in an endpoint path: PicoClaw appends /chat/completions itself, so the "
        "base must be {working}"
    ),
    "native_api_base": (
        "api_base points at {name}'s native API ({path}), not its OpenAI-compatible {working}"
    ),
    "wrong_path": "api_base's path is wrong: {base} serves no model list, {working} does",
}
OTHER_SERVICE_FIX = (
    "Check the host and port in {key}: this is another service. LLM servers usually listen "
    "on {ports}; `lmdoctor scan` lists the ones on this machine."
)
SERVER_ERROR_FIX = "Read the server's log for this error; restart the server if it persists."


def config_key(target: Target, field: str) -> str:
    """Where the user changes `field`: 'config.json model_list[0].api_base'."""
    return f"{target.where}.{field}" if target.config_path else "the URL you pass"


def identified(found: servers.ServerInfo, target: Target) -> Finding:
    version = f" {found.version}" if found.version else ""
    host, port = urls.host_port(target.api_base)
    return info(
        "server.identified",
        f"{servers.by_id(found.kind).title}{version} answers at {host}:{port}",
        "Decided by: " + "; ".join(found.signals) + ".",
        kind=found.kind,
        name=found.name,
        version=found.version,
        **{k: v for k, v in found.evidence.items()},
    )


def loading(
    target: Target, response: Response, url: str, said: tuple[str, str, str], waited: float
) -> Finding:
    """A server still loading its model is not broken: name it, never advise a restart (that
    aborts the load); the checks that need a loaded model are skipped with this reason."""
    summary, detail, fix = said
    host, port = urls.host_port(target.api_base)
    evidence = {
        "url": urls.display(url),
        "status": response.status,
        "body": response.snippet(),
        "model_id": target.model_id,
    }
    if waited:
        return Finding(
            "server.loading",
            Severity.ERROR,
            f"{summary} at {host}:{port}, still after waiting {waited:g} s",
            detail,
            f"{fix} Give it longer (`--wait` more seconds) or look at the server's log for "
            "a load that hangs.",
            {**evidence, "waited_s": waited},
            blocks=True,
        )
    return Finding(
        "server.loading", Severity.WARN, f"{summary} at {host}:{port}", detail, fix, evidence,
        blocks=True,
    )


def server_error(response: Response, url: str, kind: servers.ServerKind) -> Finding:
    evidence = {"url": urls.display(url), "status": response.status, "body": response.snippet()}
    return error(
        "http.server_error",
        f"The server fails: GET {urls.display(url)} → {servers.describe(response)}",
        f"{kind.title} answered with a server error; PicoClaw will get the same.",
        SERVER_ERROR_FIX,
        **evidence,
    )


def wrong_path(
    target: Target,
    kind: servers.ServerKind,
    url: str,
    answer: str,
    fix: tuple[str, str, list[str]],
) -> Finding:
    working, problem, ids = fix
    name = kind.name
    summary = PATH_SUMMARIES[problem].format(
        base=urls.display(target.api_base),
        working=working,
        name=name,
        path=urls.path(target.api_base),
    )
    key = config_key(target, "api_base")
    fix = f'Set {key} to "{working}".'
    if target.config_path is None:
        fix = f'Use "{working}" as the base URL (in PicoClaw: model_list[].api_base).'
    return error(
        PATH_CODES[problem],
        summary,
        f"PicoClaw posts to api_base + /chat/completions ({urls.display(target.chat_url)}); "
        f"GET {urls.display(url)} gives {answer}, while GET {working}/models lists "
        f"{len(ids)} model(s).",
        fix,
        configured=urls.display(target.api_base),
        working_base=working,
        answer=answer,
        config_key=key,
        listed=ids[:10],
    )


def not_llm(target: Target, response: Response, url: str) -> Finding:
    what = []
    if response.headers.get("server"):
        what.append(f"Server: {response.headers['server'][:60]}")
    title = parse.html_title(response.text)
    what.append(f"an HTML page titled “{title}”" if title else servers.describe(response))
    host, port = urls.host_port(target.api_base)
    return error(
        "http.not_llm_server",
        f"{host}:{port} answers HTTP, but not with an OpenAI-compatible API ({', '.join(what)})",
        f"GET {urls.display(url)} gives {servers.describe(response)}, and no /v1/models exists "
        "there; none of the LLM servers lmdoctor knows answers like this.",
        OTHER_SERVICE_FIX.format(key=config_key(target, "api_base"), ports=servers.usual_ports()),
        url=urls.display(url),
        status=response.status,
        server_header=response.headers.get("server"),
        title=title,
        body=response.snippet(),
    )


async def run(ctx: Ctx) -> list[Finding]:
    target = ctx.target
    found = await ctx.server()
    listing = await ctx.listing()
    kind = await ctx.server_kind()
    findings = [identified(found, target)] if found else []
    response = listing.response
    if response is None:
        return [
            *findings,
            error(
                "http.no_answer",
                f"No HTTP answer from GET {urls.display(listing.url)}",
                f"The request failed ({listing.failure or 'no response'}).",
                _no_answer_fix(ctx),
                url=urls.display(listing.url),
                failure=listing.failure,
            ),
        ]
    refused = servers.denial(response) or (
        kind.explain_refusal is not None and kind.explain_refusal(response) is not None
    )  # a refusal, maybe in disguise (LiteLLM's 500 without a key): the auth check explains
    if response.status >= 500 and not refused:
        said = servers.still_loading(response, servers.error_of(response).message)
        if said is not None:
            waited = ctx.settings.wait_s
            return [*findings, loading(target, response, listing.url, said, waited)]
        return [*findings, server_error(response, listing.url, kind)]
    said = servers.still_loading(response, "") if listing.models is not None else None
    if said is not None:  # an older llama-server lists its model while loading, meta null
        return [*findings, loading(target, response, listing.url, said, ctx.settings.wait_s)]
    if listing.models is not None or refused or response.status == 407:
        return findings  # the path serves the API; a refusal is the auth check's to explain
    better = await servers.working_base(ctx.client, target.api_base)
    if better:
        base, problem, works = better
        fix = (base, problem, works.ids)
        return [*findings, wrong_path(target, kind, listing.url, servers.describe(response), fix)]
    if found is None:
        return [not_llm(target, response, listing.url)]
    return [
        *findings,
        error(
            "http.bad_response",
            f"GET {urls.display(listing.url)} gives no model list: {servers.describe(response)}",
            f"{kind.title} should answer with an OpenAI model list "
            '({"object": "list", "data": [...]}); no other base on this server does either.',
            f"Check {config_key(target, 'api_base')}: {found.name}'s OpenAI-compatible API "
            "usually lives under /v1.",
            url=urls.display(listing.url),
            status=response.status,
            content_type=response.content_type,
            truncated=response.truncated,
            body=response.snippet(),
        ),
    ]


CHECK = Check(
    id="server",
    title="Server identity and API path",
    run=run,
    needs=("network",),
    codes=(
        "server.identified",
        "server.loading",
        "http.missing_v1",
        "http.double_v1",
        "http.endpoint_in_base",
        "http.native_api_base",
        "http.not_llm_server",
        "http.server_error",
        "http.bad_response",
        "http.no_answer",
    ),
)


def _no_answer_fix(ctx: Ctx) -> str:
    """Point at the network check's findings only when it ran (not after --skip network)."""
    if "network" in ctx.earlier:
        return "Run lmdoctor again; if it repeats, the network check's findings say why."
    return "Run lmdoctor again without --skip network: its findings say why the request failed."
