"""Key forms (lmdoctor/config/keys.py): what config.load says about a file:// or enc:// key.

Verdicts asserted through public interfaces (config.load / config.picoclaw.parse, the
config.key_unresolved finding), each written to kill a mutant that survived tools/mutation.py.
Windows rules run here through System.simulate("Windows")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmdoctor.config import load
from lmdoctor.config.picoclaw import parse
from lmdoctor.findings import Severity
from lmdoctor.system import System
from portable import is_root, need_linux, need_posix_permissions

WINDOWS = System.simulate("Windows")


def _config(key: str) -> bytes:
    return json.dumps(
        {
            "version": 3,
            "model_list": [
                {"model_name": "m", "model": "openai/m", "api_base": "http://127.0.0.1:1/v1",
                 "api_keys": [key]}
            ],
        }
    ).encode()


def _entry(config) -> tuple:
    """(the entry "m", its config.key_unresolved findings)."""
    (target,) = [t for t in config.entries if t.name == "m"]
    return target, [f for f in target.issues if f.code == "config.key_unresolved"]


def _load(tmp_path: Path, key: str, env: dict[str, str] | None = None, system=None):
    (tmp_path / "config.json").write_bytes(_config(key))
    return _entry(load(tmp_path / "config.json", env=env or {}, system=system))


# --- file:// names: Go's filepath.Join, drives -------------------------------------------------


def test_an_absolute_looking_key_file_name_is_read_inside_the_config_folder(tmp_path):
    # Go's filepath.Join(dir, "/m.key") is <dir>/m.key on Linux and macOS (credential.go:126)
    (tmp_path / "m.key").write_text("sk-inside-the-folder-1\n")
    target, problems = _load(tmp_path, "file:///m.key")
    assert problems == [] and target.api_key.reveal() == "sk-inside-the-folder-1"


def test_on_windows_a_rooted_key_file_name_is_outside_the_config_folder(tmp_path):
    # Windows keeps the name as given: "\\m.key" is rooted at the drive, not in the folder
    _, (problem,) = _load(tmp_path, "file:///m.key", system=WINDOWS)
    assert "outside the config folder" in problem.summary
    assert problem.severity is Severity.ERROR


def test_on_windows_a_key_file_on_another_drive_is_outside_the_folder(tmp_path):
    # the folder and D:\ share no root: commonpath raises, which means "not inside"; the
    # Windows rules apply (on Linux rules "D:\keys\x.key" would be a name inside the folder)
    target, (problem,) = _load(tmp_path, "file://D:\\keys\\x.key", system=WINDOWS)
    assert "outside the config folder" in problem.summary
    assert problem.evidence["resolved"] == "D:\\keys\\x.key"
    assert target.api_key is None


# --- enc:// ------------------------------------------------------------------------------------


def test_enc_key_evidence_says_whether_the_passphrase_is_set(tmp_path):
    _, (without,) = _load(tmp_path, "enc://AAAA")
    assert without.severity is Severity.ERROR
    assert without.evidence["passphrase_set"] is False
    _, (with_it,) = _load(tmp_path, "enc://AAAA", env={"PICOCLAW_KEY_PASSPHRASE": "p4ss"})
    assert with_it.severity is Severity.INFO
    assert with_it.evidence["passphrase_set"] is True


# --- a key file that cannot be read ----------------------------------------------------------


def test_a_key_file_that_fails_to_read_names_the_error_and_the_fix():
    need_linux("reads /proc/self/mem")
    # /proc/self/mem is a regular file inside /proc/self whose read at offset 0 fails with
    # EIO, even for root (a chmod 000 file is readable by root, who runs this in CI images)
    config = parse(_config("file://mem"), Path("/proc/self/config.json"), env={})
    target, (problem,) = _entry(config)
    assert problem.summary.endswith("cannot be read: input/output error"), problem.summary
    assert "/mem cannot be read" in problem.summary
    assert problem.fix.startswith("Make /proc/") and problem.fix.endswith(
        "/mem readable by the user PicoClaw runs as."
    )
    assert problem.severity is Severity.ERROR and target.api_key is None


def test_an_unreadable_key_file_says_permission_denied(tmp_path):
    need_posix_permissions()
    if is_root():
        pytest.skip("root reads a chmod 000 file (the /proc test above covers root)")
    key = tmp_path / "m.key"
    key.write_text("sk-unreadable-key-1\n")
    key.chmod(0)
    try:
        _, (problem,) = _load(tmp_path, "file://m.key")
    finally:
        key.chmod(0o600)
    assert problem.summary.endswith("cannot be read: permission denied")
