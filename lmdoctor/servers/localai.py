"""LocalAI (llm-servers.md §9): imitates Ollama's root and /api/version; /readyz gives it away."""

from __future__ import annotations

from lmdoctor import parse
from lmdoctor.servers.answers import Probes, Refusal
from lmdoctor.servers.kind import ServerKind, Signal

WEAK = "only id and object"  # the listing signal alone does not confirm LocalAI


def _own(probe: Probes) -> bool:
    return probe.ok("/readyz") or probe.ok("/.well-known/localai.json")


def unmasked(probe: Probes, signals: list[str]) -> str | None:
    """ "localai" when the probes show LocalAI behind another server's signals."""
    if _own(probe):
        signals.append("/readyz or /.well-known/localai.json answers: LocalAI (it imitates Ollama)")
        return "localai"
    return None


def _settle(probe: Probes, signals: list[str]) -> str:
    if unmasked(probe, signals):
        return "localai"
    if len(signals) == 1 and WEAK in signals[0]:
        return "openai-compatible"  # the weak LocalAI signal was not confirmed
    return "localai"


def _by_listing(models: list[parse.ListedModel]) -> str | None:
    if all(m.fields <= {"id", "object"} for m in models):
        return f"/v1/models entries carry {WEAK}"
    return None


def _by_denial(answer: Refusal) -> str | None:
    if "An authentication key is required" in answer.err.message:
        return f"{answer.status} body: {answer.quote}"
    return None


def _by_probe(probe: Probes) -> str | None:
    if _own(probe) and (probe.js("/api/version") or probe.js("/version")):
        return "/readyz or /.well-known/localai.json answers (LocalAI)"
    return None


def _version(probe: Probes) -> str | None:
    return parse.version(probe.data("/version"))


KIND = ServerKind(
    id="localai",
    name="LocalAI",
    ref="§9",
    get_key="The key is one of LOCALAI_API_KEY / --api-keys of the LocalAI server.",
    add_model=("Install it (`local-ai models install {id}` or the gallery), or use a listed name."),
    context="Set `context_size: {n}` in the model's YAML and restart LocalAI.",
    # No default tag on the OpenAI API: the model check wants the exact name (mudler/LocalAI
    # @82c191a core/http/middleware/request.go:156-168, 404 "model \"x\" not found"); only
    # its Ollama /api/tags shows names with ":latest" added (endpoints/ollama/models.go:28-31).
    ports=(8080, 8081, 8888),  # 8081 and 8888: the usual alternates when 8080 is taken
    signals=(
        Signal("listing", 10, _by_listing),
        Signal("denial", 40, _by_denial),
        Signal("probe", 70, _by_probe),
    ),
    probes=("/readyz", "/.well-known/localai.json", "/api/version", "/version"),
    follow_ups=("/version", "/readyz", "/.well-known/localai.json"),
    version_probe="/version",
    version=_version,
    settle=_settle,
)
