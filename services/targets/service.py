"""Targets use cases: load, apply the rule, write the rows and their outbox events in one transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts, domain, planfile
from services.targets.models import Indicator, Plan, ProgressReport, Task
from services.targets.plan_document import (
    Baseline,
    IndicatorSpec,
    MetricSource,
    Path,
    PlanDocument,
    PlanInvalid,
    PlanProblem,
    Problems,
    RegionSpec,
    TaskSpec,
    indicator_data,
    plan_data,
    read_indicator,
    read_plan,
    region_data,
    source_data,
)
from services.targets.schemas import RegionCreate, ReportCreate, TaskUpdate
from zhichan import region_sync
from zhichan.api.etag import check_if_match
from zhichan.api.pagination import PageParams, encode_cursor
from zhichan.api.problems import Conflict, Forbidden, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.events import record_event
from zhichan.ids import new_id
from zhichan.region_sync import CustomRegion
from zhichan.regions import CUSTOM_CODE, Region, registry, withdrawn_problem

PUBLISHED = ("active", "closed")


def _plan_invalid(problems: list[PlanProblem], what: str = "the plan file") -> Invalid:
    errors = [p.as_error() for p in problems]
    shown = "; ".join(f"{e['path'] or '(file)'}: {e['msg']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return Invalid(f"{len(errors)} problem(s) in {what}: {shown}{more}", errors=errors)


# --- regions -------------------------------------------------------------------------------------


async def refresh_regions(session: AsyncSession) -> None:
    """Regions defined by another replica of this service become known here too."""
    await region_sync.load_persisted(session)


def _region_event(session: AsyncSession, row: CustomRegion, user: User) -> None:
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate="region",
        verb="defined",
        aggregate_id=row.code,
        region=row.code,
        version=row.version,
        data=row.state(),
        actor=user.sub,
    )


def _new_region_row(code: str, name: str, level: str, parent: str | None) -> CustomRegion:
    return CustomRegion(code=code, name=name, level=level, parent=parent, version=1, defined_at=utcnow())


async def define_region(session: AsyncSession, data: RegionCreate, user: User) -> tuple[CustomRegion, bool]:
    """A custom region, created or redefined; returns it and whether it is new."""
    regions = registry()
    if data.code in regions and not regions.get(data.code).custom:
        raise Conflict(f"{data.code} is the GB/T 2260 region {regions.get(data.code).name}; it cannot be redefined")
    if not (CUSTOM_CODE.match(data.code) or domain.STANDARD_CODE.match(data.code)):
        raise Invalid.field(["code"], "a custom code such as 321100-ETDZ (six digits, '-', 2–16 capitals or digits)")
    if data.parent not in regions:
        raise Invalid.field(["parent"], f"unknown region {data.parent}")
    if data.parent in _descendants(data.code):  # itself or below it: the tree would loop
        raise Invalid.field(["parent"], f"{data.parent} lies within {data.code}")
    require_write_access(user, data.parent)
    row = await session.get(CustomRegion, data.code)
    parent = regions.get(data.parent)
    if parent.withdrawn and (row is None or row.parent != data.parent):  # one defined under it before stays
        raise Invalid.field(["parent"], withdrawn_problem(parent, regions))
    if row is not None:
        require_write_access(user, row.code)
        if (row.name, row.level, row.parent) == (data.name, data.level, data.parent):
            return row, False
        row.name, row.level, row.parent = data.name, data.level, data.parent
        row.version += 1
        row.defined_at = utcnow()
        created = False
    else:
        row = _new_region_row(data.code, data.name, data.level, data.parent)
        session.add(row)
        created = True
    _region_event(session, row, user)
    await session.commit()
    region_sync.register_all([row])
    return row, created


def _descendants(code: str) -> frozenset[str]:
    regions = registry()
    return regions.descendants(code) if code in regions else frozenset()


def get_region(code: str) -> Region:
    try:
        return registry().get(code)
    except KeyError:
        raise NotFound(f"no region {code}") from None


# --- plans: reading ------------------------------------------------------------------------------


def _visible(plan: Plan, user: User | None) -> bool:
    """Published plans are public; drafts are seen in their region only."""
    return plan.status in PUBLISHED or (user is not None and user.sees(plan.region))


async def visible_plan(session: AsyncSession, key: str, user: User | None) -> Plan:
    plan = (await session.execute(select(Plan).where(Plan.key == key))).scalar_one_or_none()
    if plan is None or not _visible(plan, user):
        raise NotFound(f"no plan {key}")
    return plan


async def plan_parts(session: AsyncSession, plan: Plan) -> tuple[list[Indicator], list[Task]]:
    indicators = (
        await session.execute(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.position))
    ).scalars()
    tasks = (await session.execute(select(Task).where(Task.plan_id == plan.id).order_by(Task.position))).scalars()
    return list(indicators), list(tasks)


def indicator_spec(row: Indicator) -> IndicatorSpec:
    return IndicatorSpec(
        key=row.key,
        name=row.name,
        category=row.category,
        unit=row.unit,
        measure=row.measure,
        direction=row.direction,
        nature=row.nature,
        target=row.target,
        baseline=Baseline(row.baseline_year, row.baseline_value) if row.baseline_year is not None else None,
        milestones={int(year): Decimal(value) for year, value in row.milestones.items()},
        responsible=list(row.responsible),
        source=MetricSource(row.source_metric, dict(row.source_filters)) if row.source_metric else None,
        trajectory=row.trajectory,
        target_max=row.target_max,
        milestone_maxima={int(year): Decimal(value) for year, value in row.milestone_maxima.items()},
    )


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


def indicator_state(row: Indicator) -> contracts.IndicatorState:
    spec = indicator_spec(row)
    return contracts.IndicatorState(
        key=row.key,
        name=row.name,
        category=row.category,
        unit=row.unit,
        measure=row.measure,
        direction=row.direction,
        nature=row.nature,
        baseline=contracts.Baseline(year=row.baseline_year, value=row.baseline_value) if spec.baseline else None,
        target=row.target,
        target_max=row.target_max,
        milestones={str(year): value for year, value in sorted(spec.milestones.items())},
        milestone_maxima={str(year): value for year, value in sorted(spec.milestone_maxima.items())},
        trajectory=row.trajectory,
        responsible=list(row.responsible),
        source=source_data(spec.source),
        accepts_reports=spec.accepts_reports,
        version=row.version,
        updated_at=row.updated_at,
    )


def task_state(row: Task) -> contracts.TaskState:
    return contracts.TaskState.model_validate(row, from_attributes=True)


def plan_state(plan: Plan, indicators: list[Indicator], tasks: list[Task]) -> contracts.PlanState:
    return contracts.PlanState(
        id=plan.id,
        key=plan.key,
        region=plan.region,
        title=plan.title,
        issued_by=plan.issued_by,
        start=plan.start,
        end=plan.end,
        status=plan.status,
        regions=[contracts.RegionRef(**r) for r in plan.regions],
        indicators=[indicator_state(i) for i in indicators],
        tasks=[task_state(t) for t in tasks],
        status_history=plan.status_history,
        version=plan.version,
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


def _publish_plan(
    session: AsyncSession,
    plan: Plan,
    indicators: list[Indicator],
    tasks: list[Task],
    verb: str,
    user: User,
    **changed: str,
) -> None:
    state = plan_state(plan, indicators, tasks)
    payload = {
        "indicator_changed": contracts.IndicatorChanged,
        "task_changed": contracts.TaskChanged,
    }.get(verb, contracts.PlanState)
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate="plan",
        verb=verb,
        aggregate_id=plan.key,
        region=plan.region,
        version=plan.version,
        data=payload(**state.model_dump(), **changed),
        actor=user.sub,
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


# --- plans: import -------------------------------------------------------------------------------


def read_plan_file(raw: bytes, fmt: str) -> PlanDocument:
    """The checked plan of a file's bytes; every problem at once as a 422."""
    try:
        decoded = planfile.decode(raw, fmt)
    except PlanInvalid as exc:
        raise _plan_invalid(exc.problems) from None
    try:
        return read_plan(decoded.data, registry(), decoded.problems)
    except PlanInvalid as exc:
        raise _plan_invalid(decoded.located(exc.problems)) from None


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
        if not _visible(plan, user):
            raise Conflict(f"the key {doc.key} is taken by a plan of another region; choose another key")
        require_write_access(user, plan.region)
        if plan.region != doc.region.code:
            raise Conflict(f"plan {doc.key} belongs to region {plan.region}; a plan's region cannot change")
        _require_open(plan)
    problems = _withdrawn_problems(doc, new_plan=plan is None)
    if problems:
        raise _plan_invalid(problems)
    new_regions = [_new_region_row(r.code, r.name, r.level, r.parent) for r in doc.new_regions(registry())]
    for row in new_regions:
        session.add(row)
        _region_event(session, row, user)
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


def _history_entry(status: str, user: User, reason: str | None = None) -> dict[str, Any]:
    entry = {"status": status, "on": today().isoformat(), "at": utcnow().isoformat(), "actor": user.sub}
    if reason:
        entry["reason"] = reason
    return entry


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
        status_history=[_history_entry("draft", user)],
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(plan)
    await session.flush()  # the parts refer to it; without relationships the flush order is not by key
    indicators = [_new_indicator(plan, spec, position) for position, spec in enumerate(doc.indicators)]
    tasks = [_new_task(plan, spec, position) for position, spec in enumerate(doc.tasks)]
    session.add_all([*indicators, *tasks])
    _publish_plan(session, plan, indicators, tasks, "imported", user)
    return plan


def _apply_indicator(row: Indicator, spec: IndicatorSpec) -> None:
    row.key = spec.key
    row.name = spec.name
    row.category = spec.category
    row.unit = spec.unit
    row.measure = spec.measure
    row.direction = spec.direction
    row.nature = spec.nature
    row.target = spec.target
    row.target_max = spec.target_max
    row.trajectory = spec.trajectory
    row.baseline_year = spec.baseline.year if spec.baseline else None
    row.baseline_value = spec.baseline.value if spec.baseline else None
    row.milestones = {str(year): format(value, "f") for year, value in sorted(spec.milestones.items())}
    row.milestone_maxima = {str(year): format(value, "f") for year, value in sorted(spec.milestone_maxima.items())}
    row.responsible = list(spec.responsible)
    row.source_metric = spec.source.metric if spec.source else None
    row.source_filters = dict(spec.source.filters) if spec.source else {}


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
    _apply_indicator(row, spec)
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
    _publish_plan(session, plan, indicators, tasks, "updated", user)


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
                _apply_indicator(row, spec)
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


# --- plans: lifecycle ----------------------------------------------------------------------------


def _require_open(plan: Plan) -> None:
    if plan.status == "closed":
        raise Conflict(f"plan {plan.key} is closed; it no longer changes", current_status=plan.status)


async def writable_plan(session: AsyncSession, key: str, user: User) -> Plan:
    plan = await visible_plan(session, key, user)
    require_write_access(user, plan.region)
    return plan


async def transition_plan(session: AsyncSession, key: str, action: str, user: User) -> Plan:
    plan = await writable_plan(session, key, user)
    try:
        plan.status = domain.next_plan_status(action, plan.status)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=exc.current, action=action) from None
    plan.status_history = [*plan.status_history, _history_entry(plan.status, user)]
    plan.version += 1
    plan.updated_at = utcnow()
    indicators, tasks = await plan_parts(session, plan)
    _publish_plan(session, plan, indicators, tasks, {"activate": "activated", "close": "closed"}[action], user)
    await session.commit()
    return plan


# --- indicators ----------------------------------------------------------------------------------


def indicator_etag_id(plan: Plan, row: Indicator) -> str:
    return f"{plan.key}/{row.key}"


def find_part(rows, key: str, what: str, plan: Plan):
    """The indicator or task with this key among the plan's."""
    for row in rows:
        if row.key == key:
            return row
    raise NotFound(f"no {what} {key} in plan {plan.key}")


async def update_indicator(
    session: AsyncSession, key: str, ikey: str, changes: dict[str, Any], if_match: str | None, user: User
) -> tuple[Plan, Indicator]:
    plan = await writable_plan(session, key, user)
    indicators, tasks = await plan_parts(session, plan)
    row = find_part(indicators, ikey, "indicator", plan)
    check_if_match(if_match, indicator_etag_id(plan, row), row.version)
    _require_open(plan)
    merged = {**indicator_data(indicator_spec(row)), **changes}
    problems = Problems()
    spec = read_indicator(merged, plan.start, plan.end, (), problems)
    if problems.items:
        raise _plan_invalid(problems.items, f"the change of indicator {ikey}")
    if spec == indicator_spec(row):
        return plan, row
    _apply_indicator(row, spec)
    now = utcnow()
    row.version += 1
    row.updated_at = plan.updated_at = now
    plan.version += 1
    _publish_plan(session, plan, indicators, tasks, "indicator_changed", user, indicator=row.key)
    await session.commit()
    return plan, row


# --- progress reports ----------------------------------------------------------------------------


def _may_report(user: User, plan: Plan, row: Indicator) -> None:
    if user.is_admin or ("officer" in user.roles and user.sees(plan.region)):
        return
    if "department" in user.roles and user.sees(plan.region):
        if domain.may_report(user.department, row.responsible):
            return
        responsible = "、".join(row.responsible) or "no department"
        raise Forbidden(
            f"department {user.department or '(none in your token)'} is not responsible for {row.key}; "
            f"responsible: {responsible}"
        )
    raise Forbidden("progress is reported by a responsible department or an officer of the region")


def report_state(plan: Plan, row: Indicator, report: ProgressReport) -> contracts.ProgressReportState:
    return contracts.ProgressReportState(
        id=report.id,
        plan=plan.key,
        indicator=row.key,
        region=report.region,
        as_of=report.as_of,
        value=report.value,
        unit=report.unit,
        note=report.note,
        evidence_url=report.evidence_url,
        department=report.department,
        reporter=report.reporter,
        supersedes=report.supersedes,
        created_at=report.created_at,
    )


async def submit_report(
    session: AsyncSession, key: str, ikey: str, body: ReportCreate, user: User
) -> tuple[Plan, Indicator, ProgressReport]:
    plan = await visible_plan(session, key, user)
    indicators, _tasks = await plan_parts(session, plan)
    row = find_part(indicators, ikey, "indicator", plan)
    _may_report(user, plan, row)
    _require_open(plan)
    spec = indicator_spec(row)
    if not spec.accepts_reports:
        raise Conflict(
            f"indicator {ikey} is computed from the metric {spec.source.metric}; only reported indicators take reports",
            metric=spec.source.metric,
        )
    try:
        domain.check_report_date(body.as_of, plan.start, plan.end, today())
    except domain.ReportDateError as exc:
        raise Invalid.field(["as_of"], str(exc)) from None
    if body.supersedes is not None:
        await _check_supersedes(session, row, body.supersedes)
    report = ProgressReport(
        id=new_id(),
        plan_id=plan.id,
        indicator_id=row.id,
        region=plan.region,
        as_of=body.as_of,
        value=body.value,
        unit=row.unit,
        note=body.note,
        evidence_url=str(body.evidence_url) if body.evidence_url else None,
        department=user.department,
        reporter=user.sub,
        supersedes=body.supersedes,
        created_at=utcnow(),
    )
    session.add(report)
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate="progress_report",
        verb="submitted",
        aggregate_id=report.id,
        region=plan.region,
        version=1,
        data=report_state(plan, row, report),
        actor=user.sub,
    )
    try:
        await session.commit()
    except IntegrityError:  # another correction of the same report won the race
        await session.rollback()
        raise Conflict(f"report {body.supersedes} has just been superseded; read the reports again") from None
    return plan, row, report


async def _check_supersedes(session: AsyncSession, row: Indicator, report_id: str) -> None:
    earlier = await session.get(ProgressReport, report_id)
    if earlier is None or earlier.indicator_id != row.id:
        raise Invalid.field(["supersedes"], f"no report {report_id} of indicator {row.key}")
    later = (
        await session.execute(select(ProgressReport.id).where(ProgressReport.supersedes == report_id))
    ).scalar_one_or_none()
    if later is not None:
        raise Conflict(f"report {report_id} is already superseded by {later}; correct that one", superseded_by=later)


async def list_reports(
    session: AsyncSession, key: str, ikey: str, user: User, page: PageParams
) -> tuple[Plan, Indicator, list[tuple[ProgressReport, str | None]], str | None]:
    plan = await visible_plan(session, key, user)
    if not user.sees(plan.region):
        raise NotFound(f"no reports of plan {key} in your regions")
    indicators, _tasks = await plan_parts(session, plan)
    row = find_part(indicators, ikey, "indicator", plan)
    query = (
        select(ProgressReport)
        .where(ProgressReport.indicator_id == row.id)
        .order_by(ProgressReport.as_of, ProgressReport.id)
        .limit(page.limit + 1)
    )
    if page.after:
        after_date = date.fromisoformat(str(page.after.get("as_of", "0001-01-01")))
        after_id = str(page.after.get("id", ""))
        query = query.where(
            or_(
                ProgressReport.as_of > after_date,
                (ProgressReport.as_of == after_date) & (ProgressReport.id > after_id),
            )
        )
    reports = list((await session.execute(query)).scalars())
    next_cursor = None
    if len(reports) > page.limit:
        last = reports[page.limit - 1]
        next_cursor = encode_cursor({"as_of": last.as_of.isoformat(), "id": last.id})
    reports = reports[: page.limit]
    superseded = dict(
        (
            await session.execute(
                select(ProgressReport.supersedes, ProgressReport.id).where(
                    ProgressReport.supersedes.in_([r.id for r in reports]) if reports else false()
                )
            )
        ).all()
    )
    return plan, row, [(r, superseded.get(r.id)) for r in reports], next_cursor


# --- tasks ---------------------------------------------------------------------------------------


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
    _require_open(plan)
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
        task.status_history = [*task.status_history, _history_entry(body.status, user, body.reason)]
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
    _publish_plan(session, plan, indicators, tasks, "task_changed", user, task=task.key)
    await session.commit()
    return plan, task
