"""The one error boundary: ordering, concurrency, timeouts and crash isolation.

Targets run concurrently; within a target each check starts as soon as the checks it needs
have finished, so a dead endpoint costs one timeout, never a sum of them.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace

from lmdoctor.context import Ctx, Session
from lmdoctor.findings import Finding, Severity
from lmdoctor.registry import Check
from lmdoctor.results import Report, TargetResult
from lmdoctor.target import Target


def _failed(findings: list[Finding]) -> Finding | None:
    """The finding that makes a check count as failed for its dependants, if any."""
    return next(
        (f for f in findings if f.severity in (Severity.ERROR, Severity.SKIP) or f.blocks), None
    )


def skipped(check: Check, need: str, cause: Finding) -> Finding:
    because = "was skipped" if cause.severity is Severity.SKIP else f"found {cause.code}"
    return Finding(
        code=f"{check.id}.skipped",
        severity=Severity.SKIP,
        summary=f"{check.title}: not run, because {need} {because}",
        detail=cause.summary,
        evidence={"needs": need, "cause": cause.code},
        check=check.id,
    )


async def run_check(check: Check, ctx: Ctx) -> list[Finding]:
    """Run one check inside its time budget; a crash or overrun becomes a finding."""
    budget = check.budget_s or ctx.settings.check_budget
    try:
        found = await asyncio.wait_for(check.run(ctx), budget)
    except asyncio.TimeoutError:
        found = [
            Finding(
                "internal.timeout",
                Severity.ERROR,
                f"The {check.id} check did not finish within {budget:g} s",
                "lmdoctor stopped waiting; the endpoint may be extremely slow.",
                "Re-run with a larger --timeout, or report this to lmdoctor if it repeats.",
                {"budget_s": budget},
            )
        ]
    except Exception as exc:
        evidence: dict[str, object] = {"exception": type(exc).__name__}
        if ctx.settings.verbose:
            evidence["traceback"] = traceback.format_exc(limit=8)
        found = [
            Finding(
                "internal.error",
                Severity.ERROR,
                f"The {check.id} check crashed: {type(exc).__name__}: {exc}",
                "This is a bug in lmdoctor or in the plug-in that provides the check.",
                f"Report it (package {check.package or 'unknown'}); run with -v for the traceback.",
                evidence,
            )
        ]
    return [f if f.check else _with_check(f, check.id) for f in found]


def _with_check(finding: Finding, check_id: str) -> Finding:
    return replace(finding, check=check_id)


async def run_target(session: Session, target: Target, checks: Sequence[Check]) -> TargetResult:
    started = time.perf_counter()
    ctx = Ctx(session, target)
    applicable = [c for c in checks if c.applies(target)]
    done: dict[str, asyncio.Future[list[Finding]]] = {
        c.id: asyncio.get_running_loop().create_future() for c in applicable
    }

    timings: dict[str, float] = {}

    async def one(check: Check) -> None:
        for need in check.needs:
            if need not in done:
                continue  # not installed, not selected or not applicable: no verdict to wait for
            cause = _failed(await done[need])
            if cause is not None:
                done[check.id].set_result([skipped(check, need, cause)])
                return
        started_check = time.perf_counter()
        found = await run_check(check, ctx)
        timings[check.id] = time.perf_counter() - started_check
        ctx.earlier[check.id] = found
        done[check.id].set_result(found)

    try:
        await asyncio.gather(*(one(c) for c in applicable))
    finally:
        await ctx.aclose()
    findings = [f for c in applicable for f in done[c.id].result()]
    in_order = {c.id: timings[c.id] for c in applicable if c.id in timings}
    return TargetResult(target, findings, time.perf_counter() - started, in_order)


async def run(
    session: Session,
    targets: Sequence[Target],
    checks: Sequence[Check],
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Diagnose every target concurrently and collect one Report."""
    started = time.perf_counter()
    for check in checks:
        if check.prefetch is not None:
            check.prefetch(session)
    finished = 0

    async def tracked(target: Target) -> TargetResult:
        nonlocal finished
        result = await run_target(session, target, checks)
        finished += 1
        if progress is not None:
            progress(finished, len(targets))
        return result

    results = await asyncio.gather(*(tracked(t) for t in targets))
    return Report(list(results), duration_s=time.perf_counter() - started)
