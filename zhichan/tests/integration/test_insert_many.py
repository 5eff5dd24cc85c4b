"""``zhichan.db.insert_many``: rows straight to the driver, values stored as the ORM stores them."""

import asyncio
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, BigInteger, Column, Date, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel

from zhichan.db import UTCDateTime, insert_at_commit, insert_many, make_engine, make_session_factory
from zhichan.testing import database_url, record_driver_calls

metadata = MetaData()
daily = Table(
    "daily",
    metadata,
    Column("series", String(20), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("amount", BigInteger, nullable=False),
)
UPSERT = "ON CONFLICT (series, day) DO UPDATE SET amount = daily.amount + excluded.amount"
CST = timezone(timedelta(hours=8))


async def test_rows_are_stored_as_typed_values_and_conflicts_resolved(tmp_path):
    async with database_url(tmp_path, "kernel") as url:
        engine = make_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            at = datetime(2025, 1, 2, 9, 30, tzinfo=CST)
            async with make_session_factory(engine)() as session:
                await insert_many(session, daily, ("series", "day", "at", "amount"), [])  # nothing to do
                await insert_many(
                    session,
                    daily,
                    ("series", "day", "at", "amount"),
                    [("a", date(2025, 1, 1), at, 5), ("a", date(2025, 1, 2), at, 1), ("b", date(2025, 1, 1), at, 7)],
                    UPSERT,
                )
                await insert_many(
                    session, daily, ("series", "day", "at", "amount"), [("a", date(2025, 1, 1), at, -2)], UPSERT
                )
                await session.commit()
            async with make_session_factory(engine)() as session:
                rows = (await session.execute(select(daily).order_by(daily.c.series, daily.c.day))).all()
            assert [(r.series, r.day, r.amount) for r in rows] == [
                ("a", date(2025, 1, 1), 3),
                ("a", date(2025, 1, 2), 1),
                ("b", date(2025, 1, 1), 7),
            ]
            assert {r.at for r in rows} == {datetime(2025, 1, 2, 1, 30, tzinfo=UTC)}  # the same instant, in UTC
        finally:
            await engine.dispose()


async def delete_series(factory, series: str) -> None:
    async with factory() as session:
        await session.execute(daily.delete().where(daily.c.series == series))
        await session.commit()


async def test_rows_given_for_the_commit_are_written_by_it_or_dropped_with_a_rollback(tmp_path):
    columns = ("series", "day", "at", "amount")
    at = datetime(2025, 1, 2, 9, 30, tzinfo=CST)
    async with database_url(tmp_path, "kernel") as url:
        engine = make_engine(url)
        factory = make_session_factory(engine)

        async def stored() -> list[tuple]:
            async with factory() as session:
                rows = (await session.execute(select(daily).order_by(daily.c.series, daily.c.day))).all()
            return [(r.series, r.day, r.amount) for r in rows]

        try:
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all)
            async with factory() as session:
                insert_at_commit(session, daily, columns, [("a", date(2025, 1, 1), at, 5)], UPSERT)
                insert_at_commit(session, daily, columns, [("a", date(2025, 1, 1), at, 2)], UPSERT)
                insert_at_commit(session, daily, columns, [("b", date(2025, 1, 1), at, 1)], UPSERT, once="b")
                insert_at_commit(session, daily, columns, [("b", date(2025, 1, 1), at, 4)], UPSERT, once="b")
                first = [("d", date(2025, 1, 1), at, 1)]
                insert_at_commit(session, daily, columns, first, gather="d")
                insert_at_commit(session, daily, columns, [("d", date(2025, 1, 2), at, 2)], gather="d")
                assert first == [("d", date(2025, 1, 1), at, 1)], "the caller's list is not the one gathered into"
                assert await stored() == [], "nothing before the commit"
                await session.commit()
            assert await stored() == [
                ("a", date(2025, 1, 1), 7),
                ("b", date(2025, 1, 1), 4),
                ("d", date(2025, 1, 1), 1),
                ("d", date(2025, 1, 2), 2),
            ]
            await delete_series(factory, "d")

            async with factory() as session:
                insert_at_commit(session, daily, columns, [("c", date(2025, 1, 1), at, 1)])
                await session.rollback()
                await session.commit()  # a new transaction: what the rolled back one held is gone
            async with factory() as session:
                insert_at_commit(session, daily, columns, [("c", date(2025, 1, 1), at, 1)])
            assert await stored() == [("a", date(2025, 1, 1), 7), ("b", date(2025, 1, 1), 4)]

            async with factory() as session:  # a conflict surfaces at the commit, as SQLAlchemy raises it
                insert_at_commit(session, daily, columns, [("a", date(2025, 1, 1), at, 1)])
                with pytest.raises(IntegrityError):
                    await session.commit()
            assert await stored() == [("a", date(2025, 1, 1), 7), ("b", date(2025, 1, 1), 4)]
        finally:
            await engine.dispose()


class Probe(SQLModel, table=True):
    """A table the ORM writes to beside the rows written at the commit."""

    __tablename__ = "insert_new_probe"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=20)
    note: str | None = Field(default=None, sa_column=Column(String(20), nullable=True, server_default="none given"))
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


async def test_on_sqlite_a_commit_of_rows_alone_is_one_call_and_keeps_its_turn_and_atomicity(tmp_path, monkeypatch):
    """BEGIN, the rows and COMMIT go to aiosqlite's thread in one call when nothing ran before in
    the transaction and the ORM has nothing to flush; otherwise only what is left to do goes."""
    columns = ("series", "day", "at", "amount")
    at = datetime(2025, 1, 2, 9, 30, tzinfo=CST)
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'one-call.db'}")
    factory = make_session_factory(engine)

    async def committed(series: str, amount: int, *, read_first: bool = False, also_flush: bool = False) -> int:
        async with factory() as session:
            await session.connection()  # the pool's connection made before counting
            await session.rollback()
            calls.clear()
            if read_first:
                await session.execute(select(daily.c.series).limit(1))
            insert_at_commit(session, daily, columns, [(series, date(2025, 1, 1), at, amount)], UPSERT)
            if also_flush:
                session.add(Probe(name=series, at=at))
            await session.commit()
            assert not session.in_transaction()
        return len(calls)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
            await conn.run_sync(Probe.__table__.create)
        calls = record_driver_calls(monkeypatch)
        assert await committed("a", 1) == 1
        assert await committed("a", 2, read_first=True) == 3, "BEGIN, the read, then rows and COMMIT"
        assert await committed("b", 1, also_flush=True) == 3, "BEGIN and rows, the ORM's flush, COMMIT"
        async with factory() as session:  # a failing row: nothing of the transaction stays, the turn goes on
            insert_at_commit(session, daily, columns, [("c", date(2025, 1, 1), at, 1)])
            insert_at_commit(session, daily, columns, [("a", date(2025, 1, 1), at, 1)])
            with pytest.raises(IntegrityError):
                await session.commit()
        assert await asyncio.wait_for(committed("d", 1), timeout=10) == 1
        async with factory() as session:
            rows = (await session.execute(select(daily).order_by(daily.c.series))).all()
            probes = (await session.execute(select(Probe.__table__.c.name))).scalars().all()
        assert [(r.series, r.amount) for r in rows] == [("a", 3), ("b", 1), ("d", 1)]
        assert probes == ["b"]
    finally:
        await engine.dispose()
