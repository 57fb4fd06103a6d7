"""Probes for the exporter: the same runner and checks as `lmdoctor check`, on one asyncio loop in
a background thread (the HTTP server's threads hand work to it).

Concurrent probes of one target share one run (two Prometheus servers, or a scrape and a person
with curl, cost the endpoint one set of requests). Each probe waits at most its own deadline
(from Prometheus' X-Prometheus-Scrape-Timeout-Seconds); the per-phase timeouts of a run are cut
to fit the deadline it was started with, so the answer normally arrives in time; when it does
not, the probe answers `internal.timeout` and the shared run goes on for the others.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from lmdoctor.findings import Finding, Severity
from lmdoctor.registry import Check
from lmdoctor.results import Report, TargetResult
from lmdoctor.settings import DEFAULT_CONNECT_TIMEOUT_S, DEFAULT_READ_TIMEOUT_S, Settings
from lmdoctor.target import Target

# A run's per-phase timeouts are at most this share of its deadline: a dead endpoint costs about
# one phase timeout, and the checks after the network one need some time too.
PHASE_SHARE = 1 / 3
MIN_PHASE_TIMEOUT_S = 0.1


@dataclass(frozen=True)
class LastResult:
    """For the / page: how the last probe of a target ended."""

    at: float
    success: bool
    duration_s: float
    errors: tuple[str, ...]


def settings_for(timeout: float | None, deadline: float | None, bench: bool) -> Settings:
    connect = timeout or DEFAULT_CONNECT_TIMEOUT_S
    read = timeout or DEFAULT_READ_TIMEOUT_S
    if deadline is not None:
        cap = max(MIN_PHASE_TIMEOUT_S, deadline * PHASE_SHARE)
        connect, read = min(connect, cap), min(read, cap)
    return Settings(connect_timeout=connect, read_timeout=read, bench=bench)


def timed_out(targets: Sequence[Target], deadline: float) -> Report:
    """What a probe answers when its deadline passes first: every target failed."""
    finding = Finding(
        "internal.timeout",
        Severity.ERROR,
        f"The probe did not finish within its deadline of {deadline:g} s",
        "The scrape timeout ends before the checks do; a dead endpoint costs one phase timeout.",
        "Raise scrape_timeout for this job, or lower lmdoctor serve --timeout.",
        {"deadline_s": deadline},
        check="probe",
    )
    results = [TargetResult(t, [finding], deadline) for t in targets]
    return Report(results, duration_s=deadline)


class Prober:
    def __init__(self, checks: Sequence[Check], timeout: float | None) -> None:
        self.checks, self.timeout = list(checks), timeout
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="lmdoctor-probes", daemon=True
        )
        self._inflight: dict[tuple[str, bool], asyncio.Task[Report]] = {}
        self.runs = 0  # runs started (shared probes count once)
        self.last: dict[str, LastResult] = {}
        self._thread.start()

    def close(self) -> None:
        """Cancel the runs still going (their HTTP clients close), then stop the loop."""
        try:
            asyncio.run_coroutine_threadsafe(self._cancel_all(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self.loop.close()

    async def _cancel_all(self) -> None:
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def probe(
        self, key: str, targets: Sequence[Target], bench: bool, deadline: float
    ) -> tuple[Report, bool]:
        """(report, in time) for `targets`, known to the caller as `key`; blocks the calling
        (HTTP server) thread at most `deadline` seconds, plus scheduling."""
        future = asyncio.run_coroutine_threadsafe(
            self._shared(key, list(targets), bench, deadline), self.loop
        )
        report = future.result()
        if report is None:
            return timed_out(targets, deadline), False
        return report, True

    async def _shared(
        self, key: str, targets: list[Target], bench: bool, deadline: float
    ) -> Report | None:
        task = self._inflight.get((key, bench))
        if task is None:
            task = asyncio.ensure_future(self._run(key, targets, bench, deadline))
            self._inflight[(key, bench)] = task
            task.add_done_callback(lambda t: self._forget((key, bench), t))
        try:
            # shield: this probe giving up must not cancel the run others wait for
            return await asyncio.wait_for(asyncio.shield(task), deadline)
        except asyncio.TimeoutError:
            return None

    def _forget(self, key: tuple[str, bool], task: asyncio.Task[Report]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]

    async def _run(self, key: str, targets: list[Target], bench: bool, deadline: float) -> Report:
        from lmdoctor import runner
        from lmdoctor.context import Session
        from lmdoctor.http import HttpClient
        from lmdoctor.registry import select

        self.runs += 1
        settings = settings_for(self.timeout, deadline, bench)
        checks = select(self.checks, bench=bench)
        http = HttpClient(settings)
        try:
            report = await runner.run(Session(settings, http), targets, checks)
        finally:
            await http.aclose()
        errors = sorted({f.code for f in report.findings if f.severity is Severity.ERROR})
        self.last[key] = LastResult(
            time.time(), report.worst() < Severity.ERROR, report.duration_s, tuple(errors)
        )
        return report
