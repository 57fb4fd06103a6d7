"""SGLang (llm-servers.md §6): 30000, owned_by "sglang", /get_model_info, /get_server_info."""

from __future__ import annotations

from lmdoctor import parse
from lmdoctor.servers.answers import Probes
from lmdoctor.servers.kind import ServerKind, Signal


def _by_probe(probe: Probes) -> str | None:
    return "/get_model_info has model_path" if "model_path" in probe.js("/get_model_info") else None


def _version(probe: Probes) -> str | None:
    return parse.version(probe.data("/get_server_info"))


KIND = ServerKind(
    id="sglang",
    name="SGLang",
    ref="§6",
    get_key="The key is the `--api-key` given to the SGLang server.",
    auth_off="Or restart it without --api-key.",
    add_model="Restart with `--served-model-name {id}`, or use the id it lists.",
    context="Restart it with `--context-length {n}`.",
    ports=(30000,),
    owned_by="sglang",
    signals=(Signal("probe", 60, _by_probe),),
    probes=("/get_model_info",),
    follow_ups=("/get_server_info",),
    version=_version,
    # An id without ":" is never compared with the served name: the loaded model answers it;
    # "base:adapter" picks a LoRA adapter (sglang 0.5.23, srt/entrypoints/openai/
    # serving_base.py:40-60 _parse_model_parameter; sgl-project/sglang#7035, #9294).
    accepts_any_model=True,
)
