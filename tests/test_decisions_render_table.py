"""Verdicts of the table renderer that mutation testing found unpinned (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render import sample_report

from lmdoctor.findings import Severity, error, info, ok, warn
from lmdoctor.render import RenderOptions, render
from lmdoctor.results import Report, TargetResult
from lmdoctor.target import Request, Target
from portable import utf8

GOLDEN = Path(__file__).parent / "golden" / "table-widths"

# The sample report (every severity, a crash with its traceback, a configuration target) laid
# out at the widths where the layout decides: stacked below 80 columns, a grid from 80, codes
# kept whole from 100. Regenerate after a deliberate change:
#   LMDOCTOR_REGENERATE=1 python -m pytest tests/test_decisions_render_table.py
WIDTHS = [60, 79, 80, 99, 100]


def _render(
    columns: int, monkeypatch: pytest.MonkeyPatch, report: Report | None = None, **opts: object
) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    return render("table", report or sample_report(), RenderOptions(**opts))  # type: ignore[arg-type]


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "verbose"])
@pytest.mark.parametrize("columns", WIDTHS)
def test_the_table_at_each_width_that_decides_the_layout(columns, verbose, monkeypatch):
    import os

    text = _render(columns, monkeypatch, verbose=verbose)
    golden = GOLDEN / f"{columns}{'-verbose' if verbose else ''}.txt"
    if os.environ.get("LMDOCTOR_REGENERATE"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == utf8(golden)


def _endpoint(request: Request | None = None) -> Target:
    return Target(
        name="local",
        provider="openai",
        api_base="http://localhost:1234/v1",
        model_id="m",
        config_path=Path("config.json"),
        entry="model_list[0]",
        request=request,
    )


REQUEST = Request(
    method="POST",
    url="http://localhost:1234/v1/chat/completions",
    model="m",
    protocol="openai",
    wire="openai-compat",
    auth_header="",
    key=None,
    key_from="",
    endpoint_from="model_list[0]",
    timeout_s=120,
    roles=("agent main: primary", "agent helper: fallback"),
    steps=("model_list[0] names model m", "no api_keys: no Authorization header"),
    client="PicoClaw v0.2.9 rules",
)


def test_verbose_shows_the_request_the_client_sends_indented_under_the_heading(monkeypatch):
    report = Report([TargetResult(_endpoint(REQUEST), [ok("net.ok", "up")])], duration_s=0.5)
    lines = _render(120, monkeypatch, report, verbose=True).splitlines()
    assert lines[1:7] == [
        "  PicoClaw will send POST http://localhost:1234/v1/chat/completions with model m",
        "    agent main: primary",
        "    agent helper: fallback",
        "    - model_list[0] names model m",
        "    - no api_keys: no Authorization header",
        "    (PicoClaw v0.2.9 rules)",
    ]
    assert "PicoClaw will send" not in _render(120, monkeypatch, report)


def test_a_target_with_nothing_to_show_says_all_good_with_its_counts(monkeypatch):
    findings = [ok("config.ok", "usable"), ok("net.ok", "up"), info("server.identified", "x")]
    report = Report([TargetResult(_endpoint(), findings)], duration_s=0.5)
    text = _render(120, monkeypatch, report)
    assert text.splitlines()[0] == "i local: openai http://localhost:1234/v1 → m"  # a note
    assert "  all good (2 checks passed, 1 note; -v shows them)" in text.splitlines()


@pytest.mark.parametrize(
    ("severity", "mark"),
    [(Severity.ERROR, "✗"), (Severity.WARN, "!"), (Severity.INFO, "i"), (Severity.OK, "✓")],
)
def test_the_heading_mark_is_the_worst_severity(severity, mark, monkeypatch):
    make = {Severity.ERROR: error, Severity.WARN: warn, Severity.INFO: info}
    finding = make[severity]("x.y", "s", "d", "f") if severity in make else ok("x.y", "s")
    report = Report([TargetResult(_endpoint(), [finding])], duration_s=0.1)
    assert _render(120, monkeypatch, report).splitlines()[0].startswith(f"{mark} local:")


def test_quiet_prints_the_summary_exactly_at_the_fail_on_threshold(monkeypatch):
    report = Report([TargetResult(_endpoint(), [warn("x.y", "s", "", "f")])], duration_s=0.1)
    at = _render(120, monkeypatch, report, quiet=True, fail_on=Severity.WARN)
    assert "x.y" in at and at.endswith("— 1 target in 0.10 s\n")
    assert _render(120, monkeypatch, report, quiet=True, fail_on=Severity.ERROR) == ""
    assert "x.y" in _render(120, monkeypatch, report, quiet=False, fail_on=Severity.ERROR)


def test_a_finding_without_a_fix_has_no_fix_line_when_stacked(monkeypatch):
    report = Report([TargetResult(_endpoint(), [warn("x.y", "no fix here", "", "")])], 0.1)
    assert "fix:" not in _render(60, monkeypatch, report)


def test_colour_paints_the_heading_bold_and_each_severity(monkeypatch):
    report = Report([TargetResult(_endpoint(), [error("x.y", "s", "", "f")])], duration_s=0.1)
    grid = _render(120, monkeypatch, report, color=True)
    assert grid.startswith("\x1b[1m✗ local:") and "\x1b[31m" in grid
    stacked = _render(60, monkeypatch, report, color=True)
    assert "  \x1b[31merror\x1b[0m  x.y" in stacked


SHORT_WORDS = [
    error(
        "net.refused",
        "Nothing is listening on the port that the entry names and no server answers there " * 2,
        "",
        "Start the server or pick the port that it uses and then run this check once more " * 2,
    ),
    warn(
        "model.not_loaded", "The model is not in memory yet so the first call waits", "", "Load it"
    ),
]


@pytest.mark.parametrize("columns", [80, 100])
def test_a_squeezed_grid_of_short_words_keeps_each_header_readable(columns, monkeypatch):
    """Every word is shorter than its column's header: the headers set the narrowest widths,
    and the room left is shared out from there."""
    report = Report([TargetResult(_endpoint(), SHORT_WORDS)], duration_s=0.1)
    text = _render(columns, monkeypatch, report)
    golden = GOLDEN / f"short-words-{columns}.txt"
    import os

    if os.environ.get("LMDOCTOR_REGENERATE"):
        golden.write_text(text, encoding="utf-8")
    assert text == utf8(golden)
