"""Shared helpers of the decision tests for servers, auth and models (issue 17, mutation
testing): targets like PicoClaw's entries or `check URL`, and one check run on a loopback fake."""

from __future__ import annotations

from pathlib import Path

import fakes
from conftest import PATIENT, diagnose
from lmdoctor.context import Settings
from lmdoctor.findings import Finding
from lmdoctor.redact import Secret
from lmdoctor.target import Target
from loopback import Server

CONFIG = Path("/home/user/.picoclaw/config.json")
KEY_SOURCE = ".security.yml model_list.local"


def target(
    server: Server,
    model_id: str = "m",
    *,
    provider: str = "openai",
    key: str | None = None,
    model: str | None = None,
    path: str = "/v1",
    config: bool = True,
    max_tokens: int = 8192,
    context_window: int = 0,
    request_timeout: float = 120.0,
) -> Target:
    """A PicoClaw entry (config=True) or a `check URL --model ID` target (config=False)."""
    sources = {}
    if key:
        sources["api_key"] = KEY_SOURCE if config else "--api-key"
    if config:
        sources["model"] = "config.json model_list[0].model"
    return Target(
        name="local",
        provider=provider,
        api_base=server.url + path,
        model=model if model is not None else (f"{provider}/{model_id}" if config else model_id),
        model_id=model_id,
        api_key=Secret(key) if key else None,
        sources=sources,
        config_path=CONFIG if config else None,
        entry="model_list[0]" if config else "",
        max_tokens=max_tokens,
        context_window=context_window,
        request_timeout=request_timeout,
    )


def check(
    server: Server,
    t: Target | None = None,
    only: str = "models",
    settings: Settings = PATIENT,
    **kw: object,
) -> list[Finding]:
    """One check's findings on a fake that must never be asked to generate."""
    with server:
        found = diagnose(t or target(server, **kw), only=[only], settings=settings)  # type: ignore[arg-type]
    assert fakes.generated(server) == [], "lmdoctor must not generate"
    return [f for f in found if f.check == only]
