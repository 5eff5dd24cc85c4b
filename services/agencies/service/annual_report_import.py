"""Annual reports from another system (``POST /annual-reports/import``).

A row is an agency's (by USCC) report of a year (:class:`~services.agencies.schemas.AnnualReportRecord`),
keyed as the table's unique index keys the current report: agency and year. A report not yet
here is submitted by the function the route uses — on the row's submission date when it gives
one — with the same checks (a year that has begun, not before the filing) and event. A current
report that says what the row says is ``unchanged``; figures that differ are a correction, which
the rules take only with a reason (``supersede_reason``, 更正原因): the row is then ``updated``
(the earlier report superseded, as the route does), else the row's error.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import domain
from services.agencies.models import Agency, AnnualReport
from services.agencies.schemas import AnnualReportCreate, AnnualReportRecord
from services.agencies.service import annual_reports
from services.agencies.service._common import agencies_by_uscc, agency_named, business_date
from zhichan.api.problems import Invalid, ProblemError
from zhichan.auth import User, require_write_access
from zhichan.clock import today
from zhichan.record_import import KEYS_PER_SELECT, Outcome, RecordKind, RowRefused, number_cell
from zhichan.tabular import Column

COLUMNS = [
    Column("agency_uscc", "机构统一社会信用代码", "the USCC of the agency (imported before)", required=True),
    Column("year", "年度", "the year reported on, e.g. 2023; not before the filing's", required=True),
    Column("staff", "从业人员数", "a whole number", required=True),
    Column("practitioners", "执业人员数", "among the staff", required=True),
    Column("service_revenue", "服务收入(元)", "yuan, e.g. 1234567.89", required=True),
    Column("filings_handled", "代理申请量", "filings (applications) handled in the year", required=True),
    Column("submitted_on", "报送日期", "default: the day of the import"),
    Column("supersede_reason", "更正原因", "to correct the year's report already here: why"),
]
EXAMPLES = [
    {
        "agency_uscc": "91320311000000001G",
        "year": 2022,
        "staff": 12,
        "practitioners": 5,
        "service_revenue": "1860000.00",
        "filings_handled": 420,
        "submitted_on": date(2023, 3, 20),
    },
    {
        "agency_uscc": "91320311000000001G",
        "year": 2023,
        "staff": 14,
        "practitioners": 6,
        "service_revenue": "2105000.50",
        "filings_handled": 475,
        "submitted_on": date(2024, 3, 18),
    },
]
FIGURES = ("staff", "practitioners", "service_revenue", "filings_handled")
Key = tuple[str, int]
Here = tuple[list[Agency], AnnualReport | None]


def key_of(record: AnnualReportRecord) -> Key:
    return record.agency_uscc, record.year


async def import_record(session: AsyncSession, record: AnnualReportRecord, here: Here, user: User) -> Outcome:
    agencies, current = here
    agency = agency_named(agencies)
    if agency is None or not user.sees(agency.region):
        raise RowRefused("agency_uscc", Invalid.field(["agency_uscc"], f"no agency of USCC {record.agency_uscc}"))
    if current is not None and all(getattr(current, name) == getattr(record, name) for name in FIGURES):
        return "unchanged"
    try:
        require_write_access(user, agency.region)
        try:
            domain.check_report_year(record.year, agency.filed_on.year, today())
        except domain.BusinessDateError as exc:
            raise Invalid.field(["year"], str(exc)) from None
        submitted_on = business_date(record.submitted_on, "submitted_on", what="submission date")
        report = AnnualReportCreate(**record.model_dump(exclude={"agency_uscc", "submitted_on"}))
        await annual_reports.submitted(session, agency, report, submitted_on, user)
    except ProblemError as exc:
        column = str(exc.errors[0]["loc"][-1]) if exc.errors else "supersede_reason"
        raise RowRefused(column, exc) from None
    return "created" if current is None else "updated"


async def _found(session: AsyncSession, records: list[AnnualReportRecord]) -> dict[Key, Here]:
    agencies = await agencies_by_uscc(session, {record.agency_uscc for record in records})
    wanted = sorted({(a.id, r.year) for r in records if (a := agency_named(agencies.get(r.agency_uscc)))})
    current: dict[tuple[str, int], AnnualReport] = {}
    for start in range(0, len(wanted), KEYS_PER_SELECT):
        query = select(AnnualReport).where(
            tuple_(AnnualReport.agency_id, AnnualReport.year).in_(wanted[start : start + KEYS_PER_SELECT]),
            AnnualReport.status == "current",
        )
        current.update({(r.agency_id, r.year): r for r in (await session.execute(query)).scalars()})
    found: dict[Key, Here] = {}
    for record in records:
        listed = agencies.get(record.agency_uscc, [])
        agency = agency_named(listed)
        found[key_of(record)] = (listed, current.get((agency.id, record.year)) if agency else None)
    return found


ANNUAL_REPORTS = RecordKind(
    what="annual report",
    columns=COLUMNS,
    model=AnnualReportRecord,
    cells={name: number_cell for name in ("year", *FIGURES)},
    key=key_of,
    key_column="year",
    found=_found,
    import_record=import_record,
)
