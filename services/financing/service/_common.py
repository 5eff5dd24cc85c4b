"""What the financing use cases share: the rule guard, the event, the IP assets of a record, the
list filters and the staging of a new record with its event."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import SQLModel

from services.financing import contracts, domain
from services.financing.models import (
    IpAsset,
)
from services.financing.schemas import (
    AssetIn,
)
from zhichan.api.problems import Invalid
from zhichan.auth import User
from zhichan.events import record_event
from zhichan.money_column import YuanInFen

ZERO = Decimal("0.00")

PLEDGE, TRANSACTION, INSURANCE_POLICY, MATCHMAKING_EVENT = (
    "pledge",
    "transaction",
    "insurance_policy",
    "matchmaking_event",
)
VERB_OF_ACTION = {"release": "released", "default": "defaulted", "dispose": "disposed"}


@contextmanager
def rules() -> Iterator[None]:
    """A rule of the domain the request breaks answers 422, naming the field at fault."""
    try:
        yield
    except domain.RuleViolation as exc:
        raise Invalid.field([exc.field], str(exc)) from None


def publish(session: AsyncSession, aggregate: str, verb: str, state: Any, user: User) -> None:
    record_event(
        session,
        service=contracts.SERVICE,
        aggregate=aggregate,
        verb=verb,
        aggregate_id=state.id,
        region=state.region,
        version=state.version,
        data=state,
        actor=user.sub,
    )


# --- assets -----------------------------------------------------------------------------------


def asset_rows(holder_type: str, holder_id: str, assets: Sequence[AssetIn]) -> list[IpAsset]:
    """The rows of a record's assets, in the order given; an asset listed twice is refused."""
    seen: set[tuple[str, str]] = set()
    for i, asset in enumerate(assets):
        if (asset.type, asset.number) in seen:
            raise Invalid.field(["assets", i, "number"], f"{asset.type} {asset.number} is listed twice")
        seen.add((asset.type, asset.number))
    return [
        IpAsset(
            holder_type=holder_type, holder_id=holder_id, position=i, asset_type=a.type, number=a.number, title=a.title
        )
        for i, a in enumerate(assets)
    ]


async def assets_of(session: AsyncSession, holder_type: str, ids: Sequence[str]) -> dict[str, list[IpAsset]]:
    found: dict[str, list[IpAsset]] = defaultdict(list)
    if ids:
        query = (
            select(IpAsset)
            .where(IpAsset.holder_type == holder_type, IpAsset.holder_id.in_(list(ids)))
            .order_by(IpAsset.holder_id, IpAsset.position)
        )
        for asset in (await session.execute(query)).scalars():
            found[asset.holder_id].append(asset)
    return found


def asset_states(rows: Sequence[IpAsset]) -> list[contracts.Asset]:
    return [contracts.Asset(type=a.asset_type, number=a.number, title=a.title) for a in rows]


def party(name: str, uscc: str | None) -> contracts.Party:
    return contracts.Party(name=name, uscc=uscc)


def between(query: Select, column, start: date | None, end: date | None) -> Select:
    if start is not None:
        query = query.where(column >= start)
    if end is not None:
        query = query.where(column <= end)
    return query


def with_asset_type(query: Select, model, holder_type: str, asset_type: str | None) -> Select:
    if asset_type is None:
        return query
    holders = select(IpAsset.holder_id).where(IpAsset.holder_type == holder_type, IpAsset.asset_type == asset_type)
    return query.where(model.id.in_(holders))


async def with_assets(session: AsyncSession, holder_type: str, rows: Sequence[Any], state) -> list:
    """The states of ``rows`` (transactions or policies), each made by ``state`` with its assets."""
    assets = await assets_of(session, holder_type, [r.id for r in rows])
    return [state(r, assets[r.id]) for r in rows]


def stage(
    session: AsyncSession, user: User, aggregate: str, rows: Sequence[SQLModel], state: Any, verb: str = "recorded"
) -> None:
    """A new record's rows (a pledge, transaction, policy or matchmaking event, with its assets) and
    its event in the session, not committed: an import commits a whole chunk of records at once, or
    rolls them back. Registration, record and policy numbers are unique nationwide: the caller's
    commit answers 409 for a number taken, across regions, without saying where."""
    session.add_all(rows)
    publish(session, aggregate, verb, state, user)


def money_sum(expression) -> ColumnElement[Decimal]:
    """SUM over fen, read back as exact Decimal 元 (0 when there is nothing to sum)."""
    return type_coerce(func.coalesce(func.sum(expression), 0), YuanInFen())
