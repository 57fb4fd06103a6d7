"""Checks and the registry that finds them (the `lmdoctor.checks` entry-point group)."""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmdoctor.context import Ctx, Session
    from lmdoctor.findings import Finding
    from lmdoctor.target import Target

ENTRY_POINT_GROUP = "lmdoctor.checks"


def _endpoint(target: Target) -> bool:
    # Only OpenAI-compatible endpoints are probed; the config check says plainly that a
    # Gemini or Anthropic Messages endpoint is not checked (never a wrong verdict).
    return target.probeable


@dataclass(frozen=True)
class Check:
    """One concern. `run` returns findings and never prints.

    `needs`: ids of checks that must not have failed (an error, a crash or a skip) for this one
    to run; otherwise it is recorded as skipped with the reason. `codes`: the finding codes it
    may emit (for --only/--skip and the docs). `opt_in`: runs only when asked for (--bench,
    or named in --only). `prefetch`: started once per run before any target, for work that
    should overlap the network probes (hardware sampling).
    """

    id: str
    title: str
    run: Callable[[Ctx], Awaitable[list[Finding]]]
    needs: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    applies: Callable[[Target], bool] = _endpoint
    opt_in: bool = False
    budget_s: float | None = None
    prefetch: Callable[[Session], None] | None = None
    package: str = field(default="", compare=False)


class RegistryError(Exception):
    """The installed checks cannot be ordered (a dependency cycle, a duplicate id)."""


def load_checks() -> tuple[list[Check], list[str]]:
    """Every installed check, in dependency order, plus one message per plug-in that failed."""
    checks: list[Check] = []
    problems: list[str] = []
    packages: dict[int, str] = {}  # one name per distribution, not one per entry point
    for ep in _entry_points():
        try:
            check = ep.load()
        except Exception as exc:  # a broken plug-in must not break the doctor
            problems.append(f"check plug-in {ep.name!r} ({ep.value}) failed to load: {exc}")
            continue
        if not isinstance(check, Check):
            problems.append(f"check plug-in {ep.name!r} ({ep.value}) is not an lmdoctor Check")
            continue
        if ep.dist is not None and id(ep.dist) not in packages:
            packages[id(ep.dist)] = _dist_name(ep.dist)
        checks.append(replace(check, package=packages.get(id(ep.dist), "")))
    return order(checks), problems


def _entry_points() -> list[Any]:
    """The `lmdoctor.checks` entry points of the installed distributions, as
    importlib.metadata.entry_points(group=...) finds them: same order and de-duplication (the
    first distribution of a name on sys.path wins).

    importlib.metadata builds a Distribution (pathlib paths) for each of the hundreds of
    installed packages to read its entry_points.txt: ~20 ms of every start-up. When sys.path
    holds only folders and no other finder provides distributions (the usual case), the
    folders are listed and the files read directly, and only the few distributions that name
    the group are built; anything else (zip files, eggs, custom finders) is left to importlib.
    """
    folders = _plain_folders()
    if folders is None:
        return _via_importlib()
    from importlib.metadata import PathDistribution

    found = []
    seen: set[str] = set()
    for folder in folders:
        try:
            children = os.listdir(folder or ".")
        except OSError:
            continue  # as importlib: a missing folder provides nothing
        for child in children:
            if not child.lower().endswith(_INFO):
                continue
            if not child.endswith(_INFO):  # ".EGG-INFO": importlib reads its METADATA's name
                return _via_importlib()
            name = re.sub(r"[-_.]+", "_", child.rpartition(".")[0].partition("-")[0]).lower()
            if name in seen:
                continue
            seen.add(name)
            path = os.path.join(folder, child)
            try:
                with open(os.path.join(path, "entry_points.txt"), encoding="utf-8") as file:
                    if ENTRY_POINT_GROUP not in file.read():
                        continue
            except (OSError, ValueError):
                continue
            dist = PathDistribution(Path(path))
            found += [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
    return found


_INFO = (".dist-info", ".egg-info")


def _plain_folders() -> list[str] | None:
    """sys.path when importlib.metadata would find distributions only by listing its entries
    as folders; None when a zip file, an egg or another finder is involved."""
    from importlib.machinery import PathFinder

    if [f for f in sys.meta_path if getattr(f, "find_distributions", None)] != [PathFinder]:
        return None
    folders = [p for p in sys.path if isinstance(p, str)]
    if any(p.lower().endswith(".egg") or os.path.isfile(p) for p in folders):
        return None
    return folders


def _via_importlib() -> list[Any]:
    from importlib.metadata import distributions

    found = []
    seen: set[str] = set()
    for dist in distributions():
        name = _normalized(dist)
        if name in seen:
            continue
        seen.add(name)
        text = dist.read_text("entry_points.txt")
        if not text or ENTRY_POINT_GROUP not in text:
            continue
        found += [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
    return found


def _dist_name(dist: Any) -> str:
    """The distribution's Name, read from the header of its METADATA: `dist.name` parses the
    whole file (the README is its long description) with the email parser, every time."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in text.partition("\n\n")[0].splitlines():  # the headers end at a blank line
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "name":
            return value.strip()
    return ""


def _normalized(dist: Any) -> str:
    """The distribution's normalized name, from its folder name when possible (no METADATA
    read), as importlib.metadata does."""
    name = getattr(dist, "_normalized_name", None)
    if not name:
        name = dist.metadata["Name"] or ""
    return re.sub(r"[-_.]+", "_", name).lower()


def order(checks: Iterable[Check]) -> list[Check]:
    """Topological order by `needs`, stable in the given order; unknown needs are ignored."""
    by_id: dict[str, Check] = {}
    for check in checks:
        if check.id in by_id:
            raise RegistryError(f"two checks share the id {check.id!r}")
        by_id[check.id] = check
    ordered: list[Check] = []
    state: dict[str, str] = {}

    def visit(check: Check, path: tuple[str, ...]) -> None:
        if state.get(check.id) == "done":
            return
        if check.id in path:
            raise RegistryError("check dependency cycle: " + " -> ".join((*path, check.id)))
        for need in check.needs:
            if need in by_id:
                visit(by_id[need], (*path, check.id))
        state[check.id] = "done"
        ordered.append(check)

    for check in by_id.values():
        visit(check, ())
    return ordered


def _matches(check: Check, patterns: Iterable[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(check.id, p) or any(fnmatch.fnmatchcase(c, p) for c in check.codes)
        for p in patterns
    )


def select(
    checks: list[Check], only: Iterable[str] = (), skip: Iterable[str] = (), bench: bool = False
) -> list[Check]:
    """Apply --only/--skip (check ids or finding codes, globs allowed) and opt-in rules.

    --only keeps the named checks and what they need (the root cause must still be found);
    --skip drops exactly the named checks (their dependants still run).
    """
    only, skip = list(only), list(skip)
    by_id = {c.id: c for c in checks}
    if only:
        wanted: set[str] = set()
        stack = [c.id for c in checks if _matches(c, only)]
        while stack:
            cid = stack.pop()
            if cid not in wanted and cid in by_id:
                wanted.add(cid)
                stack.extend(by_id[cid].needs)
        chosen = [c for c in checks if c.id in wanted]
    else:
        chosen = [c for c in checks if not c.opt_in or (bench and c.id == "bench")]
    return [c for c in chosen if c.id not in skip]


# Codes the runner itself records for any check (registry-independent).
RUNNER_CODES = ("internal.error", "internal.timeout")


def known_names(checks: Iterable[Check]) -> list[str]:
    """Every name --only/--skip can mean: check ids, their codes, and the runner's codes."""
    names: dict[str, None] = {}
    for check in checks:
        names[check.id] = None
        names[f"{check.id}.skipped"] = None
        names.update(dict.fromkeys(check.codes))
    names.update(dict.fromkeys(RUNNER_CODES))
    return list(names)


def unknown_names(checks: Iterable[Check], patterns: Iterable[str]) -> list[tuple[str, str]]:
    """(pattern, closest known name or "") for each pattern that matches nothing: a typo in
    --only would otherwise run nothing and pass (a CI smoke check green forever)."""
    names = known_names(checks)
    unknown = []
    for pattern in patterns:
        if any(fnmatch.fnmatchcase(name, pattern) for name in names):
            continue
        import difflib  # only for a name that matches nothing

        close = difflib.get_close_matches(pattern, names, n=1, cutoff=0.6)
        unknown.append((pattern, close[0] if close else ""))
    return unknown


def code_filter(only: Iterable[str], skip: Iterable[str]) -> Callable[[Finding], bool]:
    """Finding-level filter: codes named in --skip are hidden; with --only naming codes, only
    those codes (and skip records) are shown."""
    only_codes = [p for p in only if "." in p]
    skip_codes = [p for p in skip if "." in p]

    def keep(finding: Finding) -> bool:
        if any(fnmatch.fnmatchcase(finding.code, p) for p in skip_codes):
            return False
        if only_codes and not any(fnmatch.fnmatchcase(finding.code, p) for p in only_codes):
            return not any(fnmatch.fnmatchcase(finding.check, p) for p in only)
        return True

    return keep
