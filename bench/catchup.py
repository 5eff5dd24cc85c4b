"""Live catch-up: a backlog produced while the gateway is stopped, then the gateway started and
timed until its consumer positions hold all of it; in the same run ``zhichan gateway rebuild``
over the same log, whose events/s the catch-up is measured against.

The backlog is made of the services' own events: the services file a case and take it through
its steps (filed → investigating → decided → closed), register a pledge and file an agency; each
of those events (the envelope in the service's outbox) is a template, cloned with new ids, other
districts and dates moved back (pledges and agencies by up to a decade, cases by up to 80 days:
the office's current work). Cases are the bulk, as in a city's log, and come in several versions
each, spread over the log as a case's steps are spread over weeks (one in ten is still open:
those call for alerts). The gateway consumes the
backlog with everything it does per event: read model, inbox, recent events, alerts, webhooks."""

from __future__ import annotations

import asyncio
import random
import re
import time
from datetime import date, timedelta

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from bench import views
from bench.bodies import BODIES, PATHS
from bench.city import DISTRICTS
from zhichan.events.envelope import kafka_headers
from zhichan.stack import Stack
from zhichan.testing import auth

SEED = 20261205
SERVICES = ("agencies", "enforcement", "financing")
CASE_STEPS = ("investigate", "decide", "close")
# Per group of records: one agency, two pledges, ten cases (of four events each, when they close).
GROUP = (("agency", 1), ("pledge", 2), ("case", 10))
CASE_DAYS = 80
SPREAD = 5_000  # a case's next step comes this many log positions later (on average)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _templates(stack: Stack) -> dict[str, list[dict]]:
    """Each kind's events as its service published them: [v1] for agencies and pledges, [v1..v4]
    for a case taken to its close."""
    headers = auth("admin")
    with httpx.Client(timeout=30, headers=headers) as client:
        for kind in ("agency", "pledge", "case"):
            service = {"agency": "agencies", "pledge": "financing", "case": "enforcement"}[kind]
            body = BODIES[kind](1)
            if kind == "case":  # filed today, each step today: its deadline is ahead of it
                body["filed_date"] = date.today().isoformat()
            response = client.post(f"{stack.url(service)}{PATHS[kind]}", json=body)
            response.raise_for_status()
            if kind == "case":
                case_id = response.json()["id"]
                steps = {"decide": {"outcome": "penalty_decision", "fine": "10000.00"}}
                for step in CASE_STEPS:
                    answer = client.post(
                        f"{stack.url(service)}/cases/{case_id}/{step}", json=steps.get(step, {"date": None})
                    )
                    answer.raise_for_status()
    found: dict[str, list[dict]] = {}
    for service in SERVICES:
        for (envelope,) in stack.fetch(service, "SELECT envelope FROM outbox ORDER BY id"):
            event = orjson.loads(envelope)
            kind = event["subject"].split("/", 1)[0]
            if kind in ("agency", "pledge", "case"):
                found.setdefault(kind, []).append(event)
    return found


def _clone(template: dict, n: int, aggregate_id: str, region: str, days_back: int, rng: random.Random) -> dict:
    """The template's event about another record: ids, region and every date moved."""
    old_id = template["subject"].split("/", 1)[1]
    moved: dict[str, str] = {}

    def walk(value):
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            if value == old_id:
                return aggregate_id
            if value == template["region"]:
                return region
            if ISO_DATE.match(value):
                if value not in moved:
                    moved[value] = (date.fromisoformat(value) - timedelta(days=days_back)).isoformat()
                return moved[value]
        return value

    event = {**template, "data": walk(template["data"])}
    event["id"] = f"00000000-0000-4000-9000-{n:012d}"
    event["subject"] = f"{template['subject'].split('/', 1)[0]}/{aggregate_id}"
    event["region"] = region
    event.pop("traceparent", None)
    for field in ("case_number", "registration_number", "name", "uscc"):
        if isinstance(event["data"].get(field), str):
            event["data"][field] = f"{event['data'][field]}-{n}"
    return event


def backlog(templates: dict[str, list[dict]], count: int) -> list[tuple[str, bytes, bytes]]:
    """``count`` events (topic, key, value) cloned from the templates, deterministic."""
    rng = random.Random(SEED)
    placed: list[tuple[float, int, dict]] = []  # (log position, tie-break, event)
    n = record = 0
    while len(placed) < count:
        for kind, times in GROUP:
            for _ in range(times):
                record += 1
                region, days_back = rng.choice(DISTRICTS), rng.randrange(0, 3650)
                versions = templates[kind]
                if kind == "case":
                    # A backlog's cases are the office's current work: filed in the last 80 days,
                    # their deadlines not passed (an old case's open states would raise alerts
                    # at once, the scanner's work, not the consumer's).
                    days_back = rng.randrange(0, CASE_DAYS)
                    if rng.random() < 0.1:  # still open: the first one or two steps
                        versions = versions[: rng.randrange(1, 3)]
                position = float(len(placed))
                for template in versions:
                    n += 1
                    placed.append((position, n, _clone(template, n, f"bench{record:09d}", region, days_back, rng)))
                    position += rng.expovariate(1 / SPREAD)
    placed.sort(key=lambda item: (item[0], item[1]))
    return [
        (
            f"zhichan.{event['source'].rsplit('/', 1)[1]}",
            event["subject"].split("/", 1)[1].encode(),
            orjson.dumps(event),
        )
        for _position, _n, event in placed[:count]
    ]


async def produce(bootstrap: str, events: list[tuple[str, bytes, bytes]]) -> dict[tuple[str, int], int]:
    """Sends the events; answers the next offset of each partition written."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1024 * 1024, max_request_size=8 << 20
    )
    await producer.start()
    ends: dict[tuple[str, int], int] = {}
    try:
        for start in range(0, len(events), 20_000):
            sent = [
                await producer.send(topic, value, key=key, headers=kafka_headers())
                for topic, key, value in events[start : start + 20_000]
            ]
            for meta in await asyncio.gather(*sent):
                where = (meta.topic, meta.partition)
                ends[where] = max(ends.get(where, 0), meta.offset + 1)
    finally:
        await producer.stop()
    return ends


def _positions(stack: Stack) -> dict[tuple[str, int], int]:
    try:
        rows = stack.fetch("gateway", 'SELECT topic, partition, "offset" FROM consumer_position')
    except Exception:  # the gateway has not created its tables yet
        return {}
    return {(topic, partition): offset + 1 for topic, partition, offset in rows}


def measure(stack: Stack, count: int) -> dict:
    """``stack`` has its broker started and nothing else."""
    for service in SERVICES:
        stack.start_process(service)
    stack.wait_ready(SERVICES, timeout=120)
    try:
        templates = _templates(stack)
    finally:
        for service in SERVICES:
            stack.stop_process(service)
    events = backlog(templates, count)
    started = time.perf_counter()
    ends = asyncio.run(produce(stack.broker.bootstrap, events))
    produce_seconds = time.perf_counter() - started
    time.sleep(2)  # the services' own (template) events are in the log too: they count
    started = time.perf_counter()
    stack.start_process("gateway")
    first = ready = None
    try:
        while True:
            positions = _positions(stack)
            now = time.perf_counter()
            if first is None and positions:
                first = now
            if ready is None:
                try:
                    if httpx.get(f"{stack.url('gateway')}/readyz", timeout=1.0).status_code == 200:
                        ready = now
                except httpx.HTTPError:
                    pass
            if all(positions.get(where, 0) >= end for where, end in ends.items()):
                done = now
                break
            if now - started > 1800 or stack.processes["gateway"].poll() is not None:
                raise RuntimeError(f"the gateway did not catch up; see {stack.var_dir}/logs/gateway.log")
            time.sleep(0.1)
        inbox = stack.fetch("gateway", "SELECT count(*) FROM inbox")[0][0]
        alerts = stack.fetch("gateway", "SELECT count(*) FROM alert")[0][0]
    finally:
        stack.stop_process("gateway")
    replay = views.rebuild(stack)
    seconds = done - started
    applying = done - (first or started)
    return {
        "events": len(events),
        "produce_seconds": produce_seconds,
        "catchup": {
            "seconds": seconds,  # from the gateway's start (interpreter, migrations, group join included)
            "startup_seconds": (first or done) - started,  # until its first transaction committed
            "ready_seconds": (ready or done) - started,
            "events_per_s": len(events) / seconds,
            "applying_events_per_s": len(events) / applying if applying else float("nan"),
            "inbox": inbox,
            "alerts": alerts,
        },
        "replay": replay,
        "ratio": (len(events) / seconds) / replay["events_per_s"],
        "database": "sqlite",
    }
