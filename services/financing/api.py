"""Routes of the financing service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

from dataclasses import fields
from types import ModuleType
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from services.financing import contracts, domain
from services.financing.schemas import (
    Default,
    Dispose,
    FinancingSummary,
    InsurancePolicyCreate,
    InsurancePolicyFilter,
    InsurancePolicyList,
    InsurancePolicyPublic,
    MatchmakingEventCreate,
    MatchmakingEventFilter,
    MatchmakingEventList,
    MatchmakingEventPublic,
    PledgeCreate,
    PledgeFilter,
    PledgeList,
    PledgePublic,
    PledgeRecord,
    Release,
    RiskCompensationCreate,
    SubsidyCreate,
    SummaryWindow,
    TransactionCreate,
    TransactionFilter,
    TransactionList,
    TransactionPublic,
)
from services.financing.service import (
    insurance,
    insurance_import,
    matchmaking,
    matchmaking_import,
    pledge_import,
    pledges,
    summary,
    transaction_import,
    transactions,
)
from zhichan.api.answers import answer, listing
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import IfMatch
from zhichan.api.import_routes import add_import_routes
from zhichan.api.problems import Invalid
from zhichan.auth import Reader, Writer
from zhichan.clock import today
from zhichan.fields import Key, NameSegment
from zhichan.jobs import Jobs
from zhichan.record_import import RecordKind

router = APIRouter(tags=["financing"])


def _today(state: contracts.PledgeState) -> dict[str, Any]:
    """What a pledge's reader sees beside its state: the balance it secures today."""
    facts = domain.PledgeFacts(**{f.name: getattr(state, f.name) for f in fields(domain.PledgeFacts)})
    return {"outstanding_balance": domain.outstanding_on(facts, today())}


def _pledge(response: Response, state: contracts.PledgeState, *, location: str | None = None) -> PledgePublic:
    return answer(response, PledgePublic, state, location=location, **_today(state))


# --- records from another system -------------------------------------------------------------
# Added before the routes of one record (``/pledges/{pledge_id}``), so that no path of an import is
# read as a record's id.

IMPORT_JOBS = Jobs()
RECORDED_ONCE = "each row recorded, or found as it is"


def _import_routes(records: str, module: ModuleType, kind: RecordKind, summary: str) -> None:
    add_import_routes(
        router,
        records,
        lambda request: kind,
        module.COLUMNS,
        module.EXAMPLES,
        IMPORT_JOBS,
        summary=summary,
        description=module.ROUTE_DESCRIPTION,
    )


_import_routes("pledges", pledge_import, pledge_import.PLEDGES, "each row registered, or brought to the dates it gives")
_import_routes("transactions", transaction_import, transaction_import.TRANSACTIONS, RECORDED_ONCE)
_import_routes("insurance-policies", insurance_import, insurance_import.INSURANCE_POLICIES, RECORDED_ONCE)
_import_routes("matchmaking-events", matchmaking_import, matchmaking_import.MATCHMAKING_EVENTS, RECORDED_ONCE)


@router.put(
    "/pledges/by-number/{registration_number}",
    response_model=PledgePublic,
    summary="Push a pledge by its registration number: registered (201), or brought to the record's dates (200)",
    description="For a system that keeps its own records: the body is the whole record, as a row of the import "
    "(`POST /pledges/import`) is, its assets a list. `If-Match`, when sent, must name the pledge's current version.",
    responses={201: {"model": PledgePublic, "description": "The pledge was registered"}},
)
async def record_pledge_by_number(
    registration_number: NameSegment,
    body: PledgeRecord,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: IfMatch = None,
) -> PledgePublic:
    if body.registration_number != registration_number:
        raise Invalid.field(
            ["registration_number"],
            f"the body's registration_number {body.registration_number!r} is not the path's {registration_number!r}",
        )
    state, outcome = await pledge_import.put_record(session, body, user, if_match)
    created = outcome == "created"
    response.status_code = 201 if created else 200
    return _pledge(response, state, location=f"/pledges/{state.id}" if created else None)


# --- pledges ----------------------------------------------------------------------------------


@router.post("/pledges", status_code=201, response_model=PledgePublic, summary="Register a pledge (质押登记)")
async def register_pledge(body: PledgeCreate, session: SessionDep, user: Writer, response: Response) -> PledgePublic:
    state = await pledges.register_pledge(session, body, user)
    return _pledge(response, state, location=f"/pledges/{state.id}")


@router.get("/pledges", response_model=PledgeList, summary="List pledges")
async def list_pledges(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[PledgeFilter, Query()]
) -> PledgeList:
    return listing(PledgeList, PledgePublic, await pledges.list_pledges(session, user, page, filters), _today)


@router.get("/pledges/{pledge_id}", response_model=PledgePublic, summary="One pledge, with its ETag")
async def get_pledge(pledge_id: Key, session: SessionDep, user: Reader, response: Response) -> PledgePublic:
    return _pledge(response, await pledges.get_pledge(session, pledge_id, user))


@router.post(
    "/pledges/{pledge_id}/release", response_model=PledgePublic, summary="Release (注销): registered → released"
)
async def release_pledge(
    pledge_id: Key, session: SessionDep, user: Writer, response: Response, body: Release | None = None
) -> PledgePublic:
    return _pledge(response, await pledges.transition(session, pledge_id, "release", body or Release(), user))


@router.post("/pledges/{pledge_id}/default", response_model=PledgePublic, summary="Default: registered → defaulted")
async def default_pledge(
    pledge_id: Key, body: Default, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge(response, await pledges.transition(session, pledge_id, "default", body, user))


@router.post("/pledges/{pledge_id}/dispose", response_model=PledgePublic, summary="Dispose: defaulted → disposed")
async def dispose_pledge(
    pledge_id: Key, body: Dispose, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge(response, await pledges.transition(session, pledge_id, "dispose", body, user))


@router.post(
    "/pledges/{pledge_id}/subsidies",
    status_code=201,
    response_model=PledgePublic,
    summary="Attach an interest subsidy (贴息); answers the pledge",
)
async def grant_subsidy(
    pledge_id: Key, body: SubsidyCreate, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge(response, await pledges.grant_subsidy(session, pledge_id, body, user))


@router.post(
    "/pledges/{pledge_id}/risk-compensations",
    status_code=201,
    response_model=PledgePublic,
    summary="Attach a risk-compensation claim (风险补偿) to a defaulted pledge; answers the pledge",
)
async def claim_risk_compensation(
    pledge_id: Key, body: RiskCompensationCreate, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge(response, await pledges.claim_risk_compensation(session, pledge_id, body, user))


# --- transactions -----------------------------------------------------------------------------


@router.post(
    "/transactions",
    status_code=201,
    response_model=TransactionPublic,
    summary="Record a transfer, licence or contribution",
)
async def record_transaction(
    body: TransactionCreate, session: SessionDep, user: Writer, response: Response
) -> TransactionPublic:
    state = await transactions.record_transaction(session, body, user)
    return answer(response, TransactionPublic, state, location=f"/transactions/{state.id}")


@router.get("/transactions", response_model=TransactionList, summary="List transactions")
async def list_transactions(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[TransactionFilter, Query()]
) -> TransactionList:
    return listing(
        TransactionList, TransactionPublic, await transactions.list_transactions(session, user, page, filters)
    )


@router.get("/transactions/{record_id}", response_model=TransactionPublic, summary="One transaction")
async def get_transaction(record_id: Key, session: SessionDep, user: Reader, response: Response) -> TransactionPublic:
    return answer(response, TransactionPublic, await transactions.get_transaction(session, record_id, user))


# --- insurance policies -----------------------------------------------------------------------


@router.post(
    "/insurance-policies",
    status_code=201,
    response_model=InsurancePolicyPublic,
    summary="Record an IP insurance policy (知识产权保险)",
)
async def record_insurance_policy(
    body: InsurancePolicyCreate, session: SessionDep, user: Writer, response: Response
) -> InsurancePolicyPublic:
    state = await insurance.record_insurance_policy(session, body, user)
    return answer(response, InsurancePolicyPublic, state, location=f"/insurance-policies/{state.id}")


@router.get("/insurance-policies", response_model=InsurancePolicyList, summary="List insurance policies")
async def list_insurance_policies(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[InsurancePolicyFilter, Query()]
) -> InsurancePolicyList:
    states = await insurance.list_insurance_policies(session, user, page, filters)
    return listing(InsurancePolicyList, InsurancePolicyPublic, states)


@router.get("/insurance-policies/{record_id}", response_model=InsurancePolicyPublic, summary="One insurance policy")
async def get_insurance_policy(
    record_id: Key, session: SessionDep, user: Reader, response: Response
) -> InsurancePolicyPublic:
    return answer(response, InsurancePolicyPublic, await insurance.get_insurance_policy(session, record_id, user))


# --- matchmaking events -----------------------------------------------------------------------


@router.post(
    "/matchmaking-events",
    status_code=201,
    response_model=MatchmakingEventPublic,
    summary="Record a pledge matchmaking event (质押对接活动)",
)
async def record_matchmaking_event(
    body: MatchmakingEventCreate, session: SessionDep, user: Writer, response: Response
) -> MatchmakingEventPublic:
    state = await matchmaking.record_matchmaking_event(session, body, user)
    return answer(response, MatchmakingEventPublic, state, location=f"/matchmaking-events/{state.id}")


@router.get("/matchmaking-events", response_model=MatchmakingEventList, summary="List matchmaking events")
async def list_matchmaking_events(
    session: SessionDep, user: Reader, page: PageDep, filters: Annotated[MatchmakingEventFilter, Query()]
) -> MatchmakingEventList:
    states = await matchmaking.list_matchmaking_events(session, user, page, filters)
    return listing(MatchmakingEventList, MatchmakingEventPublic, states)


@router.get("/matchmaking-events/{record_id}", response_model=MatchmakingEventPublic, summary="One matchmaking event")
async def get_matchmaking_event(
    record_id: Key, session: SessionDep, user: Reader, response: Response
) -> MatchmakingEventPublic:
    return answer(response, MatchmakingEventPublic, await matchmaking.get_matchmaking_event(session, record_id, user))


# --- summary ----------------------------------------------------------------------------------


@router.get(
    "/financing/summary",
    response_model=FinancingSummary,
    summary="Pledges, transactions, insurance and matchmaking in a window, in 元, 万元 and 亿元",
)
async def get_financing_summary(
    session: SessionDep, user: Reader, window: Annotated[SummaryWindow, Query()]
) -> FinancingSummary:
    return await summary.region_summary(session, user, window)
