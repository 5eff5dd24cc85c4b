"""Routes of the enforcement service: parse, authorise, call the use case, shape the answer.

(No ``from __future__ import annotations`` here: the step routes are built in a loop and name
their body model through a closure, which FastAPI can only see in evaluated annotations.)"""

from typing import Annotated, TypeVar

from fastapi import APIRouter, Query, Response

from services.enforcement.schemas import (
    CampaignCreate,
    CampaignList,
    CampaignPublic,
    CaseCreate,
    CaseFilter,
    CaseList,
    CasePublic,
    CaseRecord,
    CaseStats,
    DeadlineRulesPublic,
    DeadlineRulesPut,
    DecideIn,
    DisclosureFilter,
    DisclosureList,
    ExtendIn,
    OverdueReport,
    RegionSettings,
    StatsWindow,
    StepIn,
    SuspendIn,
    TransferIn,
    WatchlistPage,
    WatchWindowPublic,
    WatchWindowPut,
)
from services.enforcement.service import (
    campaign_import,
    campaigns,
    case_import,
    cases,
    disclosure,
    region_policies,
    statistics,
    watchlist,
)
from zhichan.api.answers import answer, listing
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import IfMatch
from zhichan.api.import_routes import add_import_routes
from zhichan.api.problems import Invalid
from zhichan.api.scope import RegionQuery
from zhichan.auth import Reader, Writer
from zhichan.fields import Day, Key, NameSegment, RegionCode
from zhichan.jobs import Jobs

cases_router = APIRouter(prefix="/cases", tags=["cases"])
campaigns_router = APIRouter(prefix="/campaigns", tags=["campaigns"])
watchlist_router = APIRouter(prefix="/watchlist", tags=["watch list"])
disclosure_router = APIRouter(prefix="/disclosure", tags=["disclosure (public)"])

Today = Annotated[Day | None, Query(description="Default: today")]
RulesRegion = Annotated[RegionCode | None, Query(description="Without it: the national defaults")]
WindowRegion = Annotated[RegionCode | None, Query(description="Without it: the national default")]
ListRegion = Annotated[RegionCode | None, Query(description="The region's list (its descendants' cases count)")]


Settings = TypeVar("Settings", bound=RegionSettings)


def _settings(response: Response, settings: Settings) -> Settings:
    """A region's settings in force, with the ETag of its own settings (its policy)."""
    return answer(response, type(settings), settings, tag=region_policies.policy_tag(settings.region))


# ---------------------------------------------------------------- cases


@cases_router.post("", status_code=201, response_model=CasePublic, summary="File a case (立案), deadline computed")
async def file_case(body: CaseCreate, session: SessionDep, user: Writer, response: Response) -> CasePublic:
    state, personal = await cases.file_case(session, body, user)
    return answer(response, CasePublic, state, location=f"/cases/{state.id}", **personal)


@cases_router.get("", response_model=CaseList, summary="List cases")
async def list_cases(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[CaseFilter, Query()]
) -> CaseList:
    found, personal = await cases.list_cases(session, user, page, filters)
    return listing(CaseList, CasePublic, found, lambda state: personal[state.id])


@cases_router.get("/stats", response_model=CaseStats, summary="Filed, closed, on time, overdue; 按期结案率")
async def get_case_stats(session: SessionDep, user: Reader, window: Annotated[StatsWindow, Query()]) -> CaseStats:
    return await statistics.case_stats(session, user, window)


@cases_router.get("/overdue", response_model=OverdueReport, summary="Overdue open cases per handling unit")
async def list_overdue_cases(
    session: SessionDep, user: Reader, region: RegionQuery = None, as_of: Today = None
) -> OverdueReport:
    return await statistics.overdue_report(session, user, region, as_of)


@cases_router.get("/deadline-rules", response_model=DeadlineRulesPublic, summary="Deadline rules in force")
async def get_deadline_rules(
    session: SessionDep, user: Reader, response: Response, region: RulesRegion = None, on: Today = None
) -> DeadlineRulesPublic:
    return _settings(response, await region_policies.deadline_rules(session, user, region, on))


@cases_router.put(
    "/deadline-rules", response_model=DeadlineRulesPublic, summary="Override a region's rules for cases filed from now"
)
async def set_deadline_rules(
    body: DeadlineRulesPut, session: SessionDep, user: Writer, response: Response, if_match: IfMatch = None
) -> DeadlineRulesPublic:
    return _settings(response, await region_policies.put_deadline_rules(session, body, if_match, user))


# ---------------------------------------------------------------- cases from another system

IMPORT_JOBS = Jobs()
add_import_routes(
    cases_router,
    "cases",
    lambda request: case_import.CASES,
    case_import.COLUMNS,
    case_import.EXAMPLES,
    IMPORT_JOBS,
    prefix="",
    summary="each row filed or brought to the dates it gives",
    description="A case already here (region and case number) is `unchanged` when the row says what it holds, else "
    "`updated` (steps it lacks taken on their dates, descriptive fields corrected).",
)


@cases_router.put(
    "/by-number/{region}/{case_number}",
    response_model=CasePublic,
    summary="Push a case by its number: filed (201), or brought to the record's dates and fields (200)",
    description="For a system that keeps its own records: the body is the whole record, as a row of the import "
    "(`POST /cases/import`) is. `If-Match`, when sent, must name the case's current version.",
    responses={201: {"model": CasePublic, "description": "The case was filed"}},
)
async def record_case_by_number(
    region: Key,
    case_number: NameSegment,
    body: CaseRecord,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> CasePublic:
    for name, value in (("region", region), ("case_number", case_number)):
        if getattr(body, name) != value:
            raise Invalid.field([name], f"the body's {name} {getattr(body, name)!r} is not the path's {value!r}")
    (state, personal), outcome = await case_import.put_record(session, body, user, if_match)
    created = outcome == "created"
    response.status_code = 201 if created else 200
    return answer(response, CasePublic, state, location=f"/cases/{state.id}" if created else None, **personal)


@cases_router.get("/{case_id}", response_model=CasePublic, summary="One case with its full timeline")
async def get_case(case_id: Key, session: SessionDep, user: Reader, response: Response) -> CasePublic:
    state, personal = await cases.get_case(session, case_id, user)
    return answer(response, CasePublic, state, **personal)


def _step_route(action: str, body_model: type[StepIn], summary: str) -> None:
    if body_model is StepIn:

        async def route(
            case_id: Key,
            session: SessionDep,
            user: Writer,
            response: Response,
            body: StepIn | None = None,
            if_match: IfMatch = None,
        ) -> CasePublic:
            state, personal = await cases.transition(session, case_id, action, body or StepIn(), user, if_match)
            return answer(response, CasePublic, state, **personal)

    else:

        async def route(
            case_id: Key,
            body: body_model,
            session: SessionDep,
            user: Writer,
            response: Response,
            if_match: IfMatch = None,
        ) -> CasePublic:
            state, personal = await cases.transition(session, case_id, action, body, user, if_match)
            return answer(response, CasePublic, state, **personal)

    route.__name__ = f"{action}_case"
    cases_router.add_api_route(
        f"/{{case_id}}/{action}", route, methods=["POST"], response_model=CasePublic, summary=summary
    )


_step_route("investigate", StepIn, "Start investigating: filed → investigating")
_step_route("extend", ExtendIn, "Extend the deadline once, with approval (before it passes)")
_step_route("suspend", SuspendIn, "Suspend (中止): investigating → suspended; the clock stops")
_step_route("resume", StepIn, "Resume: suspended → investigating; the clock runs again")
_step_route("decide", DecideIn, "Decide: investigating → decided (outcome, fine, confiscation)")
_step_route("close", StepIn, "Close (结案): decided → closed")
_step_route("transfer", TransferIn, "Transfer (移送) to police or judiciary: closes the case for the office")
_step_route("withdraw", StepIn, "Withdraw (撤销立案)")


# ---------------------------------------------------------------- campaigns


@campaigns_router.post("", status_code=201, response_model=CampaignPublic, summary="Create a campaign (专项行动)")
async def create_campaign(
    body: CampaignCreate, session: SessionDep, user: Writer, response: Response
) -> CampaignPublic:
    state, case_counts = await campaigns.create_campaign(session, body, user)
    return answer(response, CampaignPublic, state, location=f"/campaigns/{state.id}", **case_counts)


@campaigns_router.get("", response_model=CampaignList, summary="List campaigns with their case counts")
async def list_campaigns(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionQuery = None,
    active_on: Annotated[Day | None, Query(description="Campaigns running on this date")] = None,
) -> CampaignList:
    found, case_counts = await campaigns.list_campaigns(session, user, page, region, active_on)
    return listing(CampaignList, CampaignPublic, found, lambda state: case_counts[state.id])


# Before GET /{campaign_id}, which would take "import" for an id. The campaigns go first when an
# office goes live: its cases name them.
add_import_routes(
    campaigns_router,
    "campaigns",
    lambda request: campaign_import.CAMPAIGNS,
    campaign_import.COLUMNS,
    campaign_import.EXAMPLES,
    IMPORT_JOBS,
    prefix="",
    summary="each row created, or found as it is",
    description="A campaign already here (region and name) is `unchanged` when the row says what it holds; as no "
    "route changes a campaign, a row that says otherwise is refused.",
)


@campaigns_router.get("/{campaign_id}", response_model=CampaignPublic, summary="One campaign with its case counts")
async def get_campaign(campaign_id: Key, session: SessionDep, user: Reader, response: Response) -> CampaignPublic:
    state, case_counts = await campaigns.get_campaign(session, campaign_id, user)
    return answer(response, CampaignPublic, state, **case_counts)


# ---------------------------------------------------------------- watch list


@watchlist_router.get("", response_model=WatchlistPage, summary="Repeat infringers under key supervision (重点监管)")
async def get_watchlist(
    session: SessionDep, user: Reader, page: PageDep, region: ListRegion = None, as_of: Today = None
) -> WatchlistPage:
    return await watchlist.listed(session, user, page, region, as_of)


@watchlist_router.get("/window", response_model=WatchWindowPublic, summary="The watch-list window in force")
async def get_watch_window(
    session: SessionDep, user: Reader, response: Response, region: WindowRegion = None, on: Today = None
) -> WatchWindowPublic:
    return _settings(response, await region_policies.watch_window(session, user, region, on))


@watchlist_router.put("/window", response_model=WatchWindowPublic, summary="Set a region's watch-list window")
async def set_watch_window(
    body: WatchWindowPut, session: SessionDep, user: Writer, response: Response, if_match: IfMatch = None
) -> WatchWindowPublic:
    return _settings(response, await region_policies.put_watch_window(session, body, if_match, user))


# ---------------------------------------------------------------- public disclosure


@disclosure_router.get(
    "/cases", response_model=DisclosureList, summary="Decided cases, public (行政执法信息公开); no token needed"
)
async def list_disclosed_cases(
    session: SessionDep, page: PageDep, filters: Annotated[DisclosureFilter, Query()]
) -> DisclosureList:
    return await disclosure.disclosed_cases(session, page, filters)
