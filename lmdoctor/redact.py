"""Keep secrets out of everything that leaves the process.

Two layers: `Secret` never shows its value (str, repr, format, pickling into logs), and
`scrub()` removes every secret value this process has seen plus anything that looks like a key.
Renderers pass their final text through `scrub()`.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_known: set[str] = set()

# Key-shaped strings: OpenAI/Anthropic/LM Studio/HF tokens, bearer tokens, JWTs.
_PATTERNS = [
    re.compile(r"\bsk-(?:ant-|lm-|proj-)?[A-Za-z0-9_\-]{8,}"),
    re.compile(r"\bhf_[A-Za-z0-9]{8,}"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/\-]{6,}=*"),
    re.compile(r"\beyJ[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}\.[A-Za-z0-9_\-]{6,}"),
]
# user:password@ in URLs, and secret-looking query parameters.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@:]*(?::[^/\s@]*)?@")
_QUERY = re.compile(
    r"(?i)([?&](?:api[_-]?key|key|token|access_token|secret|password|sig)=)[^&\s#\"']+"
)


class Secret:
    """A credential. Its value is only reachable through `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= 3:
            _known.add(value)

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __reduce__(self) -> Any:
        raise TypeError("Secret values cannot be pickled")

    def fingerprint(self) -> str:
        """A shape hint safe to print: length and kind, never characters."""
        prefixes = ("sk-ant-", "sk-lm-", "sk-", "hf_")
        kind = next((p for p in prefixes if self._value.startswith(p)), "")
        return f"{kind}… ({len(self._value)} chars)" if kind else f"{len(self._value)} chars"


def remember(value: str) -> None:
    """Register a value that must never be printed (a key read from anywhere)."""
    if len(value) >= 3:
        _known.add(value)


def scrub(text: str) -> str:
    """Remove known secrets and key-shaped strings from text bound for output."""
    if not text:
        return text
    for value in sorted(_known, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + MASK, text)
    text = _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
    return _QUERY.sub(lambda m: m.group(1) + MASK, text)


def scrub_data(value: Any) -> Any:
    """scrub() applied to every string inside plain data (evidence, JSON)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, dict):
        return {scrub_data(k): scrub_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub_data(v) for v in value]
    return value
