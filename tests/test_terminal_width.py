"""Issue 13, items 5, 7 and 9: tables that fit the terminal (stacked below 80 columns) and
never split a URL, command or config path; the bench result shown without -v; -q; wording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lmdoctor.findings import Finding, Severity, error, info, ok, warn
from lmdoctor.render import RenderOptions, render
from lmdoctor.render.junit import classname
from lmdoctor.render.layout import fit, wrap
from lmdoctor.results import Report, TargetResult
from lmdoctor.target import Target

URL = "http://host.docker.internal:1234/v1"
COMMAND = "`--add-host host.docker.internal:host-gateway`"
PATH = "model_list[0].api_base"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _target(name: str = "lmstudio-local") -> Target:
    return Target(
        name=name,
        provider="lmstudio",
        api_base="http://localhost:1234/v1",
        model_id="openai/gpt-oss-20b",
        config_path=Path("config.json"),
        entry="model_list[0]",
        line=3,
    )


def _report(findings: list[Finding], target: Target | None = None) -> Report:
    return Report([TargetResult(target or _target(), findings)], duration_s=0.1)


LONG = [
    warn(
        "net.container_localhost",
        "lmdoctor runs inside a docker container: localhost is that container itself, not "
        "the host machine",
        "A server on the host machine is not reachable at localhost from here.",
        f"If the server runs on the host, set {PATH} to {URL} (on Linux start the container "
        f"with {COMMAND}), and let the server listen beyond loopback (e.g. OLLAMA_HOST=0.0.0.0).",
    ),
    error(
        "http.native_api_base",
        f"{PATH} points at LM Studio's native API",
        "",
        f"Set {PATH} to {URL} (the OpenAI-compatible path).",
    ),
]


def _table(report: Report, columns: int, monkeypatch: pytest.MonkeyPatch, **opts: object) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    return ANSI.sub("", render("table", report, RenderOptions(**opts)))  # type: ignore[arg-type]


def _unbroken(text: str, *values: str) -> None:
    lines = text.splitlines()
    for value in values:
        assert any(value in line for line in lines), f"{value!r} split:\n{text}"


@pytest.mark.parametrize("columns", [80, 90, 100, 120, 160])
def test_the_table_fits_the_terminal(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _table(_report(LONG), columns, monkeypatch, verbose=True)
    assert max(len(line) for line in text.splitlines()) <= columns, text
    _unbroken(text, URL, COMMAND, PATH)


@pytest.mark.parametrize("columns", [40, 60, 79])
def test_below_80_columns_rows_are_stacked(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _table(_report(LONG), columns, monkeypatch)
    assert "│" not in text and "┌" not in text
    assert "net.container_localhost" in text and "fix: " in text
    _unbroken(text, URL, COMMAND, PATH)
    for line in text.splitlines():  # only an atom longer than the line may overflow
        assert len(line) <= columns or any(v in line for v in (URL, COMMAND)), line


def test_a_long_code_at_80_columns_keeps_a_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    short = [
        warn("capacity.partial_offload", "Only 40% is in GPU memory", "", "Use a smaller quant.")
    ]
    text = _table(_report(short), 80, monkeypatch)
    assert "┌" in text and max(len(line) for line in text.splitlines()) <= 80


def test_wrap_never_splits_an_atom() -> None:
    assert wrap(f"see {URL} now", 10) == ["see", URL, "now"]
    assert wrap(f"run {COMMAND} then", 20) == ["run", COMMAND, "then"]


def test_fit_gives_none_when_atoms_cannot_fit() -> None:
    assert fit([5, 10, 40, 40], [5, 10, 60, 60], 80) is None
    widths = fit([5, 10, 20, 20], [5, 10, 60, 80], 80)
    assert widths is not None and sum(widths) + 13 <= 80


def test_scrubbing_happens_before_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 80 columns an `api_key:` at the end of a cell must not eat the border after it."""
    finding = error(
        "config.unknown_field",
        "model_list[0].api_key: PicoClaw rejects this field and refuses to load config.json",
        "",
        'Rename "api_key" to "api_keys".',
    )
    from lmdoctor.redact import scrub

    for columns in (60, 80, 100):
        text = _table(_report([finding]), columns, monkeypatch)
        assert scrub(text, laid_out=True) == text
        assert "***" not in text and "PicoClaw" in text


# ------------------------------------------------------------------------------- item 7


def _bench() -> list[Finding]:
    return [
        ok("model.ok", "`m` is served"),
        info("bench.result", "Measured: first token 40 ms, 210.0 tokens/s over 32 tokens"),
    ]


@pytest.mark.parametrize("fmt", ["table", "markdown", "github"])
def test_the_bench_result_shows_without_verbose(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    text = render(fmt, _report(_bench()), RenderOptions())
    assert "210.0 tokens/s" in text


# ------------------------------------------------------------------------------- item 9


def test_counts_are_pluralised(monkeypatch: pytest.MonkeyPatch) -> None:
    findings = [ok("net.ok", "fine"), info("server.identified", "LM Studio answers")]
    text = _table(_report(findings), 120, monkeypatch)
    assert "1 check passed, 1 note;" in text
    md = render("markdown", _report(findings), RenderOptions())
    assert "1 check passed, 1 note." in md


@pytest.mark.parametrize("fmt", ["table", "markdown", "github"])
def test_quiet_leaves_out_targets_below_fail_on(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    warned = TargetResult(_target("warned"), [warn("model.mismatch", "WARNED-ONLY", "", "x")])
    failed = TargetResult(_target("failed"), [error("net.refused", "FAILED-HERE", "", "y")])
    text = render(fmt, Report([warned, failed]), RenderOptions(quiet=True))
    assert "FAILED-HERE" in text and "WARNED-ONLY" not in text
    quiet_ok = render(fmt, Report([warned]), RenderOptions(quiet=True))
    assert quiet_ok == ""


def test_junit_classnames_are_sanitised_one_way() -> None:
    for name in ("lmstudio.local", "http://127.0.0.1:8080/v1", "a b/c:d", "über"):
        value = classname(name)
        assert value.startswith("lmdoctor.")
        assert re.fullmatch(r"lmdoctor\.[A-Za-z0-9_-]+", value), value
    assert classname("a.b") == classname("a:b") == classname("a/b") == "lmdoctor.a_b"


def test_junit_uses_the_sanitised_classname() -> None:
    report = _report([error("net.refused", "x")], _target("http://127.0.0.1:8080/v1"))
    xml = render("junit", report, RenderOptions())
    assert 'classname="lmdoctor.http_127_0_0_1_8080_v1"' in xml


def test_severity_colour_does_not_skew_widths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = render("table", _report(LONG), RenderOptions(color=True))
    plain = [ANSI.sub("", line) for line in text.splitlines()]
    assert max(len(line) for line in plain) <= 80
    widths = {len(line) for line in plain if line.startswith(("│", "┌", "├", "└"))}
    assert len(widths) <= 1


def test_severity_labels_are_the_same_in_both_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    for columns in (60, 120):
        text = _table(_report(LONG), columns, monkeypatch)
        assert Severity.ERROR.label in text and Severity.WARN.label in text


# ------------------------------------------------------- scan, hardware, estimate (item 5)


def _fit_check(text: str, columns: int, *whole: str) -> None:
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= columns, text
    for value in whole:
        assert any(value in line for line in lines), f"{value!r} split:\n{text}"


@pytest.mark.parametrize("columns", [60, 80, 120, 142])
def test_scan_fits_the_terminal(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdoctor.discovery import FoundServer
    from lmdoctor.render import scan

    monkeypatch.setenv("COLUMNS", str(columns))
    found = [
        FoundServer("127.0.0.1", 36021, "llama-cpp-python", "llama-cpp-python (llama_cpp.server)",
                    None, ["smollm2"], ["127.0.0.1"], False, "python"),
        FoundServer("127.0.0.1", 38189, "generic", "an OpenAI-compatible server", None,
                    ["lmdoctor-test/model-7b", "b", "c", "d"], ["0.0.0.0"], True, "python3"),
    ]  # fmt: skip
    text = scan.render(found, "table")
    _fit_check(text, columns, "http://127.0.0.1:36021/v1", "lmdoctor-test/model-7b")


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_hardware_fits_the_terminal(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdoctor import estimate
    from lmdoctor.render import hardware

    monkeypatch.setenv("COLUMNS", str(columns))
    snap = {
        "os": {"system": "Linux", "release": "6", "machine": "x86_64"},
        "cpu": {"model": "AMD EPYC 7B13 64-Core Processor", "physical_cores": 2,
                "logical_cores": 2, "isa": {"avx2": True}, "ram_bandwidth_gbps": 2.8},
        "memory": {"total_gib": 23.5, "available_gib": 22.1, "swap_used_gib": 0.0,
                   "swap_total_gib": 0.0},
        "gpus": [],
        "probes": {"nvidia": "no NVIDIA driver (NVML cannot load)", "amd": "none found"},
    }  # fmt: skip
    text = hardware.render(snap, estimate.capabilities(snap), "table")
    _fit_check(text, columns, "gpt-oss-120b")


@pytest.mark.parametrize("columns", [60, 80])
def test_estimate_fits_the_terminal(columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from lmdoctor import estimate
    from lmdoctor.render import estimate as render_estimate

    monkeypatch.setenv("COLUMNS", str(columns))
    result = estimate.from_cli("qwen3-8b", gpu="RTX 4090")
    _fit_check(render_estimate.render(result, "table"), columns)
