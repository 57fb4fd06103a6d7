"""Issue 13, item 5 (and 8), end to end: the whole CLI in a real 80x24 terminal (tmux).

Every command runs in a tmux pane 80 columns wide, as a user would run it; the pane's content
is read back. Nothing may wrap (a line wider than the pane is wrapped by the terminal), URLs
in fix texts stay whole on one screen line, and usage errors are one line.

tmux missing: the test skips, or fails under LMDOCTOR_REQUIRE_INTEGRATION=1 (`.ci/run`
installs tmux). Servers are loopback fakes; config checks only (no traffic elsewhere).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import fakes
from loopback import free_port

COLUMNS, LINES = 80, 24
REQUIRED = os.environ.get("LMDOCTOR_REQUIRE_INTEGRATION") == "1"
DONE = "__LMDOCTOR_ALL_DONE__"


@pytest.fixture
def tmux() -> Iterator[str]:
    if shutil.which("tmux") is None:
        reason = "tmux is not installed (apt-get install tmux)"
        if REQUIRED:
            pytest.fail(f"LMDOCTOR_REQUIRE_INTEGRATION=1 but: {reason}", pytrace=False)
        pytest.skip(reason)
    socket = f"lmdoctor-test-{uuid.uuid4().hex[:8]}"
    try:
        yield socket
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True)


def _run_in_pane(socket: str, commands: list[str], tmp_path: Path, timeout: float = 90) -> str:
    """Run `commands` one after another in an 80x24 pane; return the whole pane history with
    wrapped lines joined (-J), so a line wider than the pane shows as one long line."""
    script = tmp_path / "session.sh"
    lines = ["export PS1='$ ' NO_COLOR=1", "unset LMDOCTOR_API_KEY COLUMNS LINES CI"]
    for command in commands:
        lines += [f"echo '$ {command}'", command, 'echo "[exit $?]"']
    lines.append(f"echo {DONE}; sleep 600")
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("TMUX", None)
    bindir = str(Path(sys.executable).parent)
    env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
    base = ["tmux", "-L", socket, "-f", "/dev/null"]
    subprocess.run(
        [*base, "new-session", "-d", "-x", str(COLUMNS), "-y", str(LINES), "-s", "t",
         f"bash --norc --noprofile {shlex.quote(str(script))}"],
        check=True,
        env=env,
    )  # fmt: skip
    subprocess.run([*base, "set-option", "-g", "history-limit", "20000"], check=True)
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = subprocess.run(
            [*base, "capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "t"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        if DONE in text:
            return text
        time.sleep(0.3)
    raise AssertionError(f"the commands did not finish within {timeout} s:\n{text}")


def _sections(text: str) -> dict[str, str]:
    """Each command's screen output, by its command line."""
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        if line.startswith(DONE):
            break
        if line.startswith("$ lmdoctor"):
            current = line[2:]
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


def test_the_whole_cli_fits_an_80x24_terminal(tmux: str, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    closed = free_port()
    with fakes.llama_cpp_python() as server:
        no_v1 = server.url  # answers under /v1 only: the fix names the right URL
        config.write_text(
            json.dumps(
                {
                    "version": 3,
                    "model_list": [
                        {"model_name": "local", "model": "openai/smollm2", "api_base": no_v1},
                        {"model_name": "typo", "model": "lmstudio/x", "api_key": "sk-lm-abc"},
                    ],
                    "agents": {"defaults": {"model_name": "local"}},
                }
            ),
            encoding="utf-8",
        )
        commands = [
            "lmdoctor --help",
            "lmdoctor check --help",
            f"lmdoctor check {no_v1} --model smollm2 --timeout 2",
            f"lmdoctor check {no_v1}/v1 --model smollm2 --timeout 2 -v --bench",
            f"lmdoctor check http://127.0.0.1:{closed}/v1 --model m --timeout 1",
            f"lmdoctor --config {config} --all --only config -v",
            "lmdoctor checks",
            "lmdoctor estimate qwen3-8b --gpu 'RTX 4090'",
            "lmdoctor hardware",
            "lmdoctor scan --timeout 1",
            "lmdoctor hardwre",
            "lmdoctor check --only auht http://127.0.0.1:9/v1",
            "lmdoctor check --no-such-flag",
        ]
        text = _run_in_pane(tmux, commands, tmp_path)
    sections = _sections(text)
    assert len(sections) == len(commands), text
    too_wide = [
        line for line in text.splitlines() if len(line) > COLUMNS and not line.startswith("$ ")
    ]  # (the echoed command lines are the test's own)
    assert not too_wide, "lines wider than 80 columns:\n" + "\n".join(too_wide)
    assert "Traceback" not in text
    checked = sections[f"lmdoctor check {no_v1} --model smollm2 --timeout 2"]
    assert f"{no_v1}/v1" in checked, checked  # the fix's URL, whole on one screen line
    assert "PicoClaw" in sections[f"lmdoctor --config {config} --all --only config -v"]
    for command in ("lmdoctor hardwre", "lmdoctor check --only auht http://127.0.0.1:9/v1",
                    "lmdoctor check --no-such-flag"):  # fmt: skip
        shown = [line for line in sections[command].splitlines() if line.strip()]
        assert shown[-1] == "[exit 2]", sections[command]
        assert len(shown) == 2 and shown[0].startswith("lmdoctor: error: "), shown
    assert "did you mean `lmdoctor hardware`?" in sections["lmdoctor hardwre"]
