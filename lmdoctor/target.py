"""Target: one endpoint to diagnose, as the client will really call it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lmdoctor import urls

if TYPE_CHECKING:
    from lmdoctor.findings import Finding
    from lmdoctor.secret import Secret

# PicoClaw's defaults (pkg/config/defaults.go, pkg/providers/common/common.go).
DEFAULT_REQUEST_TIMEOUT_S = 120.0
DEFAULT_MAX_TOKENS = 32768


# How PicoClaw talks to an endpoint (lmdoctor/config/providers.py protocols). Only the
# OpenAI-compatible wire is probed by the endpoint checks; the others are described, not probed.
OPENAI_COMPAT = "openai-compat"
# PicoClaw's voice clients (pkg/audio/asr, pkg/audio/tts): their only real request uploads audio
# or synthesizes speech, so they are described (config.not_probed), never probed.
VOICE_WIRES = frozenset(
    ["openai-transcriptions", "elevenlabs-speech-to-text", "openai-speech", "mimo-tts"]
)


# NamedTuple, not a frozen dataclass: the same immutable value, cheaper to define (NOTES, 13)
class Request(NamedTuple):
    """One request the client makes, as replayed from its config (lmdoctor/config/replay.py).

    `endpoint_from` names the entry whose endpoint and key are used, `key_from` where the key
    came from; `steps` say how PicoClaw got there. `extra_headers` are custom header names only.
    """

    method: str
    url: str
    model: str
    protocol: str  # the client's provider id (lmstudio, openai, gemini, ...)
    wire: str  # openai-compat, gemini, anthropic-messages, or a non-HTTP protocol
    auth_header: str  # the header the key goes in, "" when no key is sent
    key: Secret | None
    key_from: str
    endpoint_from: str
    timeout_s: int
    proxy: str = ""
    extra_headers: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()  # "agent main: primary", ...
    steps: tuple[str, ...] = ()
    client: str = ""  # which client rules were replayed, e.g. "PicoClaw v0.2.9 rules (...)"

    def sentence(self) -> str:
        if not self.url:
            return f"PicoClaw uses {self.protocol} ({self.wire}) with model {self.model}"
        return f"PicoClaw will send {self.method} {self.url} with model {self.model}"

    def as_dict(self) -> dict[str, object]:
        """The JSON form (targets[].request); never the key itself."""
        return {
            "method": self.method or None,
            "url": self.url or None,
            "model": self.model,
            "protocol": self.protocol,
            "wire": self.wire,
            "auth_header": self.auth_header or None,
            "key_from": self.key_from or None,
            "endpoint_from": self.endpoint_from,
            "timeout_s": self.timeout_s,
            "proxy": re.sub(r"//[^/@]*@", "//", self.proxy) or None,  # no credentials
            "extra_headers": list(self.extra_headers),
            "roles": list(self.roles),
            "steps": list(self.steps),
            "client": self.client,
        }


@dataclass(frozen=True)
class Target:
    """What the client sends, and where each value came from.

    `model` is the string as configured; `model_id` is the id really sent on the wire after
    PicoClaw's prefix stripping. `sources` maps a field name (provider, api_base, model_id,
    api_key, ...) to a human-readable origin such as "config.json model_list[0]",
    ".security.yml model_list.lmstudio-local", "default for lmstudio" or "--api-key".
    `issues` are configuration findings that belong to this target (the config check reports
    them). A target with `kind == "file"` stands for a config file's own problems.
    """

    name: str
    provider: str = "openai"
    api_base: str = ""
    model: str = ""
    model_id: str = ""
    api_key: Secret | None = None
    sources: dict[str, str] = field(default_factory=dict)
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT_S
    proxy: str | None = None
    max_tokens: int = DEFAULT_MAX_TOKENS
    context_window: int = 0
    config_path: Path | None = None
    entry: str = ""  # e.g. "model_list[0]"; empty for ad-hoc targets
    line: int | None = None  # line of the entry in config_path, for annotations
    issues: tuple[Finding, ...] = ()
    kind: str = "endpoint"  # "endpoint" | "file"
    protocol: str = OPENAI_COMPAT  # how the client talks to api_base
    request: Request | None = None  # the request the client really makes, when replayed

    @property
    def is_endpoint(self) -> bool:
        return self.kind == "endpoint" and bool(self.api_base)

    @property
    def probeable(self) -> bool:
        """An endpoint the HTTP checks may probe: only the OpenAI-compatible wire, so that a
        Gemini or Anthropic Messages endpoint never gets a wrong 404 or "key rejected"."""
        return self.is_endpoint and self.protocol == OPENAI_COMPAT

    @property
    def chat_url(self) -> str:
        """The URL PicoClaw posts to: literally api_base + "/chat/completions"."""
        return urls.join(self.api_base, "chat/completions")

    @property
    def client_context(self) -> int:
        """The context the client plans with: context_window, else 4 x max_tokens."""
        return self.context_window or 4 * self.max_tokens

    @property
    def where(self) -> str:
        """Where this target is configured, for fix texts: 'config.json model_list[0]'."""
        if self.config_path is None:
            return "the command line"
        return f"{self.config_path.name} {self.entry}".strip()
