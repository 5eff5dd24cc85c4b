"""Cases from another system: a spreadsheet of them (``POST /cases/import``) or one pushed by its
number (``PUT /cases/by-number/{region}/{case_number}``).

A row is a case's record as the office kept it: its filing and the business date of each step
since (:class:`~services.enforcement.schemas.CaseRecord`). A case not yet here is filed and
walked through those steps on their dates by the very functions the routes use
(:func:`cases.open_case`, :func:`cases.take_step`), so it has the same timeline, deadline and
events, one per step, as if each step had been recorded on the day. A case already here
(by region and case number) is ``unchanged`` when the row says what it holds, else ``updated``:
steps it lacks are taken, descriptive fields corrected (event ``amended``); a step it recorded
otherwise, or a step the state machine refuses, is the row's error.

Every row is worked through in one transaction before anything is committed: a file with any
problem is refused whole, and a dry run rolls back what it did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement import domain
from services.enforcement.models import Case, RegionPolicy
from services.enforcement.schemas import CaseRecord
from services.enforcement.service import cases, watchlist
from services.enforcement.service._common import publish
from services.enforcement.service._in_force import chain_of, policies_of
from zhichan import record_import
from zhichan.api.etag import check_if_match
from zhichan.api.imports import ImportResult
from zhichan.api.problems import Invalid, PreconditionFailed, ProblemError
from zhichan.auth import User, require_write_access
from zhichan.db import commit_or_conflict
from zhichan.record_import import KEYS_PER_SELECT, Outcome, Progress, RecordKind, RowRefused
from zhichan.tabular import CellProblem, Column, Row, Table, parse_day, text_of
from zhichan.vocabulary import Vocabulary

COLUMNS = [
    Column("region", "行政区划代码", "6-digit region code (GB/T 2260), e.g. 420502", required=True),
    Column("case_number", "立案号", "unique in the region, e.g. 宜市监知立〔2024〕15号", required=True),
    Column("type", "案件类型", "code or label, e.g. trademark_infringement / 商标侵权", required=True),
    Column("procedure", "程序", "administrative_penalty 行政处罚 / administrative_adjudication / mediation", True),
    Column(
        "origin",
        "案件来源",
        "complaint 投诉举报 / inspection 检查发现 / campaign / referral / online_monitoring",
        required=True,
    ),
    Column("respondent_kind", "当事人类型", "organization 单位 or natural_person 自然人; default by the USCC"),
    Column("respondent_name", "当事人名称", "the respondent's name", required=True),
    Column("respondent_uscc", "当事人统一社会信用代码", "18 characters; an organization's is required"),
    Column("respondent_id_number", "当事人身份证号", "a natural person's identity card number; never published"),
    Column("complainant_name", "投诉人", "name of the complainant, if any"),
    Column("summary", "案情摘要", "at most 2,000 characters"),
    Column("handling_unit", "承办单位", "e.g. 市场监管局稽查支队", required=True),
    Column("campaign_id", "专项行动编号", "the campaign's id, when the case comes from one"),
    Column("filed_date", "立案日期", "2024-03-01 (also 2024/3/1, 2024年3月1日); not in the future", required=True),
    Column("investigated_date", "开始调查日期", "default: the filing date when a later step needs it"),
    Column("extended_date", "延期批准日期", "the deadline's extension, approved on or before the deadline"),
    Column("extension_approver", "延期批准人", "who approved the extension (with 延期批准日期)"),
    Column("extension_reason", "延期理由", "why (with 延期批准日期)"),
    Column("suspended_date", "中止日期", "the clock stops; several suspensions: 2024-04-01；2024-07-01"),
    Column("resumed_date", "恢复日期", "the clock runs again; one date for each suspension that ended, in order"),
    Column(
        "suspension_reason", "中止理由", "why (with 中止日期): one for every suspension, or one each, separated by ；"
    ),
    Column("decided_date", "决定日期", "the decision's date"),
    Column("outcome", "决定结果", "penalty_decision 行政处罚决定 / dismissed 不予处罚/驳回/终止 / …"),
    Column("fine", "罚款(元)", "yuan, e.g. 50000 or 12500.50"),
    Column("confiscation", "没收(元)", "yuan"),
    Column("illegal_revenue", "违法经营额(元)", "yuan"),
    Column("decision_number", "决定书文号", "e.g. 宜市监处罚〔2024〕8号"),
    Column("closed_date", "结案日期", "结案, after the decision"),
    Column("transferred_date", "移送日期", "移送 ends the case for the office"),
    Column("transfer_to", "移送机关类型", "police 公安机关 / judiciary 司法机关 / other_authority"),
    Column("receiving_body", "接收机关", "e.g. 宜昌市公安局西陵区分局"),
    Column("withdrawn_date", "撤销日期", "撤销立案"),
]
EXAMPLES = [
    {
        "region": "420502",
        "case_number": "宜西市监知立〔2024〕15号",
        "type": "商标侵权",
        "procedure": "行政处罚",
        "origin": "投诉举报",
        "respondent_name": "宜昌市某某商贸有限公司",
        "respondent_uscc": "91420502000000001G",
        "complainant_name": "某某（中国）有限公司",
        "handling_unit": "西陵区市场监管局",
        "filed_date": date(2024, 3, 4),
        "investigated_date": date(2024, 3, 6),
        "decided_date": date(2024, 5, 20),
        "outcome": "行政处罚决定",
        "fine": 50000,
        "decision_number": "宜西市监处罚〔2024〕8号",
        "closed_date": date(2024, 5, 31),
    },
    {
        "region": "420500",
        "case_number": "宜市监知立〔2024〕3号",
        "type": "专利侵权纠纷",
        "procedure": "administrative_adjudication",
        "origin": "complaint",
        "respondent_name": "宜昌某某科技有限公司",
        "respondent_uscc": "91420500000000002N",
        "handling_unit": "宜昌市知识产权局",
        "filed_date": date(2024, 10, 8),
        "suspended_date": "2024-11-01；2025-01-06",
        "resumed_date": "2024-12-02",
        "suspension_reason": "等待专利无效宣告请求审查结论",
    },
]
REQUIRED = [c for c in COLUMNS if c.required]
DATE_COLUMNS = frozenset(c.code for c in COLUMNS if c.code.endswith("_date"))
VOCABULARIES: dict[str, Vocabulary] = {
    "type": domain.CASE_TYPES,
    "procedure": domain.PROCEDURES,
    "origin": domain.ORIGINS,
    "respondent_kind": domain.PARTY_KINDS,
    "outcome": domain.DECISION_OUTCOMES,
    "transfer_to": domain.TRANSFER_TARGETS,
}
# Each step of the lifecycle and its date's column.
DATE_OF_ACTION = {
    "investigate": "investigated_date",
    "extend": "extended_date",
    "suspend": "suspended_date",
    "resume": "resumed_date",
    "decide": "decided_date",
    "close": "closed_date",
    "transfer": "transferred_date",
    "withdraw": "withdrawn_date",
}
# A row's suspensions: each column lists one value a suspension, separated by a semicolon.
SUSPENSION_COLUMNS = {"suspended_date": "start", "resumed_date": "end", "suspension_reason": "reason"}
LIST_SEPARATOR = re.compile(r"\s*[;；]\s*")
# What an import never changes of a case here: its deadline follows from them. The rest of its
# filing may be corrected (event ``amended``).
FIXED = ("procedure", "filed_date")


# ---------------------------------------------------------------- a row as a record


def key_of(record: CaseRecord) -> tuple[str, str]:
    """A case's natural key: its region and case number."""
    return record.region, record.case_number


def parse_row(row: Row) -> tuple[CaseRecord | None, list[CellProblem]]:
    """The record a row holds, or the problems of its cells (each at its column)."""
    # A required column's empty cell: a missing filing date would otherwise default to today.
    problems = [CellProblem(row.number, c.code, f"{c.header} is required") for c in REQUIRED if c.code not in row.cells]
    values: dict[str, Any] = {}
    for code, value in row.cells.items():
        try:
            values[code] = _cell(code, value)
        except ValueError as exc:
            problems.append(CellProblem(row.number, code, str(exc)))
    suspensions = _suspensions(row, values, problems)
    respondent = {
        f: values.pop(f"respondent_{f}") for f in ("kind", "name", "uscc", "id_number") if f"respondent_{f}" in values
    }
    complainant = values.pop("complainant_name", None)
    data = {
        **values,
        "respondent": respondent,
        "suspensions": suspensions,
        **({"complainant": complainant} if complainant else {}),
    }
    try:
        record = CaseRecord.model_validate(data)
    except ValidationError as exc:
        bad = {p.column for p in problems}
        for error in exc.errors():
            column = _column_of(error["loc"])
            if column not in bad:  # a cell already refused is not refused again for being missing
                problems.append(CellProblem(row.number, column, error["msg"].removeprefix("Value error, ")))
        return None, problems
    return (None if problems else record), problems


def _suspensions(row: Row, values: dict[str, Any], problems: list[CellProblem]) -> list[dict[str, Any]]:
    """A row's suspensions from its three columns (taken out of ``values``): one start, end and
    reason each in order; the last one may be open (no end), and one reason may serve them all."""
    lists = {code: values.pop(code, []) for code in SUSPENSION_COLUMNS}
    starts, ends, reasons = lists["suspended_date"], lists["resumed_date"], lists["suspension_reason"]
    if len(reasons) == 1:
        reasons = reasons * len(starts)
    for code, given, most in (("resumed_date", ends, len(starts)), ("suspension_reason", reasons, len(starts))):
        if len(given) > most or (code == "suspension_reason" and len(given) < most):
            problems.append(CellProblem(row.number, code, f"{len(given)} given for {len(starts)} suspension(s)"))
    if len(ends) < len(starts) - 1:
        problems.append(CellProblem(row.number, "resumed_date", "only the last suspension may still be open"))
    return [
        {"start": start, "end": ends[i] if i < len(ends) else None, "reason": reasons[i] if i < len(reasons) else None}
        for i, start in enumerate(starts)
    ]


def _cell(code: str, value: Any) -> Any:
    if code in SUSPENSION_COLUMNS:
        parts = [p for p in LIST_SEPARATOR.split(text_of(value)) if p] if isinstance(value, str) else [value]
        return [parse_day(p) for p in parts] if code in DATE_COLUMNS else parts
    if code in DATE_COLUMNS:
        return parse_day(value)
    if code in VOCABULARIES:
        return VOCABULARIES[code].code_of(text_of(value))
    if code in ("fine", "confiscation", "illegal_revenue") and isinstance(value, int | Decimal):
        return str(value)
    return text_of(value)


def _column_of(loc: Sequence[str | int]) -> str:
    """The column of a field of :class:`CaseRecord` a validation error names."""
    if not loc:
        return COLUMNS[0].code
    if loc[0] == "respondent":
        return f"respondent_{loc[1]}" if len(loc) > 1 and loc[1] != "kind" else "respondent_kind"
    if loc[0] == "complainant":
        return "complainant_name"
    if loc[0] == "suspensions":
        field = loc[2] if len(loc) > 2 else "start"
        return next(code for code, name in SUSPENSION_COLUMNS.items() if name == field)
    return str(loc[0])


# ---------------------------------------------------------------- a record's steps


@dataclass(frozen=True)
class PlannedStep:
    action: str
    on: date
    details: dict[str, Any]
    reason: str | None = None

    def describe(self) -> str:
        return f"{self.action} on {self.on.isoformat()}"

    def matches(self, recorded: dict[str, Any]) -> bool:
        """Whether a step of the case's timeline is this one (the same action, date and details)."""
        return (
            recorded["action"] == self.action
            and recorded["date"] == self.on.isoformat()
            and recorded["details"] == cases.recorded_details(self.details)
            and recorded["reason"] == self.reason
        )


def planned_steps(record: CaseRecord, investigated: date | None = None) -> list[PlannedStep]:
    """The steps a record's dates say, in the order they were taken. ``investigated``: the date a
    case already here started its investigation, used when the record gives none."""
    # In the lifecycle's order: two steps of one day are taken in it (the sort below keeps it).
    steps: list[PlannedStep] = []
    if record.extended_date:
        _needs(record, "extension_approver", "extension_reason", because="an extension (延期批准日期)")
        details = {"approver": record.extension_approver, "reason": record.extension_reason}
        steps.append(PlannedStep("extend", record.extended_date, details, record.extension_reason))
    for suspension in record.suspensions:
        steps.append(PlannedStep("suspend", suspension.start, {"reason": suspension.reason}, suspension.reason))
        if suspension.end is not None:
            steps.append(PlannedStep("resume", suspension.end, {}))
    if record.decided_date:
        _needs(record, "outcome", because="a decision (决定日期)")
        fields = ("outcome", "fine", "confiscation", "illegal_revenue", "decision_number")
        steps.append(PlannedStep("decide", record.decided_date, {f: getattr(record, f) for f in fields}))
    else:
        for name in ("outcome", "decision_number", "fine", "confiscation"):
            if getattr(record, name):
                raise domain.InvalidStep("decided_date", f"{name} comes with a decision: give its date (决定日期)")
    if record.closed_date:
        steps.append(PlannedStep("close", record.closed_date, {}))
    if record.transferred_date:
        _needs(record, "transfer_to", because="a transfer (移送日期)")
        details = {"to": record.transfer_to, "receiving_body": record.receiving_body}
        steps.append(PlannedStep("transfer", record.transferred_date, details))
    if record.withdrawn_date:
        steps.append(PlannedStep("withdraw", record.withdrawn_date, {}))
    # Suspending and deciding need an investigation: a record that does not date it started it on
    # the day the case was filed.
    needs_investigation = any(s.action in ("suspend", "decide") for s in steps)
    start = record.investigated_date or investigated or (record.filed_date if needs_investigation else None)
    if start is not None:
        steps.insert(0, PlannedStep("investigate", start, {}))
    return sorted(steps, key=lambda s: s.on)


def _needs(record: CaseRecord, *fields: str, because: str) -> None:
    for name in fields:
        if getattr(record, name) is None:
            raise domain.InvalidStep(name, f"{because} needs {name}")


# ---------------------------------------------------------------- one record


@dataclass(frozen=True)
class Found:
    """What a chunk's import has read of a record: its case here, if any, and the region policies."""

    case: Case | None
    policies: dict[str, RegionPolicy]


@dataclass(frozen=True)
class Imported:
    case: Case
    outcome: Outcome
    # Respondents whose watch lists may have changed: a decision against one was taken, or the
    # USCC of a case decided against its respondent was corrected (the former one's, and the new one's).
    watched: frozenset[str]


async def import_record(
    session: AsyncSession,
    record: CaseRecord,
    case: Case | None,
    user: User,
    policies: dict[str, RegionPolicy] | None = None,
) -> Imported:
    """Brings the case of ``record`` (``case``: the one already here, if any) to what the record
    says, in the session; :class:`RowRefused` when it cannot be. ``policies``: as
    :func:`cases.open_case` takes them."""
    respondent_before = case.respondent_uscc if case is not None else None
    try:
        require_write_access(user, record.region)
        if case is None:
            steps = planned_steps(record)
            case = await cases.open_case(session, record, user, policies)
            outcome: Outcome = "created"
        else:
            steps = _steps_beyond(case, record)
            outcome = "updated" if await _amend(session, case, record, user) or steps else "unchanged"
    except domain.InvalidStep as exc:
        raise RowRefused(exc.loc, Invalid.field([exc.loc], str(exc))) from None
    except ProblemError as exc:
        raise RowRefused(_column_of(exc.errors[0]["loc"]) if exc.errors else "region", exc) from None
    for step in steps:
        try:
            cases.take_step(session, case, step.action, step.on, step.details, step.reason, user)
        except cases.DOMAIN_REFUSALS as exc:
            column = exc.loc if isinstance(exc, domain.InvalidStep) and exc.loc != "date" else None
            answer = cases.domain_problem(exc, case.status, step.action)
            raise RowRefused(column or DATE_OF_ACTION[step.action], answer) from None
    decided = any(step.action == "decide" for step in steps) or respondent_before != case.respondent_uscc
    against = case.outcome in domain.AGAINST_RESPONDENT and decided
    watched = {respondent_before, case.respondent_uscc} - {None} if against else set()
    return Imported(case, outcome, frozenset(watched))


def _steps_beyond(case: Case, record: CaseRecord) -> list[PlannedStep]:
    """The steps of the record the case has not taken; its recorded steps must be the record's first."""
    for name in FIXED:
        if getattr(record, name) is not None and getattr(record, name) != getattr(case, name):
            raise domain.InvalidStep(
                name, f"the case's {name} is {getattr(case, name)}: it cannot change, its deadline follows from it"
            )
    recorded = case.timeline[1:]
    investigated = next((date.fromisoformat(s["date"]) for s in recorded if s["action"] == "investigate"), None)
    planned = planned_steps(record, investigated)
    for position, step in enumerate(recorded):
        if position >= len(planned) or not planned[position].matches(step):
            instead = "" if position >= len(planned) else f" where the row says {planned[position].describe()}"
            raise domain.InvalidStep(
                DATE_OF_ACTION[step["action"]],
                f"the case recorded {step['action']} on {step['date']}{instead}: a recorded step stays as it is",
            )
    return planned[len(recorded) :]


async def _amend(session: AsyncSession, case: Case, record: CaseRecord, user: User) -> bool:
    """Corrects the case's descriptive fields to the record's, with the event ``amended``; False
    when they are the same."""
    wanted = {
        "case_type": record.type,
        "origin": record.origin,
        **{f"respondent_{k}": v for k, v in record.respondent.model_dump().items()},
        "complainant": record.complainant.model_dump() if record.complainant else None,
        "summary": record.summary,
        "handling_unit": record.handling_unit,
        "campaign_id": record.campaign_id,
    }
    changed = {name: value for name, value in wanted.items() if getattr(case, name) != value}
    if not changed:
        return False
    if record.origin == "campaign" and not record.campaign_id:
        raise domain.InvalidStep("campaign_id", "a case that comes from a campaign names the campaign")
    if changed.get("campaign_id"):
        await cases.check_campaign(session, record.campaign_id, case.region, case.filed_date, user)
    for name, value in changed.items():
        setattr(case, name, value)
    case.touch()
    publish(session, "case", "amended", cases.case_state(case), user)
    return True


# ---------------------------------------------------------------- a table of records


async def _found(session: AsyncSession, records: list[CaseRecord]) -> dict[tuple[str, str], Found]:
    """For each record, the case here under its key (if any) and the policies of its regions, read
    once for the chunk: asked per case, each query would also flush the cases filed before it."""
    await _statistics_of_cases(session, len(records))
    here = await _cases_here(session, [key_of(record) for record in records])
    policies = await policies_of(session, {code for record in records for code in chain_of(record.region)})
    return {key_of(record): Found(here.get(key_of(record)), policies) for record in records}


async def _statistics_of_cases(session: AsyncSession, looked_up: int) -> None:
    """On PostgreSQL, the table's statistics brought up to what the import wrote so far (its own
    rows count, uncommitted), each time the rows it looked up doubled. Without them — a first
    import fills an empty table in its one transaction; another server's autovacuum may lag —
    the planner answered each chunk's lookup by reading every case of the region, not the key's
    index: the import's lookups grew with the square of its rows (BENCHMARKS.md)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    looked_up += session.info.get(_LOOKED_UP, 0)
    session.info[_LOOKED_UP] = looked_up
    if looked_up >= session.info.get(_ANALYZE_AT, _FIRST_ANALYZE):
        session.info[_ANALYZE_AT] = 2 * looked_up
        await session.execute(text(f"ANALYZE {Case.__tablename__}"))


# Session.info keys: the cases the session's imports looked up, and how many before the next ANALYZE.
_LOOKED_UP, _ANALYZE_AT = "cases_looked_up", "cases_analyze_at"
_FIRST_ANALYZE = 2 * record_import.ROWS_PER_CHUNK  # a file of one chunk (a nightly sync) needs none


async def _import_row(
    session: AsyncSession, record: CaseRecord, found: Found, user: User
) -> tuple[Outcome, tuple[str, frozenset[str]]]:
    imported = await import_record(session, record, found.case, user, found.policies)
    return imported.outcome, (imported.case.region, imported.watched)


async def _refresh_watch_lists(session: AsyncSession, follow_ups: list[tuple[str, frozenset[str]]], user: User) -> None:
    """The watch lists of the chunk's respondents decided against, each worked out once, before the commit."""
    watched: dict[str, set[str]] = {}
    for region, usccs in follow_ups:
        for uscc in usccs:
            watched.setdefault(uscc, set()).update(chain_of(region))
    if watched:
        await watchlist.refresh(session, watched, user)


CASES: RecordKind[CaseRecord] = RecordKind(
    what="case",
    columns=COLUMNS,
    model=CaseRecord,
    cells={},
    key=key_of,
    key_column="case_number",
    found=_found,
    import_record=_import_row,
    parse=parse_row,
    before_commit=_refresh_watch_lists,
)


async def import_table(
    session: AsyncSession, table: Table, user: User, *, dry_run: bool, progress: Progress | None = None
) -> ImportResult:
    """Imports every row, only when every row can be (:func:`zhichan.record_import.import_table`)."""
    return await record_import.import_table(session, CASES, table, user, dry_run=dry_run, progress=progress)


async def _cases_here(session: AsyncSession, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Case]:
    found: dict[tuple[str, str], Case] = {}
    for start in range(0, len(keys), KEYS_PER_SELECT):
        chunk = keys[start : start + KEYS_PER_SELECT]
        query = select(Case).where(tuple_(Case.region, Case.case_number).in_(chunk))
        found.update({(c.region, c.case_number): c for c in (await session.execute(query)).scalars()})
    return found


async def put_record(
    session: AsyncSession, record: CaseRecord, user: User, if_match: str | None
) -> tuple[cases.Identified, Outcome]:
    """A case pushed by its number: filed, or brought to the record; ``If-Match``, when sent, is
    the ETag of the case as the caller last read it (a case that does not exist matches none)."""
    query = select(Case).where(Case.region == record.region, Case.case_number == record.case_number)
    case = (await session.execute(query.with_for_update())).scalar_one_or_none()
    if case is not None and not user.sees(case.region):
        case = None
    if if_match:
        if case is None:
            raise PreconditionFailed(f"no case {record.case_number} in region {record.region}: If-Match matches none")
        check_if_match(if_match, case.id, case.version)
    try:
        imported = await import_record(session, record, case, user)
    except RowRefused as exc:
        raise exc.answer from None
    case = imported.case
    if imported.outcome != "unchanged":
        if imported.watched:
            await watchlist.refresh(session, {uscc: set(chain_of(case.region)) for uscc in imported.watched}, user)
        await commit_or_conflict(session, f"case number {record.case_number} was filed at the same time; push again")
    return (cases.case_state(case), cases.personal_data(case, user)), imported.outcome
