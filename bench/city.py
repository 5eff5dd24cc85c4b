"""A city's decade of events, generated deterministically and produced to the broker.

At full size (``divisor`` 1): 1,000,000 enforcement cases, 200,000 pledges, 20,000 agencies and
50 plans of 15 indicators each (14 bound to live metrics, 1 reported), over 2016–2025 in 镇江
(321100) and its six districts. Each event is what the services publish: a CloudEvents envelope
whose ``data`` is the aggregate's state, with every field the gateway reads and the main
descriptive ones (names, numbers) so messages are of a realistic size. One event per aggregate,
as if each record had been filed already in its final state. Plans are validated against
``services.targets.contracts.PlanState``."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaProducer

from services.targets.contracts import PlanState
from zhichan.events.envelope import Envelope, event_type, kafka_headers, topic_of
from zhichan.metrics_catalogue import AGENCY_SERVICE_TYPES, CASE_ORIGINS, CASE_PROCEDURES, CASE_TYPES, PLEDGE_KINDS

CITY = "321100"
DISTRICTS = ("321102", "321111", "321112", "321181", "321182", "321183")
FIRST_DAY, DAYS = date(2016, 1, 1), 3653  # 2016-01-01 .. 2025-12-31
FULL = {"cases": 1_000_000, "pledges": 200_000, "agencies": 20_000}
PLANS, INDICATORS = 50, 15
CREATED = datetime(2026, 1, 1, tzinfo=UTC)
SEED = 20260101


def sizes(divisor: int) -> dict[str, int]:
    return {**{name: n // divisor for name, n in FULL.items()}, "plans": PLANS}


def _day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange(DAYS))


def _envelope(service: str, aggregate: str, aggregate_id: str, region: str, data: dict, n: int) -> Envelope:
    return Envelope(
        id=f"00000000-0000-4000-8000-{n:012d}",
        source=f"zhichan/{service}",
        type=event_type(service, aggregate, "filed"),
        subject=f"{aggregate}/{aggregate_id}",
        time=CREATED,
        region=region,
        aggregateversion=1,
        actor="bench",
        data=data,
    )


def case(rng: random.Random, n: int) -> Envelope:
    region, filed = rng.choice(DISTRICTS), _day(rng)
    closed = filed + timedelta(days=rng.randrange(20, 200)) if rng.random() < 0.9 else None
    deadline = filed + timedelta(days=90)
    overdue = []
    if (closed or date(2026, 1, 1)) > deadline:
        overdue.append({"start": (deadline + timedelta(days=1)).isoformat(), "end": closed and closed.isoformat()})
    data = {
        "id": f"C{n:09d}",
        "region": region,
        "case_number": f"镇市监知立〔{filed.year}〕{n}号",
        "type": rng.choice(CASE_TYPES),
        "procedure": rng.choice(CASE_PROCEDURES),
        "origin": rng.choice(CASE_ORIGINS),
        "respondent": {"name": f"镇江某某商贸有限公司{n}"},
        "handling_unit": "市场监管综合执法支队",
        "status": "closed" if closed else "open",
        "filed_date": filed.isoformat(),
        "closed_date": closed and closed.isoformat(),
        "closed_on_time": bool(closed and closed <= deadline),
        "overdue_periods": overdue,
        "version": 1,
    }
    return _envelope("enforcement", "case", data["id"], region, data, n)


def pledge(rng: random.Random, n: int) -> Envelope:
    region, registered = rng.choice(DISTRICTS), _day(rng)
    patents = rng.randrange(1, 6)
    data = {
        "id": f"P{n:09d}",
        "region": region,
        "registration_number": f"Y{registered.year}{n:07d}",
        "pledgor_name": f"镇江某某新材料有限公司{n}",
        "pledgee": "中国银行镇江分行",
        "asset_types": rng.sample(["patent", "trademark", "copyright"], rng.randrange(1, 3)),
        "kind": rng.choice(PLEDGE_KINDS),
        "loan_amount": f"{rng.randrange(10, 5000) * 10000}.00",
        "patent_count": patents,
        "registered_on": registered.isoformat(),
        "version": 1,
    }
    return _envelope("financing", "pledge", data["id"], region, data, n)


def agency(rng: random.Random, n: int) -> Envelope:
    region, filed = rng.choice(DISTRICTS), _day(rng)
    history = [
        {"status": "filed", "on": filed.isoformat(), "at": CREATED.isoformat()},
        {"status": "active", "on": filed.isoformat(), "at": CREATED.isoformat()},
    ]
    if rng.random() < 0.15:
        gone = filed + timedelta(days=rng.randrange(100, 2000))
        history.append({"status": "deregistered", "on": gone.isoformat(), "at": CREATED.isoformat()})
    data = {
        "id": f"A{n:09d}",
        "region": region,
        "name": f"镇江知信专利代理事务所{n}",
        "service_types": rng.sample(AGENCY_SERVICE_TYPES, rng.randrange(1, 4)),
        "offline": rng.random() < 0.7,
        "in_cluster": rng.random() < 0.3,
        "brand_level": rng.choice(["none", "none", "none", "municipal", "provincial", "national"]),
        "status": history[-1]["status"],
        "status_history": history,
        "version": 1,
    }
    return _envelope("agencies", "agency", data["id"], region, data, n)


# (metric, filters, unit, measure, direction, baseline) of a plan's live indicators, in turn
BINDINGS = (
    ("enforcement.cases_filed", {}, "件", "annual", "at_least", None),
    ("enforcement.cases_filed", {"type": "trademark_infringement"}, "件", "cumulative", "at_least", None),
    ("enforcement.cases_closed", {"procedure": "administrative_penalty"}, "件", "annual", "at_least", None),
    ("enforcement.on_time_closure_rate", {}, "%", "rate", "at_least", None),
    ("enforcement.overdue_open_cases", {}, "件", "stock", "at_most", 500),
    ("financing.pledge_amount", {}, "亿元", "cumulative", "at_least", None),
    ("financing.pledge_amount", {"ip_type": "patent"}, "万元", "annual", "at_least", None),
    ("financing.pledge_count", {}, "笔", "annual", "at_least", None),
    ("financing.pledge_count", {"ip_type": ["patent", "trademark"]}, "笔", "cumulative", "at_least", None),
    ("financing.pledged_patents", {}, "件", "cumulative", "at_least", None),
    ("agencies.active_agencies", {}, "家", "stock", "at_least", 800),
    ("agencies.active_agencies", {"service_type": "patent_agency"}, "家", "stock", "at_least", 300),
    ("agencies.active_agencies", {"offline": True}, "家", "stock", "at_least", 500),
    ("enforcement.cases_closed", {}, "件", "cumulative", "at_least", None),
)


def plan(n: int) -> Envelope:
    region = CITY if n % 7 == 0 else DISTRICTS[n % len(DISTRICTS)]
    stamp = CREATED.isoformat()
    indicators = []
    for i in range(INDICATORS):
        key = f"indicator-{i + 1:02d}"
        common = {
            "key": key,
            "name": f"指标{i + 1}",
            "category": "protection",
            "nature": "expected",
            "responsible": ["市市场监管局"],
            "version": 1,
            "updated_at": stamp,
        }
        if i < len(BINDINGS):
            metric, filters, unit, measure, direction, baseline = BINDINGS[i]
            indicators.append(
                {
                    **common,
                    "unit": unit,
                    "measure": measure,
                    "direction": direction,
                    "baseline": {"year": 2020, "value": str(baseline)} if baseline is not None else None,
                    "target": "1000",
                    "milestones": {str(y): str(200 * (y - 2020)) for y in range(2021, 2026)},
                    "source": {"metric": metric, "filters": filters},
                    "accepts_reports": False,
                }
            )
        else:
            indicators.append(
                {
                    **common,
                    "unit": "件",
                    "measure": "stock",
                    "direction": "at_least",
                    "baseline": {"year": 2020, "value": "100"},
                    "target": "300",
                    "milestones": {str(y): str(100 + 40 * (y - 2020)) for y in range(2021, 2026)},
                    "source": "reported",
                    "accepts_reports": True,
                }
            )
    data = {
        "id": f"PLAN{n:06d}",
        "key": f"bench-plan-{n:02d}",
        "region": region,
        "title": f"知识产权强市建设第{n}号实施方案(2021—2025)",
        "issued_by": "镇江市人民政府",
        "start": "2021-01-01",
        "end": "2025-12-31",
        "status": "active",
        "regions": [],
        "indicators": indicators,
        "tasks": [],
        "status_history": [{"status": "active", "on": "2021-01-01", "at": stamp}],
        "version": 1,
        "created_at": stamp,
        "updated_at": stamp,
    }
    PlanState.model_validate(data)  # the shape the targets service publishes
    envelope = _envelope("targets", "plan", data["key"], region, data, 900_000_000 + n)
    envelope.type = event_type("targets", "plan", "activated")
    return envelope


def events(divisor: int):
    """Every event of the city at 1/``divisor`` of full size, in a fixed order (same seed, same log)."""
    rng, n = random.Random(SEED), 0
    counts = sizes(divisor)
    for make, count in ((agency, counts["agencies"]), (pledge, counts["pledges"]), (case, counts["cases"])):
        for _ in range(count):
            n += 1
            yield make(rng, n)
    for p in range(1, PLANS + 1):
        yield plan(p)


async def produce(bootstrap: str, divisor: int) -> int:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    await producer.start()
    sent = 0
    try:
        pending = []
        for envelope in events(divisor):
            pending.append(
                await producer.send(
                    topic_of(envelope.service),
                    envelope.to_json(),
                    key=envelope.aggregate_id.encode(),
                    headers=kafka_headers(),
                )
            )
            sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent
