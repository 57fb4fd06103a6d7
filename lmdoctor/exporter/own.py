"""What the exporter says about itself: the /metrics registry and the / page."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from lmdoctor import __version__
from lmdoctor.exporter.prober import Prober
from lmdoctor.exporter.targets import TargetSet

ERROR_REASONS = ("bad_request", "unknown_target", "forbidden", "internal")


def own_metrics(targets: TargetSet, prober: Prober) -> tuple[Any, Any, Any]:
    """(registry, probes counter, errors counter): prometheus_client's process collector, our
    counters, and the state read fresh on every scrape."""
    from prometheus_client import CollectorRegistry, Counter, ProcessCollector

    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    registry.register(_StateCollector(targets, prober))  # type: ignore[arg-type]
    probes = Counter(
        "lmdoctor_exporter_probes",
        "Probes answered, by result (a shared run counts once per probe)",
        ["result"],
        registry=registry,
    )
    errors = Counter(
        "lmdoctor_exporter_probe_errors",
        "Probe requests refused or failed: " + ", ".join(ERROR_REASONS),
        ["reason"],
        registry=registry,
    )
    for result in ("success", "failure"):  # zeros from the start: rate() needs a first sample
        probes.labels(result)
    for reason in ERROR_REASONS:
        errors.labels(reason)
    return registry, probes, errors


class _StateCollector:
    """Build info, check runs and the config reload state."""

    def __init__(self, targets: TargetSet, prober: Prober) -> None:
        self.targets, self.prober = targets, prober

    def describe(self) -> list[Any]:
        return []  # collected fresh on every scrape

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        state = self.targets.state
        build = GaugeMetricFamily(
            "lmdoctor_exporter_build_info", "lmdoctor version; value 1", labels=["version"]
        )
        build.add_metric([__version__], 1)
        yield build
        yield CounterMetricFamily(
            "lmdoctor_exporter_probe_runs",
            "Check runs started (shared probes count once)",
            value=self.prober.runs,
        )
        yield GaugeMetricFamily(
            "lmdoctor_config_last_reload_successful",
            "1 when the last config (re)load succeeded; 0: the last good config is in use",
            value=1 if state.successful else 0,
        )
        yield GaugeMetricFamily(
            "lmdoctor_config_last_reload_success_timestamp_seconds",
            "When the config was last loaded successfully (unix time)",
            value=state.last_success,
        )
        yield GaugeMetricFamily(
            "lmdoctor_config_targets",
            "Target names in the config in use",
            value=len(self.targets.names()),
        )
        reloads = CounterMetricFamily(
            "lmdoctor_config_reloads", "Config reloads by result", labels=["result"]
        )
        for result, n in sorted(self.targets.reloads.items()):
            reloads.add_metric([result], n)
        yield reloads


def index_page(targets: TargetSet, prober: Prober) -> str:
    """The targets, links to their probes, and how each one's last probe ended."""
    from lmdoctor.redact import scrub

    rows = []
    for name in targets.names():
        last = prober.last.get(name)
        link = f"/probe?target={quote(name, safe='')}"
        if last is None:
            result = "not probed yet"
        else:
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(last.at))
            verdict = "success" if last.success else "failure"
            errors = ", ".join(last.errors) or "no errors"
            result = f"{verdict} at {when} in {last.duration_s:.2f} s ({errors})"
        rows.append(
            f'<tr><td><a href="{html.escape(link)}">{html.escape(name)}</a></td>'
            f"<td>{html.escape(result)}</td></tr>"
        )
    if targets.state.successful:
        reload_line = "the config loaded"
    else:
        reload_line = "the last reload FAILED: the last good config is in use (see stderr)"
    return scrub(
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>lmdoctor exporter'
        "</title></head><body>\n<h1>lmdoctor exporter</h1>\n"
        f"<p>lmdoctor {html.escape(__version__)}; {html.escape(reload_line)}. "
        '<a href="/metrics">Exporter metrics</a></p>\n'
        "<table>\n<tr><th>target</th><th>last probe</th></tr>\n"
        + "\n".join(rows)
        + "\n</table>\n</body></html>\n"
    )
