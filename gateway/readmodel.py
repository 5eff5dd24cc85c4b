"""Applying aggregates' new states to the read model: newer versions only, facts replaced,
daily, monthly and yearly sums moved by the difference.

The live consumer applies one state at a time and ``zhichan gateway rebuild`` tens of thousands
at once through the same function, :func:`apply_states`: a handful of statements per call
whatever its size (one read of the aggregates' rows, one write of each kind), so a replay costs
rows written, not round trips.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import orjson
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.facts import Fact
from gateway.models import AggregateFacts, SeriesDaily, SeriesMonthly, SeriesYearly
from zhichan.db import insert_at_commit, insert_many

# Bound parameters per statement stay well under SQLite's limit (32,766) and asyncpg's (32,767).
KEYS_PER_SELECT = 5_000
DailyKey = tuple[str, str, date, str, str, str, str]  # series, region, day, dim1..dim4
DAILY_COLUMNS = ("series", "region", "day", "dim1", "dim2", "dim3", "dim4", "amount")
PeriodKey = DailyKey  # the same key with the month's (the year's) first day for the day
MONTHLY_COLUMNS = ("series", "region", "month", "dim1", "dim2", "dim3", "dim4", "amount")
YEARLY_COLUMNS = ("series", "region", "year", "dim1", "dim2", "dim3", "dim4", "amount")
PERIOD_ROWS_KEPT = 1_000_000  # a replay's monthly and yearly sums held in memory at most (~200 MB)

DAILY_UPSERT = (
    "ON CONFLICT (series, region, day, dim1, dim2, dim3, dim4)"
    " DO UPDATE SET amount = series_daily.amount + excluded.amount"
)
MONTHLY_UPSERT = (
    "ON CONFLICT (series, region, month, dim1, dim2, dim3, dim4)"
    " DO UPDATE SET amount = series_monthly.amount + excluded.amount"
)
YEARLY_UPSERT = (
    "ON CONFLICT (series, region, year, dim1, dim2, dim3, dim4)"
    " DO UPDATE SET amount = series_yearly.amount + excluded.amount"
)

AGGREGATES = AggregateFacts.__table__
DAILY = SeriesDaily.__table__
MONTHLY = SeriesMonthly.__table__
YEARLY = SeriesYearly.__table__
# Built once: building it per call cost more than SQLite's work for a fetch of one event.
_HELD = select(AGGREGATES.c.key, AGGREGATES.c.version, AGGREGATES.c.facts).where(
    AGGREGATES.c.key.in_(bindparam("keys", expanding=True))
)


def encode_facts(facts: Sequence[Fact]) -> str:
    # orjson: several times faster than json here, and writes dates as YYYY-MM-DD itself.
    return orjson.dumps([[f.series, f.region, f.day, f.amount, *f.dims] for f in facts]).decode()


def decode_facts(encoded: str) -> list[tuple[DailyKey, int]]:
    return [
        ((series, region, date.fromisoformat(day), *dims), amount)
        for series, region, day, amount, *dims in orjson.loads(encoded)
    ]


async def claim_version(session: AsyncSession, key: str, version: int) -> bool:
    """True when ``version`` is newer than what the read model holds for ``key`` (and records it).
    For aggregates kept in rows of their own (plans, reports), not as facts."""
    return bool(await apply_states(session, [(key, version, [])]))


async def apply_states(session: AsyncSession, states: Iterable[tuple[str, int, Sequence[Fact]]]) -> set[str]:
    """Each (key, version, facts) newer than the read model's becomes the aggregate's facts: its
    previous facts are taken from the daily sums and the new ones added. Returns the keys
    applied. A key given twice: the higher version wins, as if applied one after the other."""
    return await apply_prepared(session, prepare_states(states))


@dataclass
class PreparedStates:
    """States made ready without the database: the newest per key, facts encoded, the new
    facts' daily sums added up and in day order. Plain data, so that a replay can prepare them
    in other processes while this one writes."""

    rows: list[tuple[str, int, str]]  # key, version, encoded facts
    added: list[tuple[DailyKey, int]]


def prepare_states(states: Iterable[tuple[str, int, Sequence[Fact]]]) -> PreparedStates:
    newest: dict[str, tuple[int, Sequence[Fact]]] = {}
    for key, version, facts in states:
        if key not in newest or version > newest[key][0]:
            newest[key] = (version, facts)
    added: Counter[DailyKey] = Counter()
    rows = []
    for key, (version, facts) in newest.items():
        rows.append((key, version, encode_facts(facts)))
        for f in facts:
            added[(f.series, f.region, f.day, *f.dims)] += f.amount
    return PreparedStates(rows, _in_day_order(added))


async def apply_prepared(
    session: AsyncSession, prepared: PreparedStates, periods: PeriodSums | None = None
) -> set[str]:
    """Applies prepared states; the monthly and yearly sums move by the same amounts as the daily
    ones, in this transaction — or, given a replay's ``periods``, there, to be written once for many."""
    if not prepared.rows:
        return set()
    held = await _held(session, [key for key, _version, _facts in prepared.rows])
    corrections: Counter[DailyKey] = Counter()
    inserts, updates = [], []
    for key, version, encoded in prepared.rows:
        previous = held.get(key)
        if previous is None:
            inserts.append((key, version, encoded))
            continue
        held_version, held_facts = previous
        # Not newer: its facts are in ``added`` and must come out again; newer: the held ones go.
        for daily_key, amount in decode_facts(encoded if held_version >= version else held_facts):
            corrections[daily_key] -= amount
        if held_version < version:
            updates.append({"b_key": key, "b_version": version, "b_facts": encoded})
    await insert_many(session, AGGREGATES, ("key", "version", "facts"), inserts)
    if updates:
        await session.execute(
            update(AGGREGATES)
            .where(AGGREGATES.c.key == bindparam("b_key"))
            .values(version=bindparam("b_version"), facts=bindparam("b_facts")),
            updates,
        )
    daily = prepared.added
    if corrections:
        corrections.update(dict(prepared.added))
        daily = _in_day_order(corrections)
    daily_rows = [(*key, amount) for key, amount in daily]
    if periods is None:  # live: the sums are read by views only, never back in this transaction
        insert_at_commit(session, DAILY, DAILY_COLUMNS, daily_rows, DAILY_UPSERT)
        pending = PeriodSums()
        pending.add(daily)
        monthly_rows, yearly_rows = pending.take_rows()
        insert_at_commit(session, MONTHLY, MONTHLY_COLUMNS, monthly_rows, MONTHLY_UPSERT)
        insert_at_commit(session, YEARLY, YEARLY_COLUMNS, yearly_rows, YEARLY_UPSERT)
        return {row[0] for row in inserts} | {row["b_key"] for row in updates}
    await insert_many(session, DAILY, DAILY_COLUMNS, daily_rows, DAILY_UPSERT)
    # The very amounts written to the daily rows: each monthly (yearly) row stays the sum of its days.
    periods.add(daily)
    if periods.full:
        await periods.write(session)
    return {row[0] for row in inserts} | {row["b_key"] for row in updates}


class PeriodSums:
    """Daily amounts added up per month and per year (keyed by their first days), until written.

    The live consumer writes them in the transaction that wrote the days. A replay keeps them
    across its chunks and writes them once at the end: its chunks' dates and dimension values
    spread over a decade, so a chunk of 20,000 cases touches ~90,000 monthly rows for ~106,000
    daily ones, and upserting those per chunk cost its writer ~18 µs of CPU per event (+60 %);
    added up here they cost ~2.5 µs per event, and a city's decade has ~640,000 monthly rows in
    all (~200 bytes each here). The yearly sums are added up from the same amounts (a decade's
    level then reads ~10 yearly rows, the months and days after the last whole year: a tenth of
    the rows, BENCHMARKS.md); they are ~a tenth as many. Past ``most`` rows they are written
    before going on."""

    def __init__(self, most: int = PERIOD_ROWS_KEPT) -> None:
        self.most = most
        self._months: dict[PeriodKey, int] = {}
        self._years: dict[PeriodKey, int] = {}
        self._firsts: dict[date, tuple[date, date]] = {}  # day → its month's and year's first days

    def add(self, daily: Iterable[tuple[DailyKey, int]]) -> None:
        months, years, firsts = self._months, self._years, self._firsts
        month_of, year_of = months.get, years.get
        for (series, region, day, dim1, dim2, dim3, dim4), amount in daily:
            first = firsts.get(day)
            if first is None:
                first = firsts[day] = (day.replace(day=1), day.replace(month=1, day=1))
            key = (series, region, first[0], dim1, dim2, dim3, dim4)
            months[key] = month_of(key, 0) + amount
            key = (series, region, first[1], dim1, dim2, dim3, dim4)
            years[key] = year_of(key, 0) + amount

    @property
    def full(self) -> bool:
        return len(self._months) + len(self._years) >= self.most

    def take_rows(self) -> tuple[list[tuple], list[tuple]]:
        """The amounts added up so far as monthly and yearly rows to upsert, and a fresh start."""
        monthly = [(*key, amount) for key, amount in _in_day_order(self._months)]
        yearly = [(*key, amount) for key, amount in _in_day_order(self._years)]
        self._months, self._years = {}, {}
        return monthly, yearly

    async def write(self, session: AsyncSession) -> None:
        """Upserts the amounts added up so far (adding to the rows held) and starts again."""
        monthly, yearly = self.take_rows()
        await insert_many(session, MONTHLY, MONTHLY_COLUMNS, monthly, MONTHLY_UPSERT)
        await insert_many(session, YEARLY, YEARLY_COLUMNS, yearly, YEARLY_UPSERT)


def _in_day_order(amounts: Mapping[DailyKey, int]) -> list[tuple[DailyKey, int]]:
    """Non-zero amounts by day: written in that order, the daily sums' b-tree is touched at a few
    dozen places (one per series and region) moving forward, not at random — measured 2× faster
    to write, and sorting by the day alone costs a fifteenth of sorting by the whole key."""
    return sorted(((key, amount) for key, amount in amounts.items() if amount), key=_day_of)


def _day_of(item: tuple[DailyKey, int]) -> date:
    return item[0][2]


async def _held(session: AsyncSession, keys: list[str]) -> dict[str, tuple[int, str]]:
    held = {}
    for start in range(0, len(keys), KEYS_PER_SELECT):
        batch = keys[start : start + KEYS_PER_SELECT]
        rows = await session.execute(_HELD, {"keys": batch})
        held.update({key: (version, facts) for key, version, facts in rows})
    return held
