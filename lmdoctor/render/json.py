"""JSON output, schema_version 1 (DESIGN.md; the JSON Schema is lmdoctor/report.schema.json).

Every string is scrubbed here (`scrub_data`): evidence may quote a server's answer, and JSON
escaping would otherwise hide a secret from the CLI's final scrub of the text.
"""

from __future__ import annotations

import json
from typing import Any

from lmdoctor import __version__
from lmdoctor.findings import Finding
from lmdoctor.redact import scrub_data, scrub_evidence
from lmdoctor.render import RenderOptions
from lmdoctor.results import Report, TargetResult

SCHEMA_VERSION = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "severity": finding.severity.label,
        "check": finding.check,
        "summary": finding.summary,
        "detail": finding.detail,
        "fix": finding.fix,
        "evidence": scrub_evidence(finding.evidence),
    }


def target_dict(result: TargetResult) -> dict[str, Any]:
    t = result.target
    return {
        "name": t.name,
        "provider": t.provider if t.is_endpoint else None,
        "api_base": t.api_base or None,
        "model_id": t.model_id or None,
        "kind": t.kind,
        "entry": t.entry or None,
        "line": t.line,
        "sources": t.sources,
        "request": t.request.as_dict() if t.request else None,
        "duration_s": round(result.duration_s, 3),
        "timings": {check: round(s, 3) for check, s in result.timings.items()},
        "findings": [finding_dict(f) for f in result.findings],
    }


def as_data(report: Report, options: RenderOptions) -> dict[str, Any]:
    return scrub_data(
        {
            "schema_version": SCHEMA_VERSION,
            "lmdoctor_version": __version__,
            "ok": report.worst() < options.fail_on,
            "summary": report.summary(),
            "targets": [target_dict(r) for r in report.results],
            "hardware": report.hardware,
            "duration_s": round(report.duration_s, 3),
        }
    )


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, default=str) + "\n"


def render(report: Report, options: RenderOptions) -> str:
    return dumps(as_data(report, options))
