"""Static rules of the code layout (issue 14): checks stand alone, server knowledge lives in
lmdoctor/servers/, one module per kind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lmdoctor import servers

ROOT = Path(__file__).resolve().parent.parent
CHECKS = sorted((ROOT / "checks").glob("*.py"))
CHECK_MODULES = {f"lmdoctor_checks.{p.stem}" for p in CHECKS} | {"lmdoctor_checks"}


def _imports(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):  # nested (lazy) imports count too
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from . import x / from .x import y
                found += [f".{node.module or ''}"] + [f".{a.name}" for a in node.names]
            else:
                base = node.module or ""
                found += [base] + [f"{base}.{a.name}" for a in node.names]
    return found


@pytest.mark.parametrize("path", CHECKS, ids=lambda p: p.name)
def test_a_check_never_imports_another_check(path: Path) -> None:
    """A third-party plug-in cannot import the built-in checks; neither do they. What checks
    share lives in lmdoctor core (typed accessors on Ctx)."""
    imported = _imports(ast.parse(path.read_text(encoding="utf-8"), str(path)))
    wrong = [m for m in imported if m in CHECK_MODULES or m.startswith(".")]
    assert not wrong, f"{path.name} imports {wrong}"


def _string_tests(tree: ast.AST) -> list[str]:
    """String constants a comparison tests against (`x == "ollama"`, `x in ("a", "b")`)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for side in (node.left, *node.comparators):
            values = side.elts if isinstance(side, (ast.Tuple, ast.List, ast.Set)) else [side]
            found += [v.value for v in values if isinstance(v, ast.Constant)
                      and isinstance(v.value, str)]  # fmt: skip
    return found


@pytest.mark.parametrize("path", CHECKS, ids=lambda p: p.name)
def test_no_check_branches_on_a_server_kind_id(path: Path) -> None:
    """Checks ask the target's ServerKind (attributes, hooks) instead."""
    tested = set(_string_tests(ast.parse(path.read_text(encoding="utf-8"), str(path))))
    assert not tested & set(servers.KINDS), (
        f"{path.name} compares with {tested & set(servers.KINDS)}"
    )


def test_every_kind_has_its_own_module() -> None:
    modules = {p.stem for p in (ROOT / "lmdoctor" / "servers").glob("*.py")}
    for kind in servers.KINDS.values():
        module = {"openai-compatible": "generic"}.get(kind.id, kind.id.replace("-", "_"))
        assert module in modules, f"{kind.id} has no module lmdoctor/servers/{module}.py"
        assert getattr(servers, module).KIND is kind


def test_well_known_ports_keep_their_scan_order() -> None:
    assert servers.WELL_KNOWN_PORTS == (
        1234, 11434, 8080, 9931, 8000, 4000, 1337, 3000, 5000, 5001, 30000, 8081, 8888, 4891,
    )  # fmt: skip
