"""Custom regions: defined (or redefined) by an officer, and read with the standard ones."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import domain
from services.targets.schemas import RegionCreate
from services.targets.service._common import (
    new_region_row,
    record_region,
)
from zhichan import region_sync
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import utcnow
from zhichan.region_sync import CustomRegion
from zhichan.regions import CUSTOM_CODE, Region, registry, withdrawn_problem


async def refresh_regions(session: AsyncSession) -> None:
    """Regions defined by another replica of this service become known here too."""
    await region_sync.load_persisted(session)


async def define_region(session: AsyncSession, data: RegionCreate, user: User) -> tuple[CustomRegion, bool]:
    """A custom region, created or redefined; returns it and whether it is new."""
    regions = registry()
    if data.code in regions and not regions.get(data.code).custom:
        raise Conflict(f"{data.code} is the GB/T 2260 region {regions.get(data.code).name}; it cannot be redefined")
    if not (CUSTOM_CODE.match(data.code) or domain.STANDARD_CODE.match(data.code)):
        raise Invalid.field(["code"], "a custom code such as 321100-ETDZ (six digits, '-', 2–16 capitals or digits)")
    if data.parent not in regions:
        raise Invalid.field(["parent"], f"unknown region {data.parent}")
    if data.parent in _descendants(data.code):  # itself or below it: the tree would loop
        raise Invalid.field(["parent"], f"{data.parent} lies within {data.code}")
    require_write_access(user, data.parent)
    row = await session.get(CustomRegion, data.code)
    parent = regions.get(data.parent)
    if parent.withdrawn and (row is None or row.parent != data.parent):  # one defined under it before stays
        raise Invalid.field(["parent"], withdrawn_problem(parent, regions))
    if row is not None:
        require_write_access(user, row.code)
        if (row.name, row.level, row.parent) == (data.name, data.level, data.parent):
            return row, False
        row.name, row.level, row.parent = data.name, data.level, data.parent
        row.version += 1
        row.defined_at = utcnow()
        created = False
    else:
        row = new_region_row(data.code, data.name, data.level, data.parent)
        session.add(row)
        created = True
    record_region(session, row, user)
    await session.commit()
    region_sync.register_all([row])
    return row, created


def _descendants(code: str) -> frozenset[str]:
    regions = registry()
    return regions.descendants(code) if code in regions else frozenset()


def get_region(code: str) -> Region:
    try:
        return registry().get(code)
    except KeyError:
        raise NotFound(f"no region {code}") from None
