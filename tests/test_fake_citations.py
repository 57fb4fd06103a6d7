"""Every emulated route in tests/fakes cites the real source it mirrors (issue 11): a file:line
(or llm-servers.md section, or the match arm of a source cited by function) on the route's
line or just above it. The project and commit are in each module's docstring."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

FAKES = Path(__file__).parent / "fakes"
ROUTE = re.compile(r'"(GET|POST|HEAD|PUT|DELETE|OPTIONS) /')
CITE = re.compile(r":\d+|§\d+|\((GET|POST), \"")
INVENTED = "No real project is emulated"  # tests/fakes/generic.py: unknown servers


def modules() -> list[Path]:
    return sorted(p for p in FAKES.glob("*.py") if p.name not in ("__init__.py", "common.py"))


@pytest.mark.parametrize("path", modules(), ids=lambda p: p.name)
def test_every_fake_route_cites_its_source(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    if INVENTED in text:
        return
    assert "Sources" in text.split('"""')[1], "the docstring names no project and commit"
    lines = text.splitlines()
    missing = []
    for i, line in enumerate(lines):
        if not ROUTE.search(line) or line.lstrip().startswith("#"):
            continue
        near = [line]
        for above in reversed(lines[max(0, i - 2) : i]):
            if ROUTE.search(above) and not above.lstrip().startswith("#"):
                break
            near.append(above)
        if not any(CITE.search(x) for x in near):
            missing.append(f"{path.name}:{i + 1}: {line.strip()}")
    assert missing == [], "routes without a citation:\n" + "\n".join(missing)
