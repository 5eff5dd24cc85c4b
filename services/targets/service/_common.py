"""What the targets use cases share: loading a plan and its parts as the caller may see them, the
states their events carry, and the plan event itself."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import contracts
from services.targets.models import Indicator, Plan, PlanPart, Task
from services.targets.plan_document import (
    Baseline,
    IndicatorSpec,
    PlanProblem,
    RegionSpec,
    code_owner,
    source_data,
    source_from_data,
)
from zhichan.api.pagination import PageParams, next_page
from zhichan.api.problems import Conflict, Forbidden, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import today, utcnow
from zhichan.db import state_of
from zhichan.events import record_event
from zhichan.region_sync import CustomRegion, RegionState
from zhichan.regions import CUSTOM_CODE, RegionRegistry

PUBLISHED = ("active", "closed")

Part = TypeVar("Part", bound=PlanPart)


def plan_invalid(problems: list[PlanProblem], what: str = "the plan file") -> Invalid:
    errors = [p.as_error() for p in problems]
    shown = "; ".join(f"{e['path'] or '(file)'}: {e['msg']}" for e in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return Invalid(f"{len(errors)} problem(s) in {what}: {shown}{more}", errors=errors)


def publish(
    session: AsyncSession, aggregate: str, verb: str, key: str, region: str, version: int, data: Any, user: User
) -> None:
    """An event of this service, written to the outbox in the session's transaction."""
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate=aggregate,
        verb=verb,
        aggregate_id=key,
        region=region,
        version=version,
        data=data,
        actor=user.sub,
    )


def record_region(session: AsyncSession, row: CustomRegion, user: User) -> RegionState:
    """The event of a custom region defined (by a plan file's import too); returns its state."""
    state = row.state()
    publish(session, "region", "defined", state.code, state.code, state.version, state, user)
    return state


def require_numbering_access(
    user: User, code: str, parent: str, known: RegionRegistry, given: Mapping[str, RegionSpec] | None = None
) -> None:
    """Who may bring a new region into being (403 otherwise): a GB/T 2260 code only an admin (民政部
    assigns them); a custom one whoever sees the region it is numbered from, as the region's
    officers own the codes beginning with its own. ``code`` lies in ``parent`` by its numbering
    (:func:`~services.targets.plan_document.misnumbered` said so)."""
    if not CUSTOM_CODE.match(code):
        if not user.is_admin:
            raise Forbidden(f"{code} is no GB/T 2260 code known here; only an admin adds one")
        return
    owner = code_owner(code, parent, known, given)
    if owner is not None and owner in known:  # one the file introduces is a new GB/T code: an admin's
        require_write_access(user, owner)


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


async def parts_of(session: AsyncSession, model: type[Part], plan: Plan) -> list[Part]:
    """The plan's indicators or tasks, in plan order."""
    query = select(model).where(model.plan_id == plan.id).order_by(model.position)
    return list((await session.execute(query)).scalars())


async def plan_parts(session: AsyncSession, plan: Plan) -> tuple[list[Indicator], list[Task]]:
    return await parts_of(session, Indicator, plan), await parts_of(session, Task, plan)


async def writable_plan(session: AsyncSession, key: str, user: User) -> Plan:
    plan = await visible_plan(session, key, user)
    require_write_access(user, plan.region)
    return plan


def reporting_of(plan: Plan) -> contracts.ReportingSettings | None:
    """The plan's reporting rounds, if it has any."""
    return contracts.ReportingSettings.model_validate(plan.reporting) if plan.reporting else None


def review_required(plan: Plan) -> bool:
    """Whether only what an officer approved counts of what the plan's departments report."""
    settings = reporting_of(plan)
    return settings is not None and settings.review == "required"


def require_open(plan: Plan) -> None:
    if plan.status == "closed":
        raise Conflict(f"plan {plan.key} is closed; it no longer changes", current_status=plan.status)


def page_by_position(parts: list[Part], page: PageParams) -> tuple[list[Part], str | None]:
    """A page of a plan's indicators or tasks, in plan order: the cursor holds the last one's position."""
    after = page.after.get("position", -1) if page.after else -1
    if not isinstance(after, int):
        raise Invalid.field(["cursor"], "not a cursor this API gave out")
    return next_page([part for part in parts if part.position > after], page, lambda part: {"position": part.position})


def find_part(rows: list[Part], key: str, what: str, plan: Plan) -> Part:
    """The indicator or task with this key among the plan's."""
    for row in rows:
        if row.key == key:
            return row
    raise NotFound(f"no {what} {key} in plan {plan.key}")


# What an indicator's row and what the plan file says of it (its spec) name and hold alike.
_SAME = ("key", "name", "category", "unit", "measure", "direction", "nature", "target", "target_max", "trajectory")


def indicator_spec(row: Indicator) -> IndicatorSpec:
    """What the plan file says of an indicator, from its row."""
    return IndicatorSpec(
        **{name: getattr(row, name) for name in _SAME},
        baseline=Baseline(row.baseline_year, row.baseline_value) if row.baseline_year is not None else None,
        milestones={int(year): Decimal(value) for year, value in row.milestones.items()},
        milestone_maxima={int(year): Decimal(value) for year, value in row.milestone_maxima.items()},
        responsible=list(row.responsible),
        source=source_from_data(row.source),
    )


def indicator_state(row: Indicator) -> contracts.IndicatorState:
    spec = indicator_spec(row)
    return state_of(
        contracts.IndicatorState,
        row,
        baseline=contracts.Baseline(year=row.baseline_year, value=row.baseline_value) if spec.baseline else None,
        milestones={str(year): value for year, value in sorted(spec.milestones.items())},
        milestone_maxima={str(year): value for year, value in sorted(spec.milestone_maxima.items())},
        source=source_data(spec.source),
        accepts_reports=spec.accepts_reports,
    )


def task_state(row: Task) -> contracts.TaskState:
    return state_of(contracts.TaskState, row)


def plan_state(plan: Plan, indicators: list[Indicator], tasks: list[Task]) -> contracts.PlanState:
    return state_of(
        contracts.PlanState,
        plan,
        regions=[contracts.RegionRef(**r) for r in plan.regions],
        indicators=[indicator_state(i) for i in indicators],
        tasks=[task_state(t) for t in tasks],
    )


def publish_plan(
    session: AsyncSession,
    plan: Plan,
    indicators: list[Indicator],
    tasks: list[Task],
    verb: str,
    user: User,
    **changed: str,
) -> contracts.PlanState:
    """The plan's event: its whole state after the change (and, for a change of one indicator or
    task, which one); returns the state."""
    state = plan_state(plan, indicators, tasks)
    payload = {
        "indicator_changed": contracts.IndicatorChanged,
        "task_changed": contracts.TaskChanged,
    }.get(verb, contracts.PlanState)
    publish(session, "plan", verb, plan.key, plan.region, plan.version, payload(**dict(state), **changed), user)
    return state


def history_entry(status: str, user: User, reason: str | None = None) -> dict[str, Any]:
    entry = {"status": status, "on": today().isoformat(), "at": utcnow().isoformat(), "actor": user.sub}
    if reason:
        entry["reason"] = reason
    return entry


def indicator_columns(spec: IndicatorSpec) -> dict[str, Any]:
    """An indicator's columns, from what the plan file says of it (:func:`indicator_spec` reversed)."""
    return {
        **{name: getattr(spec, name) for name in _SAME},
        "baseline_year": spec.baseline.year if spec.baseline else None,
        "baseline_value": spec.baseline.value if spec.baseline else None,
        "milestones": _decimal_texts(spec.milestones),
        "milestone_maxima": _decimal_texts(spec.milestone_maxima),
        "responsible": list(spec.responsible),
        "source": _json_ready(source_data(spec.source)) if spec.source else None,
    }


def _json_ready(data: Any) -> Any:
    """Plain data for a JSON column: decimals as exact text, dates as ISO text."""
    if isinstance(data, dict):
        return {key: _json_ready(value) for key, value in data.items()}
    if isinstance(data, list):
        return [_json_ready(value) for value in data]
    if isinstance(data, Decimal):
        return format(data, "f")
    if isinstance(data, date):
        return data.isoformat()
    return data


def _decimal_texts(figures: dict[int, Decimal]) -> dict[str, str]:
    """Year → figure as a JSON column keeps it: decimal text, exact."""
    return {str(year): format(value, "f") for year, value in sorted(figures.items())}
