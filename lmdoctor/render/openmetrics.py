"""OpenMetrics output: a Report as probe metrics, for Prometheus (`lmdoctor serve`) and for
node_exporter's textfile collector (`lmdoctor check --format openmetrics`).

Every family is a gauge, and info-style series are gauges named `*_info` with the value 1: that
text is valid OpenMetrics 1.0 *and* the classic Prometheus text format, which node_exporter's
textfile collector and `promtool check metrics` parse (both reject the OpenMetrics `info` type).

Labels carry no free text: the target label, check ids, finding codes, severities, the server's
kind and version, phase names. No host beyond the target label, never a key. Model facts come
from findings' evidence only (the Report), not from server internals.

prometheus_client is imported inside the functions: the CLI imports this module only to render.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from lmdoctor.findings import Finding, Severity
from lmdoctor.render import RenderOptions, safe
from lmdoctor.results import Report, TargetResult

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

# The network check's timing evidence (`<phase>_ms`), in probe order (lmdoctor/net.py).
PHASES = ("resolve", "connect", "tls", "first_byte")
# A finding code or check id as a label: anything else (a plug-in's odd id) is not shown as is.
_TOKEN = re.compile(r"[A-Za-z0-9_.:*-]{1,100}")
_LABEL_MAX = 128
NOT_SERVED = ("model.not_found", "model.none_loaded", "model.mismatch", "model.not_loaded")
NOT_LOADED = ("model.not_loaded", "model.none_loaded", "model.not_found")


def _token(text: str) -> str:
    return text if _TOKEN.fullmatch(text) else "invalid"


def _label(text: object) -> str:
    """A label value: scrubbed, no control characters, bounded."""
    return safe(text)[:_LABEL_MAX]


def target_labels(results: list[TargetResult]) -> list[str]:
    """One distinct `target` label per result: the name, plus the entry when names repeat
    (PicoClaw allows several model_list entries with one model_name)."""
    counts = Counter(r.target.name for r in results)
    labels: list[str] = []
    for r in results:
        name = r.target.name
        if counts[name] > 1:
            name = f"{name} {r.target.entry or len(labels)}"
        labels.append(_label(name))
    return labels


def _evidence(findings: list[Finding], code: str, key: str) -> Any:
    for f in findings:
        if f.code == code and f.evidence.get(key) is not None:
            return f.evidence[key]
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def phase_seconds(findings: list[Finding]) -> dict[str, float]:
    """resolve/connect/tls/first_byte in seconds, from the network check's evidence."""
    for f in findings:
        if f.check != "network":
            continue
        found = {p: _number(f.evidence.get(f"{p}_ms")) for p in PHASES}
        if any(v is not None for v in found.values()):
            return {p: v / 1000 for p, v in found.items() if v is not None}
    return {}


def model_facts(findings: list[Finding]) -> dict[str, float]:
    """served / loaded / context_tokens, where the models check said so (absent otherwise).
    `loaded` is 1 when the id is served and not reported unloaded (listing-only servers such as
    vLLM or llama.cpp list only what they have loaded)."""
    codes = {f.code for f in findings}
    facts: dict[str, float] = {}
    if "model.ok" in codes:
        facts["served"] = 1
    elif codes.intersection(NOT_SERVED):
        facts["served"] = 0
    if codes.intersection(NOT_LOADED):
        facts["loaded"] = 0
    elif "model.ok" in codes:
        facts["loaded"] = 0 if _evidence(findings, "model.ok", "loaded") is False else 1
    context = _number(_evidence(findings, "model.ok", "context_tokens"))
    if context is None:
        context = _number(_evidence(findings, "model.context_too_small", "loaded_context"))
    if context is not None:
        facts["context_tokens"] = context
    return facts


def probe_success(result: TargetResult) -> bool:
    return result.worst < Severity.ERROR


def families(report: Report) -> Iterator[Metric]:
    """The probe families for every target of `report`."""
    from prometheus_client.core import GaugeMetricFamily

    labels = target_labels(report.results)

    def gauge(name: str, doc: str, more: tuple[str, ...] = ()) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=("target", *more))

    success = gauge("lmdoctor_probe_success", "1 when no finding of the target is an error")
    duration = gauge("lmdoctor_probe_duration_seconds", "How long the checks of the target took")
    phases = gauge(
        "lmdoctor_probe_phase_duration_seconds",
        "Network probe phases: resolve, connect, tls, first_byte",
        ("phase",),
    )
    counts = gauge("lmdoctor_findings", "Findings of the target by severity", ("severity",))
    each = gauge(
        "lmdoctor_finding_info",
        "One series per finding (code, severity, check); value 1",
        ("code", "severity", "check"),
    )
    served = gauge("lmdoctor_model_served", "1 when the model id the client sends is served")
    loaded = gauge("lmdoctor_model_loaded", "1 when the model is served and not reported unloaded")
    context = gauge("lmdoctor_model_context_tokens", "Context the model is loaded with, tokens")
    server = gauge(
        "lmdoctor_server_info", "The server software that answers; value 1", ("kind", "version")
    )
    first = gauge("lmdoctor_bench_first_token_seconds", "--bench: time to the first token")
    tps = gauge("lmdoctor_bench_tokens_per_second", "--bench: measured decode tokens/s")
    expected = gauge(
        "lmdoctor_estimate_tokens_per_second", "Estimated decode tokens/s on this hardware"
    )

    for label, result in zip(labels, report.results, strict=True):
        found = result.findings
        success.add_metric([label], 1 if probe_success(result) else 0)
        duration.add_metric([label], round(result.duration_s, 6))
        for phase, seconds in phase_seconds(found).items():
            phases.add_metric([label, phase], round(seconds, 6))
        by_severity = Counter(f.severity.label for f in found)
        for severity in reversed(Severity):
            counts.add_metric([label, severity.label], by_severity.get(severity.label, 0))
        seen: set[tuple[str, str, str]] = set()
        for f in found:
            key = (_token(f.code), f.severity.label, _token(f.check or f.code.split(".")[0]))
            if key not in seen:  # one series per distinct label set
                seen.add(key)
                each.add_metric([label, *key], 1)
        facts = model_facts(found)
        for family, name in ((served, "served"), (loaded, "loaded"), (context, "context_tokens")):
            if name in facts:
                family.add_metric([label], facts[name])
        kind = _evidence(found, "server.identified", "kind")
        if kind:
            version = _evidence(found, "server.identified", "version") or ""
            server.add_metric([label, _token(str(kind)), _label(version)[:64]], 1)
        for family, code, field in (
            (first, "bench.result", "ttft_s"),
            (tps, "bench.result", "decode_tps"),
            (expected, "capacity.estimate", "decode_tps"),
        ):
            value = _number(_evidence(found, code, field))
            if value is None and family is expected:
                value = _number(_evidence(found, "bench.below_estimate", "expected_decode_tps"))
            if value is not None:
                family.add_metric([label], value)

    yield from (success, duration, phases, counts, each, served, loaded, context, server)
    yield from (first, tps, expected)


class ReportCollector:
    """A prometheus_client collector over one Report (a fresh registry per exposition)."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        return families(self.report)


def exposition(
    report: Report,
    accept: str | None = "application/openmetrics-text",
) -> tuple[bytes, str]:
    """(body, content type) for an Accept header: OpenMetrics when asked, else classic text."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import choose_encoder

    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReportCollector(report))  # type: ignore[arg-type]
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def render(report: Report, options: RenderOptions) -> str:
    body, _ = exposition(report)
    return body.decode("utf-8")
