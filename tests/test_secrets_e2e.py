"""End to end: secrets planted everywhere appear in no output of any format, and no file.

Keys are planted in config.json (model_list api_keys), .security.yml, --api-key,
$LMDOCTOR_API_KEY, URLs (userinfo and ?api_key=), a proxy URL, and in a loopback server's
answers (error bodies and a /v1/models id that echo whatever credential they received). Every
format of `check` (with and without -v), `report` (Markdown, JSON, --mask-hosts), --output
files and $GITHUB_STEP_SUMMARY are searched for each of them. A redirect to another origin
must never carry Authorization.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import PATIENT
from lmdoctor.cli import _scrubbed_excepthook, main
from lmdoctor.http import HttpClient
from lmdoctor.redact import Secret
from loopback import Reply, Seen, Server, free_port
from portable import utf8

CONFIG_KEY = "sk-lm-PLANTEDcfg0123456789abcdef"  # key-shaped: caught by pattern and by value
SECURITY_KEY = "PLANTEDsecurity0123456789xyz"  # not key-shaped: only known-value scrubbing
FLAG_KEY = "sk-lm-PLANTEDflag0123456789abcdef"
ENV_KEY = "PLANTEDenv0123456789qwerty"
URL_PASSWORD = "PLANTEDurlpass0123456789"
QUERY_KEY = "PLANTEDquery0123456789zz"
PROXY_PASSWORD = "PLANTEDproxy0123456789pp"
PLANTED = (CONFIG_KEY, SECURITY_KEY, FLAG_KEY, ENV_KEY, URL_PASSWORD, QUERY_KEY, PROXY_PASSWORD)

FORMATS = ("table", "json", "markdown", "junit", "github", "openmetrics")


def _credentials(seen: Seen) -> str:
    """Whatever credential the request carried, decoded: what a careless server echoes."""
    auth = seen.headers.get("Authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "basic":
        value = base64.b64decode(value).decode(errors="replace")
    return f"{value} {seen.path}"


def _models(seen: Seen) -> Reply:
    echoed = _credentials(seen)
    return Reply(200, {"object": "list", "data": [{"id": "real-model"}, {"id": f"m-{echoed}"}]})


def _refuse(seen: Seen) -> Reply:
    message = f"Incorrect API key provided: {_credentials(seen)}"
    return Reply(401, {"error": {"message": message, "code": "invalid_api_key"}})


def _not_found(seen: Seen) -> Reply:
    return Reply(404, f"<html>no route for {_credentials(seen)}</html>")


@pytest.fixture(scope="module")
def echo_server() -> Iterator[Server]:
    routes = {"/v1/models": _models, "POST /v1/chat/completions": _refuse}
    with Server(routes, default=_not_found) as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, echo_server: Server) -> Path:
    base = f"{echo_server.url}/v1"
    host_port = base.split("://", 1)[1]
    doc = {
        "version": 3,
        "agents": {"defaults": {"model_name": "planted-config"}},
        "model_list": [
            {
                "model_name": "planted-config",
                "model": "openai/real-model",
                "api_base": base,
                "api_keys": [CONFIG_KEY],
            },
            {"model_name": "planted-security", "model": "openai/real-model", "api_base": base},
            {
                "model_name": "planted-url",
                "model": "openai/real-model",
                "api_base": f"http://user:{URL_PASSWORD}@{host_port}?api_key={QUERY_KEY}",
            },
            {
                "model_name": "planted-proxy",
                "model": "openai/real-model",
                "api_base": base,
                "proxy": f"http://puser:{PROXY_PASSWORD}@127.0.0.1:{free_port()}",
            },
        ],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc, indent=2))
    (tmp_path / ".security.yml").write_text(
        f"model_list:\n  planted-security:\n    api_keys: [{SECURITY_KEY}]\n"
    )
    return path


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"NO_COLOR": None, "CLICOLOR_FORCE": "1", **(env or {})})
    result = runner.invoke(main, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"lmdoctor crashed on {args}: {result.exception!r}") from (
            result.exception
        )
    return result


def _assert_clean(text: str, what: str) -> None:
    for secret in PLANTED:
        assert secret not in text, f"{secret} leaked into {what}:\n{text}"


def _runs(config: Path, tmp_path: Path) -> Iterator[tuple[list[str], dict[str, str]]]:
    common = ["--config", str(config), "--all", "--timeout", "1"]
    for fmt in FORMATS:  # -v everywhere: it shows the most (details, ok findings, tracebacks)
        yield ["check", *common, "--format", fmt, "-v"], {}
    yield ["check", *common], {}
    yield ["check", *common, "--format", "junit", "--output", str(tmp_path / "out.xml")], {}
    summary = tmp_path / "step-summary.md"
    yield ["check", *common, "--format", "github"], {"GITHUB_STEP_SUMMARY": str(summary)}
    yield ["report", *common], {}
    yield ["report", *common, "--format", "json", "-v"], {}
    yield ["report", *common, "--mask-hosts", "--output", str(tmp_path / "report.md")], {}


def test_no_planted_secret_in_any_output_or_file(config: Path, tmp_path: Path) -> None:
    ran = 0
    for args, env in _runs(config, tmp_path):
        result = _invoke(args, env)
        assert result.exit_code in (0, 1), (args, result.output)
        _assert_clean(result.stdout + result.stderr, " ".join(args))
        ran += 1
    written = sorted(p for p in tmp_path.iterdir() if p.suffix in (".xml", ".md"))
    assert [p.name for p in written] == ["out.xml", "report.md", "step-summary.md"]
    for path in written:
        assert utf8(path).strip(), path
        _assert_clean(utf8(path), str(path))
    assert ran == 12


def test_the_server_really_saw_and_echoed_the_keys(config: Path, echo_server: Server) -> None:
    """Guard against a vacuous pass: the keys did travel to the server that echoes them."""
    echo_server.seen.clear()
    args = ["check", "--config", str(config), "--all", "--timeout", "1", "--format", "json", "-v"]
    result = _invoke(args)
    sent = " ".join(_credentials(seen) for seen in echo_server.seen)
    assert CONFIG_KEY in sent and SECURITY_KEY in sent
    assert "***" in result.stdout  # an echo reached the output, scrubbed


@pytest.mark.parametrize("fmt", FORMATS)
def test_adhoc_key_from_flag_and_environment(echo_server: Server, fmt: str) -> None:
    url = f"{echo_server.url}/v1"
    by_flag = ["check", url, "--model", "real-model", "--api-key", FLAG_KEY, "--timeout", "1"]
    result = _invoke([*by_flag, "--format", fmt, "-v"])
    _assert_clean(result.stdout + result.stderr, f"ad-hoc {fmt}")
    by_env = ["check", url, "--model", "real-model", "--timeout", "1", "--format", fmt]
    result = _invoke(by_env, {"LMDOCTOR_API_KEY": ENV_KEY})
    _assert_clean(result.stdout + result.stderr, f"ad-hoc {fmt} with $LMDOCTOR_API_KEY")


@pytest.mark.parametrize(
    "url",
    [
        "http://user:{pw}@127.0.0.1:{port}/v1",
        "http://127.0.0.1:{port}/v1?api_key={query}",
    ],
)
def test_adhoc_url_with_credentials(echo_server: Server, url: str) -> None:
    url = url.format(pw=URL_PASSWORD, query=QUERY_KEY, port=echo_server.port)
    for command in ("check", "report"):
        result = _invoke([command, url, "--model", "real-model", "--timeout", "1", "-v"])
        assert result.exit_code in (0, 1, 2)
        _assert_clean(result.stdout + result.stderr, f"{command} {url}")


def test_usage_errors_on_stderr_are_scrubbed(tmp_path: Path) -> None:
    missing = tmp_path / CONFIG_KEY / "config.json"
    result = _invoke(["check", "--config", str(missing)])
    assert result.exit_code == 2
    assert "lmdoctor" in result.stderr
    _assert_clean(result.stderr + result.stdout, "the usage error")


def test_a_crash_traceback_is_scrubbed(capsys: pytest.CaptureFixture[str]) -> None:
    Secret(SECURITY_KEY)
    try:
        raise RuntimeError(f"loader bug near {SECURITY_KEY} and http://u:{URL_PASSWORD}@h/")
    except RuntimeError:
        _scrubbed_excepthook(*sys.exc_info())
    err = capsys.readouterr().err
    assert "RuntimeError" in err and "Traceback" in err
    _assert_clean(err, "the traceback")


# ------------------------------------------------------------------------------------ redirects


def test_a_redirect_to_another_origin_never_carries_authorization() -> None:
    with Server({"/v1/models": Reply(200, {"data": []})}) as other:
        moved = Reply(302, b"", {"Location": f"{other.url}/v1/models"})
        with Server(default=moved) as first:
            key = Secret(FLAG_KEY)

            async def go() -> int:
                http = HttpClient(PATIENT)
                try:
                    reply = await http.request(
                        "GET", f"{first.url}/v1/models", key=key, key_origin=f"{first.url}/v1"
                    )
                finally:
                    await http.aclose()
                return reply.status

            assert asyncio.run(go()) == 200
    assert first.seen and first.seen[0].headers.get("Authorization") == f"Bearer {FLAG_KEY}"
    assert other.seen, "the redirect was not followed"
    assert all("Authorization" not in seen.headers for seen in other.seen)


def test_a_redirecting_endpoint_through_the_cli_leaks_no_authorization(tmp_path: Path) -> None:
    with Server(default=Reply(404, {"error": "nope"})) as other:
        moved = Reply(302, b"", {"Location": f"{other.url}/v1/models"})
        with Server(default=moved) as first:
            config = tmp_path / "config.json"
            entry = {"model_name": "m", "model": "openai/x", "api_base": f"{first.url}/v1"}
            entry["api_keys"] = [CONFIG_KEY]
            doc = {"version": 3, "agents": {"defaults": {"model_name": "m"}}, "model_list": [entry]}
            config.write_text(json.dumps(doc))
            result = _invoke(["check", "--config", str(config), "--timeout", "1", "-v"])
    _assert_clean(result.stdout + result.stderr, "the redirect run")
    assert all("Authorization" not in seen.headers for seen in other.seen)
