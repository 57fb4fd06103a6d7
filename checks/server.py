"""PLACEHOLDER: being written. Server identity and API path."""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    return []


CHECK = Check(id="server", title="Server identity and API path", run=run, needs=("network",))
