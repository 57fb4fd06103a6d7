"""The platform seam: which OS rules apply (system name, path module, home rule, commands).

Only Linux runs in our CI machines, yet most LM Studio and Ollama users are on Windows and
macOS. Code that depends on the OS takes a `System` (config lookup, key files, the hardware
snapshot) or asks `current()` (advice texts, the network probe), so tests run it under each
platform's rules: `System.simulate("Windows", env={...}, commands={...})`.
"""

from __future__ import annotations

import ntpath
import os
import platform
import posixpath
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, NamedTuple

LINUX, MACOS, WINDOWS = "Linux", "Darwin", "Windows"
# Commands run by absolute path where the OS has a fixed one: a Mac whose PATH lacks /usr/sbin
# (launchd, a stripped shell) would otherwise look CPU-only.
ABSOLUTE_COMMANDS = {"sysctl": "/usr/sbin/sysctl"}

Runner = Callable[[Sequence[str]], "str | None"]
# Windows registry: (key path under HKEY_LOCAL_MACHINE) → {subkey name: {value name: value}}.
RegistryReader = Callable[[str], "dict[str, dict[str, Any]] | None"]


def _run(argv: Sequence[str], timeout: float = 2.0) -> str | None:
    """A command's stdout, or None when it is missing, fails to start or times out."""
    if shutil.which(argv[0]) is None:  # a name on PATH, or an absolute path
        return None
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.stdout


def _no_registry(key: str) -> dict[str, dict[str, Any]] | None:
    return None


# NamedTuple, not a frozen dataclass: the same immutable value, cheaper to define (NOTES, 13)
class System(NamedTuple):
    """One OS's rules. `name` is platform.system()'s: Linux, Darwin or Windows."""

    name: str
    env: Mapping[str, str] = os.environ  # the live environment, as os.environ always is
    run: Runner = _run
    registry: RegistryReader = _no_registry
    cpu_feature: Callable[[int], bool] | None = None  # Windows IsProcessorFeaturePresent
    simulated: bool = False

    @property
    def windows(self) -> bool:
        return self.name == WINDOWS

    @property
    def macos(self) -> bool:
        return self.name == MACOS

    @property
    def path(self) -> ModuleType:
        """os.path of that OS (ntpath on Windows): joins, drives, UNC shares."""
        return ntpath if self.windows else posixpath

    def home(self, env: Mapping[str, str] | None = None) -> str | None:
        """Go's os.UserHomeDir(), what PicoClaw uses: %USERPROFILE% on Windows, $HOME
        elsewhere; None when unset (Go returns an error then). go/src/os/file.go UserHomeDir.
        Git Bash and corporate H: drives set HOME to something else on Windows."""
        value = (self.env if env is None else env).get("USERPROFILE" if self.windows else "HOME")
        return value or None

    def command(self, argv: Sequence[str]) -> str | None:
        """Run a command by its absolute path when the OS has one (sysctl on macOS)."""
        name = argv[0]
        if self.macos and name in ABSOLUTE_COMMANDS:
            argv = [ABSOLUTE_COMMANDS[name], *argv[1:]]
        return self.run(argv)

    @classmethod
    def simulate(
        cls,
        name: str,
        env: Mapping[str, str] | None = None,
        commands: Mapping[str, str] | None = None,
        registry: Mapping[str, dict[str, dict[str, Any]]] | None = None,
        cpu_features: Sequence[int] | None = None,
    ) -> System:
        """Another OS's rules for tests: recorded command outputs (keyed by the joined argv,
        or by argv[0] alone) and registry keys; nothing of this machine is read."""
        outputs = dict(commands or {})
        keys = dict(registry or {})

        def run(argv: Sequence[str]) -> str | None:
            return outputs.get(" ".join(argv), outputs.get(argv[0]))

        features = set(cpu_features) if cpu_features is not None else None
        feature = features.__contains__ if features is not None else None
        return cls(name, dict(env or {}), run, keys.get, feature, simulated=True)


def _windows_registry(key: str) -> dict[str, dict[str, Any]] | None:  # pragma: no cover
    """HKLM\\key's subkeys and their values, through winreg (Windows only)."""
    import sys

    if sys.platform != "win32":
        return None
    import winreg

    found: dict[str, dict[str, Any]] = {}
    try:
        root = winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key)
    except OSError:
        return None
    with root:
        index = 0
        while True:
            try:
                name = winreg.EnumKey(root, index)
            except OSError:
                break
            index += 1
            values: dict[str, Any] = {}
            try:
                with winreg.OpenKey(root, name) as sub:
                    i = 0
                    while True:
                        try:
                            value_name, value, _ = winreg.EnumValue(sub, i)
                        except OSError:
                            break
                        values[value_name] = value
                        i += 1
            except OSError:
                continue
            found[name] = values
    return found


_current: System | None = None


def current() -> System:
    """This machine's rules (tests swap `_current` to simulate another OS)."""
    global _current
    if _current is None:
        name = platform.system()
        if name == WINDOWS:
            _current = System(name, registry=_windows_registry, cpu_feature=_windows_feature())
        else:
            _current = System(name)
    return _current


def _windows_feature() -> Callable[[int], bool] | None:  # pragma: no cover - Windows only
    import sys

    if sys.platform != "win32":
        return None
    import ctypes

    present = ctypes.windll.kernel32.IsProcessorFeaturePresent

    def feature(pf: int) -> bool:
        return bool(present(pf))

    return feature
