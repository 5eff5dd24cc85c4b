"""The summary's money is exact: it equals the Decimal sum of the stored records, under random
registrations, releases, defaults and disposals, and over 100,000 pledges."""

import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, BigInteger, Integer, String, case, cast, delete, literal, null, select

from services.financing.domain import ASSET_TYPES, PLEDGE_KINDS, TRANSITIONS, PledgeFacts, outstanding_on, pledge_kind
from services.financing.models import IpAsset, Pledge
from services.financing.tests.integration.conftest import FUZHOU_GULOU, GULOU, QUANSHAN, XUZHOU, pledge_body
from zhichan.clock import today, utcnow
from zhichan.db import UTCDateTime
from zhichan.regions import registry
from zhichan.testing import auth
from zhichan.uscc import build_uscc

ADMIN = auth("admin")
BASE = date(2023, 1, 1)
FEN = Decimal("0.01")


@dataclass(frozen=True)
class Register:
    fen: int
    day: int
    types: tuple[str, ...]
    region: str


@dataclass(frozen=True)
class Change:
    action: str  # release | default | dispose
    pick: int
    days_later: int
    share: int  # percent of the loan outstanding at default


registers = st.builds(
    Register,
    fen=st.integers(min_value=1, max_value=10_000_000_000_000),  # 0.01 元 … 1000亿元
    day=st.integers(0, 700),
    types=st.lists(st.sampled_from(sorted(ASSET_TYPES)), min_size=1, max_size=4).map(tuple),
    region=st.sampled_from([QUANSHAN, GULOU, FUZHOU_GULOU]),
)
changes = st.builds(
    Change,
    action=st.sampled_from(sorted(TRANSITIONS)),
    pick=st.integers(0, 1000),
    days_later=st.integers(0, 200),
    share=st.integers(1, 100),
)
windows = st.tuples(st.integers(0, 1000), st.integers(0, 1000)).map(sorted)


def facts(pledge: Pledge) -> PledgeFacts:
    return PledgeFacts(
        loan_amount=pledge.loan_amount,
        registered_on=pledge.registered_on,
        released_on=pledge.released_on,
        defaulted_on=pledge.defaulted_on,
        outstanding_at_default=pledge.outstanding_at_default,
        disposed_on=pledge.disposed_on,
    )


async def empty_pledge_tables(app) -> None:
    async with app.state.session_factory() as session:
        for model in (IpAsset, Pledge):
            await session.execute(delete(model))
        await session.commit()


async def stored(app) -> tuple[list[Pledge], dict[str, list[str]]]:
    async with app.state.session_factory() as session:
        pledges = list((await session.execute(select(Pledge))).scalars())
        types: dict[str, list[str]] = defaultdict(list)
        for asset in (await session.execute(select(IpAsset).where(IpAsset.holder_type == "pledge"))).scalars():
            types[asset.holder_id].append(asset.asset_type)
        return pledges, types


def expected_summary(pledges: list[Pledge], types: dict[str, list[str]], region: str | None, start: date, end: date):
    """The pledge figures, computed in Python with Decimal from the stored rows."""
    scope = registry().descendants(region) if region else None
    mine = [p for p in pledges if scope is None or p.region in scope]
    window = [p for p in mine if start <= p.registered_on <= end]
    by_kind: dict[str, list] = {k: [0, Decimal("0.00")] for k in PLEDGE_KINDS}
    by_type: dict[str, list] = {t: [0, Decimal("0.00")] for t in ASSET_TYPES}
    for p in window:
        by_kind[p.kind][0] += 1
        by_kind[p.kind][1] += p.loan_amount
        for t in set(types[p.id]):
            by_type[t][0] += 1
            by_type[t][1] += p.loan_amount
    return {
        "count": len(window),
        "amount": sum((p.loan_amount for p in window), Decimal("0.00")),
        "by_kind": {k: (n, str(a)) for k, (n, a) in by_kind.items()},
        "by_asset_type": {t: (n, str(a)) for t, (n, a) in by_type.items()},
        "patents_pledged": sum(Counter(types[p.id])["patent"] for p in window),
        "outstanding_at_to": sum((outstanding_on(facts(p), end) for p in mine), Decimal("0.00")),
    }


def assert_summary_matches(answer: dict, expected: dict) -> None:
    pledges = answer["pledges"]
    assert pledges["count"] == expected["count"]
    assert pledges["amount"]["yuan"] == str(expected["amount"])
    assert Decimal(pledges["amount"]["wan_yuan"]) * 10_000 == expected["amount"]
    assert Decimal(pledges["amount"]["yi_yuan"]) * 100_000_000 == expected["amount"]
    assert {k: (v["count"], v["amount"]["yuan"]) for k, v in pledges["by_kind"].items()} == expected["by_kind"]
    assert {t: (v["count"], v["amount"]["yuan"]) for t, v in pledges["by_asset_type"].items()} == expected[
        "by_asset_type"
    ]
    assert pledges["patents_pledged"] == expected["patents_pledged"]
    assert pledges["outstanding_at_to"]["yuan"] == str(expected["outstanding_at_to"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    operations=st.lists(st.one_of(registers, changes), min_size=1, max_size=12),
    window=windows,
    region=st.sampled_from([None, XUZHOU, QUANSHAN, GULOU, FUZHOU_GULOU]),
)
async def test_summary_equals_the_exact_sum_of_the_stored_records(app_client, operations, window, region):
    app, client = app_client
    await empty_pledge_tables(app)  # examples share the app; each starts from no pledges, so it shrinks well
    sent: dict[str, Decimal] = {}
    created: list[dict] = []
    for op in operations:
        if isinstance(op, Register):
            amount = Decimal(op.fen) * FEN
            registered = BASE + timedelta(days=op.day)
            body = pledge_body(
                1,
                op.region,
                registration_number=uuid.uuid4().hex,
                pledgor_uscc=build_uscc(op.region, op.fen % 10_000),
                assets=[{"type": t, "number": f"N{i}", "title": "t"} for i, t in enumerate(op.types)],
                loan_amount=str(amount),
                registered_on=registered.isoformat(),
                loan_term_start=registered.isoformat(),
                loan_term_end=(registered + timedelta(days=365)).isoformat(),
            )
            resp = await client.post("/pledges", json=body, headers=ADMIN)
            assert resp.status_code == 201, resp.text
            assert resp.json()["kind"] == pledge_kind(list(op.types))
            created.append(resp.json())
            sent[resp.json()["id"]] = amount
        elif created:
            target = created[op.pick % len(created)]
            last = date.fromisoformat(target["status_history"][-1]["on"])
            body = {"date": min(last + timedelta(days=op.days_later), today()).isoformat()}
            loan = Decimal(target["loan_amount"])
            if op.action == "default":
                body["outstanding"] = str(max((loan * op.share / 100).quantize(FEN, ROUND_DOWN), FEN))
            elif op.action == "dispose":
                body["proceeds"] = str((loan * op.share / 100).quantize(FEN, ROUND_DOWN))
            resp = await client.post(f"/pledges/{target['id']}/{op.action}", json=body, headers=ADMIN)
            allowed_from, _ = TRANSITIONS[op.action]
            assert resp.status_code == (200 if target["status"] in allowed_from else 409), resp.text
            if resp.status_code == 200:
                created[created.index(target)] = resp.json()

    pledges, types = await stored(app)
    assert {p.id: p.loan_amount for p in pledges if p.id in sent} == sent  # stored exactly as sent
    start, end = (BASE + timedelta(days=d) for d in window)
    params = {"from": start.isoformat(), "to": end.isoformat(), **({"region": region} if region else {})}
    resp = await client.get("/financing/summary", params=params, headers=ADMIN)
    assert resp.status_code == 200, resp.text
    assert_summary_matches(resp.json(), expected_summary(pledges, types, region, start, end))


# 100,000 pledges made by the database itself (INSERT … SELECT over a counter), so the test
# spends its time on the sums, not on binding rows. Each row's values are functions of its
# number i that read the same on Python ints and SQL expressions: the test computes the exact
# total in Python from the same functions.
BULK = 100_000
BULK_REGIONS = (QUANSHAN, GULOU, FUZHOU_GULOU)
BULK_TYPES = tuple(sorted(ASSET_TYPES))
BULK_DAYS = (date(2023, 3, 1), date(2023, 9, 1), date(2024, 3, 1), date(2024, 9, 1))
RELEASED_ON, DEFAULTED_ON = date(2024, 12, 1), date(2024, 10, 1)


def bulk_amount_fen(i, big=int):
    """A multiplicative hash: amounts from 0.01 元 to 1000亿元 (the largest accepted) with every fen
    digit in play. Their total, ~5e17 fen, is far past 2^53, where a float sum stops being exact."""
    return i * big(2_654_435_761) % big(10_000_000_000_000) + 1


def _sql_big(value: int):
    return literal(value, BigInteger)


def _sql_pick(options, i):
    return case({n: literal(v) for n, v in enumerate(options[:-1])}, value=i % len(options), else_=literal(options[-1]))


async def insert_bulk_pledges(app) -> None:
    counter = select(literal(0, Integer).label("i")).cte("counter", recursive=True)
    counter = counter.union_all(select(counter.c.i + 1).where(counter.c.i < BULK - 1))
    i = counter.c.i
    fen = bulk_amount_fen(i, _sql_big)
    pledge_id = literal("B").concat(cast(i, String))
    asset_type = _sql_pick(BULK_TYPES, i)
    columns = {
        "id": pledge_id,
        "region": _sql_pick(BULK_REGIONS, i),
        "registration_number": literal("BULK").concat(cast(i, String)),
        "pledgor_name": literal("企业"),
        "pledgor_uscc": literal(build_uscc(QUANSHAN, 1)),
        "pledgee": literal("银行"),
        "loan_amount": fen,
        "registered_on": _sql_pick(BULK_DAYS, i),
        "loan_term_start": _sql_pick(BULK_DAYS, i),
        "loan_term_end": literal(date(2025, 12, 31)),
        "guarantee_mode": literal("direct"),
        "kind": _sql_pick([pledge_kind([t]) for t in BULK_TYPES], i),
        "patent_count": case((asset_type == "patent", 1), else_=0),
        "status": _sql_pick(["released", "defaulted", *["registered"] * 8], i),
        "released_on": case((i % 10 == 0, literal(RELEASED_ON)), else_=null()),
        "defaulted_on": case((i % 10 == 1, literal(DEFAULTED_ON)), else_=null()),
        "outstanding_at_default": case((i % 10 == 1, fen // 2), else_=null()),
        "status_history": literal([], JSON),
        "version": literal(1),
        "created_at": literal(utcnow(), UTCDateTime()),
        "updated_at": literal(utcnow(), UTCDateTime()),
    }
    assets = {
        "holder_type": literal("pledge"),
        "holder_id": pledge_id,
        "position": literal(0),
        "asset_type": asset_type,
        "number": literal("N").concat(cast(i, String)),
        "title": literal("t"),
    }
    async with app.state.session_factory() as session:
        for table, values in ((Pledge.__table__, columns), (IpAsset.__table__, assets)):
            await session.execute(table.insert().from_select(list(values), select(*values.values())))
        await session.commit()


def bulk_pledges_in_python() -> list[SimpleNamespace]:
    pledges = []
    for i in range(BULK):
        fen = bulk_amount_fen(i)
        asset_type = BULK_TYPES[i % len(BULK_TYPES)]
        pledges.append(
            SimpleNamespace(
                id=f"B{i}",
                asset_type=asset_type,
                region=BULK_REGIONS[i % len(BULK_REGIONS)],
                kind=pledge_kind([asset_type]),
                loan_amount=Decimal(fen) * FEN,
                registered_on=BULK_DAYS[i % len(BULK_DAYS)],
                released_on=RELEASED_ON if i % 10 == 0 else None,
                defaulted_on=DEFAULTED_ON if i % 10 == 1 else None,
                outstanding_at_default=Decimal(fen // 2) * FEN if i % 10 == 1 else None,
                disposed_on=None,
            )
        )
    return pledges


async def test_a_hundred_thousand_pledges_sum_to_the_exact_decimal_total(app_client):
    app, client = app_client
    await insert_bulk_pledges(app)
    pledges = bulk_pledges_in_python()
    types = {p.id: [p.asset_type] for p in pledges}
    exact_total = sum((p.loan_amount for p in pledges), Decimal("0.00"))
    assert exact_total == sum(Decimal(bulk_amount_fen(i)) for i in range(BULK)) / 100  # no rounding anywhere
    for region, start, end in [(None, BASE, date(2024, 12, 31)), (XUZHOU, date(2023, 6, 1), date(2024, 11, 1))]:
        params = {"from": start.isoformat(), "to": end.isoformat(), **({"region": region} if region else {})}
        answer = (await client.get("/financing/summary", params=params, headers=ADMIN)).json()
        assert_summary_matches(answer, expected_summary(pledges, types, region, start, end))
        if region is None:
            assert answer["pledges"]["count"] == BULK and answer["pledges"]["amount"]["yuan"] == str(exact_total)
