"""PicoClaw config.json (+ .security.yml) → Targets.  STUB: being written (issue 2)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lmdoctor.findings import Finding
from lmdoctor.redact import Secret
from lmdoctor.target import Target


class ConfigError(Exception):
    """The file cannot be used at all. str() is one line: 'path:line:column: message'."""

    def __init__(
        self, path: Path | str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path, self.message, self.line, self.column = str(path), message, line, column
        where = self.path + (f":{line}" if line else "") + (f":{column}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass
class Config:
    path: Path
    version: int
    targets: list[Target]  # one per model_list entry (and per unresolved agent reference)
    agent_models: list[str]  # model_names the agents use, in order, deduplicated
    findings: list[Finding] = field(default_factory=list)  # file-level problems

    # select() returns the chosen endpoint targets, preceded by a Target(kind="file") that
    # carries `findings` when there are any, so the config check reports them like any other.

    def select(self, names: list[str] | None = None, every: bool = False) -> list[Target]:
        raise NotImplementedError


def locate(
    explicit: str | None = None, env: Mapping[str, str] = os.environ
) -> tuple[Path | None, list[Path]]:
    """(the config file to use or None, every place looked at in order)."""
    raise NotImplementedError


def load(path: Path) -> Config:
    raise NotImplementedError


def adhoc_target(url: str, model: str | None, api_key: str | None) -> Target:
    raise NotImplementedError


_ = Secret
