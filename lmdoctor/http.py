"""The shared HTTP client: bounded reads, bounded time, credentials only to their own origin.

Every probe goes through `HttpClient.request`. It never follows redirects blindly, never
decompresses without a cap, never reads more than `limit` bytes, and gives up after the
request deadline even if a server dribbles one byte a second.
"""

from __future__ import annotations

import asyncio
import json
import time
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from lmdoctor import __version__, urls

if TYPE_CHECKING:
    from lmdoctor.secret import Secret
    from lmdoctor.settings import Settings

PROBE_LIMIT = 256 * 1024  # health, errors, fingerprints
LIST_LIMIT = 4 * 1024 * 1024  # model lists (LM Studio with hundreds of downloads)
MAX_REDIRECTS = 3
USER_AGENT = f"lmdoctor/{__version__}"


class DeadlineExceeded(httpx.TimeoutException):
    """The whole exchange took longer than the request deadline (slow or endless server)."""


@dataclass
class Response:
    """One HTTP answer, its body read up to a limit."""

    url: str
    status: int
    headers: httpx.Headers
    body: bytes = field(repr=False)  # up to LIST_LIMIT: never in a repr or a log
    truncated: bool = False
    elapsed_s: float = 0.0
    redirects: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The parsed body, or None when it is not (complete, valid) JSON."""
        if self.truncated:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):
            return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def snippet(self, size: int = 300) -> str:
        """The start of the body for evidence (scrubbed later by the renderers)."""
        text = " ".join(self.text[: size * 2].split())
        return text[:size] + ("…" if len(text) > size or self.truncated else "")


class _Decoder:
    """gzip/deflate with an output cap: a compression bomb costs at most `limit` bytes."""

    def __init__(self, encoding: str) -> None:
        enc = encoding.strip().lower()
        gzip = 16 + zlib.MAX_WBITS
        wbits = {"gzip": gzip, "x-gzip": gzip, "deflate": zlib.MAX_WBITS}
        self._zlib = zlib.decompressobj(wbits[enc]) if enc in wbits else None

    def feed(self, data: bytes, room: int) -> bytes:
        if self._zlib is None:
            return data[: room + 1]
        try:
            return self._zlib.decompress(self._zlib.unconsumed_tail + data, room + 1)
        except zlib.error:
            return data[: room + 1]  # not what it claims: keep the raw bytes as evidence


def _no_tls() -> Any:
    """The SSL context of the plain-http transport, which never does TLS (no proxy, http://
    only: httpx routes https:// elsewhere). Loading CAs is the cost avoided, so it is a bare
    context that trusts no certificate: if TLS ever ran on it, verification would fail."""
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname and CERT_REQUIRED are on


def _trusted() -> Any:
    """The store the client trusts (the OS store, lmdoctor.trust), not certifi."""
    from lmdoctor.trust import trust_context

    return trust_context()


class _FirstUseTransport(httpx.AsyncBaseTransport):
    """httpx's own transport, built on the first request it carries (https:// ones)."""

    def __init__(self, **options: Any) -> None:
        self.options = options
        self._inner: httpx.AsyncHTTPTransport | None = None

    @property
    def built(self) -> bool:
        return self._inner is not None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            if self.options.get("verify") is None:
                self.options["verify"] = _trusted()
            self._inner = httpx.AsyncHTTPTransport(**self.options)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def _wire(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """Header values as UTF-8 bytes, as Go's net/http sends them for PicoClaw
    (httpguts.ValidHeaderFieldValue accepts bytes >= 0x80): a key with a non-ASCII character
    (a pasted typographic quote) reaches the server, which judges it; httpx would refuse to
    encode it as a str (UnicodeEncodeError: "no answer")."""
    return [(name.encode("ascii"), value.encode()) for name, value in headers.items()]


class HttpClient:
    """One per run, shared by every target. `trust_env=False`: probes go direct; the proxy
    check emulates the client's own route separately."""

    def __init__(self, settings: Settings, *, verify: Any = None, proxy: str | None = None) -> None:
        self.settings = settings
        timeout = httpx.Timeout(
            connect=settings.connect_timeout,
            read=settings.read_timeout,
            write=settings.read_timeout,
            pool=settings.connect_timeout,
        )
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        lazy: dict[str, Any] = {}
        self.tls_transport: _FirstUseTransport | None = None
        if proxy is None:
            # Loading the trust store into an SSL context costs ~30 ms of every start-up:
            # build it with the first https request; plain-http probes never need one.
            plain = httpx.AsyncHTTPTransport(verify=_no_tls(), limits=limits, trust_env=False)
            self.tls_transport = _FirstUseTransport(verify=verify, limits=limits, trust_env=False)
            lazy["transport"] = self.tls_transport
            lazy["mounts"] = {"http://": plain}
            verify = _no_tls()  # the client builds no transport of its own with it
        elif verify is None:
            verify = _trusted()
        self.raw = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            proxy=proxy,  # only the proxy check sets it, to replay the client's route
            verify=verify,
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            limits=limits,
            **lazy,
        )

    async def aclose(self) -> None:
        await self.raw.aclose()

    @staticmethod
    def auth_headers(url: str, key: Secret | None, key_origin: str | None) -> dict[str, str]:
        """Authorization for `url`, only when it is the key's own origin."""
        if key and key_origin and urls.same_origin(url, key_origin):
            return {"Authorization": f"Bearer {key.reveal()}"}
        return {}

    async def request(
        self,
        method: str,
        url: str,
        *,
        key: Secret | None = None,
        key_origin: str | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        limit: int = PROBE_LIMIT,
        deadline: float | None = None,
    ) -> Response:
        deadline = deadline or self.settings.request_deadline
        try:
            return await asyncio.wait_for(
                self._follow(method, url, key, key_origin, json_body, headers or {}, limit),
                deadline,
            )
        except asyncio.TimeoutError:
            raise DeadlineExceeded(f"no complete answer within {deadline:g} s") from None

    async def _follow(
        self,
        method: str,
        url: str,
        key: Secret | None,
        key_origin: str | None,
        json_body: Any,
        headers: dict[str, str],
        limit: int,
    ) -> Response:
        started = time.perf_counter()
        hops: list[str] = []
        while True:
            sent = {**headers, **self.auth_headers(url, key, key_origin)}
            response = await self._once(method, url, json_body, sent, limit)
            location = response.headers.get("location")
            if response.status not in (301, 302, 303, 307, 308) or not location:
                break
            if len(hops) >= MAX_REDIRECTS:
                break
            hops.append(url)
            url = str(httpx.URL(url).join(location))
            if response.status == 303:
                method, json_body = "GET", None
        response.redirects = hops
        response.elapsed_s = time.perf_counter() - started
        return response

    async def _once(
        self, method: str, url: str, json_body: Any, headers: dict[str, str], limit: int
    ) -> Response:
        request = self.raw.build_request(method, url, json=json_body, headers=_wire(headers))
        reply = await self.raw.send(request, stream=True)
        chunks: list[bytes] = []
        truncated = False
        try:
            async for piece, cut in _bounded_body(reply, limit):
                chunks.append(piece)
                truncated = cut
            body = b"".join(chunks)
        finally:
            await reply.aclose()
        return Response(str(reply.url), reply.status_code, reply.headers, body, truncated)

    async def stream_lines(
        self,
        method: str,
        url: str,
        *,
        key: Secret | None = None,
        key_origin: str | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        limit: int = LIST_LIMIT,
        deadline: float | None = None,
        first_byte_timeout: float | None = None,
    ) -> StreamedResponse:
        """One request whose body is read line by line as it arrives (server-sent events,
        NDJSON), each line stamped with the seconds since the request was sent.

        The same bounds as `request`: a byte limit, bounded decompression, the key only to its
        own origin, an overall deadline. Redirects are returned, not followed. Once the headers
        have arrived, running out of time or losing the connection returns the lines so far
        (`timed_out` / `failure` set: a partial stream is still a measurement); before that it
        raises like `request`. `first_byte_timeout` replaces the read timeout: loading a model
        can take a minute before the first byte.
        """
        deadline = deadline or self.settings.request_deadline
        sent = {**(headers or {}), **self.auth_headers(url, key, key_origin)}
        result = StreamedResponse(url, 0, httpx.Headers(), b"")
        started = time.perf_counter()
        try:
            await asyncio.wait_for(
                self._stream(result, method, url, json_body, sent, limit, first_byte_timeout),
                deadline,
            )
        except asyncio.TimeoutError:
            if not result.status:
                raise DeadlineExceeded(f"no answer within {deadline:g} s") from None
            result.timed_out = True
        result.elapsed_s = time.perf_counter() - started
        return result

    async def _stream(
        self,
        result: StreamedResponse,
        method: str,
        url: str,
        json_body: Any,
        headers: dict[str, str],
        limit: int,
        first_byte_timeout: float | None,
    ) -> None:
        timeout = httpx.Timeout(
            connect=self.settings.connect_timeout,
            read=first_byte_timeout or self.settings.read_timeout,
            write=self.settings.read_timeout,
            pool=self.settings.connect_timeout,
        )
        request = self.raw.build_request(
            method, url, json=json_body, headers=_wire(headers), timeout=timeout
        )
        started = time.perf_counter()
        reply = await self.raw.send(request, stream=True)
        result.url, result.status, result.headers = str(reply.url), reply.status_code, reply.headers
        chunks: list[bytes] = []
        pending = b""
        try:
            async for piece, cut in _bounded_body(reply, limit):
                chunks.append(piece)
                result.truncated = cut
                at = time.perf_counter() - started
                *complete, pending = (pending + piece).split(b"\n")
                result.lines += [
                    (at, ln.rstrip(b"\r").decode("utf-8", "replace")) for ln in complete
                ]
        except (httpx.TransportError, OSError) as exc:
            result.failure = type(exc).__name__  # e.g. the server died mid-generation
        finally:
            if pending:
                result.lines.append(
                    (time.perf_counter() - started, pending.decode("utf-8", "replace"))
                )
            result.body = b"".join(chunks)
            await reply.aclose()


async def _bounded_body(reply: httpx.Response, limit: int) -> AsyncIterator[tuple[bytes, bool]]:
    """The decoded body piece by piece, `limit` bytes at most in all; the flag says the cap was
    hit (the last piece is cut to fit, and nothing more is read)."""
    decoder = _Decoder(reply.headers.get("content-encoding", "identity"))
    size = 0
    async for raw in reply.aiter_raw():
        piece = decoder.feed(raw, limit - size)
        size += len(piece)
        if size > limit:
            yield piece[: len(piece) - (size - limit)], True
            return
        yield piece, False


@dataclass
class StreamedResponse(Response):
    """A streamed answer: `lines` are (seconds since sent, text) as they arrived."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    timed_out: bool = False
    failure: str | None = None
