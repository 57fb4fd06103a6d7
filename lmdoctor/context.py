"""What checks see: run-wide settings and services (Session) and the per-target Ctx."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from lmdoctor.settings import Settings  # also importable from here

if TYPE_CHECKING:
    from lmdoctor.findings import Finding
    from lmdoctor.http import HttpClient
    from lmdoctor.net import Listener
    from lmdoctor.parse import ModelFacts
    from lmdoctor.servers import Listing, Native, ServerInfo, ServerKind
    from lmdoctor.servers.client import TargetClient
    from lmdoctor.target import Target

T = TypeVar("T")


class _Memo:
    """Share one run-wide computation between concurrent awaiters (the hardware snapshot)."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[Any]] = {}

    async def get(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(factory())
            self._tasks[key] = task
        # shield: one check timing out must not cancel the work others wait for
        return await asyncio.shield(task)


@dataclass
class Session:
    """One per run: the shared HTTP client, settings, run-wide memo (hardware snapshot)."""

    settings: Settings
    http: HttpClient
    _memo: _Memo = field(default_factory=_Memo)

    async def memo(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        return await self._memo.get(key, factory)

    async def listeners(self) -> list[Listener] | None:
        """This machine's listening sockets, read once per run (None when unreadable)."""
        from lmdoctor import net

        return await self.memo("net.listeners", lambda: asyncio.to_thread(net.listeners))


@dataclass
class Ctx:
    """One per target. `earlier` holds the findings of checks that already finished.

    Checks read the facts they share through the typed accessors below; each is computed
    once per target, in the target's one client (lmdoctor/servers/client.py)."""

    session: Session
    target: Target
    earlier: dict[str, list[Finding]] = field(default_factory=dict)
    _client: TargetClient | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return self.session.settings

    @property
    def client(self) -> TargetClient:
        """The target's HTTP client: bounded, cached probes; its key only to its origin."""
        if self._client is None:
            from lmdoctor.servers.client import TargetClient

            self._client = TargetClient(self.session.http, self.target)
        return self._client

    async def server(self) -> ServerInfo | None:
        """Which server answers at the target; None when no LLM server does."""
        return await self.client.server()

    async def server_kind(self) -> ServerKind:
        """What lmdoctor knows about that server (the generic kind when unknown)."""
        return await self.client.server_kind()

    async def listing(self) -> Listing:
        """GET {api_base}/models as the client sends it (with the key)."""
        return await self.client.listing()

    async def native(self) -> Native:
        """The server's own account of its models (loaded state, contexts, sizes)."""
        return await self.client.native()

    async def model(self) -> ModelFacts | None:
        """The server's facts about the target's model id, None when it says nothing."""
        return await self.client.model()

    async def listeners(self) -> list[Listener] | None:
        return await self.session.listeners()

    async def aclose(self) -> None:
        """Cancel whatever is still running for this target, and wait for it to stop."""
        if self._client is not None:
            await self._client.aclose()
