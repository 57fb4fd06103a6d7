"""Checking expositions with the real engine's tools: `promtool check metrics` (Debian package
`prometheus`) and prometheus_client's strict OpenMetrics parser.

Without promtool the check SKIPS; with LMDOCTOR_REQUIRE_INTEGRATION=1 (CI) it FAILS instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REQUIRED = os.environ.get("LMDOCTOR_REQUIRE_INTEGRATION") == "1"


def tool(name: str) -> str:
    """The path of a Prometheus binary (promtool, prometheus), or skip / fail."""
    found = shutil.which(name)
    if found is None:
        reason = f"`{name}` is not installed (apt-get install prometheus)"
        if REQUIRED:
            pytest.fail(f"LMDOCTOR_REQUIRE_INTEGRATION=1 but: {reason}", pytrace=False)
        pytest.skip(reason)
    return found


def promtool_check(text: str) -> None:
    """`promtool check metrics` must accept `text` with no lint problem."""
    done = subprocess.run(
        [tool("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, f"promtool check metrics:\n{done.stdout}{done.stderr}\n{text}"


def openmetrics(text: str) -> dict[str, list[Any]]:
    """Family name -> samples, parsed strictly as OpenMetrics 1.0 (raises on any error)."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    return {f.name: list(f.samples) for f in text_string_to_metric_families(text)}


def classic(text: str) -> dict[str, list[Any]]:
    """Family name -> samples, parsed as the classic Prometheus text format."""
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: list(f.samples) for f in text_string_to_metric_families(text)}


def value(samples: list[Any], name: str | None = None, **labels: str) -> float | None:
    """The value of the one sample (named `name`, when given: a counter family also holds
    `_created` samples) whose labels include `labels`, else None."""
    found = [
        s.value
        for s in samples
        if (name is None or s.name == name) and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) <= 1, f"several samples for {labels}: {samples}"
    return found[0] if found else None


def write_config(path: Path, entries: dict[str, str], key: str | None = None) -> Path:
    """A v3 config.json: model_name -> api_base, every model `openai/smol`."""
    model_list = []
    for name, base in entries.items():
        entry = {"model_name": name, "model": "openai/smol", "api_base": base}
        if key:
            entry["api_keys"] = [key]
        model_list.append(entry)
    doc = {
        "version": 3,
        "agents": {"defaults": {"model_name": next(iter(entries))}},
        "model_list": model_list,
    }
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path
