"""Renderers turn a Report into text. They never probe, compute or decide.

Each module exposes `render(report, options) -> str`. The CLI scrubs secrets from the result
before it leaves the process.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import NamedTuple

from lmdoctor.findings import Finding, Severity
from lmdoctor.redact import scrub
from lmdoctor.results import Report, TargetResult

MODULES = {
    "table": "lmdoctor.render.table",
    "json": "lmdoctor.render.json",
    "markdown": "lmdoctor.render.markdown",
    "junit": "lmdoctor.render.junit",
    "github": "lmdoctor.render.github",
    "openmetrics": "lmdoctor.render.openmetrics",
    "report": "lmdoctor.render.report",
    "report-json": "lmdoctor.render.report",
}


# NamedTuple, not a frozen dataclass: the same immutable value, cheaper to define (NOTES, 13)
class RenderOptions(NamedTuple):
    """How to render a report (the check command's flags)."""

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


def shown(result: TargetResult, options: RenderOptions) -> list[Finding] | None:
    """The findings a human-readable format lists for a target; None: leave the target out
    (with -q, a target below --fail-on is not a problem and is not printed)."""
    if options.quiet and result.worst < options.fail_on:
        return None
    return [f for f in result.findings if options.verbose or f.shown_by_default]


def all_good(result: TargetResult) -> str:
    """'3 checks passed, 1 note' for a target with nothing to show."""
    passed = sum(1 for f in result.findings if f.severity is Severity.OK)
    notes = sum(1 for f in result.findings if f.severity is Severity.INFO)
    return f"{plural(passed, 'check')} passed, {plural(notes, 'note')}"


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


# C0 controls but tab and newline, DEL, C1: a server's text must not drive the terminal
# (escape sequences) nor break XML 1.0.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


def safe(text: object) -> str:
    """Text from a finding, scrubbed and without control characters: call it on every field
    before a format escapes it (escaping could hide a secret from the final scrub)."""
    return _CONTROL.sub("", scrub(str(text))) if text is not None else ""


def by_check(result: TargetResult) -> list[tuple[str, list[Finding]]]:
    """(check id, its findings) for every check that ran or was skipped, in run order."""
    groups: dict[str, list[Finding]] = {}
    for finding in result.findings:
        groups.setdefault(finding.check or finding.code.split(".")[0], []).append(finding)
    for check_id in result.timings:
        groups.setdefault(check_id, [])
    return list(groups.items())


def workspace_path(path: Path) -> str:
    """A config path relative to the working directory when inside it: CI annotations and
    JUnit `file` attributes link to repository files by relative path."""
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return str(path)
    return path.as_posix()
