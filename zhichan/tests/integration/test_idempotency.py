"""The Idempotency-Key store over a real database: keys belong to an issuer's subject, a replay
goes only to a caller who could still make the request, and keys are forgotten after their
time."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import lru_cache

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import func, select, update
from sqlmodel import SQLModel

from zhichan import settings
from zhichan.api import idempotency
from zhichan.api.idempotency import IdempotencyMiddleware, IdempotencyRecord, principal_of, purge_expired
from zhichan.api.problems import install_problem_handlers
from zhichan.auth import TokenVerifier, User, Writer, require_write_access
from zhichan.clock import utcnow
from zhichan.db import make_engine, make_session_factory
from zhichan.testing import auth, database_url, platform_for_tests

YANGZHOU, HANJIANG, XUZHOU = "321000", "321003", "320300"
KEY = {"Idempotency-Key": "file-it-once"}


class Filing(BaseModel):
    region: str
    name: str


@pytest.fixture
async def factory(tmp_path):
    async with database_url(tmp_path, "idempotency") as url:
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=[IdempotencyRecord.__table__]))
        try:
            yield make_session_factory(engine)
        finally:
            await engine.dispose()


def service(factory, tmp_path, **platform) -> FastAPI:
    """An app as a service is one: the idempotency middleware, and a write that needs the officer
    role and the filing's region."""
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(IdempotencyMiddleware)
    app.state.platform = platform_for_tests(tmp_path).model_copy(update=platform)
    app.state.token_verifier = TokenVerifier(app.state.platform)
    app.state.session_factory = factory
    app.state.filed = []

    @app.post("/filings", status_code=201)
    async def file(body: Filing, user: Writer, request: Request) -> dict:
        require_write_access(user, body.region)
        request.app.state.filed.append(body.name)
        return {"number": len(request.app.state.filed), "by": user.sub}

    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


FILING = {"region": HANJIANG, "name": "扬州某专利代理事务所"}


async def count(factory) -> int:
    async with factory() as session:
        return await session.scalar(select(func.count()).select_from(IdempotencyRecord))


async def test_the_same_key_and_body_is_answered_once(factory, tmp_path):
    app = service(factory, tmp_path)
    async with client(app) as http:
        officer = {**KEY, **auth("officer", [YANGZHOU])}
        first = await http.post("/filings", json=FILING, headers=officer)
        again = await http.post("/filings", json=FILING, headers=officer)
        other_body = await http.post("/filings", json={**FILING, "name": "另一家"}, headers=officer)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() == {"number": 1, "by": "test-officer"}
    assert again.headers["idempotent-replayed"] == "true"
    assert other_body.status_code == 422
    assert app.state.filed == [FILING["name"]]


async def test_the_same_key_by_another_issuer_s_user_with_the_same_sub_is_not_a_replay(factory, tmp_path):
    ours = service(factory, tmp_path)
    async with client(ours) as http:
        assert (
            await http.post("/filings", json=FILING, headers={**KEY, **auth("officer", [YANGZHOU])})
        ).status_code == 201

    # The same database, now verifying another issuer's tokens (the platform moved to an
    # identity provider): its user "test-officer" is someone else.
    theirs = service(factory, tmp_path, jwt_issuer="https://sso.example/realms/zhichan")
    headers = {**KEY, **auth("officer", [YANGZHOU], issuer="https://sso.example/realms/zhichan")}
    async with client(theirs) as http:
        answer = await http.post("/filings", json=FILING, headers=headers)
    assert answer.status_code == 201 and "idempotent-replayed" not in answer.headers
    assert theirs.state.filed == [FILING["name"]], "filed for the other issuer's user, not replayed to them"
    assert await count(factory) == 2


def test_a_key_s_owner_is_the_issuer_and_the_subject_together():
    alice = User(sub="alice", iss="zhichan-dev")
    assert principal_of(alice) == principal_of(User(sub="alice", iss="zhichan-dev", roles=["auditor"]))
    assert principal_of(alice) != principal_of(User(sub="alice", iss="https://sso.example/realms/zhichan"))
    assert principal_of(User(sub="b", iss="a")) != principal_of(User(sub="", iss="ab"))
    assert principal_of(None) == "anonymous"
    assert len(principal_of(User(sub="x" * 500, iss="y" * 500))) <= 100


async def test_a_replay_after_the_caller_lost_the_role_or_the_region_is_refused(factory, tmp_path):
    app = service(factory, tmp_path)
    async with client(app) as http:
        first = await http.post("/filings", json=FILING, headers={**KEY, **auth("officer", [YANGZHOU])})
        assert first.status_code == 201

        demoted = {**KEY, **auth("auditor", [YANGZHOU], sub="test-officer")}
        refused = await http.post("/filings", json=FILING, headers=demoted)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert "idempotent-replayed" not in refused.headers
        assert refused.json()["detail"].endswith("this needs one of the roles: officer")

        moved = {**KEY, **auth("officer", [XUZHOU], sub="test-officer")}
        refused = await http.post("/filings", json=FILING, headers=moved)
        assert refused.status_code == 403
        assert refused.json()["detail"].endswith(f"region {HANJIANG} is outside your regions")

        anonymous = await http.post("/filings", json=FILING, headers=KEY)
        assert anonymous.status_code == 401, "no token: not the key's owner, and the route wants one"

        # still an officer of a region holding the filing's: the first answer again
        narrower = {**KEY, **auth("officer", [HANJIANG], sub="test-officer")}
        replayed = await http.post("/filings", json=FILING, headers=narrower)
        assert replayed.status_code == 201 and replayed.headers["idempotent-replayed"] == "true"
        assert replayed.json() == first.json()
    assert app.state.filed == [FILING["name"]]


async def test_an_admin_is_replayed_what_it_filed(factory, tmp_path):
    app = service(factory, tmp_path)
    async with client(app) as http:
        admin = {**KEY, **auth("admin")}
        assert (await http.post("/filings", json=FILING, headers=admin)).status_code == 201
        again = await http.post("/filings", json=FILING, headers=admin)
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"


async def age(factory, hours: float) -> None:
    async with factory() as session:
        await session.execute(update(IdempotencyRecord).values(created_at=utcnow() - timedelta(hours=hours)))
        await session.commit()


async def test_a_key_older_than_the_ttl_is_purged_and_may_be_used_anew(factory, tmp_path):
    app = service(factory, tmp_path)
    officer = {**KEY, **auth("officer", [YANGZHOU])}
    async with client(app) as http:
        assert (await http.post("/filings", json=FILING, headers=officer)).status_code == 201
        await age(factory, 23)
        assert await purge_expired(factory, timedelta(hours=24)) == 0
        assert (await http.post("/filings", json=FILING, headers=officer)).headers["idempotent-replayed"] == "true"

        await age(factory, 25)
        assert await purge_expired(factory, timedelta(hours=24)) == 1
        assert await count(factory) == 0
        anew = await http.post("/filings", json=FILING, headers=officer)
    assert anew.status_code == 201 and "idempotent-replayed" not in anew.headers
    assert anew.json()["number"] == 2 and app.state.filed == [FILING["name"]] * 2


async def test_the_ttl_is_a_setting_and_a_key_past_it_is_not_replayed_even_before_a_purge(factory, tmp_path):
    app = service(factory, tmp_path, idempotency_ttl_hours=1)
    officer = {**KEY, **auth("officer", [YANGZHOU])}
    async with client(app) as http:
        assert (await http.post("/filings", json=FILING, headers=officer)).status_code == 201
        await age(factory, 0.5)
        assert (await http.post("/filings", json=FILING, headers=officer)).headers["idempotent-replayed"] == "true"
        await age(factory, 1.5)
        anew = await http.post("/filings", json=FILING, headers=officer)
    assert anew.status_code == 201 and "idempotent-replayed" not in anew.headers
    assert len(app.state.filed) == 2


async def test_a_process_purges_keys_past_their_time_after_a_write(factory, tmp_path):
    officer = auth("officer", [YANGZHOU])
    async with client(service(factory, tmp_path)) as http:
        for n in range(3):
            headers = {**officer, "Idempotency-Key": f"old-{n}"}
            assert (await http.post("/filings", json=FILING, headers=headers)).status_code == 201
    await age(factory, 30)

    restarted = service(factory, tmp_path)  # a process purges after its first write, then hourly
    async with client(restarted) as http:
        headers = {**officer, "Idempotency-Key": "new"}
        assert (await http.post("/filings", json=FILING, headers=headers)).status_code == 201
    async with factory() as session:
        assert list(await session.scalars(select(IdempotencyRecord.key))) == ["new"]


async def test_ops_purge_a_service_s_keys_by_hand(tmp_path, monkeypatch, capsys):
    async with database_url(tmp_path, "financing") as url:
        engine = make_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=[IdempotencyRecord.__table__]))
        factory = make_session_factory(engine)
        officer = auth("officer", [YANGZHOU])
        async with client(service(factory, tmp_path)) as http:
            for key in ("old", "new"):
                headers = {**officer, "Idempotency-Key": key}
                assert (await http.post("/filings", json=FILING, headers=headers)).status_code == 201
        async with factory() as session:
            old = update(IdempotencyRecord).where(IdempotencyRecord.key == "old")
            await session.execute(old.values(created_at=utcnow() - timedelta(hours=3)))
            await session.commit()

        monkeypatch.setenv("FINANCING_DATABASE_URL", url)
        monkeypatch.setenv("ZHICHAN_IDEMPOTENCY_TTL_HOURS", "2")
        monkeypatch.setattr(settings, "platform_settings", lru_cache(settings.PlatformSettings))
        await asyncio.to_thread(idempotency.main, ["financing"])
        assert capsys.readouterr().out == "financing: 1 idempotency keys purged\n"
        async with factory() as session:
            assert list(await session.scalars(select(IdempotencyRecord.key))) == ["new"]
        await engine.dispose()
