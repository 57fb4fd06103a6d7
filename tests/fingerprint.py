"""Identification of one loopback fake, as `check` runs it (servers.identify): shared by
tests/test_servers.py and tests/test_decisions_servers.py."""

from __future__ import annotations

import asyncio

from conftest import PATIENT
from lmdoctor import servers
from lmdoctor.http import HttpClient
from lmdoctor.redact import Secret
from loopback import Server


def identify(
    server: Server, key: str | None = None, path: str = "/v1"
) -> servers.ServerInfo | None:
    """What lmdoctor makes of the server at base `server.url + path`, holding `key`.
    PATIENT timeouts: a verdict never depends on one, and the machine may be loaded."""

    async def go() -> servers.ServerInfo | None:
        http = HttpClient(PATIENT)
        try:
            secret = Secret(key) if key else None
            return await servers.identify(http, server.url + path, secret, server.url)
        finally:
            await http.aclose()

    with server:
        return asyncio.run(go())
