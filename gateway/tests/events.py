"""Events for the gateway's tests, built from the producers' own contract models: a payload that
a service could not publish fails here, at construction, instead of passing a test that the real
stream would break. Each builder fills what a test does not care about with plausible values and
takes what it does care about as arguments."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from services.agencies import contracts as agencies
from services.enforcement import contracts as enforcement
from services.financing import contracts as financing
from services.targets import contracts as targets
from zhichan.events.envelope import Envelope
from zhichan.statistics_catalogue import parse_period

T0 = datetime(2025, 1, 1, tzinfo=UTC)
USCC = "91320311MA1R7J8H4T"


def event(
    state: BaseModel,
    type_: str,
    *,
    version: int | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """The envelope the state's service publishes: its source, the aggregate as subject, the
    state's region and version, the payload as the service dumps it."""
    _zhichan, service, aggregate, _verb, _v = type_.split(".")
    extra: dict[str, Any] = {}
    if event_id is not None:
        extra["id"] = event_id
    if time is not None:
        extra["time"] = time
    return Envelope(
        source=f"/zhichan/{service}",
        type=type_,
        subject=f"{aggregate}/{state.id}",
        region=state.region,
        aggregateversion=state.version if version is None else version,
        data=state.model_dump(mode="json"),
        **extra,
    )


def _at(on: date | str, hour: int = 0) -> datetime:
    day = date.fromisoformat(on) if isinstance(on, str) else on
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _day(on: date | str | None) -> date | None:
    return date.fromisoformat(on) if isinstance(on, str) else on


# --- enforcement ----------------------------------------------------------------------------------


def case_state(
    case_id: str,
    filed: date | str,
    *,
    region: str = "320311",
    closed: date | str | None = None,
    on_time: bool | None = None,
    overdue: list[tuple[date | str, date | str | None]] = (),
    case_type: str = "trademark_infringement",
    procedure: str = "administrative_penalty",
    origin: str = "complaint",
    version: int = 1,
) -> enforcement.CaseState:
    """A case filed on ``filed``, closed on ``closed`` (on time or not), with the periods it was
    overdue (an open end: overdue still)."""
    filed, closed = _day(filed), _day(closed)
    base_due = filed + timedelta(days=90)
    timeline = [enforcement.Step(action="file", status="filed", date=filed, at=_at(filed))]
    if closed is not None:
        timeline.append(enforcement.Step(action="close", status="closed", date=closed, at=_at(closed)))
    return enforcement.CaseState(
        id=case_id,
        region=region,
        case_number=f"{region}-{case_id}",
        type=case_type,
        procedure=procedure,
        origin=origin,
        respondent=enforcement.PartyState(kind="organization", name="某商贸有限公司", uscc=USCC),
        filed_date=filed,
        handling_unit="区市场监管局",
        status="closed" if closed is not None else "filed",
        deadline_rule=enforcement.DeadlineRuleState(
            procedure=procedure, base_amount=90, base_unit="days", extension_amount=30, extension_unit="days"
        ),
        base_due_date=base_due,
        period_end=base_due,
        suspensions=[],
        suspended_days=0,
        due_date=base_due,
        due_date_basis=f"90 days from filing on {filed.isoformat()} → {base_due.isoformat()}.",
        overdue_periods=[enforcement.Period(start=_day(start), end=_day(end)) for start, end in overdue],
        closed_date=closed,
        closed_on_time=on_time,
        timeline=timeline,
        version=version,
        created_at=_at(filed),
        updated_at=_at(closed or filed),
    )


def case_event(state: enforcement.CaseState, **kwargs: Any) -> Envelope:
    return event(state, enforcement.CASE_CLOSED if state.closed_date else enforcement.CASE_FILED, **kwargs)


# --- financing ------------------------------------------------------------------------------------


def pledge_state(
    pledge_id: str, registered: date | str, amount: str | Decimal, *, region: str = "320311", version: int = 1
) -> financing.PledgeState:
    """A patent pledge of ``amount`` 元 registered on ``registered``."""
    registered = _day(registered)
    return financing.PledgeState(
        id=pledge_id,
        region=region,
        registration_number=f"Y{registered:%Y}{pledge_id}",
        pledgor=financing.Party(name="某科技有限公司", uscc=USCC),
        pledgee="某银行",
        assets=[financing.Asset(type="patent", number="ZL202310000001.1", title="一种装置")],
        asset_types=["patent"],
        kind="patent",
        patent_count=1,
        loan_amount=Decimal(amount),
        registered_on=registered,
        loan_term_start=registered,
        loan_term_end=registered + timedelta(days=365),
        guarantee_mode="direct",
        status="registered",
        subsidies=[],
        risk_compensations=[],
        status_history=[financing.StatusChange(status="registered", on=registered, at=_at(registered))],
        version=version,
        created_at=_at(registered),
        updated_at=_at(registered),
    )


def pledge_event(state: financing.PledgeState, **kwargs: Any) -> Envelope:
    return event(state, financing.PLEDGE_REGISTERED, **kwargs)


# --- agencies -------------------------------------------------------------------------------------


def agency_state(
    agency_id: str,
    history: list[tuple[str, date | str]],
    *,
    region: str = "320311",
    offline: bool = False,
    in_cluster: bool = False,
    brand_level: str = "none",
    service_types: list[str] = ("patent_agency",),
    version: int | None = None,
) -> agencies.AgencyState:
    """An agency through the statuses of ``history`` (status, business date), filed first."""
    changes = [
        agencies.StatusChange(status=status, on=_day(on), at=_at(on, hour=i)) for i, (status, on) in enumerate(history)
    ]
    return agencies.AgencyState(
        id=agency_id,
        name="知信专利代理事务所",
        uscc=USCC,
        region=region,
        service_types=list(service_types),
        licence_numbers=[],
        offline=offline,
        in_cluster=in_cluster,
        brand_level=brand_level,
        status=changes[-1].status,
        filed_on=changes[0].on,
        status_history=changes,
        version=len(history) if version is None else version,
        created_at=changes[0].at,
        updated_at=changes[-1].at,
    )


AGENCY_EVENT_FOR_STATUS = {
    "filed": agencies.AGENCY_FILED,
    "active": agencies.AGENCY_APPROVED,
    "suspended": agencies.AGENCY_SUSPENDED,
    "deregistered": agencies.AGENCY_DEREGISTERED,
}


def agency_event(state: agencies.AgencyState, type_: str | None = None, **kwargs: Any) -> Envelope:
    return event(state, type_ or AGENCY_EVENT_FOR_STATUS.get(state.status, agencies.AGENCY_UPDATED), **kwargs)


# --- targets: plans and statistics ----------------------------------------------------------------


def indicator_state(
    key: str, unit: str, measure: str, target: str | Decimal, source: dict | str, **fields: Any
) -> targets.IndicatorState:
    """An indicator read from ``source`` (a contract source shape, as a plan file gives it)."""
    return targets.IndicatorState.model_validate(
        {
            "key": key,
            "name": key,
            "category": "creation",
            "unit": unit,
            "measure": measure,
            "direction": "at_least",
            "nature": "expected",
            "target": target,
            "milestones": {},
            "responsible": ["区市场监管局"],
            "source": source,
            "accepts_reports": source == "reported",
            "version": 1,
            "updated_at": T0,
            **fields,
        }
    )


def plan_state(
    key: str,
    indicators: list[targets.IndicatorState],
    *,
    region: str = "320311",
    start: date | str = "2025-01-01",
    end: date | str = "2026-12-31",
    version: int = 1,
) -> targets.PlanState:
    """An active plan of ``region`` with these indicators and no task."""
    return targets.PlanState(
        id=key,
        key=key,
        region=region,
        title=f"{key} 知识产权工作方案",
        start=_day(start),
        end=_day(end),
        status="active",
        regions=[],
        indicators=indicators,
        tasks=[],
        status_history=[targets.StatusChange(status="active", on=_day(start), at=_at(start))],
        version=version,
        created_at=T0,
        updated_at=T0,
    )


def plan_event(state: targets.PlanState, **kwargs: Any) -> Envelope:
    return event(state, targets.PLAN_ACTIVATED, **kwargs)


def release_state(
    release_id: str,
    statistic: str,
    period: str,
    value: str | Decimal,
    unit: str,
    *,
    published_on: date | str,
    region: str = "320311",
    revises: str | None = None,
) -> targets.StatisticReleaseState:
    """A release of ``statistic`` for ``period`` (2025, 2025Q3, 2025-10), made on its publication day."""
    found = parse_period(period)
    return targets.StatisticReleaseState(
        id=release_id,
        statistic=statistic,
        region=region,
        period=found.label,
        period_kind=found.kind,
        period_start=found.start,
        period_end=found.end,
        value=Decimal(value),
        unit=unit,
        source="国家知识产权局统计月报",
        published_on=_day(published_on),
        revises=revises,
        reporter="officer",
        created_at=_at(published_on),
    )


def release_event(state: targets.StatisticReleaseState, **kwargs: Any) -> Envelope:
    return event(state, targets.STATISTIC_RELEASED, version=1, **kwargs)


def definition_event(state: targets.StatisticDefinitionState) -> Envelope:
    """An admin's catalogue entry, as targets publishes it: keyed by its code, of no region."""
    return Envelope(
        source="/zhichan/targets",
        type=targets.STATISTIC_DEFINED,
        subject=f"statistic/{state.code}",
        region="",
        aggregateversion=state.version,
        data=state.model_dump(mode="json"),
    )
