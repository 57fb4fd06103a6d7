"""Fake Hugging Face TGI (llm-servers.md §8).

Sources: huggingface/text-generation-inference@db931fcf42da018a3657580c64bf2720f167f9ab
- Guarded (router/src/server.rs:2203-2236): /, /generate, /generate_stream,
  /v1/chat/completions, /v1/completions, /vertex, /invocations, /tokenize; 401 with an EMPTY
  body for a missing and a wrong key (the whole header is compared with "Bearer " + key
  ignoring case, :2225: a key that differs only in case is accepted).
- Public (:2237-2244): GET / (health), /chat_tokenize, /info, /health, /ping, /metrics,
  /v1/models (one entry: id = model_id, created 0, owned_by = model_id, :176-186).
- The request's `model` is unused (router/src/lib.rs:831-832; :1031 maps it to an adapter id,
  unknown adapters fall back to the base model), so any id is served.
"""

from __future__ import annotations

from fakes.common import _openai_list, header
from loopback import Reply, Route, Seen, Server

# -- §8 Hugging Face TGI -----------------------------------------------------------------------


def tgi(
    model_id: str = "HuggingFaceTB/SmolLM2-135M-Instruct",
    *,
    api_key: str | None = None,
    max_total_tokens: int = 2048,
) -> Server:
    """TGI: /v1/models open, generation routes and /tokenize guarded with an EMPTY 401 (§8)."""
    compute = {"x-compute-type": "gpu+optimized", "x-compute-time": "0.01"}
    info = {
        "model_id": model_id,
        "model_sha": "abc",
        "model_pipeline_tag": "text-generation",
        "max_concurrent_requests": 128,
        "max_best_of": 2,
        "max_stop_sequences": 4,
        "max_input_tokens": max_total_tokens - 1,
        "max_total_tokens": max_total_tokens,
        "validation_workers": 2,
        "max_client_batch_size": 4,
        "router": "text-generation-router",
        "version": "3.3.4",
        "sha": "9f3a",
        "docker_label": "sha-9f3a",
    }
    guarded: dict[str, Route] = {
        # router/src/server.rs:2211
        "POST /tokenize": Reply(200, [{"id": 1, "text": "lm", "start": 0, "stop": 2}], compute),
        "POST /v1/chat/completions": Reply(500, {"error": "a fake never generates"}),  # :2207
        "POST /generate": Reply(500, {"error": "a fake never generates"}),  # :2205
    }

    def gate(route: Route) -> Route:
        """router/src/server.rs:2213-2235: the whole Authorization header is compared with
        "Bearer " + key, both lowercased (:2225), so a key that differs only in case passes;
        anything else, a missing header included, is a bare 401 (no body)."""
        if api_key is None:
            return route

        def handle(seen: Seen) -> Reply:
            given = header(seen, "authorization")
            if given is None or given.lower() != f"Bearer {api_key}".lower():
                return Reply(401, b"")
            return route(seen) if callable(route) else route

        return handle

    routes = {
        **{path: gate(route) for path, route in guarded.items()},
        "GET /v1/models": Reply(  # :2244 (openai_get_model_info, :176-186)
            200,
            _openai_list([{"id": model_id, "object": "model", "created": 0, "owned_by": model_id}]),
        ),
        "GET /info": Reply(200, info),  # :2240 (get_model_info)
        "GET /health": Reply(200, b""),  # :2241
    }
    return Server(routes, default=Reply(404, b""))
