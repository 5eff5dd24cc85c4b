"""A region created a moment ago is usable at once in every process.

Custom regions reach the other processes as events (:mod:`zhichan.region_sync`), a moment after
the targets service answered their creation. A request naming such a region in that moment was
refused ("unknown region code"), so a municipal system that defined a zone and posted a record
in it had to retry. Here, a request refused only for region codes this process does not know is
answered after one question to the targets service (``GET /regions/{code}``, public): the codes
it knows are registered, with their ancestors, and the request runs again, with the same body.

Only a refusal is retried — a 422 whose problem names unknown region codes — and a refusal is
answered before anything is written, so running the request again is safe. A code the targets
service does not know is remembered as unknown for a while, so that a client repeating a wrong
code costs the targets service one request per :data:`MISS_TTL_SECONDS`, not one per request.
"""

from __future__ import annotations

import logging
import re
import time

import httpx
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhichan.regions import registry

log = logging.getLogger(__name__)

# The problem every region check writes (zhichan.fields.known_region, zhichan.api.scope.scoped).
UNKNOWN_REGION = re.compile(r"unknown region code '([^']{1,64})'")
MISS_TTL_SECONDS = 10.0
MOST_CODES = 8  # a request naming more unknown codes than this is not a region created a moment ago
LOOKUP_TIMEOUT_SECONDS = 2.0


class RegionLookup:
    """Asks the targets service for regions this process does not know, and registers them."""

    def __init__(self, targets_url: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.client = httpx.AsyncClient(
            base_url=targets_url.rstrip("/"), timeout=LOOKUP_TIMEOUT_SECONDS, transport=transport
        )
        self._missed: dict[str, float] = {}  # code → when the targets service last did not know it

    async def close(self) -> None:
        await self.client.aclose()

    async def resolve(self, codes: list[str]) -> bool:
        """Registers those of ``codes`` the targets service knows; True when any became known."""
        found = False
        for code in codes[:MOST_CODES]:
            if code in registry():
                found = True  # registered meanwhile (its event, or another request)
                continue
            if time.monotonic() - self._missed.get(code, float("-inf")) < MISS_TTL_SECONDS:
                continue
            if await self._lookup(code):
                found = True
            else:
                self._missed[code] = time.monotonic()
        return found

    async def _lookup(self, code: str) -> bool:
        try:
            resp = await self.client.get(f"/regions/{code}")
        except httpx.HTTPError as exc:
            log.warning("region lookup of %s failed: %s", code, exc)
            return False
        if resp.status_code != 200:
            return False
        region = resp.json()
        regions = registry()
        # Its ancestors first, from the top: a zone's city may be a custom region too.
        for ancestor in [*reversed(region.get("ancestors", [])), region]:
            if ancestor["code"] not in regions:
                regions.add(ancestor["code"], ancestor["name"], ancestor["level"], ancestor.get("parent"))
        log.info("region %s learnt from the targets service before its event", code)
        return True


class RegionLookupMiddleware:
    """Runs a request again once its unknown region codes are learnt (module docstring). Uses the
    :class:`RegionLookup` at ``app.state.region_lookup``; without one, passes requests through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lookup: RegionLookup | None = getattr(scope["app"].state, "region_lookup", None) if "app" in scope else None
        if scope["type"] != "http" or lookup is None:
            await self.app(scope, receive, send)
            return
        request = await _whole_request(receive)
        refusal = await self._first_try(scope, request, receive, send)
        if refusal is None:
            return
        codes = sorted(set(UNKNOWN_REGION.findall(_body_of(refusal).decode("utf-8", "replace"))))
        if codes and await lookup.resolve(codes):
            await self.app(scope, _replayed(request, receive), send)
            return
        for message in refusal:
            await send(message)

    async def _first_try(self, scope: Scope, request: list[Message], receive: Receive, send: Send):
        """Runs the request; a 422 is kept back (returned as its messages), anything else is sent."""
        held: list[Message] = []
        holding = False

        async def hold_refusal(message: Message) -> None:
            nonlocal holding
            if message["type"] == "http.response.start":
                holding = message["status"] == 422
            if holding:
                held.append(message)
            else:
                await send(message)

        await self.app(scope, _replayed(request, receive), hold_refusal)
        return held if holding else None


async def _whole_request(receive: Receive) -> list[Message]:
    """The request's body messages (the body limit, outside, bounds them)."""
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replayed(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _body_of(messages: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
