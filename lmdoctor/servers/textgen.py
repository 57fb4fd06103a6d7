"""text-generation-webui (llm-servers.md §12): API on 5000, lists the loaded model, Host guard."""

from __future__ import annotations

import json

from lmdoctor import parse
from lmdoctor.servers.answers import Probes, Refusal, loaded_listing
from lmdoctor.servers.kind import ServerKind, Signal

REFUSALS = ({"detail": "Unauthorized"}, {"detail": "Invalid host header"})


def _by_model(m: parse.ListedModel) -> str | None:
    if m.owned_by == "user" and m.created == 0:
        return f'/v1/models owned_by "user", created {m.created}'
    return None


def _by_denial(answer: Refusal) -> str | None:
    if answer.body in REFUSALS:
        return f"{answer.status} body {json.dumps(answer.body)}"
    return None


def _by_probe(probe: Probes) -> str | None:
    # response_model=ModelInfoResponse keeps only model_name and lora_names: FastAPI drops the
    # `loader` that get_current_model_info() returns (oobabooga/text-generation-webui@1dcde41
    # modules/api/script.py:463, modules/api/typing.py:263-265, modules/api/models.py:9-14).
    if {"model_name", "lora_names"} <= probe.js("/v1/internal/model/info").keys():
        return "/v1/internal/model/info has model_name and lora_names"
    return None


KIND = ServerKind(
    id="textgen",
    name="text-generation-webui",
    ref="§12",
    get_key="The key is the `--api-key` text-generation-webui was started with.",
    auth_off="Or restart it without --api-key.",
    add_model=(
        "Load it in the Model tab or start with `--model {id}` (the API lists the "
        "loaded model only)."
    ),
    load_model="Load it in the Model tab (the API serves the loaded model only).",
    context=("Reload it with a context ≥ {n} (ctx-size / n_ctx / max_seq_len) in the Model tab."),
    forbidden=(
        "Start it with `--listen` (without it the API accepts only Host: localhost or 127.0.0.1)."
    ),
    open_to_lan="Restart text-generation-webui with `--listen`",
    ports=(5000,),
    signals=(
        Signal("model", 20, _by_model),
        Signal("denial", 90, _by_denial),
        Signal("probe", 50, _by_probe),
    ),
    probes=("/v1/internal/model/info",),
    native=loaded_listing,
    # the requested `model` is popped and ignored; the loaded model answers every id
    # (modules/api/completions.py:586 and :839 @1dcde41)
    accepts_any_model=True,
)
