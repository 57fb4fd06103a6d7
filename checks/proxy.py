"""Does the client's own route go through a proxy, and does that route work?

PicoClaw (Go) uses the entry's `proxy` for every request, loopback included; otherwise Go's
ProxyFromEnvironment (HTTP_PROXY/HTTPS_PROXY/NO_PROXY, never for localhost or loopback IPs).
lmdoctor's other probes go direct, so this check replays the request through that proxy and
compares the answer with the direct one.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx

from lmdoctor import net, urls
from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, error, info, warn
from lmdoctor.http import HttpClient, Response
from lmdoctor.registry import Check

ENV_FIX = (
    "Add {host} to NO_PROXY in the environment PicoClaw runs in (e.g. "
    "NO_PROXY={host},localhost,127.0.0.1), or fix the proxy {proxy}."
)
ENTRY_FIX = (
    "Remove `proxy` from {where} (it applies to every request of the entry, loopback "
    "included), or fix the proxy {proxy}."
)
# headers that show who answered: the proxy (Server: squid, Via, X-Squid-Error) or the server
WHO_ANSWERED = ("server", "via", "x-squid-error", "proxy-agent", "x-cache")


def _answer(response: Response) -> dict[str, Any]:
    out: dict[str, Any] = {"status": response.status}
    out |= {h: response.headers[h] for h in WHO_ANSWERED if h in response.headers}
    if response.status >= 400:
        out["body"] = response.snippet(160)
    return out


async def _through(url: str, proxy: str, ctx: Ctx) -> Response:
    http = HttpClient(ctx.settings, proxy=proxy)
    try:
        return await http.request("GET", url)
    finally:
        await http.aclose()


async def run(ctx: Ctx) -> list[Finding]:
    t = ctx.target
    route = net.client_proxy(t.api_base, os.environ, t.proxy, t.where)
    if route is None:
        return []
    ev: dict[str, Any] = {"proxy": route.display, "source": route.source}
    if route.problem:
        return [
            warn(
                "net.proxy",
                f"The {route.source} value {route.display!r} is not usable: {route.problem}",
                "PicoClaw passes it to Go's url.Parse; a value without http:// is either "
                "rejected (and the environment's proxy rules apply) or breaks every request.",
                f"Write it as http://HOST:PORT in {t.where}, or remove it.",
                **ev,
            )
        ]
    if route.scheme.startswith("socks"):
        return [
            info(
                "net.proxy",
                f"Requests to this endpoint go through the SOCKS proxy {route.display}",
                f"From {route.source}. lmdoctor cannot replay SOCKS routes; its probes go direct.",
                **ev,
            )
        ]
    url = urls.join(t.api_base, "models")
    direct, proxied = await asyncio.gather(
        ctx.session.http.request("GET", url), _through(url, route.url, ctx), return_exceptions=True
    )
    from_env = route.source.upper() in ("HTTP_PROXY", "HTTPS_PROXY")
    fix = (ENV_FIX if from_env else ENTRY_FIX).format(
        host=urls.origin(t.api_base)[1], proxy=route.display, where=t.where
    )
    if isinstance(direct, Response):
        ev["direct"] = _answer(direct)
    if isinstance(proxied, BaseException):
        if not isinstance(proxied, (httpx.HTTPError, OSError, asyncio.TimeoutError)):
            raise proxied
        ev["via_proxy"] = net.classify(proxied).evidence()
        return [
            error(
                "net.proxy",
                f"PicoClaw's route goes through the proxy {route.display}, which fails",
                f"From {route.source}: the request through the proxy failed "
                f"({net.classify(proxied).fault.value}) while the direct route works.",
                fix,
                **ev,
            )
        ]
    ev["via_proxy"] = _answer(proxied)
    if isinstance(direct, Response) and proxied.status != direct.status:
        who = proxied.headers.get("server") or proxied.headers.get("via") or "the proxy"
        return [
            error(
                "net.proxy",
                f"Through the proxy {route.display} the endpoint answers {proxied.status} "
                f"(direct: {direct.status})",
                f"From {route.source}: PicoClaw's requests reach {who}, not the LLM server "
                "as lmdoctor's direct probes do.",
                fix,
                **ev,
            )
        ]
    return [
        info(
            "net.proxy",
            f"Requests to this endpoint go through the proxy {route.display}, which works",
            f"From {route.source}; the answer through it matches the direct one.",
            **ev,
        )
    ]


CHECK = Check(
    id="proxy",
    title="Proxy on the client's route",
    run=run,
    needs=("network",),
    codes=("net.proxy",),
)
