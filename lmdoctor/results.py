"""What a run found: per target (TargetResult) and overall (Report), for the renderers.

Above findings and target (it pairs them), so neither of those imports the other's results.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from lmdoctor.findings import Finding, Severity
from lmdoctor.target import Target


@dataclass
class TargetResult:
    """One target's findings, and how long its checks took."""

    target: Target
    findings: list[Finding]
    duration_s: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # check id -> seconds, checks run

    @property
    def worst(self) -> Severity:
        return max((f.severity for f in self.findings), default=Severity.OK)


@dataclass
class Report:
    """A whole run: every target's result, the hardware snapshot and facts for the report."""

    results: list[TargetResult]
    hardware: dict[str, Any] | None = None
    duration_s: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def summary(self) -> dict[str, int]:
        counts = Counter(f.severity.label for f in self.findings)
        return {s.label: counts.get(s.label, 0) for s in reversed(Severity)}

    def worst(self) -> Severity:
        return max((r.worst for r in self.results), default=Severity.OK)
