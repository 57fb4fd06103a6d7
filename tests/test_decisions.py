"""Verdicts asserted through public interfaces (findings, CLI exit codes, rendered levels), each
written to kill a mutant that survived tools/mutation.py: a wrong diagnosis must fail a test."""

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


def _check(cid: str, result: list[Finding] | Exception, needs: tuple[str, ...] = (),
           **kw: object) -> Check:
    async def go(ctx: Ctx) -> list[Finding]:
        if isinstance(result, Exception):
            raise result
        return result

    return Check(id=cid, title=cid.title(), run=go, needs=needs, **kw)  # type: ignore[arg-type]


def _report(checks: Sequence[Check], targets: Sequence[Target] = (T,),
            settings: Settings | None = None, progress=None) -> Report:
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
    found = _findings([
        _check("a", [error("net.refused", "nothing listens")]),
        _check("b", [ok("b.ok", "fine")], needs=("a",)),
        _check("c", [ok("c.ok", "fine")], needs=("b",)),
    ])
    by = {f.code: f for f in found}
    assert by["b.skipped"].summary == "B: not run, because a found net.refused"
    assert by["c.skipped"].summary == "C: not run, because b was skipped"
    assert by["c.skipped"].evidence == {"needs": "b", "cause": "b.skipped"}


def test_a_need_that_is_not_installed_does_not_stop_waiting_for_the_others():
    # "x" is not installed: no verdict to wait for, but "a"'s error must still skip "b".
    found = _findings([
        _check("a", [error("net.refused", "nothing listens")]),
        _check("b", [ok("b.ok", "fine")], needs=("x", "a")),
    ])
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
        [_check("a", [ok("a.ok", "fine")], prefetch=prefetched.append),
         _check("b", [ok("b.ok", "fine")])],
        targets=(T, T2), progress=lambda done, total: seen.append((done, total)),
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


# --- the CLI's exit code and where its lines go (real loopback server, real run) ----------------


def _cli(args: list[str]):
    from click.testing import CliRunner

    from lmdoctor.cli import main

    env = {"NO_COLOR": "1", "CLICOLOR_FORCE": None, "GITHUB_STEP_SUMMARY": None}
    return CliRunner(env=env).invoke(main, args)


@pytest.fixture
def served():
    import fakes

    with fakes.llama_cpp_python("smollm2") as server:
        yield f"{server.url}/v1"


def test_exit_0_when_healthy_and_the_summary_names_the_report_file(served, tmp_path):
    out = tmp_path / "report.txt"
    result = _cli(["check", served, "--model", "smollm2", "--only", "models", "--timeout", "2",
                   "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(f"(report written to {out})\n")
    assert result.stdout.startswith("0 errors,")
    quiet = _cli(["check", served, "--model", "smollm2", "--only", "models", "--timeout", "2",
                  "-q", "--output", str(out)])
    assert (quiet.exit_code, quiet.stdout) == (0, "")


def test_exit_1_when_nothing_listens_and_quiet_still_says_so(tmp_path):
    from loopback import free_port

    out = tmp_path / "report.txt"
    dead = f"http://127.0.0.1:{free_port()}/v1"
    result = _cli(["check", dead, "--model", "m", "--only", "network", "--timeout", "2",
                   "-q", "--format", "json", "--output", str(out)])
    assert result.exit_code == 1
    assert result.stdout.startswith("1 error") and f"(report written to {out})" in result.stdout
    import json

    found = [f for t in json.loads(out.read_text())["targets"] for f in t["findings"]]
    # refused, or wrong_port when another test's server happens to listen nearby
    errors = [f["code"] for f in found if f["severity"] == "error"]
    assert len(errors) == 1 and errors[0] in ("net.refused", "net.wrong_port")


def test_exit_2_with_one_line_on_stderr_for_a_broken_config(tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{ not json")
    result = _cli(["check", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("lmdoctor: error: ") and result.stderr.count("\n") == 1


# --- proxy: what the net.proxy finding shows ---------------------------------------------------

# A proxy that answers 400 without naming itself (no Server, no Via): a made-up answer, not an
# emulation of a particular proxy; the finding must still say the proxy answered.
BAD_BODY = "bad request-uri:" + "x" * 200  # longer than the 160 characters quoted
BAD_REQUEST = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 216\r\n"
    b"Connection: close\r\n\r\n" + BAD_BODY.encode()
)


def _answer_400(conn) -> None:
    data = b""
    while b"\r\n\r\n" not in data and (chunk := conn.recv(4096)):
        data += chunk
    conn.sendall(BAD_REQUEST)


def test_a_proxy_answering_400_is_an_error_quoting_its_body_not_the_healthy_one(monkeypatch):
    from conftest import diagnose
    from loopback import RawServer, Reply, Server

    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY",
                 "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    models = Reply(200, {"object": "list", "data": [{"id": "m", "object": "model"}]})
    with Server({"/v1/models": models}) as llm, RawServer(_answer_400) as proxy:
        t = Target(name="t", api_base=f"{llm.url}/v1", model="m", model_id="m",
                   proxy=proxy.url, entry="model_list[0]")
        found = [f for f in diagnose(t, only=["proxy"]) if f.code == "net.proxy"]
    assert len(found) == 1 and found[0].severity is Severity.ERROR
    finding = found[0]
    assert finding.summary.endswith("answers 400 (direct: 200)")
    assert "reach the proxy, not the LLM server" in finding.detail
    assert finding.evidence["via_proxy"] == {"status": 400, "body": BAD_BODY[:160] + "…"}
    assert "body" not in finding.evidence["direct"]  # a healthy answer is not quoted


# --- .security.yml: which key an entry sends ---------------------------------------------------


def _two_same_names(tmp_path, security: str):
    from lmdoctor.config import load

    (tmp_path / "config.json").write_text(
        '{"version": 3, "model_list": ['
        '{"model_name": "m", "model": "openai/m", "api_base": "http://127.0.0.1:1/v1"},'
        '{"model_name": "m", "model": "openai/m", "api_base": "http://127.0.0.1:2/v1"}]}'
    )
    (tmp_path / ".security.yml").write_text(security)
    return [t for t in load(tmp_path / "config.json", env={}).entries if t.name == "m"]


def test_security_yml_name_index_wins_over_the_plain_name(tmp_path):
    # PicoClaw writes "name:index"; the plain "name" is the fallback for every same-named entry
    first, second = _two_same_names(
        tmp_path,
        'model_list:\n  m:\n    api_keys: ["plain-name-key"]\n'
        '  "m:0":\n    api_keys: ["indexed-zero-key"]\n',
    )
    assert first.api_key.reveal() == "indexed-zero-key"
    assert first.sources["api_key"] == ".security.yml model_list.m:0"
    assert second.api_key.reveal() == "plain-name-key"
    assert second.sources["api_key"] == ".security.yml model_list.m"


def test_an_empty_indexed_entry_falls_back_to_the_plain_name(tmp_path):
    first, _ = _two_same_names(
        tmp_path,
        'model_list:\n  "m:0":\n    api_keys: []\n  m:\n    api_keys: ["plain-name-key"]\n',
    )
    assert first.api_key.reveal() == "plain-name-key"
