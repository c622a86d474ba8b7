"""Helpers to drive ASGI and WSGI apps in-process in the runtime tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx


class Rendezvous:
    """An asyncio barrier for two requests (asyncio.Barrier is Python 3.11+)."""

    def __init__(self, parties: int = 2) -> None:
        self.parties = parties
        self.arrived = 0
        self.event: asyncio.Event | None = None

    async def wait(self) -> None:
        if self.event is None:
            self.event = asyncio.Event()
        self.arrived += 1
        if self.arrived >= self.parties:
            self.event.set()
        await asyncio.wait_for(self.event.wait(), timeout=10)


def run_asgi(app: Any, requests: Callable[[httpx.AsyncClient], Coroutine[Any, Any, Any]]) -> Any:
    """Run `requests(client)` against `app` on a fresh event loop."""

    async def main() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await requests(client)

    return asyncio.run(main())


def get_all(app: Any, *paths: str) -> list[httpx.Response]:
    """GET each path in turn."""

    async def sequence(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [await client.get(path) for path in paths]

    return run_asgi(app, sequence)


def get_concurrently(app: Any, *paths: str) -> list[httpx.Response]:
    async def together(client: httpx.AsyncClient) -> list[httpx.Response]:
        return list(await asyncio.gather(*(client.get(path) for path in paths)))

    return run_asgi(app, together)
