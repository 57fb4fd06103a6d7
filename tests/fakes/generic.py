"""Fakes of servers lmdoctor does not know: an OpenAI-compatible one, a web page.

No real project is emulated here (so no source to cite): the shapes are the bare OpenAI API
(GET /v1/models list, chat completions, an `error` object), as any unrecognised
OpenAI-compatible server gives them, and an nginx-like HTML page.
"""

from __future__ import annotations

from collections.abc import Iterable

from fakes.common import _guard, _openai_list
from loopback import Reply, Route, Seen, Server


def web_page(title: str = "Welcome to nginx!", server: str = "nginx/1.24.0") -> Server:
    """A web server that is no LLM server: HTML everywhere."""
    page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body>hi</body></html>"
    html = {"Content-Type": "text/html"}
    return Server(
        {"GET /": Reply(200, page, html)}, default=Reply(404, page, html), server_header=server
    )


def generic_openai(
    models: Iterable[str] = ("my-model",),
    *,
    api_key: str | None = None,
    guard_completions_only: bool = False,
) -> Server:
    """An unrecognised OpenAI-compatible server (bare OpenAI shapes, no fingerprint)."""
    data = [
        {"id": m, "object": "model", "created": 1700000000, "owned_by": "someone"} for m in models
    ]

    def chat(seen: Seen) -> Reply:
        if not (seen.json() or {}).get("messages"):
            return Reply(
                400,
                {
                    "error": {
                        "message": "messages must not be empty",
                        "type": "invalid_request_error",
                    }
                },
            )
        return Reply(500, {"error": {"message": "a fake never generates"}})

    def deny(seen: Seen) -> Reply:
        return Reply(401, {"error": {"message": "bad key", "type": "invalid_request_error"}})

    listing: dict[str, Route] = {"GET /v1/models": Reply(200, _openai_list(data))}
    completions: dict[str, Route] = {"POST /v1/chat/completions": chat}
    if guard_completions_only:
        routes = {**listing, **_guard(completions, api_key, deny)}
    else:
        routes = _guard({**listing, **completions}, api_key, deny)
    return Server(
        routes, default=Reply(404, {"error": {"message": "Not Found"}}), server_header="Python"
    )
