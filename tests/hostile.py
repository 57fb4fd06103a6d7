"""Hostile peers for robustness tests: servers that are sick in every way a server can be.

Each entry of `HOSTILE` is a socket handler for `loopback.RawServer`: it reads the request head
and then misbehaves (answers forever, answers huge, answers a compression bomb, dribbles, loops,
lies about its content, speaks another protocol, or says nothing at all). Every handler stops
as soon as the client goes away, so a test's servers never outlive it by more than a moment.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import zlib
from collections.abc import Callable
from functools import cache

Handler = Callable[[socket.socket], None]

HEAD_LIMIT = 64 * 1024
BIG_BODY = 64 * 1024 * 1024
BOMB_EXPANDED = 4 * 1024**3  # 4 GiB of zeros, about 4 MiB on the wire
LONG_ID = 100 * 1024
JSON = "application/json"
# Clear the screen, retitle the terminal, ring the bell: text a server must not get to print.
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\x1b[31m\x00\x9b"


def read_head(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """The request line and headers (bounded); the request body, if any, is ignored."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < HEAD_LIMIT:
        try:
            chunk = sock.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def respond(
    status: str, body: bytes, content_type: str = "application/json", **extra: str
) -> Handler:
    """A complete, well-framed answer whose *content* is the problem."""
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "Connection": "close",
        **{k.replace("_", "-"): v for k, v in extra.items()},
    }
    reply = head(status, headers) + body

    def handle(sock: socket.socket) -> None:
        read_head(sock)
        sock.sendall(reply)

    return handle


def _json(data: object) -> Handler:
    return respond("200 OK", json.dumps(data).encode())


def endless_chunked(sock: socket.socket) -> None:
    """A chunked body that never ends, sent as fast as the client reads."""
    read_head(sock)
    sock.sendall(
        head("200 OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    )
    piece = b'{"data": [' + b" " * (64 * 1024 - 10)
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    while True:
        sock.sendall(chunk)


def huge_body(sock: socket.socket) -> None:
    """64 MiB announced with Content-Length and really sent (until the client hangs up)."""
    read_head(sock)
    sock.sendall(
        head(
            "200 OK",
            {
                "Content-Type": "application/json",
                "Content-Length": str(BIG_BODY),
                "Connection": "close",
            },
        )
    )
    block = b" " * (1024 * 1024)
    for _ in range(BIG_BODY // len(block)):
        sock.sendall(block)


@cache
def _bomb_parts() -> tuple[bytes, bytes, int]:
    """(gzip header, one segment of 1 MiB of zeros, how many segments make the bomb).

    After a full flush the deflate state is reset and byte-aligned, so every later segment
    compresses to the same bytes: the bomb is one small segment repeated (about 1000:1)."""
    zeros = bytes(1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    start = compressor.compress(b"")
    segment = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    return start, segment, BOMB_EXPANDED // len(zeros)


def gzip_bomb(sock: socket.socket) -> None:
    """Content-Encoding: gzip; ~4 MiB that inflate to 4 GiB of zeros. The gzip trailer is never
    sent: a bounded reader stops long before it, an unbounded one would have died by then."""
    start, segment, count = _bomb_parts()
    read_head(sock)
    sock.sendall(
        head(
            "200 OK",
            {
                "Content-Type": "application/json",
                "Content-Encoding": "gzip",
                "Content-Length": str(len(start) + count * len(segment)),
                "Connection": "close",
            },
        )
        + start
    )
    batch = segment * 64
    for _ in range(count // 64):
        sock.sendall(batch)


def dribble(sock: socket.socket) -> None:
    """Status line and headers one byte a second: every read "succeeds", none finishes."""
    read_head(sock)
    reply = head("200 OK", {"Content-Type": "application/json", "X-Pad": "." * 4096})
    for byte in reply:
        sock.sendall(bytes([byte]))
        time.sleep(1.0)


def redirect_loop(sock: socket.socket) -> None:
    """302 to the very same URL, forever."""
    request = read_head(sock)
    line = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    target = line[1] if len(line) > 1 else "/"
    sock.sendall(
        head("302 Found", {"Location": target, "Content-Length": "0", "Connection": "close"})
    )


def banner(sock: socket.socket) -> None:
    """Not HTTP at all: an SSH server's greeting, then silence until the client leaves."""
    sock.sendall(b"SSH-2.0-OpenSSH_9.6p1 Debian-4\r\n")
    read_head(sock, timeout=30)


def silent(sock: socket.socket) -> None:
    """Accepts, reads, never answers; returns when the client hangs up."""
    read_head(sock, timeout=30)
    sock.settimeout(30)
    while sock.recv(4096):
        pass


HOSTILE: dict[str, Handler] = {
    "endless_chunked": endless_chunked,
    "huge_body": huge_body,
    "gzip_bomb": gzip_bomb,
    "dribble": dribble,
    "redirect_loop": redirect_loop,
    "invalid_json": respond("200 OK", b'{"object": "list", "data": [{"id": "a"'),
    "data_null": _json({"object": "list", "data": None}),
    "data_string": _json({"object": "list", "data": "smollm2"}),
    "data_mixed": _json({"object": "list", "data": [1, None, "x", {"id": 5}, {"id": ["y"]}, []]}),
    "long_ids": _json({"object": "list", "data": [{"id": c * LONG_ID} for c in "abcde"]}),
    "invalid_utf8": respond("200 OK", b'{"object": "list", "data": [{"id": "\xff\xfe\xc3"}]}'),
    "html_200": respond(
        "200 OK",
        b"<!doctype html><html><head><title>Router login</title></head>"
        b"<body><form>password</form></body></html>",
        "text/html; charset=utf-8",
    ),
    "terminal_escapes": respond(
        "401 Unauthorized",
        json.dumps({"error": {"message": ESCAPES + "invalid key", "type": ESCAPES}}).encode(),
    ),
    "banner": banner,
    "silent": silent,
}


class BlackHole:
    """A loopback port where connecting times out, as behind a firewall that drops packets:
    a listener with a backlog of 0 that never accepts, its queue filled by our own sockets, so
    the kernel drops every further SYN. No root and no namespace needed."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self._fillers: list[socket.socket] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> BlackHole:
        for _ in range(3):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)
        time.sleep(0.05)  # let the handshakes that fit complete
        return self

    def __exit__(self, *exc: object) -> None:
        for filler in self._fillers:
            filler.close()
        self.sock.close()
