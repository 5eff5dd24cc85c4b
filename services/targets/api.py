"""Routes of the targets service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.datastructures import UploadFile

from services.targets import planfile
from services.targets.contracts import IndicatorState, PlanState, TaskState
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
    TaskList,
    TaskPublic,
    TaskStatus,
    TaskUpdate,
)
from services.targets.service import indicators, plans, regions, reports, tasks
from zhichan.api.answers import answer, listing, shape
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import IfMatch, IfMatchRequired
from zhichan.api.problems import Invalid, PayloadTooLarge, ProblemError
from zhichan.auth import CurrentUser, OptionalUser, User, Writer, require_roles
from zhichan.fields import Key
from zhichan.region_sync import RegionState
from zhichan.regions import Region, registry

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MULTIPART_OVERHEAD = 64 * 1024


async def _fresh_regions(session: SessionDep) -> None:
    await regions.refresh_regions(session)


regions_router = APIRouter(prefix="/regions", tags=["regions"], dependencies=[Depends(_fresh_regions)])
router = APIRouter(prefix="/plans", tags=["plans"], dependencies=[Depends(_fresh_regions)])

Reporter = Annotated[User, require_roles("officer", "department")]


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


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"a plan file is at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"a plan file is at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    return bytes(body)


async def _uploaded_file(request: Request) -> tuple[bytes, str]:
    """The plan file's bytes and format, from the body or a multipart upload."""
    media = request.headers.get("content-type", "")
    if media.lower().startswith("multipart/form-data"):
        body = await _read_body(request, MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD)

        async def replay() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(request.scope, replay).form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid.field(["file"], "upload the plan file in the multipart field 'file'")
        raw = await upload.read()
        if len(raw) > MAX_UPLOAD_BYTES:
            raise PayloadTooLarge(f"a plan file is at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        fmt = planfile.format_of(upload.content_type, upload.filename) or planfile.format_of(None, upload.filename)
        if fmt is None:
            raise UnsupportedMediaType(
                f"cannot tell the format of {upload.filename!r} ({upload.content_type}); use .yaml, .json or .xlsx"
            )
        return raw, fmt
    fmt = planfile.format_of(media)
    if fmt is None:
        raise UnsupportedMediaType(
            f"send the plan as application/yaml, application/json, {planfile.XLSX_TYPE} or multipart/form-data"
        )
    return await _read_body(request, MAX_UPLOAD_BYTES), fmt


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
    raw, fmt = await _uploaded_file(request)
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
