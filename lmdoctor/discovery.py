"""Find LLM servers: on this machine (`lmdoctor scan`) and next to a port that refuses
(the network check's net.wrong_port).

Candidates are this machine's listening sockets (those whose process lmdoctor can see) and
the well-known ports. A TCP connect filters closed ports first (a closed loopback port refuses
at once); only open ones get the fingerprint requests, all concurrently and bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from lmdoctor import net, servers, urls
from lmdoctor.http import LIST_LIMIT

if TYPE_CHECKING:
    from lmdoctor.http import HttpClient

SCAN_CONNECT_TIMEOUT_S = 0.5
SCAN_READ_TIMEOUT_S = 2.0
_PARALLEL = 32


@dataclass
class FoundServer:
    """An LLM server that answered. `listens_on`: its bind addresses (psutil; empty when
    unknown); `beyond_loopback`: reachable from other machines (None: could not tell)."""

    host: str
    port: int
    kind: str
    name: str
    version: str | None = None
    models: list[str] | None = None
    listens_on: list[str] = field(default_factory=list)
    beyond_loopback: bool | None = None
    process: str | None = None
    pid: int | None = None
    scheme: str = "http"

    @property
    def api_base(self) -> str:
        return f"{self.scheme}://{urls.bracket(self.host)}:{self.port}/v1"

    def as_dict(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "address": self.host,
            "api_base": self.api_base,
            "server": self.kind,
            "name": self.name,
            "version": self.version,
            "models": self.models,
            "listens_on": self.listens_on,
            "beyond_loopback": self.beyond_loopback,
            "process": self.process,
            "pid": self.pid,
        }


async def identify_llm(http: HttpClient, base_url: str) -> servers.ServerInfo | None:
    """servers.identify(), None when the server cannot be reached."""
    try:
        return await servers.identify(http, base_url)
    except (httpx.HTTPError, OSError, asyncio.TimeoutError):
        return None


async def _models_json(http: HttpClient, base_url: str) -> Any:
    try:
        reply = await http.request(
            "GET", urls.join(urls.root(base_url), "v1/models"), limit=LIST_LIMIT
        )
    except (httpx.HTTPError, OSError, asyncio.TimeoutError):
        return None
    return reply.json() if reply.status == 200 else None


async def list_models(http: HttpClient, base_url: str) -> list[str] | None:
    """The ids GET /v1/models lists (None: it would not say, e.g. it wants a key)."""
    data = await _models_json(http, base_url)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        return None
    ids = [str(m.get("id")) for m in data["data"] if isinstance(m, dict) and m.get("id")]
    return ids


async def _is_open(host: str, port: int, timeout: float) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


async def find_servers(
    http: HttpClient, bases: Iterable[str], connect_timeout: float, models: bool = True
) -> list[FoundServer]:
    """The bases (scheme://host:port/...) where an LLM server answers, in the given order.
    Each candidate gets one connect and two read timeouts: a hung listener costs that once."""
    bases = list(dict.fromkeys(bases))
    gate = asyncio.Semaphore(_PARALLEL)
    budget = connect_timeout + 2 * http.settings.read_timeout

    async def one(base: str) -> FoundServer | None:
        scheme, host, port = urls.origin(base)
        async with gate:
            if not await _is_open(host, port, connect_timeout):
                return None
        info = await identify_llm(http, base)
        if info is None:
            return None
        ids = await list_models(http, base) if models else None
        return FoundServer(host, port, info.kind, info.name, info.version, ids, scheme=scheme)

    async def bounded(base: str) -> FoundServer | None:
        try:
            return await asyncio.wait_for(one(base), budget)
        except asyncio.TimeoutError:
            return None

    found = await asyncio.gather(*(bounded(b) for b in bases))
    return [f for f in found if f is not None]


def candidate_ports(
    listeners: Sequence[net.Listener] | None, addresses: Iterable[str] = ()
) -> list[int]:
    """Well-known ports, then the ports of visible listeners that cover one of `addresses`
    (all visible listeners when none are given). Listeners whose process lmdoctor cannot see
    are left to the well-known list: they belong to other users or other containers."""
    addresses = list(addresses)
    ports = list(servers.WELL_KNOWN_PORTS)
    for listener in listeners or ():
        if listener.pid is None:
            continue
        if addresses and not any(listener.covers(a) for a in addresses):
            continue
        ports.append(listener.port)
    return list(dict.fromkeys(ports))


def _probe_address(listener: net.Listener) -> str:
    if listener.ip == "0.0.0.0":
        return "127.0.0.1"
    if listener.ip == "::":
        return "::1"
    return listener.ip


def _with_bind_facts(
    found: FoundServer, listeners: Sequence[net.Listener] | None, lan_open: bool | None
) -> None:
    on_port = [x for x in listeners or () if x.port == found.port]
    found.listens_on = sorted({x.ip for x in on_port})
    owners = sorted(on_port, key=lambda x: not x.covers(found.host))  # the one we reached first
    owner = next((x for x in owners if x.pid is not None), None)
    if owner is not None:
        found.process, found.pid = owner.process, owner.pid
    if on_port:
        found.beyond_loopback = any(not x.loopback for x in on_port)
    else:
        found.beyond_loopback = lan_open


async def scan(http: HttpClient, connect_timeout: float) -> list[FoundServer]:
    """Every LLM server on this machine, one per port, with its models and bindings."""
    listeners = await asyncio.to_thread(net.listeners)
    bases: list[str] = []
    for port in servers.WELL_KNOWN_PORTS:
        bases += [f"http://127.0.0.1:{port}/v1", f"http://[::1]:{port}/v1"]
    for listener in listeners or ():
        if listener.pid is not None:
            host = urls.bracket(_probe_address(listener))
            bases.append(f"http://{host}:{listener.port}/v1")
    found = await find_servers(http, bases, connect_timeout)
    by_port: dict[int, FoundServer] = {}
    for server in found:
        by_port.setdefault(server.port, server)
    lan = next(
        (a for a in sorted(net.local_addresses()) if not net.is_loopback(a) and ":" not in a),
        None,
    )
    results = sorted(by_port.values(), key=lambda s: s.port)
    for server in results:
        lan_open = None
        if listeners is None and lan is not None:
            lan_open = await _is_open(lan, server.port, connect_timeout)
        _with_bind_facts(server, listeners, lan_open)
    return results


def run_scan(timeout: float | None) -> list[FoundServer]:
    """`lmdoctor scan`: synchronous; timeout is per phase (default: connect 0.5 s, read 2 s)."""
    from lmdoctor.http import HttpClient
    from lmdoctor.settings import Settings

    settings = Settings(
        connect_timeout=timeout or SCAN_CONNECT_TIMEOUT_S,
        read_timeout=timeout or SCAN_READ_TIMEOUT_S,
    )

    async def go() -> list[FoundServer]:
        http = HttpClient(settings)
        try:
            return await scan(http, settings.connect_timeout)
        finally:
            await http.aclose()

    return asyncio.run(go())
