"""SQLite transactions of one process wait in line on an asyncio lock, not in SQLite's busy loop."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from zhichan import db
from zhichan.testing import record_driver_calls


@pytest.fixture
async def engine(tmp_path):
    engine = db.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    yield engine
    await engine.dispose()


async def insert(engine, n: int) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})


async def test_waiting_transactions_start_when_the_one_before_ends_even_by_rollback(engine, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 600)  # a turn never handed on would stall the test
    holder = await engine.connect()
    await holder.begin()
    await holder.execute(text("INSERT INTO t (n) VALUES (1)"))
    waiting = [asyncio.create_task(insert(engine, n)) for n in (2, 3)]
    await asyncio.sleep(0.1)
    assert not any(task.done() for task in waiting), "they wait for the open transaction"
    await holder.rollback()
    await holder.close()
    await asyncio.wait_for(asyncio.gather(*waiting), timeout=10)
    with pytest.raises(IntegrityError):  # a failing statement: its transaction rolls back …
        await insert(engine, 2)
    await asyncio.wait_for(insert(engine, 4), timeout=10)  # … and hands on its turn
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all() == [2, 3, 4]


async def test_a_turn_that_never_comes_falls_back_to_sqlites_busy_timeout(tmp_path, monkeypatch):
    """A transaction the queue lost track of cannot stall the process: after the busy timeout
    the next one goes ahead, and SQLite itself says whether the database is still locked."""
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    engine = db.make_engine(f"sqlite+aiosqlite:///{tmp_path / 'queue.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        holder = await engine.connect()
        await holder.begin()
        with pytest.raises(OperationalError, match="locked"):
            await asyncio.wait_for(insert(engine, 1), timeout=10)
        await holder.rollback()
        await holder.close()
        await asyncio.wait_for(insert(engine, 1), timeout=10)
    finally:
        await engine.dispose()


async def test_a_reader_does_not_wait_for_the_writers_in_line(engine, monkeypatch):
    """The relay's look for unsent rows: it sees what is committed, while a write is open and
    others wait behind it."""
    from sqlalchemy.ext.asyncio import AsyncSession

    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 600)
    await insert(engine, 1)
    holder = await engine.connect()
    await holder.begin()
    await holder.execute(text("INSERT INTO t (n) VALUES (2)"))
    waiting = asyncio.create_task(insert(engine, 3))

    async def read() -> list[int]:
        async with AsyncSession(engine) as session:
            await db.reads_only(session)
            return (await session.execute(text("SELECT n FROM t ORDER BY n"))).scalars().all()

    assert await asyncio.wait_for(read(), timeout=10) == [1]  # not the open transaction's row
    assert not waiting.done()
    await holder.commit()
    await holder.close()
    await asyncio.wait_for(waiting, timeout=10)
    assert await asyncio.wait_for(read(), timeout=10) == [1, 2, 3]


async def test_a_connection_back_in_the_pool_inside_a_transaction_is_rolled_back(engine, monkeypatch):
    """The pool skips its rollback for connections that ended their transaction (a call into the
    driver's thread saved per transaction), never for one still inside a transaction."""
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.5)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        await driver.execute("BEGIN IMMEDIATE")  # behind SQLAlchemy's back: only the reset can end it
        await driver.execute("INSERT INTO t (n) VALUES (1)")
        assert driver.in_transaction
    assert not driver.in_transaction
    await asyncio.wait_for(insert(engine, 2), timeout=10)  # the write lock was released
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT n FROM t"))).scalars().all() == [2]


async def test_begin_failing_raises_what_sqlalchemy_raises(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 0.2)
    path = tmp_path / "other.db"
    mine, other = (db.make_engine(f"sqlite+aiosqlite:///{path}") for _ in range(2))
    try:
        async with other.connect() as holder:
            await holder.begin()  # another process's writer, as far as `mine` can tell
            with pytest.raises(OperationalError, match="locked"):
                async with mine.begin():
                    pass
    finally:
        await mine.dispose()
        await other.dispose()


async def test_a_statement_is_one_call_into_the_drivers_thread(engine, monkeypatch):
    """Cursor, execute, fetch and close go to aiosqlite's thread together; rows, rowcount,
    lastrowid and errors come back as SQLAlchemy's own adapter gives them."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection's own first-use calls
        calls = record_driver_calls(monkeypatch)
        inserted = await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": 7})
        assert (len(calls), inserted.rowcount, inserted.lastrowid) == (1, 1, 7)
        many = await conn.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": 8}, {"n": 9}])
        assert (len(calls), many.rowcount) == (2, 2)
        rows = await conn.execute(text("SELECT n, n * 2 AS twice FROM t ORDER BY n"))
        assert len(calls) == 3
        assert list(rows.keys()) == ["n", "twice"]
        assert rows.all() == [(7, 14), (8, 16), (9, 18)]
        assert (await conn.execute(text("SELECT n FROM t WHERE n > 100"))).all() == []
        with pytest.raises(IntegrityError):
            await conn.execute(text("INSERT INTO t (n) VALUES (7)"))
        assert len(calls) == 5
        await conn.rollback()


async def test_single_reads_run_without_begin_or_rollback_and_wait_for_no_writer(engine, monkeypatch):
    monkeypatch.setattr(db, "SQLITE_BUSY_SECONDS", 600)
    await insert(engine, 1)
    holder = await engine.connect()
    await holder.begin()
    await holder.execute(text("INSERT INTO t (n) VALUES (2)"))  # a writer holding its turn and the lock
    async with engine.connect() as conn:
        await conn.execution_options(**{db.SINGLE_READS: True})
        calls = record_driver_calls(monkeypatch)  # past the connection's setup
        rows = await asyncio.wait_for(conn.execute(text("SELECT n FROM t")), timeout=10)
        assert rows.scalars().all() == [1], "what is committed"
    assert len(calls) == 1, f"the statement alone, no BEGIN or ROLLBACK: {calls}"
    await holder.rollback()
    await holder.close()
