"""Mutation testing of lmdoctor's decision code: does a wrong verdict fail a test?

    python tools/mutation.py lmdoctor/runner.py checks/proxy.py   # the modules named
    python tools/mutation.py --diff main                           # the modules a change touches
    python tools/mutation.py --all                                 # every module configured
    python tools/mutation.py --list                                # what is configured

Mutants come from cosmic-ray's operators (`pip install -e '.[mutation]'`): flipped comparisons,
and/or, `not`, numbers, True/False, break/continue, empty loops, operators. Which modules, which
functions of them (`functions`: the rest of the file is left alone) and which test files kill
them is configured in pyproject.toml [tool.lmdoctor.mutation]; mutants shown to be equivalent
are listed with their reason in tools/mutation_equivalent.toml.

Why not `cosmic-ray exec` or mutmut: the built-in checks are a package mapped from checks/ to
`lmdoctor_checks` and load through entry points, and tests start `lmdoctor` subprocesses, so
the mutated code must be what every import sees. The runner copies the tracked files into a
scratch directory (your worktree is never modified), puts it first on PYTHONPATH (with an
`lmdoctor_checks` link to checks/), imports the third-party libraries once, and forks one child
per mutant that runs pytest on the configured test files (`-x`): ~1 s saved per mutant on this
2-core machine. The first configured file runs alone first (the module's decision tests: they
kill most mutants, and collecting the other files costs about twice the run); only a mutant
it leaves alive runs the whole list. A child that outlives `timeout-factor` × the clean run is
killed (a "timeout", counted as killed: the mutant hung a test) and run once more with three
times the limit: only a second timeout counts (under load a clean mutant can outlive it once).

Exit status: 0 when every module reached `target` (kill rate, equivalent mutants excluded),
1 otherwise, 2 on bad input. Not part of CI: a module takes minutes.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_FILE = ROOT / "tools" / "mutation_equivalent.toml"
CACHE = ROOT / ".mutation" / "results.json"  # ignored by git; read by --again
# Imported once in the parent so each forked child starts warm; lmdoctor itself is NOT here
# (each child imports it fresh from the mutated file).
WARM = (
    "pytest", "_pytest.python", "_pytest.assertion", "hypothesis", "httpx", "httpcore", "anyio",
    "trustme", "jsonschema", "yaml", "click", "click.testing", "psutil", "asyncio",
    "ssl", "json", "xml.etree.ElementTree", "cryptography", "h11", "idna", "certifi",
)


def _toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    with path.open("rb") as f:
        return tomllib.load(f)


@dataclass
class Module:
    path: str
    tests: list[str]
    functions: list[str] = field(default_factory=list)
    name: str = ""  # the config key: the path, or `path#part` for a second scoped run

    def __post_init__(self) -> None:
        self.name = self.name or self.path


@dataclass
class Outcome:
    line: int
    scope: str
    operator: str
    text: str  # the source line, stripped
    result: str  # killed | survived | timeout | equivalent | incompetent
    diff: str = ""
    mutant: str = ""  # the mutated line, stripped
    reason: str = ""


def config() -> tuple[dict, dict[str, Module]]:
    cfg = _toml(ROOT / "pyproject.toml")["tool"]["lmdoctor"]["mutation"]
    # A key is the module's path, or `path#part` with `path = "..."` for another part of the
    # same file (its own functions and tests): one file, several scoped runs.
    modules = {
        key: Module(m.get("path", key), m["tests"], m.get("functions", []), key)
        for key, m in cfg["modules"].items()
    }
    return cfg, modules


def equivalents() -> list[dict]:
    return _toml(EQUIVALENT_FILE).get("equivalent", []) if EQUIVALENT_FILE.exists() else []


# --- which mutants ------------------------------------------------------------------------------


def _scopes(source: str) -> tuple[dict[int, str], set[int]]:
    """Line → qualified name of the innermost def/class; and the lines of annotations (mutating
    `str | None` there changes nothing: annotations are not evaluated here)."""
    tree = ast.parse(source)
    scope: dict[int, str] = {}
    annotation_lines: set[int] = set()

    def walk(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                for line in range(child.lineno, (child.end_lineno or child.lineno) + 1):
                    scope[line] = name
                walk(child, name + ".")
            else:
                walk(child, prefix)
            annotations = []
            if isinstance(child, ast.arg) and child.annotation is not None:
                annotations.append(child.annotation)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) and child.returns:
                annotations.append(child.returns)
            if isinstance(child, ast.AnnAssign):
                annotations.append(child.annotation)
            for a in annotations:
                annotation_lines.update(range(a.lineno, (a.end_lineno or a.lineno) + 1))

    walk(tree, "")
    return scope, annotation_lines


def _wanted_operator(name: str, allowed: list[str]) -> bool:
    family = name.split("_", 1)[0]
    if family in ("core/ReplaceBinaryOperator", "core/ReplaceComparisonOperator",
                  "core/ReplaceUnaryOperator"):
        return any(re.fullmatch(p, name) for p in allowed)
    return True


def mutants(module: Module, source_root: Path, allowed: list[str]) -> list:
    from cosmic_ray.commands.init import _all_work_items

    path = source_root / module.path
    source = path.read_text()
    scope, annotation_lines = _scopes(source)
    picked = []
    for item in _all_work_items([path], {}):
        m = item.mutations[0]
        line = m.start_pos[0]
        where = scope.get(line, "<module>")
        if module.functions and not any(
            where == f or where.startswith(f + ".") for f in module.functions
        ):
            continue
        if line in annotation_lines or not _wanted_operator(m.operator_name, allowed):
            continue
        picked.append(item)
    return picked


def _equivalent_reason(module: str, o: Outcome, known: list[dict]) -> str:
    for e in known:
        if (e["module"] == module and e["operator"] == o.operator and e["scope"] == o.scope
                and e["line"].strip() == o.text
                and e.get("mutant", o.mutant).strip() == o.mutant):
            return e["reason"]
    return ""


# --- running ------------------------------------------------------------------------------------


def scratch_copy() -> Path:
    """The tracked and untracked-not-ignored files, so the worktree is never mutated."""
    dest = Path(tempfile.mkdtemp(prefix="lmdoctor-mutation-"))
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
        capture_output=True,
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    (dest / "lmdoctor_checks").symlink_to("checks")
    return dest


def run_child(tests: list[str], timeout: float) -> str:
    """Fork; the child runs pytest. Returns 'passed', 'failed' or 'timeout'."""
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.setpgid(0, 0)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            import pytest

            code = pytest.main(
                ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-m",
                 "not integration and not netns", *tests]
            )
            os._exit(int(code))
        except BaseException:
            os._exit(3)
    deadline = time.monotonic() + timeout
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                pid = 0
                return "passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"
            if time.monotonic() > deadline:
                return "timeout"
            time.sleep(0.05)
    finally:  # a timeout, or this run interrupted: the child and what it started go too
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def run_mutant(tests: list[str], timeout: float) -> str:
    """The first test file alone first: collecting the others costs about two thirds of a run
    here, and the first file (the module's decision tests) kills most mutants. Only a mutant
    it does not kill runs the whole list; a timeout is run once more with three times the
    limit (under load a clean mutant can outlive the limit once; a hang hangs again)."""
    res = run_child(tests[:1], timeout) if len(tests) > 1 else ""
    if res != "failed":
        res = run_child(tests, timeout)
        if res == "timeout":
            res = run_child(tests, 3 * timeout)
    return res


def scoped_sha(module: Module, source: str) -> str:
    """Hash of the code mutated: the configured functions only, so that --again keeps its kills
    when the rest of the file changes."""
    if not module.functions:
        return hashlib.sha256(source.encode()).hexdigest()
    scope, _ = _scopes(source)
    lines = source.splitlines()
    picked = [
        lines[n - 1] for n, where in sorted(scope.items())
        if any(where == f or where.startswith(f + ".") for f in module.functions)
    ]
    return hashlib.sha256("\n".join(picked).encode()).hexdigest()


def mutant_key(o: Outcome, seen: dict[str, int]) -> str:
    """Names a mutant by what it changes (not by position, which shifts with any edit above)."""
    key = f"{o.operator}|{o.scope}|{o.text}|{o.mutant}"
    seen[key] = seen.get(key, 0) + 1
    return f"{key}#{seen[key]}"


def load_cache() -> dict:
    try:
        return json.loads(CACHE.read_text())
    except (OSError, ValueError):
        return {}


def mutation_run(module: Module, scratch: Path, cfg: dict, known: list[dict],
                 verbose: bool, cache: dict, again: bool) -> tuple[list[Outcome], float, int]:
    started = time.monotonic()
    base = run_child(module.tests, timeout=600)
    base_s = time.monotonic() - started
    if base != "passed":
        sys.exit(f"{module.name}: the tests fail without any mutation ({module.tests}); fix first")
    timeout = max(float(cfg.get("min-timeout", 20)), cfg.get("timeout-factor", 3) * base_s)
    items = mutants(module, scratch, cfg["operators"])
    lines = (scratch / module.path).read_text().splitlines()
    scope, _ = _scopes("\n".join(lines))
    source = scoped_sha(module, (scratch / module.path).read_text())
    earlier = cache.get(module.name, {})
    kept = earlier.get("results", {}) if again and earlier.get("source") == source else {}
    print(f"{module.name}: {len(items)} mutants, clean run {base_s:.1f} s, "
          f"tests {' '.join(module.tests)}", flush=True)
    outcomes = []
    reused = 0
    results: dict[str, str] = {}
    seen: dict[str, int] = {}
    for n, item in enumerate(items, 1):
        m = item.mutations[0]
        line = m.start_pos[0]
        o = Outcome(line, scope.get(line, "<module>"), m.operator_name,
                    lines[line - 1].strip(), "")
        with _applied(m) as (before, after):
            if after is None:
                o.result = "incompetent"
                key = mutant_key(o, seen)
            else:
                o.diff, o.mutant = _diff_line(before, after)
                key = mutant_key(o, seen)
                o.reason = _equivalent_reason(module.path, o, known)
                if o.reason:
                    o.result = "equivalent"
                elif kept.get(key) == "killed":  # --again: source unchanged (a timeout is
                    # run again: on a loaded machine it may have been a slow child, not a hang)
                    o.result = kept[key]
                    reused += 1
                else:
                    res = run_mutant(module.tests, timeout)
                    o.result = {"passed": "survived", "failed": "killed"}.get(res, res)
            results[key] = o.result
        outcomes.append(o)
        save_results(module, source, results, done=False)
        if verbose or o.result == "survived":
            print(f"  [{n}/{len(items)}] {o.result:9} {module.path}:{line} {o.scope} "
                  f"{o.operator}: {o.diff}", flush=True)
    save_results(module, source, results, done=True)
    return outcomes, time.monotonic() - started, reused


def save_results(module: Module, source: str, results: dict[str, str], done: bool) -> None:
    """Written after every mutant too: a run stopped at a deadline keeps what it found, and
    `--again` then runs only the rest (and the survivors)."""
    latest = load_cache()  # another run may have written other modules meanwhile
    latest[module.name] = {"source": source, "tests": module.tests, "complete": done,
                           "when": time.strftime("%Y-%m-%d %H:%M"), "results": results}
    CACHE.parent.mkdir(exist_ok=True)
    partial = CACHE.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(latest, indent=1, sort_keys=True))
    partial.replace(CACHE)  # atomic: a concurrent reader never sees half a file


@contextlib.contextmanager
def _applied(m: Any) -> Iterator[tuple[str, str | None]]:
    """cosmic-ray's use_mutation; a mutation it cannot apply (its ExceptionReplacer fails on a
    dotted name such as `except (httpx.HTTPError, OSError)`) is incompetent, not a crash."""
    from cosmic_ray.mutating import use_mutation
    from cosmic_ray.plugins import get_operator

    try:
        applied = use_mutation(m.module_path, get_operator(m.operator_name)(), m.occurrence)
        pair = applied.__enter__()
    except AttributeError:
        yield "", None
        return
    try:
        yield pair
    finally:
        applied.__exit__(None, None, None)


def _diff_line(before: str, after: str) -> tuple[str, str]:
    """'old' -> 'new' of the first changed line, and the new line (stripped)."""
    for a, b in zip(before.splitlines(), after.splitlines(), strict=False):
        if a != b:
            return f"{a.strip()!r} -> {b.strip()!r}", b.strip()
    return "", ""


def summary(path: str, outcomes: list[Outcome], seconds: float, target: float,
            reused: int, name: str = "") -> bool:
    count = {k: sum(o.result == k for o in outcomes)
             for k in ("killed", "timeout", "survived", "equivalent", "incompetent")}
    counted = count["killed"] + count["timeout"] + count["survived"]
    rate = 100.0 * (count["killed"] + count["timeout"]) / counted if counted else 100.0
    ok = rate >= target
    verdict = "ok" if ok else f"BELOW {target} %"
    print(f"{name or path}: kill rate {rate:.1f} % ({verdict}) "
          f"killed {count['killed']}, timeouts {count['timeout']}, survived "
          f"{count['survived']}, equivalent {count['equivalent']}, "
          f"incompetent {count['incompetent']}, {seconds:.0f} s"
          + (f" ({reused} kills kept from the last run)" if reused else ""), flush=True)
    for o in outcomes:
        if o.result == "survived":
            print(f"    survived  line {o.line} in {o.scope}: {o.operator}  {o.diff}")
            print(f"      [[equivalent]] module = \"{path}\", scope = \"{o.scope}\", "
                  f"operator = \"{o.operator}\", line = {o.text!r}, mutant = {o.mutant!r}, "
                  f"reason = \"…\"")
    return ok


def touched(ref: str, configured: dict[str, Module]) -> list[str]:
    names = subprocess.run(
        ["git", "diff", "--name-only", ref, "--"], cwd=ROOT, check=True, capture_output=True,
        text=True,
    ).stdout.split()
    return [key for key, m in configured.items() if m.path in names]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module paths as configured (lmdoctor/x.py)")
    parser.add_argument("--diff", metavar="REF", help="the configured modules changed since REF")
    parser.add_argument("--all", action="store_true", help="every configured module")
    parser.add_argument("--list", action="store_true", help="show the configuration and stop")
    parser.add_argument("--tests", nargs="+", help="test files instead of the configured ones")
    parser.add_argument("--again", action="store_true",
                        help="re-run only the mutants the last run did not kill (kills, not "
                        "timeouts, are kept "
                        "while the mutated code is unchanged); for figures of record, omit")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every mutant")
    args = parser.parse_args(argv)
    try:
        cfg, configured = config()
    except (OSError, KeyError, ValueError) as exc:
        print(f"mutation: no usable [tool.lmdoctor.mutation] in pyproject.toml: {exc}",
              file=sys.stderr)
        return 2
    if args.list:
        for m in configured.values():
            scope = f" (only {', '.join(m.functions)})" if m.functions else ""
            print(f"{m.name}{scope}: {' '.join(m.tests)}")
        return 0
    names = list(configured) if args.all else list(args.modules)
    if args.diff:
        names += touched(args.diff, configured)
    unknown = [n for n in names if n not in configured]
    if unknown or not names:
        print(f"mutation: {'not configured: ' + ', '.join(unknown) if unknown else 'no module'}"
              " (see --list)", file=sys.stderr)
        return 2
    try:
        import cosmic_ray  # noqa: F401
    except ModuleNotFoundError:
        print("mutation: cosmic-ray is not installed: pip install -e '.[mutation]'",
              file=sys.stderr)
        return 2

    scratch = scratch_copy()
    os.chdir(scratch)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(scratch), os.environ.get("PYTHONPATH")]))
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant within the same second as the last
    sys.dont_write_bytecode = True
    # tests/conftest.py measures the RAM bandwidth (two threads, 64 MiB) into a fresh cache
    # directory unless LMDOCTOR_CACHE_DIR is set: once here, not once per mutant's child.
    os.environ["LMDOCTOR_CACHE_DIR"] = str(scratch / ".lmdoctor-test-cache")
    subprocess.run([sys.executable, "-c", "from lmdoctor import hardware; "
                    "hardware.ram_bandwidth(threads=2)"], check=False)
    sys.path.insert(0, str(scratch))
    where = subprocess.run(
        [sys.executable, "-c", "import lmdoctor, lmdoctor_checks.proxy as p; "
         "print(lmdoctor.__file__); print(p.__file__)"], capture_output=True, text=True,
    ).stdout.split()
    if len(where) != 2 or not all(w.startswith(str(scratch)) for w in where):
        print(f"mutation: the scratch copy is not what Python imports ({where})", file=sys.stderr)
        return 2
    for name in WARM:
        with contextlib.suppress(ImportError):
            __import__(name)
    known = equivalents()
    cache = load_cache()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up the scratch copy
    all_ok = True
    try:
        for name in dict.fromkeys(names):
            module = configured[name]
            if args.tests:
                module.tests = args.tests
            outcomes, seconds, reused = mutation_run(
                module, scratch, cfg, known, args.verbose, cache, args.again)
            all_ok &= summary(module.path, outcomes, seconds, float(cfg.get("target", 90)),
                              reused, module.name)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
