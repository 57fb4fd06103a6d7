"""Issue 13, items 3, 8 and 9: every usage error is one line and exit 2 (with "did you mean"),
--only/--skip typos never pass silently, Ctrl-C exits 130, and the wording fixes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lmdoctor.cli import main
from lmdoctor.config.picoclaw import adhoc_target
from lmdoctor.config.reading import describe


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner(env={"NO_COLOR": "1", "LMDOCTOR_API_KEY": None, **(env or {})})
    return runner.invoke(main, list(args), catch_exceptions=False)


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lmdoctor: error: "), lines[0]
    assert "Usage:" not in result.output + result.stderr
    return lines[0]


# ------------------------------------------------------------------------------- item 3


@pytest.mark.parametrize("flag", ["--only", "--skip"])
def test_a_mistyped_check_name_is_a_usage_error_with_a_suggestion(flag: str) -> None:
    line = _one_error_line(invoke("check", "http://127.0.0.1:9/v1", flag, "auht"))
    assert "'auht'" in line and "did you mean 'auth'?" in line


def test_only_with_a_mistyped_code_glob_suggests_the_code() -> None:
    line = _one_error_line(invoke("check", "http://127.0.0.1:9/v1", "--only", "net.refsed"))
    assert "did you mean 'net.refused'?" in line


def test_a_name_like_nothing_points_at_the_list_of_checks() -> None:
    line = _one_error_line(invoke("check", "http://127.0.0.1:9/v1", "--only", "zzzzzz"))
    assert "lmdoctor checks" in line


@pytest.mark.parametrize(
    "names", [["auth"], ["net.*"], ["models", "model.not_found"], ["network.skipped"]]
)
def test_real_names_and_globs_are_accepted(names: list[str]) -> None:
    from lmdoctor.registry import load_checks, unknown_names

    checks, _ = load_checks()
    assert unknown_names(checks, names) == []


# ------------------------------------------------------------------------------- item 8


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [
        (["hardwre"], "lmdoctor hardware"),
        (["estimat", "x"], "lmdoctor estimate"),
        (["scna"], "lmdoctor scan"),
        (["chekc", "http://127.0.0.1:9/v1"], "lmdoctor check"),
    ],
)
def test_a_mistyped_command_is_not_taken_for_a_url(args: list[str], suggestion: str) -> None:
    line = _one_error_line(invoke(*args))
    assert f"did you mean `{suggestion}`?" in line
    assert "URL must start" not in line


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--no-such-flag"],
        ["check", "--format", "yaml"],
        ["--fail-on", "never"],
        ["estimate"],
        ["estimate", "x", "y"],
        ["scan", "--timeout", "abc"],
        ["report", "--format", "html"],
        ["check", "--timeout", "0"],
    ],
)
def test_usage_errors_are_one_line(args: list[str]) -> None:
    _one_error_line(invoke(*args))


def test_estimate_takes_every_backend_the_estimator_knows() -> None:
    """--backend's choices are the estimator's backends, SYCL included; an unknown one is a
    usage error that lists them."""
    for backend in ("cuda", "metal", "rocm", "vulkan", "sycl", "cpu"):
        result = invoke("estimate", "llama-3.1-8b", "--bandwidth", "400", "--backend", backend,
                        "--format", "json")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["backend"] == backend
    assert "sycl" in _one_error_line(invoke("estimate", "x", "--backend", "opencl"))


def test_output_to_a_directory_is_one_line(tmp_path: Path) -> None:
    _one_error_line(invoke("check", "http://127.0.0.1:9/v1", "--output", str(tmp_path)))


def test_help_and_version_still_work() -> None:
    assert invoke("--help").exit_code == 0
    assert invoke("check", "--help").exit_code == 0
    assert invoke("--version").exit_code == 0


# ------------------------------------------------------------------------------- item 9


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX only")
def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    """A server that accepts and never answers keeps lmdoctor waiting; SIGINT must give 130
    (the shell convention), not 1 ("problems found")."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("LMDOCTOR_API_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lmdoctor", "check", f"http://127.0.0.1:{port}/v1", "--model", "m",
         "--timeout", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
        # A shell without job control starts background jobs (`.ci/run &`) with SIGINT ignored,
        # and the child would inherit that: give it the terminal's default, as Ctrl-C finds it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        listener.settimeout(20)
        conn, _ = listener.accept()  # lmdoctor is now inside the run
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        conn.close()
    finally:
        proc.kill()
        listener.close()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == "lmdoctor: interrupted"


def test_a_key_from_the_environment_is_credited_to_the_environment() -> None:
    target = adhoc_target("http://127.0.0.1:9/v1", None, "k" * 20, "$LMDOCTOR_API_KEY")
    assert target.sources["api_key"] == "$LMDOCTOR_API_KEY"
    result = invoke(
        "check", "http://127.0.0.1:9/v1", "--only", "config", "--format", "json",
        env={"LMDOCTOR_API_KEY": "k" * 20},
    )  # fmt: skip
    sources = json.loads(result.output)["targets"][0]["sources"]
    assert sources["api_key"] == "$LMDOCTOR_API_KEY"


def test_a_list_with_a_number_is_described_by_its_odd_item() -> None:
    assert describe([42]) == "a list holding a number"
    assert describe(["a", None]) == "a list holding null"
    assert describe(["a"]) == "a list"


def test_api_keys_with_a_number_says_what_is_wrong(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "version": 3,
                "model_list": [
                    {
                        "model_name": "m",
                        "model": "lmstudio/x",
                        "api_base": "http://127.0.0.1:9/v1",
                        "api_keys": [42],
                    }
                ],
                "agents": {"defaults": {"model_name": "m"}},
            }
        ),
        encoding="utf-8",
    )
    result = invoke("check", "--config", str(config), "--only", "config", "--format", "json")
    texts = json.dumps(json.loads(result.output))
    assert "not a list holding a number" in texts
    assert 'not a list"' not in texts and "not a list." not in texts


def test_legacy_config_names_its_real_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmdoctor.config.problems import legacy

    class Doc:
        path = Path("config.json")
        version = 1
        name = "config.json"

        def line(self, path: object) -> int:
            return 1

    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.json").write_text("{}", encoding="utf-8")
    finding = legacy(Doc(), False)  # type: ignore[arg-type]
    assert "write access to ." not in finding.detail
    assert f"write access to {tmp_path.resolve()}" in finding.detail


def test_a_word_like_no_command_says_what_a_url_looks_like() -> None:
    line = _one_error_line(invoke("localhost:1234"))
    assert "'localhost:1234' is no command" in line and "http://" in line


def test_main_help_points_at_the_default_commands_options() -> None:
    result = invoke("--help")
    assert "lmdoctor check --help" in result.output
    assert "--only CHECK" in result.output


def test_the_container_warning_says_localhost_is_the_container_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "127.0.0.1 is a docker container" read as if the address were a container."""
    from test_network import loopback_host, target

    from conftest import by_code, diagnose
    from lmdoctor import net
    from loopback import free_port

    root = tmp_path / "root"  # a container, as net.detect_runtime reads it
    root.mkdir()
    (root / ".dockerenv").touch()
    monkeypatch.setattr(net, "SYSTEM_ROOT", root)
    host = loopback_host()
    found = diagnose(target(f"http://{host}:{free_port(host)}/v1"))
    summary = by_code(found, "net.container_localhost").summary
    assert f"{host} is that container itself, not the host machine" in summary
    assert "is a docker container" not in summary


def test_no_answer_after_skip_network_does_not_point_at_the_network_check() -> None:
    """With --skip network there are no network findings to read."""
    from loopback import free_port

    url = f"http://127.0.0.1:{free_port()}/v1"
    result = invoke("check", url, "--model", "m", "--skip", "network", "--format", "json")
    findings = [f for t in json.loads(result.output)["targets"] for f in t["findings"]]
    no_answer = next(f for f in findings if f["code"] == "http.no_answer")
    assert "network check's findings say why" not in no_answer["fix"]
    assert "without --skip network" in no_answer["fix"]
