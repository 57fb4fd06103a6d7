"""The OpenAI API (llm-servers.md §13): api.openai.com; refusals point to platform.openai.com."""

from __future__ import annotations

from lmdoctor.servers.answers import Refusal
from lmdoctor.servers.kind import ServerKind, Signal

HOST = "api.openai.com"
SIGNS = (
    "platform.openai.com",
    "Incorrect API key provided",
    "You didn't provide an API key",
)


def reached(server_kind: str | None, text: str) -> bool:
    """Whether an answer comes from OpenAI's API (identified, or its refusal's words)."""
    return server_kind == "openai" or any(s in text for s in SIGNS)


def _by_denial(answer: Refusal) -> str | None:
    return "401 body points to platform.openai.com" if any(s in answer.raw for s in SIGNS) else None


KIND = ServerKind(
    id="openai",
    name="the OpenAI API",
    ref="§13",
    get_key="Create a key at https://platform.openai.com/api-keys.",
    add_model="Use a model id your OpenAI account can access.",
    signals=(Signal("denial", 10, _by_denial),),
)
