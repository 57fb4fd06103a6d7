"""What a test needs from the OS, asked in one place, so that the suite skips rather than fails on
macOS and Windows (tests/test_platforms.py keeps the rest of tests/ to these helpers).

- 127.0.0.2 and up: Linux and Windows route all of 127.0.0.0/8 to loopback; macOS configures
  only 127.0.0.1 on lo0 unless aliased (`sudo ifconfig lo0 alias 127.0.0.31`).
- posix_spawn/wait4/fork, mkfifo, geteuid: POSIX only (not on Windows).
- ru_maxrss: KiB on Linux, bytes on macOS, no `resource` module on Windows.
- chmod 0: unreadable on POSIX only (Windows: read-only).
- symlinks: Windows needs Developer Mode or an elevated shell to create them.
- Text files: always read and written as UTF-8 (Windows' default is the ANSI code page).
"""

from __future__ import annotations

import os
import socket
import sys
from functools import cache
from pathlib import Path

import pytest

LINUX = sys.platform.startswith("linux")


@cache
def extra_loopback_bindable(address: str = "127.0.0.31") -> bool:
    """Can this machine bind a loopback address other than 127.0.0.1?"""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((address, 0))
    except OSError:
        return False
    finally:
        sock.close()
    return True


def need_extra_loopback() -> None:
    if not extra_loopback_bindable():
        pytest.skip("127.0.0.31 is not a loopback address here (macOS: ifconfig lo0 alias)")


def need(*names: str) -> None:
    """Skip unless `os` has all these functions (mkfifo, fork, posix_spawn, wait4, geteuid)."""
    missing = [n for n in names if not hasattr(os, n)]
    if missing:
        pytest.skip(f"needs os.{', os.'.join(missing)} (POSIX)")


def need_linux(why: str) -> None:
    if not LINUX:
        pytest.skip(f"Linux only: {why}")


def need_posix_permissions() -> None:
    """chmod 0 makes a file unreadable on POSIX; on Windows it only sets read-only."""
    if sys.platform == "win32":
        pytest.skip("Windows permissions are ACLs: chmod does not make a file unreadable")


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def symlink(link: Path, target: Path) -> None:
    """link → target, or skip where the OS will not let us make symlinks (Windows)."""
    try:
        link.symlink_to(target)
    except (OSError, NotImplementedError) as exc:
        pytest.skip(f"cannot create symlinks here: {exc}")


def utf8(path: Path) -> str:
    """A fixture or golden file's text (UTF-8 on every OS; Windows would read cp1252)."""
    return path.read_text(encoding="utf-8")
