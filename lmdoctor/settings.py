"""Settings: the run's per-phase timeouts and choices.

The bottom layer (imports nothing from lmdoctor): http builds its client from it and context
hands it to checks, so neither has to import the other for it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

DEFAULT_CONNECT_TIMEOUT_S = 3.0
# A hung server costs one read timeout, a black hole one connect timeout; keeping them close
# keeps a mixed run near the cost of one dead endpoint (issue 7: <= 1.3x).
DEFAULT_READ_TIMEOUT_S = 3.5


# NamedTuple, not a frozen dataclass: the same immutable value, cheaper to define (NOTES, 13)
class Settings(NamedTuple):
    """Per-phase timeouts (resolve, connect, TLS, first byte) and the run's choices."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout: float = DEFAULT_READ_TIMEOUT_S
    bench: bool = False
    verbose: bool = False
    wait_s: float = 0.0  # check --wait: how long lmdoctor waited for servers to be ready

    @classmethod
    def with_timeout(cls, seconds: float | None, **kw: Any) -> Settings:
        if seconds is None:
            return cls(**kw)
        return cls(connect_timeout=seconds, read_timeout=seconds, **kw)

    @property
    def request_deadline(self) -> float:
        """Upper bound for one whole request: every phase at most once, plus the body."""
        return 2 * self.connect_timeout + 2 * self.read_timeout

    @property
    def check_budget(self) -> float:
        """Default upper bound for one check (a few requests, mostly in parallel)."""
        return 2 * self.request_deadline + 1.0
