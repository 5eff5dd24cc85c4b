"""Practitioners from another system (``POST /practitioners/import``).

A row is a certificate's spell at an agency (by USCC): joined on a date and, once left, the date
and reason (:class:`~services.agencies.schemas.PractitionerRecord`). A spell not yet here is
joined and left on its dates by the functions the routes use, with the same checks (one agency at
a time, not before the filing or the certificate's earlier spell ended) and events.

The table's only unique index is over the certificates practising now, which a spell that has
ended leaves: a spell's natural key is its certificate number and the day it began — a
certificate cannot begin two spells on one day. The rows of one certificate are imported in the
order of their spells, whatever the file's. A spell here is ``unchanged`` when the row says what
it holds, ``updated`` when the row ends it; another agency, name or type, or an end recorded
otherwise, is the row's error (no route changes them).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.agencies import domain
from services.agencies.models import Agency, Practitioner
from services.agencies.schemas import PractitionerLeave, PractitionerRecord
from services.agencies.service import practitioners
from services.agencies.service._common import agencies_by_uscc, agency_named
from zhichan.api.problems import Conflict, Invalid, ProblemError
from zhichan.auth import User, require_write_access
from zhichan.record_import import KEYS_PER_SELECT, Outcome, RecordKind, RowRefused, vocabulary_cell
from zhichan.tabular import Column

COLUMNS = [
    Column("agency_uscc", "机构统一社会信用代码", "the USCC of the agency (imported before)", required=True),
    Column("name", "姓名", "the practitioner's name", required=True),
    Column("type", "人员类型", "patent_attorney 专利代理师 / trademark_agent 商标代理人", required=True),
    Column("certificate_number", "证书编号", "patent attorney: 7 digits; trademark agent: TM + 8 digits", True),
    Column("joined_on", "执业开始日期", "2022-03-01 (also 2022/3/1, 2022年3月1日); not before the filing", True),
    Column("left_on", "离职日期", "once the practitioner left"),
    Column("leave_reason", "离职原因", "why (with 离职日期)"),
]
EXAMPLES = [
    {
        "agency_uscc": "91320311000000001G",
        "name": "王某某",
        "type": "专利代理师",
        "certificate_number": "3212345",
        "joined_on": date(2021, 4, 1),
        "left_on": date(2023, 6, 30),
        "leave_reason": "调入其他机构",
    },
    {
        "agency_uscc": "91320311000000001G",
        "name": "赵某某",
        "type": "trademark_agent",
        "certificate_number": "TM32000123",
        "joined_on": date(2022, 9, 1),
    },
]
Key = tuple[str, date]
Here = tuple[list[Agency], Practitioner | None]


def key_of(record: PractitionerRecord) -> Key:
    return record.certificate_number, record.joined_on


async def import_record(session: AsyncSession, record: PractitionerRecord, here: Here, user: User) -> Outcome:
    agencies, spell = here
    agency = agency_named(agencies)
    if agency is None or not user.sees(agency.region):
        raise RowRefused("agency_uscc", Invalid.field(["agency_uscc"], f"no agency of USCC {record.agency_uscc}"))
    leave = PractitionerLeave(left_on=record.left_on, reason=record.leave_reason) if record.left_on else None
    try:
        require_write_access(user, agency.region)
        if spell is None:
            _check_open(agency, record)
            spell = await practitioners.joined(session, agency, record, user)
            outcome: Outcome = "created"
        else:
            outcome = _compared(spell, agency, record)
        if leave is not None and spell.status == "active":
            practitioners.left(session, spell, leave, user)
            outcome = "updated" if outcome == "unchanged" else outcome
    except ProblemError as exc:
        raise RowRefused(str(exc.errors[0]["loc"][-1]) if exc.errors else "certificate_number", exc) from None
    return outcome


def _check_open(agency: Agency, record: PractitionerRecord) -> None:
    """A deregistered agency takes no one (409, as the route answers), but its history does: a
    spell that ended by the deregistration."""
    if agency.status != "deregistered":
        return
    deregistered = date.fromisoformat(agency.status_history[-1]["on"])
    if record.left_on is None or record.left_on > deregistered:
        raise Conflict(
            f"agency {agency.id} was deregistered on {deregistered.isoformat()}: a spell there ended by then",
            current_status=agency.status,
        )


def _compared(spell: Practitioner, agency: Agency, record: PractitionerRecord) -> Outcome:
    """``unchanged``, or the row's error where it says otherwise than the spell recorded."""
    for name, recorded, given in (
        ("agency_uscc", spell.agency_id, agency.id),
        ("name", spell.name, record.name),
        ("type", spell.type, record.type),
    ):
        if recorded != given:
            raise Invalid.field(
                [name], f"the spell recorded another {name.removeprefix('agency_')}: it does not change"
            )
    if spell.status == "left" and (spell.left_on, spell.leave_reason) != (record.left_on, record.leave_reason):
        raise Invalid.field(
            ["left_on"], f"the practitioner left on {spell.left_on.isoformat()}: a recorded leaving stays as it is"
        )
    return "unchanged"


async def _found(session: AsyncSession, records: list[PractitionerRecord]) -> dict[Key, Here]:
    agencies = await agencies_by_uscc(session, {record.agency_uscc for record in records})
    certificates = sorted({record.certificate_number for record in records})
    spells: dict[Key, Practitioner] = {}
    for start in range(0, len(certificates), KEYS_PER_SELECT):
        query = select(Practitioner).where(
            Practitioner.certificate_number.in_(certificates[start : start + KEYS_PER_SELECT])
        )
        spells.update({(p.certificate_number, p.joined_on): p for p in (await session.execute(query)).scalars()})
    return {key_of(r): (agencies.get(r.agency_uscc, []), spells.get(key_of(r))) for r in records}


PRACTITIONERS = RecordKind(
    what="practitioner",
    columns=COLUMNS,
    model=PractitionerRecord,
    cells={"type": vocabulary_cell(domain.PRACTITIONER_TYPES)},
    key=key_of,
    key_column="joined_on",
    found=_found,
    import_record=import_record,
    order=lambda record: (record.joined_on, record.left_on or date.max),
)
