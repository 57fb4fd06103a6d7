"""PicoClaw's strict decoding: which JSON keys it rejects, at every nested path.

PicoClaw >= v0.2.8 walks the decoded JSON against its Go struct types before decoding and
stops with `config.json contains unknown field(s): <paths>` when a key names no exported field
(exact case; maps and slices are walked element by element; anything else ends the walk):
sipeed/picoclaw@cf67dd3 pkg/config/diagnostics.go:15-34 (decodeJSONWithDiagnostics) and
:338-421 (collectUnknownJSONFields, populateJSONFieldTypeMap). The field tables are data
derived from PicoClaw's `type X struct` declarations by scripts/picoclaw_fields.py, one per
modelled version (picoclaw_fields/<version>.json).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

_TABLES = Path(__file__).with_name("picoclaw_fields")

# The modelled field tables, oldest first. A version between two uses the older one.
TABLES = ("v0.2.8", "v0.2.9", "cf67dd3")
CURRENT = "Config"  # v3 files and every migrated file are decoded into this
LEGACY = "legacyDiagnosticConfig"  # v0-v2 files are checked against this first (migration.go:30-62)


@cache
def _types(table: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((_TABLES / f"{table}.json").read_text(encoding="utf-8"))
    return data["types"]


def _fields(types: dict[str, Any], name: str) -> dict[str, str]:
    """populateJSONFieldTypeMap: own fields plus those of untagged embedded structs."""
    spec = types.get(name, {})
    found: dict[str, str] = {}
    for embedded in spec.get("embedded", []):
        found.update(_fields(types, embedded))
    found.update(spec.get("fields", {}))
    return found


def known_fields(
    path: tuple[str | int, ...], root: str = CURRENT, table: str = TABLES[-1]
) -> list[str]:
    """The field names PicoClaw accepts in the object at `path` (for "did you mean")."""
    types = _types(table)
    expr = "named:" + root
    for part in path:
        while expr.startswith("named:") and types.get(expr[6:], {}).get("kind") == "alias":
            expr = types[expr[6:]]["of"]
        if isinstance(part, int) or expr.startswith("map:"):
            expr = expr.split(":", 1)[1] if expr.startswith(("slice:", "map:")) else expr
            continue
        if not expr.startswith("named:"):
            return []
        expr = _fields(types, expr[6:]).get(part, "opaque")
    while expr.startswith("named:") and types.get(expr[6:], {}).get("kind") == "alias":
        expr = types[expr[6:]]["of"]
    if expr.startswith(("slice:", "map:")):
        expr = expr.split(":", 1)[1]
    return sorted(_fields(types, expr[6:])) if expr.startswith("named:") else []


def unknown_fields(data: Any, root: str = CURRENT, table: str = TABLES[-1]) -> list[str]:
    """The paths PicoClaw names in 'contains unknown field(s)', sorted as Go's sort.Strings."""
    types = _types(table)
    found: list[str] = []
    _walk(data, "named:" + root, "", types, found)
    return sorted(found)


def _walk(raw: Any, expr: str, path: str, types: dict[str, Any], found: list[str]) -> None:
    while expr.startswith("named:"):
        spec = types.get(expr[6:])
        if spec is None:
            return
        if spec["kind"] == "alias":
            expr = spec["of"]
            continue
        if not isinstance(raw, dict):
            return
        fields = _fields(types, expr[6:])
        for key, value in raw.items():
            sub = f"{path}.{key}" if path else key
            if key not in fields:
                found.append(sub)
            else:
                _walk(value, fields[key], sub, types, found)
        return
    if expr.startswith("slice:") and isinstance(raw, list):
        for i, item in enumerate(raw):
            _walk(item, expr[6:], f"{path}[{i}]", types, found)
    elif expr.startswith("map:") and isinstance(raw, dict):
        for key, value in raw.items():
            _walk(value, expr[4:], f"{path}.{key}" if path else key, types, found)
