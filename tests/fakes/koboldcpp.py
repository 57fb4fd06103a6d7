"""Fake KoboldCpp (llm-servers.md §11)."""

from __future__ import annotations

from fakes.common import _guard, _openai_list
from loopback import Reply, Route, Seen, Server

# -- §11 KoboldCpp ----------------------------------------------------------------------------


def koboldcpp(
    name: str = "koboldcpp/Mistral-7B-Q4", *, password: str | None = None, maxctx: int = 4096
) -> Server:
    """KoboldCpp: Server header, /api/extra/version with `protected`, --password (§11)."""
    deny_body = {
        "detail": {
            "error": "Unauthorized",
            "msg": "Authentication key is missing or invalid.",
            "type": "unauthorized",
        }
    }

    def deny(seen: Seen) -> Reply:
        return Reply(401, deny_body)

    model = {
        "id": name,
        "object": "model",
        "created": 1748772000,
        "owned_by": "koboldcpp",
        "permission": [],
        "root": "koboldcpp",
    }
    routes: dict[str, Route] = {
        **_guard(
            {"GET /api/extra/generate/check": Reply(200, {"results": [{"text": ""}]})},
            password,
            deny,
        ),
        "GET /api/extra/version": Reply(
            200,
            {
                "result": "KoboldCpp",
                "version": "1.76",
                "protected": password is not None,
                "txt2img": False,
                "vision": False,
            },
        ),
        "GET /v1/models": Reply(200, _openai_list([model])),
        "GET /api/extra/true_max_context_length": Reply(200, {"value": maxctx}),
        "GET /api/v1/model": Reply(200, {"result": name}),
    }
    return Server(
        routes,
        default=Reply(404, {"error": "not found"}),
        server_header="ConcedoLlamaForKoboldServer",
    )
