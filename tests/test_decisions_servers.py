"""Server identification and what each kind knows (lmdoctor/servers/) that no other test
pinned (issue 17: mutation testing). Each case runs lmdoctor against real loopback fakes
(tests/fakes/, each route citing its source) and asserts what the user sees: the kind, version
and signals of `server.identified`, ports in `scan` and fix texts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import fingerprint
import pytest
from decisions import PATIENT, check, target

import fakes
from lmdoctor import servers
from lmdoctor.context import Ctx, Session
from lmdoctor.findings import Severity
from lmdoctor.http import HttpClient
from lmdoctor.parse import ModelFacts
from lmdoctor.target import Target
from loopback import Reply, Server

PY = "BaseHTTP/0.6 Python/3.11.7"  # tests/loopback.py's own Server header where a fake sets none

# -- where each kind runs: scan order, refused-port hints, fix texts ---------------------------


def test_the_default_ports_each_kind_owns() -> None:
    from lmdoctor import servers
    from lmdoctor.render import scan

    # `scan` with nothing found names every port it tried, in the order it tries them
    # (llm-servers.md §0); LocalAI's 8080 is llama.cpp's too (one probe).
    assert scan.render([], "table") == (
        "No LLM server answers on this machine (looked at its listening sockets and ports 1234, "
        "11434, 8080, 9931, 8000, 4000, 1337, 3000, 5000, 5001, 30000, 8081, 8888, 4891)."
    )
    # a refused connection on a port only one server uses names that server (checks/network.py)
    named = {p: k.id for p in servers.WELL_KNOWN_PORTS if (k := servers.by_port(p))}
    assert named == {1234: "lmstudio", 11434: "ollama", 8080: "llamacpp", 9931: "llamacpp",
                     1337: "jan"}  # fmt: skip


def test_a_web_page_gets_the_usual_llm_ports_in_its_fix() -> None:
    (finding,) = [f for f in check(fakes.web_page(), only="server") if f.severity >= Severity.WARN]
    assert "1234 (LM Studio), 11434 (Ollama), 8080 (llama.cpp), 8000 (vLLM), 4000 (LiteLLM)" in (
        finding.fix
    )


# -- identify.py and each kind's signals: what `server.identified` shows -----------------------


def identify(
    server: Server, key: str | None = None, path: str = "/v1"
) -> tuple[str, str | None, dict] | None:
    """The kind, version and evidence `check` reports in `server.identified`."""
    info = fingerprint.identify(server, key, path)
    assert all(s.method == "GET" for s in server.seen), "identification is side-effect free"
    return None if info is None else (info.kind, info.version, info.evidence)


def ev(*signals: str, server: str = PY, **more: Any) -> dict[str, Any]:
    return {"signals": list(signals), "server_header": server, **more}


UNAUTHORIZED = '401 body {"error":"Unauthorized"}'
LOCALAI = "/readyz or /.well-known/localai.json answers: LocalAI (it imitates Ollama)"
# (case, fake, key held, kind, version, evidence): every signal that decided, in order
FINGERPRINTS: list[tuple[str, Callable[[], Server], str | None, str, str | None, dict]] = [
    ("lmstudio", fakes.lmstudio, None, "lmstudio", None,
     ev('X-Powered-By: Express + "Unexpected endpoint or method" body')),
    ("lmstudio token", lambda: fakes.lmstudio(token="sk-lm-t0ken123"), None, "lmstudio", None,
     ev("401 body: An LM Studio API token is required to make requests to this server, but none "
        "was")),
    ("ollama", fakes.ollama, None, "ollama", "0.12.3", ev('GET / answers "Ollama is running"')),
    ("llamacpp", fakes.llamacpp, None, "llamacpp", "b6500-8f8c4a2e",
     ev("Server: llama.cpp header", server="llama.cpp")),
    ("llamacpp router", lambda: fakes.llamacpp(router={"a": ("loaded", 4096)}), None, "llamacpp",
     "b6500-8f8c4a2e", ev("Server: llama.cpp header", server="llama.cpp", mode="router")),
    ("llamacpp router, key held", lambda: fakes.llamacpp(router={"a": ("loaded", 4096)},
     api_key="k"), "k", "llamacpp", None,
     ev("Server: llama.cpp header", server="llama.cpp", mode="router")),
    ("lmstudio token held", lambda: fakes.lmstudio(token="sk-lm-t0ken123"), "sk-lm-t0ken123",
     "lmstudio", None, ev("401 body: An LM Studio API token is required to make requests to "
                          "this server, but none was")),
    ("llama-cpp-python key", lambda: fakes.llama_cpp_python(api_key="k"), None,
     "llama-cpp-python", None, ev('401 body {"detail":"Invalid API key"}', server="uvicorn")),
    ("vllm", fakes.vllm, None, "vllm", "0.10.1",
     ev('/v1/models owned_by "vllm"', server="uvicorn")),
    ("vllm key", lambda: fakes.vllm(api_key="k"), None, "vllm", "0.10.1",
     ev(UNAUTHORIZED, "/version answers {version} from uvicorn", server="uvicorn")),
    ("vllm key held", lambda: fakes.vllm(api_key="k"), "k", "vllm", "0.10.1",
     ev('/v1/models owned_by "vllm"', server="uvicorn")),
    ("sglang", fakes.sglang, None, "sglang", "0.4.9",
     ev('/v1/models owned_by "sglang"', server="uvicorn")),
    ("sglang key", lambda: fakes.sglang(api_key="k"), None, "openai-compatible", None,
     ev(UNAUTHORIZED, "vLLM and SGLang send the same 401; neither /version nor /get_model_info "
        "told them apart", server="uvicorn")),
    ("sglang key held", lambda: fakes.sglang(api_key="k"), "k", "sglang", None,
     ev('/v1/models owned_by "sglang"', server="uvicorn")),
    ("litellm", fakes.litellm, None, "litellm", "1.74.3",
     ev("/v1/models created 1677610602 (LiteLLM's constant)", server="uvicorn")),
    ("litellm key", lambda: fakes.litellm(master_key="sk-1234"), None, "litellm", "1.74.3",
     ev('401 body with string code "401" (auth_error)', server="uvicorn")),
    ("tgi", fakes.tgi, None, "tgi", "3.3.4", ev("/v1/models created 0, owned_by = id")),
    ("localai", fakes.localai, None, "localai", "v3.4.0",
     ev('GET / answers "Ollama is running"', LOCALAI)),
    ("localai plain", lambda: fakes.localai(ollama_root=False), None, "localai", "v3.4.0",
     ev("/v1/models entries carry only id and object", LOCALAI)),
    ("localai key", lambda: fakes.localai(api_key="k"), None, "localai", None,
     ev('GET / answers "Ollama is running"', LOCALAI)),
    ("koboldcpp", fakes.koboldcpp, None, "koboldcpp", "1.76",
     ev("Server: ConcedoLlamaForKoboldServer header", server="ConcedoLlamaForKoboldServer")),
    ("jan", fakes.jan, None, "jan", None, ev("GET / is an API Docs page")),
    ("textgen", fakes.textgen, None, "textgen", None,
     ev('/v1/models owned_by "user", created 0', server="uvicorn")),
    ("textgen key", lambda: fakes.textgen(api_key="k"), None, "textgen", None,
     ev('401 body {"detail": "Unauthorized"}', server="uvicorn")),
    ("textgen host guard", lambda: fakes.textgen(allowed_hosts=["localhost"]), None, "textgen",
     None, ev('400 body {"detail": "Invalid host header"}', server="uvicorn")),
    ("unknown", fakes.generic_openai, None, "openai-compatible", None,
     ev("/v1/models answers an OpenAI model list", server="Python")),
    ("unknown key held", lambda: fakes.generic_openai(api_key="k"), "k", "openai-compatible",
     None, ev("/v1/models answers an OpenAI model list", server="Python")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("factory", "key", "kind", "version", "evidence"),
    [c[1:] for c in FINGERPRINTS],
    ids=[c[0] for c in FINGERPRINTS],
)
def test_identification_names_kind_version_and_every_deciding_signal(
    factory: Callable[[], Server], key: str | None, kind: str, version: str | None, evidence: dict
) -> None:
    assert identify(factory(), key) == (kind, version, evidence)


def test_an_unknown_server_that_wants_a_key_nobody_holds_is_no_llm_server() -> None:
    assert identify(fakes.generic_openai(api_key="k")) is None


def test_an_lm_studio_refusal_is_quoted_in_the_signal_to_80_characters() -> None:
    message = fakes.LMSTUDIO_NO_TOKEN["error"]["message"]
    found = identify(fakes.lmstudio(token="sk-lm-t0ken123"))
    assert found is not None and found[2]["signals"] == [f"401 body: {message[:80]}"]


def test_a_long_server_header_is_kept_to_100_characters() -> None:
    server = fakes.generic_openai()
    header = "gateway/" + "9" * 120
    server.httpd.RequestHandlerClass.version_string = lambda self: header  # type: ignore[method-assign]
    found = identify(server)
    assert found is not None and found[2]["server_header"] == header[:100]


def test_a_300_answer_is_no_model_list() -> None:
    # 300 Multiple Choices is not a success (RFC 9110 §15.4.1): its body is no model list
    server = fakes.generic_openai()
    listing = server.routes["GET /v1/models"]
    server.routes["GET /v1/models"] = Reply(300, listing.body)  # type: ignore[union-attr]
    assert identify(server) is None


def test_a_base_without_v1_names_the_base_that_works() -> None:
    # LM Studio answers unknown paths with 200 + an error body (tests/fakes/lmstudio.py, §1)
    server = fakes.lmstudio()
    (finding,) = [
        f
        for f in check(server, target(server, path=""), only="server")
        if f.code != "server.identified"
    ]
    assert (finding.code, finding.severity) == ("http.missing_v1", Severity.ERROR)
    assert finding.fix == f'Set config.json model_list[0].api_base to "{server.url}/v1".'


# -- llamacpp.py -------------------------------------------------------------------------------


def behind_nginx(server: Server) -> Server:
    """The same server behind a reverse proxy that sends its own Server header."""
    server.httpd.RequestHandlerClass.version_string = lambda self: "nginx/1.24.0"  # type: ignore[method-assign]
    return server


def test_llamacpp_behind_a_proxy_is_told_by_its_refusal() -> None:
    # VENDORED server-http.cpp:290-300: 401 "Invalid API Key", type authentication_error
    found = identify(behind_nginx(fakes.llamacpp(api_key="k")))
    assert found is not None and found[:2] == ("llamacpp", None)
    assert found[2]["signals"] == ['401 body "Invalid API Key" (authentication_error)']


def test_llamacpp_behind_a_proxy_while_loading_is_told_by_its_health() -> None:
    # VENDORED server-http.cpp:313-322: 503 "Loading model" on every route, /health included
    found = identify(behind_nginx(fakes.llamacpp(loading=True)))
    assert found is not None and found[0] == "llamacpp"
    assert found[2]["signals"] == ['/health 503 "Loading model"']


def _ask(server: Server, t: Target, read: Callable[[Ctx], Awaitable[Any]]) -> Any:
    """`read` on a fresh check context for `t` while `server` runs, as the checks call it."""

    async def go() -> Any:
        http = HttpClient(PATIENT)
        try:
            return await read(Ctx(Session(PATIENT, http), t))
        finally:
            await http.aclose()

    with server:
        return asyncio.run(go())


def details(server: Server, t: Target) -> ModelFacts | None:
    """What the capacity check reads about the model (Ctx.model)."""
    return _ask(server, t, Ctx.model)


def test_llamacpp_model_details_come_from_props_and_meta() -> None:
    # README "GET /v1/models" meta (n_params 134515008, size 144805376), /props n_ctx per slot
    server = fakes.llamacpp("smol", n_ctx=2048, slots=2)
    found = details(server, target(server, "smol"))
    assert found is not None
    assert (found.loaded, found.context_length, found.max_context_length) == (True, 2048, 8192)
    assert found.params_b == 0.134515008
    assert found.bpw == 8 * 144805376 / 134515008
    assert found.size_bytes == 144805376


def test_llamacpp_router_details_come_from_the_models_own_meta() -> None:
    # server-models.cpp:2079-2085: a running model's meta merged into the router's list
    server = fakes.llamacpp(router={"a": ("loaded", 4096), "b": ("unloaded", None)})
    found = details(server, target(server, "a"))
    assert found is not None
    assert (found.loaded, found.context_length, found.status) == (True, 4096, "loaded")
    server = fakes.llamacpp(router={"a": ("loaded", 4096), "b": ("unloaded", None)})
    found = details(server, target(server, "b"))
    assert found is not None and (found.loaded, found.context_length) == (False, None)


# -- ollama.py ---------------------------------------------------------------------------------


def without_root(server: Server) -> Server:
    """The same server behind a proxy that does not pass GET / on (404)."""
    server.routes["GET /"] = Reply(404, "404 page not found")
    return server


def test_ollama_without_its_root_page_is_told_by_its_tagged_ids() -> None:
    # /v1/models: ids name:tag, created = modified_at, owned_by = namespace (openai.go:450-463)
    found = identify(without_root(fakes.ollama()))
    assert found == ("ollama", "0.12.3", ev("/v1/models ids carry :tags"))


def test_ollama_without_its_root_page_and_models_is_told_by_its_version() -> None:
    found = identify(without_root(fakes.ollama(downloaded=[])))
    assert found == ("ollama", "0.12.3", ev("/api/version answers {version}"))


def test_ollama_model_details_come_from_show_for_the_asked_model_only() -> None:
    # /api/show parameters num_ctx and model_info (routes.go POST /api/show)
    server = fakes.ollama(num_ctx=2048)
    t = target(server, "qwen3:8b", provider="ollama")
    found = details(server, t)
    assert found is not None and found.id == "qwen3:8b"
    assert (found.loaded, found.context_length, found.max_context_length) == (False, 2048, 131072)
    assert (found.size_bytes, found.size_loaded, found.quant) == (2_019_393_189, None, "Q4_K_M")
    assert found.params_b == 3.212749888


def test_ollama_running_but_no_longer_downloaded_is_still_known() -> None:
    server = fakes.ollama(downloaded=[], running={"qwen3:8b": (6_000_000_000, 6_000_000_000, 8192)})
    server.routes["GET /v1/models"] = Reply(
        200, {"object": "list", "data": [{"id": "qwen3:8b", "object": "model",
                                          "created": 1748772000, "owned_by": "library"}]}
    )  # fmt: skip
    found = details(server, target(server, "qwen3:8b", provider="ollama"))
    assert found is not None
    assert (found.loaded, found.context_length, found.size_bytes) == (True, 8192, None)
    assert found.size_loaded == 6_000_000_000


def test_ollama_benchmarks_through_its_native_streaming_chat() -> None:
    # /api/chat streams NDJSON; the last line has eval_count/eval_duration (docs/api.md)
    server = fakes.ollama()
    t = target(server, "qwen3:8b", provider="ollama")
    kind = servers.by_id("ollama")
    assert kind.bench_request is not None
    url, body = kind.bench_request(t, [{"role": "user", "content": "hi"}], 16)
    assert url == server.url + "/api/chat"
    assert body == {
        "model": "qwen3:8b",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        "options": {"num_predict": 16, "temperature": 0},
    }


# -- the other kinds' signals, where their first signal is missing ----------------------------


def test_localai_behind_a_proxy_is_told_by_its_refusal() -> None:
    # LocalAI: 401 "An authentication key is required" (tests/fakes/localai.py, §9)
    found = identify(without_root(fakes.localai(api_key="k")))
    assert found is not None and found[:2] == ("localai", None)
    assert found[2]["signals"] == ["401 body: An authentication key is required", LOCALAI]


def test_litellm_without_models_is_told_by_its_liveliness_probe() -> None:
    # /health/liveliness answers "I'm alive!" (tests/fakes/litellm.py, §7)
    found = identify(fakes.litellm(models=[]))
    assert found == (
        "litellm",
        None,
        ev('/health/liveliness answers "I\'m alive!"', server="uvicorn"),
    )


def test_a_bare_listing_of_ids_alone_is_not_enough_for_localai() -> None:
    server = fakes.generic_openai()
    server.routes["GET /v1/models"] = Reply(
        200, {"object": "list", "data": [{"id": "x", "object": "model"}]}
    )
    found = identify(server)
    assert found == (
        "openai-compatible",
        None,
        ev("/v1/models entries carry only id and object", server="Python"),
    )


@pytest.mark.parametrize(
    ("factory", "key", "signal"),
    [
        (fakes.jan, None, "401 plain-text body: Missing authorization header"),
        (lambda: fakes.jan(trusted_hosts=["jan.local"]), None,
         "403 plain-text body: Invalid host header"),
    ],
)  # fmt: skip
def test_jan_behind_a_proxy_is_told_by_its_refusals_and_list(
    factory: Callable[[], Server], key: str | None, signal: str
) -> None:
    # janhq/jan proxy.rs@e78b82eb proxy_request: Host guard, plain-text 401s, /models
    server = factory()
    server.routes["GET /"] = Reply(404, "Not Found")
    found = identify(server, key)
    assert found is not None and found[0] == "jan" and found[2]["signals"] == [signal]


def test_textgen_with_nothing_loaded_is_told_by_its_model_info() -> None:
    # modules/api/script.py:463 @1dcde41: /v1/internal/model/info model_name, lora_names
    found = identify(fakes.textgen(model=None))
    assert found == (
        "textgen",
        None,
        ev("/v1/internal/model/info has model_name and lora_names", server="uvicorn"),
    )


# -- identify.py: where the configured base is not /v1 -----------------------------------------


def test_a_known_server_is_identified_with_two_requests() -> None:
    server = fakes.lmstudio()
    identify(server)
    assert sorted(s.path for s in server.seen) == ["/", "/v1/models"]


def test_a_server_that_drops_the_model_list_connection_is_no_llm_server() -> None:
    def drop(seen: object) -> Reply:
        raise ConnectionAbortedError  # the handler dies: the connection closes unanswered

    server = fakes.generic_openai()
    server.routes["GET /v1/models"] = drop
    assert identify(server) is None


def test_a_server_that_drops_the_probes_connections_is_still_identified() -> None:
    def drop(seen: object) -> Reply:
        raise ConnectionAbortedError  # the handler dies: the connection closes unanswered

    server = fakes.generic_openai()
    server.default = drop  # every probe: /health, /props, /api/version, …
    assert identify(server) == (
        "openai-compatible",
        None,
        ev("/v1/models answers an OpenAI model list", server="Python"),
    )


def test_an_unknown_server_at_a_base_without_v1_is_found_through_v1() -> None:
    found = identify(fakes.generic_openai(), path="")
    assert found == ("openai-compatible", None, ev("/v1/models answers an OpenAI model list",
                                                     server="Python"))  # fmt: skip


def test_vllm_refusing_only_under_v1_is_named_by_that_refusal() -> None:
    # vLLM guards /v1/* only (authenticate.py@baaf6e9c): at base "" /models is a plain 404
    found = identify(fakes.vllm(api_key="k"), path="")
    assert found is not None and found[2]["signals"] == [
        UNAUTHORIZED,
        "/version answers {version} from uvicorn",
    ]


class NoNetwork:
    """A Requests stand-in that records what identification would fetch and answers nothing."""

    has_key = False

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def get(self, url: str, *, auth: bool = False) -> None:
        self.asked.append(url)


def test_openais_own_host_is_named_without_a_request() -> None:
    from lmdoctor.servers.identify import identify_with

    fetch = NoNetwork()
    found = asyncio.run(identify_with(fetch, "https://api.openai.com/v1"))  # type: ignore[arg-type]
    assert found is not None and (found.kind, found.signals) == ("openai", ["host api.openai.com"])
    assert fetch.asked == []


# -- llamacpp.py: the loading answers (checks/server.py asks every kind's `busy`) -------------


def server_codes(server: Server) -> list[str]:
    return [f.code for f in check(server, only="server")]


def test_llamacpp_loading_is_server_loading_with_its_summary() -> None:
    # VENDORED server-http.cpp:313-322: 503 {"error": {"message": "Loading model", ...}}
    server = fakes.llamacpp(loading=True)
    found = check(server, only="server")
    assert [f.code for f in found] == ["server.identified", "server.loading"]
    assert found[1].summary == (
        f"llama.cpp is still loading its model (HTTP 503 “Loading model”) at {server.url[7:]}"
    )


def test_another_503_from_llamacpp_is_a_server_error_not_loading() -> None:
    # any 503 whose message is not "Loading model" (a gateway's, an overloaded server's): the
    # loading answer is exactly server-http.cpp:313-322's, nothing else is waited for
    server = fakes.llamacpp()
    server.routes["GET /v1/models"] = Reply(503, {"error": {"message": "engine dead"}})
    assert server_codes(server) == ["server.identified", "http.server_error"]


def test_older_llamacpp_listing_meta_null_is_server_loading() -> None:
    # OLDER server-http.cpp middleware_server_state let /v1/models through with meta null
    server = fakes.llamacpp(loading=True, version="older")
    found = check(server, only="server")
    assert [f.code for f in found] == ["server.identified", "server.loading"]
    assert found[1].summary == (
        f"llama.cpp is still loading its model (its model list has `meta: null`) at "
        f"{server.url[7:]}"
    )


@pytest.mark.parametrize(
    "factory",
    [fakes.llamacpp, lambda: fakes.llamacpp(router={"a": ("loaded", 4096)}), fakes.vllm,
     fakes.ollama],
    ids=["llamacpp", "llamacpp router", "vllm", "ollama"],
)  # fmt: skip
def test_a_served_model_list_is_not_loading(factory: Callable[[], Server]) -> None:
    assert server_codes(factory()) == ["server.identified"]


def test_a_list_of_two_with_meta_null_is_not_an_older_llamacpp_loading() -> None:
    # a gateway in front of two older llama-servers (no real project emulated): the meta-null
    # signal is the single-model list of server-http.cpp (OLDER), not any list
    server = fakes.llamacpp(loading=True, version="older")
    listing = {"id": "m", "object": "model", "owned_by": "llamacpp", "meta": None}
    server.routes["GET /v1/models"] = Reply(
        200, {"object": "list", "data": [listing, {**listing, "id": "n"}]}
    )
    assert server_codes(server) == ["server.identified"]


# -- llamacpp.py: identification where the Server header is hidden ---------------------------


def test_llamacpp_behind_a_proxy_without_its_list_is_told_by_its_props() -> None:
    # VENDORED tools/server/README.md:830 (GET /props: default_generation_settings, build_info);
    # the proxy passes no model list (404), so nothing but the probes can tell
    server = behind_nginx(fakes.llamacpp())
    del server.routes["GET /v1/models"], server.routes["GET /models"]
    found = identify(server)
    assert found == ("llamacpp", "b6500-8f8c4a2e",
                     ev("/props has default_generation_settings/build_info",
                        server="nginx/1.24.0"))  # fmt: skip


def test_another_json_object_at_props_is_not_llamacpp() -> None:
    # an unknown server whose /props is some other JSON object (no real project emulated):
    # llama.cpp's has default_generation_settings / build_info (VENDORED README.md:830)
    server = fakes.generic_openai()
    server.routes["GET /props"] = Reply(200, {"props": "of something else"})
    found = identify(server)
    assert found == ("openai-compatible", None,
                     ev("/v1/models answers an OpenAI model list", server="Python"))  # fmt: skip


@pytest.mark.parametrize(
    "error",
    [{"message": "Invalid token", "type": "authentication_error"},
     {"message": "Invalid API Key", "type": "invalid_request_error"}],
)  # fmt: skip
def test_half_of_llamacpps_refusal_is_not_llamacpp(error: dict) -> None:
    # llama.cpp's 401 is message AND type (VENDORED server-http.cpp:290-300); a gateway sending
    # only one of them (no real project emulated) stays unknown, and unknown + key = not found
    server = fakes.generic_openai(api_key="k")
    server.routes["GET /v1/models"] = Reply(401, {"error": {**error, "code": 401}})
    assert identify(server) is None


# -- llamacpp.py: the router's load and download progress (GET /models/sse) -------------------


def sse_event(model: str, event: str, progress: dict) -> dict:
    # VENDORED server-models.cpp:650-661 and :2115-2131: `data: {"model", "event", "data"}`
    return {"model": model, "event": event, "data": {"progress": progress}}


@contextlib.contextmanager
def patient_sse() -> Iterator[None]:
    """The fakes' event stream ends after its events, so lmdoctor reads it to the end at once;
    a longer patience than llamacpp.SSE_PATIENCE_S (1.5 s) only keeps a loaded machine (the
    mutation runs share two cores) from cutting the stream before its first byte."""
    from lmdoctor.servers import llamacpp

    kept = llamacpp.SSE_PATIENCE_S
    llamacpp.SSE_PATIENCE_S = 30.0
    try:
        yield
    finally:
        llamacpp.SSE_PATIENCE_S = kept


def loading_words(events: list[dict], status: str = "loading", raw: str = "") -> str | None:
    """The progress the model check names for router model "smol" (model.loading)."""
    server = fakes.llamacpp(router={"smol": (status, None)}, events=events)
    if raw:  # lines the stream sends before the events (comments, broken data)
        sse = server.routes["GET /models/sse"]

        def with_raw(seen: Any) -> Reply:
            reply = sse(seen)  # type: ignore[operator]
            return Reply(200, raw.encode() + reply.body, reply.headers)

        server.routes["GET /models/sse"] = with_raw
    with patient_sse():
        found = [f for f in check(server, target(server, "smol")) if f.code == "model.loading"]
    assert len(found) == 1
    return found[0].evidence.get("progress")


def load(value: Any, current: str | None = "text_model") -> dict:
    # server-models.cpp:1286-1322 status_change {progress: {stages, current, value 0..1}}
    return {"stages": [current], "current": current, "value": value}


@pytest.mark.parametrize(
    ("value", "current", "words"),
    [(0.625, "text_model", "loading text_model: 62%"), (0.4, None, "loading: 40%"),
     (1.7, "text_model", "loading text_model: 100%"), (-0.2, "mmproj", "loading mmproj: 0%"),
     (0.5, "s" * 45, f"loading {'s' * 40}: 50%")],
)  # fmt: skip
def test_router_load_progress_is_named_clamped_and_cut(
    value: float, current: str | None, words: str
) -> None:
    assert loading_words([sse_event("smol", "status_change", load(value, current))]) == words


def test_router_progress_is_the_asked_models_last_event() -> None:
    events = [
        sse_event("smol", "status_change", load(0.2)),
        sse_event("other", "status_change", load(0.9)),
        {"model": "smol", "event": "status_change", "data": {"status": "loading"}},
        sse_event("smol", "status_change", load(0.3)),
        sse_event("other", "status_change", load(0.8)),
    ]
    assert loading_words(events) == "loading text_model: 30%"


def test_router_progress_skips_comments_and_broken_data_lines() -> None:
    # an SSE stream may carry comment lines (":"), `event:` lines and blank lines between
    # `data:` lines (WHATWG HTML §9.2.6); a line that is no JSON is skipped, not fatal
    raw = ": keep-alive\n\nevent: status_change\ndata: {not json\n\n"
    events = [sse_event("smol", "status_change", load(0.625))]
    assert loading_words(events, raw=raw) == "loading text_model: 62%"


def test_router_progress_reads_data_lines_without_a_space() -> None:
    # "data:" followed directly by the JSON is the same field (WHATWG HTML §9.2.6)
    raw = 'data:{"model": "smol", "event": "status_change", "data": {"progress": ' + (
        '{"current": "text_model", "value": 0.5}}}\n\n'
    )
    assert loading_words([], raw=raw) == "loading text_model: 50%"


def poll_share(events: list[dict]) -> float | None:
    """`check --wait`'s share done for router model "smol" (readiness.poll)."""
    from lmdoctor import readiness

    server = fakes.llamacpp(router={"smol": ("downloading", None)}, events=events)

    async def go() -> float | None:
        http = HttpClient(PATIENT)
        try:
            return (await readiness.poll(http, target(server, "smol"))).progress
        finally:
            await http.aclose()

    with server, patient_sse():
        return asyncio.run(go())


def download(*parts: dict) -> dict:
    # server-models.cpp:1325-1353 download_progress {progress: {URL: {done, total}}}
    files = {f"https://hf.example/{i}.gguf": part for i, part in enumerate(parts)}
    return sse_event("smol", "download_progress", files)


def test_router_download_progress_sums_the_files_with_a_size() -> None:
    # a file whose size is not known yet (total 0 or missing) is left out, done and all
    events = [download({"done": 30, "total": 100}, {"done": 20, "total": 0}, {"done": 5},
                       {"total": 100}, {"done": 10, "total": 100})]  # fmt: skip
    assert poll_share(events) == pytest.approx(40 / 300)
    assert loading_words(events, status="downloading") == "downloading: 13% of 0.0 GB"


def test_router_download_progress_is_clamped_and_in_gigabytes() -> None:
    events = [download({"done": 3_000_000_000, "total": 2_500_000_000})]
    assert poll_share(events) == 1.0
    assert loading_words(events, status="downloading") == "downloading: 100% of 2.5 GB"
    events = [download({"done": 0, "total": 2_500_000_000})]
    assert loading_words(events, status="downloading") == "downloading: 0% of 2.5 GB"


def test_router_download_without_sizes_names_no_progress() -> None:
    assert loading_words([download({"done": 5}, {"done": 1, "total": 0})], "downloading") is None


# -- llamacpp.py: its native reader (/props + /v1/models) --------------------------------------


def native(server: Server, t: Target) -> Any:
    """The server's own account of its models (Ctx.native), as the checks read it."""
    return _ask(server, t, Ctx.native)


def test_llamacpp_native_single_model_is_loaded_with_its_per_slot_context() -> None:
    server = fakes.llamacpp("smol", n_ctx=2048, slots=2, api_key="k")
    found = native(server, target(server, "smol", key="k"))
    assert (found.source, found.autoload) == ("llama.cpp /props + /v1/models", None)
    (model,) = found.models
    assert (model.loaded, model.status, model.context_length, model.exit_code) == (
        True, None, 2048, None)  # fmt: skip
    assert not [s for s in server.seen if s.path == "/models/sse"]


def test_llamacpp_native_single_model_asleep() -> None:
    # server-context.cpp:4785-4796: /props answers is_sleeping from its snapshot
    server = fakes.llamacpp("smol", sleeping=True)
    (model,) = native(server, target(server, "smol")).models
    assert (model.loaded, model.status) == (False, "sleeping")


def test_llamacpp_native_router_states() -> None:
    # server-models.cpp:2020-2090: status per model, failed + exit_code, meta of running ones;
    # server-models.cpp:1932-1950: /props models_autoload
    server = fakes.llamacpp(
        router={"a": ("loaded", 4096), "b": ("unloaded", None), "c": ("loading", None),
                "d": ("sleeping", None)},
        failed={"b": 3}, autoload=False,
    )  # fmt: skip
    found = native(server, target(server, "a"))
    assert (found.source, found.autoload) == ("llama.cpp /v1/models (router status)", False)
    got = {m.id: (m.loaded, m.status, m.context_length, m.exit_code, m.progress)
           for m in found.models}  # fmt: skip
    assert got == {
        "a": (True, "loaded", 4096, None, None),
        "b": (False, "unloaded", None, 3, None),
        "c": (False, "loading", None, None, None),
        "d": (False, "sleeping", None, None, None),
    }
    # only the asked model's progress is worth the event stream's 1.5 s
    assert not [s for s in server.seen if s.path == "/models/sse"]


def test_llamacpp_router_behind_a_v1_only_proxy_is_still_a_router() -> None:
    # a reverse proxy that passes /v1/* only: /props is a 404, the statuses still say router
    server = fakes.llamacpp(router={"a": ("loaded", 4096)})
    del server.routes["GET /props"]
    found = native(server, target(server, "a"))
    assert found.source == "llama.cpp /v1/models (router status)"


def test_llamacpp_router_without_models_is_still_a_router() -> None:
    server = fakes.llamacpp(router={})
    found = native(server, target(server, "a"))
    assert (found.source, found.autoload, found.models) == (
        "llama.cpp /v1/models (router status)", True, ())  # fmt: skip


def test_a_single_llamacpp_answers_any_id_but_a_router_does_not() -> None:
    # VENDORED: one model answers every id; a router refuses an unknown one (400 "model 'x'
    # not found", server-models.cpp:1859-1876)
    server = fakes.llamacpp("smol")
    assert "model.mismatch" in [f.code for f in check(server, target(server, "other"))]
    server = fakes.llamacpp(router={"a": ("loaded", 4096)})
    assert "model.not_found" in [f.code for f in check(server, target(server, "other"))]


# -- the other kinds: signals that decide where the first one is hidden, native readers -------


def listing_of(*entries: dict) -> Reply:
    return Reply(200, {"object": "list", "data": list(entries)})


def test_jan_behind_a_key_adding_proxy_is_told_by_its_list() -> None:
    # proxy.rs@e78b82eb (GET, "/models"): running sessions, created 1, owned_by "user"; the
    # proxy in front adds the key and passes /v1 only (no API Docs page at /)
    server = without_root(fakes.jan())
    server.routes["GET /v1/models"] = listing_of(
        {"id": "Jan-nano-gguf", "object": "model", "created": 1, "owned_by": "user"}
    )
    assert identify(server) == ("jan", None, ev('/v1/models owned_by "user", created 1'))


@pytest.mark.parametrize(
    "entry",
    [{"id": "m", "object": "model", "created": 1748772000, "owned_by": "user"},
     {"id": "m", "object": "model", "created": 1, "owned_by": "system"},
     {"id": "m", "object": "model", "created": 0, "owned_by": "system"},
     {"id": "m", "object": "model", "created": 1677610603, "owned_by": "system"}],
    ids=["owned by user", "created 1", "created 0", "created near LiteLLM's"],
)  # fmt: skip
def test_half_a_kinds_list_signal_is_an_unknown_server(entry: dict) -> None:
    # Jan's list is owned_by "user" AND created 1, text-generation-webui's "user" AND 0, TGI's
    # created 0 AND owned_by = id, LiteLLM's created exactly 1677610602: an unknown server with
    # only half of one (no real project emulated) is not that kind
    server = fakes.generic_openai()
    server.routes["GET /v1/models"] = listing_of(entry)
    assert identify(server) == (
        "openai-compatible",
        None,
        ev("/v1/models answers an OpenAI model list", server="Python"),
    )


def test_an_express_app_is_not_lm_studio() -> None:
    # Express sends X-Powered-By: Express by default (expressjs/express lib/application.js,
    # app.defaultConfiguration `x-powered-by`); LM Studio is Express AND "Unexpected endpoint"
    server = fakes.generic_openai()

    def express(route: Any) -> Callable[[Any], Reply]:
        def handle(seen: Any) -> Reply:
            reply = route(seen) if callable(route) else route
            return Reply(reply.status, reply.body, {**reply.headers, "X-Powered-By": "Express"})

        return handle

    server.routes = {path: express(route) for path, route in server.routes.items()}
    found = identify(server)
    assert found is not None and found[:2] == ("openai-compatible", None)


def test_tgi_without_its_list_is_told_by_its_info() -> None:
    # router/src/server.rs:2240 GET /info (router "text-generation-router"), behind a proxy
    # that passes no model list
    server = fakes.tgi()
    del server.routes["GET /v1/models"]
    found = identify(server)
    assert found is not None and found[:2] == ("tgi", "3.3.4")
    assert found[2]["signals"] == ['/info router "text-generation-router"']


def test_tgi_native_is_its_one_model_from_info_or_the_list() -> None:
    # server.rs:2240 /info model_id and max_total_tokens; :176-186 /v1/models id = model_id
    server = fakes.tgi("org/served", max_total_tokens=4096)
    found = native(server, target(server, "org/served"))
    assert found.source == "TGI /info"
    assert [(m.id, m.loaded, m.context_length) for m in found.models] == [
        ("org/served", True, 4096)
    ]
    server = fakes.tgi("org/served")
    del server.routes["GET /info"]  # a proxy passing /v1 only: the listed id, no context
    found = native(server, target(server, "org/served"))
    assert [(m.id, m.loaded, m.context_length) for m in found.models] == [
        ("org/served", True, None)
    ]


def test_tgi_answers_any_model_id() -> None:
    # router/src/lib.rs:831-832: the request's model is unused
    server = fakes.tgi()
    assert "model.mismatch" in [f.code for f in check(server, target(server, "other"))]


def test_lm_studio_native_prefers_rest_v1_then_v0_then_the_list() -> None:
    # §1: REST v1 (0.4.0+, list.md:11-98), v0 (0.3.6+, endpoints.mdx:40-90, no loaded context)
    for key in (None, "sk-lm-t0ken123"):
        server = fakes.lmstudio(loaded={"qwen/qwen3-8b": 8192}, token=key)
        found = native(server, target(server, "qwen/qwen3-8b", key=key))
        assert (found.source, found.complete, found.context_silent) == (
            "LM Studio /api/v1/models", True, False)  # fmt: skip
    server = fakes.lmstudio(loaded={"qwen/qwen3-8b": 8192}, api="0.3")
    found = native(server, target(server, "qwen/qwen3-8b"))
    assert (found.source, found.complete, found.context_silent) == (
        "LM Studio /api/v0/models", True, True)  # fmt: skip
    assert {m.id for m in found.models} == {"qwen/qwen3-8b", "google/gemma-3-12b"}
    server = fakes.lmstudio(loaded={"qwen/qwen3-8b": 8192}, api="0.3")
    del server.routes["GET /api/v0/models"]  # before 0.3.6: 200 "Unexpected endpoint"
    found = native(server, target(server, "qwen/qwen3-8b"))
    assert found.source != "LM Studio /api/v0/models" and not found.complete


@pytest.mark.parametrize(("jit", "words"), [(True, "Just-in-Time loading is on"),
                                            (False, "Just-in-Time loading is off")])  # fmt: skip
def test_lm_studio_names_just_in_time_loading(jit: bool, words: str) -> None:
    # §1 GET /v1/models lists every download with JIT on, only loaded models with it off
    server = fakes.lmstudio(loaded={"google/gemma-3-12b": 4096}, jit=jit)
    found = check(server, target(server, "qwen/qwen3-8b"))
    assert any(words in f"{f.summary} {f.detail} {f.fix}" for f in found), found


def test_localai_with_no_model_is_told_by_its_probes() -> None:
    # an empty /v1/models (nothing installed) and no Ollama root: /readyz (routes/health.go:31)
    # and /version (routes/localai.go:282) decide
    found = identify(fakes.localai(models=[], ollama_root=False))
    assert found is not None and found[:2] == ("localai", "v3.4.0")
    assert found[2]["signals"][0] == "/readyz or /.well-known/localai.json answers (LocalAI)"


def test_localai_behind_a_v1_only_proxy_is_told_by_its_refusal_alone() -> None:
    # middleware.go:559-582: its 401 names it even when /readyz and /.well-known are not passed
    server = without_root(fakes.localai(api_key="k"))
    del server.routes["GET /readyz"], server.routes["GET /.well-known/localai.json"]
    found = identify(server)
    assert found is not None and found[0] == "localai"
    assert found[2]["signals"] == ["401 body: An authentication key is required"]


def test_a_refusal_mentioning_a_proxy_is_not_litellm_without_its_code() -> None:
    # LiteLLM's 401 has the string code "401" (user_api_key_auth.py, §7); a gateway's refusal
    # that says "proxy" but has no such code (no real project emulated) stays unknown
    server = fakes.generic_openai(api_key="k")
    server.routes["GET /v1/models"] = Reply(
        401, {"error": {"message": "proxy authentication failed", "type": "auth_error"}}
    )
    assert identify(server) is None


def test_litellm_errors_that_are_no_refusal_are_server_errors() -> None:
    # only the plain-text 500 "Internal Server Error" (no key, no DB) and 400 no_db_connection
    # are refusals in disguise (litellm 1.110.2 user_api_key_auth.py:3113-3121); a JSON 500
    # (proxy_server.py's ProxyException rendering, :2345-2365) is the server's own error
    server = fakes.litellm()
    server.routes["GET /v1/models"] = Reply(
        500, {"error": {"message": "boom", "type": "None", "param": None, "code": "500"}}
    )
    assert server_codes(server) == ["server.identified", "http.server_error"]


LITELLM_MASTER = "sk-master-0123456789"


@pytest.mark.parametrize(
    ("key", "code", "note"),
    [(None, "auth.missing_key", "its auth error handler itself fails"),
     ("sk-wrong-000000000000", "auth.invalid_key", "LiteLLM accepts only the master key")],
)  # fmt: skip
def test_litellm_without_a_database_explains_its_disguised_refusals(
    key: str | None, code: str, note: str
) -> None:
    # litellm 1.108.7 with a master key and no database (tests/fakes/litellm.py): no key gets a
    # plain-text 500, a wrong key 400 no_db_connection (user_api_key_auth.py:3113-3121, 1.110.2)
    server = fakes.litellm(("smollm2",), master_key=LITELLM_MASTER, database=False)
    (found,) = check(server, target(server, "smollm2", key=key), only="auth")
    assert found.code == code and note in found.detail


def test_litellm_with_a_database_refusing_with_400_is_no_missing_database() -> None:
    # with a database a wrong key is "not found in db" (user_api_key_auth.py, code "400" where
    # the proxy is set to answer 400): the key is wrong, not the database missing
    server = fakes.litellm(("smollm2",), master_key=LITELLM_MASTER, wrong_key_status=400)
    (found,) = check(server, target(server, "smollm2", key="sk-wrong-000000000000"), only="auth")
    assert found.code == "auth.invalid_key" and "not found in db" in found.detail
    assert "accepts only the master key" not in found.detail


# -- koboldcpp.py -------------------------------------------------------------------------------


def test_koboldcpp_without_its_header_and_list_is_told_by_its_version() -> None:
    # koboldcpp.py:1749-1755 (LostRuins/koboldcpp@2da346a5): /api/extra/version result
    # "KoboldCpp", behind a proxy with its own Server header that passes no model list
    server = behind_nginx(fakes.koboldcpp())
    del server.routes["GET /v1/models"]
    found = identify(server)
    assert found == ("koboldcpp", "1.76", ev('/api/extra/version result "KoboldCpp"',
                                             server="nginx/1.24.0"))  # fmt: skip


# -- ollama.py: the facts /api/show adds ------------------------------------------------------


def test_ollama_quant_of_a_running_model_comes_from_show_when_ps_has_none() -> None:
    # PsHandler (routes.go:2276-2283) copies m.Config.FileType, empty for older manifests;
    # ShowHandler fills it from the GGUF's file type (routes.go:1573-1576). With /api/tags
    # failing (ListHandler's 500, routes.go:1632-1636) the running models are all there is.
    server = fakes.ollama(running={"qwen3:8b": (6_000_000_000, 6_000_000_000, 8192),
                                   "llama3.2:latest": (3_000_000_000, 0, 4096)})  # fmt: skip
    server.routes["GET /api/tags"] = Reply(500, {"error": "model list cache unavailable"})
    ps = server.routes["GET /api/ps"]

    def old_manifests(seen: Any) -> Reply:
        reply = ps(seen)  # type: ignore[operator]
        for entry in reply.body["models"]:
            entry["details"]["quantization_level"] = ""
        return reply

    server.routes["GET /api/ps"] = old_manifests
    found = native(server, target(server, "qwen3:8b", provider="ollama"))
    assert not found.complete
    got = {m.id: (m.quant, m.params_b, m.loaded, m.context_length) for m in found.models}
    assert got == {
        "qwen3:8b": ("Q4_K_M", 3.212749888, True, 8192),
        "llama3.2:latest": (None, 3.2, True, 4096),
    }


@pytest.mark.parametrize(
    ("status", "code"), [(403, "auth.forbidden"), (401, "auth.missing_key")]
)  # fmt: skip
def test_ollama_empty_refusals_host_guard_or_gateway_key(status: int, code: str) -> None:
    # a bare 403 is Ollama's own Host guard (allowedHostsMiddleware, routes.go:1803-1838
    # @fb307609); a bare 401 comes from a gateway in front that wants a key (Ollama checks
    # none; the gateway is no real project emulated)
    server = fakes.ollama()
    server.routes = {path: Reply(status, b"") for path in server.routes}
    server.default = Reply(status, b"")
    found = check(server, target(server, "qwen3:8b", provider="ollama"), only="auth")
    assert [f.code for f in found] == [code]
    assert found[0].summary == (
        "Ollama refuses the request because of the Host header"
        if status == 403
        else "Ollama wants an API key and none is configured"
    )
    assert found[0].evidence["reached_openai"] is False


def test_a_gateway_passing_openais_refusal_on_is_named_openai() -> None:
    # an unknown gateway (no real project emulated) that lists models itself but forwards chat
    # to api.openai.com, whose 401 names platform.openai.com (tests/fakes/openai.py, §13)
    server = fakes.generic_openai()
    server.routes["POST /v1/chat/completions"] = Reply(401, fakes.openai.OPENAI_NO_KEY)
    (found,) = check(server, target(server, "gpt-4o"), only="auth")
    assert found.code == "auth.missing_key" and found.evidence["reached_openai"] is True
    assert (
        found.summary == "The request reaches OpenAI, which wants an API key and none is configured"
    )


def test_llama_cpp_python_answers_any_model_id() -> None:
    # abetlen/llama-cpp-python@3691546f: an unknown id is served by the default model (§4)
    server = fakes.llama_cpp_python()
    found = check(server, target(server, "other"))
    assert [f.code for f in found if f.code.startswith("model.")] == ["model.mismatch"]
