"""What the targets use cases share: loading a plan and its parts as the caller may see them, the
states their events carry, and the plan event itself."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts
from services.targets.models import Indicator, Plan, Task
from services.targets.plan_document import (
    Baseline,
    IndicatorSpec,
    MetricSource,
    PlanProblem,
    source_data,
)
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.events import record_event
from zhichan.region_sync import CustomRegion, RegionState

PUBLISHED = ("active", "closed")


def plan_invalid(problems: list[PlanProblem], what: str = "the plan file") -> Invalid:
    errors = [p.as_error() for p in problems]
    shown = "; ".join(f"{e['path'] or '(file)'}: {e['msg']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return Invalid(f"{len(errors)} problem(s) in {what}: {shown}{more}", errors=errors)


def record_region(session: AsyncSession, row: CustomRegion, user: User) -> RegionState:
    """The event of a custom region defined (by a plan file's import too); returns its state."""
    state = row.state()
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate="region",
        verb="defined",
        aggregate_id=state.code,
        region=state.code,
        version=state.version,
        data=state,
        actor=user.sub,
    )
    return state


def new_region_row(code: str, name: str, level: str, parent: str | None) -> CustomRegion:
    return CustomRegion(code=code, name=name, level=level, parent=parent, version=1, defined_at=utcnow())


def is_visible(plan: Plan, user: User | None) -> bool:
    """Published plans are public; drafts are seen in their region only."""
    return plan.status in PUBLISHED or (user is not None and user.sees(plan.region))


async def visible_plan(session: AsyncSession, key: str, user: User | None) -> Plan:
    plan = (await session.execute(select(Plan).where(Plan.key == key))).scalar_one_or_none()
    if plan is None or not is_visible(plan, user):
        raise NotFound(f"no plan {key}")
    return plan


async def plan_parts(session: AsyncSession, plan: Plan) -> tuple[list[Indicator], list[Task]]:
    indicators = (
        await session.execute(select(Indicator).where(Indicator.plan_id == plan.id).order_by(Indicator.position))
    ).scalars()
    tasks = (await session.execute(select(Task).where(Task.plan_id == plan.id).order_by(Task.position))).scalars()
    return list(indicators), list(tasks)


async def writable_plan(session: AsyncSession, key: str, user: User) -> Plan:
    plan = await visible_plan(session, key, user)
    require_write_access(user, plan.region)
    return plan


def require_open(plan: Plan) -> None:
    if plan.status == "closed":
        raise Conflict(f"plan {plan.key} is closed; it no longer changes", current_status=plan.status)


def find_part(rows, key: str, what: str, plan: Plan):
    """The indicator or task with this key among the plan's."""
    for row in rows:
        if row.key == key:
            return row
    raise NotFound(f"no {what} {key} in plan {plan.key}")


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


def publish_plan(
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


def history_entry(status: str, user: User, reason: str | None = None) -> dict[str, Any]:
    entry = {"status": status, "on": today().isoformat(), "at": utcnow().isoformat(), "actor": user.sub}
    if reason:
        entry["reason"] = reason
    return entry


def apply_indicator(row: Indicator, spec: IndicatorSpec) -> None:
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
