"""The per-target client: the one way checks talk to the target, with one cache.

Each distinct request is made once per target, and so is each shared fact (which server
answers, its model list, its native model state, the facts about the target's model); checks
read them through `Ctx` (ctx.server(), ctx.listing(), …). The key goes only to the target's
own origin (HttpClient enforces it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from lmdoctor import parse, urls
from lmdoctor.servers.answers import (
    Listing,
    Native,
    Requests,
    ServerInfo,
    from_listing_only,
    list_models,
)
from lmdoctor.servers.identify import identify_with
from lmdoctor.servers.kind import ServerKind
from lmdoctor.servers.registry import by_id

if TYPE_CHECKING:
    from lmdoctor.http import HttpClient, StreamedResponse
    from lmdoctor.target import Target

T = TypeVar("T")


class TargetClient(Requests):
    def __init__(self, http: HttpClient, target: Target) -> None:
        super().__init__(http, target.api_key, target.api_base)
        self.target = target

    async def once(self, accessor: Callable[..., Any], factory: Callable[[], Awaitable[T]]) -> T:
        """Share one computation per target; keyed by the accessor that asks for it."""
        return await self._once(accessor, factory)  # type: ignore[no-any-return]

    async def server(self) -> ServerInfo | None:
        """Which server answers at the target (identify.py), None if no LLM server."""
        return await self.once(
            TargetClient.server, lambda: identify_with(self, self.target.api_base)
        )

    async def server_kind(self) -> ServerKind:
        """The identified kind; the generic one when unknown."""
        found = await self.server()
        return by_id(found.kind if found else None)

    async def listing(self) -> Listing:
        """GET {api_base}/models with the target's key."""
        return await self.once(
            TargetClient.listing, lambda: list_models(self, self.target.api_base)
        )

    async def native(self) -> Native:
        """What the server's own API says about its models."""

        async def build() -> Native:
            kind = await self.server_kind()
            listing = await self.listing()
            root = urls.api_root(self.target.api_base)  # keeps an --api-prefix
            reader = kind.native or from_listing_only
            try:
                return await reader(self, root, listing, self.target.model_id)
            except parse.ShapeError:
                return await from_listing_only(self, root, listing, self.target.model_id)

        return await self.once(TargetClient.native, build)

    async def model(self) -> parse.ModelFacts | None:
        """Native-API facts about the target's model id (`source` names the API)."""

        async def build() -> parse.ModelFacts | None:
            kind = await self.server_kind()
            state = await self.native()
            model = state.find(self.target.model_id, kind.default_tag)
            if model is None and kind.accepts_any_model and len(state.models) == 1:
                model = state.models[0]  # the one model such a server answers every id with
            return None if model is None else model._replace(source=state.source)

        return await self.once(TargetClient.model, build)

    async def stream(self, url: str, body: Any, *, patience: float) -> StreamedResponse:
        """POST a streamed request (never cached): the bench's one real completion."""
        return await self.http.stream_lines(
            "POST",
            url,
            key=self.key,
            key_origin=self.key_origin,
            json_body=body,
            deadline=patience,
            first_byte_timeout=patience,
        )
