"""JUnit XML: one <testsuite> per target, one <testcase> per check.

The shape is the one GitHub (dorny/test-reporter, mikepenz/action-junit-report), GitLab
(`artifacts: reports: junit:`) and Jenkins read: <testsuites> and <testsuite> carry name, tests,
failures, errors, skipped and time; <testcase> carries classname, name and time, plus file and
line (the config entry) when known, as pytest's xunit1 flavour does.

A check's testcase, by its worst finding:
- error → <failure message=summary type=code>; a crashed check (internal.*) → <error>;
- warn  → passes, with <system-out> and a `lmdoctor.warning` property naming the codes;
          with --fail-on warn it is a <failure> instead;
- skip  → <skipped message="…not run, because …">;
- ok, info → passes.
<system-out> lists the findings not already in a <failure>/<error> (severity, code, summary,
detail, fix; evidence for warn and error).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

from lmdoctor import urls
from lmdoctor.findings import Finding, Severity
from lmdoctor.redact import scrub_evidence
from lmdoctor.render import RenderOptions, by_check, safe, workspace_path
from lmdoctor.results import Report, TargetResult


def _describe(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        lines.append(f"[{f.severity.label}] {f.code}: {_indented(f.summary)}")
        if f.detail:
            lines.append(f"  {_indented(f.detail)}")
        if f.fix:
            lines.append(f"  fix: {_indented(f.fix)}")
        if f.evidence and f.severity >= Severity.WARN:
            evidence = json.dumps(scrub_evidence(f.evidence), default=str, sort_keys=True)
            lines.append(f"  evidence: {safe(evidence)}")
    return "\n".join(lines)


def _indented(text: str) -> str:
    return safe(text).replace("\n", "\n  ")


def classname(name: str) -> str:
    """`lmdoctor.<target>` with every character but letters, digits, _ and - made `_`: readers
    split classnames at dots, and a URL target (`http://127.0.0.1:8080/v1`) has dots, colons
    and slashes alike."""
    return "lmdoctor." + (re.sub(r"[^A-Za-z0-9_-]+", "_", safe(name)).strip("_") or "target")


def _testcase(
    suite: ET.Element,
    result: TargetResult,
    check_id: str,
    findings: list[Finding],
    options: RenderOptions,
) -> str:
    """Append one testcase; return its outcome: passed, failure, error or skipped."""
    case = ET.SubElement(
        suite,
        "testcase",
        classname=classname(result.target.name),
        name=check_id,
        time=f"{result.timings.get(check_id, 0.0):.3f}",
    )
    if result.target.config_path is not None:  # GitLab and action-junit-report link these
        case.set("file", workspace_path(result.target.config_path))
        if result.target.line:
            case.set("line", str(result.target.line))
    worst = max((f.severity for f in findings), default=Severity.OK)
    problems = [f for f in findings if f.severity is worst]
    outcome = "passed"
    if worst is Severity.ERROR or (worst is Severity.WARN and options.fail_on <= Severity.WARN):
        crashed = all(f.code.startswith("internal.") for f in problems)
        outcome = "error" if crashed else "failure"
        element = ET.SubElement(
            case, outcome, message=safe(problems[0].summary), type=problems[0].code
        )
        element.text = _describe([f for f in findings if f.needs_attention])
        findings = [f for f in findings if not f.needs_attention]  # the rest, for system-out
    elif worst is Severity.WARN:
        properties = ET.SubElement(case, "properties")
        codes = ",".join(dict.fromkeys(f.code for f in problems))
        ET.SubElement(properties, "property", name="lmdoctor.warning", value=codes)
    elif worst is Severity.SKIP:
        ET.SubElement(case, "skipped", message=safe(problems[0].summary))
        outcome = "skipped"
    if findings:
        ET.SubElement(case, "system-out").text = _describe(findings)
    return outcome


def _suite(parent: ET.Element, result: TargetResult, options: RenderOptions) -> Counter[str]:
    t = result.target
    suite = ET.SubElement(parent, "testsuite", name=safe(t.name))
    properties = ET.SubElement(suite, "properties")
    facts = {
        "provider": t.provider if t.is_endpoint else "",
        "api_base": urls.display(t.api_base) if t.api_base else "",
        "model_id": t.model_id,
        "config": t.where if t.config_path else "",
    }
    for name, value in facts.items():
        if value:
            ET.SubElement(properties, "property", name=name, value=safe(value))
    counts: Counter[str] = Counter()
    for check_id, findings in by_check(result):
        counts[_testcase(suite, result, check_id, findings, options)] += 1
        counts["tests"] += 1
    _set_counts(suite, counts, result.duration_s)
    return counts


def _set_counts(element: ET.Element, counts: Counter[str], seconds: float) -> None:
    element.set("tests", str(counts["tests"]))
    element.set("failures", str(counts["failure"]))
    element.set("errors", str(counts["error"]))
    element.set("skipped", str(counts["skipped"]))
    element.set("time", f"{seconds:.3f}")


def render(report: Report, options: RenderOptions) -> str:
    root = ET.Element("testsuites", name="lmdoctor")
    total: Counter[str] = Counter()
    for result in report.results:
        total += _suite(root, result, options)
    _set_counts(root, total, report.duration_s)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
