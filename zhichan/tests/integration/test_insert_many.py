"""``zhichan.db.insert_many``: rows straight to the driver, values stored as the ORM stores them."""

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import BigInteger, Column, Date, MetaData, String, Table, select

from zhichan.db import UTCDateTime, insert_many, make_engine, make_session_factory
from zhichan.testing import database_url

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
