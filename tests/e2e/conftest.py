"""End-to-end: the real broker (Tansu) and the five real processes, read through the gateway."""

from __future__ import annotations

import httpx
import pytest

from zhichan.events.broker import free_port
from zhichan.stack import PROCESSES, Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(var_dir=tmp_path_factory.mktemp("stack"), ports={name: free_port() for name in PROCESSES})
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
async def gateway(stack):
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=10.0) as client:
        yield client
