"""Defensive readers for the JSON that LLM servers send back.

Every public function here takes whatever `json.loads` produced (or None) and either returns
typed data or raises `ShapeError`; nothing else escapes, whatever the input (wrong types,
`data: null`, mixed items, huge strings, deep nesting). Readers of optional facts (error
bodies, versions, native details) never raise at all: what is missing or malformed is None.
Sources for the shapes: ../shared/reference/llm-servers.md (sections named per function).
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

MAX_ITEMS = 10_000  # models kept from one list (LM Studio with every download listed)
MAX_MESSAGE = 500  # characters kept from an error message
MAX_VERSION = 64


class ShapeError(ValueError):
    """The JSON is not the shape this reader expects (the only exception raised here)."""


# -- scalar coercion: None when the value is not what we want --------------------------------


def text(value: Any, limit: int | None = None) -> str | None:
    if not isinstance(value, str):
        return None
    return value if limit is None else value[:limit]


MAX_INT = 2**63  # larger numbers are nonsense here, and would overflow float arithmetic
_DIGITS = re.compile(r"[0-9]{1,18}")


def integer(value: Any) -> int | None:
    """An int from an int, an integral float or an ASCII decimal string; bools are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    return value if isinstance(value, int) and abs(value) < MAX_INT else None


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, int) and abs(value) >= MAX_INT:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value[:MAX_ITEMS] if isinstance(value, list) else []


def _positive(value: Any) -> int | None:
    result = integer(value)
    return result if result is not None and result > 0 else None


# -- OpenAI model lists ------------------------------------------------------------------------


# NamedTuple, not a frozen dataclass: the same immutable value (eq, hash, repr by fields), defined
# without the ~3.5 M instructions of exec'd methods a dataclass costs every start-up (NOTES, 13).
class ListedModel(NamedTuple):
    """One entry of GET {api_base}/models, with the server-specific extras we read."""

    id: str
    owned_by: str | None = None
    created: int | None = None
    fields: frozenset[str] = frozenset()
    max_model_len: int | None = None  # vLLM, SGLang (§5, §6)
    n_ctx: int | None = None  # llama.cpp meta.n_ctx: the allocated context (§3)
    n_ctx_train: int | None = None
    n_params: int | None = None
    size_bytes: int | None = None
    quant: str | None = None  # llama.cpp meta.ftype as llama-quantize names it (llamacpp_quant)
    status: str | None = None  # llama.cpp router: loaded|unloaded|loading|sleeping|... (§3)
    aliases: tuple[str, ...] = ()  # llama.cpp router: names a request may use instead of id
    failed: bool = False  # llama.cpp router: its last load failed (status.failed)
    exit_code: int | None = None  # ... and the model process exited with this code


def model_list(data: Any) -> list[ListedModel]:
    """`{"data": [...]}` (OpenAI) or a bare list (PicoClaw accepts both).

    Raises ShapeError when there is no list at all; entries that are not objects with a string
    `id` are skipped (they cannot be requested by id anyway).
    """
    if isinstance(data, dict):
        if "data" not in data:
            raise ShapeError("no 'data' list")
        entries = data["data"]
    else:
        entries = data
    if not isinstance(entries, list):
        raise ShapeError(f"'data' is {type(entries).__name__}, not a list")
    found: list[ListedModel] = []
    for entry in entries[:MAX_ITEMS]:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        meta = mapping(entry.get("meta"))
        status = entry.get("status")
        found.append(
            ListedModel(
                id=entry["id"],
                owned_by=text(entry.get("owned_by"), 200),
                created=integer(entry.get("created")),
                fields=frozenset(k for k in entry if isinstance(k, str)),
                max_model_len=_positive(entry.get("max_model_len")),
                n_ctx=_positive(meta.get("n_ctx")),
                n_ctx_train=_positive(meta.get("n_ctx_train")),
                n_params=_positive(meta.get("n_params")),
                size_bytes=_positive(meta.get("size")),
                quant=llamacpp_quant(text(meta.get("ftype"), 80)),
                status=text(mapping(status).get("value"), 40) or text(status, 40),
                aliases=tuple(a[:200] for a in items(entry.get("aliases")) if isinstance(a, str)),
                failed=mapping(status).get("failed") is True,
                exit_code=integer(mapping(status).get("exit_code")),
            )
        )
    return found


# llama.cpp names a file's type in words (src/llama-model-loader.cpp llama_ftype_name, the tree
# llama-cpp-python 0.3.36 vendors, ggml-org/llama.cpp@0c1e5709; server-context.cpp puts it in
# /v1/models `meta.ftype` and /props `model_ftype`): "Q4_1", "Q4_K - Medium", "Q2_K - Small",
# "IQ2_M - 2.7 bpw", "IQ3_S mix - 3.66 bpw", "MXFP4 MoE", "all F32", "(guessed) …", "unknown,
# may not work". The K-quant sizes are llama-quantize's suffixes, except that its Q2_K is the
# "Medium" one.
_FTYPE_SIZES = {"Small": "_S", "Medium": "_M", "Large": "_L"}
_FTYPE_WORDS = {"IQ3_S mix": "IQ3_M", "MXFP4 MoE": "MXFP4", "all F32": "F32"}
_QUANT_NAME = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)*")


def llamacpp_quant(ftype: str | None) -> str | None:
    """llama-quantize's name for llama.cpp's ftype name ("Q4_K - Medium" → "Q4_K_M"); None when
    it names none."""
    name = (ftype or "").removeprefix("(guessed) ").strip()
    head, _, rest = name.partition(" - ")
    if head in _FTYPE_WORDS:
        return _FTYPE_WORDS[head]
    if head == "Q2_K" and rest == "Medium":
        return head
    if head.endswith("_K") and rest in _FTYPE_SIZES:
        return head + _FTYPE_SIZES[rest]
    return head if _QUANT_NAME.fullmatch(head) else None


# -- error bodies ------------------------------------------------------------------------------


class ErrorInfo(NamedTuple):
    """What an error body says; empty strings where it says nothing."""

    message: str = ""
    type: str = ""
    code: str = ""


def error_info(data: Any, raw_text: str = "") -> ErrorInfo:
    """Read the error envelopes seen in the wild (never raises):
    `{"error": "..."}` (LM Studio, vLLM, Ollama native), `{"error": {"message", "type", "code"}}`
    (OpenAI, LM Studio, llama.cpp, LiteLLM with a string code), `{"detail": "..."}` and
    `{"detail": {"msg", "type"}}` (FastAPI: llama-cpp-python, textgen, KoboldCpp),
    `{"object": "error", "message": ...}` (old vLLM, SGLang), `{"error", "error_type"}` (TGI),
    plain text (Jan)."""
    body = mapping(data)
    error = body.get("error")
    detail = body.get("detail")
    message, kind, code = "", "", ""
    if isinstance(error, dict):
        message = _flat(error.get("message"))
        kind, code = _flat(error.get("type")), _flat(error.get("code"))
    elif isinstance(error, str):
        message, kind = error, _flat(body.get("error_type"))
    elif isinstance(detail, str):
        message = detail
    elif isinstance(detail, dict):
        message = _flat(detail.get("msg")) or _flat(detail.get("error"))
        kind = _flat(detail.get("type"))
    elif isinstance(detail, list) and detail:
        message = _flat(mapping(detail[0]).get("msg"))
    elif isinstance(body.get("message"), str):
        message = body["message"]
        kind, code = _flat(body.get("type")), _flat(body.get("code"))
    elif data is None and raw_text.strip() and not raw_text.lstrip().startswith("<"):
        message = raw_text.strip()
    return ErrorInfo(message[:MAX_MESSAGE], kind[:100], code[:100])


def _flat(value: Any) -> str:
    """A string for str/int codes (LiteLLM sends "401", llama.cpp 401)."""
    if isinstance(value, str):
        return value
    number = integer(value)
    return str(number) if isinstance(value, int) and number is not None else ""


_TITLE = re.compile(r"<title[^>]*>(.{0,300}?)</title>", re.IGNORECASE | re.DOTALL)


def html_title(raw_text: str) -> str | None:
    """The <title> of an HTML page, whitespace collapsed; None if there is none."""
    match = _TITLE.search(raw_text[:20_000])
    if not match:
        return None
    title = " ".join(match.group(1).split())
    return title[:120] or None


def version(data: Any, key: str = "version") -> str | None:
    """`{"version": "x.y.z"}` (Ollama /api/version, vLLM /version, TGI /info, ...)."""
    value = mapping(data).get(key)
    if number(value) is not None:
        value = str(value)
    return text(value, MAX_VERSION) or None


# -- sizes ------------------------------------------------------------------------------------

_PARAMS = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*([KMBT])\b")
_ACTIVE = re.compile(r"(?i)\bA(\d+(?:\.\d+)?)\s*([KMBT])\b")
_SCALE = {"K": 1e-6, "M": 1e-3, "B": 1.0, "T": 1e3}


def params_b(label: Any) -> tuple[float | None, float | None]:
    """("7.6B" → 7.6, None), ("26B-A4B" → 26, 4), ("135M" → 0.135); (None, None) otherwise."""
    if not isinstance(label, str) or len(label) > 40:
        return None, None
    return _billions(_PARAMS.match(label)), _billions(_ACTIVE.search(label))


def _billions(match: re.Match[str] | None) -> float | None:
    return float(match.group(1)) * _SCALE[match.group(2).upper()] if match else None


# -- model facts -------------------------------------------------------------------------------


class ModelFacts(NamedTuple):
    """What a server says about one model (None where it says nothing): the one type for
    model facts, from the native readers to the models, capacity and bench checks."""

    id: str
    aliases: tuple[str, ...] = ()  # other names it answers to (loaded instance ids, model)
    loaded: bool | None = None
    context_length: int | None = None  # the loaded / allocated context
    max_context_length: int | None = None  # what the model supports
    size_bytes: int | None = None  # the model file(s)
    size_loaded: int | None = None  # in memory as loaded (Ollama /api/ps: weights + KV cache)
    size_vram: int | None = None  # of which in GPU memory (Ollama /api/ps)
    params_b: float | None = None
    active_params_b: float | None = None
    quant: str | None = None
    bpw: float | None = None
    model_type: str | None = None  # llm | vlm | embeddings
    status: str | None = None  # the server's own word for its state (llama.cpp: sleeping, …)
    exit_code: int | None = None  # its last load failed: the model process's exit code
    progress: str | None = None  # loading / downloading now: how far, in words
    source: str = ""  # which API said so, e.g. "Ollama /api/ps"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


# -- LM Studio native REST (§1) ----------------------------------------------------------------


def lmstudio_v1_models(data: Any) -> list[ModelFacts]:
    """GET /api/v1/models (0.4+): `{"models": [{key, loaded_instances[{id, config}], ...}]}`."""
    body = mapping(data)
    if not isinstance(body.get("models"), list):
        raise ShapeError("no 'models' list")
    found = []
    for entry in items(body["models"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
            continue
        instances = [mapping(i) for i in items(entry.get("loaded_instances"))]
        contexts = [
            c
            for c in (_positive(mapping(i.get("config")).get("context_length")) for i in instances)
            if c
        ]
        quant = mapping(entry.get("quantization"))
        total, active = params_b(entry.get("params_string"))
        found.append(
            ModelFacts(
                id=entry["key"],
                aliases=tuple(
                    i["id"] for i in instances if isinstance(i.get("id"), str) and i["id"]
                ),
                loaded=bool(instances),
                context_length=min(contexts) if contexts else None,
                max_context_length=_positive(entry.get("max_context_length")),
                size_bytes=_positive(entry.get("size_bytes")),
                params_b=total,
                active_params_b=active,
                quant=text(quant.get("name"), 40) or text(entry.get("quantization"), 40),
                bpw=number(quant.get("bits_per_weight")),
                model_type=text(entry.get("type"), 40),
            )
        )
    return found


def lmstudio_v0_models(data: Any) -> list[ModelFacts]:
    """GET /api/v0/models (0.3.6+): `{"data": [{id, state, max_context_length, ...}]}`."""
    body = mapping(data)
    if not isinstance(body.get("data"), list):
        raise ShapeError("no 'data' list")
    found = []
    for entry in items(body["data"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            continue
        state = text(entry.get("state"))
        found.append(
            ModelFacts(
                id=entry["id"],
                loaded={"loaded": True, "not-loaded": False}.get(state or ""),
                context_length=_positive(entry.get("loaded_context_length")),
                max_context_length=_positive(entry.get("max_context_length")),
                quant=text(entry.get("quantization"), 40),
                model_type=text(entry.get("type"), 40),
            )
        )
    return found


# -- Ollama native (§2) -----------------------------------------------------------------------


def ollama_models(data: Any, running: bool) -> list[ModelFacts]:
    """GET /api/tags (downloaded) or /api/ps (running): `{"models": [...]}`."""
    body = mapping(data)
    if not isinstance(body.get("models"), list):
        raise ShapeError("no 'models' list")
    found = []
    for entry in items(body["models"]):
        if not isinstance(entry, dict):
            continue
        name = text(entry.get("name")) or text(entry.get("model"))
        if not name:
            continue
        details = mapping(entry.get("details"))
        total, active = params_b(details.get("parameter_size"))
        model = text(entry.get("model"))
        found.append(
            ModelFacts(
                id=name,
                aliases=(model,) if model and model != name else (),
                loaded=True if running else None,
                context_length=_positive(entry.get("context_length")) if running else None,
                size_bytes=_positive(entry.get("size")),
                size_vram=integer(entry.get("size_vram")) if running else None,
                params_b=total,
                active_params_b=active,
                quant=text(details.get("quantization_level"), 40),
            )
        )
    return found


_NUM_CTX = re.compile(r"(?m)^\s*num_ctx\s+(\d{1,9})\s*$")


class OllamaShow(NamedTuple):
    """POST /api/show: what the model file says (never raises; fields None when absent)."""

    parameter_count: int | None = None
    trained_context: int | None = None  # <arch>.context_length
    num_ctx: int | None = None  # PARAMETER num_ctx in the Modelfile
    quant: str | None = None
    params_label: str | None = None


def ollama_show(data: Any) -> OllamaShow:
    body = mapping(data)
    info = mapping(body.get("model_info"))
    details = mapping(body.get("details"))
    arch = text(info.get("general.architecture"), 100)
    params = text(body.get("parameters"), 20_000) or ""
    num_ctx = _NUM_CTX.search(params)
    return OllamaShow(
        parameter_count=_positive(info.get("general.parameter_count")),
        trained_context=_positive(info.get(f"{arch}.context_length")) if arch else None,
        num_ctx=int(num_ctx.group(1)) if num_ctx else None,
        quant=text(details.get("quantization_level"), 40),
        params_label=text(details.get("parameter_size"), 40),
    )


# -- llama.cpp /props (§3), TGI /info (§8), KoboldCpp (§11) ------------------------------------


class LlamaProps(NamedTuple):
    """What llama.cpp's GET /props says."""

    n_ctx: int | None = None  # per slot
    total_slots: int | None = None
    build_info: str | None = None
    model_path: str | None = None
    is_llamacpp: bool = False
    router: bool = False  # role "router": a dummy n_ctx 0, per-model facts in /v1/models
    models_autoload: bool | None = None  # router: loads a model on its first request
    is_sleeping: bool = False  # --sleep-idle-seconds: the model is unloaded until a request


def llamacpp_props(data: Any) -> LlamaProps:
    body = mapping(data)
    settings = mapping(body.get("default_generation_settings"))
    return LlamaProps(
        n_ctx=_positive(settings.get("n_ctx")) or _positive(body.get("n_ctx")),
        total_slots=_positive(body.get("total_slots")),
        build_info=text(body.get("build_info"), MAX_VERSION),
        model_path=text(body.get("model_path"), 1000),
        is_llamacpp="default_generation_settings" in body or "build_info" in body,
        router=body.get("role") == "router",
        models_autoload=(
            body["models_autoload"] if isinstance(body.get("models_autoload"), bool) else None
        ),
        is_sleeping=body.get("is_sleeping") is True,
    )


class TgiInfo(NamedTuple):
    """What TGI's GET /info says."""

    model_id: str | None = None
    max_total_tokens: int | None = None
    version: str | None = None
    is_tgi: bool = False


def tgi_info(data: Any) -> TgiInfo:
    body = mapping(data)
    return TgiInfo(
        model_id=text(body.get("model_id"), 1000),
        max_total_tokens=_positive(body.get("max_total_tokens")),
        version=version(body),
        is_tgi=body.get("router") == "text-generation-router",
    )


def kobold_version(data: Any) -> tuple[str | None, bool | None]:
    """GET /api/extra/version → (version, protected); (None, None) if not KoboldCpp."""
    body = mapping(data)
    if body.get("result") != "KoboldCpp":
        return None, None
    protected = body.get("protected")
    return version(body), protected if isinstance(protected, bool) else None


def kobold_context(data: Any) -> int | None:
    """GET /api/extra/true_max_context_length → `{"value": N}`."""
    return _positive(mapping(data).get("value"))
