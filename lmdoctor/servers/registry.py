"""The registry of server kinds: `KINDS` (one value per module of this package) and lookups.

Its order is the order scans try the kinds' default ports. A future `lmdoctor.servers`
entry-point group would add values here, the way `lmdoctor.checks` adds checks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from lmdoctor import modelids
from lmdoctor.servers import (
    generic,
    jan,
    koboldcpp,
    litellm,
    llama_cpp_python,
    llamacpp,
    lmstudio,
    localai,
    ollama,
    openai,
    sglang,
    textgen,
    tgi,
    vllm,
)
from lmdoctor.servers.kind import ServerKind

if TYPE_CHECKING:
    from lmdoctor.http import Response

GENERIC = generic.KIND
KINDS: dict[str, ServerKind] = {
    k.id: k
    for k in (
        lmstudio.KIND,
        ollama.KIND,
        llamacpp.KIND,
        vllm.KIND,
        llama_cpp_python.KIND,
        litellm.KIND,
        jan.KIND,
        tgi.KIND,
        textgen.KIND,
        koboldcpp.KIND,
        sglang.KIND,
        localai.KIND,
        openai.KIND,
        GENERIC,
    )
}
# Ports LLM servers use by default (llm-servers.md §0), in the order scans try them.
WELL_KNOWN_PORTS: tuple[int, ...] = tuple(dict.fromkeys(p for k in KINDS.values() for p in k.ports))


def by_id(server_kind: str | None) -> ServerKind:
    """The kind with this id; the generic one for None or an unknown id."""
    return KINDS.get(server_kind or "", GENERIC)


def by_provider(provider: str | None) -> ServerKind | None:
    """The kind a PicoClaw provider names (lmstudio, ollama, vllm, litellm), if any."""
    return next((k for k in KINDS.values() if provider and provider in k.providers), None)


def likely(server_kind: str | None, provider: str) -> ServerKind:
    """The identified kind; else the one the configured provider implies; else generic."""
    if server_kind and server_kind != GENERIC.id:
        return by_id(server_kind)
    return by_provider(provider) or by_id(server_kind)


def by_process(process: str | None) -> ServerKind | None:
    name = (process or "").lower()
    return next(
        (k for k in KINDS.values() if any(fragment in name for fragment in k.processes)), None
    )


def by_port(port: int) -> ServerKind | None:
    """The server a default port names (only ports one server owns)."""
    return next((k for k in KINDS.values() if k.names_port and port in k.ports), None)


def usual_ports() -> str:
    """'1234 (LM Studio), 11434 (Ollama), …' for fix texts."""
    return ", ".join(f"{k.usual_port} ({k.short})" for k in KINDS.values() if k.usual_port)


def still_loading(response: Response, message: str) -> tuple[str, str, str] | None:
    """An answer that means "still loading the model" (llama-server's 503), whoever sent it:
    (summary, detail, fix)."""
    for kind in KINDS.values():
        found = kind.busy(response, message) if kind.busy else None
        if found:
            return found
    return None


def find(model_id: str, names: Iterable[str], server_kind: str | None = None) -> str | None:
    """The listed name the server will resolve model_id to, or None."""
    return modelids.find(model_id, names, by_id(server_kind).default_tag)
