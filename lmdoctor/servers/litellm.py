"""LiteLLM proxy (llm-servers.md §7): 4000, created 1677610602, string error code "401"."""

from __future__ import annotations

from lmdoctor import parse
from lmdoctor.http import Response
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


NO_DB_NOTE = (
    "This key is not the proxy's master key, and without a database (general_settings."
    "database_url) LiteLLM accepts only the master key: virtual keys from /key/generate live in "
    "the database."
)
KEYLESS_500_NOTE = (
    "LiteLLM wants a key (general_settings.master_key is set) and answers a request without "
    "one with a plain-text 500: its auth error handler itself fails (it imports prisma, "
    "absent when no database is set up)."
)


def explain_refusal(response: Response) -> tuple[str, str] | None:
    """LiteLLM's answers that are refusals in disguise (litellm 1.108.7, real proxy with a
    master key and no database, tests/integration/test_litellm.py): a wrong key gets 400
    {"error":{"message":"No connected db.","type":"no_db_connection","code":"400"}}
    (litellm/proxy/auth/user_api_key_auth.py:3113-3121 in 1.110.2); no key gets a plain-text
    500 "Internal Server Error" (the ProxyException for "No api key passed in." fails in
    the error handler)."""
    err = parse.error_info(response.json(), response.text[:500])
    if response.status == 400 and err.type == "no_db_connection":
        return "key", NO_DB_NOTE
    if response.status == 500 and response.text.strip() == "Internal Server Error":
        return "key", KEYLESS_500_NOTE
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
    explain_refusal=explain_refusal,
)
