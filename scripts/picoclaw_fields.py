"""Derive PicoClaw's strict-decoding field table from its Go source (data, not code).

PicoClaw >= v0.2.8 rejects a config whose JSON has a key that no exported struct field of the
target type names, at every nested path, with exact case (pkg/config/diagnostics.go
collectUnknownJSONFields + populateJSONFieldTypeMap). This script reads the `type X struct`
declarations of pkg/config/*.go at one commit and writes, per named type, what the reflect walk
sees: a struct's json names and field types, a map's or slice's element type; anything else is
opaque (the walk stops there). Usage:

    python scripts/picoclaw_fields.py GIT_DIR COMMIT > lmdoctor/config/picoclaw_fields.json
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

_TYPE_DECL = re.compile(r"^type (\w+) (.+)$", re.M)
_FIELD = re.compile(r"^\s*([A-Za-z_]\w*(?:\s*,\s*\w+)*)\s+([^`\s][^`]*?)\s*(`[^`]*`)?\s*$")
_EMBEDDED = re.compile(r"^\s*\*?([A-Za-z_][\w.]*)\s*(`[^`]*`)?\s*$")
_JSON_TAG = re.compile(r'json:"([^"]*)"')
_BUILTINS = frozenset(
    [
        "any",
        "bool",
        "byte",
        "complex64",
        "complex128",
        "error",
        "float32",
        "float64",
        "int",
        "int8",
        "int16",
        "int32",
        "int64",
        "rune",
        "string",
        "uint",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "uintptr",
    ]
)


def type_expr(go: str) -> str:
    """A Go type → 'struct:Name' | 'map:<elem>' | 'slice:<elem>' | 'named:Name' | 'opaque'."""
    go = go.strip()
    while go.startswith("*"):
        go = go[1:]
    if go.startswith("[]") or re.match(r"^\[\d+\]", go):
        return "slice:" + type_expr(go[go.index("]") + 1 :])
    if go.startswith("map["):
        depth, i = 0, 3
        for i in range(3, len(go)):
            depth += go[i] == "["
            depth -= go[i] == "]"
            if depth == 0:
                break
        return "map:" + type_expr(go[i + 1 :])
    if re.fullmatch(r"[A-Za-z_]\w*", go) and go not in _BUILTINS:
        return "named:" + go
    return "opaque"  # builtins, other packages (json.RawMessage is []byte: no keys below it)


def struct_fields(body: str) -> dict[str, object]:
    fields: dict[str, str] = {}
    embedded: list[str] = []
    for raw in body.splitlines():
        line = raw.split("//", 1)[0].rstrip()
        if not line.strip():
            continue
        tag_match = _JSON_TAG.search(line)
        tag = tag_match.group(1) if tag_match else None
        name = tag.split(",")[0] if tag is not None else ""
        found = _EMBEDDED.match(line)
        if found and " " not in line.strip().split("`")[0].strip():
            if name in ("", None) and "." not in found.group(1):
                embedded.append(found.group(1))
            elif name and name != "-":
                fields[name] = type_expr(found.group(1))
            continue
        found = _FIELD.match(line)
        if not found:
            continue
        for field in (f.strip() for f in found.group(1).split(",")):
            if not field[0].isupper() or name == "-":
                continue
            fields[name or field] = type_expr(found.group(2))
    return {"kind": "struct", "fields": fields, "embedded": embedded}


def parse(sources: list[str]) -> dict[str, object]:
    types: dict[str, object] = {}
    for text in sources:
        for match in _TYPE_DECL.finditer(text):
            name, rest = match.group(1), match.group(2).strip()
            if rest.startswith("struct {"):
                start = match.end()
                depth, i = 1, start
                while depth and i < len(text):
                    depth += text[i] == "{"
                    depth -= text[i] == "}"
                    i += 1
                types[name] = struct_fields(text[start : i - 1])
            elif not rest.startswith(("func", "interface", "=")):
                types[name] = {"kind": "alias", "of": type_expr(rest)}
    return types


def main() -> None:
    git_dir, commit = sys.argv[1], sys.argv[2]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
        ).stdout

    full = git("rev-parse", commit).strip()
    names = [
        n
        for n in git("ls-tree", "--name-only", full, "pkg/config/").split()
        if n.endswith(".go") and not n.endswith("_test.go")
    ]
    types = parse([git("show", f"{full}:{n}") for n in names])
    out = {"source": f"sipeed/picoclaw@{full} pkg/config/*.go", "types": types}
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
