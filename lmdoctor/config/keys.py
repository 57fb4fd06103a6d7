"""API key forms, resolved as PicoClaw's `pkg/credential` does (reference §1.2).

plain `sk-...` is used as-is; `file://name.key` is the trimmed content of `<config dir>/name.key`
and must stay inside the config folder (symlinks resolved); `enc://...` needs
PICOCLAW_KEY_PASSPHRASE and PicoClaw's SSH key, and lmdoctor does not decrypt it.
A key value is wrapped in `Secret` at once, which also registers it for scrubbing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from lmdoctor.secret import Secret
from lmdoctor.system import System
from lmdoctor.system import current as current_system

FILE_PREFIX = "file://"
ENC_PREFIX = "enc://"
PASSPHRASE_ENV = "PICOCLAW_KEY_PASSPHRASE"
MAX_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class KeyProblem:
    """Why a key could not be resolved; `fatal` when PicoClaw would refuse to load too."""

    summary: str
    fix: str
    fatal: bool = True
    evidence: Mapping[str, object] | None = None


def form(value: str) -> str:
    if value.startswith(FILE_PREFIX):
        return "file://"
    if value.startswith(ENC_PREFIX):
        return "enc://"
    return "plain"


def resolve(
    value: str, config_dir: Path | str, env: Mapping[str, str], system: System | None = None
) -> Secret | KeyProblem:
    """The key as PicoClaw would send it, or the reason it cannot be had. Paths follow
    `system`'s rules (drive letters and UNC shares on Windows)."""
    if value.startswith(ENC_PREFIX):
        return _encrypted(env)
    if value.startswith(FILE_PREFIX):
        # The name is trimmed (pkg/credential/credential.go:117).
        name = value[len(FILE_PREFIX) :].strip()
        return _from_file(name, str(config_dir), system or current_system())
    return Secret(value)


def _encrypted(env: Mapping[str, str]) -> KeyProblem:
    if env.get(PASSPHRASE_ENV):
        return KeyProblem(
            "the key is encrypted (enc://); lmdoctor does not decrypt it, so it cannot be checked",
            "Nothing to change if PicoClaw starts; the auth check runs without this key.",
            fatal=False,
            evidence={"key_form": "enc://", "passphrase_set": True},
        )
    return KeyProblem(
        f"the key is encrypted (enc://) and {PASSPHRASE_ENV} is not set: PicoClaw fails with "
        "'credential: enc:// passphrase required', and the key cannot be checked",
        f"Set {PASSPHRASE_ENV} in the environment PicoClaw runs in (and re-run lmdoctor with it "
        "set), or replace the key with a plain or file:// one.",
        evidence={"key_form": "enc://", "passphrase_set": False},
    )


def _inside(folder: str, path: str, system: System) -> bool:
    """Is `path` in `folder`? Across drives or UNC shares commonpath raises: not inside."""
    try:
        common = system.path.commonpath([folder, path])
    except ValueError:
        return False
    return system.path.normcase(common) == system.path.normcase(folder)


def _from_file(name: str, config_dir: str, system: System) -> Secret | KeyProblem:
    evidence: dict[str, object] = {"key_form": "file://", "file": name}
    if not name.strip():
        return KeyProblem(
            "the key is 'file://' with no file name",
            'Write the key file\'s name after file://, e.g. "file://openai.key".',
            evidence=evidence,
        )
    paths = system.path
    folder = paths.realpath(config_dir)
    # Go's filepath.Join(dir, name) never restarts at an absolute name: "/etc/x" is read as
    # <dir>/etc/x (credential.go:126), unlike os.path.join. (POSIX only here: drive letters
    # and UNC names keep the Windows rules of tests/test_platforms.py.)
    relative = name.lstrip("/") if paths.sep == "/" else name
    real = paths.realpath(paths.join(folder, relative))
    evidence["resolved"] = real
    if not _inside(folder, real, system):
        return KeyProblem(
            f"the key file {name} resolves to {real}, outside the config folder {folder}; "
            "PicoClaw refuses key files outside it",
            f'Move the key file into {folder} and name it relative to it, e.g. "file://model.key".',
            evidence=evidence,
        )
    if not os.path.isfile(real):
        missing = "is a directory" if os.path.isdir(real) else "does not exist"
        return KeyProblem(
            f"the key file {real} {missing}",
            f"Create {real} holding the key on one line, or fix the name after file://.",
            evidence=evidence,
        )
    try:
        with open(real, "rb") as handle:
            content = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        return KeyProblem(
            f"the key file {real} cannot be read: {(exc.strerror or str(exc)).lower()}",
            f"Make {real} readable by the user PicoClaw runs as.",
            evidence=evidence,
        )
    key = content.decode("utf-8", errors="replace").strip()
    if len(content) > MAX_KEY_FILE_BYTES:
        return KeyProblem(
            f"the key file {real} is over {MAX_KEY_FILE_BYTES // 1024} KB: not a key",
            "Point file:// at a file that holds only the key.",
            evidence=evidence,
        )
    if not key:
        return KeyProblem(
            f"the key file {real} is empty: PicoClaw fails with 'credential file is empty'",
            f"Write the key into {real}, or remove the key if the server needs none.",
            evidence=evidence,
        )
    return Secret(key)
