"""More than one instance: two gateways in one consumer group, two replicas of a service on one
database and outbox, and an embedded broker that restarts empty."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest

from zhichan.events.broker import free_port
from zhichan.stack import PROCESSES, Stack
from zhichan.testing import auth, wait_for
from zhichan.uscc import build_uscc

pytestmark = pytest.mark.e2e
OFFICER = auth("officer", ["320000"])


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(var_dir=tmp_path_factory.mktemp("scale"), ports={name: free_port() for name in PROCESSES})
    try:
        stack.start()
        stack.start_process("gateway", instance="gateway-2", port=free_port())
        stack.start_process("agencies", instance="agencies-2", port=free_port())
        stack.wait_ready(["gateway-2", "agencies-2"])
        yield stack
    finally:
        stack.stop()


async def file_and_approve(client: httpx.AsyncClient, serial: int, region: str) -> None:
    body = {
        "name": f"服务机构{serial}",
        "uscc": build_uscc(region, serial),
        "region": region,
        "service_types": ["consulting"],
    }
    filed = await client.post("/agencies", json=body, headers=OFFICER)
    assert filed.status_code == 201, filed.text
    approved = await client.post(f"/agencies/{filed.json()['id']}/approve", headers=OFFICER)
    assert approved.status_code == 200, approved.text


async def count_on(url: str, region: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        resp = await client.get(
            "/api/progress/metrics/agencies.active_agencies", params={"region": region}, headers=OFFICER
        )
        return int(resp.json()["value"])


async def test_two_service_replicas_and_two_gateways_count_every_write_once(stack):
    region = "320581"  # 常熟市
    urls = [stack.url("agencies"), stack.url("agencies-2")]
    clients = [httpx.AsyncClient(base_url=url, timeout=30) for url in urls]
    try:
        # 40 agencies filed and approved concurrently, alternating between the two replicas
        await asyncio.gather(*[file_and_approve(clients[n % 2], 10_000 + n, region) for n in range(40)])
    finally:
        for client in clients:
            await client.aclose()

    for gateway in (stack.url("gateway"), stack.url("gateway-2")):

        async def counted(gateway=gateway):
            return await count_on(gateway, region) == 40

        await wait_for(counted, timeout=60, what=f"40 active agencies on {gateway}")

    # the two gateways split the partitions of every topic between them
    async with httpx.AsyncClient(timeout=10) as client:
        for gateway in (stack.url("gateway"), stack.url("gateway-2")):
            ready = (await client.get(f"{gateway}/readyz")).json()
            assert ready["checks"]["consumer"] == "ok"


async def test_an_emptied_broker_is_refilled_by_republish_and_the_gateway_rebuilt_the_same(stack):
    region = "320582"  # 张家港市
    async with httpx.AsyncClient(base_url=stack.url("agencies"), timeout=30) as client:
        for n in range(5):
            await file_and_approve(client, 20_000 + n, region)

    async def five():
        return await count_on(stack.gateway_url, region) == 5

    await wait_for(five, timeout=60, what="5 agencies counted")
    before = await overview(stack.gateway_url, "320000")

    # the broker restarts empty; every service sends its history again, the gateway is rebuilt
    stack.stop_process("gateway")
    stack.stop_process("gateway-2")
    stack.stop_broker()
    await asyncio.to_thread(stack.start_broker)
    for service in ("targets", "enforcement", "financing", "agencies"):
        run_cli(stack, service, "republish", service)

    async def history_back():
        return await broker_holds_every_agency_event(stack)

    await wait_for(history_back, timeout=60, what="the agencies history republished")
    run_cli(stack, "gateway", "gateway", "rebuild")
    stack.start_process("gateway")
    stack.wait_ready(["gateway"])
    assert await count_on(stack.gateway_url, region) == 5
    assert await overview(stack.gateway_url, "320000") == before  # the whole view, latest events included


async def overview(url: str, region: str) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        body = (await client.get(f"/api/progress/regions/{region}", headers=OFFICER)).json()
    body.pop("freshness")
    return body


def run_cli(stack: Stack, process: str, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "zhichan.cli", *args],
        env=stack.env_for(process),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]


async def broker_holds_every_agency_event(stack: Stack) -> bool:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    ((expected, unsent),) = stack.fetch("agencies", "SELECT count(*), count(*) - count(sent_at) FROM outbox")
    if unsent:
        return False
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.broker.bootstrap, group_id=None)
    await consumer.start()
    try:
        partitions = [TopicPartition("zhichan.agencies", p) for p in consumer.partitions_for_topic("zhichan.agencies")]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return sum(ends.values()) >= expected
