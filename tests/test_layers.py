"""Imports flow one way (issue 14): no import cycles among lmdoctor's and lmdoctor_checks'
modules, the core never imports the built-in checks, the bottom layer imports nothing of ours,
and only the CLI reaches for the renderers.

Static: every `import` statement of every module is read with ast, wherever it stands (module
level, inside functions, and inside `if TYPE_CHECKING:` blocks). Type-only imports count on
purpose: a type-only cycle is still two modules that cannot be understood apart, and it turns
into a runtime cycle the day someone needs the name at runtime. New modules and packages (e.g.
lmdoctor/servers/) are found by walking the installed packages, nothing is listed by hand.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

PACKAGES = ("lmdoctor", "lmdoctor_checks")
# imports nothing from lmdoctor: everything else may build on these
BOTTOM = ("lmdoctor.findings", "lmdoctor.secret", "lmdoctor.settings", "lmdoctor.urls")
Graph = dict[str, set[str]]


def modules() -> dict[str, tuple[Path, bool]]:
    """Module name -> (file, is a package __init__) for every module of PACKAGES."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        assert spec is not None and spec.submodule_search_locations, package
        for location in spec.submodule_search_locations:
            root = Path(location)
            for path in sorted(root.rglob("*.py")):
                parts = path.relative_to(root).with_suffix("").parts
                is_init = parts[-1] == "__init__"
                name = ".".join((package, *(parts[:-1] if is_init else parts)))
                found[name] = (path, is_init)
    return found


def imports_of(name: str, path: Path, is_init: bool, known: set[str]) -> set[str]:
    """The modules of PACKAGES that the module's import statements name. `from a import b`
    is an edge to a.b when that is a module, else to a (b is a name in a's __init__);
    `import a.b.c` is an edge to the longest known module it starts with."""

    def known_prefix(dotted: str) -> str:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted

    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(known_prefix(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, one level up per extra dot
                package = name.split(".") if is_init else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for alias in node.names:
                full = f"{source}.{alias.name}"
                out.add(full if full in known else known_prefix(source))
    return out - {"", name}


def import_graph() -> Graph:
    """Module -> the modules of PACKAGES it imports."""
    found = modules()
    return {
        name: imports_of(name, path, is_init, set(found)) for name, (path, is_init) in found.items()
    }


def cycles(graph: Graph) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe(component: list[str], graph: Graph) -> str:
    inside = set(component)
    edges = [f"{a} -> {b}" for a in component for b in sorted(graph[a] & inside)]
    return "; ".join(edges)


@pytest.fixture(scope="module")
def graph() -> Graph:
    return import_graph()


def test_the_scanner_sees_every_kind_of_import(graph: Graph):
    # module level, inside a function, under TYPE_CHECKING, relative-free `from pkg import mod`
    assert "lmdoctor.context" in graph["lmdoctor.runner"]
    assert "lmdoctor.discovery" in graph["lmdoctor.cli"]  # inside a command function
    assert "lmdoctor.http" in graph["lmdoctor.context"]  # under TYPE_CHECKING
    assert "lmdoctor.render.markdown" in graph["lmdoctor.render.github"]
    assert "lmdoctor.render" in graph["lmdoctor.render.github"]  # RenderOptions from __init__
    assert any(name.startswith("lmdoctor_checks.") for name in graph)


def test_cycle_finder_finds_a_cycle():
    toy = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(toy) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles(graph: Graph):
    found = cycles(graph)
    assert not found, "import cycles: " + " | ".join(describe(c, graph) for c in found)


def test_core_never_imports_the_builtin_checks(graph: Graph):
    # the built-in checks are plug-ins (entry points): the core must work without them
    wrong = [
        f"{a} -> {b}"
        for a, targets in graph.items()
        if a.startswith("lmdoctor.") or a == "lmdoctor"
        for b in targets
        if b.split(".")[0] == "lmdoctor_checks"
    ]
    assert not wrong


@pytest.mark.parametrize("module", BOTTOM)
def test_the_bottom_layer_imports_nothing_of_ours(graph: Graph, module: str):
    assert graph[module] <= {"lmdoctor"}, sorted(graph[module])  # __version__ at most


def test_only_the_cli_uses_renderers(graph: Graph):
    # domain modules return data; text is made in lmdoctor.render (hardware, estimate, scan too).
    # The front ends use it: the CLI, and `lmdoctor serve` (lmdoctor.exporter) for its metrics.
    wrong = [
        f"{a} -> {b}"
        for a, targets in graph.items()
        if a != "lmdoctor.cli" and not a.startswith(("lmdoctor.render", "lmdoctor.exporter"))
        for b in targets
        if b == "lmdoctor.render" or b.startswith("lmdoctor.render.")
    ]
    assert not wrong
