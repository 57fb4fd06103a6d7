"""PLACEHOLDER: being written. Network reachability."""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    return []


CHECK = Check(id="network", title="Network reachability", run=run, needs=("config",))
