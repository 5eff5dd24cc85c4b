"""Agencies from another system: a spreadsheet of them (``POST /agencies/import``) or one pushed by
its USCC (``PUT /agencies/by-uscc/{uscc}``).

A row is an agency's filing (备案) and the business date of each change of status since
(:class:`~services.agencies.schemas.AgencyRecord`). An agency not yet here is filed on its date
and taken through those changes by the state machine the routes use
(:func:`filings.take_action`), so its status history and events are what they would have been,
one per change. An agency already here (by USCC: the one of the row's filing date, else the one
not deregistered) is ``unchanged`` when the row says what it holds, else ``updated``: changes it
lacks are taken, particulars corrected (event ``updated``); a change it recorded otherwise, or one
the state machine refuses, is the row's error.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import contracts, domain
from services.agencies.models import Agency
from services.agencies.schemas import AgencyRecord
from services.agencies.service import filings
from services.agencies.service._common import agencies_by_uscc, business_date, publish
from zhichan.api.etag import check_if_match
from zhichan.api.problems import Conflict, Invalid, PreconditionFailed, ProblemError
from zhichan.auth import User, require_write_access
from zhichan.clock import utcnow
from zhichan.db import commit_or_conflict
from zhichan.record_import import Outcome, RecordKind, RowRefused, codes_of, items_of, vocabulary_cell, yes_or_no
from zhichan.tabular import Column

COLUMNS = [
    Column("region", "行政区划代码", "6-digit region code (GB/T 2260), e.g. 320311", required=True),
    Column("uscc", "统一社会信用代码", "18 characters (GB 32100-2015): the agency's key", required=True),
    Column("name", "机构名称", "the agency's name", required=True),
    Column("address", "地址", "its address"),
    Column(
        "service_types",
        "服务类型",
        "codes or labels separated by 、 or commas, e.g. patent_agency、consulting / 专利代理、知识产权咨询",
        required=True,
    ),
    Column("licence_numbers", "许可证号", "separated by 、 or commas"),
    Column("offline", "线下服务场所", "是 or 否 (default 否)"),
    Column("in_cluster", "位于集聚区", "是 or 否 (default 否)"),
    Column("brand_level", "品牌机构等级", "code or label (default none); changes later by decision only"),
    Column("filed_on", "备案日期", "2021-03-01 (also 2021/3/1, 2021年3月1日); not in the future", required=True),
    Column("approved_on", "审核通过日期", "filed → active"),
    Column("suspended_on", "暂停日期", "active → suspended (one suspension a row)"),
    Column("reinstated_on", "恢复日期", "suspended → active"),
    Column("deregistered_on", "注销日期", "→ deregistered; its practitioners leave that day"),
]
EXAMPLES = [
    {
        "region": "320311",
        "uscc": "91320311000000001G",
        "name": "徐州知信专利代理事务所",
        "address": "徐州市泉山区解放南路1号",
        "service_types": "专利代理、商标代理",
        "licence_numbers": "32001",
        "offline": "是",
        "in_cluster": "否",
        "filed_on": date(2021, 3, 1),
        "approved_on": date(2021, 3, 15),
    },
    {
        "region": "320300",
        "uscc": "91320300000000002M",
        "name": "徐州某某商标事务所",
        "service_types": "trademark_agency",
        "filed_on": date(2019, 6, 3),
        "approved_on": date(2019, 6, 20),
        "suspended_on": date(2022, 4, 1),
        "reinstated_on": date(2022, 7, 1),
        "deregistered_on": date(2024, 1, 10),
    },
]
# Each change, in the order two changes of one day are taken, and its date's field.
DATE_OF_ACTION = {
    "approve": "approved_on",
    "suspend": "suspended_on",
    "reinstate": "reinstated_on",
    "deregister": "deregistered_on",
}
RANK = {action: rank for rank, action in enumerate(DATE_OF_ACTION)}
STATUS_OF_ACTION = {action: target for action, (_from, target) in domain.TRANSITIONS.items()}
# The particulars an import corrects on an agency here (event ``updated``), as PATCH does.
PARTICULARS = ("name", "address", "service_types", "licence_numbers", "offline", "in_cluster")


def planned_changes(record: AgencyRecord) -> list[tuple[str, date]]:
    """The changes of status a record's dates say, in the order they were taken."""
    changes = [(action, getattr(record, field)) for action, field in DATE_OF_ACTION.items() if getattr(record, field)]
    return sorted(changes, key=lambda change: (change[1], RANK[change[0]]))


async def import_record(session: AsyncSession, record: AgencyRecord, here: list[Agency] | None, user: User) -> Outcome:
    """Brings the agency of ``record`` (``here``: the agencies of its USCC, if any) to what the
    record says, in the session; :class:`RowRefused` when it cannot be."""
    return (await _brought_about(session, record, _agency_of(record, here or [], user), user))[1]


def _agency_of(record: AgencyRecord, agencies: list[Agency], user: User) -> Agency | None:
    """The agency the record is of: the one filed on its date, else none (a new filing) — unless
    the USCC is filed otherwise and not deregistered, which a new filing may not be."""
    same = next((a for a in agencies if a.filed_on == record.filed_on), None)
    live = next((a for a in agencies if a.status != "deregistered"), None)
    agency = same or live
    if agency is not None and not user.sees(agency.region):  # not the caller's to know of
        raise RowRefused("uscc", Conflict(f"USCC {record.uscc} is already filed"))
    if same is None and live is not None:
        raise RowRefused(
            "filed_on",
            Invalid.field(
                ["filed_on"],
                f"USCC {record.uscc} is filed as agency {live.id} on {live.filed_on.isoformat()}: "
                "a filing date does not change",
            ),
        )
    return same


async def _brought_about(
    session: AsyncSession, record: AgencyRecord, agency: Agency | None, user: User
) -> tuple[Agency, Outcome]:
    try:
        require_write_access(user, record.region)
        if agency is None:
            agency, outcome = _filed(session, record, user), "created"
            changes = planned_changes(record)
        else:
            changes = _changes_beyond(agency, record)
            amended = _amend(session, agency, record, user)
            outcome = "updated" if amended or changes else "unchanged"
    except ProblemError as exc:
        raise RowRefused(str(exc.errors[0]["loc"][-1]) if exc.errors else "region", exc) from None
    for action, on in changes:
        try:
            await filings.take_action(session, agency, action, on, None, user)
        except domain.TransitionNotAllowed as exc:
            raise RowRefused(DATE_OF_ACTION[action], filings.refused_action(exc, agency)) from None
        except domain.BusinessDateError as exc:
            raise RowRefused(DATE_OF_ACTION[action], Invalid.field([DATE_OF_ACTION[action]], str(exc))) from None
    return agency, outcome


def _filed(session: AsyncSession, record: AgencyRecord, user: User) -> Agency:
    """The agency filed on the record's date, with its event ``filed`` (the caller commits). Through
    the ORM, as every write but the filing route's (which keeps its benchmarked insert)."""
    filed_on = business_date(record.filed_on, "filed_on", what="filing date")
    agency = Agency.new(
        name=record.name,
        uscc=record.uscc,
        region=record.region,
        address=record.address,
        service_types="," + ",".join(record.service_types) + ",",
        licence_numbers=list(record.licence_numbers),
        offline=record.offline,
        in_cluster=record.in_cluster,
        brand_level=record.brand_level,
        status="filed",
        filed_on=filed_on,
        status_history=[{"status": "filed", "on": filed_on.isoformat(), "at": utcnow().isoformat(), "actor": user.sub}],
        brand_history=[],
    )
    session.add(agency)
    publish(session, "agency", "filed", filings.agency_state(agency), user)
    return agency


def _changes_beyond(agency: Agency, record: AgencyRecord) -> list[tuple[str, date]]:
    """The record's changes the agency has not taken; its recorded changes must be the record's first."""
    for name in ("region", "brand_level"):
        if getattr(record, name) != getattr(agency, name):
            because = "it changes by decision (POST /agencies/{id}/brand-level)" if name == "brand_level" else ""
            raise Invalid.field([name], f"the agency's {name} is {getattr(agency, name)}: it cannot change {because}")
    planned = planned_changes(record)
    recorded = agency.status_history[1:]
    for position, entry in enumerate(recorded):
        wanted = planned[position] if position < len(planned) else None
        if wanted is None or (STATUS_OF_ACTION[wanted[0]], wanted[1].isoformat()) != (entry["status"], entry["on"]):
            instead = "" if wanted is None else f" where the row says {wanted[0]} on {wanted[1].isoformat()}"
            field = DATE_OF_ACTION[wanted[0]] if wanted else _field_of_status(entry["status"])
            raise Invalid.field(
                [field], f"the agency became {entry['status']} on {entry['on']}{instead}: a recorded change stays"
            )
    return planned[len(recorded) :]


def _field_of_status(status: str) -> str:
    return next(DATE_OF_ACTION[a] for a, target in STATUS_OF_ACTION.items() if target == status)


def _amend(session: AsyncSession, agency: Agency, record: AgencyRecord, user: User) -> bool:
    """Corrects the agency's particulars to the record's, with the event ``updated``; False when
    they are the same."""
    wanted: dict[str, Any] = {name: getattr(record, name) for name in PARTICULARS}
    current: dict[str, Any] = {name: getattr(agency, name) for name in PARTICULARS}
    current["service_types"] = agency.service_type_list
    changed = {name: value for name, value in wanted.items() if current[name] != value}
    if not changed:
        return False
    for name, value in changed.items():
        setattr(agency, name, "," + ",".join(value) + "," if name == "service_types" else value)
    agency.touch()
    publish(session, "agency", "updated", filings.agency_state(agency), user)
    return True


async def _found(session: AsyncSession, records: list[AgencyRecord]) -> dict[str, list[Agency]]:
    return await agencies_by_uscc(session, {record.uscc for record in records})


AGENCIES = RecordKind(
    what="agency",
    columns=COLUMNS,
    model=AgencyRecord,
    cells={
        "service_types": codes_of(domain.SERVICE_TYPES),
        "licence_numbers": items_of,
        "offline": yes_or_no,
        "in_cluster": yes_or_no,
        "brand_level": vocabulary_cell(domain.BRAND_LEVELS),
    },
    key=lambda record: record.uscc,
    key_column="uscc",
    found=_found,
    import_record=import_record,
)


async def put_record(
    session: AsyncSession, record: AgencyRecord, user: User, if_match: str | None
) -> tuple[contracts.AgencyState, Outcome]:
    """An agency pushed by its USCC: filed, or brought to the record; ``If-Match``, when sent, is
    the ETag of the agency as the caller last read it (an agency that does not exist matches none)."""
    here = (await agencies_by_uscc(session, {record.uscc}, for_update=True)).get(record.uscc, [])
    try:
        agency = _agency_of(record, here, user)
        if if_match:
            if agency is None:
                raise PreconditionFailed(
                    f"no agency of USCC {record.uscc} filed on {record.filed_on}: If-Match matches none"
                )
            check_if_match(if_match, agency.id, agency.version)
        agency, outcome = await _brought_about(session, record, agency, user)
    except RowRefused as exc:
        raise exc.answer from None
    if outcome != "unchanged":
        await commit_or_conflict(session, f"USCC {record.uscc} was filed at the same time; push again")
    return filings.agency_state(agency), outcome
