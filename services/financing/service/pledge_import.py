"""Pledges from another system: a spreadsheet of them (``POST /pledges/import``) or one pushed by its
registration number (``PUT /pledges/by-number/{registration_number}``).

A row is a pledge's registration (质押登记) and the business date of each change of status since
(:class:`~services.financing.schemas.PledgeRecord`): its release (注销), or its default (违约, with
the principal then outstanding) and the disposal of the pledged IP (处置, with what it raised).
Its natural key is the registration number (登记号), unique nationwide. A pledge not yet here is
registered on its date and taken through those changes by the functions the routes use
(:func:`pledges.registered`, :func:`pledges.take_action`), so its status history, balance on each
day and events (one a change, each with its business date) are what they would have been. A
pledge already here is ``unchanged`` when the row says what it holds, else ``updated``: the
changes it lacks are taken on their dates. A registration does not change (no route corrects
one), nor does a change recorded: a row that says otherwise, or a change the state machine
refuses (a release after a default), is the row's error.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.financing import contracts, domain
from services.financing.models import IpAsset, Pledge
from services.financing.schemas import Default, Dispose, PledgeCreate, PledgeRecord, Release
from services.financing.service import pledges
from services.financing.service._common import PLEDGE, VERB_OF_ACTION, assets_of
from services.financing.service._import import (
    ASSET_COLUMNS,
    Here,
    first_difference,
    numbered,
    parser,
    refused_at,
    visible,
)
from zhichan.api.etag import check_if_match
from zhichan.api.problems import Invalid, PreconditionFailed, ProblemError
from zhichan.auth import User, require_write_access
from zhichan.db import commit_or_conflict
from zhichan.record_import import Outcome, RecordKind, RowRefused, number_cell, vocabulary_cell
from zhichan.tabular import Column, parse_day

COLUMNS = [
    Column("region", "行政区划代码", "6-digit region code (GB/T 2260), e.g. 420502", required=True),
    Column("registration_number", "登记号", "质押登记号, unique nationwide: the pledge's key", required=True),
    Column("pledgor_name", "出质人", "the enterprise pledging its IP", required=True),
    Column("pledgor_uscc", "出质人统一社会信用代码", "18 characters (GB 32100-2015)", required=True),
    Column("pledgee", "质权人", "the bank or guarantor", required=True),
    *ASSET_COLUMNS,
    Column("loan_amount", "贷款金额(元)", "yuan, e.g. 5000000 or 5000000.00", required=True),
    Column("registered_on", "登记日期", "2024-03-01 (also 2024/3/1, 2024年3月1日); not in the future", required=True),
    Column("loan_term_start", "贷款起始日", "the loan's first day", required=True),
    Column("loan_term_end", "贷款到期日", "after its first day", required=True),
    Column(
        "guarantee_mode", "担保方式", "direct 直接质押 / guarantor 担保公司担保 / insurance 保险保证", required=True
    ),
    Column("valuation", "评估价值(元)", "the appraised value of the rights, yuan"),
    Column("appraisal_agency_uscc", "评估机构统一社会信用代码", "18 characters"),
    Column("released_on", "注销日期", "注销 (解除质押): registered → released, the loan repaid"),
    Column("defaulted_on", "违约日期", "registered → defaulted (with 违约时未偿本金)"),
    Column("outstanding_at_default", "违约时未偿本金(元)", "yuan, at most the loan amount"),
    Column("disposed_on", "处置日期", "defaulted → disposed (with 处置所得)"),
    Column("disposal_proceeds", "处置所得(元)", "what the disposal raised, yuan (0 allowed)"),
]
EXAMPLES = [
    {
        "region": "420502",
        "registration_number": "Y2023420000158",
        "pledgor_name": "宜昌某某新材料科技有限公司",
        "pledgor_uscc": "91420502000000001G",
        "pledgee": "中国银行宜昌分行",
        "asset_types": "专利",
        "asset_numbers": "ZL202110123456.7；ZL202120654321.0",
        "asset_titles": "一种磷酸铁锂正极材料的制备方法；一种电池隔膜涂布装置",
        "loan_amount": 5000000,
        "registered_on": date(2023, 4, 12),
        "loan_term_start": date(2023, 4, 12),
        "loan_term_end": date(2024, 4, 11),
        "guarantee_mode": "直接质押",
        "valuation": 8200000,
        "released_on": date(2024, 4, 8),
    },
    {
        "region": "321100",
        "registration_number": "Y2022320000731",
        "pledgor_name": "镇江某某香醋有限公司",
        "pledgor_uscc": "91321100000000002P",
        "pledgee": "江苏银行镇江分行",
        "asset_types": "商标；地理标志",
        "asset_numbers": "12345678；87654321",
        "asset_titles": "某某；镇江香醋",
        "loan_amount": "3000000.00",
        "registered_on": date(2022, 9, 1),
        "loan_term_start": date(2022, 9, 1),
        "loan_term_end": date(2023, 8, 31),
        "guarantee_mode": "担保公司担保",
        "defaulted_on": date(2023, 9, 15),
        "outstanding_at_default": "1800000.00",
        "disposed_on": date(2024, 3, 20),
        "disposal_proceeds": "1250000.00",
    },
]
# Each change, in the order two changes of one day are taken, and its date's column.
DATE_OF_ACTION = {"release": "released_on", "default": "defaulted_on", "dispose": "disposed_on"}
# The figure a change records beside its date.
FIGURE_OF_ACTION = {"default": "outstanding_at_default", "dispose": "disposal_proceeds"}
RANK = {action: rank for rank, action in enumerate(DATE_OF_ACTION)}
STATUS_OF_ACTION = {action: target for action, (_from, target) in domain.TRANSITIONS.items()}
# What a registration holds (no route corrects it): a row must say the same of a pledge here.
REGISTRATION = [name for name in PledgeCreate.model_fields if name != "assets"]
CELLS = {
    "guarantee_mode": vocabulary_cell(domain.GUARANTEE_MODES),
    # Dates not named ``_on``, read as offices write them (a column ``_on`` is read so by default).
    **{name: parse_day for name in ("loan_term_start", "loan_term_end")},
    **{name: number_cell for name in ("loan_amount", "valuation", "outstanding_at_default", "disposal_proceeds")},
}
Step = tuple[str, Release | Default | Dispose]


def planned_steps(record: PledgeRecord) -> list[Step]:
    """The changes of status a record's dates say, in the order they were taken; a figure without
    its date, or a date without its figure, raises :class:`domain.RuleViolation` at its column."""
    for action, figure in FIGURE_OF_ACTION.items():
        on, amount = getattr(record, DATE_OF_ACTION[action]), getattr(record, figure)
        if on is not None and amount is None:
            raise domain.RuleViolation(figure, f"a {action} ({DATE_OF_ACTION[action]}) needs its {figure}")
        if on is None and amount is not None:
            raise domain.RuleViolation(DATE_OF_ACTION[action], f"{figure} comes with a {action}: give its date")
    steps: list[Step] = []
    if record.released_on:
        steps.append(("release", Release(date=record.released_on)))
    if record.defaulted_on:
        steps.append(("default", Default(date=record.defaulted_on, outstanding=record.outstanding_at_default)))
    if record.disposed_on:
        steps.append(("dispose", Dispose(date=record.disposed_on, proceeds=record.disposal_proceeds)))
    return sorted(steps, key=lambda step: (step[1].date, RANK[step[0]]))


def _steps_beyond(pledge: Pledge, assets: list[IpAsset], record: PledgeRecord) -> list[Step]:
    """The record's changes the pledge has not taken; its registration must be the record's, and its
    recorded changes the record's first."""
    differs = first_difference(record, pledge, assets, REGISTRATION)
    if differs is not None:
        held = getattr(pledge, differs) if differs in REGISTRATION else "other rights"
        raise Invalid.field(
            [differs], f"the pledge is registered with {differs} {held}: a registration does not change"
        )
    planned = planned_steps(record)
    recorded = pledge.status_history[1:]
    for position, entry in enumerate(recorded):
        wanted = planned[position] if position < len(planned) else None
        if wanted is None or (entry["status"], entry["on"]) != (
            STATUS_OF_ACTION[wanted[0]],
            wanted[1].date.isoformat(),
        ):
            instead = "" if wanted is None else f" where the row says {wanted[0]} on {wanted[1].date.isoformat()}"
            column = DATE_OF_ACTION[wanted[0]] if wanted else _column_of_status(entry["status"])
            raise Invalid.field(
                [column], f"the pledge became {entry['status']} on {entry['on']}{instead}: a recorded change stays"
            )
        figure = FIGURE_OF_ACTION.get(wanted[0])
        if figure is not None and getattr(pledge, figure) != getattr(record, figure):
            raise Invalid.field(
                [figure], f"the pledge became {entry['status']} with {figure} {getattr(pledge, figure)}: it stays"
            )
    return planned[len(recorded) :]


def _column_of_status(status: str) -> str:
    return next(DATE_OF_ACTION[a] for a, target in STATUS_OF_ACTION.items() if target == status)


async def _brought_about(
    session: AsyncSession, record: PledgeRecord, here: Here | None, user: User
) -> tuple[Pledge, Outcome]:
    """The pledge of ``record`` registered, or ``here`` taken through the changes it lacks, in the
    session with an event a change; :class:`RowRefused` when the rules refuse it."""
    # A pledge registered in this session has these assets and nothing else: its state after each
    # change need not be read back.
    assets: list[IpAsset] | None = None
    with refused_at("region", COLUMNS):
        require_write_access(user, record.region)
        try:
            if here is None:
                steps = planned_steps(record)
                registration = PledgeCreate(**record.model_dump(include=set(PledgeCreate.model_fields)))
                pledge, assets, _state = pledges.registered(session, registration, user)
                outcome: Outcome = "created"
            else:
                pledge, recorded_assets = here
                steps = _steps_beyond(pledge, recorded_assets, record)
                outcome = "updated" if steps else "unchanged"
        except domain.RuleViolation as exc:
            raise Invalid.field([exc.field], str(exc)) from None
    for action, body in steps:
        try:
            pledges.take_action(pledge, action, body, user)
        except ProblemError as exc:
            raise RowRefused(DATE_OF_ACTION[action], exc) from None
        await pledges.changed(session, pledge, VERB_OF_ACTION[action], user, assets)
    return pledge, outcome


async def import_record(session: AsyncSession, record: PledgeRecord, here: Here | None, user: User) -> Outcome:
    """Brings the pledge of ``record`` (``here``: the one of its number, with its assets) to what the
    record says, in the session; :class:`RowRefused` when it cannot be."""
    here = visible(here, user, "registration number", "registration_number", record.registration_number)
    return (await _brought_about(session, record, here, user))[1]


ROUTE_DESCRIPTION = (
    "A pledge already here (by registration number) is `unchanged` when the row says what it holds, else "
    "`updated`: the changes of status it lacks taken on their dates. A registration, or a change recorded, "
    "does not change: a row that says otherwise is refused."
)


PLEDGES: RecordKind[PledgeRecord] = RecordKind(
    what="pledge",
    columns=COLUMNS,
    model=PledgeRecord,
    cells=CELLS,
    key=lambda record: record.registration_number,
    key_column="registration_number",
    found=numbered(Pledge, "registration_number", PLEDGE),
    import_record=import_record,
    parse=parser(COLUMNS, PledgeRecord, CELLS),
)


async def put_record(
    session: AsyncSession, record: PledgeRecord, user: User, if_match: str | None
) -> tuple[contracts.PledgeState, Outcome]:
    """A pledge pushed by its registration number: registered, or brought to the record;
    ``If-Match``, when sent, is the ETag of the pledge as the caller last read it (a pledge that
    does not exist matches none)."""
    query = select(Pledge).where(Pledge.registration_number == record.registration_number).with_for_update()
    pledge = (await session.execute(query)).scalar_one_or_none()
    here = None if pledge is None else (pledge, (await assets_of(session, PLEDGE, [pledge.id]))[pledge.id])
    try:
        here = visible(here, user, "registration number", "registration_number", record.registration_number)
        if if_match:
            if here is None:
                raise PreconditionFailed(f"no pledge {record.registration_number}: If-Match matches none")
            check_if_match(if_match, here[0].id, here[0].version)
        pledge, outcome = await _brought_about(session, record, here, user)
    except RowRefused as exc:
        raise exc.answer from None
    (state,) = await pledges.pledge_states(session, [pledge])
    if outcome != "unchanged":
        conflict = f"registration number {record.registration_number} was recorded at the same time; push again"
        await commit_or_conflict(session, conflict)
    return state, outcome
