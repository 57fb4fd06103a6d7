"""Runner, findings and the tally.

Verdicts asserted through public interfaces, each written to kill a mutant that survived
tools/mutation.py: a wrong diagnosis must fail a test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from lmdoctor.context import Ctx, Session, Settings
from lmdoctor.findings import Finding, Severity, error, ok
from lmdoctor.http import HttpClient
from lmdoctor.registry import Check, order
from lmdoctor.results import Report
from lmdoctor.runner import run
from lmdoctor.target import Target

T = Target(name="t", provider="openai", api_base="http://127.0.0.1:9/v1", model_id="m")
T2 = Target(name="t2", provider="openai", api_base="http://127.0.0.1:9/v1", model_id="m2")


def _check(
    cid: str, result: list[Finding] | Exception, needs: tuple[str, ...] = (), **kw: object
) -> Check:
    async def go(ctx: Ctx) -> list[Finding]:
        if isinstance(result, Exception):
            raise result
        return result

    return Check(id=cid, title=cid.title(), run=go, needs=needs, **kw)  # type: ignore[arg-type]


def _report(
    checks: Sequence[Check],
    targets: Sequence[Target] = (T,),
    settings: Settings | None = None,
    progress=None,
) -> Report:
    settings = settings or Settings()

    async def go() -> Report:
        http = HttpClient(settings)
        try:
            return await run(Session(settings, http), targets, order(list(checks)), progress)
        finally:
            await http.aclose()

    return asyncio.run(go())


def _findings(checks: Sequence[Check], **kw) -> list[Finding]:
    return _report(checks, **kw).results[0].findings


# --- runner: skips, crashes, timings, progress -------------------------------------------------


def test_a_skip_names_the_cause_an_error_or_an_upstream_skip():
    found = _findings(
        [
            _check("a", [error("net.refused", "nothing listens")]),
            _check("b", [ok("b.ok", "fine")], needs=("a",)),
            _check("c", [ok("c.ok", "fine")], needs=("b",)),
        ]
    )
    by = {f.code: f for f in found}
    assert by["b.skipped"].summary == "B: not run, because a found net.refused"
    assert by["c.skipped"].summary == "C: not run, because b was skipped"
    assert by["c.skipped"].evidence == {"needs": "b", "cause": "b.skipped"}


def test_a_need_that_is_not_installed_does_not_stop_waiting_for_the_others():
    # "x" is not installed: no verdict to wait for, but "a"'s error must still skip "b".
    found = _findings(
        [
            _check("a", [error("net.refused", "nothing listens")]),
            _check("b", [ok("b.ok", "fine")], needs=("x", "a")),
        ]
    )
    assert [f.code for f in found] == ["net.refused", "b.skipped"]


def test_a_crash_names_the_package_and_shows_the_traceback_only_with_verbose():
    boom = RuntimeError("boom")
    plain = _findings([_check("a", boom)])[0]
    assert plain.code == "internal.error" and plain.severity is Severity.ERROR
    assert "traceback" not in plain.evidence and plain.evidence["exception"] == "RuntimeError"
    assert "(package unknown)" in plain.fix
    named = _findings([_check("a", boom, package="acme-checks")])[0]
    assert "(package acme-checks)" in named.fix
    verbose = _findings([_check("a", boom)], settings=Settings(verbose=True))[0]
    assert "RuntimeError: boom" in verbose.evidence["traceback"]


def test_durations_are_elapsed_seconds_and_progress_counts_targets():
    seen: list[tuple[int, int]] = []
    prefetched: list[object] = []
    started = time.perf_counter()
    report = _report(
        [
            _check("a", [ok("a.ok", "fine")], prefetch=prefetched.append),
            _check("b", [ok("b.ok", "fine")]),
        ],
        targets=(T, T2),
        progress=lambda done, total: seen.append((done, total)),
    )
    elapsed = time.perf_counter() - started
    assert sorted(seen) == [(1, 2), (2, 2)]
    assert len(prefetched) == 1  # once per run, not per target
    assert 0 <= report.duration_s <= elapsed
    for result in report.results:
        assert 0 <= result.duration_s <= elapsed
        assert set(result.timings) == {"a", "b"}
        assert all(0 <= s <= elapsed for s in result.timings.values())


# --- findings and results: the currency and the tally ------------------------------------------


def test_a_finding_is_a_value_no_check_or_renderer_can_change():
    import dataclasses

    f = error("net.refused", "nothing listens", fix="start it")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.severity = Severity.OK  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.fix = ""  # type: ignore[misc]


def test_the_tally_counts_zero_for_severities_nobody_found():
    from lmdoctor.render import RenderOptions, summary_line
    from lmdoctor.results import TargetResult

    report = Report([TargetResult(T, [ok("a.ok", "fine"), ok("b.ok", "fine")])], duration_s=0.5)
    assert report.summary() == {"error": 0, "warn": 0, "info": 0, "ok": 2, "skip": 0}
    assert summary_line(report, RenderOptions()) == (
        "0 errors, 0 warnings, 0 info, 2 ok, 0 skipped — 1 target in 0.50 s"
    )
