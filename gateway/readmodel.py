"""Applying an aggregate's new state to the read model: newer versions only, facts replaced,
daily sums moved by the difference."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.facts import Fact
from gateway.models import AggregateSeen, FactRow, SeriesDaily


async def claim_version(session: AsyncSession, key: str, version: int) -> bool:
    """True when ``version`` is newer than what the read model holds for ``key`` (and records it)."""
    seen = await session.get(AggregateSeen, key)
    if seen is not None and seen.version >= version:
        return False
    if seen is None:
        session.add(AggregateSeen(key=key, version=version))
    else:
        seen.version = version
    return True


async def replace_facts(session: AsyncSession, key: str, facts: list[Fact]) -> None:
    old_rows = (await session.execute(select(FactRow).where(FactRow.key == key))).scalars().all()
    delta: Counter[tuple] = Counter()
    for row in old_rows:
        delta[(row.series, row.region, row.day, row.dim1, row.dim2, row.dim3, row.dim4)] -= row.amount
    for f in facts:
        delta[(f.series, f.region, f.day, *f.dims)] += f.amount
    changes = [(k, amount) for k, amount in delta.items() if amount != 0]
    if changes:
        await _add_to_daily(session, changes)
    if old_rows:
        await session.execute(delete(FactRow).where(FactRow.key == key))
    session.add_all(
        FactRow(
            key=key,
            series=f.series,
            region=f.region,
            day=f.day,
            dim1=f.dims[0],
            dim2=f.dims[1],
            dim3=f.dims[2],
            dim4=f.dims[3],
            amount=f.amount,
        )
        for f in facts
    )


async def _add_to_daily(session: AsyncSession, changes: list[tuple[tuple, int]]) -> None:
    dialect = session.bind.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {
            "series": k[0],
            "region": k[1],
            "day": k[2],
            "dim1": k[3],
            "dim2": k[4],
            "dim3": k[5],
            "dim4": k[6],
            "amount": amount,
        }
        for k, amount in changes
    ]
    stmt = insert(SeriesDaily).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["series", "region", "day", "dim1", "dim2", "dim3", "dim4"],
        set_={"amount": SeriesDaily.amount + stmt.excluded.amount},
    )
    await session.execute(stmt)
