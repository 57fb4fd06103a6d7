"""Bounded, position-aware reading of config.json and .security.yml.

Everything that can go wrong before the data has a shape ends here as one `ConfigError`
whose str() is a single line `path:line:column: message` (1:1 when the problem is the whole
file, as flake8 does for unreadable files), never a traceback.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
import stat
from pathlib import Path
from typing import Any

MAX_CONFIG_BYTES = 10 * 1024 * 1024  # PicoClaw configs are a few KB
MAX_SECURITY_BYTES = 1024 * 1024
PICOCLAW_SMALL_FILE = 10  # LoadConfig: a file of <= 10 bytes means "use the default config"

JsonPath = tuple[str | int, ...]


class ConfigError(Exception):
    """The file cannot be used at all. str() is one line: 'path:line:column: message'."""

    def __init__(
        self, path: Path | str, message: str, line: int | None = None, column: int | None = None
    ) -> None:
        self.path, self.message, self.line, self.column = str(path), message, line, column
        where = self.path + (f":{line}" if line else "") + (f":{column}" if column else "")
        super().__init__(f"{where}: {message}")


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """The file's bytes, refusing directories, devices and anything over `limit` bytes."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ConfigError(path, "no such file", 1, 1) from None
    except OSError as exc:
        raise ConfigError(path, f"cannot open the {what}: {_reason(exc)}", 1, 1) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(path, f"is a directory; give the {what} file inside it", 1, 1)
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(path, f"is not a regular file; give the {what} file", 1, 1)
    if info.st_size > limit:
        raise ConfigError(path, _too_big(info.st_size, limit, what), 1, 1)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ConfigError(path, f"cannot read the {what}: {_reason(exc)}", 1, 1) from None
    if len(data) > limit:  # it grew while we looked
        raise ConfigError(path, _too_big(len(data), limit, what), 1, 1)
    return data


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return (
            "permission denied (run lmdoctor as the user PicoClaw runs as, "
            "or make the file readable)"
        )
    return (exc.strerror or str(exc)).lower()


def _too_big(size: int, limit: int, what: str) -> str:
    return (
        f"is {size / 1024 / 1024:.1f} MB; lmdoctor reads a {what} of at most "
        f"{limit // 1024 // 1024} MB (a PicoClaw config is a few KB): is this the right file?"
    )


def decode_utf8(path: Path, data: bytes) -> str:
    """UTF-8 text; a byte-order mark or a bad byte is reported with its line and column."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise ConfigError(
            path,
            "starts with a UTF-8 byte-order mark, which JSON does not allow and PicoClaw "
            "rejects; save the file as UTF-8 without BOM",
            1,
            1,
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            path,
            f"byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8",
            line,
            column,
        ) from None


class _NotJson(ValueError):
    """NaN/Infinity: Python accepts them, JSON (and PicoClaw) do not."""


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


def parse_json(path: Path, text: str) -> Any:
    """json.loads with PicoClaw's strictness; errors carry line and column."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg}{_hint(text, exc.pos)}"
        raise ConfigError(path, message, exc.lineno, exc.colno) from None
    except _NotJson as exc:
        line, column = Positions(text).of_offset(_constant_offset(text, str(exc)))
        raise ConfigError(path, f"invalid JSON: {exc} is not a JSON value", line, column) from None
    except RecursionError:
        raise ConfigError(path, "invalid JSON: nested too deeply to be a config", 1, 1) from None


def _hint(text: str, offset: int) -> str:
    """The usual hand-editing slips, named."""
    ahead = text[offset : offset + 2]
    if ahead in ("//", "/*") or ahead[:1] == "#":
        return " (JSON does not allow comments)"
    if ahead[:1] in ("]", "}") and text[:offset].rstrip().endswith(","):
        return f" (a trailing comma before '{ahead[0]}' is not allowed in JSON)"
    if ahead[:1] == "'":
        return " (JSON strings take double quotes)"
    return ""


def _constant_offset(text: str, name: str) -> int:
    match = re.search(r"(?<=[\[:,\s])" + re.escape(name) + r"(?=[\s,\]}])", text)
    return match.start() if match else 0


# A JSON token: a string (unrolled loop, so long strings stay linear) or a structural char.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\]:,]')


class Positions:
    """Line and column of keys and array elements, down to a few levels.

    A path such as ("model_list", 3) maps to the `{` of that entry; ("agents", "defaults",
    "model") to the key's opening quote. One regex pass over text that json already accepted.
    """

    MAX_DEPTH = 4

    def __init__(self, text: str = "") -> None:
        self._newlines = [m.start() for m in re.finditer("\n", text)]
        self._at: dict[JsonPath, int] = {}
        if text:
            self._scan(text)

    def _scan(self, text: str) -> None:
        # Each frame: [is_object, path, current key or index, expecting a key].
        stack: list[list[Any]] = []
        for match in _TOKEN.finditer(text):
            token, offset = match.group(), match.start()
            top = stack[-1] if stack else None
            if token[0] == '"':
                if top is not None and top[0] and top[3]:
                    top[2] = json.loads(token) if len(top[1]) < self.MAX_DEPTH else None
                    top[3] = False
                    self._record((*top[1], top[2]), offset)
                elif top is not None and not top[0]:
                    self._record((*top[1], top[2]), offset)
            elif token in "{[":
                path: JsonPath = () if top is None else (*top[1], top[2])
                if top is not None and not top[0]:
                    self._record(path, offset)
                stack.append([token == "{", path, None if token == "{" else 0, token == "{"])
            elif token in "}]":
                if stack:
                    stack.pop()
            elif token == "," and top is not None:
                if top[0]:
                    top[3] = True
                else:
                    top[2] += 1

    def _record(self, path: JsonPath, offset: int) -> None:
        if len(path) <= self.MAX_DEPTH and None not in path:
            self._at[path] = offset

    def of_offset(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_left(self._newlines, offset)
        start = self._newlines[line - 1] + 1 if line else 0
        return line + 1, offset - start + 1

    def find(self, path: JsonPath) -> tuple[int, int] | None:
        """(line, column) of the path, or of its nearest recorded parent; None if none."""
        while path:
            if path in self._at:
                return self.of_offset(self._at[path])
            path = path[:-1]
        return None

    def line(self, path: JsonPath) -> int | None:
        found = self.find(path)
        return found[0] if found else None


def first_value_position(text: str) -> tuple[int, int]:
    stripped = len(text) - len(text.lstrip())
    return Positions(text).of_offset(stripped)


def describe(value: Any) -> str:
    """A JSON type name for messages: 'a string', 'an object', 'null'..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        # "must be a list of strings, not a list" would say nothing: name the odd item
        odd = [item for item in value if not isinstance(item, str)]
        return f"a list holding {describe(odd[0])}" if odd else "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------- .security.yml


def read_security(path: Path) -> dict[str, list[str] | None]:
    """`.security.yml` model_list → {"name" or "name:index": [keys]}; {} when absent.
    An entry that is present but has no keys (`name:0: {}`) maps to [] (it replaces the
    config.json keys with none); a null entry maps to None (PicoClaw skips it)."""
    import yaml

    if not os.path.lexists(path):
        return {}
    text = decode_utf8(path, read_bounded(path, MAX_SECURITY_BYTES, ".security.yml"))
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "cannot be parsed"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError(path, f"invalid YAML: {message}", line, column) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(path, f"invalid YAML: {exc}", 1, 1) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            path, f"must be a mapping (model_list: ...), found {describe(data)}", 1, 1
        )
    models = data.get("model_list")
    if models is None:
        return {}
    if not isinstance(models, dict):
        raise ConfigError(
            path,
            f"model_list must map model names to {{api_keys: [...]}}, found {describe(models)}",
            _yaml_line(text, ("model_list",)),
            1,
        )
    keys: dict[str, list[str] | None] = {}
    for name, entry in models.items():
        keys[str(name)] = _security_keys(path, text, str(name), entry)
    return keys


def _security_keys(path: Path, text: str, name: str, entry: Any) -> list[str] | None:
    if entry is None:
        return None  # yaml null: a nil *ModelConfig, skipped (config_struct.go:333-336)
    if not isinstance(entry, dict):
        raise ConfigError(
            path,
            f"model_list.{name} must be a mapping with api_keys, found {describe(entry)}",
            _yaml_line(text, ("model_list", name)),
            1,
        )
    values = entry.get("api_keys")
    if values is None:
        return []
    if not isinstance(values, list):
        raise ConfigError(
            path,
            f'model_list.{name}.api_keys must be a list (api_keys: ["..."]), '
            f"found {describe(values)}",
            _yaml_line(text, ("model_list", name, "api_keys")),
            1,
        )
    return [str(v) for v in values if v is not None and not isinstance(v, (dict, list))]


def _yaml_line(text: str, keys: tuple[str, ...]) -> int:
    """The line of a nested mapping key in YAML text (the deepest found; 1 if none)."""
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return 1
    line = 1
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            return line
        for key_node, value_node in node.value:
            if str(getattr(key_node, "value", "")) == key:
                line, node = key_node.start_mark.line + 1, value_node
                break
        else:
            return line
    return line
