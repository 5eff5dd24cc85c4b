"""Migration 0004 carries a read model's facts from one row per fact (``fact`` + ``aggregate_seen``)
into one row per aggregate (``aggregate_facts``) and back, and the daily sums keep moving right."""

import asyncio
from collections import Counter
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import text

import gateway
from gateway.facts import Fact
from gateway.readmodel import apply_states, decode_facts
from zhichan import migrate
from zhichan.db import make_engine, make_session_factory
from zhichan.testing import database_url

GATEWAY_DIR = Path(gateway.__file__).parent
CASE = "enforcement/case/C1"
DIMS = ("trademark_infringement", "administrative_penalty", "inspection", "")


async def _daily(engine) -> Counter:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT series, day, amount FROM series_daily"))
        return Counter({(series, str(day)): amount for series, day, amount in rows if amount})


async def test_facts_carried_over_and_back(tmp_path):
    async with database_url(tmp_path, "gateway") as url:
        await asyncio.to_thread(migrate.upgrade, GATEWAY_DIR, url, "0003")
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO aggregate_seen (key, version) VALUES (:k, 2), ('targets/plan/p', 1)"), {"k": CASE}
                )
                for series, day, amount in (
                    ("enforcement.cases_filed", date(2024, 3, 1), 1),
                    ("enforcement.open_cases", date(2024, 3, 1), 1),
                    ("enforcement.open_cases", date(2024, 5, 1), -1),
                ):
                    row = {"k": CASE, "s": series, "d": day, "a": amount, "d1": DIMS[0], "d2": DIMS[1], "d3": DIMS[2]}
                    await conn.execute(
                        text(
                            "INSERT INTO fact (key, series, region, day, dim1, dim2, dim3, dim4, amount)"
                            " VALUES (:k, :s, '321102', :d, :d1, :d2, :d3, '', :a)"
                        ),
                        row,
                    )
                    await conn.execute(
                        text(
                            "INSERT INTO series_daily (series, region, day, dim1, dim2, dim3, dim4, amount)"
                            " VALUES (:s, '321102', :d, :d1, :d2, :d3, '', :a)"
                        ),
                        row,
                    )
            before = await _daily(engine)

            await asyncio.to_thread(migrate.upgrade, GATEWAY_DIR, url)
            async with engine.connect() as conn:
                held = dict((await conn.execute(text("SELECT key, facts FROM aggregate_facts"))).all())
                versions = dict((await conn.execute(text("SELECT key, version FROM aggregate_facts"))).all())
            assert versions == {CASE: 2, "targets/plan/p": 1}
            assert held["targets/plan/p"] == "[]"
            assert sorted(decode_facts(held[CASE])) == sorted(
                [
                    (("enforcement.cases_filed", "321102", date(2024, 3, 1), *DIMS), 1),
                    (("enforcement.open_cases", "321102", date(2024, 3, 1), *DIMS), 1),
                    (("enforcement.open_cases", "321102", date(2024, 5, 1), *DIMS), -1),
                ]
            )
            assert await _daily(engine) == before

            # The carried facts are what a newer version takes away: the case reopened for longer.
            async with make_session_factory(engine)() as session:
                applied = await apply_states(
                    session,
                    [
                        (
                            CASE,
                            3,
                            [
                                Fact("enforcement.cases_filed", "321102", date(2024, 3, 1), 1, DIMS),
                                Fact("enforcement.open_cases", "321102", date(2024, 3, 1), 1, DIMS),
                                Fact("enforcement.open_cases", "321102", date(2024, 9, 1), -1, DIMS),
                            ],
                        )
                    ],
                )
                await session.commit()
            assert applied == {CASE}
            assert await _daily(engine) == Counter(
                {
                    ("enforcement.cases_filed", "2024-03-01"): 1,
                    ("enforcement.open_cases", "2024-03-01"): 1,
                    ("enforcement.open_cases", "2024-09-01"): -1,
                }
            )

            await asyncio.to_thread(migrate.downgrade, GATEWAY_DIR, url, "0003")
            async with engine.connect() as conn:
                facts = (await conn.execute(text("SELECT series, day, amount FROM fact ORDER BY day"))).all()
                seen = dict((await conn.execute(text("SELECT key, version FROM aggregate_seen"))).all())
            assert [(s, str(d), a) for s, d, a in facts] == [
                ("enforcement.cases_filed", "2024-03-01", 1),
                ("enforcement.open_cases", "2024-03-01", 1),
                ("enforcement.open_cases", "2024-09-01", -1),
            ]
            assert seen == {CASE: 3, "targets/plan/p": 1}
        finally:
            await engine.dispose()


async def test_an_older_version_changes_nothing_and_a_repeated_key_keeps_the_newest(tmp_path):
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        engine = make_engine(url)
        try:
            first = [Fact("financing.pledge_count", "321102", date(2024, 1, 5), 1, (",patent,", "single", "", ""))]
            second = [Fact("financing.pledge_count", "321102", date(2024, 2, 5), 1, (",patent,", "single", "", ""))]
            async with make_session_factory(engine)() as session:
                # One call, the same pledge twice: as if version 1 then version 2 had been applied.
                assert await apply_states(
                    session, [("financing/pledge/P1", 1, first), ("financing/pledge/P1", 2, second)]
                )
                await session.commit()
            async with make_session_factory(engine)() as session:
                assert await apply_states(session, [("financing/pledge/P1", 1, first)]) == set()
                await session.commit()
            assert await _daily(engine) == Counter({("financing.pledge_count", "2024-02-05"): 1})
        finally:
            await engine.dispose()


async def _monthly(engine) -> Counter:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT series, region, month, dim1, amount FROM series_monthly"))
        return Counter({(series, region, str(month), dim1): amount for series, region, month, dim1, amount in rows})


async def _yearly(engine) -> Counter:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT series, region, year, dim1, amount FROM series_yearly"))
        return Counter({(series, region, str(year), dim1): amount for series, region, year, dim1, amount in rows})


async def test_monthly_and_yearly_sums_filled_from_the_daily_rows_and_dropped_on_downgrade(tmp_path):
    """Migration 0006 adds up a read model's existing daily rows per month (a month whose days
    cancel out keeps no row), 0010 the monthly rows per year; later states move all three;
    downgrades drop the yearly, then the monthly sums."""
    async with database_url(tmp_path, "gateway") as url:
        await asyncio.to_thread(migrate.upgrade, GATEWAY_DIR, url, "0005")
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                for series, region, day, dim1, amount in (
                    ("enforcement.open_cases", "321102", date(2024, 1, 1), "a", 1),
                    ("enforcement.open_cases", "321102", date(2024, 1, 31), "a", 2),
                    ("enforcement.open_cases", "321102", date(2024, 1, 15), "b", 4),
                    ("enforcement.open_cases", "321102", date(2024, 2, 1), "a", 8),
                    ("enforcement.open_cases", "321102", date(2024, 3, 3), "a", 1),
                    ("enforcement.open_cases", "321102", date(2024, 3, 30), "a", -1),
                    ("enforcement.open_cases", "321111", date(2024, 1, 10), "a", 16),
                    ("financing.pledge_amount", "321102", date(2023, 12, 31), "", 500),
                ):
                    await conn.execute(
                        text(
                            "INSERT INTO series_daily (series, region, day, dim1, dim2, dim3, dim4, amount)"
                            " VALUES (:s, :r, :d, :d1, '', '', '', :a)"
                        ),
                        {"s": series, "r": region, "d": day, "d1": dim1, "a": amount},
                    )

            await asyncio.to_thread(migrate.upgrade, GATEWAY_DIR, url)
            expected = Counter(
                {
                    ("enforcement.open_cases", "321102", "2024-01-01", "a"): 3,
                    ("enforcement.open_cases", "321102", "2024-01-01", "b"): 4,
                    ("enforcement.open_cases", "321102", "2024-02-01", "a"): 8,
                    ("enforcement.open_cases", "321111", "2024-01-01", "a"): 16,
                    ("financing.pledge_amount", "321102", "2023-12-01", ""): 500,
                }
            )
            assert await _monthly(engine) == expected
            yearly = Counter(
                {
                    ("enforcement.open_cases", "321102", "2024-01-01", "a"): 11,
                    ("enforcement.open_cases", "321102", "2024-01-01", "b"): 4,
                    ("enforcement.open_cases", "321111", "2024-01-01", "a"): 16,
                    ("financing.pledge_amount", "321102", "2023-01-01", ""): 500,
                }
            )
            assert await _yearly(engine) == yearly

            # A state applied after the migration adds to the carried sums, as to the daily ones.
            async with make_session_factory(engine)() as session:
                fact = Fact("enforcement.open_cases", "321102", date(2024, 1, 20), 32, ("a", "", "", ""))
                assert await apply_states(session, [("enforcement/case/C9", 1, [fact])])
                await session.commit()
            expected[("enforcement.open_cases", "321102", "2024-01-01", "a")] += 32
            assert await _monthly(engine) == expected
            yearly[("enforcement.open_cases", "321102", "2024-01-01", "a")] += 32
            assert await _yearly(engine) == yearly

            await asyncio.to_thread(migrate.downgrade, GATEWAY_DIR, url, "0008")
            async with engine.connect() as conn:
                tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            assert "series_yearly" not in tables and "series_monthly" in tables
            await asyncio.to_thread(migrate.downgrade, GATEWAY_DIR, url, "0005")
            async with engine.connect() as conn:
                tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
            assert "series_monthly" not in tables and "series_daily" in tables
        finally:
            await engine.dispose()
