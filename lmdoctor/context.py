"""What checks see: run-wide settings and services (Session) and the per-target Ctx."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from lmdoctor.settings import Settings  # also importable from here

if TYPE_CHECKING:
    from lmdoctor.findings import Finding
    from lmdoctor.http import HttpClient, Response
    from lmdoctor.target import Target

T = TypeVar("T")


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
