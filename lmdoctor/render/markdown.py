"""Markdown: a heading with the summary, then a table per target (GitHub-flavoured).

Also the body of the GitHub step summary. Shows what the table shows: findings that need
attention, every finding with -v (detail included).
"""

from __future__ import annotations

import re

from lmdoctor import urls
from lmdoctor.findings import Finding, Severity
from lmdoctor.render import RenderOptions, all_good, safe, summary_line
from lmdoctor.render import shown as listed
from lmdoctor.results import Report, TargetResult

ICONS = {
    Severity.ERROR: "❌ error",
    Severity.WARN: "⚠️ warn",
    Severity.INFO: "ℹ️ info",
    Severity.OK: "✅ ok",
    Severity.SKIP: "⏭️ skip",
}
_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "*": "\\*", "[": "\\[", "]": "\\]",
     "`": "\\`", "\\": "\\\\", "\n": "<br>", "\r": ""}
)  # fmt: skip


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def cell(text: object) -> str:
    """Text for a table cell or a line: no HTML, links, emphasis or table breaks from a server.
    `code spans` (fix texts mark commands so) stay code; they are inert."""
    plain = safe(text)
    out, at = [], 0
    for m in _CODE_SPAN.finditer(plain):
        out.append(plain[at : m.start()].translate(_ESCAPES))
        out.append("`" + m.group(1).replace("|", "\\|") + "`")
        at = m.end()
    out.append(plain[at:].translate(_ESCAPES))
    return "".join(out)


def code(text: object) -> str:
    """Inline code; backticks inside cannot close it, pipes cannot split a table."""
    value = safe(text).replace("`", "'").replace("|", "\\|").replace("\n", " ")
    return f"`{value}`" if value else ""


def target_title(result: TargetResult) -> str:
    t = result.target
    if not t.is_endpoint:
        return f"{cell(t.name)} (configuration)"
    model = f" → {code(t.model_id)}" if t.model_id else ""
    return f"{cell(t.name)} — {cell(t.provider)} {code(urls.display(t.api_base))}{model}"


def findings_table(findings: list[Finding], options: RenderOptions) -> list[str]:
    lines = ["| | code | what is wrong | fix |", "|---|---|---|---|"]
    for f in findings:
        what = cell(f.summary)
        if options.verbose and f.detail:
            what += "<br>" + cell(f.detail)
        lines.append(f"| {ICONS[f.severity]} | {code(f.code)} | {what} | {cell(f.fix)} |")
    return lines


def _all_good(result: TargetResult) -> str:
    return f"All good: {all_good(result)}."


def render(report: Report, options: RenderOptions) -> str:
    if options.quiet and report.worst() < options.fail_on:
        return ""
    lines = [f"## lmdoctor: {cell(summary_line(report, options))}", ""]
    for result in report.results:
        shown = listed(result, options)
        if shown is None:
            continue
        worst = max(result.worst, Severity.OK)
        lines += [f"### {ICONS[worst].split()[0]} {target_title(result)}", ""]
        lines += findings_table(shown, options) if shown else [_all_good(result)]
        lines.append("")
    return "\n".join(lines)
