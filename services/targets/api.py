"""Routes of the targets service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.datastructures import UploadFile

from services.targets import planfile, statistics_file
from services.targets.contracts import IndicatorState, PlanState, ReportingSettings, TaskState
from services.targets.schemas import (
    IndicatorList,
    IndicatorPublic,
    IndicatorUpdate,
    PlanFilter,
    PlanList,
    PlanPublic,
    RegionCreate,
    RegionFilter,
    RegionItem,
    RegionList,
    RegionNode,
    RegionPublic,
    RegionTree,
    ReportCreate,
    ReportList,
    ReportPublic,
    RoundList,
    RoundSubmit,
    StatisticCatalogue,
    StatisticImport,
    StatisticPublic,
    StatisticPut,
    StatisticReleaseFilter,
    StatisticReleaseList,
    StatisticReleasePublic,
    SubmissionPublic,
    SubmissionReturn,
    TaskList,
    TaskPublic,
    TaskStatus,
    TaskUpdate,
)
from services.targets.service import indicators, plans, regions, reports, rounds, statistics, tasks
from zhichan.api.answers import answer, listing, shape
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import IfMatch, IfMatchRequired
from zhichan.api.problems import Invalid, PayloadTooLarge, ProblemError
from zhichan.auth import CurrentUser, OptionalUser, Reader, User, Writer, require_roles
from zhichan.fields import Key, NameSegment
from zhichan.region_sync import RegionState
from zhichan.regions import Region, registry
from zhichan.statistics_catalogue import CODE_PATTERN

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024


async def _fresh_regions(session: SessionDep) -> None:
    await regions.refresh_regions(session)


regions_router = APIRouter(prefix="/regions", tags=["regions"], dependencies=[Depends(_fresh_regions)])
router = APIRouter(prefix="/plans", tags=["plans"], dependencies=[Depends(_fresh_regions)])
statistics_router = APIRouter(prefix="/statistics", tags=["statistics"], dependencies=[Depends(_fresh_regions)])

Reporter = Annotated[User, require_roles("officer", "department")]
Department = Annotated[User, require_roles("department")]
Admin = Annotated[User, require_roles("admin")]


class UnsupportedMediaType(ProblemError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


# --- regions -------------------------------------------------------------------------------------


def _item(region: Region) -> RegionItem:
    return RegionItem.model_validate(region, from_attributes=True)


def _region_public(
    response: Response, code: str, state: RegionState | None, *, location: str | None = None
) -> RegionPublic:
    """A region with its ancestors and children. A custom one is a record of this service, with a
    version and its ETag; a GB/T 2260 region is reference data."""
    region = regions.get_region(code)
    known = registry()
    around = {
        "ancestors": [_item(known.get(c)) for c in known.ancestors(code)],
        # those in use; a withdrawn region's children were withdrawn with it, so all of them
        "children": [_item(r) for r in known.children(code, withdrawn=region.withdrawn)],
    }
    if state is None:
        return shape(RegionPublic, _item(region), **around)
    return answer(response, RegionPublic, state, location=location, tag=state.code, custom=region.custom, **around)


@regions_router.post(
    "",
    response_model=RegionPublic,
    status_code=201,
    summary="Define a custom region (e.g. a zone)",
    responses={200: {"model": RegionPublic, "description": "Defined already, as asked: the region as it is"}},
)
async def define_region(body: RegionCreate, session: SessionDep, user: Writer, response: Response) -> RegionPublic:
    state, created = await regions.define_region(session, body, user)
    response.status_code = 201 if created else 200
    return _region_public(response, state.code, state, location=f"/regions/{state.code}")


@regions_router.get(
    "",
    response_model=RegionList | RegionTree,
    summary="Regions (GB/T 2260 and custom), flat or as a tree",
    description="Reference data, readable without a token. `view=tree` nests the regions below `parent` "
    "(or every province when no parent is given); `view=flat` lists them in code order, page by page.",
)
async def list_regions(page: PageDep, filters: Annotated[RegionFilter, Query()]) -> RegionList | RegionTree:
    if filters.view == "flat":
        found, next_cursor = regions.list_regions(page, filters)
        return RegionList(items=[_item(r) for r in found], next_cursor=next_cursor)
    below = regions.region_tree(filters)

    def node(region: Region) -> RegionNode:
        return shape(RegionNode, _item(region), children=[node(c) for c in below.get(region.code, [])])

    return RegionTree(items=[node(r) for r in below.get(filters.parent, [])])


@regions_router.get("/{code}", response_model=RegionPublic, summary="One region, with its ancestors and children")
async def get_region(code: Key, session: SessionDep, response: Response) -> RegionPublic:
    return _region_public(response, code, await regions.custom_region(session, code))


# --- plans ---------------------------------------------------------------------------------------

IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A plan file (zhichan.plan/v1), 5 MB at most: YAML, JSON or an Excel workbook by "
        "Content-Type, or a multipart upload with the file in the field `file`.",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
            planfile.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


@dataclass(frozen=True)
class Upload:
    """A kind of file a route takes as its body or as the multipart field ``file``."""

    what: str  # "a plan file"
    format_of: Callable[..., str | None]  # (media type, file name) → format
    media_types: str  # the media types it is sent as, for the 415's detail
    extensions: str  # the names' endings, for the 415's detail of an upload


PLAN_UPLOAD = Upload(
    "a plan file",
    planfile.format_of,
    f"application/yaml, application/json, {planfile.XLSX_TYPE} or multipart/form-data",
    ".yaml, .json or .xlsx",
)
STATISTICS_UPLOAD = Upload(
    "a statistics file",
    statistics_file.format_of,
    f"text/csv, {planfile.XLSX_TYPE} or multipart/form-data",
    ".csv or .xlsx",
)


def _too_large(upload: Upload) -> PayloadTooLarge:
    return PayloadTooLarge(f"{upload.what} is at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")


async def _read_body(request: Request, limit: int, upload: Upload) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise _too_large(upload)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(upload)
    return bytes(body)


async def _uploaded_file(request: Request, upload: Upload) -> tuple[bytes, str]:
    """The file's bytes and format, from the body or a multipart upload."""
    media = request.headers.get("content-type", "")
    if media.lower().startswith("multipart/form-data"):
        body = await _read_body(request, MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD, upload)

        async def replay() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(request.scope, replay).form(max_files=1, max_fields=5)
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise Invalid.field(["file"], f"upload {upload.what} in the multipart field 'file'")
        raw = await file.read()
        if len(raw) > MAX_UPLOAD_BYTES:
            raise _too_large(upload)
        fmt = upload.format_of(file.content_type, file.filename)
        if fmt is None:
            raise UnsupportedMediaType(
                f"cannot tell the format of {file.filename!r} ({file.content_type}); use {upload.extensions}"
            )
        return raw, fmt
    fmt = upload.format_of(media)
    if fmt is None:
        raise UnsupportedMediaType(f"send {upload.what} as {upload.media_types}")
    return await _read_body(request, MAX_UPLOAD_BYTES, upload), fmt


def _plan(response: Response, state: PlanState, *, location: str | None = None) -> PlanPublic:
    return answer(
        response, PlanPublic, state, location=location, tag=state.key, region_name=registry().get(state.region).name
    )


@router.post(
    "/import",
    response_model=PlanPublic,
    status_code=201,
    summary="Import a plan file: 201 the first time, 200 when the plan.key exists (it is updated)",
    openapi_extra=IMPORT_BODY,
    responses={
        200: {"model": PlanPublic, "description": "The plan's key existed: the plan is updated"},
        413: {"description": "Larger than 5 MB"},
        415: {"description": "Not YAML, JSON or xlsx"},
    },
)
async def import_plan(request: Request, session: SessionDep, user: Writer, response: Response) -> PlanPublic:
    raw, fmt = await _uploaded_file(request, PLAN_UPLOAD)
    state, created = await plans.import_plan(session, raw, fmt, user)
    response.status_code = 201 if created else 200
    return _plan(response, state, location=f"/plans/{state.key}")


@router.get("", response_model=PlanList, summary="Plans: published ones for everyone, drafts in your regions")
async def list_plans(
    session: SessionDep, user: OptionalUser, page: PageDep, filters: Annotated[PlanFilter, Query()]
) -> PlanList:
    summaries, next_cursor = await plans.list_plans(session, user, page, filters)
    return PlanList(items=summaries, next_cursor=next_cursor)


@router.get("/{key}", response_model=PlanPublic, summary="One plan with its indicators and tasks")
async def get_plan(key: Key, session: SessionDep, user: OptionalUser, response: Response) -> PlanPublic:
    return _plan(response, await plans.get_plan(session, key, user))


@router.get(
    "/{key}/export",
    summary="The plan as a plan file (importing it gives the same plan)",
    responses={200: {"content": {m.split(";")[0]: {} for m in planfile.MEDIA_TYPES.values()}}},
)
async def export_plan(
    key: Key, session: SessionDep, user: OptionalUser, format: Literal["yaml", "json", "xlsx"] = "yaml"
) -> Response:
    content = await plans.export_plan(session, key, format, user)
    return Response(
        content,
        media_type=planfile.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{key}.{format}"'},
    )


def _transition_route(action: str, summary: str) -> None:
    async def route(key: Key, session: SessionDep, user: Writer, response: Response) -> PlanPublic:
        return _plan(response, await plans.transition_plan(session, key, action, user))

    route.__name__ = f"{action}_plan"
    router.add_api_route(f"/{{key}}/{action}", route, methods=["POST"], response_model=PlanPublic, summary=summary)


_transition_route("activate", "Activate a plan: draft → active")
_transition_route("close", "Close a plan: active → closed (it no longer changes)")


# --- indicators ----------------------------------------------------------------------------------


def _indicator(response: Response, key: str, state: IndicatorState) -> IndicatorPublic:
    return answer(response, IndicatorPublic, state, tag=indicators.tag(key, state.key), plan=key)


@router.get("/{key}/indicators", response_model=IndicatorList, summary="The plan's indicators, in plan order")
async def list_indicators(key: Key, session: SessionDep, user: OptionalUser, page: PageDep) -> IndicatorList:
    found = await indicators.list_indicators(session, key, user, page)
    return listing(IndicatorList, IndicatorPublic, found, lambda _state: {"plan": key})


@router.get("/{key}/indicators/{ikey}", response_model=IndicatorPublic, summary="One indicator, with its ETag")
async def get_indicator(
    key: Key, ikey: Key, session: SessionDep, user: OptionalUser, response: Response
) -> IndicatorPublic:
    return _indicator(response, key, await indicators.get_indicator(session, key, ikey, user))


@router.patch(
    "/{key}/indicators/{ikey}",
    response_model=IndicatorPublic,
    summary="Change an indicator (name, responsible, milestones, target, trajectory, baseline, source); needs If-Match",
)
async def update_indicator(
    key: Key,
    ikey: Key,
    body: IndicatorUpdate,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatchRequired = None,
) -> IndicatorPublic:
    changes = body.model_dump(exclude_unset=True)
    return _indicator(response, key, await indicators.update_indicator(session, key, ikey, changes, if_match, user))


# --- progress reports ----------------------------------------------------------------------------


@router.post(
    "/{key}/indicators/{ikey}/reports",
    response_model=ReportPublic,
    status_code=201,
    summary="Report an indicator's value (a responsible department or an officer of the region)",
    description="Append-only: to correct a report, post a new one with `supersedes`. An indicator bound to a "
    "metric takes no reports (409).\n\n"
    "What `value` is depends on the indicator's measure, and is read as it is:\n"
    "- `stock`: the level on `as_of` (拥有量、总数);\n"
    "- `cumulative`: the total since the plan start (累计);\n"
    "- `annual`: the year to date, from 1 January (or the plan start in its first year);\n"
    "- `annual_average`: **the average per year since the plan start** (年均值, e.g. 1.2 亿元/年) — not the "
    "total: the gateway does not divide it again;\n"
    "- `rate`: the rate in % on `as_of`.",
)
async def submit_report(
    key: Key, ikey: Key, body: ReportCreate, session: SessionDep, user: Reporter, response: Response
) -> ReportPublic:
    state = await reports.submit_report(session, key, ikey, body, user)
    # a report never changes: it has no version, so no ETag (answer() gives one)
    response.headers["Location"] = f"/plans/{key}/indicators/{ikey}/reports/{state.id}"
    return shape(ReportPublic, state)


@router.get("/{key}/indicators/{ikey}/reports", response_model=ReportList, summary="Reports, in as-of order")
async def list_reports(key: Key, ikey: Key, session: SessionDep, user: CurrentUser, page: PageDep) -> ReportList:
    found, superseded_by = await reports.list_reports(session, key, ikey, user, page)
    return listing(ReportList, ReportPublic, found, lambda state: {"superseded_by": superseded_by.get(state.id)})


# --- reporting rounds ----------------------------------------------------------------------------

RoundLabel = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2])|Q[1-4]|H[12])?$",
        description="A round: 2025-03 (monthly), 2025Q1 (quarterly), 2025H1 (half-yearly) or 2025 (yearly)",
    ),
]


def _submission(response: Response, state, *, location: str | None = None) -> SubmissionPublic:
    return answer(response, SubmissionPublic, state, location=location)


@router.put(
    "/{key}/reporting",
    response_model=PlanPublic,
    summary="Set the plan's reporting rounds: period, due days, review; needs If-Match (the plan's ETag)",
    description="A round per calendar period (cut to the plan period) opens the day after the period ends; a "
    "department's submission is on time until `due_days` after that. With `review: required` only what an "
    "officer approved counts in the progress views.",
)
async def set_reporting(
    key: Key,
    body: ReportingSettings,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatchRequired = None,
) -> PlanPublic:
    return _plan(response, await rounds.set_reporting(session, key, body, if_match, user))


@router.get(
    "/{key}/rounds",
    response_model=RoundList,
    summary="The plan's reporting rounds so far, newest first: per department on time, late or missing",
)
async def list_rounds(key: Key, session: SessionDep, user: Reader) -> RoundList:
    return await rounds.list_rounds(session, key, user)


@router.post(
    "/{key}/rounds/{round}/submissions",
    response_model=SubmissionPublic,
    status_code=201,
    summary="Submit a round: values of your indicators and progress of your tasks (a responsible department)",
    description="Each value becomes a progress report of the round's last day; where the plan requires review "
    "it is pending until an officer approves the submission. A round is submitted once (409): after a return, "
    "or to correct it where there is no review, PUT it again.",
)
async def submit_round(
    key: Key, round: RoundLabel, body: RoundSubmit, session: SessionDep, user: Department, response: Response
) -> SubmissionPublic:
    state = await rounds.submit(session, key, round, body, user)
    # a department is named in Chinese: the header carries it percent-encoded, as a client sends it
    location = f"/plans/{key}/rounds/{round}/submissions/{quote(state.department)}"
    return _submission(response, state, location=location)


@router.get(
    "/{key}/rounds/{round}/submissions/{department}",
    response_model=SubmissionPublic,
    summary="A department's submission for a round, with every step of its review",
)
async def get_submission(
    key: Key, round: RoundLabel, department: NameSegment, session: SessionDep, user: Reader, response: Response
) -> SubmissionPublic:
    return _submission(response, await rounds.get_submission(session, key, round, department, user))


@router.put(
    "/{key}/rounds/{round}/submissions/{department}",
    response_model=SubmissionPublic,
    summary="Submit a round again: after a return, or to correct it where the plan requires no review",
    description="The values given supersede those of the earlier submission. If-Match is checked when sent.",
)
async def resubmit_round(
    key: Key,
    round: RoundLabel,
    department: NameSegment,
    body: RoundSubmit,
    session: SessionDep,
    user: Department,
    response: Response,
    if_match: IfMatch = None,
) -> SubmissionPublic:
    return _submission(response, await rounds.resubmit(session, key, round, department, body, if_match, user))


@router.post(
    "/{key}/rounds/{round}/submissions/{department}/approve",
    response_model=SubmissionPublic,
    summary="Approve a submission (an officer of the plan's region): its values count",
)
async def approve_submission(
    key: Key,
    round: RoundLabel,
    department: NameSegment,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> SubmissionPublic:
    state = await rounds.review(session, key, round, department, "approve", None, if_match, user)
    return _submission(response, state)


@router.post(
    "/{key}/rounds/{round}/submissions/{department}/return",
    response_model=SubmissionPublic,
    summary="Return a submission with a reason (an officer of the plan's region); the department resubmits",
)
async def return_submission(
    key: Key,
    round: RoundLabel,
    department: NameSegment,
    body: SubmissionReturn,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> SubmissionPublic:
    state = await rounds.review(session, key, round, department, "return", body.reason, if_match, user)
    return _submission(response, state)


# --- tasks ---------------------------------------------------------------------------------------


def _task(response: Response, key: str, state: TaskState) -> TaskPublic:
    return answer(response, TaskPublic, state, tag=tasks.tag(key, state.key), plan=key)


@router.get(
    "/{key}/tasks",
    response_model=TaskList,
    summary="The plan's tasks; a department sees those it is responsible for",
)
async def list_tasks(
    key: Key,
    session: SessionDep,
    user: OptionalUser,
    page: PageDep,
    status: TaskStatus | None = None,
    responsible: Annotated[str | None, Query(description="A responsible unit (责任单位)")] = None,
) -> TaskList:
    found = await tasks.list_tasks(session, key, user, page, status=status, responsible=responsible)
    return listing(TaskList, TaskPublic, found, lambda _state: {"plan": key})


@router.get("/{key}/tasks/{tkey}", response_model=TaskPublic, summary="One task, with its ETag")
async def get_task(key: Key, tkey: Key, session: SessionDep, user: OptionalUser, response: Response) -> TaskPublic:
    return _task(response, key, await tasks.get_task(session, key, tkey, user))


@router.patch(
    "/{key}/tasks/{tkey}",
    response_model=TaskPublic,
    summary="Move a task: planned → in_progress → done, or delayed (with a reason); change its notes",
    description="By a responsible department or an officer of the region. If-Match is checked when sent.",
)
async def update_task(
    key: Key,
    tkey: Key,
    body: TaskUpdate,
    session: SessionDep,
    user: Reporter,
    response: Response,
    if_match: IfMatch = None,
) -> TaskPublic:
    return _task(response, key, await tasks.update_task(session, key, tkey, body, if_match, user))


# --- statistics ----------------------------------------------------------------------------------

StatisticCode = Annotated[
    str,
    Path(
        min_length=2,
        max_length=63,
        pattern=CODE_PATTERN,
        description="The statistic's code: lower-case letters, digits and '_', starting with a letter",
    ),
]
STATISTICS_IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "description": "A statistics file, 5 MB and 10,000 rows at most: CSV (UTF-8 or GB 18030) or an Excel "
        "workbook (its first sheet) by Content-Type, or a multipart upload with the file in the field `file`. "
        "One row per figure; the columns are those of GET /statistics/import/template.",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            planfile.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
            },
        },
    }
}


@statistics_router.get(
    "/catalogue",
    response_model=StatisticCatalogue,
    summary="The statistic catalogue: the built-in statistics and those an admin added",
)
async def list_statistic_catalogue(session: SessionDep, user: CurrentUser) -> StatisticCatalogue:
    found = await statistics.list_catalogue(session)
    return StatisticCatalogue(items=[shape(StatisticPublic, state) for state in found])


@statistics_router.put(
    "/catalogue/{code}",
    response_model=StatisticPublic,
    summary="Add a statistic to the catalogue, or change one (admin)",
    description="201 when the code is new, 200 when it existed. A built-in statistic is not changed (409), and "
    "one with releases keeps its unit, kind and additivity (409). Its name is unique in the catalogue (409).",
    responses={201: {"model": StatisticPublic, "description": "A new statistic"}},
)
async def define_statistic(
    code: StatisticCode, body: StatisticPut, session: SessionDep, user: Admin, response: Response
) -> StatisticPublic:
    state, created = await statistics.define_statistic(session, code, body, user)
    response.status_code = 201 if created else 200
    location = f"/statistics/catalogue/{code}" if created else None
    return answer(response, StatisticPublic, state, tag=state.code, location=location)


@statistics_router.post(
    "/import",
    response_model=StatisticImport,
    summary="Import official statistics from a CSV file or a workbook: all rows or none",
    description="Every row is checked before anything is stored; a refusal (422) lists every problem with its "
    "row and column in `errors` (`loc: [row, column]`). A row recorded already is `unchanged`, so importing "
    "a file again changes nothing; a different figure published later than its cell's latest release revises "
    "it (数据修订). `dry_run=true` checks the file and answers the counts without storing anything.",
    openapi_extra=STATISTICS_IMPORT_BODY,
    responses={413: {"description": "Larger than 5 MB"}, 415: {"description": "Not CSV or xlsx"}},
)
async def import_statistics(
    request: Request,
    session: SessionDep,
    user: Writer,
    dry_run: Annotated[bool, Query(description="Check the file and count, store nothing")] = False,
) -> StatisticImport:
    raw, fmt = await _uploaded_file(request, STATISTICS_UPLOAD)
    return await statistics.import_releases(session, raw, fmt, user, dry_run=dry_run)


@statistics_router.get(
    "/import/template",
    summary="The template of a statistics file: its columns and two example rows",
    responses={200: {"content": {media.split(";")[0]: {} for media in statistics_file.MEDIA_TYPES.values()}}},
)
async def get_statistics_template(user: CurrentUser, format: Literal["xlsx", "csv"] = "xlsx") -> Response:
    return Response(
        statistics_file.template(format),
        media_type=statistics_file.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="statistics-template.{format}"'},
    )


@statistics_router.get(
    "",
    response_model=StatisticReleaseList,
    summary="Releases of official statistics in your regions, latest periods first",
    description="`published_by` shows the figures as they were known on that day: later releases are left out, "
    "and `revised_by` names only revisions published by then. `current=true` keeps each cell's latest release.",
)
async def list_statistic_releases(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[StatisticReleaseFilter, Query()]
) -> StatisticReleaseList:
    found, revised_by = await statistics.list_releases(session, user, page, filters)
    names = {code: statistic.name for code, statistic in (await statistics.statistic_catalogue(session)).items()}
    return listing(
        StatisticReleaseList,
        StatisticReleasePublic,
        found,
        lambda state: {"statistic_name": names[state.statistic], "revised_by": revised_by.get(state.id)},
    )
