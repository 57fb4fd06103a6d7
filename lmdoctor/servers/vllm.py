"""vLLM (llm-servers.md §5): 8000, owned_by "vllm", max_model_len, GET /version from uvicorn."""

from __future__ import annotations

from lmdoctor import parse
from lmdoctor.servers.answers import Probes
from lmdoctor.servers.kind import ServerKind, Signal


def _by_probe(probe: Probes) -> str | None:
    if parse.version(probe.js("/version")) and "uvicorn" in probe.header("/version", "server"):
        return "/version answers {version} from uvicorn"
    return None


def version(probe: Probes) -> str | None:
    return parse.version(probe.data("/version"))


KIND = ServerKind(
    id="vllm",
    name="vLLM",
    ref="§5",
    get_key="The key is the `--api-key` (or VLLM_API_KEY) given to `vllm serve`.",
    auth_off="Or restart vllm serve without --api-key / VLLM_API_KEY.",
    add_model=(
        "vLLM answers only to the name it serves: restart with "
        "`--served-model-name {id}`, or use the id it lists."
    ),
    context="Restart `vllm serve` with `--max-model-len {n}` (if memory allows).",
    start="Start vLLM (`vllm serve MODEL --port PORT`)",
    ports=(8000,),
    usual_port=8000,
    short="vLLM",
    providers=("vllm",),
    owned_by="vllm",
    signals=(Signal("probe", 100, _by_probe),),
    probes=("/version",),
    follow_ups=("/version",),
    version=version,
)
