"""A value the database cannot hold is the caller's fault, not the server's: a NUL in text
(PostgreSQL refuses it), a number past a column's range (asyncpg refuses it before sending, SQLite
cannot bind it), a date moved past year 9999. Each answers 422 as a problem, and is logged as a
warning without the value; other database errors stay 500s."""

from __future__ import annotations

import logging
import os
from datetime import date, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import BigInteger, Column, select, text
from sqlmodel import Field, SQLModel

from zhichan.api.deps import SessionDep
from zhichan.api.problems import PROBLEM_JSON, install_problem_handlers
from zhichan.db import make_engine, make_session_factory
from zhichan.testing import POSTGRES_ENV, database_url


class Tally(SQLModel, table=True):
    __tablename__ = "out_of_range_tally"

    name: str = Field(primary_key=True, max_length=40)
    count: int = Field(sa_column=Column(BigInteger, nullable=False))


@pytest.fixture
async def client(tmp_path):
    async with database_url(tmp_path, "kernel") as url:
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=[Tally.__table__]))
        app = FastAPI()
        install_problem_handlers(app)
        app.state.session_factory = make_session_factory(engine)

        @app.post("/tallies/{name}")
        async def count(name: str, session: SessionDep, count: int = 0) -> dict:
            session.add(Tally(name=name, count=count))
            await session.commit()
            return {"name": name}

        @app.get("/tallies/{name}")
        async def read(name: str, session: SessionDep) -> dict:
            return {"found": (await session.execute(select(Tally).where(Tally.name == name))).first() is not None}

        @app.get("/deadline")
        async def deadline(days: int) -> dict:
            return {"deadline": date(9999, 12, 1) + timedelta(days=days)}

        @app.get("/broken")
        async def broken(session: SessionDep) -> dict:
            await session.execute(text("SELECT * FROM no_such_table"))
            return {}

        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                yield client
        finally:
            await engine.dispose()


def assert_out_of_range(answer: httpx.Response) -> None:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    problem = answer.json()
    assert problem["type"].endswith("/out-of-range")
    assert "value" in problem["detail"]


async def test_a_number_past_a_bigint_answers_422(client, caplog):
    with caplog.at_level(logging.WARNING, logger="zhichan.errors"):
        assert_out_of_range(await client.post("/tallies/big", params={"count": 2**70}))
    assert str(2**70) not in caplog.text  # the value is not logged: it is the caller's data
    assert (await client.post("/tallies/fine", params={"count": 2**62})).status_code == 200


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason="SQLite keeps a NUL in text")
async def test_a_nul_in_text_answers_422_on_postgresql(client):
    assert_out_of_range(await client.get("/tallies/a%00b"))
    assert_out_of_range(await client.post("/tallies/a%00b"))


async def test_a_date_moved_past_year_9999_answers_422(client):
    assert_out_of_range(await client.get("/deadline", params={"days": 400}))


async def test_other_database_errors_stay_server_errors(client):
    answer = await client.get("/broken")
    assert answer.status_code == 500
    assert answer.json()["type"].endswith("/internal")


async def test_a_database_busy_past_its_timeout_answers_503_with_retry_after():
    """SQLite's "database is locked" (a write that waited behind a large import's transaction) is
    a 503 to try again, not a server error."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/busy")
    async def write() -> dict:
        raise OperationalError("INSERT INTO cases …", {}, sqlite3.OperationalError("database is locked"))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        answer = await client.post("/busy")
    assert answer.status_code == 503 and answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["retry-after"] == "5" and answer.json()["type"].endswith("database-busy")
