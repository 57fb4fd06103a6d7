"""`Secret`: a credential that never shows its value, and the registry of every secret value this
process has seen (`remember()`), which `redact.scrub()` removes from output.

The bottom layer: it imports nothing from lmdoctor, so target, findings, config and http can
all hold secrets without importing the scrubbing machinery (redact imports this, not the
reverse).
"""

from __future__ import annotations

from typing import Any

MASK = "***"
_known: set[str] = set()

# Dummy keys that documentation tells people to use (LM Studio, Ollama, vLLM, llama.cpp):
# not secrets, and scrubbing the word "ollama" from every line would ruin the output.
PLACEHOLDER_KEYS = frozenset(
    {"lm-studio", "lmstudio", "ollama", "empty", "none", "null", "dummy", "not-needed",
     "no-key", "nokey", "sk-no-key-required", "sk-xxx", "key", "test", "token", "local"}
)  # fmt: skip


class Secret:
    """A credential. Its value is only reachable through `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        remember(value)

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

    # copy/deepcopy (dataclasses.asdict, replace) keep the object; they never need the value
    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def fingerprint(self) -> str:
        """A shape hint safe to print: length and kind, never characters."""
        prefixes = ("sk-ant-", "sk-lm-", "sk-proj-", "sk-", "hf_", "nvapi-", "gsk_")
        kind = next((p for p in prefixes if self._value.startswith(p)), "")
        return f"{kind}… ({len(self._value)} chars)" if kind else f"{len(self._value)} chars"


def remember(value: str) -> None:
    """Register a value that must never be printed (a key read from anywhere)."""
    if len(value) >= 3 and value.strip().lower() not in PLACEHOLDER_KEYS:
        _known.add(value)
