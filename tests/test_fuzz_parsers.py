"""Fuzzing (hypothesis): every reader of foreign data raises only its own error, whatever comes.

Readers of server answers (lmdoctor.parse: model lists, native APIs, error bodies; the small
response readers in lmdoctor.servers; net.parse_reply for raw first bytes) and the config
loader (config.json + .security.yml → targets). Functions are found by name at collection time;
a missing one is skipped with the reason, so this file follows the modules as they grow.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmdoctor.http import Response

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# Keys the readers look for, so generated documents reach past the first `isinstance`.
KEYS = [
    "data", "id", "object", "models", "model", "name", "error", "detail", "message", "msg",
    "type", "code", "error_type", "meta", "n_ctx", "n_ctx_train", "n_params", "size", "status",
    "value", "owned_by", "created", "max_model_len", "key", "loaded_instances", "config",
    "context_length", "max_context_length", "size_bytes", "params_string", "quantization",
    "bits_per_weight", "state", "loaded_context_length", "details", "parameter_size",
    "quantization_level", "size_vram", "model_info", "general.architecture",
    "general.parameter_count", "llama.context_length", "parameters", "version", "build_info",
    "default_generation_settings", "total_slots", "model_path", "router", "model_id",
    "max_total_tokens", "result", "protected", "version", "agents", "defaults", "model_name",
    "model_list", "api_base", "api_key", "api_keys", "provider", "providers", "fallbacks",
    "model_fallbacks", "list", "primary", "request_timeout", "proxy", "max_tokens",
    "context_window", "max_tokens_field", "auth_method", "enabled",
]  # fmt: skip

# Everything json.loads can produce: NaN/Infinity, huge ints, lone surrogates ("\ud800").
ANY_TEXT = st.text(st.characters(blacklist_categories=()), max_size=40)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | ANY_TEXT
    | st.sampled_from(["", "7B", "26B-A4B", "Q4_K_M", "loaded", "not-loaded", "openai/x"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | ANY_TEXT, inner, max_size=6)
    ),
    max_leaves=40,
)


def optional(module: str, name: str) -> Callable[..., Any]:
    """The function if it exists now; otherwise skip the test with the reason."""
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError as exc:
        pytest.skip(f"{module} cannot be imported: {exc}")
    if found is None or not callable(found):
        pytest.skip(f"{module}.{name} does not exist (yet)")
    source = inspect.getsource(found)
    if "raise NotImplementedError" in source:
        pytest.skip(f"{module}.{name} is still a stub")
    return found


# -- lmdoctor.parse: every public reader --------------------------------------------------------

_ARGUMENTS: dict[str, st.SearchStrategy[Any]] = {
    "Any": JSON,
    "str": ANY_TEXT | st.text(max_size=300),
    "str | None": st.none() | ANY_TEXT | st.text(max_size=300),
    "bool": st.booleans(),
    "bytes": st.binary(max_size=300),
    "int": st.integers(),
}


def _parse_readers() -> list[str]:
    try:
        parse = importlib.import_module("lmdoctor.parse")
    except ImportError:
        return []
    return sorted(
        name
        for name, fn in inspect.getmembers(parse, inspect.isfunction)
        if not name.startswith("_") and fn.__module__ == parse.__name__
    )


def _strategy(fn: Callable[..., Any]) -> st.SearchStrategy[tuple[Any, ...]] | str:
    """Arguments for every parameter without a default, by annotation; or why not."""
    parts = []
    for param in inspect.signature(fn).parameters.values():
        if param.default is not inspect.Parameter.empty:
            continue
        annotation = str(param.annotation).replace("typing.", "")
        if annotation not in _ARGUMENTS:
            return f"no strategy for {param.name}: {annotation}"
        parts.append(_ARGUMENTS[annotation])
    return st.tuples(*parts)


@pytest.mark.parametrize("name", _parse_readers() or ["(lmdoctor.parse missing)"])
def test_parse_readers_raise_only_shape_error(name: str) -> None:
    fn = optional("lmdoctor.parse", name)
    parse = importlib.import_module("lmdoctor.parse")
    arguments = _strategy(fn)
    if isinstance(arguments, str):
        pytest.skip(arguments)

    @FUZZ
    @given(arguments)
    def check(args: tuple[Any, ...]) -> None:
        with contextlib.suppress(parse.ShapeError):
            fn(*args)

    check()


@FUZZ
@given(st.lists(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6), max_size=5))
def test_model_list_keeps_only_string_ids(entries: list[dict[str, Any]]) -> None:
    parse = importlib.import_module("lmdoctor.parse")
    for doc in (entries, {"object": "list", "data": entries}):
        found = parse.model_list(doc)
        assert all(isinstance(m.id, str) for m in found)
        assert len(found) == sum(isinstance(e.get("id"), str) for e in entries)


# -- lmdoctor.servers: readers of whole responses --------------------------------------------

BODIES = st.binary(max_size=400) | JSON.map(lambda v: json.dumps(v).encode("utf-8", "replace"))


def _response(status: int, body: bytes, truncated: bool, content_type: str) -> Response:
    headers = httpx.Headers({"content-type": content_type.encode("latin-1")})
    return Response("http://127.0.0.1:9/v1/models", status, headers, body, truncated)


RESPONSES = st.builds(
    _response,
    st.sampled_from([200, 201, 204, 301, 400, 401, 403, 404, 500, 503]) | st.integers(100, 599),
    BODIES,
    st.booleans(),
    st.sampled_from(["application/json", "text/html", "text/plain", "", "x/\u00ff"]),
)


@pytest.mark.parametrize("name", ["body_json", "error_of", "listed"])
def test_response_readers_never_raise(name: str) -> None:
    fn = optional("lmdoctor.servers", name)

    @FUZZ
    @given(RESPONSES | st.none())
    def check(response: Response | None) -> None:
        fn(response)

    check()


def test_model_matching_never_raises() -> None:
    find = optional("lmdoctor.servers", "find")

    @FUZZ
    @given(ANY_TEXT, st.lists(ANY_TEXT, max_size=6), st.sampled_from([None, "ollama", "vllm"]))
    def check(model_id: str, names: list[str], kind: str | None) -> None:
        found = find(model_id, names, kind)
        assert found is None or found in names

    check()


# -- lmdoctor.net: the first bytes a port sends back ------------------------------------------

RAW = st.binary(max_size=600) | st.builds(
    lambda status, rest: b"HTTP/1.1 " + status + rest,
    st.sampled_from([b"200 OK", b"404 x", b"999", b"abc"]),
    st.binary(max_size=300),
)


@pytest.mark.parametrize("name", ["parse_reply", "printable"])
def test_raw_reply_readers_never_raise(name: str) -> None:
    fn = optional("lmdoctor.net", name)

    @FUZZ
    @given(RAW)
    def check(data: bytes) -> None:
        fn(data)

    check()


# -- the config loader -----------------------------------------------------------------------


def _config_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    for module in ("lmdoctor.config", "lmdoctor.config.reading", "lmdoctor.config.picoclaw"):
        try:
            found = getattr(importlib.import_module(module), "ConfigError", None)
        except ImportError:
            continue
        if isinstance(found, type) and found not in errors:
            errors.append(found)
    return tuple(errors)


def _is_stub(module: str) -> bool:
    return "STUB" in (inspect.getsource(importlib.import_module(module)).split("\n", 3)[0])


CONFIGS = JSON | st.fixed_dictionaries(
    {"version": st.sampled_from([0, 1, 2, 3, 4, "3", None, 3.0])},
    optional={
        "agents": JSON | st.fixed_dictionaries({"defaults": JSON}),
        "model_list": JSON | st.lists(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6)),
        "providers": JSON,
    },
)


def test_config_loader_yields_targets_or_its_own_error(tmp_path: Path) -> None:
    if _is_stub("lmdoctor.config.picoclaw"):
        pytest.skip("lmdoctor/config/picoclaw.py is still a STUB")
    load = optional("lmdoctor.config", "load")
    errors = _config_errors()
    path = tmp_path / "config.json"

    @FUZZ
    @given(CONFIGS, st.booleans())
    def check(doc: Any, every: bool) -> None:
        text = json.dumps(doc, allow_nan=True, ensure_ascii=False)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            config = load(path)
            targets = config.select([], every)
        except errors:
            return
        assert all(hasattr(t, "api_base") for t in targets)

    check()


def test_config_loader_on_arbitrary_bytes(tmp_path: Path) -> None:
    if _is_stub("lmdoctor.config.picoclaw"):
        pytest.skip("lmdoctor/config/picoclaw.py is still a STUB")
    load = optional("lmdoctor.config", "load")
    errors = _config_errors()
    path = tmp_path / "config.json"
    security = tmp_path / ".security.yml"

    @FUZZ
    @given(
        st.binary(max_size=300) | st.sampled_from([b"", b"{", b"\xef\xbb\xbf{}", b"null"]),
        st.none() | st.binary(max_size=200) | st.sampled_from([b"model_list: [", b"- 1"]),
    )
    def check(data: bytes, secrets: bytes | None) -> None:
        path.write_bytes(data)
        if secrets is None:
            security.unlink(missing_ok=True)
        else:
            security.write_bytes(secrets)
        with contextlib.suppress(*errors):
            load(path).select([], True)

    check()


def test_nan_and_infinity_are_rejected_like_picoclaw(tmp_path: Path) -> None:
    parse_json = optional("lmdoctor.config.reading", "parse_json")
    errors = _config_errors()
    for text in ('{"version": NaN}', '{"a": [Infinity]}', "-Infinity"):
        with pytest.raises(errors):
            parse_json(tmp_path / "config.json", text)
    assert math.isinf(json.loads("Infinity"))  # while Python's json alone accepts them
