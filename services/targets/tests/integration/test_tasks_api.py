"""Tasks through the API: listing (a department sees its own), moving them on, who may."""

import pytest_asyncio

from services.targets.tests.integration.conftest import PLAN, imported, outbox
from services.targets.tests.unit.test_plan_document import plan_file
from zhichan.testing import auth

TASKS = f"/plans/{PLAN}/tasks"
AMR = auth("department", ["321100"], department="经开区市场监管局")
FINANCE = auth("department", ["321100"], department="经开区财政局")


@pytest_asyncio.fixture(loop_scope="session")
async def plan(client, officer):
    document = plan_file(
        tasks=[
            {"key": "matchmaking", "title": "质押对接活动", "responsible": ["经开区市场监管局", "经开区财政局"]},
            {"key": "filing", "title": "服务机构备案制度", "responsible": ["经开区市场监管局"], "due": "2025-12-31"},
            {"key": "alliance", "title": "产业知识产权联盟", "responsible": ["经开区科技局"]},
        ]
    )
    return await imported(client, officer, document)


async def keys(client, headers, **params) -> list[str]:
    resp = await client.get(TASKS, params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return [t["key"] for t in resp.json()["items"]]


async def test_officers_see_all_tasks_departments_their_own(client, plan, officer):
    assert await keys(client, officer) == ["matchmaking", "filing", "alliance"]
    assert await keys(client, AMR) == ["matchmaking", "filing"]
    assert await keys(client, FINANCE) == ["matchmaking"]
    assert await keys(client, officer, responsible="经开区科技局") == ["alliance"]
    assert await keys(client, officer, limit=2) == ["matchmaking", "filing"]
    first = (await client.get(TASKS, params={"limit": 2}, headers=officer)).json()
    assert await keys(client, officer, limit=2, cursor=first["next_cursor"]) == ["alliance"]
    assert (await client.get(f"{TASKS}/alliance", headers=FINANCE)).status_code == 404
    one = await client.get(f"{TASKS}/filing", headers=AMR)
    assert one.status_code == 200 and one.headers["etag"] == f'"{PLAN}/tasks/filing.1"'
    assert one.json()["due"] == "2025-12-31" and one.json()["plan"] == PLAN


async def test_a_task_moves_planned_in_progress_done(app_client, plan):
    app, client = app_client
    started = await client.patch(f"{TASKS}/filing", json={"status": "in_progress"}, headers=AMR)
    assert started.status_code == 200 and started.json()["status"] == "in_progress"
    done = await client.patch(
        f"{TASKS}/filing", json={"status": "done"}, headers={**AMR, "If-Match": started.headers["etag"]}
    )
    assert done.status_code == 200 and done.json()["version"] == 3
    assert [h["status"] for h in done.json()["status_history"]] == ["planned", "in_progress", "done"]
    event = (await outbox(app))[-1]
    assert event["type"] == "zhichan.targets.plan.task_changed.v1" and event["data"]["task"] == "filing"
    assert event["data"]["tasks"][1]["status"] == "done" and event["aggregateversion"] == 3
    assert await keys(client, AMR, status="done") == ["filing"]
    again = await client.patch(f"{TASKS}/filing", json={"status": "in_progress"}, headers=AMR)
    assert again.status_code == 409 and again.json()["current_status"] == "done"


async def test_a_delay_needs_its_reason(client, plan):
    silent = await client.patch(f"{TASKS}/matchmaking", json={"status": "delayed"}, headers=FINANCE)
    assert silent.status_code == 422 and silent.json()["errors"][0]["loc"] == ["reason"]
    delayed = await client.patch(
        f"{TASKS}/matchmaking", json={"status": "delayed", "reason": "银行未确定"}, headers=FINANCE
    )
    assert delayed.status_code == 200 and delayed.json()["status_history"][-1]["reason"] == "银行未确定"


async def test_refused_moves(client, plan, officer):
    skip = await client.patch(f"{TASKS}/filing", json={"status": "done"}, headers=AMR)
    assert skip.status_code == 409 and skip.json()["wanted_status"] == "done"
    assert (await client.patch(f"{TASKS}/filing", json={"status": "finished"}, headers=AMR)).status_code == 422
    assert (await client.patch(f"{TASKS}/filing", json={"owner": "me"}, headers=AMR)).status_code == 422
    stale = await client.patch(f"{TASKS}/filing", json={"notes": "x"}, headers={**AMR, "If-Match": '"old.0"'})
    assert stale.status_code == 412
    assert (await client.patch(f"{TASKS}/ghost", json={"notes": "x"}, headers=officer)).status_code == 404


async def test_who_may_move_a_task(client, plan, officer):
    other = await client.patch(f"{TASKS}/alliance", json={"status": "in_progress"}, headers=AMR)
    assert other.status_code == 403 and "经开区科技局" in other.json()["detail"]
    auditor = auth("auditor", ["321100"])
    assert (await client.patch(f"{TASKS}/alliance", json={"status": "in_progress"}, headers=auditor)).status_code == 403
    elsewhere = auth("officer", ["420500"])
    assert (await client.patch(f"{TASKS}/alliance", json={"notes": "x"}, headers=elsewhere)).status_code == 404
    ok = await client.patch(
        f"{TASKS}/alliance", json={"status": "in_progress", "notes": "已召开筹备会"}, headers=officer
    )
    assert ok.status_code == 200 and ok.json()["notes"] == "已召开筹备会"


async def test_notes_alone_are_a_change_and_nothing_is_none(app_client, plan, officer):
    app, client = app_client
    count = len(await outbox(app))
    same = await client.patch(f"{TASKS}/filing", json={}, headers=AMR)
    assert same.status_code == 200 and same.json()["version"] == 1 and len(await outbox(app)) == count
    noted = await client.patch(f"{TASKS}/filing", json={"notes": "已起草"}, headers=AMR)
    assert noted.json()["version"] == 2 and len(await outbox(app)) == count + 1


async def test_reimport_keeps_task_progress(client, plan, officer):
    await client.patch(f"{TASKS}/filing", json={"status": "in_progress"}, headers=AMR)
    document = plan_file(
        tasks=[{"key": "filing", "title": "探索并实施服务机构备案制度", "responsible": ["经开区市场监管局"]}]
    )
    resp = await imported(client, officer, document)
    assert [(t["key"], t["status"], t["title"]) for t in resp["tasks"]] == [
        ("filing", "in_progress", "探索并实施服务机构备案制度")
    ]


async def test_a_closed_plan_keeps_its_tasks_as_they_are(client, plan, officer):
    await client.post(f"/plans/{PLAN}/activate", headers=officer)
    await client.post(f"/plans/{PLAN}/close", headers=officer)
    assert (await client.patch(f"{TASKS}/filing", json={"status": "in_progress"}, headers=AMR)).status_code == 409
    assert await keys(client, None) == ["matchmaking", "filing", "alliance"]  # published: readable by all
