"""lmdoctor.servers and lmdoctor.parse: fingerprints against each fake, readers, matching."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fingerprint import identify

import fakes
from conftest import PATIENT
from lmdoctor import parse, servers
from lmdoctor.http import HttpClient
from loopback import Reply, Server

# (fake, key the client holds, kind, version, a signal that must be named)
FINGERPRINTS: list[tuple[str, Callable[[], Server], str | None, str, str | None, str]] = [
    ("lmstudio 0.4", fakes.lmstudio, None, "lmstudio", None, "X-Powered-By: Express"),
    ("lmstudio 0.3", lambda: fakes.lmstudio(api="0.3"), None, "lmstudio", None, "Express"),
    ("lmstudio auth", lambda: fakes.lmstudio(token="sk-lm-t0ken123"), None, "lmstudio", None,
     "LM Studio API token"),
    ("ollama", fakes.ollama, None, "ollama", "0.12.3", "Ollama is running"),
    ("llama.cpp", fakes.llamacpp, None, "llamacpp", "b6500-8f8c4a2e", "Server: llama.cpp"),
    ("llama.cpp loading", lambda: fakes.llamacpp(loading=True), None, "llamacpp", None,
     "Server: llama.cpp"),
    ("llama-cpp-python", fakes.llama_cpp_python, None, "llama-cpp-python", None, 'owned_by "me"'),
    ("llama-cpp-python auth", lambda: fakes.llama_cpp_python(api_key="k"), None,
     "llama-cpp-python", None, "Invalid API key"),
    ("vllm", fakes.vllm, None, "vllm", "0.10.1", 'owned_by "vllm"'),
    ("vllm auth", lambda: fakes.vllm(api_key="k"), None, "vllm", "0.10.1", "/version"),
    ("sglang", fakes.sglang, None, "sglang", "0.4.9", 'owned_by "sglang"'),
    ("sglang auth, key held", lambda: fakes.sglang(api_key="k"), "k", "sglang", None, "sglang"),
    ("litellm", fakes.litellm, None, "litellm", "1.74.3", "1677610602"),
    ("litellm auth", lambda: fakes.litellm(master_key="sk-1234"), None, "litellm", "1.74.3",
     'string code "401"'),
    ("tgi", fakes.tgi, None, "tgi", "3.3.4", "created 0"),
    ("localai imitating ollama", fakes.localai, None, "localai", "v3.4.0", "imitates Ollama"),
    # "/" stays public with a key (LocalAI public_routes.go:40-41): its Ollama root still shows
    ("localai auth", lambda: fakes.localai(api_key="k"), None, "localai", None,
     "/readyz or /.well-known/localai.json answers"),
    ("koboldcpp", fakes.koboldcpp, None, "koboldcpp", "1.76", "ConcedoLlamaForKoboldServer"),
    ("jan", fakes.jan, None, "jan", None, "API Docs"),
    ("textgen", fakes.textgen, None, "textgen", None, 'owned_by "user", created 0'),
    ("textgen auth", lambda: fakes.textgen(api_key="k"), None, "textgen", None, "Unauthorized"),
    ("openai cloud", fakes.openai_cloud, None, "openai", None, "platform.openai.com"),
    ("unknown server", fakes.generic_openai, None, "openai-compatible", None, "model list"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("factory", "key", "kind", "version", "signal"),
    [case[1:] for case in FINGERPRINTS],
    ids=[case[0] for case in FINGERPRINTS],
)
def test_identify_names_the_server_and_why(
    factory: Callable[[], Server], key: str | None, kind: str, version: str | None, signal: str
) -> None:
    server = factory()
    found = identify(server, key)
    assert found is not None
    assert (found.kind, found.version) == (kind, version)
    assert any(signal in s for s in found.signals), found.signals
    assert fakes.generated(server) == []
    assert all(s.method in ("GET", "HEAD") for s in server.seen)  # side-effect free


def test_identify_sends_no_key_until_it_must() -> None:
    server = fakes.vllm()
    identify(server, key="sk-secret-key-123")
    assert [fakes.bearer(s) for s in server.seen] == [None] * len(server.seen)


def test_llamacpp_router_mode_is_named() -> None:
    found = identify(fakes.llamacpp(router={"a": ("loaded", 4096), "b": ("unloaded", None)}))
    assert found is not None and found.evidence["mode"] == "router"


def test_a_web_page_is_not_an_llm_server() -> None:
    assert identify(fakes.web_page()) is None


def test_a_known_server_needs_few_requests() -> None:
    for factory in (fakes.lmstudio, fakes.llamacpp, fakes.vllm, fakes.ollama):
        server = factory()
        identify(server)
        assert len(server.seen) <= 6, [s.path for s in server.seen]


def test_each_probe_is_sent_once_per_target() -> None:
    async def go(server: Server) -> None:
        http = HttpClient(PATIENT)
        fetch = servers.Requests(http)
        try:
            await asyncio.gather(*(fetch.get(server.url + "/v1/models") for _ in range(5)))
        finally:
            await http.aclose()

    server = fakes.vllm()
    with server:
        asyncio.run(go(server))
    assert len(server.seen) == 1


# -- parse --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "ids"),
    [
        ({"object": "list", "data": [{"id": "a"}, {"id": "b"}]}, ["a", "b"]),
        ([{"id": "a"}], ["a"]),  # a bare list, as PicoClaw accepts
        ({"data": [{"id": "a"}, "junk", {"id": 3}, None, {"name": "x"}]}, ["a"]),
        ({"data": []}, []),
        ({"data": [{"id": "x" * 100_000}]}, ["x" * 100_000]),
    ],
)
def test_model_list_reads_what_it_can(doc: Any, ids: list[str]) -> None:
    assert [m.id for m in parse.model_list(doc)] == ids


@pytest.mark.parametrize(
    "doc", [None, "text", 3, {"data": None}, {"data": "x"}, {"models": []}, {"object": "list"}]
)
def test_model_list_raises_only_shape_error(doc: Any) -> None:
    with pytest.raises(parse.ShapeError):
        parse.model_list(doc)


def test_model_list_reads_server_extras() -> None:
    doc = {"data": [
        {"id": "v", "owned_by": "vllm", "created": 1, "max_model_len": 32768},
        {"id": "l", "meta": {"n_ctx": 8192, "n_ctx_train": 40960, "n_params": 8_000_000_000}},
        {"id": "r", "status": {"value": "unloaded"}},
    ]}  # fmt: skip
    v, llama, r = parse.model_list(doc)
    assert (v.owned_by, v.max_model_len) == ("vllm", 32768)
    assert (llama.n_ctx, llama.n_ctx_train, llama.n_params) == (8192, 40960, 8_000_000_000)
    assert r.status == "unloaded"


@pytest.mark.parametrize(
    ("ftype", "quant"),
    [  # llama_ftype_name's words (llama.cpp@0c1e5709 src/llama-model-loader.cpp)
        ("Q4_1", "Q4_1"), ("Q4_K - Medium", "Q4_K_M"), ("Q4_K - Small", "Q4_K_S"),
        ("Q2_K - Medium", "Q2_K"), ("Q2_K - Small", "Q2_K_S"), ("Q3_K - Large", "Q3_K_L"),
        ("IQ2_M - 2.7 bpw", "IQ2_M"), ("IQ3_S mix - 3.66 bpw", "IQ3_M"), ("MXFP4 MoE", "MXFP4"),
        ("all F32", "F32"), ("(guessed) Q5_K - Medium", "Q5_K_M"), ("BF16", "BF16"),
        ("TQ1_0 - 1.69 bpw ternary", "TQ1_0"), ("unknown, may not work", None), ("", None),
    ],
)  # fmt: skip
def test_llamacpp_ftype_names_the_quantization(ftype: str, quant: str | None) -> None:
    assert parse.llamacpp_quant(ftype) == quant
    listed = parse.model_list({"data": [{"id": "m", "meta": {"ftype": ftype}}]})[0]
    assert listed.quant == quant


@pytest.mark.parametrize(
    ("doc", "raw", "expected"),
    [
        ({"error": "Unexpected endpoint or method. (GET /x)"}, "", ("Unexpected endpoint", "", "")),
        (fakes.LITELLM_NO_KEY, "", ("No api key passed in", "auth_error", "401")),
        (fakes.LLAMACPP_DENY, "", ("Invalid API Key", "authentication_error", "401")),
        ({"detail": "Invalid API key"}, "", ("Invalid API key", "", "")),
        ({"detail": {"msg": "Authentication key is missing", "type": "unauthorized"}}, "",
         ("Authentication key is missing", "unauthorized", "")),
        ({"object": "error", "message": "The model `x` does not exist.", "type": "NotFoundError",
          "code": 404}, "", ("The model `x` does not exist.", "NotFoundError", "404")),
        ({"error": "unhealthy", "error_type": "healthcheck"}, "", ("unhealthy", "healthcheck", "")),
        (None, "Missing authorization header", ("Missing authorization header", "", "")),
        (None, "<html><body>x</body></html>", ("", "", "")),
        ({"error": ["odd"]}, "", ("", "", "")),
    ],
)  # fmt: skip
def test_error_info_reads_every_envelope(
    doc: Any, raw: str, expected: tuple[str, str, str]
) -> None:
    found = parse.error_info(doc, raw)
    assert expected[0] in found.message
    assert (found.type, found.code) == expected[1:]


@pytest.mark.parametrize("value", ["²", "١٢", 10**400, 1e300, float("nan"), True, "-", "1" * 30])
def test_integers_from_foreign_json_stay_sane(value: Any) -> None:
    assert parse.integer(value) is None


@pytest.mark.parametrize("value", [10**400, float("nan"), float("inf"), True, "1"])
def test_numbers_from_foreign_json_stay_sane(value: Any) -> None:
    assert parse.number(value) is None


def test_huge_numbers_do_not_overflow_later_arithmetic() -> None:
    (model,) = parse.model_list(
        {"data": [{"id": "a", "meta": {"n_params": 10**400, "n_ctx": 1e300}}]}
    )
    assert (model.n_params, model.n_ctx) == (None, None)
    assert parse.error_info({"error": {"message": "x", "code": 10**400}}).code == ""


def test_native_readers() -> None:
    instance = {"id": "q:2", "config": {"context_length": 8192}}
    v1 = {"models": [{"key": "q", "params_string": "26B-A4B", "size_bytes": 9,
                      "quantization": {"name": "Q4_K_M", "bits_per_weight": 4.8},
                      "loaded_instances": [instance]}]}  # fmt: skip
    (model,) = parse.lmstudio_v1_models(v1)
    assert model.names == ("q", "q:2") and model.loaded and model.context_length == 8192
    assert (model.params_b, model.active_params_b, model.bpw) == (26.0, 4.0, 4.8)
    show = parse.ollama_show({"model_info": {"general.architecture": "qwen3",
                                             "qwen3.context_length": 40960},
                              "parameters": "num_ctx 16384\nstop x"})  # fmt: skip
    assert (show.trained_context, show.num_ctx) == (40960, 16384)
    assert parse.params_b("135M")[0] == pytest.approx(0.135)
    assert parse.html_title("<html><TITLE> Welcome \n to nginx!</TITLE>") == "Welcome to nginx!"


# -- matching, refusals, candidate bases --------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "names", "kind", "found"),
    [
        ("llama3.2", ["llama3.2:latest"], "ollama", "llama3.2:latest"),
        ("llama3.2:latest", ["llama3.2"], "ollama", "llama3.2"),
        ("llama3.2", ["llama3.2:latest"], "vllm", None),
        ("qwen3:8b", ["qwen3:latest"], "ollama", None),
        ("a", ["a"], None, "a"),
    ],
)
def test_find_normalises_ollama_latest(
    model_id: str, names: list[str], kind: str | None, found: str | None
) -> None:
    assert servers.find(model_id, names, kind) == found


def _response(status: int, body: Any) -> Any:
    import json

    import httpx

    from lmdoctor.http import Response

    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response("http://x/v1/models", status, httpx.Headers({}), data)


@pytest.mark.parametrize(
    ("status", "body", "refusal"),
    [
        (401, b"", "key"),
        (401, fakes.LMSTUDIO_NO_TOKEN, "key"),
        (400, fakes.litellm_wrong_key(400), "key"),  # a 400 naming the key database
        (500, {"error": {"message": "Authentication Error, No api key passed in."}}, "key"),
        (403, {"detail": "Not authenticated"}, "key"),
        (403, b"Invalid host header", "host"),
        (400, {"detail": "Invalid host header"}, "host"),
        (403, {"error": "region not supported"}, "forbidden"),
        (400, {"error": {"message": "messages must not be empty"}}, None),
        (500, {"error": "the request exceeds the available context size, tokens"}, None),
        (200, {"data": []}, None),
    ],
)
def test_denial_tells_refusals_apart(status: int, body: Any, refusal: str | None) -> None:
    assert servers.denial(_response(status, body)) == refusal


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://h:1/", [("http://h:1/v1", "missing_v1")]),
        ("http://h:1/v1/v1", [("http://h:1/v1", "double_v1")]),
        ("http://h:1/v1/chat/completions", [("http://h:1/v1", "endpoint_in_base")]),
        ("http://h:1/api", [("http://h:1/v1", "native_api_base")]),
        ("http://h:1/lm", [("http://h:1/lm/v1", "missing_v1"), ("http://h:1/v1", "wrong_path")]),
    ],
)
def test_candidate_bases(base: str, expected: list[tuple[str, str]]) -> None:
    assert servers.candidate_bases(base)[: len(expected)] == expected


def test_fetcher_survives_a_dead_port() -> None:
    from loopback import free_port

    async def go() -> tuple[Any, str | None]:
        http = HttpClient(PATIENT)
        fetch = servers.Requests(http)
        url = f"http://127.0.0.1:{free_port()}/v1/models"
        try:
            return await fetch.get(url), fetch.failure("GET", url)
        finally:
            await http.aclose()

    answer, failure = asyncio.run(go())
    assert answer is None and failure == "ConnectError"


def test_server_sends_broken_json_without_crashing() -> None:
    server = Server({"GET /v1/models": Reply(200, b'{"data": [{"id": "a"')})
    assert identify(server) is None
