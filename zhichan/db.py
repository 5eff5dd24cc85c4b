"""Database engines and sessions: SQLite (WAL) by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

import aiosqlite
from pydantic import BaseModel
from sqlalchemy import DateTime, Index, Table, TypeDecorator, event
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, MissingGreenlet
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.util import await_
from sqlmodel import Field, SQLModel

from zhichan.api.problems import Conflict
from zhichan.clock import utcnow
from zhichan.ids import new_id

log = logging.getLogger("zhichan.db")

SQLITE_BUSY_SECONDS = 30
# Execution option of a transaction that only reads (see :func:`reads_only`).
READS_ONLY = "zhichan_reads_only"
# Execution option of a connection whose statements are single reads: on SQLite no BEGIN and no
# ROLLBACK around them (each statement sees one snapshot by itself), two calls into the driver's
# thread fewer. For the relay's look for unsent rows, made for every event that comes alone.
SINGLE_READS = "zhichan_single_reads"

SessionFactory = async_sessionmaker[AsyncSession]
StateModel = TypeVar("StateModel", bound=BaseModel)


def make_engine(url: str, **kwargs) -> AsyncEngine:
    """An engine whose errors never carry the values bound to the statement (``hide_parameters``):
    an error's message goes into logs, and the values are the records' data (a USCC, an ID card
    number). The statement itself is kept: it says what failed."""
    kwargs["hide_parameters"] = True
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Reset on return only when the connection is left in a transaction (see _sqlite_reset).
        engine = create_async_engine(
            url,
            module=_ONE_CALL_AIOSQLITE,
            connect_args={"timeout": SQLITE_BUSY_SECONDS},
            pool_reset_on_return=None,
            **kwargs,
        )
        queue = TransactionQueue()

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers never wait for the writer
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin_immediate(conn):
            options = conn.get_execution_options()
            if options.get(SINGLE_READS):
                return  # autocommit: SQLAlchemy's transaction is bookkeeping only
            if options.get(READS_ONLY):
                # WAL: a reader neither waits for the writer nor blocks it, so it needs no turn.
                _sqlite_execute(conn, "BEGIN DEFERRED")
                return
            queue.enter(conn)
            if options.get(_BEGIN_WITH_INSERTS):
                return  # sent in the same call as the inserts that follow
            try:
                # Take the write lock at BEGIN so two writers never deadlock upgrading a read lock.
                _sqlite_execute(conn, "BEGIN IMMEDIATE")
            except BaseException:
                queue.leave(conn)
                raise

        @event.listens_for(engine.sync_engine, "reset")
        def _sqlite_reset(dbapi_conn, _record, reset_state):
            # A connection back in the pool is rolled back only if a transaction is still open:
            # asking the driver is free, while a rollback is a call into its thread (see below).
            if not reset_state.terminate_only and dbapi_conn.driver_connection.in_transaction:
                dbapi_conn.rollback()

        # Fired just before COMMIT or ROLLBACK reaches SQLite: the next in line may meet the write
        # lock for the instant that takes, which SQLite's busy handler covers.
        @event.listens_for(engine.sync_engine, "commit")
        @event.listens_for(engine.sync_engine, "rollback")
        def _sqlite_end(conn):
            queue.leave(conn)

        # pysqlite's own transaction handling must be off for the BEGIN above to be ours.
        @event.listens_for(engine.sync_engine, "connect", insert=True)
        def _no_pysqlite_begin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_execute(conn: Connection, statement: str) -> None:
    """A statement without parameters or rows in one call into aiosqlite's thread, where
    ``exec_driver_sql`` makes three (make a cursor, execute, close it). Each call wakes that thread
    and then the event loop, which costs more CPU than the statement on a small VM (BENCHMARKS.md),
    and BEGIN runs in every transaction."""
    try:
        await_(conn.connection.dbapi_connection.driver_connection.execute(statement))
    except sqlite3.Error as error:  # as SQLAlchemy would have raised it
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


class _OneCallCursor(AsyncAdapt_aiosqlite_cursor):
    """A statement in one call into aiosqlite's thread: cursor, execute, fetch and close there
    together. SQLAlchemy's adapter makes each of those a call of its own (three for an INSERT,
    four for a SELECT), and each call wakes the thread and then the event loop, which costs more
    CPU than SQLite's work on a small VM (BENCHMARKS.md). Results are fetched whole, as the
    adapter's cursor does; streaming (server-side) cursors are left as they are.

    It subclasses SQLAlchemy's aiosqlite adapter, which is not a public API: after an upgrade of
    SQLAlchemy, test_sqlite_transaction_queue.py and the one-call tests say whether it still fits."""

    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")
    _awaitable_cursor_close = False  # there is no driver cursor left open to close

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description = None
        self._rowcount = -1
        self._lastrowid = None
        self._arraysize = 1

    @property
    def description(self):
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self):
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _execute_async(self, operation, parameters) -> None:
        async with self._adapt_connection._execute_mutex:
            await self._connection._execute(self._run, "execute", operation, () if parameters is None else parameters)

    async def _executemany_async(self, operation, seq_of_parameters) -> None:
        async with self._adapt_connection._execute_mutex:
            await self._connection._execute(self._run, "executemany", operation, seq_of_parameters)

    def _run(self, method: str, operation, parameters) -> None:
        """In aiosqlite's thread."""
        cursor = self._connection._conn.cursor()
        try:
            getattr(cursor, method)(operation, parameters)
            self._description = cursor.description
            self._rows = collections.deque(cursor.fetchall()) if cursor.description else collections.deque()
            self._rowcount = cursor.rowcount
            self._lastrowid = cursor.lastrowid
        finally:
            cursor.close()


class _OneCallConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneCallCursor

    def rollback(self) -> None:
        # Nothing to end (a connection of SINGLE_READS, or one whose BEGIN failed): no call.
        if self._connection._connection is not None and self._connection.in_transaction:
            super().rollback()

    def commit(self) -> None:
        # Nothing to end (SINGLE_READS, or a COMMIT sent with the inserts at commit): no call.
        if self._connection._connection is not None and self._connection.in_transaction:
            super().commit()


class _OneCallDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite module with :class:`_OneCallCursor` (``module=`` of the engine)."""

    def connect(self, *arg, **kw) -> _OneCallConnection:
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's adapter: an open one must not stop exit
        return _OneCallConnection(self, await_(connection))


_ONE_CALL_AIOSQLITE = _OneCallDbapi(aiosqlite, sqlite3)


class TransactionQueue:
    """This process's SQLite transactions, one at a time in arrival order.

    BEGIN IMMEDIATE takes the database's write lock; a connection that finds it taken does not
    wait in line but polls, sleeping 1, 2, 5 … up to 100 ms between tries, in its driver thread.
    With a service's requests and its relay in one process, those sleeps became the write path's
    p99 and the relay's lag. Here transactions queue on an asyncio lock instead, so
    each starts as soon as the previous one ends. Other processes on the same file still meet
    the busy timeout; a transaction that waits here longer than that goes ahead and lets SQLite
    decide, so a holder this queue lost track of cannot stall the process."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._held: dict[Connection, asyncio.Lock] = {}

    def enter(self, conn: Connection) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # synchronous use (no event loop): SQLite's busy timeout alone
        lock = self._locks.setdefault(loop, asyncio.Lock())
        try:
            # Free: take it without a timer (a task per transaction); else wait in line.
            await_(lock.acquire() if not lock.locked() else asyncio.wait_for(lock.acquire(), SQLITE_BUSY_SECONDS))
        except MissingGreenlet:
            return  # a synchronous connection inside a running loop: nothing to wait on here
        except TimeoutError:
            log.warning("an SQLite transaction waited %ss in this process's queue; going ahead", SQLITE_BUSY_SECONDS)
            return
        self._held[conn] = lock

    def leave(self, conn: Connection) -> None:
        lock = self._held.pop(conn, None)
        if lock is not None:
            lock.release()


async def reads_only(session: AsyncSession) -> None:
    """Declares the session's transaction a reader; call it before the first statement. On
    SQLite it then begins DEFERRED and skips this process's :class:`TransactionQueue`, so it does
    not wait behind the writes queued there (the relay's look for unsent rows waited behind every
    request in line). It must not write: a write would need the lock it did not take."""
    await session.connection(execution_options={READS_ONLY: True})


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


class Stamped(SQLModel):
    """The version and timestamps of an aggregate's table. The version is what the ETag and the
    event's ``aggregateversion`` carry; every change counts one (:meth:`touch`).

    (``sa_type``, not ``sa_column``: a Column belongs to one table, a mixin's fields to many.)"""

    version: int = 1
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)

    @classmethod
    def new(cls, **fields: Any) -> Self:
        """A new row: version 1, created and updated now (the same instant)."""
        now = utcnow()
        return cls(version=1, created_at=now, updated_at=now, **fields)

    def touch(self) -> None:
        """One change more: the next version, updated now."""
        self.version += 1
        self.updated_at = utcnow()


class Aggregate(Stamped):
    """The table of an aggregate: its id (a ULID, :func:`zhichan.ids.new_id`), the region it
    belongs to (every query is scoped by it), its version and timestamps."""

    id: str = Field(primary_key=True, max_length=26)
    region: str = Field(max_length=32)

    @classmethod
    def new(cls, **fields: Any) -> Self:
        """A new aggregate: a new id unless given, version 1, created and updated now."""
        return super().new(**{"id": new_id(), **fields})


def region_indexes(table: str, *dated_by: str) -> tuple[Index, ...]:
    """The indexes of an :class:`Aggregate`'s table that queries scoped by region read: (region,
    id) for its lists' pages, and (region, column) for each business date it is counted by."""
    return tuple(Index(f"ix_{table}_region_{column}", "region", column) for column in ("id", *dated_by))


def state_of(state: type[StateModel], row: object, **fields: Any) -> StateModel:
    """The contract state of a table row: each field of ``state`` not given in ``fields`` is the
    row's attribute of the same name (a state names its fields as its table does; what it
    shapes otherwise — a party, the assets — is given)."""
    taken = {name: getattr(row, name) for name in state.model_fields if name not in fields}
    return state(**taken, **fields)


async def commit_or_conflict(session: AsyncSession, detail: str, **extra: Any) -> None:
    """Commits; if a unique constraint refuses the rows (a natural key taken: a registration
    number, a case number), rolls back and answers 409 with ``detail``.

    The constraint decides, not a lookup beforehand: a lookup races a concurrent write of the same
    key and is one statement more on every create. ``detail`` must not say more than the caller
    may know (the row that holds the key may lie in a region the caller does not see)."""
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(detail, **extra) from None


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
    connection = await session.connection()
    await connection.exec_driver_sql(*_driver_insert(connection.dialect, table, columns, rows, on_conflict))


def insert_at_commit(
    session: AsyncSession,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence],
    on_conflict: str = "",
    *,
    once: str | None = None,
    gather: str | None = None,
) -> None:
    """:func:`insert_many`, run just before the session's transaction commits, together with the
    others given so: on SQLite in one call into the driver's thread. For writes nothing reads
    back in the same transaction (new rows, sums, logs, positions): the outbox, the inbox, the
    gateway's read model. Each statement sent on its own costs SQLAlchemy's handling and a wake-up of the driver's
    thread, more than SQLite's work (BENCHMARKS.md). A rollback drops them. The rows go before
    the ORM's flush of the same commit.

    ``once``: a write made once per transaction however often it is asked for (the last rows).
    ``gather``: rows asked for under the same key go in one executemany (the same table and
    columns each time)."""
    if rows:
        if not session.in_transaction():
            session.sync_session.begin()  # they belong to this transaction (no statement runs yet)
        pending = session.info.setdefault(_AT_COMMIT, {})
        if gather is not None and gather in pending:
            pending[gather][2].extend(rows)
            return
        key = once if once is not None else gather if gather is not None else object()
        pending[key] = (table, tuple(columns), list(rows) if gather is not None else rows, on_conflict)


_AT_COMMIT = "zhichan_insert_at_commit"


async def insert_pending(session: AsyncSession) -> None:
    """Runs the inserts :func:`insert_at_commit` holds for the commit now, in the transaction,
    which stays open. For a transaction that writes more than memory should hold until its commit
    (an import of a large file, flushed by chunks)."""
    await session.run_sync(_insert_at_commit, commit=False)


@event.listens_for(Session, "before_commit")
def _insert_at_commit(session: Session, commit: bool = True) -> None:
    # Runs inside the async session's greenlet, as its flush does: await_ reaches the driver.
    inserts = session.info.pop(_AT_COMMIT, None)
    if not inserts:
        return
    connected = session.info.get(_CONNECTED, False)
    if connected or session.get_bind().dialect.name != "sqlite":
        connection = session.connection()
    else:  # nothing ran in this transaction yet: its BEGIN goes with the inserts (see run_all)
        connection = session.connection(execution_options={_BEGIN_WITH_INSERTS: True})
    statements = [_driver_insert(connection.dialect, *insert) for insert in inserts.values()]
    if connection.dialect.name != "sqlite":
        for sql, rows in statements:
            connection.exec_driver_sql(sql, rows)
        return
    # With nothing left for the ORM to flush, the COMMIT goes with them too; SQLAlchemy's commit
    # that follows then finds SQLite holding no transaction and makes no call of its own
    # (_OneCallConnection.commit): each call wakes the driver's thread and then the event loop.
    commit_here = commit and not (session.new or session.dirty or session.deleted)

    def run_all(conn: sqlite3.Connection) -> None:  # in aiosqlite's thread
        if not connected:
            conn.execute("BEGIN IMMEDIATE")
        for sql, rows in statements:
            conn.executemany(sql, rows)
        if commit_here:
            conn.execute("COMMIT")

    driver = connection.connection.dbapi_connection.driver_connection
    try:
        await_(driver._execute(run_all, driver._conn))
    except sqlite3.Error as error:  # as SQLAlchemy would have raised it
        raise DBAPIError.instance(statements[0][0], None, error, sqlite3.Error) from error


# Session.info key: a connection was begun in the session's transaction.
_CONNECTED = "zhichan_connected"
# Execution option: this process's turn is taken at BEGIN as usual, but the BEGIN statement is
# left to the caller, who sends it with what follows (_insert_at_commit).
_BEGIN_WITH_INSERTS = "zhichan_begin_with_inserts"


@event.listens_for(Session, "after_begin")
def _note_connected(session: Session, transaction, connection) -> None:
    session.info[_CONNECTED] = True


@event.listens_for(Session, "after_transaction_end")
def _drop_inserts_at_commit(session: Session, transaction) -> None:
    if transaction.parent is None:  # rolled back or closed: they go with it
        session.info.pop(_AT_COMMIT, None)
        session.info.pop(_CONNECTED, None)


def _driver_insert(
    dialect, table: Table, columns: Sequence[str], rows: Sequence[Sequence], on_conflict: str
) -> tuple[str, Sequence[Sequence]]:
    """The SQL and the rows, converted by the columns' types, of :func:`insert_many`."""
    sql, converters = _insert_plan(dialect, table, tuple(columns), on_conflict)
    if converters:
        if len(rows) >= _REMEMBER_FROM:
            converters = [(i, _remembering(convert)) for i, convert in converters]
        converted = []
        for row in rows:
            row = list(row)
            for i, convert in converters:
                row[i] = convert(row[i])
            converted.append(tuple(row))
        rows = converted
    return sql, rows


_REMEMBER_FROM = 100  # rows: a bulk insert repeats the same few thousand days; a single row does not


@functools.lru_cache(maxsize=256)
def _insert_plan(dialect, table: Table, columns: tuple[str, ...], on_conflict: str) -> tuple[str, tuple]:
    """The INSERT and the columns' converters, made once per table and columns: every create
    writes the same few tables with the same columns."""
    converters = tuple(
        (i, convert)
        for i, name in enumerate(columns)
        if (convert := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None
    )
    marks = ", ".join("?" if dialect.paramstyle == "qmark" else f"${n}" for n in range(1, len(columns) + 1))
    names = ", ".join(f'"{name}"' for name in columns)  # quoted: a column may be called "offset"
    return f"INSERT INTO {table.name} ({names}) VALUES ({marks}) {on_conflict}", converters


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
