"""Plans: imported from a plan file (created, or updated by key), listed, activated, closed and
exported as a plan file again."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import domain, planfile
from services.targets.models import Indicator, Plan, ProgressReport, Task
from services.targets.plan_document import (
    IndicatorSpec,
    Path,
    PlanDocument,
    PlanInvalid,
    PlanProblem,
    RegionSpec,
    TaskSpec,
    plan_data,
    read_plan,
    region_data,
)
from services.targets.service._common import (
    PUBLISHED,
    apply_indicator,
    history_entry,
    indicator_spec,
    is_visible,
    new_region_row,
    plan_invalid,
    plan_parts,
    publish_plan,
    record_region,
    require_open,
    visible_plan,
    writable_plan,
)
from zhichan import region_sync
from zhichan.api.pagination import PageParams, encode_cursor
from zhichan.api.problems import Conflict, Forbidden, Invalid
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.ids import new_id
from zhichan.regions import registry, withdrawn_problem


def task_spec(row: Task) -> TaskSpec:
    return TaskSpec(row.key, row.title, list(row.responsible), row.due, list(row.indicators), row.notes)


def region_spec(code: str) -> RegionSpec:
    region = registry().get(code)
    return RegionSpec(region.code, region.name, region.level, region.parent)


def document_of(plan: Plan, indicators: list[Indicator], tasks: list[Task]) -> PlanDocument:
    return PlanDocument(
        region=region_spec(plan.region),
        regions=[RegionSpec(r["code"], r["name"], r["level"], r.get("parent")) for r in plan.regions],
        key=plan.key,
        title=plan.title,
        issued_by=plan.issued_by,
        start=plan.start,
        end=plan.end,
        indicators=[indicator_spec(i) for i in indicators],
        tasks=[task_spec(t) for t in tasks],
    )


def parse_period(text: str) -> tuple[date, date]:
    """``2024``, ``2024-03-01``, ``2021..2025``, ``2021-2025`` or ``2021-01-01..2025-06-30``."""
    text = text.strip()
    if ".." in text:
        first, last = text.split("..", 1)
    elif len(text) == 9 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit():
        first, last = text[:4], text[5:]
    else:
        first = last = text
    try:
        return _period_end(first, start=True), _period_end(last, start=False)
    except ValueError:
        raise Invalid.field(["period"], "a year (2024), a date (2024-03-01) or a range (2021..2025)") from None


def _period_end(text: str, *, start: bool) -> date:
    text = text.strip()
    if len(text) == 4 and text.isdigit():
        return date(int(text), 1, 1) if start else date(int(text), 12, 31)
    return date.fromisoformat(text)


async def list_plans(
    session: AsyncSession,
    user: User | None,
    page: PageParams,
    *,
    region: str | None,
    status: str | None,
    period: str | None,
) -> tuple[list[tuple[Plan, int, int]], str | None]:
    query = select(Plan).order_by(Plan.key).limit(page.limit + 1)
    if region:
        if region not in registry():
            raise Invalid.field(["region"], f"unknown region {region}")
        query = query.where(Plan.region.in_(sorted(registry().descendants(region))))
    if user is None:
        query = query.where(Plan.status.in_(PUBLISHED))
    elif not user.is_admin:
        query = query.where(or_(Plan.status.in_(PUBLISHED), Plan.region.in_(sorted(user.scope()))))
    if status:
        query = query.where(Plan.status == status)
    if period:
        first, last = parse_period(period)
        query = query.where(Plan.start <= last, Plan.end >= first)
    if page.after:
        query = query.where(Plan.key > str(page.after.get("key", "")))
    plans = list((await session.execute(query)).scalars())
    next_cursor = encode_cursor({"key": plans[page.limit - 1].key}) if len(plans) > page.limit else None
    plans = plans[: page.limit]
    counts = await _part_counts(session, [p.id for p in plans])
    return [(p, *counts.get(p.id, (0, 0))) for p in plans], next_cursor


async def _part_counts(session: AsyncSession, plan_ids: list[str]) -> dict[str, tuple[int, int]]:
    if not plan_ids:
        return {}
    indicators = dict(
        (
            await session.execute(
                select(Indicator.plan_id, func.count())
                .where(Indicator.plan_id.in_(plan_ids))
                .group_by(Indicator.plan_id)
            )
        ).all()
    )
    tasks = dict(
        (
            await session.execute(
                select(Task.plan_id, func.count()).where(Task.plan_id.in_(plan_ids)).group_by(Task.plan_id)
            )
        ).all()
    )
    return {pid: (indicators.get(pid, 0), tasks.get(pid, 0)) for pid in plan_ids}


async def export_plan(session: AsyncSession, key: str, fmt: str, user: User | None) -> bytes:
    plan = await visible_plan(session, key, user)
    indicators, tasks = await plan_parts(session, plan)
    return planfile.encode(plan_data(document_of(plan, indicators, tasks)), fmt)


def read_plan_file(raw: bytes, fmt: str) -> PlanDocument:
    """The checked plan of a file's bytes; every problem at once as a 422."""
    try:
        decoded = planfile.decode(raw, fmt)
    except PlanInvalid as exc:
        raise plan_invalid(exc.problems) from None
    try:
        return read_plan(decoded.data, registry(), decoded.problems)
    except PlanInvalid as exc:
        raise plan_invalid(decoded.located(exc.problems)) from None


def _check_import_access(user: User, doc: PlanDocument) -> None:
    """Writing the plan needs its region; a new region needs the known region it lies in."""
    regions = registry()
    given = {r.code: r for r in doc.region_chain()}
    for code in [doc.region.code, *(r.code for r in doc.new_regions(regions))]:
        anchor: str | None = code
        while anchor is not None and anchor not in regions:
            anchor = given[anchor].parent
        if anchor is None:
            raise Forbidden(f"region {code} lies in no region you hold")
        require_write_access(user, anchor)


def _withdrawn_problems(doc: PlanDocument, new_plan: bool) -> list[PlanProblem]:
    """A new plan is not made for a withdrawn region, nor a new region placed in one; a plan made
    while its region was in use is still imported again."""
    regions = registry()
    problems = []
    if new_plan and doc.region.code in regions and regions.get(doc.region.code).withdrawn:
        region = regions.get(doc.region.code)
        problems.append(PlanProblem(("region", "code"), withdrawn_problem(region, regions)))
    paths: dict[int, Path] = {id(spec): ("regions", i) for i, spec in enumerate(doc.regions)}
    paths[id(doc.region)] = ("region",)
    for spec in doc.new_regions(regions):
        if spec.parent in regions and regions.get(spec.parent).withdrawn:
            message = withdrawn_problem(regions.get(spec.parent), regions)
            problems.append(PlanProblem((*paths[id(spec)], "parent"), message))
    return problems


async def import_plan(session: AsyncSession, raw: bytes, fmt: str, user: User) -> tuple[Plan, bool]:
    """Creates the plan, or updates the plan with the same key; returns it and whether it is new."""
    doc = read_plan_file(raw, fmt)
    _check_import_access(user, doc)
    plan = (await session.execute(select(Plan).where(Plan.key == doc.key))).scalar_one_or_none()
    if plan is not None:
        if not is_visible(plan, user):
            raise Conflict(f"the key {doc.key} is taken by a plan of another region; choose another key")
        require_write_access(user, plan.region)
        if plan.region != doc.region.code:
            raise Conflict(f"plan {doc.key} belongs to region {plan.region}; a plan's region cannot change")
        require_open(plan)
    problems = _withdrawn_problems(doc, new_plan=plan is None)
    if problems:
        raise plan_invalid(problems)
    new_regions = [new_region_row(r.code, r.name, r.level, r.parent) for r in doc.new_regions(registry())]
    for row in new_regions:
        session.add(row)
        record_region(session, row, user)
    if plan is None:
        plan = await _create_plan(session, doc, user)
        created = True
    else:
        await _update_plan(session, plan, doc, user)
        created = False
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"plan {doc.key} was imported at the same time by someone else; try again") from None
    region_sync.register_all(new_regions)
    return plan, created


async def _create_plan(session: AsyncSession, doc: PlanDocument, user: User) -> Plan:
    now = utcnow()
    plan = Plan(
        id=new_id(),
        key=doc.key,
        region=doc.region.code,
        title=doc.title,
        issued_by=doc.issued_by,
        start=doc.start,
        end=doc.end,
        status="draft",
        regions=[region_data(r) for r in doc.regions],
        status_history=[history_entry("draft", user)],
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    await session.flush()  # the parts refer to it; without relationships the flush order is not by key
    indicators = [_new_indicator(plan, spec, position) for position, spec in enumerate(doc.indicators)]
    tasks = [_new_task(plan, spec, position) for position, spec in enumerate(doc.tasks)]
    session.add_all([*indicators, *tasks])
    publish_plan(session, plan, indicators, tasks, "imported", user)
    return plan


def _apply_task(row: Task, spec: TaskSpec) -> None:
    row.key = spec.key
    row.title = spec.title
    row.responsible = list(spec.responsible)
    row.due = spec.due
    row.indicators = list(spec.indicators)
    row.notes = spec.notes


def _new_indicator(plan: Plan, spec: IndicatorSpec, position: int) -> Indicator:
    row = Indicator(id=new_id(), plan_id=plan.id, position=position, created_at=plan.updated_at)
    row.updated_at = plan.updated_at
    apply_indicator(row, spec)
    return row


def _new_task(plan: Plan, spec: TaskSpec, position: int) -> Task:
    row = Task(
        id=new_id(),
        plan_id=plan.id,
        position=position,
        status="planned",
        status_history=[{"status": "planned", "on": today().isoformat(), "at": plan.updated_at.isoformat()}],
        created_at=plan.updated_at,
        updated_at=plan.updated_at,
    )
    _apply_task(row, spec)
    return row


async def _update_plan(session: AsyncSession, plan: Plan, doc: PlanDocument, user: User) -> None:
    indicators, tasks = await plan_parts(session, plan)
    current = document_of(plan, indicators, tasks)
    if replace(doc, region=current.region) == current:
        return  # the same file again (its region's name may be spelt longer): nothing changes
    now = utcnow()
    plan.title, plan.issued_by, plan.start, plan.end = doc.title, doc.issued_by, doc.start, doc.end
    plan.regions = [region_data(r) for r in doc.regions]
    plan.updated_at = now
    plan.version += 1
    indicators = await _sync_indicators(session, plan, indicators, doc.indicators)
    tasks = await _sync_tasks(session, plan, tasks, doc.tasks)
    publish_plan(session, plan, indicators, tasks, "updated", user)


async def _sync_indicators(
    session: AsyncSession, plan: Plan, rows: list[Indicator], specs: list[IndicatorSpec]
) -> list[Indicator]:
    """The plan's indicators made those of the file: matched by key, kept rows keep their id."""
    by_key = {row.key: row for row in rows}
    wanted = {spec.key for spec in specs}
    removed = [row for row in rows if row.key not in wanted]
    if removed:
        reported = (
            await session.execute(
                select(Indicator.key)
                .join(ProgressReport, ProgressReport.indicator_id == Indicator.id)
                .where(Indicator.id.in_([r.id for r in removed]))
                .distinct()
            )
        ).scalars()
        if keys := sorted(reported):
            raise Conflict(
                f"the file drops indicators that have progress reports: {', '.join(keys)}; keep them in the file",
                indicators=keys,
            )
        await session.execute(delete(Indicator).where(Indicator.id.in_([r.id for r in removed])))
    result = []
    for position, spec in enumerate(specs):
        row = by_key.get(spec.key)
        if row is None:
            row = _new_indicator(plan, spec, position)
            session.add(row)
        else:
            row.position = position
            if indicator_spec(row) != spec:
                apply_indicator(row, spec)
                row.version += 1
                row.updated_at = plan.updated_at
        result.append(row)
    return result


async def _sync_tasks(session: AsyncSession, plan: Plan, rows: list[Task], specs: list[TaskSpec]) -> list[Task]:
    """The plan's tasks made those of the file; a kept task keeps its status and history."""
    by_key = {row.key: row for row in rows}
    wanted = {spec.key for spec in specs}
    if removed := [row.id for row in rows if row.key not in wanted]:
        await session.execute(delete(Task).where(Task.id.in_(removed)))
    result = []
    for position, spec in enumerate(specs):
        row = by_key.get(spec.key)
        if row is None:
            row = _new_task(plan, spec, position)
            session.add(row)
        else:
            row.position = position
            if task_spec(row) != spec:
                _apply_task(row, spec)
                row.version += 1
                row.updated_at = plan.updated_at
        result.append(row)
    return result


async def transition_plan(session: AsyncSession, key: str, action: str, user: User) -> Plan:
    plan = await writable_plan(session, key, user)
    try:
        plan.status = domain.next_plan_status(action, plan.status)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=exc.current, action=action) from None
    plan.status_history = [*plan.status_history, history_entry(plan.status, user)]
    plan.version += 1
    plan.updated_at = utcnow()
    indicators, tasks = await plan_parts(session, plan)
    publish_plan(session, plan, indicators, tasks, {"activate": "activated", "close": "closed"}[action], user)
    await session.commit()
    return plan
