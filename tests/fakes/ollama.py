"""Fake Ollama (llm-servers.md §2).

Sources: ollama/ollama@fb30760996871fa9460115c753afd2c60d4ab0f7
- Routes server/routes.go:1877-1919 (GET / "Ollama is running", /api/version, /api/tags,
  POST /api/show, /api/ps, /v1/models); no key checks at all.
- /v1/models: created = modified_at, owned_by = the name's namespace, "library" by default
  (openai/openai.go:450-463); names default to the tag "latest" (types/model/name.go:41).
- /api/ps context_length (api/types.go:843); unknown model: 404 {"error":"model 'x' not found"}
  (routes.go:1379).
- Bound to loopback, a Host that is not local gets 403 with an EMPTY body
  (allowedHostsMiddleware routes.go:1803-1838).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from fakes.common import _guard, _openai_list, header
from loopback import Reply, Route, Seen, Server

# -- §2 Ollama ---------------------------------------------------------------------------------

LOCAL_SUFFIXES = (".localhost", ".local", ".internal")  # routes.go:1789-1800 (local TLDs)


def local_host(host_header: str) -> bool:
    """routes.go:1776-1801 (allowedHost) and :1820-1826: the Host names Ollama lets through when
    it listens on loopback. Omitted: the machine's own hostname and interface addresses
    (os.Hostname, isLocalIP :1755-1774), which a test never sends."""
    host = host_header.lower()
    if host.startswith("["):  # net.SplitHostPort on "[::1]:11434"
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:
        host = host.rsplit(":", 1)[0]
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host in ("", "localhost") or host.endswith(LOCAL_SUFFIXES)
    return ip.is_loopback or ip.is_private or ip.is_unspecified


def host_guard(route: Route) -> Route:
    """allowedHostsMiddleware (routes.go:1803-1838, installed for every route at :1871-1874):
    listening on loopback (as this fake does), a request whose Host is not local gets 403 with
    an EMPTY body (c.AbortWithStatus), before any route runs."""

    def guarded(seen: Seen) -> Reply:
        if not local_host(header(seen, "host") or ""):
            return Reply(403, b"")
        return route(seen) if callable(route) else route

    return guarded



def ollama(
    downloaded: Iterable[str] = ("llama3.2:latest", "qwen3:8b"),
    running: dict[str, tuple[int, int, int]] | None = None,
    *,
    version: str = "0.12.3",
    num_ctx: int | None = None,
    proxy_key: str | None = None,
) -> Server:
    """Ollama. `running`: name → (size, size_vram, context_length) as /api/ps reports them.
    `proxy_key`: a reverse proxy in front that wants a key (Ollama itself checks none, §2)."""
    downloaded = list(downloaded)
    running = running or {}
    not_found = Reply(404, "404 page not found")  # gin's default 404 (§15 item 4)

    def details(name: str) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": "3.2B",
            "quantization_level": "Q4_K_M",
        }

    def tags(seen: Seen) -> Reply:  # §2 /api/tags
        models = [
            {
                "name": n,
                "model": n,
                "modified_at": "2025-06-01T10:00:00Z",
                "size": 2_019_393_189,
                "digest": "a80c4f17acd5",
                "details": details(n),
            }
            for n in downloaded
        ]
        return Reply(200, {"models": models})

    def ps(seen: Seen) -> Reply:  # §2 /api/ps
        models = [
            {
                "name": n,
                "model": n,
                "size": size,
                "digest": "a80c4f17acd5",
                "details": details(n),
                "expires_at": "2025-06-01T10:05:00Z",
                "size_vram": vram,
                "context_length": ctx,
            }
            for n, (size, vram, ctx) in running.items()
        ]
        return Reply(200, {"models": models})

    def resolve(name: str) -> str | None:
        full = name if ":" in name else name + ":latest"
        return full if full in downloaded else None

    def show(seen: Seen) -> Reply:  # §2 POST /api/show
        name = str((seen.json() or {}).get("model", ""))
        if resolve(name) is None:
            return Reply(404, {"error": f"model '{name}' not found"})
        body: dict[str, Any] = {
            "details": details(name),
            "model_info": {
                "general.architecture": "llama",
                "general.parameter_count": 3_212_749_888,
                "llama.context_length": 131072,
            },
            "capabilities": ["completion", "tools"],
        }
        if num_ctx:
            body["parameters"] = f'num_ctx                        {num_ctx}\nstop "<|eot_id|>"'
        return Reply(200, body)

    def v1_models(seen: Seen) -> Reply:  # §2 GET /v1/models (downloaded models)
        data = [
            {"id": n, "object": "model", "created": 1748772000, "owned_by": "library"}
            for n in downloaded
        ]
        return Reply(200, _openai_list(data))

    def chat(seen: Seen) -> Reply:
        return Reply(500, {"error": {"message": "a fake never generates"}})

    routes: dict[str, Route] = {
        "GET /": Reply(200, "Ollama is running"),  # server/routes.go:1878
        "GET /api/version": Reply(200, {"version": version}),  # routes.go:1880
        "GET /api/tags": tags,  # routes.go:1887 (ListHandler)
        "GET /api/ps": ps,  # routes.go:1907 (PsHandler)
        "POST /api/show": show,  # routes.go:1888 (ShowHandler; not found :1379)
        "GET /v1/models": v1_models,  # routes.go:1919 (openai/openai.go:450-463)
        "POST /v1/chat/completions": chat,  # routes.go:1916 (a fake never generates)
    }

    def deny(seen: Seen) -> Reply:  # nginx basic/bearer auth in front of Ollama
        return Reply(
            401,
            "<html><head><title>401 Authorization Required</title></head></html>",
            {"Content-Type": "text/html"},
        )

    # A proxy in front checks its key before Ollama sees the request (and its Host guard).
    ollama_routes = {path: host_guard(route) for path, route in routes.items()}
    return Server(
        _guard(ollama_routes, proxy_key, deny),
        default=_guard({"*": host_guard(not_found)}, proxy_key, deny)["*"],
    )
