"""What one lmdoctor process loaded and did: the start-up probe shared by tests/test_startup.py
and benchmarks/startup_check.py (issue 13, item 10).

`probe(args)` runs `lmdoctor ARGS` in a fresh interpreter that counts the regular expressions
it compiles and the CA bundles it loads, then runs cli.main; it returns the exit status, those
counts, the sorted names of the modules imported and of lmdoctor's dataclasses defined."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

# Runs inside the lmdoctor process, before anything of lmdoctor is imported.
PROBE = """
import json, re, ssl, sys
compiled = set()
_compile = re._compile
def counting(pattern, flags):
    compiled.add((type(pattern), pattern, flags))
    return _compile(pattern, flags)
re._compile = counting
ca_loads = []
_load = ssl.SSLContext.load_verify_locations
def load(self, *args, **kwargs):
    ca_loads.append(1)
    return _load(self, *args, **kwargs)
ssl.SSLContext.load_verify_locations = load
_defaults = ssl.SSLContext.load_default_certs
def defaults(self, *args, **kwargs):
    ca_loads.append(1)
    return _defaults(self, *args, **kwargs)
ssl.SSLContext.load_default_certs = defaults
from lmdoctor.cli import main
code = None
try:
    main()
except SystemExit as exc:
    code = exc.code
import dataclasses
ours = [(name, module) for name, module in list(sys.modules.items())
        if name.split(".")[0] in ("lmdoctor", "lmdoctor_checks") and module is not None]
sys.stderr.write("\\nPROBE " + json.dumps({
    "exit": code,
    "regex": len(compiled),
    "ca_loads": len(ca_loads),
    "modules": sorted(sys.modules),
    "dataclasses": sorted(
        f"{name}.{key}" for name, module in ours for key, value in vars(module).items()
        if isinstance(value, type) and dataclasses.is_dataclass(value)
        and value.__module__ == name
    ),
}) + "\\n")
"""


def probe(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> dict[str, Any]:
    """{"exit", "regex", "ca_loads", "modules", "dataclasses"} of one `lmdoctor ARGS` run."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env=os.environ if env is None else env,
        timeout=timeout,
    )
    if "PROBE " not in done.stderr:
        raise AssertionError(f"the probe printed nothing:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stderr.rsplit("PROBE ", 1)[1])
    return result
