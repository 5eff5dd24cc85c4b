"""Database engines and sessions: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Table, TypeDecorator, event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

SessionFactory = async_sessionmaker[AsyncSession]


def make_engine(url: str, **kwargs) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers never wait for the writer
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin_immediate(conn):
            # Take the write lock at BEGIN so two writers never deadlock upgrading a read lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        # pysqlite's own transaction handling must be off for the BEGIN above to be ours.
        @event.listens_for(engine.sync_engine, "connect", insert=True)
        def _no_pysqlite_begin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def make_session_factory(engine: AsyncEngine, on_commit: Callable[[], None] | None = None) -> SessionFactory:
    """Sessions that keep objects usable after commit; ``on_commit`` runs after every commit
    that wrote to the outbox (it wakes the relay)."""
    return async_sessionmaker(engine, expire_on_commit=False, info={"on_outbox_commit": on_commit})


@event.listens_for(Session, "after_commit")
def _wake_relay_after_outbox_commit(session: Session) -> None:
    if session.info.pop("outbox_written", False):
        callback = session.info.get("on_outbox_commit")
        if callback is not None:
            callback()


async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session


class UTCDateTime(TypeDecorator):
    """Timestamps are UTC and timezone-aware on every database (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


async def insert_many(
    session: AsyncSession, table: Table, columns: Sequence[str], rows: Sequence[Sequence], on_conflict: str = ""
) -> None:
    """``INSERT INTO table (columns) VALUES (…) [on_conflict]`` for every row, straight to the
    driver's executemany. For tens of thousands of rows at a time (a replay): SQLAlchemy's
    per-row parameter handling costs more than the database's own work there. Values go through
    the columns' types (dates and timestamps as each database stores them); ``on_conflict`` is
    an ``ON CONFLICT …`` clause, the same text on SQLite and PostgreSQL."""
    if not rows:
        return
    dialect = session.bind.dialect
    converters = [
        (i, _remembering(convert))
        for i, name in enumerate(columns)
        if (convert := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    ]
    if converters:
        converted = []
        for row in rows:
            row = list(row)
            for i, convert in converters:
                row[i] = convert(row[i])
            converted.append(tuple(row))
        rows = converted
    marks = ", ".join("?" if dialect.paramstyle == "qmark" else f"${n}" for n in range(1, len(columns) + 1))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks}) {on_conflict}"
    connection = await session.connection()
    await connection.exec_driver_sql(sql, rows)


def _remembering(convert: Callable) -> Callable:
    """``convert`` computed once per distinct value: bulk rows repeat the same few thousand days."""
    done: dict = {}

    def converted(value):
        try:
            return done[value]
        except KeyError:
            done[value] = result = convert(value)
            return result
        except TypeError:  # unhashable
            return convert(value)

    return converted
