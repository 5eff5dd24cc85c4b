"""Plans: imported from a plan file (created, or updated by key), listed, read, activated, closed
and exported as a plan file again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import date
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts, domain, planfile
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
    reporting_row,
    reporting_spec,
)
from services.targets.schemas import PlanFilter, PlanSummary
from services.targets.service._common import (
    PUBLISHED,
    Part,
    history_entry,
    indicator_columns,
    indicator_spec,
    is_visible,
    new_region_row,
    plan_invalid,
    plan_parts,
    plan_state,
    publish_plan,
    record_region,
    require_numbering_access,
    require_open,
    visible_plan,
    writable_plan,
)
from services.targets.service.statistics import statistic_catalogue
from zhichan import region_sync
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Forbidden, Invalid
from zhichan.api.scope import scoped
from zhichan.auth import User, require_write_access
from zhichan.clock import today
from zhichan.db import commit_or_conflict, state_of
from zhichan.fields import EARLIEST_DAY, LATEST_DAY
from zhichan.ids import new_id
from zhichan.regions import registry, withdrawn_problem
from zhichan.statistics_catalogue import Statistic

VERB_OF_ACTION = {"activate": "activated", "close": "closed"}


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
        reporting=reporting_spec(plan.reporting) if plan.reporting else None,
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
        period = _period_end(first, start=True), _period_end(last, start=False)
    except ValueError:
        raise Invalid.field(["period"], "a year (2024), a date (2024-03-01) or a range (2021..2025)") from None
    if not all(EARLIEST_DAY <= day <= LATEST_DAY for day in period):
        raise Invalid.field(["period"], f"a period from {EARLIEST_DAY.year} to {LATEST_DAY.year}")
    return period


def _period_end(text: str, *, start: bool) -> date:
    text = text.strip()
    if len(text) == 4 and text.isdigit():
        return date(int(text), 1, 1) if start else date(int(text), 12, 31)
    return date.fromisoformat(text)


async def list_plans(
    session: AsyncSession, user: User | None, page: PageParams, filters: PlanFilter
) -> tuple[list[PlanSummary], str | None]:
    """Published plans for everyone and drafts in the caller's regions, in key order; a region
    asked for cuts both to it (with its descendants)."""
    query = scoped(select(Plan), Plan.region, None, filters.region)
    if user is None:
        query = query.where(Plan.status.in_(PUBLISHED))
    elif not user.is_admin:
        query = query.where(or_(Plan.status.in_(PUBLISHED), Plan.region.in_(sorted(user.scope()))))
    if filters.status:
        query = query.where(Plan.status == filters.status)
    if filters.period:
        first, last = parse_period(filters.period)
        query = query.where(Plan.start <= last, Plan.end >= first)
    plans, next_cursor = await keyset_page(session, query, page, Plan.key)
    counts = await _part_counts(session, [p.id for p in plans])
    regions = registry()
    summaries = [state_of(PlanSummary, p, region_name=regions.get(p.region).name, **counts[p.id]) for p in plans]
    return summaries, next_cursor


async def _part_counts(session: AsyncSession, plan_ids: list[str]) -> dict[str, dict[str, int]]:
    counts = {plan_id: {"indicator_count": 0, "task_count": 0} for plan_id in plan_ids}
    for model, name in ((Indicator, "indicator_count"), (Task, "task_count")):
        query = select(model.plan_id, func.count()).where(model.plan_id.in_(plan_ids)).group_by(model.plan_id)
        for plan_id, count in await session.execute(query):
            counts[plan_id][name] = count
    return counts


async def get_plan(session: AsyncSession, key: str, user: User | None) -> contracts.PlanState:
    plan = await visible_plan(session, key, user)
    return plan_state(plan, *await plan_parts(session, plan))


async def export_plan(session: AsyncSession, key: str, fmt: str, user: User | None) -> bytes:
    plan = await visible_plan(session, key, user)
    indicators, tasks = await plan_parts(session, plan)
    return planfile.encode(plan_data(document_of(plan, indicators, tasks)), fmt)


def read_plan_file(raw: bytes, fmt: str, statistics: Mapping[str, Statistic]) -> PlanDocument:
    """The checked plan of a file's bytes (its sources checked against the statistic catalogue
    ``statistics``); every problem at once as a 422."""
    try:
        decoded = planfile.decode(raw, fmt)
    except PlanInvalid as exc:
        raise plan_invalid(exc.problems) from None
    try:
        return read_plan(decoded.data, registry(), decoded.problems, statistics)
    except PlanInvalid as exc:
        raise plan_invalid(decoded.located(exc.problems)) from None


def _check_import_access(user: User, doc: PlanDocument) -> None:
    """Writing the plan needs its region; a new region needs the known region it lies in, and the
    right to number it (:func:`require_numbering_access`), as ``POST /regions`` does."""
    regions = registry()
    given = {r.code: r for r in doc.region_chain()}
    for code in [doc.region.code, *(r.code for r in doc.new_regions(regions))]:
        anchor: str | None = code
        while anchor is not None and anchor not in regions:
            anchor = given[anchor].parent
        if anchor is None:
            raise Forbidden(f"region {code} lies in no region you hold")
        require_write_access(user, anchor)
    for spec in doc.new_regions(regions):
        require_numbering_access(user, spec.code, spec.parent, regions, given)


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


async def import_plan(session: AsyncSession, raw: bytes, fmt: str, user: User) -> tuple[contracts.PlanState, bool]:
    """Creates the plan, or updates the plan with the same key; its state and whether it is new."""
    doc = read_plan_file(raw, fmt, await statistic_catalogue(session))
    _check_import_access(user, doc)
    plan = (await session.execute(select(Plan).where(Plan.key == doc.key))).scalar_one_or_none()
    if plan is not None:
        if not is_visible(plan, user):
            # a draft the caller does not see: nothing of it is named, not even its region
            raise Conflict(f"the key {doc.key} is already taken; choose another key")
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
        state = await _create_plan(session, doc, user)
    else:
        state = await _update_plan(session, plan, doc, user)
    await commit_or_conflict(session, f"plan {doc.key} was imported at the same time by someone else; try again")
    region_sync.register_all(new_regions)
    return state, plan is None


async def _create_plan(session: AsyncSession, doc: PlanDocument, user: User) -> contracts.PlanState:
    plan = Plan.new(
        key=doc.key,
        region=doc.region.code,
        title=doc.title,
        issued_by=doc.issued_by,
        start=doc.start,
        end=doc.end,
        status="draft",
        regions=[region_data(r) for r in doc.regions],
        reporting=reporting_row(doc.reporting) if doc.reporting else None,
        status_history=[history_entry("draft", user)],
    )
    session.add(plan)
    await session.flush()  # the parts refer to it; without relationships the flush order is not by key
    indicators = [_new_indicator(plan, spec, position) for position, spec in enumerate(doc.indicators)]
    tasks = [_new_task(plan, spec, position) for position, spec in enumerate(doc.tasks)]
    session.add_all([*indicators, *tasks])
    return publish_plan(session, plan, indicators, tasks, "imported", user)


def _new_indicator(plan: Plan, spec: IndicatorSpec, position: int) -> Indicator:
    return Indicator.new(id=new_id(), plan_id=plan.id, position=position, **indicator_columns(spec))


def _new_task(plan: Plan, spec: TaskSpec, position: int) -> Task:
    planned = {"status": "planned", "on": today().isoformat(), "at": plan.updated_at.isoformat()}
    return Task.new(
        id=new_id(), plan_id=plan.id, position=position, status="planned", status_history=[planned], **asdict(spec)
    )


async def _update_plan(session: AsyncSession, plan: Plan, doc: PlanDocument, user: User) -> contracts.PlanState:
    indicators, tasks = await plan_parts(session, plan)
    current = document_of(plan, indicators, tasks)
    if doc.reporting is None:
        # a file without reporting: leaves the rounds an officer set (PUT /plans/{key}/reporting) as they are
        doc = replace(doc, reporting=current.reporting)
    if replace(doc, region=current.region) == current:
        # the same file again (its region's name may be spelt longer): nothing changes
        return plan_state(plan, indicators, tasks)
    plan.title, plan.issued_by, plan.start, plan.end = doc.title, doc.issued_by, doc.start, doc.end
    plan.regions = [region_data(r) for r in doc.regions]
    plan.reporting = reporting_row(doc.reporting) if doc.reporting else None
    plan.touch()
    await _keep_reported(session, indicators, {spec.key for spec in doc.indicators})
    indicators = await _sync_parts(
        session, plan, indicators, doc.indicators, _new_indicator, indicator_spec, indicator_columns
    )
    tasks = await _sync_parts(session, plan, tasks, doc.tasks, _new_task, task_spec, asdict)
    return publish_plan(session, plan, indicators, tasks, "updated", user)


async def _keep_reported(session: AsyncSession, indicators: list[Indicator], wanted: set[str]) -> None:
    """A file may not drop an indicator that has progress reports (409)."""
    dropped = [row.id for row in indicators if row.key not in wanted]
    if not dropped:
        return
    query = (
        select(Indicator.key)
        .join(ProgressReport, ProgressReport.indicator_id == Indicator.id)
        .where(Indicator.id.in_(dropped))
        .distinct()
    )
    if keys := sorted((await session.execute(query)).scalars()):
        raise Conflict(
            f"the file drops indicators that have progress reports: {', '.join(keys)}; keep them in the file",
            indicators=keys,
        )


async def _sync_parts(
    session: AsyncSession,
    plan: Plan,
    rows: list[Part],
    specs: Sequence[Any],
    new: Callable[[Plan, Any, int], Part],
    spec_of: Callable[[Part], Any],
    columns_of: Callable[[Any], dict[str, Any]],
) -> list[Part]:
    """The plan's indicators or tasks made those of the file, matched by key: a kept one keeps its
    id (a task its status and history) and counts a version when it changed; the others go."""
    by_key = {row.key: row for row in rows}
    wanted = {spec.key for spec in specs}
    if dropped := [row for row in rows if row.key not in wanted]:
        model = type(dropped[0])
        await session.execute(delete(model).where(model.id.in_([row.id for row in dropped])))
    kept = []
    for position, spec in enumerate(specs):
        row = by_key.get(spec.key)
        if row is None:
            row = new(plan, spec, position)
            session.add(row)
        else:
            row.position = position
            if spec_of(row) != spec:
                row.sqlmodel_update(columns_of(spec))
                row.touch()
        kept.append(row)
    return kept


async def transition_plan(session: AsyncSession, key: str, action: str, user: User) -> contracts.PlanState:
    """Activates (draft → active) or closes (active → closed) a plan."""
    plan = await writable_plan(session, key, user)
    try:
        plan.status = domain.next_plan_status(action, plan.status)
    except domain.TransitionNotAllowed as exc:
        raise Conflict(str(exc), current_status=exc.current, action=action) from None
    plan.status_history = [*plan.status_history, history_entry(plan.status, user)]
    plan.touch()
    indicators, tasks = await plan_parts(session, plan)
    state = publish_plan(session, plan, indicators, tasks, VERB_OF_ACTION[action], user)
    await session.commit()
    return state
