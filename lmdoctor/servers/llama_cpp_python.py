"""llama-cpp-python's server (llm-servers.md §4): FastAPI, owned_by "me", one model per alias."""

from __future__ import annotations

from lmdoctor.servers.answers import Refusal
from lmdoctor.servers.kind import ServerKind, Signal


def _by_denial(answer: Refusal) -> str | None:
    return (
        '401 body {"detail":"Invalid API key"}'
        if answer.body == {"detail": "Invalid API key"}
        else None
    )


KIND = ServerKind(
    id="llama-cpp-python",
    name="llama-cpp-python (llama_cpp.server)",
    ref="§4",
    get_key="The key is the `--api_key` given to `python -m llama_cpp.server`.",
    auth_off="Or restart it without --api_key.",
    add_model="Start it with `--model_alias {id}`, or use the id it lists.",
    context="Restart it with `--n_ctx {n}`.",
    accepts_any_model=True,
    ports=(8000,),
    owned_by="me",
    signals=(Signal("denial", 80, _by_denial),),
)
