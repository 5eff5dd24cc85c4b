"""Sums read as whole years (series_yearly), the months at their edges (series_monthly) and the
days at a window's edges (series_daily) answer exactly what summing the daily rows answers — for
every series, window, filter and set of regions, and for whole views — and the monthly and
yearly rows stay the sums of their days through corrections (a newer state replacing older
facts, an older one arriving late)."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import case, func, inspect, select, text

from bench import city
from gateway import views
from gateway.facts import FACTS_OF, SERIES_DIMENSIONS, SET_DIMENSIONS
from gateway.metrics import SeriesSums, SeriesWindow, _dimension_conditions
from gateway.models import PlanView, SeriesDaily
from gateway.projections import apply_events
from gateway.readmodel import PeriodSums, apply_prepared, prepare_states
from zhichan.db import make_engine, make_session_factory
from zhichan.events.envelope import Envelope
from zhichan.regions import registry
from zhichan.testing import database_url

DIVISOR = 1000  # 1,000 cases, 200 pledges, 20 agencies and the 50 plans, over 2016–2025
D = date
# Before any data, the data's first day, months' first and last days (a leap February too),
# mid-month days, a year's edges, the last day of data and after it.
DATES = (
    D(2015, 6, 15),
    D(2016, 1, 1),
    D(2017, 1, 31),
    D(2019, 12, 31),
    D(2020, 1, 1),
    D(2021, 3, 15),
    D(2024, 2, 29),
    D(2025, 6, 30),
    D(2025, 7, 1),
    D(2026, 3, 10),
)


class DailySums(SeriesSums):
    """The sums as they were read before monthly rows: every daily row of the window."""

    async def _read_series(self, series: str, windows: list[SeriesWindow]) -> None:
        for filters in {w.filters for w in windows}:
            await self._read_group(series, filters, [w for w in windows if w.filters == filters])

    async def _read_group(self, series: str, filters: tuple, windows: list[SeriesWindow]) -> None:
        table = SeriesDaily.__table__
        ranges = sorted({(w.start, w.end) for w in windows}, key=lambda r: (r[0] or date.min, r[1]))
        columns = [
            func.sum(
                case(
                    (table.c.day <= end if start is None else table.c.day.between(start, end), table.c.amount), else_=0
                )
            )
            for start, end in ranges
        ]
        stmt = (
            select(table.c.region, *columns)
            .where(table.c.series == series, *_dimension_conditions(table, series, filters))
            .group_by(table.c.region)
        )
        per_region = {row[0]: [int(v) for v in row[1:]] for row in (await self.session.execute(stmt)).all()}
        for window in windows:
            column = ranges.index((window.start, window.end))
            regions = per_region if window.regions is None else window.regions
            self._amounts[window] = sum(per_region[r][column] for r in regions if r in per_region)


def shifted(envelope: Envelope, days: int, version: int) -> Envelope:
    """The aggregate's state with every date in it moved by ``days``: another version of it."""

    def shift(value):
        if isinstance(value, dict):
            return {k: shift(v) for k, v in value.items()}
        if isinstance(value, list):
            return [shift(v) for v in value]
        if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            return (date.fromisoformat(value) + timedelta(days=days)).isoformat()
        return value

    return envelope.model_copy(
        update={"id": str(uuid.uuid4()), "data": shift(envelope.data), "aggregateversion": version}
    )


def facts_of(envelope: Envelope) -> list:
    return FACTS_OF[(envelope.service, envelope.aggregate)](envelope.data)


def again(envelope: Envelope) -> Envelope:
    """The same state in another event (its late delivery, or a republished one)."""
    return envelope.model_copy(update={"id": str(uuid.uuid4())})


@pytest.fixture(scope="module")
def city_events() -> list[Envelope]:
    return list(city.events(DIVISOR))


@pytest.fixture
async def engine(tmp_path, city_events):
    """A read model of the city at 1/DIVISOR, applied in fetches as the live consumer does."""
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        engine = make_engine(url)
        async with make_session_factory(engine)() as session:
            for start in range(0, len(city_events), 250):
                await apply_events(session, city_events[start : start + 250])
            await session.commit()
        yield engine
        await engine.dispose()


async def daily_rows(engine) -> list[tuple]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT series, region, day, dim1, dim2, dim3, dim4, amount FROM series_daily"))
        return [(s, r, d if isinstance(d, date) else date.fromisoformat(d), *rest) for s, r, d, *rest in rows]


async def assert_monthly_rows_are_sums_of_daily_rows(engine) -> None:
    """And the yearly rows too."""
    by_month: Counter = Counter()
    by_year: Counter = Counter()
    for series, region, day, *dims, amount in await daily_rows(engine):
        by_month[(series, region, day.replace(day=1), *dims)] += amount
        by_year[(series, region, day.replace(month=1, day=1), *dims)] += amount
    for table, period, expected in (("series_monthly", "month", by_month), ("series_yearly", "year", by_year)):
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(f"SELECT series, region, {period}, dim1, dim2, dim3, dim4, amount FROM {table}")
            )
            held = {
                (s, r, m if isinstance(m, date) else date.fromisoformat(m), *dims): amount
                for s, r, m, *dims, amount in rows
            }
        assert {k: v for k, v in held.items() if v} == {k: v for k, v in expected.items() if v}
        assert len(held) > 100


def _matches(series: str, dims: tuple, filters: tuple) -> bool:
    names = SERIES_DIMENSIONS[series]
    for name, value in filters:
        held = dims[names.index(name)]
        if isinstance(value, bool):
            if held != ("true" if value else "false"):
                return False
        elif (series, name) in SET_DIMENSIONS:
            if not any(f",{v}," in held for v in value):
                return False
        elif held not in value:
            return False
    return True


def filters_of(series: str, rows: list[tuple]) -> list[tuple]:
    """No filter, and for each of the series' dimensions the values most often held (a set
    dimension: one code, and two codes of which either matches; a boolean: true and false)."""
    found = [()]
    names = SERIES_DIMENSIONS[series]
    for i, name in enumerate(names):
        held = Counter(row[3 + i] for row in rows if row[0] == series)
        if (series, name) in SET_DIMENSIONS:
            codes = Counter(code for value, n in held.items() for code in value.strip(",").split(",") if code)
            common = [code for code, _n in codes.most_common(2)]
            found += [((name, (common[0],)),), ((name, tuple(sorted(common))),)]
        elif set(held) <= {"true", "false"}:
            found += [((name, True),), ((name, False),)]
        else:
            found.append(((name, (held.most_common(1)[0][0],)),))
    return found


def windows_for(rows: list[tuple]) -> list[SeriesWindow]:
    district, other = city.DISTRICTS[0], city.DISTRICTS[3]
    region_sets = [frozenset({district}), frozenset({district, other}), registry().descendants(city.CITY), None]
    ranges = [(None, d) for d in DATES] + [(a, b) for a, b in itertools.combinations(DATES, 2)]
    ranges += [(D(2024, 2, 10), D(2024, 2, 20)), (D(2025, 7, 1), D(2025, 6, 30))]  # within a month; empty
    return [
        SeriesWindow(series, regions, start, end, filters)
        for series in SERIES_DIMENSIONS
        for filters in filters_of(series, rows)
        for regions in region_sets
        for start, end in ranges
    ]


def expected_sums(rows: list[tuple], windows: list[SeriesWindow]) -> dict[SeriesWindow, int]:
    by_series = defaultdict(list)
    for row in rows:
        by_series[row[0]].append(row)
    return {
        w: sum(
            amount
            for _s, region, day, *dims, amount in by_series[w.series]
            if (w.regions is None or region in w.regions)
            and (w.start is None or day >= w.start)
            and day <= w.end
            and _matches(w.series, tuple(dims), w.filters)
        )
        for w in windows
    }


async def assert_every_sum_is_the_sum_of_its_daily_rows(engine) -> None:
    rows = await daily_rows(engine)
    windows = windows_for(rows)
    expected = expected_sums(rows, windows)
    assert sum(1 for amount in expected.values() if amount) > len(windows) // 3  # the data is in the windows
    async with make_session_factory(engine)() as session:
        sums = SeriesSums(session)
        sums.ask(*windows)
        answered = {w: await sums.amount(w) for w in windows}
    wrong = {w: (answered[w], expected[w]) for w in windows if answered[w] != expected[w]}
    assert not wrong, list(wrong.items())[:5]


async def test_every_sum_is_the_sum_of_its_daily_rows(engine):
    await assert_monthly_rows_are_sums_of_daily_rows(engine)
    await assert_every_sum_is_the_sum_of_its_daily_rows(engine)


async def test_views_are_the_same_as_summed_from_daily_rows(engine, monkeypatch):
    async def every_view() -> list:
        answers = []
        async with make_session_factory(engine)() as session:
            plans = (await session.execute(select(PlanView).order_by(PlanView.key))).scalars().all()
            regions = await views.scorecard_regions(session)
            for as_of in (D(2025, 6, 30), D(2024, 2, 29), D(2022, 7, 15)):
                answers += [await views.plan_progress(views.ViewReads(session), plan, as_of) for plan in plans]
                answers += [await views.region_overview(session, code, as_of) for code in (city.CITY, *city.DISTRICTS)]
                answers.append(await views.scorecard(session, regions, as_of))
        return answers

    computed = await every_view()
    monkeypatch.setattr(views, "SeriesSums", DailySums)
    assert await every_view() == computed
    assert len(computed) == 3 * (50 + 7 + 1)


async def test_views_are_the_same_with_the_plans_parsed_once(engine):
    """With the app's :class:`views.ParsedPlans`, a view parses what it does not know yet and
    after that loads the plans without their state: the same answers either way."""

    async def every_view(parsed: views.ParsedPlans | None) -> list:
        answers = []
        for as_of in (D(2025, 6, 30), D(2024, 2, 29), D(2022, 7, 15)):
            for code in (city.CITY, *city.DISTRICTS):
                async with make_session_factory(engine)() as session:
                    answers.append(await views.region_overview(session, code, as_of, parsed))
            async with make_session_factory(engine)() as session:
                regions = await views.scorecard_regions(session)
                answers.append(await views.scorecard(session, regions, as_of, parsed))
        return answers

    parsed = views.ParsedPlans()
    fresh = await every_view(None)
    assert await every_view(parsed) == fresh  # parsing as it goes
    async with make_session_factory(engine)() as session:
        plans = await views.plans_in(session, city.CITY, parsed)
        assert plans and all("state" in inspect(plan).unloaded for plan in plans)  # known: no state read
    assert await every_view(parsed) == fresh


async def test_corrections_keep_monthly_rows_the_sums_of_their_days(engine, city_events):
    kept = [e for e in city_events if (e.service, e.aggregate) != ("targets", "plan")]
    moved = kept[::7]  # cases, pledges and agencies
    async with make_session_factory(engine)() as session:
        # A newer state moves the aggregate's dates across months (and years, for some).
        await apply_events(session, [shifted(e, 45, 2) for e in moved[: len(moved) // 2]])
        # Two newer states in one fetch: the newest wins; and one fetch with the state it replaces.
        await apply_events(session, [shifted(e, 400, 3) for e in moved[len(moved) // 2 :]])
        await apply_events(session, [shifted(e, -20, 2) for e in moved[len(moved) // 2 :]])
        # Older versions arriving late, alone and in a fetch with a newer one: nothing moves back.
        await apply_events(session, [again(e) for e in moved[:10]])
        await apply_events(session, [*map(again, moved[10:20]), *(shifted(e, 3, 5) for e in moved[10:20])])
        await session.commit()
    await assert_monthly_rows_are_sums_of_daily_rows(engine)
    await assert_every_sum_is_the_sum_of_its_daily_rows(engine)
    rows = await daily_rows(engine)
    latest = D(2025, 12, 31) + timedelta(days=403)
    assert any(day > D(2026, 1, 1) and day <= latest for _s, _r, day, *_rest in rows)  # the moves landed


@pytest.mark.parametrize("most", [1_000_000, 700])
async def test_a_replays_monthly_sums_written_once_for_many_chunks_are_the_days_sums(tmp_path, city_events, most):
    """As ``zhichan gateway rebuild`` writes: chunks of states, each in its transaction, the
    monthly sums added up across them (written before going on past ``most`` rows) and written
    after the last; aggregates of earlier chunks come again, newer and older, in later ones."""
    kept = [e for e in city_events if (e.service, e.aggregate) in FACTS_OF]
    log = [
        *kept,
        *(shifted(e, 45, 2) for e in kept[::5]),
        *(again(e) for e in kept[::11]),
        *(shifted(e, -300, 3) for e in kept[::13]),
    ]
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        engine = make_engine(url)
        try:
            monthly = PeriodSums(most)
            session_factory = make_session_factory(engine)
            for start in range(0, len(log), 300):
                states = [
                    (f"{e.service}/{e.aggregate}/{e.aggregate_id}", e.aggregateversion, facts_of(e))
                    for e in log[start : start + 300]
                ]
                async with session_factory() as session:
                    await apply_prepared(session, prepare_states(states), monthly)
                    await session.commit()
            async with session_factory() as session:
                await monthly.write(session)
                await session.commit()
            await assert_monthly_rows_are_sums_of_daily_rows(engine)
            await assert_every_sum_is_the_sum_of_its_daily_rows(engine)
        finally:
            await engine.dispose()
