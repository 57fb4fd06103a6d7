"""Any other server that speaks the OpenAI API (llm-servers.md §14): the fallback kind."""

from __future__ import annotations

from lmdoctor.servers.kind import GENERIC_ID, ServerKind

KIND = ServerKind(
    id=GENERIC_ID,
    name="an OpenAI-compatible server",
    ref="§14",
    get_key="Use the key this server was configured with.",
    load_model="Load a model on the server: its model list is empty.",
    context="Serve the model with a context of at least {n} tokens.",
    ports=(4891,),  # GPT4All's local server
    known=False,
)
