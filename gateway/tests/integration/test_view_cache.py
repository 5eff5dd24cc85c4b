"""Views read each series once per request, and are cached until the read model moves — in
every replica sharing the database, whichever of them applied the event."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import event

from gateway.app import create_app
from gateway.metrics import SeriesSums, SeriesWindow
from gateway.projections import apply_events
from gateway.settings import GatewaySettings
from gateway.tests.integration import test_plan_progress
from gateway.tests.integration.test_plan_progress import ADMIN, AS_OF, case, feed, pledge
from gateway.viewcache import ViewCache, mark_changed, read_stamp
from zhichan.db import is_sqlite, make_engine, make_session_factory
from zhichan.settings import process_settings
from zhichan.testing import database_url, platform_for_tests

PLAN_URL = "/api/progress/plans/quanshan-2025-2026"
targets_events = test_plan_progress.targets_events  # the fixture: the plan's real events


def series_queries(engine) -> list[str]:
    """The statements run on ``engine`` from now on that read the sums (daily, monthly or both)."""
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, *_args) -> None:
        if any(f"FROM series_{period}" in statement for period in ("daily", "monthly", "yearly")):
            statements.append(statement)

    return statements


@pytest.fixture
async def replicas(tmp_path):
    """Two gateways on one database, without a broker (events are fed by the tests)."""
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        settings = process_settings(
            "gateway", base=GatewaySettings, database_url=url, relay_enabled=False, migrate_on_start=False
        )
        first = create_app(settings=settings, platform=platform_for_tests(tmp_path))
        second = create_app(settings=settings, platform=platform_for_tests(tmp_path))
        async with first.router.lifespan_context(first), second.router.lifespan_context(second):
            async with (
                httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://a") as a,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://b") as b,
            ):
                yield (first, a), (second, b)


async def test_every_replica_answers_an_event_right_after_one_of_them_applied_it(replicas, targets_events):
    (first, a), (_second, b) = replicas
    await feed(first, [*targets_events, case(1, "2025-02-01"), pledge(1, "2025-03-01", "30000000.00")])

    async def figures(client: httpx.AsyncClient) -> tuple:
        plan = (await client.get(PLAN_URL, params={"as_of": AS_OF})).json()
        overview = (await client.get("/api/progress/regions/320300", params={"as_of": AS_OF}, headers=ADMIN)).json()
        scorecard = (await client.get("/api/progress/scorecard", params={"as_of": AS_OF}, headers=ADMIN)).json()
        row = next(r for r in scorecard["items"] if r["region"] == "320311")
        cases = next(i for i in plan["indicators"] if i["key"] == "cases")
        return cases["actual"], overview["headline"]["open_cases"], row["headline"]["pledge_count_this_year"]

    assert await figures(a) == await figures(b) == ("1", 1, 1)
    assert await figures(b) == ("1", 1, 1)  # served from the second replica's cache

    # The first replica applies two more events: both replicas answer them at once.
    await feed(first, [case(2, "2025-03-01"), pledge(2, "2025-04-01", "10000000.00")])
    assert await figures(b) == ("2", 2, 2)
    assert await figures(a) == ("2", 2, 2)


async def test_a_view_asked_again_is_served_without_reading_the_series(replicas, targets_events):
    (first, a), _ = replicas
    await feed(first, targets_events)
    queries = series_queries(first.state.engine)
    computed = await a.get(PLAN_URL, params={"as_of": AS_OF})
    read = len(queries)
    assert read > 0
    again = await a.get(PLAN_URL, params={"as_of": AS_OF})
    assert again.json() == computed.json() and len(queries) == read
    await a.get(PLAN_URL, params={"as_of": "2025-05-01"})  # another date is another view
    assert len(queries) > read


async def test_a_region_overview_reads_each_series_once(replicas, targets_events):
    (first, a), _ = replicas
    await feed(first, targets_events)
    queries = series_queries(first.state.engine)
    overview = await a.get("/api/progress/regions/320300", params={"as_of": AS_OF}, headers=ADMIN)
    assert overview.status_code == 200
    # One query per series, whatever its filters, regions and dates: the plan's pledge_amount,
    # cases_filed by type, the rate's three series, active agencies offline (and, in the same
    # query, all of them for the headline); the headline's open_cases, pledge_count and
    # complaints_open (its pledge_amount, overdue cases and rate are the plan's series).
    assert len(queries) == 9


@pytest.fixture
async def engine(tmp_path):
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        engine = make_engine(url)
        yield engine
        await engine.dispose()


async def test_sums_read_together_equal_sums_read_one_by_one(engine):
    events = [
        *[case(n, f"2025-0{n}-10", closed=f"2025-0{n + 1}-01", on_time=True) for n in range(1, 6)],
        pledge(1, "2024-12-31", "1.00"),
        pledge(2, "2025-01-01", "2.00"),
        pledge(3, "2025-06-30", "4.00"),
    ]
    session_factory = make_session_factory(engine)
    async with session_factory() as session:
        for e in events:
            await apply_events(session, [e])  # a fetch of one, as the live consumer may
        await session.commit()
    quanshan, elsewhere = frozenset({"320311"}), frozenset({"320302"})
    trademark = (("type", ("trademark_infringement",)),)
    expected = {
        SeriesWindow("financing.pledge_amount", None, None, date(2025, 6, 30)): 700,
        SeriesWindow("financing.pledge_amount", quanshan, date(2025, 1, 1), date(2025, 6, 29)): 200,
        SeriesWindow("financing.pledge_amount", quanshan | elsewhere, date(2025, 1, 1), date(2025, 6, 30)): 600,
        SeriesWindow("financing.pledge_amount", elsewhere, None, date(2025, 6, 30)): 0,
        SeriesWindow("enforcement.cases_filed", quanshan, None, date(2025, 3, 10), trademark): 3,
        SeriesWindow("enforcement.cases_filed", quanshan, date(2025, 3, 11), date(2025, 12, 31), trademark): 2,
        SeriesWindow(
            "enforcement.cases_filed", quanshan, None, date(2025, 12, 31), (("type", ("patent_passing_off",)),)
        ): 0,
        SeriesWindow("enforcement.open_cases", quanshan, None, date(2025, 4, 15)): 1,
    }
    async with session_factory() as session:
        queries = series_queries(engine)
        together = SeriesSums(session)
        together.ask(*expected)
        assert {w: await together.amount(w) for w in expected} == expected
        # one query per series, both filters of cases_filed in one: pledge_amount, cases_filed, open_cases
        assert len(queries) == 3
        one_by_one = {w: await SeriesSums(session).amount(w) for w in expected}
        assert one_by_one == expected and len(queries) == 3 + len(expected)


async def test_the_stamp_is_new_after_each_transaction_that_marks_it_and_written_once_in_it(engine):
    session_factory = make_session_factory(engine)
    async with session_factory() as session:
        before = await read_stamp(session)
    assert before is not None  # the migration creates the row
    async with session_factory() as session:
        writes = []

        def seen(statement: str) -> None:
            if statement.startswith("INSERT INTO read_model_stamp"):
                writes.append(statement)

        if is_sqlite(engine):  # every statement SQLite runs, those sent together at the commit too
            raw = await (await session.connection()).get_raw_connection()
            raw.driver_connection._conn.set_trace_callback(seen)
        else:
            event.listen(engine.sync_engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: seen(statement))
        mark_changed(session)
        mark_changed(session)
        await session.commit()
        assert len(writes) == 1
        after_first = await read_stamp(session)
        mark_changed(session)  # a new transaction: a new stamp
        await session.commit()
        assert len(writes) == 2
        after_second = await read_stamp(session)
    assert len({before, after_first, after_second}) == 3


async def test_the_cache_keeps_views_of_the_current_stamp_only():
    cache, computed = ViewCache(size=2), []

    async def compute(value):
        computed.append(value)
        return value

    assert await cache.get("s1", "a", lambda: compute("a1")) == "a1"
    assert await cache.get("s1", "a", lambda: compute("a2")) == "a1"  # kept
    assert await cache.get("s2", "a", lambda: compute("a3")) == "a3"  # the read model moved
    await cache.get("s2", "b", lambda: compute("b"))
    await cache.get("s2", "c", lambda: compute("c"))  # beyond the size: "a" goes, least recently used
    assert await cache.get("s2", "a", lambda: compute("a4")) == "a4"
    assert await cache.get(None, "a", lambda: compute("a5")) == "a5"  # no stamp: nothing is kept
    assert await cache.get(None, "a", lambda: compute("a6")) == "a6"

    async def overtaken():  # a newer stamp is seen while this view is computed: it is not kept
        await cache.get("s4", "x", lambda: compute("x"))
        return "stale"

    assert await cache.get("s3", "a", overtaken) == "stale"
    assert await cache.get("s4", "a", lambda: compute("fresh")) == "fresh"


async def test_sums_are_read_by_series_region_and_date_from_the_keys(engine):
    """A level at a mid-month date and a window from mid-month: whole years from
    ``series_yearly``, the months after them from ``series_monthly`` and the edges' days from
    ``series_daily``, each by its primary key."""
    statements: list[tuple[str, tuple]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def record(_conn, _cursor, statement, parameters, *_args) -> None:
        if any(f"FROM series_{period}" in statement for period in ("daily", "monthly", "yearly")):
            statements.append((statement, tuple(parameters)))

    async with make_session_factory(engine)() as session:
        sums = SeriesSums(session)
        trademark = (("type", ("trademark_infringement",)),)
        level = SeriesWindow("enforcement.cases_filed", frozenset({"320311", "320312"}), None, date(2025, 6, 15))
        sums.ask(level, SeriesWindow("enforcement.cases_filed", level.regions, date(2025, 1, 10), level.end, trademark))
        await sums.amount(level)
        # One query for the series, both filters: the years before 2025, 2025's months before
        # June, January's days from the 10th and June's days to the 15th.
        assert len(statements) == 1
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        for statement, parameters in statements:
            if engine.dialect.name == "sqlite":
                plan = " ".join(
                    str(row[-1])
                    for row in await (await driver.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)).fetchall()
                )
                # The tables are their keys (WITHOUT ROWID): the amount is read with it.
                assert "SEARCH series_yearly USING PRIMARY KEY (series=? AND region=? AND year<?)" in plan, plan
                assert "SEARCH series_monthly USING PRIMARY KEY (series=? AND region=? AND month" in plan, plan
                assert "SEARCH series_daily USING PRIMARY KEY (series=? AND region=? AND day>? AND day<?)" in plan, plan
                assert "SCAN series" not in plan, plan
            else:
                # An empty table is best read whole: say that only to find what the index allows.
                await driver.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
                plan = " ".join(row[0] for row in await driver.fetch(f"EXPLAIN {statement}", *parameters))
                assert "Index Scan using series_yearly_pkey" in plan and "year <=" in plan, plan
                assert "Index Scan using series_monthly_pkey" in plan and "month >=" in plan, plan
                assert "Index Scan using series_daily_pkey" in plan and "day >=" in plan and "day <=" in plan, plan
                assert "Seq Scan" not in plan and "region" in plan, plan
