"""The CLI's exit code and where its lines go (real loopback server, real run).

Verdicts asserted through public interfaces, each written to kill a mutant that survived
tools/mutation.py: a wrong diagnosis must fail a test."""

from __future__ import annotations

import json

import pytest


def _cli(args: list[str]):
    from click.testing import CliRunner

    from lmdoctor.cli import main

    env = {"NO_COLOR": "1", "CLICOLOR_FORCE": None, "GITHUB_STEP_SUMMARY": None}
    return CliRunner(env=env).invoke(main, args)


@pytest.fixture
def served():
    import fakes

    with fakes.llama_cpp_python("smollm2") as server:
        yield f"{server.url}/v1"


def test_exit_0_when_healthy_and_the_summary_names_the_report_file(served, tmp_path):
    out = tmp_path / "report.txt"
    result = _cli(
        [
            "check",
            served,
            "--model",
            "smollm2",
            "--only",
            "models",
            "--timeout",
            "2",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"(report written to {out})\n")
    assert result.stdout.startswith("0 errors,")
    quiet = _cli(
        [
            "check",
            served,
            "--model",
            "smollm2",
            "--only",
            "models",
            "--timeout",
            "2",
            "-q",
            "--output",
            str(out),
        ]
    )
    assert (quiet.exit_code, quiet.stdout) == (0, "")


def test_exit_1_when_nothing_listens_and_quiet_still_says_so(tmp_path):
    from loopback import free_port

    out = tmp_path / "report.txt"
    dead = f"http://127.0.0.1:{free_port()}/v1"
    result = _cli(
        [
            "check",
            dead,
            "--model",
            "m",
            "--only",
            "network",
            "--timeout",
            "2",
            "-q",
            "--format",
            "json",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("1 error") and f"(report written to {out})" in result.stdout
    report = json.loads(out.read_text(encoding="utf-8"))
    found = [f for t in report["targets"] for f in t["findings"]]
    # refused, or wrong_port when another test's server happens to listen nearby
    errors = [f["code"] for f in found if f["severity"] == "error"]
    assert len(errors) == 1 and errors[0] in ("net.refused", "net.wrong_port")


def test_exit_2_with_one_line_on_stderr_for_a_broken_config(tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{ not json")
    result = _cli(["check", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("lmdoctor: error: ") and result.stderr.count("\n") == 1
