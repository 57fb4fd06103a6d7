"""The remediation table: one row per finding that needs attention (all with -v), by target."""

from __future__ import annotations

import shutil

from tabulate import tabulate

from lmdoctor import urls
from lmdoctor.findings import Finding, Severity
from lmdoctor.render import RenderOptions, safe, summary_line
from lmdoctor.results import Report, TargetResult

_COLORS = {
    Severity.ERROR: "31",
    Severity.WARN: "33",
    Severity.INFO: "36",
    Severity.OK: "32",
    Severity.SKIP: "90",
}
_MARKS = {
    Severity.ERROR: "✗",
    Severity.WARN: "!",
    Severity.INFO: "i",
    Severity.OK: "✓",
    Severity.SKIP: "-",
}


def _paint(text: str, code: str, options: RenderOptions) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if options.color else text


def _heading(result: TargetResult, options: RenderOptions) -> str:
    t = result.target
    if not t.is_endpoint:
        title = f"{safe(t.name)} (configuration)"
    else:
        model = f" → {safe(t.model_id)}" if t.model_id else ""
        title = f"{safe(t.name)}: {t.provider} {safe(urls.display(t.api_base))}{model}"
    mark = _MARKS[result.worst if result.worst > Severity.OK else Severity.OK]
    return _paint(f"{mark} {title}", "1", options)


def _rows(findings: list[Finding], options: RenderOptions) -> list[list[str]]:
    rows = []
    for f in findings:
        severity = _paint(f.severity.label, _COLORS[f.severity], options)
        what = safe(f.summary) + (f"\n{safe(f.detail)}" if f.detail and options.verbose else "")
        rows.append([severity, f.code, what, safe(f.fix)])
    return rows


def _widths() -> list[int]:
    columns = max(80, min(shutil.get_terminal_size((120, 24)).columns, 200))
    free = columns - 8 - 26 - 12  # severity, code, borders
    return [7, 26, max(24, free * 5 // 11), max(24, free * 6 // 11)]


def _traceback(finding: Finding) -> str:
    lines = safe(finding.evidence["traceback"]).rstrip().splitlines()
    return "\n".join([f"  traceback ({finding.check}):", *(f"    {line}" for line in lines)])


def render(report: Report, options: RenderOptions) -> str:
    blocks: list[str] = []
    widths = _widths()
    for result in report.results:
        shown = [f for f in result.findings if options.verbose or f.needs_attention]
        if options.quiet and not shown:
            continue
        blocks.append(_heading(result, options))
        request = result.target.request
        if options.verbose and request is not None:  # what the client really sends
            blocks.append(f"  {safe(request.sentence())}")
            blocks += [f"    {safe(role)}" for role in request.roles]
            blocks += [f"    - {safe(step)}" for step in request.steps]
            blocks.append(f"    ({safe(request.client)})")
        if shown:
            table = tabulate(
                _rows(shown, options),
                headers=["", "code", "what is wrong", "fix"],
                tablefmt="simple_grid",
                maxcolwidths=widths,
            )
            blocks.append(table)
            if options.verbose:
                blocks += [_traceback(f) for f in shown if f.evidence.get("traceback")]
        else:
            passed = sum(1 for f in result.findings if f.severity is Severity.OK)
            notes = sum(1 for f in result.findings if f.severity is Severity.INFO)
            blocks.append(f"  all good ({passed} checks passed, {notes} notes; -v shows them)")
        blocks.append("")
    if options.quiet and report.worst() < options.fail_on:
        return ""
    blocks.append(summary_line(report, options))
    return "\n".join(blocks) + "\n"
