"""A plan's tasks: read (a department sees its own) and moved through their states."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import domain
from services.targets.models import Plan, Task
from services.targets.schemas import TaskUpdate
from services.targets.service._common import (
    find_part,
    history_entry,
    plan_parts,
    publish_plan,
    require_open,
    visible_plan,
    writable_plan,
)
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, encode_cursor
from zhichan.api.problems import Conflict, Forbidden, Invalid, NotFound
from zhichan.auth import User
from zhichan.clock import utcnow


def _only_own_tasks(user: User | None) -> bool:
    """A department (without an officer's role) sees the tasks it is responsible for."""
    return user is not None and "department" in user.roles and not user.has_any_role(("officer", "auditor"))


async def list_tasks(
    session: AsyncSession,
    key: str,
    user: User | None,
    page: PageParams,
    *,
    status: str | None,
    responsible: str | None,
) -> tuple[Plan, list[Task], str | None]:
    plan = await visible_plan(session, key, user)
    _indicators, tasks = await plan_parts(session, plan)
    if _only_own_tasks(user):
        tasks = [t for t in tasks if user.department in t.responsible]
    if status:
        tasks = [t for t in tasks if t.status == status]
    if responsible:
        tasks = [t for t in tasks if responsible in t.responsible]
    if page.after:
        tasks = [t for t in tasks if t.position > int(page.after.get("position", -1))]
    next_cursor = encode_cursor({"position": tasks[page.limit - 1].position}) if len(tasks) > page.limit else None
    return plan, tasks[: page.limit], next_cursor


async def visible_task(session: AsyncSession, key: str, tkey: str, user: User | None) -> tuple[Plan, Task]:
    plan = await visible_plan(session, key, user)
    _indicators, tasks = await plan_parts(session, plan)
    task = find_part(tasks, tkey, "task", plan)
    if _only_own_tasks(user) and user.department not in task.responsible:
        raise NotFound(f"no task {tkey} of yours in plan {key}")
    return plan, task


def task_etag_id(plan: Plan, row: Task) -> str:
    return f"{plan.key}/tasks/{row.key}"


async def update_task(
    session: AsyncSession, key: str, tkey: str, body: TaskUpdate, if_match: str | None, user: User
) -> tuple[Plan, Task]:
    plan = await writable_plan(session, key, user)
    indicators, tasks = await plan_parts(session, plan)
    task = find_part(tasks, tkey, "task", plan)
    if not (user.has_any_role(("officer",)) or ("department" in user.roles and user.department in task.responsible)):
        responsible = "、".join(task.responsible) or "no department"
        raise Forbidden(f"task {tkey} is updated by its responsible units ({responsible}) or an officer")
    if if_match is not None:
        check_if_match(if_match, task_etag_id(plan, task), task.version)
    require_open(plan)
    changes = body.model_dump(exclude_unset=True)
    changed = False
    if body.status is not None and body.status != task.status:
        try:
            domain.check_task_transition(task.status, body.status, body.reason)
        except domain.TransitionNotAllowed as exc:
            raise Conflict(str(exc), current_status=exc.current, wanted_status=exc.wanted) from None
        except domain.ReasonRequired as exc:
            raise Invalid.field(["reason"], str(exc)) from None
        task.status = body.status
        task.status_history = [*task.status_history, history_entry(body.status, user, body.reason)]
        changed = True
    if "notes" in changes and changes["notes"] != task.notes:
        task.notes = changes["notes"]
        changed = True
    if not changed:
        return plan, task
    now = utcnow()
    task.version += 1
    task.updated_at = plan.updated_at = now
    plan.version += 1
    publish_plan(session, plan, indicators, tasks, "task_changed", user, task=task.key)
    await session.commit()
    return plan, task
