"""LiteLLM proxy (llm-servers.md §7): 4000, created 1677610602, string error code "401"."""

from __future__ import annotations

from lmdoctor import parse
from lmdoctor.servers.answers import Probes, Refusal
from lmdoctor.servers.kind import ServerKind, Signal

CREATED = 1677610602  # the `created` of every /v1/models entry


def _by_model(m: parse.ListedModel) -> str | None:
    if m.created == CREATED:
        return f"/v1/models created {CREATED} (LiteLLM's constant)"
    return None


def _by_denial(answer: Refusal) -> str | None:
    err = answer.err
    if err.code == "401" and (
        err.type in ("auth_error", "token_not_found_in_db") or "proxy" in answer.raw
    ):
        return f'{answer.status} body with string code "401" ({err.type})'
    return None


def _by_probe(probe: Probes) -> str | None:
    liveliness = probe.get("/health/liveliness")
    if probe.ok("/health/liveliness") and "I'm alive" in liveliness.text[:100]:  # type: ignore[union-attr]
        return '/health/liveliness answers "I\'m alive!"'
    return None


def _version(probe: Probes) -> str | None:
    return parse.version(probe.data("/health/readiness"), "litellm_version")


KIND = ServerKind(
    id="litellm",
    name="LiteLLM proxy",
    ref="§7",
    get_key=(
        "Use the proxy's general_settings.master_key, or a virtual key created with "
        "POST /key/generate."
    ),
    add_model=(
        "Add a model_list entry with `model_name: {id}` to the LiteLLM config, or give "
        "this key access to it."
    ),
    context="The context is the upstream model's; raise it on the upstream server.",
    start="Start the LiteLLM proxy (`litellm --config config.yaml --port PORT`)",
    ports=(4000,),
    usual_port=4000,
    short="LiteLLM",
    providers=("litellm",),
    signals=(
        Signal("model", 10, _by_model),
        Signal("denial", 30, _by_denial),
        Signal("probe", 30, _by_probe),
    ),
    probes=("/health/liveliness",),
    follow_ups=("/health/readiness",),
    version=_version,
)
