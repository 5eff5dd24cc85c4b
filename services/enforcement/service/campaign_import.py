"""Campaigns (专项行动) from another system: a spreadsheet of them (``POST /campaigns/import``).

An office going live mid-plan has campaigns running, and its cases name them: the campaigns come
first. A row is a campaign as the office planned it (:class:`~services.enforcement.schemas.CampaignRecord`):
its region, name, period, focus and description. A campaign not yet here is created by the
function ``POST /campaigns`` uses (:func:`campaigns.created`): the same row, the same event
``campaign.created``.

Its natural key is its **region and name**: what the table makes unique (``uq_campaign_region_name``),
and what ``POST /campaigns`` refuses twice (409). A campaign has no number of its own — its id is
Zhichan's — and an office names its campaigns (2024年知识产权执法“铁拳”行动) once a year in a
region, while a province and its cities may run campaigns of one name, each their own.

A campaign here is ``unchanged`` when the row says what it holds. No route changes a campaign once
created (there is no event for it), so a row that gives it another period, focus or description
is that row's error, naming the column: the import never does what the API could not.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.enforcement.models import Campaign
from services.enforcement.schemas import CampaignRecord
from services.enforcement.service import campaigns
from zhichan.api.problems import Invalid, ProblemError
from zhichan.auth import User, require_write_access
from zhichan.record_import import KEYS_PER_SELECT, Outcome, RecordKind, RowRefused
from zhichan.tabular import Column, parse_day

COLUMNS = [
    Column("region", "行政区划代码", "6-digit region code (GB/T 2260) of the office running it, e.g. 420500", True),
    Column("name", "行动名称", "unique in the region, e.g. 2024年知识产权执法“铁拳”行动", required=True),
    Column("start", "开始日期", "2024-03-01 (also 2024/3/1, 2024年3月1日)", required=True),
    Column("end", "结束日期", "on or after the start; cases filed in the period may name the campaign", True),
    Column("focus", "重点领域", "what it targets, e.g. 商标侵权、假冒专利 (at most 2,000 characters)", True),
    Column("description", "行动说明", "how it is run, who leads it (at most 4,000 characters)"),
]
EXAMPLES = [
    {
        "region": "420500",
        "name": "2024年知识产权执法“铁拳”行动",
        "start": date(2024, 3, 1),
        "end": date(2024, 11, 30),
        "focus": "商标侵权、假冒专利、地理标志侵权",
        "description": "宜昌市市场监管局统一部署，各县市区局分级负责",
    },
    {
        "region": "420502",
        "name": "2024年西陵区“双打”专项行动",
        "start": date(2024, 5, 6),
        "end": date(2024, 10, 31),
        "focus": "侵犯知识产权和制售假冒伪劣商品",
    },
]
# What the row says of a campaign here, each against its column: none of it changes.
COMPARED = {"start": "start_date", "end": "end_date", "focus": "focus", "description": "description"}

Key = tuple[str, str]


def key_of(record: CampaignRecord) -> Key:
    """A campaign's natural key: its region and name (the name as validated, stripped)."""
    return record.region, record.name


async def import_record(session: AsyncSession, record: CampaignRecord, here: Campaign | None, user: User) -> Outcome:
    """Creates the campaign of ``record`` (``here``: the campaign of its key, if any) in the
    session, or finds it unchanged; :class:`RowRefused` otherwise."""
    try:
        # The caller writes in the row's region, so also sees a campaign here under its key.
        require_write_access(user, record.region)
    except ProblemError as exc:
        raise RowRefused("region", exc) from None
    if here is None:
        campaigns.created(session, record, user)
        return "created"
    for column, field in COMPARED.items():
        wanted, recorded = getattr(record, column), getattr(here, field)
        if wanted != recorded:
            raise RowRefused(
                column,
                Invalid.field(
                    [column],
                    f"campaign {record.name} of region {record.region} has {column} {_shown(recorded)}, the row "
                    f"{_shown(wanted)}: a campaign does not change once created",
                ),
            )
    return "unchanged"


def _shown(value: date | str | None) -> str:
    if value is None:
        return "none"
    return value.isoformat() if isinstance(value, date) else f"“{value}”"


async def _found(session: AsyncSession, records: list[CampaignRecord]) -> dict[Key, Campaign]:
    """The campaigns here of the records' keys, read once for the chunk, by batches of keys."""
    keys = sorted({key_of(record) for record in records})
    found: dict[Key, Campaign] = {}
    for start in range(0, len(keys), KEYS_PER_SELECT):
        query = select(Campaign).where(
            tuple_(Campaign.region, Campaign.name).in_(keys[start : start + KEYS_PER_SELECT])
        )
        found.update({(c.region, c.name): c for c in (await session.execute(query)).scalars()})
    return found


CAMPAIGNS: RecordKind[CampaignRecord] = RecordKind(
    what="campaign",
    columns=COLUMNS,
    model=CampaignRecord,
    cells={"start": parse_day, "end": parse_day},
    key=key_of,
    key_column="name",
    found=_found,
    import_record=import_record,
)
