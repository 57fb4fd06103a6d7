"""PLACEHOLDER: being written. Measured speed (--bench)."""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    return []


CHECK = Check(id="bench", title="Measured speed (--bench)", run=run, needs=("models",), opt_in=True)
