"""Issue 13, item 1: the distribution name is not PyPI's `lmdoctor` (another project), and the
README's install lines install this tool."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _normalized(name: str) -> str:
    """PyPI's "too similar" normalisation: separators dropped, l/I → 1, o → 0."""
    name = re.sub(r"[-_.]+", "", name.lower())
    return name.replace("l", "1").replace("i", "1").replace("o", "0")


def test_the_distribution_is_not_named_like_pypis_lmdoctor() -> None:
    assert PROJECT["name"] != "lmdoctor"
    assert _normalized(PROJECT["name"]) != _normalized("lmdoctor")


def test_the_command_and_import_package_stay_lmdoctor() -> None:
    assert PROJECT["scripts"]["lmdoctor"] == "lmdoctor.cli:entry"
    assert (ROOT / "lmdoctor" / "__init__.py").exists()


def test_every_readme_install_line_installs_this_tool() -> None:
    installs = re.findall(r"pip install (?:-U |-q |--upgrade )*([^\s#`]+)", README)
    assert installs, "the README shows how to install"
    name = PROJECT["name"]
    for target in installs:
        target = target.strip("\"'")
        if target in (".", "-e") or target.startswith((".[", "-e", "'.[")):
            continue  # a checkout of this repository
        if target == "lmdoctor" or target.startswith(("lmdoctor=", "lmdoctor[", "lmdoctor>")):
            # only allowed inside the warning that names the other project
            continue
        assert re.fullmatch(rf"{re.escape(name)}(==[\w.]+)?", target), target
    recipes = re.findall(r"(?m)^\s*-? ?(?:run: )?pip install (\S+)", README)
    assert all(r.strip("\"'") != "lmdoctor" for r in recipes)


def test_the_readme_says_pypis_lmdoctor_is_another_project() -> None:
    assert "PyPI name `lmdoctor` belongs to another project" in README
    assert f"`{PROJECT['name']}`" in README


def test_the_readme_says_the_test_extras_compile_llama_cpp() -> None:
    """Issue 13, item 11: the first `pip install -e '.[test,integration]'` builds llama.cpp."""
    assert "compiles llama.cpp from source" in README
    assert "cmake" in README and "about 10 minutes on 2 cores" in README


# distribution name -> the module lmdoctor imports from it
_IMPORTED_AS = {"PyYAML": "yaml", "nvidia-ml-py": "pynvml"}


def test_every_runtime_dependency_is_imported() -> None:
    """A dependency nothing imports only costs users an install (tabulate, after
    render/layout.py replaced it: issue 13)."""
    source = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("lmdoctor", "checks")
        for p in (ROOT / folder).rglob("*.py")
    )
    for requirement in PROJECT["dependencies"]:
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        module = _IMPORTED_AS.get(name, name.replace("-", "_"))
        assert re.search(rf"^\s*(?:import|from) {module}\b", source, re.M), requirement
