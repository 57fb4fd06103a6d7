"""Configuration problems found while reading config.json and .security.yml.

The loader records them on each Target (and on a file-level Target for problems that belong
to no entry); this check reports them, so they sort, filter and render like any other.
"""

from __future__ import annotations

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, ok
from lmdoctor.registry import Check


async def run(ctx: Ctx) -> list[Finding]:
    target = ctx.target
    if target.issues:
        return list(target.issues)
    if not target.is_endpoint:
        return []
    return [ok("config.ok", f"{target.where}: usable entry", entry=target.entry)]


CHECK = Check(
    id="config",
    title="Configuration",
    run=run,
    codes=(
        "config.ok",
        "config.invalid",
        "config.unknown_model_name",
        "config.unknown_provider",
        "config.key_unresolved",
        "config.legacy",
        "config.unknown_field",
    ),
    applies=lambda target: True,
)
