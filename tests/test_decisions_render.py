"""Renderers' severity mapping: which level a CI reads for each verdict.

Verdicts asserted through public interfaces, each written to kill a mutant that survived
tools/mutation.py: a wrong diagnosis must fail a test."""

from __future__ import annotations

from pathlib import Path

from lmdoctor.findings import error
from lmdoctor.render import RenderOptions, render
from lmdoctor.results import Report, TargetResult
from lmdoctor.target import Target

ENTRY = Target(
    name="e",
    provider="ollama",
    api_base="http://localhost:11434/v1",
    config_path=Path("config.json"),
    entry="model_list[0]",
)


def test_github_quiet_still_prints_the_summary_when_the_run_fails_at_fail_on():
    report = Report([TargetResult(ENTRY, [error("net.refused", "nothing listens")])])
    lines = render("github", report, RenderOptions(quiet=True)).splitlines()
    assert lines[0].startswith("::error ") and lines[-1].startswith("1 error,")


def test_github_line_zero_is_no_line():
    report = Report([TargetResult(ENTRY, [error("net.refused", "nothing listens", line=0)])])
    first = render("github", report, RenderOptions()).splitlines()[0]
    assert first.startswith("::error file=config.json,title=net.refused (e)::")


def test_github_prints_the_summary_of_a_passing_run_unless_quiet():
    from lmdoctor.findings import ok

    report = Report([TargetResult(ENTRY, [ok("net.ok", "answers")])])
    assert render("github", report, RenderOptions()).startswith("0 errors, 0 warnings")
    assert render("github", report, RenderOptions(quiet=True)) == ""


def test_github_line_one_is_a_line():
    report = Report([TargetResult(ENTRY, [error("net.refused", "nothing listens", line=1)])])
    first = render("github", report, RenderOptions()).splitlines()[0]
    assert first.startswith("::error file=config.json,line=1,title=net.refused (e)::")


def test_junit_failure_names_the_first_of_equal_problems():
    import xml.etree.ElementTree as ET

    from lmdoctor.findings import Finding, Severity

    found = [
        Finding("http.missing_v1", Severity.ERROR, "api_base lacks /v1", check="server"),
        Finding("http.not_llm_server", Severity.ERROR, "not an LLM server", check="server"),
    ]
    root = ET.fromstring(render("junit", Report([TargetResult(ENTRY, found)]), RenderOptions()))
    failure = root.find("testsuite/testcase[@name='server']/failure")
    assert failure is not None
    assert (failure.get("type"), failure.get("message")) == (
        "http.missing_v1",
        "api_base lacks /v1",
    )


def test_junit_skipped_names_the_first_reason():
    import xml.etree.ElementTree as ET

    from lmdoctor.findings import Finding, Severity

    found = [
        Finding("models.skipped", Severity.SKIP, "first reason", check="models"),
        Finding("models.skipped", Severity.SKIP, "second reason", check="models"),
    ]
    root = ET.fromstring(render("junit", Report([TargetResult(ENTRY, found)]), RenderOptions()))
    skipped = root.find("testsuite/testcase[@name='models']/skipped")
    assert skipped is not None and skipped.get("message") == "first reason"


def _second(name: str) -> Target:
    return Target(
        name=name,
        provider="lmstudio",
        api_base="http://localhost:1234/v1",
        config_path=Path("config.json"),
        entry="model_list[1]",
    )


def test_markdown_quiet_prints_nothing_for_a_passing_run_and_all_of_a_failing_one():
    from lmdoctor.findings import ok

    passing = Report([TargetResult(ENTRY, [ok("net.ok", "answers")])])
    failing = Report([TargetResult(ENTRY, [error("net.refused", "nothing listens")])])
    assert render("markdown", passing, RenderOptions(quiet=True)) == ""
    text = render("markdown", failing, RenderOptions(quiet=True))
    assert text.startswith("## lmdoctor: 1 error,") and "`net.refused`" in text


def test_markdown_without_quiet_prints_a_passing_run():
    from lmdoctor.findings import ok

    passing = Report([TargetResult(ENTRY, [ok("net.ok", "answers")])])
    text = render("markdown", passing, RenderOptions())
    assert text.startswith("## lmdoctor: 0 errors,") and "All good: 1 check passed" in text


def test_markdown_quiet_leaves_out_a_passing_target_but_not_a_failing_one_after_it():
    from lmdoctor.findings import ok

    report = Report(
        [
            TargetResult(ENTRY, [ok("net.ok", "answers")]),
            TargetResult(_second("second"), [error("net.refused", "nothing listens")]),
        ]
    )
    text = render("markdown", report, RenderOptions(quiet=True))
    assert "### ❌ second" in text and "### ✅" not in text


def test_json_durations_are_seconds_to_the_millisecond():
    import json

    from lmdoctor.findings import ok

    result = TargetResult(
        ENTRY, [ok("net.ok", "answers")], duration_s=0.123456, timings={"network": 0.0123456}
    )
    data = json.loads(render("json", Report([result], duration_s=1.234567), RenderOptions()))
    assert data["duration_s"] == 1.235
    assert data["targets"][0]["duration_s"] == 0.123
    assert data["targets"][0]["timings"] == {"network": 0.012}


def test_openmetrics_takes_the_estimate_from_bench_below_estimate_without_a_capacity_check():
    from lmdoctor.findings import info, warn
    from prom import openmetrics, value

    measured = {"ttft_s": 0.25, "decode_tps": 5.0, "expected_decode_tps": 40.0}
    found = [
        info("bench.result", "measured", **measured),
        warn("bench.below_estimate", "far below", **measured),
    ]
    metrics = openmetrics(
        render("openmetrics", Report([TargetResult(ENTRY, found)]), RenderOptions())
    )
    assert value(metrics["lmdoctor_estimate_tokens_per_second"], target="e") == 40.0
    assert value(metrics["lmdoctor_bench_first_token_seconds"], target="e") == 0.25
    assert value(metrics["lmdoctor_bench_tokens_per_second"], target="e") == 5.0


def test_openmetrics_model_reported_unloaded_is_served_but_not_loaded():
    from lmdoctor.findings import ok
    from prom import openmetrics, value

    found = [ok("model.ok", "served", listed_as="m", loaded=False)]
    metrics = openmetrics(
        render("openmetrics", Report([TargetResult(ENTRY, found)]), RenderOptions())
    )
    assert value(metrics["lmdoctor_model_served"], target="e") == 1
    assert value(metrics["lmdoctor_model_loaded"], target="e") == 0


def test_openmetrics_durations_are_seconds_to_the_microsecond():
    from dataclasses import replace

    from lmdoctor.findings import ok
    from prom import openmetrics, value

    reachable = replace(ok("net.ok", "reachable", first_byte_ms=1.2345678), check="network")
    report = Report([TargetResult(ENTRY, [reachable], duration_s=1.23456789)])
    metrics = openmetrics(render("openmetrics", report, RenderOptions()))
    assert value(metrics["lmdoctor_probe_duration_seconds"], target="e") == 1.234568
    assert value(metrics["lmdoctor_probe_phase_duration_seconds"], phase="first_byte") == 0.001235


def test_openmetrics_bounds_labels_and_names_a_findings_check_by_its_code():
    from dataclasses import replace

    from lmdoctor.findings import info
    from prom import openmetrics, value

    target = replace(ENTRY, name="t" * 200)
    identified = info("server.identified", "llama.cpp", kind="llamacpp", version="v" * 100)
    found = [identified, error("model.not_found", "not served")]
    assert not found[1].check  # no check id: the label comes from the code
    metrics = openmetrics(
        render("openmetrics", Report([TargetResult(target, found)]), RenderOptions())
    )
    label = "t" * 128
    assert value(metrics["lmdoctor_model_served"], target=label) == 0
    assert value(metrics["lmdoctor_server_info"], target=label, version="v" * 64) == 1
    assert value(metrics["lmdoctor_finding_info"], code="model.not_found", check="model") == 1


def test_junit_lists_every_check_that_ran_and_names_a_checkless_finding_by_its_code():
    import xml.etree.ElementTree as ET

    result = TargetResult(
        ENTRY, [error("net.refused", "nothing listens")], timings={"network": 0.1, "auth": 0.0}
    )
    root = ET.fromstring(render("junit", Report([result]), RenderOptions()))
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == ["net", "network", "auth"]
    assert root.find("testsuite/testcase[@name='net']/failure") is not None


def test_ci_annotations_link_config_files_inside_the_workspace_by_relative_path(tmp_path):
    from dataclasses import replace

    inside = replace(ENTRY, config_path=Path.cwd() / "sub" / "config.json")
    outside = replace(ENTRY, config_path=tmp_path / "config.json")
    relative = replace(ENTRY, config_path=Path("sub") / "config.json")
    for target, shown in (
        (inside, "sub/config.json"),
        (outside, str(tmp_path / "config.json")),
        (relative, "sub/config.json"),
    ):
        report = Report([TargetResult(target, [error("net.refused", "nothing listens")])])
        assert render("github", report, RenderOptions()).startswith(f"::error file={shown},")
