"""Hostile servers: lmdoctor answers in bounded time and memory, with a finding, never a crash.

Two layers, against the same peers (tests/hostile.py):
(a) `HttpClient.request` directly: bounded body (`truncated`), bounded time, bounded memory.
(b) the whole CLI in a subprocess: `python -m lmdoctor check URL --model x --timeout 1
    --format json`. The bound: exit 0 or 1, no traceback, valid JSON, a sensible finding, peak
    RSS < 100 MB, and wall time < 2 x the request deadline that `--timeout 1` gives (every phase
    once plus the body, Settings.request_deadline: 4 s, so 8 s), process start included.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from conftest import PATIENT
from hostile import HOSTILE, Handler
from lmdoctor.context import Settings
from lmdoctor.http import LIST_LIMIT, MAX_REDIRECTS, PROBE_LIMIT, DeadlineExceeded, HttpClient
from loopback import RawServer
from portable import need, need_linux

# Short timeouts only against peers that never answer (silent, dribble: the timeouts are the
# subject); every peer that answers at once gets patient ones, so that a loaded machine that
# stalls this process never turns its answer into a timeout (tests/conftest.py PATIENT).
SHORT = Settings(connect_timeout=0.5, read_timeout=1.0)
DEADLINE = SHORT.request_deadline  # 3 s
HANGS = {"silent", "dribble"}

CLI_TIMEOUT = 1.0  # --timeout for the peers in HANGS
CLI_PATIENT_TIMEOUT = 5.0  # for the others
# Bounded by lmdoctor's timeouts, not the peer: silent waits 30 s, dribble sends for an hour
# (4 s of deadline with --timeout 1, plus start-up on a loaded machine)
CLI_BOUND_S = 20.0
CLI_MAX_RSS = 100 * 1024 * 1024
CLI_MAX_OUTPUT = 256 * 1024  # a report must not echo a hostile payload


# -- (a) the HTTP client --------------------------------------------------------------------


@dataclass
class Fetched:
    result: Any  # a Response, or the exception raised
    elapsed: float
    peak: int  # bytes allocated by Python at the worst moment (tracemalloc)


def fetch(handler: Handler, limit: int = PROBE_LIMIT, settings: Settings = PATIENT) -> Fetched:
    async def go(url: str) -> Any:
        http = HttpClient(settings)
        try:
            return await http.request("GET", url, limit=limit)
        finally:
            await http.aclose()

    with RawServer(handler) as server:
        tracemalloc.start()
        started = time.perf_counter()
        try:
            result: Any = asyncio.run(go(server.url + "/v1/models"))
        except Exception as exc:
            result = exc
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return Fetched(result, elapsed, peak)


@pytest.mark.parametrize(
    ("name", "limit"),
    [("endless_chunked", PROBE_LIMIT), ("huge_body", LIST_LIMIT), ("gzip_bomb", LIST_LIMIT)],
)
def test_endless_huge_and_bomb_bodies_are_cut_at_the_limit(name: str, limit: int) -> None:
    got = fetch(HOSTILE[name], limit)
    assert not isinstance(got.result, Exception), repr(got.result)
    assert got.result.truncated
    assert len(got.result.body) <= limit
    assert got.result.json() is None  # never parse half a document
    # (cut by the limit, not by a timeout or the deadline: those raise)
    assert got.peak < 4 * limit + 8 * 1024 * 1024, f"peak {got.peak / 2**20:.1f} MiB"


def test_gzip_bomb_is_decompressed_only_up_to_the_limit() -> None:
    got = fetch(HOSTILE["gzip_bomb"], PROBE_LIMIT)
    assert got.result.truncated
    assert got.result.body == bytes(len(got.result.body))  # zeros, decoded, capped
    assert len(got.result.body) == PROBE_LIMIT


def test_headers_dribbled_a_byte_a_second_stop_at_the_deadline() -> None:
    # A read timeout well above the 1 s between bytes: every read succeeds, only the deadline
    # stops it (1.5 s was too close: a stalled process read a 1-s gap as a read timeout).
    patient = Settings(connect_timeout=0.5, read_timeout=3.0)
    got = fetch(HOSTILE["dribble"], settings=patient)
    assert isinstance(got.result, DeadlineExceeded), repr(got.result)
    assert isinstance(got.result, httpx.TimeoutException)  # callers classify it as a timeout
    deadline = patient.request_deadline
    assert deadline - 0.1 <= got.elapsed < deadline + 5.0  # the peer sends for an hour


def test_silent_socket_times_out_on_the_read_timeout() -> None:
    got = fetch(HOSTILE["silent"], settings=SHORT)
    assert isinstance(got.result, httpx.TimeoutException), repr(got.result)
    assert got.elapsed < DEADLINE + 5.0  # the peer waits 30 s


def test_non_http_banner_is_a_protocol_error_at_once() -> None:
    got = fetch(HOSTILE["banner"])
    assert isinstance(got.result, httpx.HTTPError), repr(got.result)
    assert not isinstance(got.result, httpx.TimeoutException)
    assert got.elapsed < PATIENT.read_timeout  # at once, not after waiting for more


def test_redirect_loop_stops_after_a_few_hops() -> None:
    got = fetch(HOSTILE["redirect_loop"])
    assert got.result.status == 302
    assert len(got.result.redirects) == MAX_REDIRECTS
    assert got.elapsed < PATIENT.read_timeout


@pytest.mark.parametrize("name", ["invalid_json", "invalid_utf8", "html_200"])
def test_bodies_that_are_not_json_parse_to_none(name: str) -> None:
    got = fetch(HOSTILE[name])
    assert got.result.status == 200
    assert not got.result.truncated
    assert got.result.json() is None
    assert isinstance(got.result.text, str)  # decoding never raises
    assert isinstance(got.result.snippet(), str)


@pytest.mark.parametrize("name", ["data_null", "data_string", "data_mixed"])
def test_json_of_the_wrong_types_is_returned_as_is(name: str) -> None:
    got = fetch(HOSTILE[name])
    assert isinstance(got.result.json(), dict)  # the parsers' job: tests/test_fuzz_parsers.py


def test_100kb_model_ids_fit_a_list_read_but_not_a_probe() -> None:
    assert fetch(HOSTILE["long_ids"], PROBE_LIMIT).result.truncated
    listed = fetch(HOSTILE["long_ids"], LIST_LIMIT).result
    assert not listed.truncated
    assert len(listed.json()["data"]) == 5


# -- (b) the whole CLI ----------------------------------------------------------------------

# What a sensible diagnosis of each peer looks like (any one of these, at warn or worse).
BAD_BODY = {"http.bad_response", "http.not_llm_server"}
# The port says nothing (or not HTTP): with an LLM server on another port of this machine, the
# network check rightly points there instead.
NOT_HTTP = {"net.no_response", "net.wrong_port"}
EXPECTED: dict[str, set[str]] = {
    "endless_chunked": BAD_BODY | {"net.no_response"},
    "huge_body": BAD_BODY | {"net.no_response"},
    "gzip_bomb": BAD_BODY | {"net.no_response"},
    "dribble": BAD_BODY | NOT_HTTP,
    "redirect_loop": BAD_BODY | {"http.missing_v1"},
    "invalid_json": BAD_BODY,
    "data_null": BAD_BODY | {"model.none_loaded"},
    "data_string": BAD_BODY | {"model.none_loaded"},
    "data_mixed": BAD_BODY | {"model.none_loaded", "model.not_found"},
    "long_ids": BAD_BODY | {"model.not_found"},
    "invalid_utf8": BAD_BODY | {"model.not_found"},
    "html_200": BAD_BODY | {"http.missing_v1"},
    "terminal_escapes": {"auth.missing_key", "auth.invalid_key"},
    "banner": BAD_BODY | NOT_HTTP | {"net.tls_mismatch"},
    "silent": NOT_HTTP | {"net.timeout"},
}


@dataclass
class CliRun:
    rc: int
    stdout: str
    stderr: str
    elapsed: float
    max_rss: int  # bytes

    def codes(self) -> list[str]:
        data = json.loads(self.stdout)
        return [
            f["code"]
            for t in data["targets"]
            for f in t["findings"]
            if f["severity"] in ("warn", "error")
        ]


# Runs the command given after its own two arguments and reports the child's wall time and peak
# RSS. A fresh small process in between matters: Linux carries a process's peak RSS across
# fork+exec, so a child forked straight from a big pytest would "peak" at pytest's size.
_MEASURE = """
import os, sys, threading, time
report, limit = sys.argv[1], float(sys.argv[2])
started = time.perf_counter()
pid = os.posix_spawn(sys.argv[3], sys.argv[3:], os.environ)
killer = threading.Timer(limit, os.kill, (pid, 9))
killer.start()
_, status, usage = os.wait4(pid, 0)
killer.cancel()
with open(report, "w", encoding="utf-8") as out:
    out.write(f"{time.perf_counter() - started} {usage.ru_maxrss * 1024}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_cli(
    url: str, limit_s: float = 60, fmt: str = "json", timeout: float = CLI_PATIENT_TIMEOUT
) -> CliRun:
    """Run lmdoctor on `url`: exit code, output, wall time and peak RSS of that process."""
    need("posix_spawn", "wait4")
    need_linux("ru_maxrss is KiB on Linux only (bytes on macOS)")
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    cmd = [sys.executable, "-m", "lmdoctor", "check", url, "--model", "x"]
    cmd += ["--timeout", str(timeout), "--format", fmt, "-v"]
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "usage")
        done = subprocess.run(
            [sys.executable, "-c", _MEASURE, report, str(limit_s), *cmd],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=limit_s + 10,
        )
        with open(report, encoding="utf-8") as usage:
            elapsed, max_rss = usage.read().split()
    return CliRun(
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        float(elapsed),
        int(max_rss),  # Linux reports KiB; converted above
    )


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_cli_against_hostile_server(name: str) -> None:
    with RawServer(HOSTILE[name]) as server:
        run = run_cli(
            f"{server.url}/v1", timeout=CLI_TIMEOUT if name in HANGS else CLI_PATIENT_TIMEOUT
        )
    context = f"{name}: exit {run.rc} in {run.elapsed:.2f} s\nstderr: {run.stderr[-1500:]}"
    assert run.rc in (0, 1), context
    assert "Traceback" not in run.stderr, context
    assert len(run.stdout) < CLI_MAX_OUTPUT, f"{name}: {len(run.stdout)} bytes of report"
    codes = run.codes()
    assert not [c for c in codes if c.startswith("internal.")], f"{context}\n{codes}"
    assert set(codes) & EXPECTED[name], f"{context}\nfindings: {codes}"
    assert run.elapsed < CLI_BOUND_S, context
    assert run.max_rss < CLI_MAX_RSS, f"{name}: peak RSS {run.max_rss / 2**20:.0f} MiB"


@pytest.mark.parametrize("name", ["terminal_escapes", "gzip_bomb", "banner"])
def test_cli_table_never_prints_a_servers_control_characters(name: str) -> None:
    with RawServer(HOSTILE[name]) as server:
        run = run_cli(f"{server.url}/v1", fmt="table")
    assert run.rc in (0, 1), run.stderr[-1500:]
    shown = run.stdout + run.stderr
    assert not [c for c in shown if c < " " and c not in "\n\t"], repr(shown[:2000])
    assert "\x9b" not in shown and "\x7f" not in shown
