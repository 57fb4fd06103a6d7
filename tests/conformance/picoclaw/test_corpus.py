"""PicoClaw conformance corpus: each case is a config written for one rule of PicoClaw's loader
or model resolution, with the outcome derived from PicoClaw's source (expect.yaml cites the
file and line). The test replays it with lmdoctor and compares: loads or not (and PicoClaw's
error text), and per agent model the request sent. The commit checked is in README.md.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from lmdoctor.cli import main
from lmdoctor.config import ConfigError, picoclaw, replay
from lmdoctor.findings import Severity
from lmdoctor.target import Target

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())
STARTUP_CODES = {"config.unknown_model_name", "config.startup_failed"}


def _expect(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((case / "expect.yaml").read_text(encoding="utf-8"))
    return data


def _load(case: Path, tmp_path: Path) -> picoclaw.Config:
    expect = _expect(case)
    folder = tmp_path / case.name
    shutil.copytree(case, folder)
    env = {"PATH": str(tmp_path / "no-bin"), **expect.get("env", {})}
    rules = (
        replay.version_rules(expect["picoclaw"], "corpus")
        if "picoclaw" in expect
        else replay.NEWEST
    )
    if expect.get("missing_file"):
        return picoclaw.missing(folder / "config.json", env, version=rules)
    return picoclaw.load(folder / "config.json", env, version=rules)


def _blocking(targets: list[Target]) -> list[Any]:
    return [
        f
        for t in targets
        for f in t.issues
        if f.severity is Severity.ERROR
        and (f.evidence.get("blocks_load") or f.code in STARTUP_CODES)
    ]


def _requests(targets: list[Target]) -> dict[str, Any]:
    found = {}
    for target in targets:
        if target.request is not None:
            for role in target.request.roles:
                found[role.split(" (")[0]] = (target, target.request)
    return found


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Path, tmp_path: Path) -> None:
    expect = _expect(case)
    assert expect["cites"], "every case cites the PicoClaw source it reproduces"
    if "json_error" in expect:
        with pytest.raises(ConfigError, match=expect["json_error"]):
            _load(case, tmp_path)
        return
    config = _load(case, tmp_path)
    targets = config.select()
    blocking = _blocking(targets)
    if expect["loads"]:
        assert not blocking, [f.summary for f in blocking]
    else:
        assert blocking, "PicoClaw refuses this config; lmdoctor must say so"
        quoted = " ".join(str(f.evidence.get("picoclaw_error", "")) for f in blocking)
        assert expect["error"] in quoted
        assert {f.code for f in blocking} >= set(expect["codes"])
    codes = {f.code: f.severity for t in targets for f in t.issues}
    for code in expect.get("codes_warn", []):
        assert codes.get(code) is Severity.WARN, code
    for code in expect.get("codes_info", []):
        assert codes.get(code) is Severity.INFO, code
    made = _requests(targets)
    for wanted in expect.get("requests", []):
        target, request = made[wanted["role"]]
        assert (request.method, request.url, request.model, request.wire) == (
            "POST",
            wanted["url"],
            wanted["model"],
            wanted["wire"],
        )
        assert target.model_id == request.model
        if request.wire == "openai-compat":
            assert target.api_base + "/chat/completions" == request.url
        if "key_from" in wanted:
            if wanted["key_from"] is None:
                assert request.key is None and not request.auth_header
            else:
                assert wanted["key_from"] in request.key_from
        if "auth_header" in wanted:
            assert request.auth_header == wanted["auth_header"]
        if "probeable" in wanted:  # voice wires are described (config.not_probed), not probed
            assert target.probeable is wanted["probeable"]
        if "context_window" in wanted:  # what the client plans with (env overrides included)
            assert target.context_window == wanted["context_window"]
    if "probeable" in expect:
        assert all(t.probeable is expect["probeable"] for t, _ in made.values())
    if "unknown protocol" in expect.get("error", ""):
        assert not any(t.probeable for t in targets)


def test_every_point_of_the_issue_has_a_case() -> None:
    points = {_expect(case)["point"] for case in CASES}
    assert points == set(range(1, 12))


@pytest.mark.parametrize("name", ["10-model-name-raw-provider-model", "13-legacy-providers-strict"])
def test_a_config_picoclaw_rejects_exits_1_with_the_reason(name: str, tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / name
    folder = tmp_path / name
    shutil.copytree(case, folder)
    result = CliRunner().invoke(
        main,
        ["check", "--config", str(folder / "config.json"), "--only", "config", "--format", "json"],
        env={"PATH": str(tmp_path), "PICOCLAW_CONFIG": ""},
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    quoted = json.dumps(data)
    assert _expect(case)["error"].replace('"', '\\"') in quoted


def test_the_installed_picoclaw_version_decides_the_rules(tmp_path: Path) -> None:
    binary = tmp_path / "bin" / "picoclaw"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\necho 'picoclaw 0.2.8 (git: 0000000)'\n")
    binary.chmod(binary.stat().st_mode | stat.S_IEXEC)
    rules = replay.detect_version({"PATH": str(binary.parent)})
    assert (rules.label, rules.relookup, rules.strict) == ("v0.2.8", False, True)
    assert "picoclaw version" in rules.describe()
    assert replay.detect_version({"PATH": str(tmp_path / "none")}) == replay.NEWEST


def test_json_carries_the_request(tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / "01-lmstudio-vendor-id"
    shutil.copytree(case, tmp_path / "c")
    result = CliRunner().invoke(
        main,
        [
            "check",
            "--config",
            str(tmp_path / "c" / "config.json"),
            "--only",
            "config",
            "--format",
            "json",
        ],
        env={"PATH": str(tmp_path)},
    )
    data = json.loads(result.output)
    endpoint = next(t for t in data["targets"] if t["kind"] == "endpoint")
    assert endpoint["request"]["url"] == "http://localhost:1234/v1/chat/completions"
    assert endpoint["request"]["model"] == "gpt-oss-20b"
    assert endpoint["model_id"] == "gpt-oss-20b"
    assert "assumed newest" in endpoint["request"]["client"]
    schema = Path(__file__).parents[3] / "lmdoctor" / "report.schema.json"
    jsonschema.validate(data, json.loads(schema.read_text(encoding="utf-8")))


def test_verbose_table_says_what_picoclaw_will_send(tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / "07-id-collision-first-match"
    shutil.copytree(case, tmp_path / "c")
    result = CliRunner().invoke(
        main,
        ["check", "--config", str(tmp_path / "c" / "config.json"), "--only", "config", "-v"],
        env={"PATH": str(tmp_path), "NO_COLOR": "1"},
    )
    assert (
        "PicoClaw will send POST https://cloud.example/v1/chat/completions with model gpt-oss-20b"
        in result.output
    )
    assert "sk-corpus-cloud" not in result.output
