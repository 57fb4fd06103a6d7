"""PLACEHOLDER: being written. Fit and speed estimate."""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    return []


CHECK = Check(id="capacity", title="Fit and speed estimate", run=run, needs=("models",))
