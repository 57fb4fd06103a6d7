"""Renderers turn a Report into text. They never probe, compute or decide.

Each module exposes `render(report, options) -> str`. The CLI scrubs secrets from the result
before it leaves the process.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from lmdoctor.findings import Report, Severity

MODULES = {
    "table": "lmdoctor.render.table",
    "json": "lmdoctor.render.json",
    "markdown": "lmdoctor.render.markdown",
    "junit": "lmdoctor.render.junit",
    "github": "lmdoctor.render.github",
    "report": "lmdoctor.render.report",
    "report-json": "lmdoctor.render.report",
}


@dataclass(frozen=True)
class RenderOptions:
    verbose: bool = False
    color: bool = False
    quiet: bool = False
    fail_on: Severity = Severity.ERROR
    mask_hosts: bool = False


def render(fmt: str, report: Report, options: RenderOptions) -> str:
    module = importlib.import_module(MODULES[fmt])
    if fmt == "report-json":
        return module.render_json(report, options)
    return module.render(report, options)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(report: Report, options: RenderOptions) -> str:
    """'2 errors, 1 warning, 4 ok, 3 skipped — 3 targets in 0.41 s'."""
    counts = report.summary()
    parts = [
        plural(counts["error"], "error"),
        plural(counts["warn"], "warning"),
        f"{counts['info']} info",
        f"{counts['ok']} ok",
        f"{counts['skip']} skipped",
    ]
    targets = plural(len(report.results), "target")
    return f"{', '.join(parts)} — {targets} in {report.duration_s:.2f} s"
