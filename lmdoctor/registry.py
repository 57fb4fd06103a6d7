"""Checks and the registry that finds them (the `lmdoctor.checks` entry-point group)."""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

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
    from importlib.metadata import entry_points

    checks: list[Check] = []
    problems: list[str] = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            check = ep.load()
        except Exception as exc:  # a broken plug-in must not break the doctor
            problems.append(f"check plug-in {ep.name!r} ({ep.value}) failed to load: {exc}")
            continue
        if not isinstance(check, Check):
            problems.append(f"check plug-in {ep.name!r} ({ep.value}) is not an lmdoctor Check")
            continue
        package = ep.dist.name if ep.dist is not None else ""
        checks.append(replace(check, package=package))
    return order(checks), problems


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
