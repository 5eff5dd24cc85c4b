"""Regions: custom ones defined (or redefined) by an officer, and every region read, the standard
ones (GB/T 2260) with them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.targets import domain
from services.targets.plan_document import misnumbered
from services.targets.schemas import RegionCreate, RegionFilter
from services.targets.service._common import new_region_row, record_region, require_numbering_access
from zhichan import region_sync
from zhichan.api.pagination import PageParams, next_page
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.auth import User, require_write_access
from zhichan.clock import utcnow
from zhichan.db import commit_or_conflict
from zhichan.region_sync import CustomRegion, RegionState
from zhichan.regions import CUSTOM_CODE, Region, registry, withdrawn_problem


async def refresh_regions(session: AsyncSession) -> None:
    """Regions defined by another replica of this service become known here too."""
    await region_sync.load_persisted(session)


async def define_region(session: AsyncSession, data: RegionCreate, user: User) -> tuple[RegionState, bool]:
    """A custom region, created or redefined; its state and whether it is new."""
    regions = registry()
    if data.code in regions and not regions.get(data.code).custom:
        raise Conflict(f"{data.code} is the GB/T 2260 region {regions.get(data.code).name}; it cannot be redefined")
    if not (CUSTOM_CODE.match(data.code) or domain.STANDARD_CODE.match(data.code)):
        raise Invalid.field(["code"], "a custom code such as 321100-ETDZ (six digits, '-', 2–16 capitals or digits)")
    if data.parent not in regions:
        raise Invalid.field(["parent"], f"unknown region {data.parent}")
    if data.parent in _descendants(data.code):  # itself or below it: the tree would loop
        raise Invalid.field(["parent"], f"{data.parent} lies within {data.code}")
    if (wrong := misnumbered(data.code, data.parent, regions)) is not None:
        raise Invalid.field(["code"], wrong)
    require_write_access(user, data.parent)
    require_numbering_access(user, data.code, data.parent, regions)
    row = await session.get(CustomRegion, data.code)
    parent = regions.get(data.parent)
    if parent.withdrawn and (row is None or row.parent != data.parent):  # one defined under it before stays
        raise Invalid.field(["parent"], withdrawn_problem(parent, regions))
    created = row is None
    if row is None:
        row = new_region_row(data.code, data.name, data.level, data.parent)
        session.add(row)
    else:
        require_write_access(user, row.code)
        if (row.name, row.level, row.parent) == (data.name, data.level, data.parent):
            return row.state(), False
        row.name, row.level, row.parent = data.name, data.level, data.parent
        row.version += 1
        row.defined_at = utcnow()
    state = record_region(session, row, user)
    await commit_or_conflict(session, f"region {data.code} was defined at the same time by someone else; try again")
    region_sync.register_all([row])
    return state, created


def _descendants(code: str) -> frozenset[str]:
    regions = registry()
    return regions.descendants(code) if code in regions else frozenset()


def get_region(code: str) -> Region:
    try:
        return registry().get(code)
    except KeyError:
        raise NotFound(f"no region {code}") from None


async def custom_region(session: AsyncSession, code: str) -> RegionState | None:
    """The state of a custom region, which this service records; None for a GB/T 2260 one."""
    row = await session.get(CustomRegion, code)
    return row.state() if row is not None else None


def _known_parent(parent: str | None) -> None:
    if parent is not None and parent not in registry():
        raise Invalid.field(["parent"], f"unknown region {parent}")


def list_regions(page: PageParams, filters: RegionFilter) -> tuple[list[Region], str | None]:
    """The regions in code order, cut by the filters, page by page."""
    _known_parent(filters.parent)
    after = str(page.after.get("code", "")) if page.after else ""
    found = [
        r
        for r in registry().all(withdrawn=filters.withdrawn)
        if r.code > after
        and (filters.parent is None or r.parent == filters.parent)
        and (filters.level is None or r.level == filters.level)
        and (filters.custom is None or r.custom == filters.custom)
    ]
    return next_page(found, page, lambda region: {"code": region.code})


def region_tree(filters: RegionFilter) -> dict[str | None, list[Region]]:
    """Every region under the region it lies in (the provinces under None), for the tree view."""
    _known_parent(filters.parent)
    if filters.level is not None or filters.custom is not None:
        raise Invalid.field(["view"], "level and custom filter the flat view")
    below: dict[str | None, list[Region]] = {}
    for region in registry().all(withdrawn=filters.withdrawn):
        below.setdefault(region.parent, []).append(region)
    return below
