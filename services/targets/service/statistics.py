"""Official statistics: the catalogue (built in, and added by an admin) and the releases, imported
from a file, revised by later releases of their cell, and listed as they were known on a day."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.targets import contracts, domain, statistics_file
from services.targets.models import StatisticDefinition, StatisticRelease
from services.targets.schemas import StatisticImport, StatisticPut, StatisticReleaseFilter
from services.targets.service._common import publish
from services.targets.statistics_file import ReleaseFileInvalid, ReleaseRow, RowProblem
from zhichan.api.pagination import PageParams, keyset_page
from zhichan.api.problems import Conflict, Invalid
from zhichan.api.scope import scoped
from zhichan.auth import User
from zhichan.clock import today, utcnow
from zhichan.db import commit_or_conflict, state_of
from zhichan.ids import new_id
from zhichan.regions import registry
from zhichan.statistics_catalogue import BUILT_IN, Statistic, period_of

# The built-in statistics have no row: they came with the release that brought the catalogue.
BUILT_IN_SINCE = datetime(2026, 12, 4, tzinfo=UTC)
# What a catalogue entry's releases are counted in and how they add up: fixed once it has some.
FIXED_ONCE_RELEASED = ("unit", "kind", "additive")
# The catalogue is national: its events belong to no region.
NO_REGION = ""


# --- the catalogue -------------------------------------------------------------------------------


def _statistic(row: StatisticDefinition) -> Statistic:
    return Statistic(row.code, row.name, row.unit, row.kind, row.additive, row.description)


async def statistic_catalogue(session: AsyncSession) -> dict[str, Statistic]:
    """Every statistic by code: the built-in ones and those an admin added (what a plan's
    ``source: {metric: statistics.<code>}`` may name)."""
    rows = (await session.execute(select(StatisticDefinition))).scalars()
    return {**BUILT_IN, **{row.code: _statistic(row) for row in rows}}


def _built_in_state(statistic: Statistic) -> contracts.StatisticDefinitionState:
    return state_of(contracts.StatisticDefinitionState, statistic, built_in=True, version=1, updated_at=BUILT_IN_SINCE)


def _definition_state(row: StatisticDefinition) -> contracts.StatisticDefinitionState:
    return state_of(contracts.StatisticDefinitionState, row, built_in=False)


async def list_catalogue(session: AsyncSession) -> list[contracts.StatisticDefinitionState]:
    rows = (await session.execute(select(StatisticDefinition))).scalars()
    states = [_built_in_state(s) for s in BUILT_IN.values()] + [_definition_state(row) for row in rows]
    return sorted(states, key=lambda state: state.code)


async def define_statistic(
    session: AsyncSession, code: str, data: StatisticPut, user: User
) -> tuple[contracts.StatisticDefinitionState, bool]:
    """Adds a custom statistic or changes one; its state and whether it is new. A built-in one is
    not changed, and a statistic with releases keeps its unit, kind and additivity (409)."""
    if code in BUILT_IN:
        raise Conflict(f"{code} is a built-in statistic ({BUILT_IN[code].name}); it cannot be changed")
    if taken := next((s for s in BUILT_IN.values() if s.name == data.name), None):
        raise Conflict(f"{data.name} is the built-in statistic {taken.code}; choose another name")
    fields = data.model_dump()
    row = await session.get(StatisticDefinition, code)
    created = row is None
    if row is None:
        row = StatisticDefinition.new(code=code, **fields)
        session.add(row)
    else:
        if all(getattr(row, name) == value for name, value in fields.items()):
            return _definition_state(row), False
        changed = [name for name in FIXED_ONCE_RELEASED if getattr(row, name) != fields[name]]
        if changed and await _has_releases(session, code):
            raise Conflict(
                f"statistic {code} has releases: its {', '.join(changed)} cannot change; define a new statistic",
                fields=changed,
            )
        row.sqlmodel_update(fields)
        row.touch()
    state = _definition_state(row)
    publish(session, "statistic", "defined", code, NO_REGION, row.version, state, user)
    await commit_or_conflict(
        session, f"statistic {code} was defined at the same time, or another statistic is named {data.name}"
    )
    return state, created


async def _has_releases(session: AsyncSession, code: str) -> bool:
    query = select(StatisticRelease.id).where(StatisticRelease.statistic == code).limit(1)
    return (await session.execute(query)).first() is not None


# --- releases ------------------------------------------------------------------------------------


def release_state(row: StatisticRelease) -> contracts.StatisticReleaseState:
    return state_of(contracts.StatisticReleaseState, row, period=period_of(row.period_kind, row.period_start).label)


def _refused(problems: list[RowProblem]) -> Invalid:
    problems = sorted(problems, key=lambda p: p.row or 0)
    shown = "; ".join(f"row {p.row}, {p.column}: {p.msg}" if p.row else p.msg for p in problems[:3])
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    return Invalid(
        f"{len(problems)} problem(s) in the file, nothing stored: {shown}{more}",
        errors=[p.as_error() for p in problems],
    )


async def import_releases(session: AsyncSession, raw: bytes, fmt: str, user: User, *, dry_run: bool) -> StatisticImport:
    """Records a file's releases, all or none: every row is checked first, and any problem refuses
    the file (422, every problem with its row and column). Rows are applied in publication order,
    so that a file may hold a figure and its revision; a row recorded already changes nothing."""
    try:
        sheet = statistics_file.read_sheet(raw, fmt)
    except ReleaseFileInvalid as exc:
        raise _refused(exc.problems) from None
    catalogue = await statistic_catalogue(session)
    rows, problems = statistics_file.check_rows(sheet, catalogue, registry(), user.sees, today())
    recorded = await _recorded(session, rows)
    outcomes: Counter[str] = Counter()
    releases = []
    for row in sorted(rows, key=lambda r: (r.release.published_on, r.number)):
        cell = recorded.setdefault(row.cell, [])
        try:
            outcome, earlier = domain.release_outcome(row.release, cell)
        except domain.ReleaseRefused as exc:
            column = sheet.headers["published_on"]
            problems.append(RowProblem(row.number, column, f"{row.period.label} {row.statistic.code}: {exc}"))
            continue
        outcomes[outcome] += 1
        if outcome != "unchanged":
            release = _new_release(row, earlier.id if earlier else None, user)
            cell.append(domain.Recorded(row.release.published_on, row.release.value, row.release.source, release.id))
            releases.append(release)
    if problems:
        raise _refused(problems)
    if releases and not dry_run:
        session.add_all(releases)  # in publication order: a revision after the release it revises
        for release in releases:
            state = release_state(release)
            publish(session, "statistic_release", "published", state.id, state.region, 1, state, user)  # never changed
        await commit_or_conflict(session, "releases of these cells were recorded at the same time; import again")
    return StatisticImport(
        created=outcomes["created"], revised=outcomes["revised"], unchanged=outcomes["unchanged"], dry_run=dry_run
    )


def _new_release(row: ReleaseRow, revises: str | None, user: User) -> StatisticRelease:
    return StatisticRelease(
        id=new_id(),
        statistic=row.statistic.code,
        region=row.region,
        period_kind=row.period.kind,
        period_start=row.period.start,
        period_end=row.period.end,
        value=row.release.value,
        unit=row.statistic.unit,
        source=row.release.source,
        published_on=row.release.published_on,
        revises=revises,
        note=row.note,
        reporter=user.sub,
        created_at=utcnow(),
    )


async def _recorded(
    session: AsyncSession, rows: list[ReleaseRow]
) -> dict[tuple[str, str, str, date], list[domain.Recorded]]:
    """The releases recorded of the rows' cells, by cell."""
    if not rows:
        return {}
    cells = {row.cell for row in rows}
    query = select(StatisticRelease).where(
        StatisticRelease.statistic.in_(sorted({row.statistic.code for row in rows})),
        StatisticRelease.region.in_(sorted({row.region for row in rows})),
        StatisticRelease.period_start.between(
            min(row.period.start for row in rows), max(row.period.start for row in rows)
        ),
    )
    recorded: dict[tuple[str, str, str, date], list[domain.Recorded]] = {}
    for release in (await session.execute(query)).scalars():
        cell = (release.region, release.statistic, release.period_kind, release.period_start)
        if cell in cells:
            recorded.setdefault(cell, []).append(
                domain.Recorded(release.published_on, release.value, release.source, release.id)
            )
    return recorded


async def list_releases(
    session: AsyncSession, user: User, page: PageParams, filters: StatisticReleaseFilter
) -> tuple[tuple[list[contracts.StatisticReleaseState], str | None], dict[str, str]]:
    """A page of releases, latest periods first, and beside it which release revises each revised
    one (release id → its revision's id), both as of ``published_by`` when it is given."""
    if filters.statistic is not None and filters.statistic not in await statistic_catalogue(session):
        raise Invalid.field(["statistic"], f"no statistic {filters.statistic} in the catalogue")
    query = scoped(select(StatisticRelease), StatisticRelease.region, user, filters.region)
    if filters.region is not None and not filters.descendants:
        query = query.where(StatisticRelease.region == filters.region)
    if filters.statistic is not None:
        query = query.where(StatisticRelease.statistic == filters.statistic)
    if filters.from_ is not None:
        query = query.where(StatisticRelease.period_end >= filters.from_)
    if filters.to is not None:
        query = query.where(StatisticRelease.period_start <= filters.to)
    if filters.published_by is not None:
        query = query.where(StatisticRelease.published_on <= filters.published_by)
    revision = aliased(StatisticRelease)
    known_revisions = select(revision.revises, revision.id)
    if filters.published_by is not None:
        known_revisions = known_revisions.where(revision.published_on <= filters.published_by)
    if filters.current:
        query = query.where(~known_revisions.where(revision.revises == StatisticRelease.id).exists())
    releases, next_cursor = await keyset_page(
        session,
        query,
        page,
        StatisticRelease.period_start.desc(),
        StatisticRelease.region,
        StatisticRelease.statistic,
        StatisticRelease.published_on,
        StatisticRelease.id,
    )
    revised_by = {}
    if releases:
        found = known_revisions.where(revision.revises.in_([r.id for r in releases]))
        revised_by = dict((await session.execute(found)).all())
    return ([release_state(r) for r in releases], next_cursor), revised_by
