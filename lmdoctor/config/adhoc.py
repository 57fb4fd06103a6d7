"""A target from the command line (`lmdoctor check URL --model ID`), without the PicoClaw
config reader: a check of one URL imports none of it (start-up cost, issue 13)."""

from __future__ import annotations

from urllib.parse import urlsplit

from lmdoctor import urls
from lmdoctor.secret import Secret
from lmdoctor.target import Target

__all__ = ["adhoc_target"]


def adhoc_target(
    url: str, model: str | None, api_key: str | None, key_source: str = "--api-key"
) -> Target:
    """A target from the command line: `lmdoctor check URL --model ID [--api-key KEY]`.
    `key_source`: where the key came from (--api-key or $LMDOCTOR_API_KEY)."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            "the URL must start with http:// or https://, e.g. http://localhost:1234/v1"
        )
    try:
        port = (
            parts.port if ":" in parts.netloc.rsplit("]", 1)[-1] else None
        )  # ValueError for a port that is no number or out of range
    except ValueError:
        port = 0
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if not parts.hostname or "@" in parts.netloc or parts.query or parts.fragment:
        raise ValueError("give the URL as http(s)://host[:port][/path], without user, query or #")
    if any(c.isspace() for c in url):
        raise ValueError("the URL contains whitespace")
    sources = {"api_base": "command line", "provider": "command line (OpenAI-compatible)"}
    if model:
        sources["model_id"] = "--model"
    if api_key:
        sources["api_key"] = key_source
    return Target(
        name=urls.display(url.rstrip("/")),
        provider="openai",
        api_base=url.rstrip("/"),
        model=model or "",
        model_id=model or "",
        api_key=Secret(api_key) if api_key else None,
        sources=sources,
    )
