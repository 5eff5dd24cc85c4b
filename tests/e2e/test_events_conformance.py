"""Every record the services publish is a CloudEvent that the official SDK reads, as the
CloudEvents Kafka binding tells a receiver to read it, and its data is what the service's own
AsyncAPI document says — records sent by the outbox relays of the real processes, first as the
changes happen and again after ``zhichan republish``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date

import httpx
import jsonschema
import pytest
from aiokafka import AIOKafkaConsumer
from cloudevents.core.bindings import kafka as ce_kafka

from zhichan import SERVICES
from zhichan.auth import TokenSigner
from zhichan.demo import load_demo
from zhichan.events.envelope import Envelope, topic_of
from zhichan.settings import DEV_JWT_SECRET
from zhichan.testing import wait_for

pytestmark = pytest.mark.e2e

# A year and a half of the demo's history: plans, reports, pledges, transactions, cases, agencies.
DEMO_UNTIL = date(2025, 6, 30)


def outbox(stack, service: str) -> dict[str, Envelope]:
    rows = stack.fetch(service, "SELECT envelope FROM outbox ORDER BY id")
    envelopes = [Envelope.from_json(envelope) for (envelope,) in rows]
    return {envelope.id: envelope for envelope in envelopes}


async def records(bootstrap: str, topic: str, wanted: dict[str, int]) -> list:
    """The topic's records from the start, until each event id in ``wanted`` came as often as asked."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    found: list = []
    seen: dict[str, int] = {}
    try:

        async def all_came() -> bool:
            for messages in (await consumer.getmany(timeout_ms=200)).values():
                for message in messages:
                    found.append(message)
                    event_id = json.loads(message.value)["id"]
                    seen[event_id] = seen.get(event_id, 0) + 1
            return all(seen.get(event_id, 0) >= times for event_id, times in wanted.items())

        await wait_for(all_came, timeout=60, what=f"every event of the outbox on {topic}")
    finally:
        await consumer.stop()
    return found


def structured_mode(headers: dict[str, bytes]) -> bool:
    """The binding's receiver rule (CloudEvents Kafka protocol binding 1.0, 3.1.1 and 3.2): a record
    is in structured mode when its content-type header names a CloudEvents format; any ``ce_``
    header would make it a binary-mode record."""
    content_type = headers.get("content-type", b"").decode()
    return content_type.startswith("application/cloudevents") and not any(h.startswith("ce_") for h in headers)


def check_record(message, envelope: Envelope, asyncapi: dict) -> None:
    headers = dict(message.headers)
    # The SDK's reader that detects the mode itself, as an integrator would call it.
    event = ce_kafka.from_kafka_event(ce_kafka.KafkaMessage(headers=headers, key=message.key, value=message.value))
    assert structured_mode(headers), headers
    assert headers["content-type"] == b"application/cloudevents+json; charset=utf-8"
    assert event.get_specversion() == "1.0"
    assert (event.get_id(), event.get_type(), event.get_source(), event.get_subject()) == (
        envelope.id,
        envelope.type,
        envelope.source,
        envelope.subject,
    )
    assert event.get_time() == envelope.time
    assert event.get_datacontenttype() == "application/json"
    assert event.get_data() == envelope.data
    assert event.get_extension("region") == envelope.region
    assert event.get_extension("aggregateversion") == envelope.aggregateversion
    assert message.key.decode() == envelope.aggregate_id
    if envelope.traceparent:
        assert headers["traceparent"] == envelope.traceparent.encode()
    # The whole envelope, its data included, against the type's message in the AsyncAPI document,
    # references resolved from the document's root as any AsyncAPI tool resolves them.
    schema = {"$ref": f"#/components/messages/{envelope.type}/payload", "components": asyncapi["components"]}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.validate(json.loads(message.value))


async def test_every_published_record_is_read_by_the_cloudevents_sdk_and_matches_the_asyncapi_schema(stack):
    writes = await load_demo(stack.gateway_url, TokenSigner(DEV_JWT_SECRET), until=DEMO_UNTIL)
    assert writes > 100
    async with httpx.AsyncClient(timeout=10.0) as client:
        documents = {s: (await client.get(f"{stack.url(s)}/asyncapi.json")).json() for s in SERVICES}
    published: dict[str, dict[str, Envelope]] = {}
    for service in SERVICES:
        published[service] = await asyncio.to_thread(outbox, stack, service)
        assert published[service], f"{service} published nothing"
        on_topic = await records(stack.broker.bootstrap, topic_of(service), dict.fromkeys(published[service], 1))
        for message in on_topic:
            envelope = published[service][json.loads(message.value)["id"]]
            check_record(message, envelope, documents[service])
    types = {envelope.type for events in published.values() for envelope in events.values()}
    assert len(types) >= 10, types

    # The history sent again, as after a broker that lost it: the same records, read the same.
    republished = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "zhichan.cli", "republish", "agencies"],
        env=stack.env_for("agencies"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert republished.returncode == 0, republished.stderr
    agencies = published["agencies"]
    on_topic = await records(stack.broker.bootstrap, topic_of("agencies"), dict.fromkeys(agencies, 2))
    for message in on_topic:
        check_record(message, agencies[json.loads(message.value)["id"]], documents["agencies"])
