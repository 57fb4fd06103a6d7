"""The exporter's HTTP side: /probe?target=NAME, /metrics, / (stdlib threading HTTP server).

/probe answers in the format Prometheus asks for (OpenMetrics or the classic text format, as
prometheus_client negotiates it). An ad-hoc URL as target is refused unless --allow-url: a probe
endpoint that fetches any URL is a server-side request forgery hole (it would make lmdoctor
connect wherever a caller says, from inside the network). `module=bench` needs --allow-bench:
it makes the model generate text on every scrape.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from lmdoctor import __version__
from lmdoctor.exporter.own import index_page, own_metrics
from lmdoctor.exporter.prober import Prober
from lmdoctor.exporter.targets import TargetSet
from lmdoctor.findings import Severity
from lmdoctor.registry import Check
from lmdoctor.results import Report
from lmdoctor.target import Target

SCRAPE_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
# Answer this long before Prometheus gives up, so the answer still counts (blackbox_exporter's
# default timeout_offset).
TIMEOUT_OFFSET_S = 0.5
DEFAULT_DEADLINE_S = 30.0  # a probe without the header (curl, a browser)
MIN_DEADLINE_S = 0.5
MODULES = ("default", "bench")


@dataclass(frozen=True)
class ServeOptions:
    config: Path
    host: str = "127.0.0.1"
    port: int = 9877
    timeout: float | None = None
    allow_url: bool = False
    allow_bench: bool = False
    watch_interval: float = 1.0
    verbose: bool = False


def parse_listen(text: str) -> tuple[str, int]:
    """HOST:PORT or [IPv6]:PORT -> (host, port); ValueError for anything else."""
    text = text.strip()
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    bracketed = text.startswith("[")
    if not sep or not port.isdigit() or int(port) > 65535 or (":" in host) != bracketed:
        raise ValueError("give HOST:PORT, e.g. 127.0.0.1:9877 or [::1]:9877")
    return host, int(port)


class Refused(Exception):
    """A request the exporter answers with an HTTP error: (status, one line)."""

    def __init__(self, status: int, message: str, reason: str) -> None:
        super().__init__(message)
        self.status, self.message, self.reason = status, message, reason


class Exporter:
    """Everything a request handler needs; one per `lmdoctor serve`."""

    def __init__(self, options: ServeOptions, targets: TargetSet, checks: Sequence[Check]) -> None:
        self.options, self.targets = options, targets
        self.prober = Prober(checks, options.timeout)
        self.registry, self.probes, self.errors = own_metrics(targets, self.prober)

    # ------------------------------------------------------------------------------ requests

    def probe_targets(self, query: dict[str, list[str]]) -> tuple[str, list[Target], bool]:
        from lmdoctor.config import adhoc_target

        name = (query.get("target") or [""])[0].strip()
        module = (query.get("module") or ["default"])[0]
        if not name:
            raise Refused(400, "the target parameter is missing: /probe?target=NAME", "bad_request")
        if module not in MODULES:
            raise Refused(400, f"unknown module: use one of {', '.join(MODULES)}", "bad_request")
        bench = module == "bench"
        if bench and not self.options.allow_bench:
            raise Refused(403, "module=bench needs lmdoctor serve --allow-bench", "forbidden")
        found = self.targets.get(name)
        if found:
            return name, found, bench
        if "://" not in name:
            raise Refused(404, "no such target in the config (see /)", "unknown_target")
        if not self.options.allow_url:
            raise Refused(
                403,
                "ad-hoc URLs are refused: start lmdoctor serve with --allow-url to probe them",
                "forbidden",
            )
        model = (query.get("model") or [""])[0] or None
        try:
            return name, [adhoc_target(name, model, None)], bench
        except ValueError as exc:
            raise Refused(400, f"target: {exc}", "bad_request") from exc

    def deadline(self, header: str | None) -> float:
        try:
            scrape_timeout = float(header) if header else None
        except ValueError:
            scrape_timeout = None
        if scrape_timeout is None or not scrape_timeout > 0:
            return DEFAULT_DEADLINE_S
        return max(MIN_DEADLINE_S, min(scrape_timeout, 600.0) - TIMEOUT_OFFSET_S)

    def index(self) -> str:
        return index_page(self.targets, self.prober)


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = f"lmdoctor/{__version__}"

    def do_GET(self) -> None:
        exporter = self.server.exporter
        parts = urlsplit(self.path)
        try:
            if parts.path == "/probe":
                self._probe(exporter, parse_qs(parts.query))
            elif parts.path == "/metrics":
                self._metrics(exporter)
            elif parts.path == "/":
                self._send(200, exporter.index().encode(), "text/html; charset=utf-8")
            else:
                self._send(404, b"not found: try /, /probe?target=NAME or /metrics\n")
        except Refused as exc:
            exporter.errors.labels(exc.reason).inc()
            self._send(exc.status, (exc.message + "\n").encode())
        except Exception as exc:  # a bug must cost one answer, not the exporter
            exporter.errors.labels("internal").inc()
            from lmdoctor.redact import scrub

            self.log_error("%s", scrub(f"internal error: {type(exc).__name__}: {exc}"))
            self._send(500, b"internal error (see lmdoctor serve's stderr)\n")

    def _probe(self, exporter: Exporter, query: dict[str, list[str]]) -> None:
        from lmdoctor.redact import scrub
        from lmdoctor.render.openmetrics import exposition

        key, targets, bench = exporter.probe_targets(query)
        deadline = exporter.deadline(self.headers.get(SCRAPE_TIMEOUT_HEADER))
        report, in_time = exporter.prober.probe(key, targets, bench, deadline)
        report = _relabelled(report, key)  # the target label is what the caller asked for
        body, content_type = exposition(report, self.headers.get("Accept"))
        ok = report.worst() < Severity.ERROR and in_time
        exporter.probes.labels("success" if ok else "failure").inc()
        self._send(200, scrub(body.decode("utf-8")).encode("utf-8"), content_type)

    def _metrics(self, exporter: Exporter) -> None:
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(self.headers.get("Accept") or "")
        self._send(200, encoder(exporter.registry), content_type)

    def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.exporter.options.verbose:
            from lmdoctor.redact import scrub

            sys.stderr.write(scrub(f"lmdoctor serve: {self.address_string()} {format % args}\n"))

    def log_error(self, format: str, *args: Any) -> None:
        from lmdoctor.redact import scrub

        sys.stderr.write(scrub(f"lmdoctor serve: {format % args}\n"))


def _relabelled(report: Report, name: str) -> Report:
    """The report with the caller's target name on every result (a copy: runs are shared)."""
    from dataclasses import replace

    results = [
        r if r.target.name == name else replace(r, target=replace(r.target, name=name))
        for r in report.results
    ]
    return replace(report, results=results)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    exporter: Exporter


def make_server(options: ServeOptions, exporter: Exporter) -> Server:
    Server.address_family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    server = Server((options.host, options.port), Handler)
    server.exporter = exporter
    return server


def run_server(options: ServeOptions, checks: Sequence[Check]) -> None:
    """Serve until SIGINT/SIGTERM. Raises ConfigError (first load) and OSError (bind)."""

    def log(line: str) -> None:
        from lmdoctor.redact import scrub

        sys.stderr.write(scrub(f"lmdoctor serve: {line}\n"))
        sys.stderr.flush()

    import importlib

    for module in ("lmdoctor.http", "lmdoctor.runner", "lmdoctor.render.openmetrics"):
        importlib.import_module(module)  # now, not during the first scrape (its deadline)
    targets = TargetSet(options.config, log)
    exporter = Exporter(options, targets, checks)
    server = make_server(options, exporter)
    stop = threading.Event()
    watcher = threading.Thread(
        target=targets.watch, args=(options.watch_interval, stop), daemon=True
    )
    watcher.start()
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: targets.wake.set())
    signal.signal(signal.SIGTERM, _interrupt)
    host, port = str(server.server_address[0]), server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    n = len(targets.names())
    counted = f"{n} target{'' if n == 1 else 's'}"
    log(f"listening on http://{shown}:{port}/ ({counted} from {options.config})")
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        targets.wake.set()
        server.server_close()
        exporter.prober.close()
        log("stopped")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt
