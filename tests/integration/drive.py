"""Run `python -m lmdoctor ... --format json` as a user would, and read its JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integration.realserver import Netns

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@dataclass
class Run:
    rc: int
    stdout: str
    stderr: str
    data: dict[str, Any]

    @property
    def findings(self) -> list[dict[str, Any]]:
        return [f for t in self.data.get("targets", []) for f in t.get("findings", [])]

    @property
    def codes(self) -> list[str]:
        return [f["code"] for f in self.findings]

    def finding(self, code: str) -> dict[str, Any]:
        for f in self.findings:
            if f["code"] == code:
                return f
        raise AssertionError(f"no {code} in {self.codes}\nstderr: {self.stderr[-2000:]}")

    def explain(self) -> str:
        rows = [f"{f['severity']:5} {f['code']}: {f['summary']}" for f in self.findings]
        return f"exit {self.rc}\n" + "\n".join(rows) + f"\nstderr: {self.stderr[-2000:]}"


def config(tmp_path: Path, entry: dict[str, Any], keys: list[str] | None = None) -> Path:
    """A v3 PicoClaw config.json whose default agent uses one model_list entry."""
    entry = {"model_name": "local", **entry}
    if keys:
        entry["api_keys"] = keys
    doc = {
        "version": 3,
        "agents": {"defaults": {"model_name": entry["model_name"]}},
        "model_list": [entry],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


def lmdoctor(
    *args: str, netns: Netns | None = None, home: Path | None = None, timeout: float = 60
) -> Run:
    """`python -m lmdoctor ARGS --format json` in a subprocess (inside `netns` if given)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env.pop("PICOCLAW_CONFIG", None)
    env.pop("PICOCLAW_HOME", None)
    env.pop("LMDOCTOR_API_KEY", None)
    if home is not None:
        env["HOME"] = str(home)
    cmd = [sys.executable, "-m", "lmdoctor", *args, "--format", "json"]
    if netns is not None:
        cmd = netns.prefix() + cmd
    done = subprocess.run(
        cmd, capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL
    )
    try:
        data = json.loads(done.stdout)
    except ValueError:
        data = {}
    return Run(done.returncode, done.stdout, done.stderr, data)
