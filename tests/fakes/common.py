"""What the fakes share: request readers, the key guard, OpenAI lists, `generated()`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from loopback import Reply, Route, Seen, Server

GENERATION = (
    "/v1/chat/completions",
    "/v1/completions",
    "/chat/completions",
    "/api/chat",
    "/api/generate",
    "/generate",
    "/completion",
)


def bearer(seen: Seen) -> str | None:
    """The key a request carries (Authorization: Bearer …), header name case-insensitive."""
    value = next((v for k, v in seen.headers.items() if k.lower() == "authorization"), None)
    if value is None:
        return None
    scheme, _, rest = value.partition(" ")
    return rest if scheme.lower() == "bearer" else value


def header(seen: Seen, name: str) -> str | None:
    return next((v for k, v in seen.headers.items() if k.lower() == name.lower()), None)


def generated(server: Server) -> list[str]:
    """Requests that could have made the server generate (there must be none). The one
    completion lmdoctor may send, to an unrecognised server, has an empty messages list."""
    found = []
    for seen in server.seen:
        if seen.path.split("?")[0] not in GENERATION:
            continue
        try:
            body = seen.json() or {}
        except ValueError:
            body = {}
        if not (
            isinstance(body, dict) and body.get("messages") == [] and body.get("max_tokens") == 1
        ):
            found.append(f"{seen.method} {seen.path}")
    return found


def _guard(
    routes: dict[str, Route],
    key: str | None,
    deny: Callable[[Seen], Reply],
    public: Iterable[str] = (),
) -> dict[str, Route]:
    """Wrap every route but `public` ones so that a wrong or missing key gets `deny`."""
    if key is None:
        return routes
    public = set(public)

    def wrap(path: str, route: Route) -> Route:
        if path.split(" ")[-1] in public:
            return route

        def guarded(seen: Seen) -> Reply:
            if bearer(seen) != key:
                return deny(seen)
            return route(seen) if callable(route) else route

        return guarded

    return {path: wrap(path, route) for path, route in routes.items()}


def _with_headers(route: Route, headers: dict[str, str]) -> Route:
    def add(seen: Seen) -> Reply:
        reply = route(seen) if callable(route) else route
        return Reply(reply.status, reply.body, {**headers, **reply.headers})

    return add


def _openai_list(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"object": "list", "data": entries}
