"""PLACEHOLDER: being written. API key."""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    return []


CHECK = Check(id="auth", title="API key", run=run, needs=("server",))
