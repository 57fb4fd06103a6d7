"""What lmdoctor knows about each kind of LLM server, one module per kind.

`KINDS` (registry.py) maps each `ServerKind.id` to its value (lmstudio.py, ollama.py, …,
generic.py). `identify.py` runs the fingerprint, `answers.py` holds what the kinds share
(bounded cached requests, model lists, refusals), `client.py` the per-target client that
checks read shared facts from (through `Ctx`).
"""

from __future__ import annotations

from lmdoctor.servers import openai
from lmdoctor.servers.answers import (
    Listing,
    Native,
    Requests,
    ServerInfo,
    candidate_bases,
    denial,
    describe,
    error_of,
    list_models,
    working_base,
)
from lmdoctor.servers.identify import identify
from lmdoctor.servers.kind import ServerKind
from lmdoctor.servers.registry import (
    GENERIC,
    KINDS,
    WELL_KNOWN_PORTS,
    by_id,
    by_port,
    by_process,
    by_provider,
    find,
    likely,
    still_loading,
    usual_ports,
)

OPENAI_SIGNS = openai.SIGNS

__all__ = [
    "GENERIC",
    "KINDS",
    "WELL_KNOWN_PORTS",
    "Listing",
    "Native",
    "Requests",
    "ServerInfo",
    "ServerKind",
    "by_id",
    "by_port",
    "by_process",
    "by_provider",
    "candidate_bases",
    "denial",
    "describe",
    "error_of",
    "find",
    "identify",
    "likely",
    "list_models",
    "still_loading",
    "usual_ports",
    "working_base",
]
