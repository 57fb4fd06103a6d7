"""Fake OpenAI cloud (llm-servers.md §13).

Sources: a hosted service (no code, no commit): its answers as quoted in GitHub issues,
collected in llm-servers.md §13 (wrong key: OpenHands/OpenHands#806).
"""

from __future__ import annotations

from fakes.common import _openai_list, bearer
from loopback import Reply, Seen, Server

# -- §13 OpenAI cloud, and things that are no LLM server ----------------------------------------

OPENAI_WRONG_KEY = {  # §13 (OpenHands/OpenHands#806)
    "error": {
        "message": "Incorrect API key provided: lm-studio. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}
OPENAI_NO_KEY = {  # §13 (the body api.openai.com answers without an Authorization header)
    "error": {
        "message": "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can "
        "obtain an API key from https://platform.openai.com/account/api-keys.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
}


def openai_cloud(valid_key: str = "sk-proj-validvalidvalid") -> Server:
    """What api.openai.com answers to a request that was meant for a local server (§13)."""

    def models(seen: Seen) -> Reply:
        given = bearer(seen)
        if given is None:
            return Reply(401, OPENAI_NO_KEY, {"server": "cloudflare"})
        if given != valid_key:
            return Reply(401, OPENAI_WRONG_KEY, {"server": "cloudflare"})
        return Reply(
            200,
            _openai_list(
                [{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}]
            ),
        )

    # §13: GET /v1/models, the one request lmdoctor sends there
    return Server({"GET /v1/models": models}, default=Reply(404, {"error": {"message": "x"}}))
