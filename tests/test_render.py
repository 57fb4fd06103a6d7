"""Renderers: a golden file per format from one hand-built Report, plus the format rules.

Regenerate the golden files after an intended change:
    LMDOCTOR_UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/test_render.py
and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

from lmdoctor import __version__
from lmdoctor import cli as cli_module
from lmdoctor.findings import Finding, Severity, error, info, ok, warn
from lmdoctor.redact import Secret, scrub
from lmdoctor.render import RenderOptions, render, safe
from lmdoctor.render.github import escape_data, escape_property
from lmdoctor.render.markdown import cell
from lmdoctor.results import Report, TargetResult
from lmdoctor.target import Target
from portable import utf8

GOLDEN = Path(__file__).parent / "golden"
SCHEMA = Path(__file__).parent.parent / "lmdoctor" / "report.schema.json"
UPDATE = os.environ.get("LMDOCTOR_UPDATE_GOLDEN") == "1"
KEY = "sk-lm-GOLDEN0123456789abcdef"
ECHOED = "sk-proj-ECHOEDBYSERVER0123456789"


def _f(finding: Finding, check: str) -> Finding:
    return replace(finding, check=check)


def skipped(check: str, need: str, cause: str) -> Finding:
    return Finding(
        f"{check}.skipped",
        Severity.SKIP,
        f"{check}: not run, because {need} found {cause}",
        evidence={"needs": need, "cause": cause},
        check=check,
    )


def sample_report() -> Report:
    """Three targets and every severity; all durations fixed."""
    config = Path("config.json")
    file_target = Target(name="config.json", kind="file", config_path=config)
    lmstudio = Target(
        name="lmstudio-local",
        provider="lmstudio",
        api_base="http://localhost:1234/v1",
        model="lmstudio/openai/gpt-oss-20b",
        model_id="openai/gpt-oss-20b",
        api_key=Secret(KEY),
        sources={
            "provider": "config.json model_list[0] (model prefix lmstudio/)",
            "api_base": "default for lmstudio",
            "model_id": "config.json model_list[0] (prefix lmstudio/ stripped)",
            "api_key": ".security.yml model_list.lmstudio-local",
        },
        config_path=config,
        entry="model_list[0]",
        line=7,
    )
    gpu_box = Target(
        name="gpu-box",
        provider="vllm",
        api_base="http://10.0.0.7:8000/v1",
        model="vllm/Qwen/Qwen3-8B",
        model_id="Qwen/Qwen3-8B",
        sources={"provider": "config.json model_list[1]", "api_base": "config.json model_list[1]"},
        config_path=config,
        entry="model_list[1]",
        line=15,
        proxy="http://proxyuser:hunter22@proxy.corp.example:3128",
    )
    file_findings = [
        _f(
            error(
                "config.unknown_field",
                "config.json: model_list[1].api_key is not a v3 field",
                "PicoClaw v3 reads api_keys (a list); it refuses to load this file.",
                'Rename "api_key" to "api_keys": ["…"] in model_list[1].',
                path="model_list[1].api_key",
                line=17,
            ),
            "config",
        ),
        _f(info("config.legacy", "config.json has no version: PicoClaw will migrate it"), "config"),
    ]
    lmstudio_findings = [
        _f(ok("config.ok", "config.json model_list[0]: usable entry"), "config"),
        _f(
            ok(
                "net.ok",
                "localhost:1234 accepts connections",
                resolve_ms=0.4,
                connect_ms=1.1,
                first_byte_ms=2.5,
            ),
            "network",
        ),
        _f(info("server.identified", "LM Studio 0.3.16 answers", software="LM Studio"), "server"),
        _f(
            warn(
                "model.not_loaded",
                "openai/gpt-oss-20b is downloaded but not loaded",
                "The first request loads it (JIT), which can take a minute | more.",
                "lms load openai/gpt-oss-20b",
                state="not-loaded",
            ),
            "models",
        ),
        _f(
            error(
                "internal.error",
                "The capacity check crashed: KeyError: 'vram'",
                "This is a bug in lmdoctor or in the plug-in that provides the check.",
                "Report it (package lmdoctor); run with -v for the traceback.",
                exception="KeyError",
                traceback="Traceback (most recent call last):\n  KeyError: 'vram'\n",
            ),
            "capacity",
        ),
    ]
    gpu_findings = [
        _f(ok("config.ok", "config.json model_list[1]: usable entry"), "config"),
        _f(
            error(
                "net.refused",
                "Nothing is listening on 10.0.0.7:8000",
                f"The server said: <b>denied</b> `key` {ECHOED} | try\nagain",
                "Start vLLM: vllm serve Qwen/Qwen3-8B --host 0.0.0.0 --port 8000",
                host="10.0.0.7",
                port=8000,
                body=f'{{"error": "bad key {ECHOED}", "Authorization": "Bearer {ECHOED}"}}',
                resolve_ms=0.1,
                connect_ms=0.9,
            ),
            "network",
        ),
        skipped("server", "network", "net.refused"),
        skipped("models", "server", "net.refused"),
    ]
    results = [
        TargetResult(file_target, file_findings, 0.001, {"config": 0.001}),
        TargetResult(
            lmstudio,
            lmstudio_findings,
            0.25,
            {"config": 0.0, "network": 0.002, "server": 0.05, "models": 0.12, "capacity": 0.01},
        ),
        TargetResult(gpu_box, gpu_findings, 0.003, {"config": 0.0, "network": 0.002}),
    ]
    meta = {
        "environment": {
            "lmdoctor": "0.1.0",
            "os": "Linux-6.1.0-18-amd64-x86_64-with-glibc2.36",
            "python": "3.11.7 (CPython)",
            "machine": "x86_64",
        },
        "servers": [
            {
                "port": 1234,
                "api_base": "http://127.0.0.1:1234/v1",
                "name": "LM Studio",
                "version": "0.3.16",
                "models": ["openai/gpt-oss-20b"],
                "listens_on": ["127.0.0.1"],
                "beyond_loopback": False,
                "pid": 4242,
            }
        ],
        "proxy_environment": {
            "HTTPS_PROXY": {"value": "http://proxy.corp.example:3128", "credentials": True},
            "NO_PROXY": {"value": "localhost,127.0.0.1", "credentials": False},
        },
    }
    hardware = {
        "cpu": {"model": "AMD Ryzen 9 7950X", "cores": 16},
        "memory": {"total_gib": 64.0},
        "gpus": [{"name": "NVIDIA GeForce RTX 4090", "vram_gib": 24.0}],
    }
    return Report(results, hardware=hardware, duration_s=0.26, meta=meta)


CASES = {
    "table.txt": ("table", RenderOptions()),
    "table-verbose.txt": ("table", RenderOptions(verbose=True)),
    "report.json": ("json", RenderOptions()),
    "report.md": ("markdown", RenderOptions()),
    "report.junit.xml": ("junit", RenderOptions()),
    "report.github.txt": ("github", RenderOptions()),
    "triage.md": ("report", RenderOptions()),
    "triage-masked.md": ("report", RenderOptions(mask_hosts=True)),
    "triage.json": ("report-json", RenderOptions(mask_hosts=True)),
}


@pytest.fixture(autouse=True)
def _stable_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    fmt, options = CASES[name]
    text = render(fmt, sample_report(), options).replace(__version__, "VERSION")
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; see the module docstring"


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_renderer_leaks_a_secret(name: str) -> None:
    fmt, options = CASES[name]
    text = render(fmt, sample_report(), options)
    for secret in (KEY, ECHOED, "hunter22", "proxyuser"):
        assert secret not in text


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_final_scrub_leaves_rendered_output_alone(name: str) -> None:
    """The CLI scrubs every text again on its way out; it must not mangle lmdoctor's own words
    ("api_key": ".security.yml …", "set, sk-lm-… (28 chars)", "Bearer ***")."""
    fmt, options = CASES[name]
    text = render(fmt, sample_report(), options)
    assert scrub(text) == text


# ---------------------------------------------------------------------------------------- json


@pytest.mark.parametrize("fmt", ["json", "report-json"])
def test_json_matches_the_schema(fmt: str) -> None:
    data = json.loads(render(fmt, sample_report(), RenderOptions()))
    jsonschema.validate(data, json.loads(utf8(SCHEMA)))
    assert data["schema_version"] == 1
    assert data["ok"] is False
    assert data["summary"] == {"error": 3, "warn": 1, "info": 2, "ok": 3, "skip": 2}


def test_json_scrubs_evidence_and_secret_named_fields() -> None:
    data = json.loads(render("json", sample_report(), RenderOptions()))
    refused = data["targets"][2]["findings"][1]
    assert ECHOED not in json.dumps(data)
    assert "***" in refused["evidence"]["body"]


def test_json_ok_follows_fail_on() -> None:
    report = Report([TargetResult(Target("a"), [warn("x.y", "w")])])
    assert json.loads(render("json", report, RenderOptions()))["ok"] is True
    warn_fails = RenderOptions(fail_on=Severity.WARN)
    assert json.loads(render("json", report, warn_fails))["ok"] is False


# --------------------------------------------------------------------------------------- junit


def test_junit_has_the_shape_ci_readers_expect() -> None:
    root = ET.fromstring(render("junit", sample_report(), RenderOptions()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["config.json", "lmstudio-local", "gpu-box"]
    for element in [root, *suites]:
        for attribute in ("name", "tests", "failures", "errors", "skipped", "time"):
            assert element.get(attribute) is not None, (element.tag, attribute)
        float(element.get("time") or "")
    for case in root.iter("testcase"):
        assert case.get("classname", "").startswith("lmdoctor.")
        assert case.get("name")
        float(case.get("time") or "")
    # one testcase per check, totals that add up
    lmstudio = suites[1]
    assert [c.get("name") for c in lmstudio.findall("testcase")] == [
        "config",
        "network",
        "server",
        "models",
        "capacity",
    ]
    assert sum(int(s.get("tests") or 0) for s in suites) == int(root.get("tests") or 0) == 10
    assert (root.get("failures"), root.get("errors"), root.get("skipped")) == ("2", "1", "2")


def _case(root: ET.Element, suite: str, name: str) -> ET.Element:
    found = root.find(f"testsuite[@name='{suite}']/testcase[@name='{name}']")
    assert found is not None
    return found


def test_junit_rules_for_each_severity() -> None:
    root = ET.fromstring(render("junit", sample_report(), RenderOptions()))
    refused = _case(root, "gpu-box", "network").find("failure")
    assert refused is not None and refused.get("type") == "net.refused"
    assert "Start vLLM" in (refused.text or "")
    crashed = _case(root, "lmstudio-local", "capacity")
    assert crashed.find("error") is not None and crashed.find("failure") is None
    warned = _case(root, "lmstudio-local", "models")
    assert warned.find("failure") is None
    prop = warned.find("properties/property[@name='lmdoctor.warning']")
    assert prop is not None and prop.get("value") == "model.not_loaded"
    assert "model.not_loaded" in (warned.findtext("system-out") or "")
    skipped_case = _case(root, "gpu-box", "server").find("skipped")
    assert skipped_case is not None and "not run" in (skipped_case.get("message") or "")
    passed = _case(root, "lmstudio-local", "network")
    assert [child.tag for child in passed] == ["system-out"]


def test_junit_warn_fails_with_fail_on_warn() -> None:
    options = RenderOptions(fail_on=Severity.WARN)
    root = ET.fromstring(render("junit", sample_report(), options))
    failure = _case(root, "lmstudio-local", "models").find("failure")
    assert failure is not None and failure.get("type") == "model.not_loaded"


def test_junit_survives_hostile_text() -> None:
    nasty = 'a <b> & "c" \x00\x1b[31m ]]> \ud7ff'
    report = Report([TargetResult(Target("t<&>"), [error("x.y", nasty, fix=nasty, check="c")])])
    root = ET.fromstring(render("junit", report, RenderOptions()))
    assert root.find("testsuite/testcase/failure") is not None


# -------------------------------------------------------------------------------------- github


def test_github_annotations_name_file_line_and_escape() -> None:
    lines = render("github", sample_report(), RenderOptions()).splitlines()
    annotations = [line for line in lines if line.startswith("::")]
    assert len(annotations) == 4  # 3 errors, 1 warning; info and ok stay out
    unknown = annotations[0]
    assert unknown.startswith(
        "::error file=config.json,line=17,title=config.unknown_field (config.json)::"
    )
    not_loaded = next(a for a in annotations if "model.not_loaded" in a)
    assert not_loaded.startswith("::warning file=config.json,line=7,")
    refused = next(a for a in annotations if "net.refused" in a)
    assert "%0A" in refused and "\n" not in refused
    assert "%0AFix: Start vLLM" in refused
    assert lines[-1].startswith("3 errors, 1 warning")


def test_github_escaping_rules() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_github_verbose_adds_notices_and_quiet_success_is_silent() -> None:
    text = render("github", sample_report(), RenderOptions(verbose=True))
    assert "::notice " in text
    healthy = Report([TargetResult(Target("a", api_base="http://x/v1"), [ok("net.ok", "fine")])])
    assert render("github", healthy, RenderOptions(quiet=True)) == ""


def test_github_adhoc_target_has_no_file() -> None:
    report = Report([TargetResult(Target("m", api_base="http://h/v1"), [error("a.b", "s")])])
    assert render("github", report, RenderOptions()).startswith("::error title=a.b (m)::s")


# ------------------------------------------------------------------------------------ markdown


def test_markdown_cells_cannot_break_the_table_or_inject_html() -> None:
    assert cell("a|b\nc <img src=x> [l](u) *e* ` lone") == (
        "a\\|b<br>c &lt;img src=x&gt; \\[l\\](u) \\*e\\* \\` lone"
    )
    assert cell("run `lms load x|y <z>` now") == "run `lms load x\\|y <z>` now"
    text = render("markdown", sample_report(), RenderOptions())
    for line in text.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 5, line


def test_safe_strips_terminal_escapes() -> None:
    assert safe("ok\x1b[2J\x07 fine\n") == "ok[2J fine\n"


# -------------------------------------------------------------------------------------- report


def test_triage_report_lists_what_was_redacted_at_the_top() -> None:
    text = render("report", sample_report(), RenderOptions())
    top = text.split("## Summary")[0]
    assert "1 API key (.security.yml model_list.lmstudio-local)" in top
    assert "2 proxy credentials (HTTPS_PROXY, proxy of gpu-box)" in top
    assert "in findings and quoted server answers:" in top
    for section in ("## Environment", "## Hardware", "## LLM servers", "## Proxy environment"):
        assert section in text
    assert "http://proxy.corp.example:3128 (credentials removed)" in text
    assert "Check timings: config 0 ms, network 2 ms" in text
    assert "Phase timings: `net.ok`: resolve 0.4 ms, connect 1.1 ms, first byte 2.5 ms" in text
    assert f"sk-lm-… ({len(KEY)} chars)" in text


def test_mask_hosts_is_consistent_and_keeps_loopback() -> None:
    text = render("report", sample_report(), RenderOptions(mask_hosts=True))
    assert "10.0.0.7" not in text and "proxy.corp.example" not in text
    assert "host-1" in text and "host-2" in text
    assert "localhost:1234" in text and "127.0.0.1" in text
    # the same host gets the same label everywhere
    assert text.count("host-1:8000") >= 2
    data = json.loads(render("report-json", sample_report(), RenderOptions(mask_hosts=True)))
    assert data["hosts_masked"] is True
    assert data["targets"][2]["api_base"] == "http://host-1:8000/v1"
    assert "10.0.0.7" not in json.dumps(data)


# ------------------------------------------------------------------ the CLI around the renderers
# `_run` is replaced by the fixed Report so these exercise _emit/_write exactly: output files,
# the step summary, --quiet, --fail-on, colours and exit codes.


def _healthy() -> Report:
    target = Target("fine", provider="ollama", api_base="http://localhost:11434/v1")
    return Report([TargetResult(target, [ok("net.ok", "answers", check="network")], 0.01)])


def _warned() -> Report:
    target = Target("slow", provider="ollama", api_base="http://localhost:11434/v1")
    finding = warn("capacity.slow", "too slow", fix="use a smaller model", check="capacity")
    return Report([TargetResult(target, [finding], 0.01)])


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    def invoke(args: list[str], report: Report | None = None, **env: str | None) -> Result:
        chosen = report or sample_report()
        monkeypatch.setattr(cli_module, "_run", lambda opts: chosen)
        defaults: dict[str, str | None] = {
            "NO_COLOR": None,
            "CLICOLOR": None,
            "CLICOLOR_FORCE": None,
            "GITHUB_STEP_SUMMARY": None,
        }
        return CliRunner(env={**defaults, **env}).invoke(cli_module.main, args)

    return invoke


@pytest.mark.parametrize("fmt", ["table", "json", "markdown", "junit", "github"])
def test_output_file_gets_the_format_and_stdout_the_summary(
    cli: Callable[..., Result], tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / "out"
    result = cli(["check", "--format", fmt, "--output", str(out)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"3 errors, 1 warning, 2 info, 3 ok, 2 skipped — 3 targets in 0.26 s "
        f"(report written to {out})"
    ]
    expected = render(fmt, sample_report(), RenderOptions())
    assert utf8(out) == scrub(expected if expected.endswith("\n") else expected + "\n")


def test_github_format_appends_a_scrubbed_step_summary(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    result = cli(["check", "--format", "github"], GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=config.json,line=17,")
    text = utf8(summary)
    assert text.startswith("# earlier step\n## lmdoctor: 3 errors")
    assert "| ❌ error | `net.refused` |" in text
    assert ECHOED not in text and "hunter22" not in text
    # other formats leave the step summary alone
    cli(["check", "--format", "table"], GITHUB_STEP_SUMMARY=str(summary))
    assert utf8(summary) == text


@pytest.mark.parametrize(
    ("report", "args", "code"),
    [
        (_healthy, [], 0),
        (_warned, [], 0),
        (_warned, ["--fail-on", "warn"], 1),
        (sample_report, [], 1),
        (sample_report, ["--fail-on", "error"], 1),
    ],
)
def test_exit_codes_follow_fail_on(
    cli: Callable[..., Result], report: Callable[[], Report], args: list[str], code: int
) -> None:
    assert cli(["check", *args], report()).exit_code == code


def test_quiet_prints_nothing_on_success_and_problems_otherwise(
    cli: Callable[..., Result], tmp_path: Path
) -> None:
    assert cli(["check", "-q"], _healthy()).output == ""
    assert cli(["check", "-q", "--output", str(tmp_path / "x")], _healthy()).output == ""
    assert cli(["check", "-q"], _warned()).output == ""  # below --fail-on: success
    loud = cli(["check", "-q", "--fail-on", "warn"], _warned())
    assert "capacity.slow" in loud.output and loud.exit_code == 1
    failing = cli(["check", "-q"], sample_report())
    assert "net.refused" in failing.output
    assert "lmstudio-local" in failing.output  # it has a problem; healthy targets are left out


@pytest.mark.parametrize(
    ("env", "colored"),
    [
        ({}, False),  # CliRunner's stdout is no TTY
        ({"CLICOLOR_FORCE": "1"}, True),
        ({"CLICOLOR_FORCE": "1", "NO_COLOR": "1"}, False),
        ({"CLICOLOR_FORCE": "0"}, False),
    ],
)
def test_colour_only_when_wanted(
    cli: Callable[..., Result], env: dict[str, str], colored: bool
) -> None:
    assert ("\x1b[" in cli(["check"], **env).stdout) is colored


def test_colour_rules_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    for name in ("NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE"):
        monkeypatch.delenv(name, raising=False)
    assert cli_module._color(Tty()) is True
    monkeypatch.setenv("CLICOLOR", "0")
    assert cli_module._color(Tty()) is False
    monkeypatch.delenv("CLICOLOR")
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli_module._color(Tty()) is False


def test_colour_never_goes_into_an_output_file(cli: Callable[..., Result], tmp_path: Path) -> None:
    out = tmp_path / "table.txt"
    cli(["check", "--output", str(out)], CLICOLOR_FORCE="1")
    assert "\x1b[" not in utf8(out)


def test_report_command_gathers_environment_and_redacts_proxies(
    cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://bob:pr0xyPASSWORD@proxy.corp.example:3128")
    monkeypatch.setenv("no_proxy", "localhost,.corp.example")
    monkeypatch.setattr("lmdoctor.discovery.run_scan", lambda timeout: [], raising=False)
    result = cli(["report", "--timeout", "0.2"], _healthy())
    assert result.exit_code == 0, result.output
    assert "pr0xyPASSWORD" not in result.output
    assert "| HTTPS_PROXY | http://proxy.corp.example:3128 (credentials removed) |" in result.output
    assert "| no_proxy | localhost,.corp.example |" in result.output
    assert "1 proxy credential (HTTPS_PROXY)" in result.output
    assert f"| lmdoctor | {__version__} |" in result.output
    data = json.loads(cli(["report", "--format", "json", "--timeout", "0.2"], _healthy()).stdout)
    jsonschema.validate(data, json.loads(utf8(SCHEMA)))
    assert data["proxy_environment"]["HTTPS_PROXY"] == {
        "value": "http://proxy.corp.example:3128",
        "credentials": True,
    }
    assert data["environment"]["python"].split()[0] in sys.version
