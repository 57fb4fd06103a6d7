"""Configuration problems found while reading config.json and .security.yml.

The loader records them on each Target (and on a file-level Target for problems that belong
to no entry); this check reports them, so they sort, filter and render like any other. It
also says what the client will send (the replayed request), and says plainly when an endpoint
speaks a protocol the HTTP checks do not probe (Gemini, Anthropic Messages, voice models).
"""

from __future__ import annotations

from dataclasses import replace

from lmdoctor.context import Ctx
from lmdoctor.findings import Finding, info, ok
from lmdoctor.registry import Check
from lmdoctor.target import VOICE_WIRES


def _not_probed(ctx: Ctx) -> list[Finding]:
    target, request = ctx.target, ctx.target.request
    if not target.is_endpoint or target.probeable:
        return []
    sent = request.sentence() if request else f"{target.provider} at {target.api_base}"
    header = f" (key in {request.auth_header})" if request and request.auth_header else ""
    url = request.url if request else target.api_base  # where the client posts, if known
    if target.protocol in VOICE_WIRES:  # a real check would upload audio or make speech
        return [
            info(
                "config.not_probed",
                f"{target.where}: voice endpoint ({target.protocol}), not checked",
                f"{sent}{header}. Its only real request uploads audio or synthesizes speech, "
                "so lmdoctor does not send it: the network, server, key and model of this "
                "voice model are not checked.",
                "Nothing to change; test it with a real voice message if it fails.",
                protocol=target.protocol,
                url=url,
            )
        ]
    return [
        info(
            "config.not_probed",
            f"{target.where}: {target.protocol} endpoint, not checked",
            f"{sent}{header}. lmdoctor probes OpenAI-compatible endpoints only, so the "
            "network, server, key and model of this one are not checked (rather than give a "
            "wrong 404 or 'key rejected').",
            "Nothing to change; test it with a real request if it fails.",
            protocol=target.protocol,
            url=url,
        )
    ]


async def run(ctx: Ctx) -> list[Finding]:
    target = ctx.target
    found = list(target.issues) + _not_probed(ctx)
    if found or not target.is_endpoint:
        return found
    found = [ok("config.ok", f"{target.where}: usable entry", entry=target.entry)]
    if target.request is not None:  # -v shows what the client will really send
        request = target.request
        found = [replace(found[0], detail=f"{request.sentence()}; {request.client}.")]
    return found


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
        "config.startup_failed",
        "config.builtin_models",
        "config.security_no_keys",
        "config.model_disabled",
        "config.model_ignored",
        "config.not_probed",
        "config.model_not_an_entry",
        "config.id_collision",
    ),
    applies=lambda target: True,
)
