"""Matchmaking events from another system (``POST /matchmaking-events/import``): bank–enterprise
matchmaking events (银企对接活动).

A row is an event (:class:`~services.financing.schemas.MatchmakingEventRecord`). An event has no
number of its own: its natural key is its region, title and date (one region holds no two events
of one title on one day), and a file giving one twice is refused. An event not yet here is
recorded by the function the route uses (:func:`matchmaking.recorded`), with the same checks and
event (``recorded``, dated by its ``held_on``). One here is ``unchanged`` when the row says what it
holds; the service keeps no correction of an event (no route, no event), so a row that says
otherwise is the row's error.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.financing.models import MatchmakingEvent
from services.financing.schemas import MatchmakingEventRecord
from services.financing.service import matchmaking
from services.financing.service._import import Here, recorded_once_kind
from zhichan.record_import import KEYS_PER_SELECT, items_of, number_cell
from zhichan.tabular import Column

COLUMNS = [
    Column("region", "行政区划代码", "6-digit region code (GB/T 2260), e.g. 420500", required=True),
    Column("title", "活动名称", "with the region and date, the event's key", required=True),
    Column("held_on", "举办日期", "2024-03-01; not in the future", required=True),
    Column("organiser", "主办单位", "e.g. 宜昌市市场监督管理局", required=True),
    Column("banks", "参加银行", "separated by 、 or commas"),
    Column("enterprises_attending", "参会企业数", "a whole number", required=True),
    Column("intended_amount", "意向金额(元)", "yuan (0 allowed)", required=True),
    Column("signed_amount", "签约金额(元)", "yuan (0 allowed)", required=True),
]
EXAMPLES = [
    {
        "region": "420500",
        "title": "宜昌市知识产权质押融资银企对接会",
        "held_on": date(2023, 9, 21),
        "organiser": "宜昌市市场监督管理局",
        "banks": "中国银行宜昌分行、湖北银行宜昌分行、宜昌农商银行",
        "enterprises_attending": 56,
        "intended_amount": 150000000,
        "signed_amount": "48600000.00",
    },
    {
        "region": "320300",
        "title": "徐州市“知惠行”知识产权金融进园区活动",
        "held_on": date(2024, 5, 16),
        "organiser": "徐州市市场监督管理局",
        "banks": "江苏银行徐州分行，徐州农商银行",
        "enterprises_attending": 38,
        "intended_amount": "82000000.00",
        "signed_amount": "21500000.00",
    },
]
Key = tuple[str, str, date]


def key_of(record: MatchmakingEventRecord) -> Key:
    return record.region, record.title, record.held_on


async def _found(session: AsyncSession, records: list[MatchmakingEventRecord]) -> dict[Hashable, Here]:
    wanted = sorted({key_of(record) for record in records})
    found: dict[Hashable, Here] = {}
    columns: tuple[Any, ...] = (MatchmakingEvent.region, MatchmakingEvent.title, MatchmakingEvent.held_on)
    for start in range(0, len(wanted), KEYS_PER_SELECT):
        query = select(MatchmakingEvent).where(tuple_(*columns).in_(wanted[start : start + KEYS_PER_SELECT]))
        found.update({(e.region, e.title, e.held_on): (e, []) for e in (await session.execute(query)).scalars()})
    return found


ROUTE_DESCRIPTION = (
    "An event already here (by region, title and date) is `unchanged` when the row says what it holds; a "
    "recorded event does not change, so a row that says otherwise is refused (409)."
)

MATCHMAKING_EVENTS = recorded_once_kind(
    "matchmaking event",
    COLUMNS,
    MatchmakingEventRecord,
    key=key_of,
    key_column="title",
    found=_found,
    recorded=matchmaking.recorded,
    # Banks once each, in the order given, as the event is recorded: a row compares with it so.
    cells={
        "banks": lambda value: list(dict.fromkeys(items_of(value))),
        **{name: number_cell for name in ("enterprises_attending", "intended_amount", "signed_amount")},
    },
)
