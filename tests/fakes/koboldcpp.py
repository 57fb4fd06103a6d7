"""Fake KoboldCpp (llm-servers.md §11).

Sources: LostRuins/koboldcpp@2da346a5ff2cfd1debac59066553d45d098e95a4 (2024-10), koboldcpp.py
- Server header "ConcedoLlamaForKoboldServer" (:1375).
- --password guards generation and GET /api/extra/generate/check (secure_endpoint :1591-1613,
  :1770-1777): 401 {"detail":{"error":"Unauthorized","msg":"Authentication key is missing or
  invalid.","type":"unauthorized"}}; every other GET is public: /v1/models (:1779-1780),
  /api/extra/version with `protected` (:1750-1754), /api/extra/true_max_context_length (:1746).
- One model; the request's `model` is never compared (responses carry friendlymodelname,
  :1447, :1457), so any id is served.
"""

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
        **_guard(  # koboldcpp.py:1770-1777 (secure_endpoint)
            {"GET /api/extra/generate/check": Reply(200, {"results": [{"text": ""}]})},
            password,
            deny,
        ),
        "GET /api/extra/version": Reply(  # koboldcpp.py:1749-1755
            200,
            {
                "result": "KoboldCpp",
                "version": "1.76",
                "protected": password is not None,
                "txt2img": False,
                "vision": False,
            },
        ),
        "GET /v1/models": Reply(200, _openai_list([model])),  # koboldcpp.py:1779-1780
        # koboldcpp.py:1746
        "GET /api/extra/true_max_context_length": Reply(200, {"value": maxctx}),
        "GET /api/v1/model": Reply(200, {"result": name}),  # koboldcpp.py:1716
    }
    return Server(
        routes,
        default=Reply(404, {"error": "not found"}),
        server_header="ConcedoLlamaForKoboldServer",
    )
