"""Ollama (llm-servers.md §2): 11434, "Ollama is running", native /api/tags, /api/ps, /api/show."""

from __future__ import annotations

import asyncio
from typing import Any

from lmdoctor import modelids, parse, urls
from lmdoctor.http import Response
from lmdoctor.servers import localai
from lmdoctor.servers.answers import Listing, Native, Probes, Requests, body_json, ok
from lmdoctor.servers.kind import ServerKind, Signal
from lmdoctor.target import Target

TAG = "latest"  # `llama3.2` is `llama3.2:latest`

HOST_GUARD_NOTE = (
    "Ollama listening on loopback answers 403 with an empty body, before any route, to a request "
    "whose Host header is not local (localhost, a loopback or private IP, this machine's name, "
    "*.localhost, *.local, *.internal): a host alias or a reverse proxy that passes its public "
    "name reaches it with a Host it refuses"
)
HOST_GUARD_FIX = (
    "Send a local Host: point api_base at http://localhost:11434/v1 (or 127.0.0.1) instead of "
    "a host alias; behind a reverse proxy, pass `Host: localhost:11434` upstream (nginx: "
    "`proxy_set_header Host localhost:11434;`). Or make Ollama listen on all interfaces "
    "(OLLAMA_HOST=0.0.0.0:11434), which turns this check off and opens Ollama to the network. "
    "OLLAMA_ORIGINS does not help here: it lists browser origins (CORS), not Host names."
)


def explain_refusal(response: Response) -> tuple[str, str] | None:
    """Ollama checks no keys, but its allowedHostsMiddleware (ollama/ollama@fb307609
    server/routes.go:1803-1838) aborts with a bare 403 (no body) when it listens on loopback
    and the Host header is not local. (gin-contrib/cors, :1871-1874, also answers a bare 403
    to a browser Origin outside OLLAMA_ORIGINS; clients such as PicoClaw send no Origin.)"""
    if response.status == 403 and not response.body.strip():
        return "host", HOST_GUARD_NOTE
    return None


def _by_root(response: Response) -> str | None:
    if response.text[:100].strip().startswith("Ollama is running"):
        return 'GET / answers "Ollama is running"'
    return None


def _by_listing(models: list[parse.ListedModel]) -> str | None:
    if all(":" in m.id and m.created is not None and m.owned_by for m in models):
        return "/v1/models ids carry :tags"
    return None


def _by_probe(probe: Probes) -> str | None:
    return "/api/version answers {version}" if parse.version(probe.js("/api/version")) else None


def _version(probe: Probes) -> str | None:
    return parse.version(probe.data("/api/version"))


def _settle(probe: Probes, signals: list[str]) -> str:
    return localai.unmasked(probe, signals) or "ollama"


async def native(fetch: Requests, root: str, listing: Listing, model_id: str) -> Native:
    tags, ps, show = await asyncio.gather(
        fetch.get(urls.with_path(root, "/api/tags")),
        fetch.get(urls.with_path(root, "/api/ps")),
        fetch.send("POST", urls.with_path(root, "/api/show"), body={"model": model_id}),
    )
    downloaded = parse.ollama_models(body_json(tags), running=False) if ok(tags) else []
    running = parse.ollama_models(body_json(ps), running=True) if ok(ps) else []
    facts = parse.ollama_show(body_json(show)) if ok(show) else parse.OllamaShow()
    merged = []
    for model in downloaded or running:
        live = next((r for r in running if modelids.same_model(model.id, r.id, TAG)), None)
        mine = modelids.same_model(model.id, model_id, TAG)
        total, active = parse.params_b(facts.params_label) if mine else (None, None)
        counted = facts.parameter_count / 1e9 if mine and facts.parameter_count else None
        merged.append(
            parse.ModelFacts(
                id=model.id,
                aliases=model.aliases,
                loaded=live is not None if ok(ps) else None,
                context_length=(live.context_length if live else None)
                or (facts.num_ctx if mine else None),
                max_context_length=facts.trained_context if mine else None,
                size_bytes=model.size_bytes if downloaded else None,
                size_loaded=live.size_bytes if live else None,
                size_vram=live.size_vram if live else None,
                params_b=counted or total or model.params_b,
                active_params_b=active or model.active_params_b,
                quant=model.quant or (facts.quant if mine else None),
            )
        )
    source = "Ollama /api/tags + /api/ps + /api/show"
    return Native(source, tuple(merged), complete=ok(tags))


def bench_request(
    target: Target, messages: list[dict[str, str]], max_tokens: int
) -> tuple[str, dict[str, Any]]:
    """Its native /api/chat: the final NDJSON line carries eval_count/eval_duration."""
    url = urls.with_path(target.api_base, "/api/chat")
    options = {"num_predict": max_tokens, "temperature": 0}
    body = {"model": target.model_id, "messages": messages, "stream": True}
    return url, {**body, "options": options}


KIND = ServerKind(
    id="ollama",
    name="Ollama",
    ref="§2",
    get_key=(
        "Ollama itself checks no keys: this refusal comes from a reverse proxy or gateway "
        "in front of it (or ollama.com for cloud models). Use that proxy's key, or "
        "point api_base at Ollama directly (http://localhost:11434/v1)."
    ),
    add_model="Run `ollama pull {id}` on the Ollama machine.",
    load_model=(
        "Ollama loads it on the first request; `ollama run {id} ''` loads it now, and "
        "OLLAMA_KEEP_ALIVE keeps it loaded."
    ),
    context=(
        "Start Ollama with OLLAMA_CONTEXT_LENGTH={n}, or put `PARAMETER num_ctx {n}` "
        "in a Modelfile and `ollama create` a variant."
    ),
    start="Start Ollama (`ollama serve`, the Ollama app, or `systemctl start ollama`)",
    open_to_lan="Set OLLAMA_HOST=0.0.0.0:11434 for the Ollama service and restart it "
    '(systemd: `systemctl edit ollama` → Environment="OLLAMA_HOST=0.0.0.0:11434"; '
    "macOS: `launchctl setenv OLLAMA_HOST 0.0.0.0:11434`)",
    # Windows and macOS run the Ollama app (docs/faq.md "How do I configure Ollama server?":
    # quit it from the tray/menu bar, set OLLAMA_HOST for the user, start it again; its
    # Settings → "Expose Ollama to the network" does the same)
    start_on={
        "Windows": "Start Ollama (the Ollama app from the Start menu, or `ollama serve`)",
        "Darwin": "Start Ollama (the Ollama app, or `ollama serve`)",
    },
    open_to_lan_on={
        "Windows": 'In the Ollama app turn on Settings → "Expose Ollama to the network"; or quit '
        "Ollama from the tray icon, set the user environment variable OLLAMA_HOST=0.0.0.0:11434 "
        "(`setx OLLAMA_HOST 0.0.0.0:11434`) and start Ollama again",
        "Darwin": 'In the Ollama app turn on Settings → "Expose Ollama to the network"; or '
        "`launchctl setenv OLLAMA_HOST 0.0.0.0:11434` and restart the Ollama app",
    },
    forbidden=HOST_GUARD_FIX,
    explain_refusal=explain_refusal,
    none_loaded="Ollama has no model downloaded",
    loads_on_request=(
        "Ollama loads it on the first request, which waits for the load (cold loads often take "
        "30 s and more) and unloads it again after OLLAMA_KEEP_ALIVE (5 min)"
    ),
    default_tag=TAG,
    ports=(11434,),
    names_port=True,
    usual_port=11434,
    short="Ollama",
    processes=("ollama",),
    providers=("ollama",),
    signals=(
        Signal("root", 10, _by_root),
        Signal("listing", 20, _by_listing),
        Signal("probe", 80, _by_probe),
    ),
    probes=("/api/version",),
    follow_ups=("/api/version", "/readyz", "/.well-known/localai.json"),
    version=_version,
    settle=_settle,
    native=native,
    bench_request=bench_request,
)
