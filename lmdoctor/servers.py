"""Server fingerprints and native APIs (LM Studio, Ollama, llama.cpp, vLLM, LiteLLM, ...).

STUB: the interface other modules rely on; being implemented (issue 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmdoctor.context import Ctx
    from lmdoctor.http import HttpClient
    from lmdoctor.redact import Secret


@dataclass(frozen=True)
class ServerInfo:
    """Which software answers. `kind` is a stable id used in fix texts and JSON:
    lmstudio, ollama, llamacpp, llama-cpp-python, vllm, sglang, litellm, tgi, localai,
    koboldcpp, jan, textgen, openai-compatible (unknown but speaks the API)."""

    kind: str
    name: str
    version: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelDetails:
    """What the server says about one model (None where it says nothing)."""

    id: str
    params_b: float | None = None
    active_params_b: float | None = None
    quant: str | None = None
    bpw: float | None = None
    size_bytes: int | None = None
    loaded: bool | None = None
    context_length: int | None = None  # the loaded / allocated context
    max_context_length: int | None = None
    size_vram: int | None = None  # Ollama /api/ps: bytes of the model in GPU memory


async def identify(
    http: HttpClient, base_url: str, key: Secret | None = None, key_origin: str | None = None
) -> ServerInfo | None:
    """Fingerprint whatever answers at base_url's origin; None if it is not an LLM server."""
    raise NotImplementedError


async def server_info(ctx: Ctx) -> ServerInfo | None:
    """identify() for the target, memoized per target."""
    raise NotImplementedError


async def model_ids(ctx: Ctx) -> list[str]:
    """The ids GET {api_base}/models lists, memoized per target."""
    raise NotImplementedError


async def model_details(ctx: Ctx) -> ModelDetails | None:
    """Native-API metadata for the target's model_id, memoized per target."""
    raise NotImplementedError
