"""What checks see: run-wide settings and services (Session) and the per-target Ctx."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from lmdoctor.findings import Finding
    from lmdoctor.http import HttpClient, Response
    from lmdoctor.target import Target

T = TypeVar("T")

DEFAULT_CONNECT_TIMEOUT_S = 3.0
# A hung server costs one read timeout, a black hole one connect timeout; keeping them close
# keeps a mixed run near the cost of one dead endpoint (issue 7: <= 1.3x).
DEFAULT_READ_TIMEOUT_S = 3.5


@dataclass(frozen=True)
class Settings:
    """Per-phase timeouts (resolve, connect, TLS, first byte) and the run's choices."""

    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT_S
    read_timeout: float = DEFAULT_READ_TIMEOUT_S
    bench: bool = False
    verbose: bool = False

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


class _Memo:
    """Share one computation between concurrent awaiters (fetch /v1/models once per target)."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    async def get(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._tasks[key] = task
        # shield: one check timing out must not cancel the work others wait for
        return await asyncio.shield(task)

    def cancel_all(self) -> None:
        for task in self._tasks.values():
            task.cancel()


@dataclass
class Session:
    """One per run: the shared HTTP client, settings, run-wide memo (hardware snapshot)."""

    settings: Settings
    http: HttpClient
    _memo: _Memo = field(default_factory=_Memo)

    async def memo(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        return await self._memo.get(key, factory)


@dataclass
class Ctx:
    """One per target. `earlier` holds the findings of checks that already finished."""

    session: Session
    target: Target
    earlier: dict[str, list[Finding]] = field(default_factory=dict)
    _memo: _Memo = field(default_factory=_Memo)

    @property
    def settings(self) -> Settings:
        return self.session.settings

    async def memo(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        return await self._memo.get(key, factory)

    async def request(self, method: str, url: str, **kw: Any) -> Response:
        """A bounded request; the target's key is attached only if `url` is its own origin."""
        kw.setdefault("key", self.target.api_key)
        return await self.session.http.request(method, url, key_origin=self.target.api_base, **kw)

    async def get(self, url: str, **kw: Any) -> Response:
        return await self.request("GET", url, **kw)
