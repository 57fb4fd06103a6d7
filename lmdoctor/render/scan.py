"""`lmdoctor scan` as text: the servers discovery.run_scan() found, as a table or JSON
({"schema_version": 1, "servers": [...]})."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from lmdoctor import servers
from lmdoctor.redact import scrub
from lmdoctor.render.layout import plain_table, terminal_columns

if TYPE_CHECKING:
    from lmdoctor.discovery import FoundServer

MAX_MODELS_SHOWN = 20


def _models_cell(models: list[str] | None) -> str:
    if models is None:
        return "(not listed: needs a key?)"
    if not models:
        return "(none)"
    shown = ", ".join(models[:3])
    return shown + (f" (+{len(models) - 3} more)" if len(models) > 3 else "")


def _listens_cell(server: FoundServer) -> str:
    where = ", ".join(server.listens_on) or "?"
    if server.beyond_loopback is None:
        return f"{where} (reach from LAN unknown)"
    return f"{where} ({'LAN too' if server.beyond_loopback else 'this machine only'})"


def render(results: Sequence[FoundServer], fmt: str) -> str:
    """A table (one row per server) or JSON ({"schema_version": 1, "servers": [...]})."""
    if fmt == "json":
        servers_out = []
        for s in results:
            data = s.as_dict()
            if data["models"] is not None:
                data["models"] = data["models"][:MAX_MODELS_SHOWN]
            servers_out.append(data)
        return json.dumps({"schema_version": 1, "servers": servers_out}, indent=2)
    if not results:
        ports = ", ".join(str(p) for p in servers.WELL_KNOWN_PORTS)
        return (
            "No LLM server answers on this machine "
            f"(looked at its listening sockets and ports {ports})."
        )
    rows = [
        (
            s.port,
            s.name + (f" {s.version}" if s.version else ""),
            _models_cell(s.models),
            _listens_cell(s),
            s.process or "?",
            s.api_base,
        )
        for s in results
    ]
    header = ("port", "server", "models", "listens on", "process", "api_base")
    # cells scrubbed before layout (a server's model list is its own text); fits the terminal
    cells = [[scrub(str(value)) for value in row] for row in rows]
    return plain_table(header, cells, terminal_columns())
