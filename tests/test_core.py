"""Runner, registry and CLI spine."""

from __future__ import annotations

import asyncio

from lmdoctor.context import Ctx, Session, Settings
from lmdoctor.findings import Finding, Severity, error, ok
from lmdoctor.http import HttpClient
from lmdoctor.registry import Check, order, select
from lmdoctor.runner import run_target
from lmdoctor.target import Target

T = Target(name="t", provider="openai", api_base="http://127.0.0.1:9/v1", model_id="m")


def _check(
    cid: str, result: list[Finding] | Exception, needs: tuple[str, ...] = (), delay: float = 0.0
) -> Check:
    async def run(ctx: Ctx) -> list[Finding]:
        await asyncio.sleep(delay)
        if isinstance(result, Exception):
            raise result
        return result

    return Check(id=cid, title=cid.title(), run=run, needs=needs)


def _run(checks: list[Check], settings: Settings | None = None) -> list[Finding]:
    settings = settings or Settings()

    async def go() -> list[Finding]:
        http = HttpClient(settings)
        try:
            return (await run_target(Session(settings, http), T, order(checks))).findings
        finally:
            await http.aclose()

    return asyncio.run(go())


def test_dependants_of_a_failed_check_are_skipped_with_the_cause():
    found = _run(
        [
            _check("b", [ok("b.ok", "fine")], needs=("a",)),
            _check("a", [error("net.refused", "nothing listens")]),
            _check("c", [ok("c.ok", "fine")]),
        ]
    )
    assert [f.code for f in found] == ["net.refused", "b.skipped", "c.ok"]
    skip = found[1]
    assert skip.severity is Severity.SKIP and skip.evidence["cause"] == "net.refused"
    assert found[0].check == "a"


def test_a_crash_becomes_a_finding_and_blocks_dependants():
    found = _run([_check("a", RuntimeError("boom")), _check("b", [], needs=("a",))])
    assert found[0].code == "internal.error" and "boom" in found[0].summary
    assert found[1].code == "b.skipped"


def test_a_check_over_its_budget_is_stopped():
    slow = Check(id="slow", title="Slow", run=_check("x", [], delay=5).run, budget_s=0.2)
    found = _run([slow])
    assert found[0].code == "internal.timeout"


def test_independent_checks_run_concurrently():
    import time

    started = time.perf_counter()
    _run([_check(f"c{i}", [], delay=0.3) for i in range(5)])
    assert time.perf_counter() - started < 1.2


def test_select_only_pulls_in_needs_and_skip_drops_exactly():
    checks = order([_check("net", []), _check("auth", [], needs=("net",)), _check("x", [])])
    assert [c.id for c in select(checks, only=["auth"])] == ["net", "auth"]
    assert [c.id for c in select(checks, skip=["net"])] == ["auth", "x"]
