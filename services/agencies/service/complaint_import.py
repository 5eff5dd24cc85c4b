"""Complaints from another system (``POST /complaints/import``).

A row is a complaint as the office kept it: received on a date and, once resolved, the date,
outcome and findings (:class:`~services.agencies.schemas.ComplaintRecord`). A complaint not yet
here is received on its date — its handling deadline counted from that date by the service's
rules and calendar — and resolved on its date by the functions the routes use, with the same
events (an upheld one enters the credit archive on the day it was resolved).

A complaint has no number of its own: its natural key is the agency (by USCC), the date received
and the content — what a receipt records; two complaints of one day about one agency with the same
words are one. A complaint here is ``unchanged`` when the row says what it holds, ``updated`` when
the row resolves it; a resolution recorded otherwise, or another channel, is the row's error (no
route changes them). The complainant's contact is kept as first imported.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import domain
from services.agencies.models import Agency, Complaint
from services.agencies.schemas import ComplaintCreate, ComplaintRecord, ComplaintResolve
from services.agencies.service import complaints
from services.agencies.service._common import agencies_by_uscc, agency_named
from zhichan.api.problems import Invalid, ProblemError
from zhichan.auth import User, require_write_access
from zhichan.record_import import KEYS_PER_SELECT, Outcome, RecordKind, RowRefused, vocabulary_cell
from zhichan.tabular import Column
from zhichan.workdays import WorkdayCalendar

COLUMNS = [
    Column("agency_uscc", "机构统一社会信用代码", "the USCC of the agency complained against (imported before)", True),
    Column("channel", "投诉渠道", "hotline 热线 / online 网上 / letter 来信", required=True),
    Column("received_on", "受理日期", "2024-03-01 (also 2024/3/1, 2024年3月1日); the deadline counts from it", True),
    Column("content", "投诉内容", "at most 5,000 characters", required=True),
    Column("complainant_contact", "投诉人联系方式", "kept private: never published"),
    Column("resolved_on", "办结日期", "on or after the day received"),
    Column("outcome", "处理结果", "upheld 属实 / rejected 不属实 / mediated 调解 (with 办结日期)"),
    Column("findings", "处理意见", "what was found (with 办结日期)"),
]
EXAMPLES = [
    {
        "agency_uscc": "91320311000000001G",
        "channel": "热线",
        "received_on": date(2024, 3, 4),
        "content": "代理机构未按约定时间提交专利申请",
        "complainant_contact": "李女士 13912345678",
        "resolved_on": date(2024, 3, 20),
        "outcome": "属实",
        "findings": "经查属实，已责令整改",
    },
    {
        "agency_uscc": "91320311000000001G",
        "channel": "online",
        "received_on": date(2024, 11, 8),
        "content": "收费未明码标价",
    },
]
RESOLUTION = ("resolved_on", "outcome", "findings")

Key = tuple[str, date, str]
Here = tuple[list[Agency], Complaint | None]


def key_of(record: ComplaintRecord) -> Key:
    return record.agency_uscc, record.received_on, record.content


def kind(handling_working_days: int, calendar: WorkdayCalendar) -> RecordKind[ComplaintRecord]:
    """The import of complaints whose deadlines count ``handling_working_days`` by ``calendar``
    (the service's rules, as ``POST /complaints`` counts them)."""

    async def import_record(session: AsyncSession, record: ComplaintRecord, here: Here, user: User) -> Outcome:
        agencies, complaint = here
        agency = agency_named(agencies)
        if agency is None or not user.sees(agency.region):
            raise RowRefused("agency_uscc", Invalid.field(["agency_uscc"], f"no agency of USCC {record.agency_uscc}"))
        resolution = _resolution(record)
        try:
            require_write_access(user, agency.region)
            if complaint is None:
                data = ComplaintCreate(
                    agency_id=agency.id,
                    channel=record.channel,
                    received_on=record.received_on,
                    content=record.content,
                    complainant_contact=record.complainant_contact,
                )
                complaint = complaints.received(session, agency, data, user, handling_working_days, calendar)
                outcome: Outcome = "created"
            else:
                outcome = _compared(complaint, record, resolution)
            if resolution is not None and complaint.status == "open":
                await complaints.resolved(session, complaint, resolution, user)
                outcome = "updated" if outcome == "unchanged" else outcome
        except ProblemError as exc:
            raise RowRefused(str(exc.errors[0]["loc"][-1]) if exc.errors else "resolved_on", exc) from None
        return outcome

    return RecordKind(
        what="complaint",
        columns=COLUMNS,
        model=ComplaintRecord,
        cells={
            "channel": vocabulary_cell(domain.COMPLAINT_CHANNELS),
            "outcome": vocabulary_cell(domain.COMPLAINT_OUTCOMES),
        },
        key=key_of,
        key_column="content",
        found=_found,
        import_record=import_record,
    )


def _resolution(record: ComplaintRecord) -> ComplaintResolve | None:
    """The resolution a record gives, all of its three columns or none."""
    given = [name for name in RESOLUTION if getattr(record, name) is not None]
    if not given:
        return None
    missing = next((name for name in RESOLUTION if name not in given), None)
    if missing is not None:
        raise RowRefused(missing, Invalid.field([missing], f"a resolution needs {', '.join(RESOLUTION)}"))
    return ComplaintResolve(outcome=record.outcome, findings=record.findings, resolved_on=record.resolved_on)


def _compared(complaint: Complaint, record: ComplaintRecord, resolution: ComplaintResolve | None) -> Outcome:
    """``unchanged``, or the row's error where it says otherwise than the complaint recorded."""
    if complaint.channel != record.channel:
        raise Invalid.field(["channel"], f"the complaint was received by {complaint.channel}: it does not change")
    if complaint.status == "resolved":
        recorded = (complaint.resolved_on, complaint.outcome, complaint.findings)
        if resolution is None or recorded != (resolution.resolved_on, resolution.outcome, resolution.findings):
            raise Invalid.field(
                ["resolved_on"],
                f"the complaint was resolved on {complaint.resolved_on.isoformat()} ({complaint.outcome}): "
                "a resolution stays as it is",
            )
    return "unchanged"


async def _found(session: AsyncSession, records: list[ComplaintRecord]) -> dict[Key, Here]:
    agencies = await agencies_by_uscc(session, {record.agency_uscc for record in records})
    ids = sorted({agency.id for listed in agencies.values() for agency in listed})
    received = {record.received_on for record in records}
    here: dict[tuple[str, date, str], Complaint] = {}
    for start in range(0, len(ids), KEYS_PER_SELECT):
        query = select(Complaint).where(
            Complaint.agency_id.in_(ids[start : start + KEYS_PER_SELECT]), Complaint.received_on.in_(received)
        )
        here.update({(c.agency_id, c.received_on, c.content): c for c in (await session.execute(query)).scalars()})
    found: dict[Key, Here] = {}
    for record in records:
        listed = agencies.get(record.agency_uscc, [])
        agency = agency_named(listed)
        complaint = here.get((agency.id, record.received_on, record.content)) if agency else None
        found[key_of(record)] = (listed, complaint)
    return found
