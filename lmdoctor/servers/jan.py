"""Jan (llm-servers.md §10): 1337, key mandatory, plain-text refusals, Trusted Hosts guard."""

from __future__ import annotations

from lmdoctor import parse
from lmdoctor.http import Response
from lmdoctor.servers import localai
from lmdoctor.servers.answers import Probes, Refusal, loaded_listing
from lmdoctor.servers.kind import ServerKind, Signal

AUTH_TEXTS = ("Missing authorization header", "Invalid or missing authorization token")


def _by_root(response: Response) -> str | None:
    return "GET / is an API Docs page" if parse.html_title(response.text) == "API Docs" else None


def _by_model(m: parse.ListedModel) -> str | None:
    if m.owned_by == "user" and m.created == 1:
        return f'/v1/models owned_by "user", created {m.created}'
    return None


def _by_denial(answer: Refusal) -> str | None:
    text = answer.raw.strip()
    if text in AUTH_TEXTS:
        return f"{answer.status} plain-text body: {text}"
    if text == "Invalid host header":
        return "403 plain-text body: Invalid host header"
    return None


def _settle(probe: Probes, signals: list[str]) -> str:
    return localai.unmasked(probe, signals) or "jan"


KIND = ServerKind(
    id="jan",
    name="Jan",
    ref="§10",
    get_key="Copy the key from Jan → Settings → Local API Server → API Key.",
    add_model=("Start the model in Jan (its API lists running models only), or use a listed id."),
    load_model="Start the model in Jan (its API serves running models only).",
    context="Raise Context Size in the model's settings in Jan and restart it.",
    forbidden=(
        "Add the host name you connect with to Jan → Settings → Local API Server → "
        "Trusted Hosts (Jan refuses other Host headers)."
    ),
    open_to_lan=(
        "In Jan set Local API Server → Server Host to 0.0.0.0 and add the host to Trusted Hosts"
    ),
    ports=(1337,),
    names_port=True,
    processes=("jan",),
    signals=(
        Signal("root", 20, _by_root),
        Signal("model", 30, _by_model),
        Signal("denial", 50, _by_denial),
    ),
    settle=_settle,
    native=loaded_listing,
)
