"""The kernel's plumbing over a real database and a real app: keyset pages, 409 on a natural key,
a record of another region, and the routes' auth and region parameter."""

from datetime import date
from decimal import Decimal
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, Query
from sqlalchemy import Column, Numeric, UniqueConstraint, select
from sqlmodel import Field, SQLModel

from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.pagination import PageParams, decode_cursor, keyset_page
from zhichan.api.problems import Conflict, Invalid, NotFound, install_problem_handlers
from zhichan.api.scope import RegionQuery, get_visible
from zhichan.auth import Reader, TokenVerifier, User, Writer
from zhichan.db import Aggregate, commit_or_conflict, make_engine, make_session_factory
from zhichan.settings import PlatformSettings
from zhichan.testing import auth, database_url


class Filing(Aggregate, table=True):
    __tablename__ = "plumbing_filing"
    __table_args__ = (UniqueConstraint("number", name="uq_plumbing_filing_number"),)

    number: str = Field(max_length=20)
    filed_on: date
    score: Decimal = Field(sa_column=Column(Numeric(5, 2), nullable=False))


TABLES = [Filing.__table__]
XUZHOU, QUANSHAN, GULOU, FUZHOU_GULOU = "320300", "320311", "320302", "350102"


@pytest.fixture
async def factory(tmp_path):
    async with database_url(tmp_path, "kernel") as url:
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=TABLES))
        try:
            yield make_session_factory(engine)
        finally:
            await engine.dispose()


def filing(n: int, **fields) -> Filing:
    values = {
        "region": QUANSHAN,
        "number": f"N{n:03d}",
        "filed_on": date(2025, 1, 1 + n % 3),
        "score": Decimal(n % 4) + Decimal("0.5"),
        **fields,
    }
    return Filing.new(id=f"F{n:03d}", **values)


async def pages(factory, *order, limit: int = 4) -> list[list[str]]:
    seen, after = [], None
    while True:
        async with factory() as session:
            rows, cursor = await keyset_page(session, select(Filing), PageParams(limit=limit, after=after), *order)
        seen.append([r.id for r in rows])
        if cursor is None:
            return seen
        after = decode_cursor(cursor)


async def test_keyset_pages_follow_the_order_given_without_a_row_twice_or_missed(factory):
    async with factory() as session:
        session.add_all([filing(n) for n in range(10)])
        await session.commit()
    by_id = await pages(factory, Filing.id)
    assert by_id == [["F000", "F001", "F002", "F003"], ["F004", "F005", "F006", "F007"], ["F008", "F009"]]
    by_day = [i for page in await pages(factory, Filing.filed_on, Filing.id, limit=3) for i in page]
    assert by_day == sorted(by_day, key=lambda i: ((int(i[1:]) % 3), i))
    best_first = [i for page in await pages(factory, Filing.score.desc(), Filing.id, limit=3) for i in page]
    assert best_first == sorted(best_first, key=lambda i: (-(int(i[1:]) % 4), i)) and len(best_first) == 10
    newest_first = [i for page in await pages(factory, Filing.filed_on.desc(), Filing.id.desc(), limit=4) for i in page]
    assert newest_first == sorted(newest_first, key=lambda i: (int(i[1:]) % 3, i), reverse=True)


@pytest.mark.parametrize("after", [{"filed_on": "yesterday", "id": "F001"}, {"id": "F001"}, {"filed_on": [], "id": ""}])
async def test_a_cursor_that_is_not_one_of_ours_answers_422(factory, after):
    async with factory() as session:
        with pytest.raises(Invalid) as refused:
            await keyset_page(session, select(Filing), PageParams(limit=2, after=after), Filing.filed_on, Filing.id)
    assert refused.value.errors[0]["loc"] == ["cursor"]


async def test_a_natural_key_taken_answers_409_and_the_session_goes_on(factory):
    async with factory() as session:
        session.add(filing(1))
        await commit_or_conflict(session, "number N001 is taken")
    async with factory() as session:
        session.add(filing(2, number="N001"))
        with pytest.raises(Conflict) as refused:
            await commit_or_conflict(session, "number N001 is taken", number="N001")
        assert refused.value.detail == "number N001 is taken" and refused.value.extra == {"number": "N001"}
        assert (await session.execute(select(Filing.id))).scalars().all() == ["F001"]


async def test_a_record_outside_the_callers_regions_does_not_exist_for_them(factory):
    async with factory() as session:
        session.add_all([filing(1), filing(2, region=FUZHOU_GULOU)])
        await session.commit()
    officer = User(sub="o", roles=["officer"], regions=[XUZHOU])
    async with factory() as session:
        assert (await get_visible(session, Filing, "F001", officer, "filing")).number == "N001"
        for missing in ("F002", "F404"):
            with pytest.raises(NotFound) as refused:
                await get_visible(session, Filing, missing, officer, "filing")
            assert refused.value.detail == f"no filing {missing}"


def app_with_routes(factory) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = TokenVerifier(PlatformSettings(dev_mode=True))
    app.state.session_factory = factory

    @app.get("/things")
    async def things(user: Reader, page: PageDep, region: RegionQuery = None) -> dict:
        return {"user": user.sub, "region": region, "limit": page.limit}

    @app.post("/things")
    async def make(user: Writer, session: SessionDep, where: Annotated[str, Query()]) -> dict:
        return {"user": user.sub}

    return app


async def test_readers_writers_and_the_region_parameter(factory):
    transport = httpx.ASGITransport(app=app_with_routes(factory))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        auditor, officer = auth("auditor", [XUZHOU]), auth("officer", [XUZHOU])
        read = await client.get("/things", params={"region": GULOU, "limit": 5}, headers=auditor)
        assert read.json() == {"user": "test-auditor", "region": GULOU, "limit": 5}
        assert (await client.get("/things")).status_code == 401
        assert (await client.get("/things", headers=auth("public"))).status_code == 403
        unknown = await client.get("/things", params={"region": "999999"}, headers=auditor)
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["region"]
        assert (await client.post("/things", params={"where": "x"}, headers=auditor)).status_code == 403
        assert (await client.post("/things", params={"where": "x"}, headers=officer)).json() == {"user": "test-officer"}
