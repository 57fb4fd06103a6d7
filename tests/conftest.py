from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

# The per-boot RAM-bandwidth measurement is cached in a directory of this test session, never in
# the user's cache (lmdoctor/hardware.py ram_bandwidth). It is measured once, here, so that the
# CLI runs under test (peak-RSS bounds) read it like every run after the first of a boot does.
if "LMDOCTOR_CACHE_DIR" not in os.environ:
    os.environ["LMDOCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="lmdoctor-test-cache-")
    from lmdoctor import hardware as _hardware

    _hardware.ram_bandwidth(threads=2)
    _hardware.ram_bandwidth(threads=1, cache=_hardware.CACHE_NAME_1T)

from lmdoctor.context import Session, Settings
from lmdoctor.findings import Finding, Severity
from lmdoctor.http import HttpClient
from lmdoctor.registry import load_checks, select
from lmdoctor.runner import run_target
from lmdoctor.target import Target

# Two timeout settings, by what the test expects (a loopback server in this process answers in
# milliseconds, but on a loaded machine the process may not run for seconds at a time):
# - PATIENT, the default: the test expects an answer. Long timeouts cost nothing when the server
#   answers, and a starved process never turns a healthy server into a timeout.
# - SHORT: only for a test whose subject IS a timeout, against a peer that never answers within
#   the test (a hang, a black hole), never one that is merely a little slower than SHORT.
PATIENT = Settings(connect_timeout=5.0, read_timeout=8.0)
SHORT = Settings(connect_timeout=1.0, read_timeout=1.5)


def diagnose(
    target: Target, only: Sequence[str] = (), settings: Settings = PATIENT, bench: bool = False
) -> list[Finding]:
    """Run the installed checks (optionally --only some) on one target, in process."""

    async def go() -> list[Finding]:
        checks, _ = load_checks()
        http = HttpClient(settings)
        try:
            result = await run_target(
                Session(settings, http), target, select(checks, only, bench=bench)
            )
        finally:
            await http.aclose()
        return result.findings

    return asyncio.run(go())


def codes(findings: Sequence[Finding], at_least: Severity = Severity.SKIP) -> list[str]:
    return [f.code for f in findings if f.severity >= at_least]


def by_code(findings: Sequence[Finding], code: str) -> Finding:
    matches = [f for f in findings if f.code == code]
    assert matches, f"no {code} in {[f.code for f in findings]}"
    return matches[0]


@pytest.fixture
def settings() -> Settings:
    return PATIENT


@pytest.fixture
def patient_sse(monkeypatch):
    """llama.cpp's router event stream read with a patience far above its 1.5-s product value
    (lmdoctor/servers/llamacpp.py SSE_PATIENCE_S, the deadline and first-byte timeout of a
    stream that never ends on a real router): the fakes' stream ends after its events, so this
    costs nothing, and a loaded machine cannot cut the stream before its first byte."""
    from lmdoctor.servers import llamacpp

    monkeypatch.setattr(llamacpp, "SSE_PATIENCE_S", 30.0)


@pytest.fixture(autouse=True)
def _forget_secrets_between_tests():
    """Keys registered by one test (e.g. a key literally named "wrong") must not scrub the
    words of another test's expected output."""
    from lmdoctor import redact

    saved = set(redact._known)
    yield
    redact._known.clear()
    redact._known.update(saved)


@pytest.fixture
def simulate(monkeypatch):
    """Run under another OS's rules: simulate("Windows", env=..., commands=..., registry=...)
    makes lmdoctor.system.current() return that System for the test."""
    from lmdoctor import system

    def use(name: str, **kw: object) -> system.System:
        simulated = system.System.simulate(name, **kw)  # type: ignore[arg-type]
        monkeypatch.setattr(system, "_current", simulated)
        return simulated

    return use
