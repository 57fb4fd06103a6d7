"""Can the client reach the endpoint? resolve → connect → TLS → first byte, and if not, why.

One finding names the fault with the failing phase's evidence; when nothing listens on a
port of this machine (or the host), it says where the LLM server really is.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lmdoctor import advice, net, servers, urls
from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, error, info, ok, warn
from lmdoctor.net import Fault, Listener, Probe
from lmdoctor.registry import Check
from lmdoctor.system import current as current_system
from lmdoctor.target import Target

if TYPE_CHECKING:  # discovery: only when a connection failed (issue 13: start-up)
    from lmdoctor import discovery

FIREWALLS = (
    "a firewall on it that drops the packets: Windows Defender Firewall (allow the server app, "
    "e.g. LM Studio or ollama.exe, on Private networks, or inbound TCP {port}), Linux ufw "
    "(`sudo ufw allow {port}/tcp`), firewalld (`sudo firewall-cmd --permanent "
    "--add-port={port}/tcp && sudo firewall-cmd --reload`), nftables/iptables DROP rules, the "
    "macOS Application Firewall (System Settings → Network → Firewall → Options)"
)
BANNERS = {
    b"SSH-": "an SSH server",
    b"220": "an FTP or SMTP server",
    b"+OK": "a POP3 server",
    b"* OK": "an IMAP server",
    b"RFB ": "a VNC server",
    b"-ERR": "a Redis server",
}
DNS_DOWN = ("EAI_AGAIN", "EAI_FAIL")  # the resolver itself failed, not the name
TLS_FIXES = {
    10: "Renew the server's certificate (it has expired).",
    62: "Use the host name the certificate names in api_base, or reissue it for {host}.",
    64: "Use the host name the certificate names in api_base, or reissue it for {host}.",
}


def _kind(kind: str | None, process: str | None, port: int) -> servers.ServerKind:
    """The identified kind; else the one the process name or the default port names."""
    if kind and kind != servers.GENERIC.id:
        return servers.by_id(kind)
    return servers.by_process(process) or servers.by_port(port) or servers.GENERIC


def _container_warning(p: Probe, runtime: net.Runtime) -> list[Finding]:
    if not runtime.isolated or not net.is_loopback(p.host):
        return []
    where = "WSL2" if runtime.wsl2 else f"a {runtime.container} container"
    if runtime.wsl2:
        host = runtime.nameserver or runtime.gateway or "WINDOWS_HOST_IP"
        fix = (
            f"If the server runs on Windows, use http://{host}:{p.port}/v1 (the Windows host as "
            "WSL2 sees it) and let it listen beyond loopback, or turn on mirrored networking "
            "([wsl2] networkingMode=mirrored in %UserProfile%\\.wslconfig)."
        )
    else:
        gateway = f" or the bridge gateway {runtime.gateway}" if runtime.gateway else ""
        fix = (
            f"If the server runs on the host, use http://host.docker.internal:{p.port}/v1"
            f"{gateway} (on Linux start the container with "
            "`--add-host host.docker.internal:host-gateway`), and let the server listen "
            "beyond loopback (e.g. OLLAMA_HOST=0.0.0.0)."
        )
    return [
        warn(
            "net.container_localhost",
            f"lmdoctor runs inside {where}: {p.host} is that "
            f"{'WSL2 system' if runtime.wsl2 else 'container'} itself, not the host machine",
            "A server on the host machine is not reachable at localhost from here.",
            fix,
            runtime=where,
            gateway=runtime.gateway,
            nameserver=runtime.nameserver,
        )
    ]


async def _not_connected(ctx: Ctx, p: Probe, ev: dict[str, Any]) -> list[Finding]:
    t, fault = ctx.target, p.failure.fault if p.failure else Fault.OTHER
    address = p.address or p.host
    ev |= {"address": address, **(p.failure.evidence() if p.failure else {})}
    ev["addresses"] = [a.evidence() for a in p.attempts]
    local = net.is_this_machine(address)
    runtime = net.detect_runtime()
    if fault is Fault.TIMEOUT:
        firewall = FIREWALLS.format(port=p.port)
        return [
            error(
                "net.timeout",
                f"Connecting to {p.host}:{p.port} timed out "
                f"({ctx.settings.connect_timeout:g} s, no answer at all)",
                "The packets get no answer: the host is down or asleep, or a firewall drops them.",
                f"Check that {p.host} is up, and {firewall}.",
                **ev,
            ),
            *_container_warning(p, runtime),
        ]
    if fault is not Fault.REFUSED:
        return [_unreachable(p, ev)]
    listeners = await ctx.listeners() if local else None
    on_port = [x for x in listeners or () if x.port == p.port]
    if on_port and any(x.covers(address) for x in on_port):
        owner = next(x for x in on_port if x.covers(address))
        ev |= {"listener": owner.evidence(), "firewall": "reject"}
        return [_firewall_reject(p, ev, owner)]
    if on_port:  # something listens on this port, on another address of this machine
        return [await _bound_elsewhere(ctx, p, ev, on_port)]
    found = await _servers_elsewhere(ctx, p, listeners)
    if found:
        return [_wrong_port(t, p, ev, found)]
    confirmed = listeners is not None and getattr(listeners, "complete", True)
    refused = _refused(t, p, ev, local, confirmed, runtime)
    return [refused, *_container_warning(p, runtime)]


def _unreachable(p: Probe, ev: dict[str, Any]) -> Finding:
    name = p.failure.errno_name if p.failure else None
    address = p.address or p.host
    privacy = advice.local_network_privacy(address, name)
    why = {
        "ENETUNREACH": "there is no route to that network (no default route, VPN down, "
        "or no IPv6 connectivity)",
        "EACCES": "a firewall on this machine rejects outgoing packets to it",
        "EPERM": "a firewall on this machine rejects outgoing packets to it",
    }.get(
        name or "",
        "no host answers on the local network, or a firewall on the way rejects the "
        "connection with an ICMP host-unreachable / admin-prohibited message",
    )
    fix = (
        f"Check the route ({advice.route_check(address, p.port)}), that the host is up and on "
        "this network/VPN, and REJECT rules in firewalls on the way."
    )
    if privacy is not None:
        why, fix = privacy
    return error(
        "net.unreachable",
        f"{p.host}:{p.port} is unreachable ({name or p.failure.exception if p.failure else '?'})",
        f"The connection was rejected before reaching a server: {why}.",
        fix,
        **ev,
    )


def _firewall_reject(p: Probe, ev: dict[str, Any], owner: Listener) -> Finding:
    return error(
        "net.unreachable",
        f"{p.host}:{p.port} refuses, yet {owner.process or 'a process'} listens there",
        "A process on this machine listens on the port, but connections are refused: a "
        "firewall REJECT rule (icmp-port-unreachable or tcp-reset) is in the way.",
        advice.firewall_allow(p.port),
        **ev,
    )


async def _bound_elsewhere(
    ctx: Ctx, p: Probe, ev: dict[str, Any], on_port: list[Listener]
) -> Finding:
    owner = next((x for x in on_port if x.pid is not None), on_port[0])
    ev |= {"listeners": [x.evidence() for x in on_port], "process": owner.process}
    where = ", ".join(sorted({x.ip for x in on_port}))
    loopback = all(x.loopback for x in on_port) and not net.is_loopback(p.address or p.host)
    probe_at = "127.0.0.1" if owner.ip in ("127.0.0.1", "0.0.0.0") else owner.ip
    base = f"http://{urls.bracket(probe_at)}:{p.port}"
    from lmdoctor import discovery

    try:
        budget = ctx.settings.connect_timeout + 2 * ctx.settings.read_timeout
        info_ = await asyncio.wait_for(discovery.identify_llm(ctx.session.http, base), budget)
    except asyncio.TimeoutError:
        info_ = None
    kind = _kind(info_.kind if info_ else None, owner.process, p.port)
    ev["server"] = info_.name if info_ else None
    who = f"{owner.process or 'the server'}" + (f" (pid {owner.pid})" if owner.pid else "")
    if loopback:
        return error(
            "net.loopback_only",
            f"{who} listens on {where}:{p.port} only; the config uses {p.address}",
            f"{p.address} is an address of this machine, but the server accepts connections on "
            "the loopback interface only, so clients using the LAN address are refused.",
            f"{kind.open_to_lan_for(current_system().name)}. If PicoClaw runs on this machine, "
            f"set api_base to {urls.with_port(_on_host(ctx.target.api_base, '127.0.0.1'), p.port)}"
            f" in {ctx.target.where} instead.",
            **ev,
        )
    return error(
        "net.wrong_address",
        f"{who} listens on {where}:{p.port}, not on {p.address}",
        "The server is bound to another interface of this machine (LM Studio's 'Serve on "
        "Local Network' binds one adapter, often a VPN one).",
        f"Set api_base to {urls.with_port(_on_host(ctx.target.api_base, on_port[0].ip), p.port)} "
        f"in {ctx.target.where}, or bind the server to 0.0.0.0 / the address you use.",
        **ev,
    )


def _on_host(url: str, host: str) -> str:
    scheme, _, port = urls.origin(url)
    shown = f"[{host}]" if ":" in host else host
    return urls.join(f"{scheme}://{shown}:{port}", urls.path(url))


async def _servers_elsewhere(
    ctx: Ctx, p: Probe, listeners: list[Listener] | None
) -> list[discovery.FoundServer]:
    from lmdoctor import discovery

    ports = discovery.candidate_ports(listeners, p.addresses)
    bases = [urls.with_port(ctx.target.api_base, port) for port in ports if port != p.port]
    found = await discovery.find_servers(ctx.session.http, bases, ctx.settings.connect_timeout)
    t = ctx.target

    def rank(s: discovery.FoundServer) -> tuple[bool, bool]:
        return (t.model_id not in (s.models or []), s.kind != t.provider)

    return sorted(found, key=rank)


def _wrong_port(
    t: Target,
    p: Probe,
    ev: dict[str, Any],
    found: list[discovery.FoundServer],
    why: str = "refuses connections",
) -> Finding:
    best = found[0]
    new_base = urls.with_port(t.api_base, best.port)
    ev["found"] = [
        {"port": s.port, "server": s.name, "version": s.version, "models": (s.models or [])[:10]}
        for s in found
    ]
    ev["suggested_api_base"] = new_base
    models = f" serving {', '.join(best.models[:3])}" if best.models else ""
    others = "".join(f"; also {s.name} on {s.port}" for s in found[1:4])
    return error(
        "net.wrong_port",
        f"No LLM server on {p.host}:{p.port}, but {best.name} answers on port {best.port}",
        f"Port {p.port} {why}; {best.name}"
        f"{' ' + best.version if best.version else ''} answers on {best.port}{models}{others}.",
        f"Set api_base to {new_base} in {t.where}.",
        **ev,
    )


def _refused(
    t: Target, p: Probe, ev: dict[str, Any], local: bool, confirmed: bool, runtime: net.Runtime
) -> Finding:
    kind = servers.by_provider(t.provider) or servers.GENERIC
    start = kind.start_for(current_system().name).replace("PORT", str(p.port))
    fix = f"{start}, or correct the port in api_base in {t.where}."
    if p.host == "host.docker.internal" or (runtime.gateway and p.address == runtime.gateway):
        # the classic: the server on the Docker host listens on its own 127.0.0.1 only
        detail = (
            f"{p.host} is the Docker host; a server there that listens on 127.0.0.1 only "
            "refuses connections from containers."
        )
        fix = f"{_kind(None, None, p.port).open_to_lan_for(current_system().name)}; or {fix}"
    elif local:
        detail = f"Nothing accepts connections on port {p.port} of this machine" + (
            " (its listening sockets confirm it)" if confirmed else ""
        )
        detail += "; no LLM server answers on the well-known ports either."
    else:
        detail = (
            f"{p.host} answered with a reset: nothing listens on {p.port} — or a firewall REJECT "
            "rule (iptables' default icmp-port-unreachable and tcp-reset look the same)."
        )
    return error(
        "net.refused",
        f"Nothing is listening on {p.host}:{p.port}",
        detail,
        fix,
        confirmed_by_listeners=confirmed,
        **ev,
    )


def _dns(t: Target, p: Probe, ev: dict[str, Any]) -> Finding:
    ev |= p.failure.evidence() if p.failure else {}
    gai = ev.get("gai_error", "")
    fix = f"Correct the host in api_base in {t.where}, or make the name resolve here."
    if p.host == "host.docker.internal":
        runtime = net.detect_runtime()
        fix = (
            "host.docker.internal exists only inside containers (built in on Docker Desktop). On "
            "Linux start the container with `--add-host host.docker.internal:host-gateway` "
            '(compose: extra_hosts: ["host.docker.internal:host-gateway"])'
            + ("." if runtime.container else "; outside a container use the server's address.")
        )
    return error(
        "net.dns",
        f"The host name {p.host} does not resolve",
        "The DNS server did not answer (temporary failure or no network)."
        if (p.failure and p.failure.fault is Fault.TIMEOUT) or gai in DNS_DOWN
        else "The resolver knows no such host.",
        fix,
        **ev,
    )


def _tls(t: Target, p: Probe, ev: dict[str, Any]) -> Finding:
    failure = p.failure
    ev |= failure.evidence() if failure else {}
    if p.mismatch == "https_to_http":
        plain = urls.with_scheme(t.api_base, "http")
        return error(
            "net.tls_mismatch",
            f"api_base uses https://, but {p.host}:{p.port} speaks plain HTTP",
            "The TLS handshake failed because the server answered in plain text (Go reports "
            "'http: server gave HTTP response to HTTPS client').",
            f"Set api_base to {plain} in {t.where}.",
            **ev,
        )
    if p.mismatch == "http_to_tls":
        secure = urls.with_scheme(t.api_base, "https")
        return error(
            "net.tls_mismatch",
            f"api_base uses http://, but {p.host}:{p.port} speaks TLS (HTTPS)",
            "The plain request was answered with a TLS record (a TLS stack's alert): the port "
            "expects a handshake first."
            if p.reply is not None and p.reply.kind == "tls"
            else "A plain request got no HTTP answer there, while a TLS handshake succeeds.",
            f"Set api_base to {secure} in {t.where}.",
            **ev,
        )
    if failure is not None and failure.fault is Fault.TLS_INVALID:
        code = failure.facts.get("verify_code")
        return error(
            "net.tls_invalid",
            f"The certificate of {p.host}:{p.port} does not verify: "
            f"{failure.facts.get('verify_message')}",
            "The client (PicoClaw, in Go) refuses the connection as well; it has no option to "
            "skip verification.",
            (TLS_FIXES.get(code) or advice.trust_fix()).format(host=p.host),
            **ev,
        )
    return error(
        "net.tls_error",
        f"The TLS handshake with {p.host}:{p.port} failed",
        "The server rejected the handshake (protocol version, ciphers, or a client "
        "certificate it wants).",
        "Check the server's TLS settings (TLS 1.2 or newer, common ciphers).",
        **ev,
    )


async def _not_http(ctx: Ctx, p: Probe, ev: dict[str, Any]) -> Finding:
    t, reply = ctx.target, p.reply
    assert reply is not None
    what = next((w for prefix, w in BANNERS.items() if reply.head.startswith(prefix)), None)
    ev["banner"] = reply.first_line()
    local = net.is_loopback(p.address or p.host) or p.address in net.local_addresses()
    listeners = await ctx.listeners() if local else None
    owner = next((x for x in listeners or () if x.port == p.port and x.pid is not None), None)
    if owner is not None:
        ev["process"] = owner.process
        what = what or f"the process {owner.process}"
    found = await _servers_elsewhere(ctx, p, listeners)
    if found:  # the root cause is the port, not the thing that answers on it
        why = f"answers '{reply.first_line()}' ({what or 'not HTTP'})"
        return _wrong_port(t, p, ev, found, why)
    return error(
        "http.not_llm_server",
        f"{p.host}:{p.port} is not an HTTP server" + (f": it is {what}" if what else ""),
        f"It answered with '{reply.first_line()}' instead of an HTTP status line.",
        f"Point api_base in {t.where} at the LLM server's port (`lmdoctor scan` lists them).",
        **ev,
    )


def _no_response(ctx: Ctx, p: Probe, ev: dict[str, Any]) -> Finding:
    failure = p.failure
    ev |= failure.evidence() if failure else {}
    if failure is not None and failure.fault in (Fault.CLOSED, Fault.RESET):
        summary = f"{p.host}:{p.port} accepts connections but closes them without an answer"
    else:
        wait = ctx.settings.read_timeout if p.phase != "tls" else ctx.settings.connect_timeout
        summary = f"{p.host}:{p.port} accepts connections but sends nothing for {wait:g} s"
    return error(
        "net.no_response",
        summary,
        f"TCP connects, but no HTTP answer arrives ({p.phase} phase): the server is hung, "
        "overloaded, still loading a model, or the port belongs to something else.",
        "Look at the server's console/log; restart it. If it is still loading, wait and rerun "
        "(or rerun with a larger --timeout).",
        **ev,
    )


def _reached(p: Probe, ev: dict[str, Any]) -> list[Finding]:
    ev |= {"address": p.address, "status": p.reply.status if p.reply else None}
    if len(p.attempts) > 1:
        ev["addresses"] = [a.evidence() for a in p.attempts]
    found = [ok("net.ok", f"{p.host}:{p.port} answers over HTTP", **ev)]
    failed = [a for a in p.attempts if not a.ok]
    if failed:
        bad = ", ".join(f"{a.address} ({a.evidence()['result']})" for a in failed)
        found.append(
            info(
                "net.address_fallback",
                f"{p.host} resolves to {len(p.attempts)} addresses; only {p.address} works",
                f"Failing: {bad}. PicoClaw (Go) tries every address and succeeds; tools that "
                "try only the first may fail (e.g. 'connect ECONNREFUSED ::1').",
                f"Use {p.address} instead of {p.host} in api_base, or make the server listen on "
                "the failing address too.",
                **ev,
            )
        )
    return found


async def run(ctx: Ctx) -> list[Finding]:
    t, settings = ctx.target, ctx.settings
    scheme, host, port = urls.origin(t.api_base)
    if scheme not in ("http", "https") or not host:
        return []  # not a URL the client can call: the config check says so
    p = await net.probe(t.api_base, settings.connect_timeout, settings.read_timeout)
    ev: dict[str, Any] = {"host": host, "port": port, **p.timing_evidence()}
    if p.phase:
        ev["phase"] = p.phase
    if p.ok:
        return _reached(p, ev)
    if p.phase == "resolve":
        return [_dns(t, p, ev)]
    if p.phase == "connect":
        return await _not_connected(ctx, p, ev)
    if p.reply is not None and p.reply.kind == "banner":
        return [await _not_http(ctx, p, ev)]
    fault = p.failure.fault if p.failure else None
    if p.mismatch or fault in (Fault.TLS_INVALID, Fault.TLS_ERROR):
        return [_tls(t, p, ev)]
    return [_no_response(ctx, p, ev)]


CHECK = Check(
    id="network",
    title="Network reachability",
    run=run,
    needs=("config",),
    codes=(
        "net.ok",
        "net.address_fallback",
        "net.dns",
        "net.refused",
        "net.wrong_port",
        "net.loopback_only",
        "net.wrong_address",
        "net.timeout",
        "net.unreachable",
        "net.tls_mismatch",
        "net.tls_invalid",
        "net.tls_error",
        "net.no_response",
        "net.container_localhost",
        "http.not_llm_server",
    ),
)
