"""Network facts: a probe in named phases, error classification, listeners, proxies, runtime.

`probe()` walks resolve → connect → TLS → first byte like blackbox_exporter's HTTP prober,
timing each phase and stopping at the first that fails. `classify()` is the ONE place that
turns an exception into a fault, by exception type and errno (and ssl's `reason` and
`verify_code` attributes), never by message text. `listeners()` and `local_addresses()` read
this machine's sockets through psutil; `client_proxy()` replays Go's ProxyFromEnvironment plus
PicoClaw's per-entry `proxy`; `detect_runtime()` tells a container or WSL2 from a plain host.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from lmdoctor import __version__, urls
from lmdoctor.system import System
from lmdoctor.system import current as current_system
from lmdoctor.trust import trust_context

# The filesystem root detect_runtime() reads; tests point it at a fake tree.
SYSTEM_ROOT = Path("/")

HEAD_LIMIT = 16 * 1024  # enough for a status line and headers; the body is not our business


class Fault(str, enum.Enum):
    """What went wrong in a phase, in words a finding can be built from."""

    DNS = "dns"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    RESET = "reset"  # the peer dropped an established connection
    CLOSED = "closed"  # orderly close (EOF) before any answer
    TLS_MISMATCH = "tls_mismatch"  # TLS spoken to plain HTTP (the peer's bytes are not TLS)
    TLS_INVALID = "tls_invalid"  # certificate verification failed
    TLS_ERROR = "tls_error"  # another handshake failure (versions, ciphers, alerts)
    OTHER = "other"


# NamedTuple, not a frozen dataclass: the same immutable value (eq, hash, repr by fields), defined
# without the ~3.5 M instructions of exec'd methods a dataclass costs every start-up (NOTES, 13).
class Failure(NamedTuple):
    """A classified exception. `facts` holds plain data for evidence (errno name, ssl reason,
    verify code and message, getaddrinfo code)."""

    fault: Fault
    exception: str
    errno: int | None = None
    facts: Mapping[str, Any] = MappingProxyType({})

    @property
    def errno_name(self) -> str | None:
        return errno.errorcode.get(self.errno) if self.errno is not None else None

    def evidence(self) -> dict[str, Any]:
        data: dict[str, Any] = {"error": self.exception, **self.facts}
        if self.errno_name:
            data["errno"] = self.errno_name
        return data


def _errnos(*names: str) -> frozenset[int]:
    return frozenset(getattr(errno, n) for n in names if hasattr(errno, n))


_REFUSED = _errnos("ECONNREFUSED", "WSAECONNREFUSED")
_TIMEOUT = _errnos("ETIMEDOUT", "WSAETIMEDOUT")
# EACCES/EPERM on connect(): a local firewall OUTPUT rule rejected the packet.
_UNREACHABLE = _errnos(
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EHOSTDOWN",
    "ENETDOWN",
    "EACCES",
    "EPERM",
    "WSAEHOSTUNREACH",
    "WSAENETUNREACH",
    "WSAEHOSTDOWN",
    "WSAENETDOWN",
)
_RESET = _errnos("ECONNRESET", "ECONNABORTED", "EPIPE", "WSAECONNRESET", "WSAECONNABORTED")
# OpenSSL reasons meaning "the peer's bytes are not a TLS record": a plain-text server.
_PLAINTEXT_REASONS = frozenset(
    {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "HTTPS_PROXY_REQUEST", "UNKNOWN_PROTOCOL"}
    | {"RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG", "RECORD_TOO_LARGE"}
)
_EOF_REASONS = frozenset({"UNEXPECTED_EOF_WHILE_READING", "EOF"})
_ERRNO_FAULTS: dict[int, Fault] = {
    **dict.fromkeys(_RESET, Fault.RESET),
    **dict.fromkeys(_UNREACHABLE, Fault.UNREACHABLE),
    **dict.fromkeys(_TIMEOUT, Fault.TIMEOUT),
    **dict.fromkeys(_REFUSED, Fault.REFUSED),
}


# Windows: asyncio's proactor raises OSError with `winerror` set. CPython turns a Win32 code
# it does not know into errno EINVAL (PC/errmap.h winerror_to_errno, cpython@121bcec5), and
# keeps a Winsock code (10000-11999) as the errno, a number POSIX errno names do not have. So
# the classifier reads `winerror` first: code → (Windows' name, the POSIX errno it means, fault).
# Names: Microsoft "System Error Codes" (winerror.h) and "Windows Sockets Error Codes".
WINERRORS: dict[int, tuple[str, str, Fault]] = {
    64: ("ERROR_NETNAME_DELETED", "ECONNRESET", Fault.RESET),
    121: ("ERROR_SEM_TIMEOUT", "ETIMEDOUT", Fault.TIMEOUT),  # the connect timeout, not a route
    1225: ("ERROR_CONNECTION_REFUSED", "ECONNREFUSED", Fault.REFUSED),
    1231: ("ERROR_NETWORK_UNREACHABLE", "ENETUNREACH", Fault.UNREACHABLE),
    1232: ("ERROR_HOST_UNREACHABLE", "EHOSTUNREACH", Fault.UNREACHABLE),
    1236: ("ERROR_CONNECTION_ABORTED", "ECONNABORTED", Fault.RESET),
    10049: ("WSAEADDRNOTAVAIL", "EADDRNOTAVAIL", Fault.UNREACHABLE),  # e.g. dialing 0.0.0.0
    10050: ("WSAENETDOWN", "ENETDOWN", Fault.UNREACHABLE),
    10051: ("WSAENETUNREACH", "ENETUNREACH", Fault.UNREACHABLE),
    10053: ("WSAECONNABORTED", "ECONNABORTED", Fault.RESET),
    10054: ("WSAECONNRESET", "ECONNRESET", Fault.RESET),
    10060: ("WSAETIMEDOUT", "ETIMEDOUT", Fault.TIMEOUT),
    10061: ("WSAECONNREFUSED", "ECONNREFUSED", Fault.REFUSED),
    10064: ("WSAEHOSTDOWN", "EHOSTDOWN", Fault.UNREACHABLE),
    10065: ("WSAEHOSTUNREACH", "EHOSTUNREACH", Fault.UNREACHABLE),
}


def _windows_failure(e: OSError) -> Failure | None:
    code = getattr(e, "winerror", None)
    if not isinstance(code, int) or code not in WINERRORS:
        return None
    name, posix, fault = WINERRORS[code]
    facts = {"winerror": code, "winerror_name": name}
    return Failure(fault, type(e).__name__, getattr(errno, posix, None), facts)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes (httpx wraps the OS error in __cause__/__context__)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify(exc: BaseException) -> Failure:
    """The one place that turns an exception into a Fault: by type and errno, never text."""
    for e in _chain(exc):
        name = type(e).__name__
        if isinstance(e, ssl.SSLCertVerificationError):
            facts = {"verify_code": e.verify_code, "verify_message": e.verify_message}
            return Failure(Fault.TLS_INVALID, name, None, facts)
        if isinstance(e, ssl.SSLError):
            reason = getattr(e, "reason", None)
            facts = {"ssl_reason": reason} if reason else {}
            if reason in _PLAINTEXT_REASONS:
                return Failure(Fault.TLS_MISMATCH, name, None, facts)
            if isinstance(e, ssl.SSLEOFError) or reason in _EOF_REASONS:
                return Failure(Fault.CLOSED, name, None, facts)
            return Failure(Fault.TLS_ERROR, name, None, facts)
        if isinstance(e, socket.gaierror):
            code = e.args[0] if e.args and isinstance(e.args[0], int) else None
            gai = next(
                (n for n in dir(socket) if n.startswith("EAI_") and getattr(socket, n) == code),
                None,
            )
            return Failure(Fault.DNS, name, None, {"gai_error": gai} if gai else {})
        windows = _windows_failure(e) if isinstance(e, OSError) else None
        if windows is not None:
            return windows
        if isinstance(e, (asyncio.TimeoutError, TimeoutError, socket.timeout)):
            return Failure(Fault.TIMEOUT, name, getattr(e, "errno", None) or None)
        if isinstance(e, OSError) and e.errno in _ERRNO_FAULTS:
            return Failure(_ERRNO_FAULTS[e.errno], name, e.errno)
        if isinstance(e, ConnectionRefusedError):
            return Failure(Fault.REFUSED, name)
        if isinstance(e, ConnectionError):
            return Failure(Fault.RESET, name)
        if isinstance(e, (EOFError, asyncio.IncompleteReadError)):
            return Failure(Fault.CLOSED, name)
        if _is_httpx_timeout(e):
            return Failure(Fault.TIMEOUT, name)
    return Failure(Fault.OTHER, type(exc).__name__)


def _is_httpx_timeout(exc: BaseException) -> bool:
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a dependency
        return False
    return isinstance(exc, httpx.TimeoutException)


# --- the probe --------------------------------------------------------------------------------


@dataclass
class Attempt:
    """One connect() to one resolved address."""

    address: str
    ok: bool
    ms: float
    failure: Failure | None = None

    def evidence(self) -> dict[str, Any]:
        result = "ok" if self.ok else self.failure.fault.value if self.failure else "failed"
        return {"address": self.address, "result": result, "ms": round(self.ms, 1)}


@dataclass
class Reply:
    """What came back after the request: kind is http, tls (a TLS record), banner or empty."""

    kind: str
    head: bytes = b""
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def server(self) -> str | None:
        return self.headers.get("server")

    def first_line(self, size: int = 120) -> str:
        line = self.head.split(b"\n", 1)[0].strip()
        return printable(line)[:size]


@dataclass
class Probe:
    """Everything the phases learnt. `phase` names the phase that failed (None: all passed)."""

    url: str
    scheme: str
    host: str
    port: int
    addresses: list[str] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    phase: str | None = None
    failure: Failure | None = None
    reply: Reply | None = None
    mismatch: str | None = None  # "https_to_http" | "http_to_tls"
    address: str | None = None  # the address that connected (or the one that failed)

    @property
    def ok(self) -> bool:
        return self.phase is None

    def timing_evidence(self) -> dict[str, float]:
        return {f"{k}_ms": round(v, 1) for k, v in self.timings.items()}


class _Collector(asyncio.Protocol):
    """Collects the first bytes of an answer; wakes the reader on data and on close."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False
        self.error: BaseException | None = None
        self.first_at: float | None = None
        self.wake = asyncio.Event()
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        if len(self.data) < HEAD_LIMIT:
            self.data += data[: HEAD_LIMIT - len(self.data)]
        self.wake.set()

    def eof_received(self) -> bool:
        self.closed = True
        self.wake.set()
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        self.closed, self.error = True, exc
        self.wake.set()


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000


def _request(host: str, port: int, scheme: str, path: str) -> bytes:
    shown = urls.bracket(host)
    if port != urls.DEFAULT_PORTS.get(scheme):
        shown = f"{shown}:{port}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {shown}\r\nUser-Agent: lmdoctor/{__version__}\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode()


def _head_complete(data: bytes | bytearray) -> bool:
    if not data:
        return False
    if not b"HTTP/".startswith(bytes(data[:5])):
        return True  # a banner or a TLS record: the first bytes already say what it is
    return b"\r\n\r\n" in data or b"\n\n" in data or len(data) >= HEAD_LIMIT


_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})")


def parse_reply(data: bytes) -> Reply:
    """Name what the first bytes are: an HTTP head, a TLS record, another protocol's banner."""
    if not data:
        return Reply("empty")
    if data[0] in (0x15, 0x16) and data[1:2] == b"\x03":
        return Reply("tls", bytes(data[:64]))
    match = _STATUS.match(data)
    if not match:
        return Reply("banner", bytes(data[:256]))
    head = bytes(data).split(b"\r\n\r\n", 1)[0]
    headers: dict[str, str] = {}
    for line in head.split(b"\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep:  # strip the bytes: printable() would turn the line's '\r' into a '·'
            headers[printable(name.strip()).lower()] = printable(value.strip())
    return Reply("http", head[:2048], int(match.group(1)), headers)


def printable(data: bytes) -> str:
    """Bytes from a stranger, made safe to show: ASCII printable only."""
    text = data.decode("latin-1")
    return "".join(c if " " <= c <= "~" else "·" for c in text)


async def _open(
    sock: socket.socket, tls: ssl.SSLContext | None, server_hostname: str | None, timeout: float
) -> _Collector:
    loop = asyncio.get_running_loop()
    collector = _Collector()
    try:
        await asyncio.wait_for(
            loop.create_connection(
                lambda: collector,
                sock=sock,
                ssl=tls,
                server_hostname=server_hostname if tls is not None else None,
            ),
            timeout,
        )
    except BaseException:
        sock.close()
        raise
    return collector


async def _read_head(collector: _Collector, timeout: float) -> None:
    """Wait for the first bytes (raises TimeoutError if none come), then briefly for the head."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not collector.closed and not _head_complete(collector.data):
        remaining = deadline - loop.time()
        if remaining <= 0:
            if collector.data:
                return  # a slow head is still an answer
            raise asyncio.TimeoutError
        collector.wake.clear()
        try:
            await asyncio.wait_for(collector.wake.wait(), remaining)
        except asyncio.TimeoutError:
            if collector.data:
                return
            raise


def _close(collector: _Collector) -> None:
    if collector.transport is not None:
        collector.transport.close()


async def connect(family: int, sockaddr: tuple[Any, ...], timeout: float) -> socket.socket:
    """A connected non-blocking socket, or the OS error (TimeoutError after `timeout`)."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, sockaddr), timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def resolve(host: str, port: int, timeout: float) -> list[tuple[int, tuple[Any, ...]]]:
    """(family, sockaddr) for every address, v4 and v6, in the resolver's order, deduplicated."""
    loop = asyncio.get_running_loop()
    # an address literal as bytes: a str goes through the "idna" codec first (its import is
    # ~1 % of a check's start-up), which only names need
    query: str | bytes = host.encode() if host.isascii() and _is_address(host) else host
    infos = await asyncio.wait_for(
        loop.getaddrinfo(query, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP), timeout
    )
    seen: set[str] = set()
    out: list[tuple[int, tuple[Any, ...]]] = []
    for family, _, _, _, sockaddr in infos:
        if sockaddr[0] in ("0.0.0.0", "::"):
            # Go dials the unspecified address as the local machine (net/ipsock_posix.go
            # internetSocket: raddr.toLocal on windows, aix, openbsd; Linux and macOS kernels
            # do the same). Windows' own connect() would fail with WSAEADDRNOTAVAIL.
            sockaddr = ("127.0.0.1" if family == socket.AF_INET else "::1", *sockaddr[1:])
        if sockaddr[0] not in seen:
            seen.add(str(sockaddr[0]))
            out.append((family, sockaddr))
    return out


# Which failure explains "no address works" best: a refusal is an answer, a v6 ENETUNREACH
# next to it is usually just a host without IPv6 routes.
_PRIORITY = [Fault.REFUSED, Fault.TIMEOUT, Fault.UNREACHABLE]


def _worst_first(attempts: list[Attempt]) -> Attempt:
    def rank(a: Attempt) -> int:
        fault = a.failure.fault if a.failure else Fault.OTHER
        return _PRIORITY.index(fault) if fault in _PRIORITY else len(_PRIORITY)

    return min(attempts, key=rank)


# Windows answers a SYN to a closed port with RST, and its stack retries the SYN twice before
# it reports the refusal: ~2 s (Microsoft: "TCP/IP ... TcpMaxConnectRetransmissions"; curl and
# Go users see the same). Under that a stopped server would look like a dropped packet.
WINDOWS_REFUSAL_S = 2.5
# Once one address connected, the others get this long before they are given up: Go's
# Happy-Eyeballs fallback delay (net/dial.go DefaultFallbackDelay, 300 ms). A `localhost` whose
# ::1 refuses slowly (Windows) then costs 0.3 s, not 2.
GRACE_S = 0.3


def connect_timeout_for(timeout: float, system: System | None = None) -> float:
    """The connect budget under `system`'s rules (Windows: long enough to see a refusal)."""
    return max(timeout, WINDOWS_REFUSAL_S) if (system or current_system()).windows else timeout


async def connect_all(
    targets: list[tuple[int, tuple[Any, ...]]], timeout: float
) -> tuple[list[Attempt], tuple[socket.socket, int, tuple[Any, ...]] | None]:
    """Connect to every address at once; the winner is the first in resolver order that works
    (what Go's dialer ends up with). One dead address costs one timeout, not one each; once an
    address works, the slow others get GRACE_S more."""
    timeout = connect_timeout_for(timeout)

    async def one(family: int, sockaddr: tuple[Any, ...]) -> tuple[Attempt, socket.socket | None]:
        started = time.perf_counter()
        try:
            sock = await connect(family, sockaddr, timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            return Attempt(sockaddr[0], False, _ms(started), classify(exc)), None
        return Attempt(sockaddr[0], True, _ms(started)), sock

    started = time.perf_counter()
    tasks = [asyncio.ensure_future(one(f, a)) for f, a in targets]
    pending: set[asyncio.Future[Any]] = set(tasks)
    while pending:
        _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        if pending and any(t.done() and t.result()[1] is not None for t in tasks):
            _, pending = await asyncio.wait(pending, timeout=GRACE_S)
            break
    results: list[tuple[Attempt, socket.socket | None]] = []
    for task, (_, sockaddr) in zip(tasks, targets, strict=True):
        if task.done():
            results.append(task.result())
            continue
        task.cancel()
        gave_up = Failure(Fault.TIMEOUT, "no answer while another address worked")
        results.append((Attempt(sockaddr[0], False, _ms(started), gave_up), None))
    winner = None
    for (_, sock), (family, sockaddr) in zip(results, targets, strict=True):
        if sock is None:
            continue
        if winner is None:
            winner = (sock, family, sockaddr)
        else:
            sock.close()
    return [a for a, _ in results], winner


def _insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


async def exchange(
    family: int,
    sockaddr: tuple[Any, ...],
    request: bytes,
    connect_timeout: float,
    read_timeout: float,
    tls: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> Reply:
    """A fresh connection: optional handshake, send `request`, read the answer's head."""
    sock = await connect(family, sockaddr, connect_timeout)
    collector = await _open(sock, tls, server_hostname, connect_timeout)
    try:
        collector.transport.write(request)  # type: ignore[union-attr]
        await _read_head(collector, read_timeout)
        return parse_reply(bytes(collector.data))
    finally:
        _close(collector)


async def speaks_tls(
    family: int, sockaddr: tuple[Any, ...], connect_timeout: float, read_timeout: float
) -> bool:
    """Does this port complete a TLS handshake (any certificate)? For http-to-TLS-port."""
    try:
        sock = await connect(family, sockaddr, connect_timeout)
        collector = await _open(sock, _insecure_context(), sockaddr[0], read_timeout)
    except (OSError, asyncio.TimeoutError, ssl.SSLError):
        return False
    _close(collector)
    return True


async def probe(
    url: str,
    connect_timeout: float,
    read_timeout: float,
    path: str | None = None,
    tls_context: ssl.SSLContext | None = None,
) -> Probe:
    """resolve → connect (every address) → TLS (https) → first byte of `GET path`."""
    scheme, host, port = urls.origin(url)
    result = Probe(url, scheme, host, port)
    request = _request(host, port, scheme, path or urls.join(urls.path(url) or "/", "models"))

    started = time.perf_counter()
    try:
        targets = await resolve(host, port, connect_timeout)
    except (OSError, asyncio.TimeoutError) as exc:
        result.timings["resolve"] = _ms(started)
        result.phase, result.failure = "resolve", classify(exc)
        return result
    result.timings["resolve"] = _ms(started)
    result.addresses = [a[0] for _, a in targets]

    result.attempts, winner = await connect_all(targets, connect_timeout)
    if winner is None:
        worst = _worst_first(result.attempts)
        result.timings["connect"] = worst.ms
        result.phase, result.failure, result.address = "connect", worst.failure, worst.address
        return result
    sock, family, sockaddr = winner
    result.address = sockaddr[0]
    result.timings["connect"] = next(a.ms for a in result.attempts if a.address == sockaddr[0])

    tls = None
    if scheme == "https":
        tls = tls_context or trust_context()
    started = time.perf_counter()
    try:
        collector = await _open(sock, tls, host, connect_timeout)
    except (OSError, asyncio.TimeoutError) as exc:  # ssl.SSLError is an OSError
        result.timings["tls"] = _ms(started)
        result.phase, result.failure = "tls", classify(exc)
        await _explain_failed_handshake(
            result, family, sockaddr, request, connect_timeout, read_timeout
        )
        return result
    if tls is not None:
        result.timings["tls"] = _ms(started)

    started = time.perf_counter()
    try:
        collector.transport.write(request)  # type: ignore[union-attr]
        await _read_head(collector, read_timeout)
    except asyncio.TimeoutError as exc:
        result.timings["first_byte"] = _ms(started)
        result.phase, result.failure = "first_byte", classify(exc)
        return result
    finally:
        _close(collector)
    arrived = collector.first_at or time.perf_counter()
    result.timings["first_byte"] = (arrived - started) * 1000
    result.reply = parse_reply(bytes(collector.data))
    if result.reply.kind != "http" or result.reply.status == 400:
        await _explain_odd_answer(
            result, collector, family, sockaddr, connect_timeout, read_timeout
        )
    return result


async def _explain_failed_handshake(
    result: Probe,
    family: int,
    sockaddr: tuple[Any, ...],
    request: bytes,
    connect_timeout: float,
    read_timeout: float,
) -> None:
    """https failed before any certificate check: is it a plain-HTTP (or other) server?"""
    failure = result.failure
    if failure is None or failure.fault is Fault.TLS_INVALID:
        return
    try:
        reply = await exchange(family, sockaddr, request, connect_timeout, read_timeout)
    except (OSError, asyncio.TimeoutError):
        reply = None
    if reply is not None and reply.kind == "banner":
        result.phase, result.reply = "first_byte", reply
    elif (reply is not None and reply.kind == "http") or failure.fault is Fault.TLS_MISMATCH:
        # the peer answered plain HTTP, or its bytes were no TLS record (ssl's reason)
        result.mismatch, result.reply = "https_to_http", reply
        result.failure = Failure(Fault.TLS_MISMATCH, failure.exception, None, failure.facts)


async def _explain_odd_answer(
    result: Probe,
    collector: _Collector,
    family: int,
    sockaddr: tuple[Any, ...],
    connect_timeout: float,
    read_timeout: float,
) -> None:
    """Plain http got a TLS record, nothing, or a 400: a TLS port answers like that."""
    reply = result.reply
    assert reply is not None
    maybe_tls = result.scheme == "http" and reply.kind in ("tls", "empty", "http")
    if maybe_tls and (
        reply.kind == "tls" or await speaks_tls(family, sockaddr, connect_timeout, read_timeout)
    ):
        result.phase, result.mismatch = "first_byte", "http_to_tls"
        result.failure = Failure(Fault.TLS_MISMATCH, "plain HTTP to a TLS port")
        return
    if reply.kind == "empty":
        fault = Fault.RESET if isinstance(collector.error, ConnectionError) else Fault.CLOSED
        result.phase = "first_byte"
        result.failure = classify(collector.error) if collector.error else Failure(fault, "EOF")
    elif reply.kind in ("banner", "tls"):
        result.phase = "first_byte"


# --- this machine: listeners, addresses -------------------------------------------------------


class Listener(NamedTuple):
    """A listening TCP socket on this machine."""

    ip: str
    port: int
    pid: int | None = None
    process: str | None = None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.ip)

    @property
    def wildcard(self) -> bool:
        return self.ip in ("0.0.0.0", "::")

    def covers(self, address: str, system: System | None = None) -> bool:
        """Would a connection to `address` reach this socket? '::' is dual-stack by default
        on Linux and macOS, IPv6-only on Windows (IPV6_V6ONLY is on by default there: Microsoft
        "Dual-Stack Sockets for IPv6 Winsock Applications")."""
        if self.ip == address:
            return True
        if self.ip == "::":
            return ":" in address or not (system or current_system()).windows
        return self.ip == "0.0.0.0" and ":" not in address

    def evidence(self) -> dict[str, Any]:
        return {"address": self.ip, "port": self.port, "pid": self.pid, "process": self.process}


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class Listeners(list[Listener]):
    """The listening sockets found. `complete` is False when only the user's own processes
    could be read (macOS without root): a port missing here may still be in use."""

    complete: bool = True


def listeners(ps: Any = None) -> Listeners | None:
    """Every listening TCP socket with its process name; None when the OS will not say.
    macOS without root denies the system-wide table (psutil.AccessDenied), yet the user's own
    processes' sockets are readable: LM Studio and Ollama run as the user, so those still name
    the wrong port or the loopback-only bind. `ps` is psutil (tests pass recorded fixtures).
    Blocking: call it through asyncio.to_thread."""
    if ps is None:
        import psutil as ps
    complete = True
    rows: list[tuple[Any, str, int | None]] | None
    try:
        rows = [(c.laddr, c.status, c.pid) for c in ps.net_connections(kind="tcp")]
    except (ps.AccessDenied, PermissionError, OSError):
        rows, complete = _own_connections(ps), False
        if rows is None:
            return None
    names: dict[int, str | None] = {}
    found: set[Listener] = set()
    for laddr, status, pid in rows:
        if status != ps.CONN_LISTEN or not laddr:
            continue
        if pid is not None and pid not in names:
            try:
                names[pid] = ps.Process(pid).name()
            except (ps.NoSuchProcess, ps.AccessDenied, ps.ZombieProcess):
                names[pid] = None
        ip = laddr.ip.split("%", 1)[0]
        found.add(Listener(ip, laddr.port, pid, names.get(pid) if pid else None))
    result = Listeners(sorted(found, key=lambda x: (x.port, x.ip)))
    result.complete = complete
    return result


def _own_connections(ps: Any) -> list[tuple[Any, str, int | None]] | None:
    """(laddr, status, pid) of the sockets of this user's processes; None if none readable."""
    try:
        me = ps.Process().username()
    except (ps.Error, OSError):
        me = None
    rows: list[tuple[Any, str, int | None]] = []
    readable = False
    for proc in ps.process_iter(["username"]):
        if me is not None and (proc.info or {}).get("username") != me:
            continue  # another user's process: AccessDenied anyway, and slow to find out
        getter = getattr(proc, "net_connections", None) or proc.connections  # psutil < 6
        try:
            conns = getter(kind="tcp")
        except (ps.NoSuchProcess, ps.AccessDenied, ps.ZombieProcess, OSError):
            continue
        readable = True
        rows += [(c.laddr, c.status, proc.pid) for c in conns]
    return rows if readable else None


def local_addresses() -> set[str]:
    """This machine's interface addresses, loopback included."""
    import psutil

    found: set[str] = set()
    try:
        interfaces = psutil.net_if_addrs()
    except OSError:
        return found
    for addrs in interfaces.values():
        for a in addrs:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                found.add(a.address.split("%", 1)[0])
    return found


def is_this_machine(address: str) -> bool:
    """Is `address` (a loopback name, or an IP, bracketed or not) this machine? No DNS: give
    a name through is_served_here(). Blocking (psutil): cheap, but not in a hot loop."""
    return is_loopback(address) or address.strip("[]") in local_addresses()


async def is_served_here(host: str, timeout: float) -> bool:
    """Does `host` (a name or an address) lead to this machine? Resolves names; a name that
    does not resolve in `timeout` is another machine."""
    if is_this_machine(host):
        return True
    try:
        found = await resolve(host, 0, timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    local = local_addresses()
    return any(sockaddr[0] in local or is_loopback(sockaddr[0]) for _, sockaddr in found)


# --- the client's proxy route (Go's ProxyFromEnvironment + the entry's `proxy`) ----------------


class ProxyRoute(NamedTuple):
    """The proxy PicoClaw's request would go through. `url` may hold credentials: show
    `display` only. `problem` says why PicoClaw cannot use the value as written."""

    url: str
    source: str
    problem: str | None = None

    @property
    def display(self) -> str:
        return urls.display(self.url) if "://" in self.url else self.url.rsplit("@", 1)[-1]

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme.lower() if "://" in self.url else ""


_PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")


def _env(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    """Go's getEnvAny: the first variable that is set and not empty."""
    for name in names:
        if env.get(name):
            return name, env[name]
    return None


def _go_proxy_url(value: str) -> str | None:
    """Go's parseProxy: a URL, or host[:port] taken as http://; None if unusable."""
    if urlsplit(value).scheme.lower() in _PROXY_SCHEMES and "://" in value:
        return value
    candidate = "http://" + value
    try:
        urlsplit(candidate).port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    return candidate


def _no_proxy_matches(host: str, port: int, no_proxy: str) -> bool:
    """Go's httpproxy NO_PROXY rules: '*', CIDR, IP[:port], [v6]:port, domain[:port],
    .domain (subdomains only), *.domain."""
    try:
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    host = host.lower().strip()
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        if "/" in entry:
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                continue
            if ip is not None and ip.version == network.version and ip in network:
                return True
            continue
        entry_host, entry_port = _split_host_port(entry)
        if not entry_host:
            continue
        try:
            entry_ip = ipaddress.ip_address(entry_host)
        except ValueError:
            entry_ip = None
        if entry_ip is not None:
            if ip is not None and ip == entry_ip and entry_port in ("", str(port)):
                return True
            continue
        if entry_host.startswith("*."):
            entry_host = entry_host[1:]
        match_host = not entry_host.startswith(".")
        suffix = entry_host if not match_host else "." + entry_host
        named = host.endswith(suffix) or (match_host and host == suffix[1:])
        if named and entry_port in ("", str(port)):
            return True
    return False


def _split_host_port(entry: str) -> tuple[str, str]:
    """Go's net.SplitHostPort, or (entry, '') when it is not host:port."""
    if entry.startswith("["):
        close = entry.find("]")
        if close > 0 and entry[close + 1 : close + 2] == ":":
            return entry[1:close], entry[close + 2 :]
        return entry.strip("[]"), ""
    if entry.count(":") == 1:
        host, port = entry.split(":")
        return host, port
    return entry, ""


def env_proxy(url: str, env: Mapping[str, str]) -> ProxyRoute | None:
    """Go's ProxyFromEnvironment for `url`: HTTPS_PROXY for https, HTTP_PROXY for http (upper
    case wins), never for `localhost` or a loopback IP, NO_PROXY honoured."""
    scheme, host, port = urls.origin(url)
    names = ("HTTPS_PROXY", "https_proxy") if scheme == "https" else ("HTTP_PROXY", "http_proxy")
    found = _env(env, *names)
    if found is None or scheme not in ("http", "https"):
        return None
    if host == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback):
        return None
    no_proxy = _env(env, "NO_PROXY", "no_proxy")
    if no_proxy is not None and _no_proxy_matches(host, port, no_proxy[1]):
        return None
    name, value = found
    parsed = _go_proxy_url(value)
    if parsed is None:
        return None  # Go ignores an unparsable proxy variable
    return ProxyRoute(parsed, name)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def client_proxy(
    url: str, env: Mapping[str, str], entry_proxy: str | None = None, entry_where: str = ""
) -> ProxyRoute | None:
    """The proxy PicoClaw would use for `url`: the entry's `proxy` (for every request,
    loopback included) if Go's url.Parse accepts it, else the environment's."""
    source = f"proxy in {entry_where}" if entry_where else "the entry's proxy"
    if entry_proxy:
        scheme = urlsplit(entry_proxy).scheme.lower()
        if "://" in entry_proxy and scheme in _PROXY_SCHEMES:
            return ProxyRoute(entry_proxy, source)
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", entry_proxy):
            # Go's url.Parse rejects "127.0.0.1:3128": PicoClaw logs it and falls back to env.
            fallback = env_proxy(url, env)
            problem = "ignored: not a URL (PicoClaw logs 'invalid proxy URL' and goes on)"
            return ProxyRoute(entry_proxy, source, problem) if fallback is None else fallback
        return ProxyRoute(entry_proxy, source, f"unsupported proxy scheme {scheme!r}")
    return env_proxy(url, env)


# --- where lmdoctor runs: container, WSL2 -----------------------------------------------------


class Runtime(NamedTuple):
    """`container`: docker, podman or container (cgroup says so); `wsl2`: Linux under WSL2;
    `gateway`: the default route's gateway (the host as seen from a container or WSL2 NAT);
    `nameserver`: the first nameserver of resolv.conf (WSL2 NAT points it at Windows)."""

    container: str | None = None
    wsl2: bool = False
    gateway: str | None = None
    nameserver: str | None = None

    @property
    def isolated(self) -> bool:
        """localhost here is not the machine the user thinks of as 'the host'."""
        return self.container is not None or self.wsl2


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


_CGROUP_MARKERS = (
    ("docker", "docker"),
    ("libpod", "podman"),
    ("podman", "podman"),
    ("kubepods", "container"),
    ("containerd", "container"),
    ("lxc", "container"),
)


# Paths WSL itself creates whatever the distro: /init registers the WSLInterop binfmt handler
# even with interop disabled (microsoft/WSL#423, 2020-08-24), /mnt/wsl is its cross-distro mount
# (sindresorhus/is-wsl#13: the custom-kernel case)
_WSL_MARKERS = ("proc/sys/fs/binfmt_misc/WSLInterop", "mnt/wsl")


def detect_runtime(root: Path | None = None) -> Runtime:
    """Read /.dockerenv, /run/.containerenv, /proc/1/cgroup, /proc/version, /proc/net/route
    and /etc/resolv.conf under `root` (a fake tree in tests)."""
    root = root if root is not None else SYSTEM_ROOT
    container = None
    if (root / ".dockerenv").exists():
        container = "docker"
    elif (root / "run/.containerenv").exists():
        container = "podman"
    else:
        cgroup = _read(root / "proc/1/cgroup").lower()
        container = next((kind for mark, kind in _CGROUP_MARKERS if mark in cgroup), None)
    version = _read(root / "proc/version").lower()
    wsl2 = "microsoft" in version and ("wsl2" in version or "microsoft-standard" in version)
    if "microsoft" not in version and any((root / path).exists() for path in _WSL_MARKERS):
        # a self-built kernel under WSL: only WSL2 runs a real Linux kernel (WSL1's release
        # always says "Microsoft"), and WSL's own /init leaves these behind
        wsl2 = True
    return Runtime(
        container,
        wsl2,
        _default_gateway(_read(root / "proc/net/route")),
        _nameserver(_read(root / "etc/resolv.conf")),
    )


def _default_gateway(route_table: str) -> str | None:
    # every line: the kernel's header ("Iface Destination ...") is no default route anyway
    for line in route_table.splitlines():
        cols = line.split()
        if len(cols) > 2 and cols[1] == "00000000" and cols[2] != "00000000":
            try:
                return socket.inet_ntoa(int(cols[2], 16).to_bytes(4, "little"))
            except (ValueError, OverflowError):
                return None
    return None


def _nameserver(resolv_conf: str) -> str | None:
    for line in resolv_conf.splitlines():
        cols = line.split()
        if len(cols) >= 2 and cols[0] == "nameserver":
            return cols[1]
    return None
