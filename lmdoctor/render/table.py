"""The remediation table: one row per finding that needs attention (all with -v), by target.

Laid out for the terminal's width (lmdoctor.render.layout): a grid when every column can hold
its longest URL, path or command, else (and always below 80 columns) stacked rows. Fields are
scrubbed (`safe`) before layout, so redaction never touches a drawn border.
"""

from __future__ import annotations

from lmdoctor import urls
from lmdoctor.findings import Finding, Severity
from lmdoctor.render import RenderOptions, all_good, safe, summary_line
from lmdoctor.render import shown as listed
from lmdoctor.render.layout import (
    MIN_GRID_COLUMNS,
    code_min_width,
    fit,
    grid,
    hanging,
    longest_atom,
    natural_width,
    terminal_columns,
    wrap,
    wrap_code,
)
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
HEADER = ("", "code", "what is wrong", "fix")


def _paint(text: str, code: str, options: RenderOptions) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if options.color else text


def _heading(result: TargetResult, options: RenderOptions, width: int) -> str:
    t = result.target
    if not t.is_endpoint:
        title = f"{safe(t.name)} (configuration)"
    else:
        model = f" → {safe(t.model_id)}" if t.model_id else ""
        title = f"{safe(t.name)}: {t.provider} {safe(urls.display(t.api_base))}{model}"
    mark = _MARKS[result.worst if result.worst > Severity.OK else Severity.OK]
    lines = wrap(f"{mark} {title}", width)
    lines[1:] = [f"  {line}" for line in lines[1:]]
    return "\n".join(_paint(line, "1", options) for line in lines)


def _cells(f: Finding, options: RenderOptions) -> tuple[str, str, str, str]:
    what = safe(f.summary) + (f"\n{safe(f.detail)}" if f.detail and options.verbose else "")
    return f.severity.label, f.code, what, safe(f.fix)


def _grid(findings: list[Finding], options: RenderOptions, columns: int) -> str | None:
    rows = [_cells(f, options) for f in findings]
    minimum = [
        max(len(r[0]) for r in rows),
        max([len(HEADER[1])] + [code_min_width(r[1]) for r in rows]),
        max([len(HEADER[2])] + [longest_atom(r[2]) for r in rows]),
        max([len(HEADER[3])] + [longest_atom(r[3]) for r in rows]),
    ]
    natural = [max(natural_width(r[i]) for r in rows) for i in range(4)]
    natural = [max(n, len(h)) for n, h in zip(natural, HEADER, strict=True)]
    # a code reads best whole; below 100 columns the text needs the room more (codes then
    # break after a dot)
    widths = fit(minimum, natural, columns, first=(0, 1) if columns >= 100 else (0,))
    if widths is None:
        return None
    cells = [
        [[r[0]], wrap_code(r[1], widths[1]), wrap(r[2], widths[2]), wrap(r[3], widths[3])]
        for r in rows
    ]
    paint = [[_COLORS[f.severity]] for f in findings] if options.color else None
    return grid(HEADER, cells, widths, paint)


def _stacked(findings: list[Finding], options: RenderOptions, columns: int) -> str:
    """One block per finding: severity and code, then what is wrong and the fix, indented."""
    blocks = []
    for f in findings:
        severity, code, what, fix = _cells(f, options)
        lines = [f"  {_paint(severity.ljust(5), _COLORS[f.severity], options)}  {code}"]
        lines += hanging("", what, columns, 9)
        if fix:
            lines += hanging("fix: ", fix, columns, 9)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _traceback(finding: Finding) -> str:
    lines = safe(finding.evidence["traceback"]).rstrip().splitlines()
    return "\n".join([f"  traceback ({finding.check}):", *(f"    {line}" for line in lines)])


def render(report: Report, options: RenderOptions) -> str:
    blocks: list[str] = []
    columns = terminal_columns()
    for result in report.results:
        shown = listed(result, options)
        if shown is None:
            continue
        blocks.append(_heading(result, options, columns))
        request = result.target.request
        if options.verbose and request is not None:  # what the client really sends
            blocks += hanging("", safe(request.sentence()), columns, 2)
            for role in request.roles:
                blocks += hanging("", safe(role), columns, 4)
            for step in request.steps:
                blocks += hanging("- ", safe(step), columns, 4)
            blocks += hanging("", f"({safe(request.client)})", columns, 4)
        if shown:
            table = _grid(shown, options, columns) if columns >= MIN_GRID_COLUMNS else None
            blocks.append(table if table is not None else _stacked(shown, options, columns))
            if options.verbose:
                blocks += [_traceback(f) for f in shown if f.evidence.get("traceback")]
        else:
            blocks.append(f"  all good ({all_good(result)}; -v shows them)")
        blocks.append("")
    if options.quiet and report.worst() < options.fail_on:
        return ""
    blocks += wrap(summary_line(report, options), columns)
    return "\n".join(blocks) + "\n"
