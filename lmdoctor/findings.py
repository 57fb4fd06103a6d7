"""Findings: the single currency between checks and output."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """Ordered so that `max()` gives the worst; SKIP ranks below everything."""

    SKIP = 0
    OK = 1
    INFO = 2
    WARN = 3
    ERROR = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


@dataclass(frozen=True)
class Finding:
    """One diagnosis: what is wrong, why we think so, and what to do.

    `evidence` holds plain data (ports, ids, timings) and never a secret.
    `check` is filled in by the runner.
    """

    code: str
    severity: Severity
    summary: str
    detail: str = ""
    fix: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    check: str = ""
    # The checks that need this one cannot run (a server still loading its model): they are
    # skipped naming this finding, whatever its severity. Not part of the report.
    blocks: bool = False

    @property
    def needs_attention(self) -> bool:
        return self.severity >= Severity.WARN

    @property
    def shown_by_default(self) -> bool:
        """Rows the table shows without -v: problems, and measurements the user asked for."""
        return self.needs_attention or self.code in ASKED_FOR


# Findings that answer an explicit request (--bench): an info row, but the user asked for it.
ASKED_FOR = frozenset({"bench.result"})


def ok(code: str, summary: str, **evidence: Any) -> Finding:
    return Finding(code, Severity.OK, summary, evidence=evidence)


def info(code: str, summary: str, detail: str = "", fix: str = "", **evidence: Any) -> Finding:
    return Finding(code, Severity.INFO, summary, detail, fix, evidence)


def warn(code: str, summary: str, detail: str = "", fix: str = "", **evidence: Any) -> Finding:
    return Finding(code, Severity.WARN, summary, detail, fix, evidence)


def error(code: str, summary: str, detail: str = "", fix: str = "", **evidence: Any) -> Finding:
    return Finding(code, Severity.ERROR, summary, detail, fix, evidence)
