"""A plan's tasks: read (a department sees its own) and moved through their states."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts, domain
from services.targets.models import Task
from services.targets.schemas import TaskUpdate
from services.targets.service._common import (
    find_part,
    history_entry,
    page_by_position,
    parts_of,
    plan_parts,
    publish_plan,
    require_open,
    task_state,
    visible_plan,
    writable_plan,
)
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams
from zhichan.api.problems import Conflict, Forbidden, Invalid, NotFound
from zhichan.auth import User


def tag(plan_key: str, key: str) -> str:
    """What a task's ETag names: its plan and its key (apart from the plan's indicators)."""
    return f"{plan_key}/tasks/{key}"


def _only_own_tasks(user: User | None) -> bool:
    """A department (without an officer's role) sees the tasks it is responsible for."""
    return user is not None and "department" in user.roles and not user.has_any_role(("officer", "auditor"))


def _seen(user: User | None, task: Task) -> bool:
    return not _only_own_tasks(user) or user.department in task.responsible


async def list_tasks(
    session: AsyncSession,
    key: str,
    user: User | None,
    page: PageParams,
    *,
    status: str | None,
    responsible: str | None,
) -> tuple[list[contracts.TaskState], str | None]:
    plan = await visible_plan(session, key, user)
    found = [
        task
        for task in await parts_of(session, Task, plan)
        if _seen(user, task)
        and (not status or task.status == status)
        and (not responsible or responsible in task.responsible)
    ]
    rows, next_cursor = page_by_position(found, page)
    return [task_state(row) for row in rows], next_cursor


async def get_task(session: AsyncSession, key: str, tkey: str, user: User | None) -> contracts.TaskState:
    plan = await visible_plan(session, key, user)
    task = find_part(await parts_of(session, Task, plan), tkey, "task", plan)
    if not _seen(user, task):
        raise NotFound(f"no task {tkey} of yours in plan {key}")
    return task_state(task)


async def update_task(
    session: AsyncSession, key: str, tkey: str, body: TaskUpdate, if_match: str | None, user: User
) -> contracts.TaskState:
    plan = await writable_plan(session, key, user)
    indicators, tasks = await plan_parts(session, plan)
    task = find_part(tasks, tkey, "task", plan)
    if not (user.has_any_role(("officer",)) or ("department" in user.roles and user.department in task.responsible)):
        responsible = "、".join(task.responsible) or "no department"
        raise Forbidden(f"task {tkey} is updated by its responsible units ({responsible}) or an officer")
    if if_match is not None:
        check_if_match(if_match, tag(plan.key, task.key), task.version)
    require_open(plan)
    if _change(task, body, user):
        task.touch()
        plan.touch()
        publish_plan(session, plan, indicators, tasks, "task_changed", user, task=task.key)
        await session.commit()
    return task_state(task)


def _change(task: Task, body: TaskUpdate, user: User) -> bool:
    """Moves the task to the status asked for and takes its notes; whether anything changed."""
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
    if "notes" in body.model_fields_set and body.notes != task.notes:
        task.notes = body.notes
        changed = True
    return changed
