"""Target: one endpoint to diagnose, as the client will really call it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lmdoctor import urls

if TYPE_CHECKING:
    from lmdoctor.findings import Finding
    from lmdoctor.secret import Secret

# PicoClaw's defaults (pkg/config/defaults.go, pkg/providers/common/common.go).
DEFAULT_REQUEST_TIMEOUT_S = 120.0
DEFAULT_MAX_TOKENS = 32768


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

    @property
    def is_endpoint(self) -> bool:
        return self.kind == "endpoint" and bool(self.api_base)

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
