"""Real HTTP servers on loopback for check tests: one in-process server per case.

`Server(routes)` answers from a table: keys are "METHOD /path" or "/path" (any method), values a
`Reply` or a function of the `Seen` request returning one. Every request is recorded in
`server.seen` (method, path, headers, body) so tests can assert what lmdoctor sent.
`RawServer(handler)` hands each accepted socket to `handler` for non-HTTP and hostile peers.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import trustme


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or JSON-able data
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, dict[str, str]]:
        headers = dict(self.headers)
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        else:
            data = json.dumps(self.body).encode()
            headers.setdefault("Content-Type", "application/json")
        return data, headers


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


Route = Reply | Callable[[Seen], Reply]
NOT_FOUND = Reply(404, {"error": "not found"})


class Server:
    def __init__(
        self,
        routes: dict[str, Route] | None = None,
        *,
        default: Route = NOT_FOUND,
        host: str = "127.0.0.1",
        port: int = 0,
        server_header: str | None = None,
    ):
        self.routes = dict(routes or {})
        self.default = default
        self.seen: list[Seen] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def version_string(self) -> str:
                return server_header if server_header is not None else super().version_string()

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                seen = Seen(self.command, self.path, dict(self.headers.items()), body)
                outer.seen.append(seen)
                route = outer.routes.get(
                    f"{self.command} {path}", outer.routes.get(path, outer.default)
                )
                reply = route(seen) if callable(route) else route
                data, headers = reply.encoded()
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = _serve

        family = socket.AF_INET6 if ":" in host else socket.AF_INET

        class HTTPServer(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

        self.httpd = HTTPServer((host, port), Handler)
        self.host = host
        self.port = self.httpd.server_address[1]
        # a short poll interval: shutdown() waits for it (0.5 s by default, per server)
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class RawServer:
    """Accepts TCP connections and gives each socket to `handler(sock)` in a thread."""

    def __init__(self, handler: Callable[[socket.socket], None], host: str = "127.0.0.1"):
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(64)
        self.host, self.port = host, self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=1)
        self.sock.close()


def free_port(host: str = "127.0.0.1") -> int:
    """A port on which nothing listens (bound and released)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class TLSServer(RawServer):
    """Answers HTTP over TLS with `context` (a server-side SSLContext): an empty model list; a
    failed handshake just closes the connection."""

    def __init__(self, context: ssl.SSLContext, host: str = "127.0.0.1") -> None:
        self.context = context
        super().__init__(self._serve, host=host)

    @classmethod
    def issued_by(cls, ca: trustme.CA, *names: str, host: str = "127.0.0.1") -> TLSServer:
        """With a certificate from `ca` for `names` (default: localhost and `host`)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*(names or ("localhost", host))).configure_cert(context)
        return cls(context, host)

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(3)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with tls:
            tls.recv(4096)
            body = b'{"object":"list","data":[]}'
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
