"""PLACEHOLDER: being written. Proxy on the client's route."""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    return []


CHECK = Check(id="proxy", title="Proxy on the client's route", run=run, needs=("network",))
