"""A webhook receiver for the tests: an HTTP endpoint on 127.0.0.1, started in the test's loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Receiver:
    """An HTTP endpoint that keeps what it is sent and answers the statuses it is told, in turn
    (the last one over and over)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses = [204]
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}/hooks"

    async def hooks(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return Response(status_code=status)


@asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = Starlette(routes=[Route("/hooks", found.hooks, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=found.port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # it listens within a few ms
        if server.started:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the webhook receiver did not start")
    try:
        yield found
    finally:
        server.should_exit = True
        await task
