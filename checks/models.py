"""PLACEHOLDER: being written. Model served and loaded."""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    return []


CHECK = Check(id="models", title="Model served and loaded", run=run, needs=("server", "auth"))
