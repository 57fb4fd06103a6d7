"""GitHub Actions workflow commands: one annotation per finding that needs attention.

    ::error file=config.json,line=12,title=net.refused (lmstudio-local)::Nothing is listening…

error → `::error`, warn → `::warning`, info → `::notice` with -v. `file` and `line` name the
config entry when known (Target.config_path, Target.line, or a finding's evidence "line").
Values are escaped by the workflow-command rules: % CR LF in the message; also : and , in
properties. The last line is the plain summary.

`step_summary()` is the Markdown the CLI appends to $GITHUB_STEP_SUMMARY.
"""

from __future__ import annotations

from lmdoctor.findings import Finding, Severity
from lmdoctor.render import RenderOptions, markdown, safe, summary_line, workspace_path
from lmdoctor.render import shown as listed
from lmdoctor.results import Report
from lmdoctor.target import Target

LEVELS = {Severity.ERROR: "error", Severity.WARN: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, target: Target) -> str:
    level = LEVELS[finding.severity]
    properties: dict[str, object] = {}
    if target.config_path is not None:
        properties["file"] = workspace_path(target.config_path)
        line = finding.evidence.get("line", target.line)
        if isinstance(line, int) and not isinstance(line, bool) and line > 0:
            properties["line"] = line
    properties["title"] = f"{finding.code} ({target.name})"
    props = ",".join(f"{k}={escape_property(safe(v))}" for k, v in properties.items())
    message = safe(finding.summary)
    if finding.detail:
        message += "\n" + safe(finding.detail)
    if finding.fix:
        message += "\nFix: " + safe(finding.fix)
    return f"::{level} {props}::{escape_data(message)}"


def render(report: Report, options: RenderOptions) -> str:
    lines = [
        annotation(f, r.target)
        for r in report.results
        for f in (listed(r, options) or [])
        if f.severity >= Severity.INFO
    ]
    if not (options.quiet and report.worst() < options.fail_on):
        lines.append(summary_line(report, options))
    return "\n".join(lines) + "\n" if lines else ""


def step_summary(report: Report, options: RenderOptions) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY (never quiet: it is read after the run)."""
    return markdown.render(report, RenderOptions(verbose=options.verbose, fail_on=options.fail_on))
