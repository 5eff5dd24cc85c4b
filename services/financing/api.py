"""Routes of the financing service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.financing import contracts, domain, service
from services.financing.schemas import (
    AssetType,
    Default,
    Dispose,
    FinancingSummary,
    InsurancePolicyCreate,
    InsurancePolicyList,
    InsurancePolicyPublic,
    MatchmakingEventCreate,
    MatchmakingEventList,
    MatchmakingEventPublic,
    PledgeCreate,
    PledgeKind,
    PledgeList,
    PledgePublic,
    PledgeStatus,
    Release,
    RiskCompensationCreate,
    SubsidyCreate,
    TransactionCreate,
    TransactionList,
    TransactionPublic,
    TransactionType,
)
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import etag_for
from zhichan.api.problems import PROBLEM_RESPONSES
from zhichan.auth import User, require_roles
from zhichan.clock import today
from zhichan.fields import USCC, RegionCode
from zhichan.money import Yuan

router = APIRouter(tags=["financing"], responses=PROBLEM_RESPONSES)

Reader = Annotated[User, require_roles("officer", "auditor", "department")]
Writer = Annotated[User, require_roles("officer")]
RegionFilter = Annotated[RegionCode | None, Query(description="Region code; its descendants are included")]


def _answer(response: Response, state, public: type, *, location: str | None = None):
    response.headers["ETag"] = etag_for(state.id, state.version)
    if location:
        response.headers["Location"] = location
    return public.model_validate(state.model_dump())


def _publics(public: type, states) -> list:
    return [public.model_validate(s.model_dump()) for s in states]


def _pledge_public(state: contracts.PledgeState) -> PledgePublic:
    facts = domain.PledgeFacts(
        loan_amount=state.loan_amount,
        registered_on=state.registered_on,
        released_on=state.released_on,
        defaulted_on=state.defaulted_on,
        outstanding_at_default=state.outstanding_at_default,
        disposed_on=state.disposed_on,
    )
    return PledgePublic(**state.model_dump(), outstanding_balance=domain.outstanding_on(facts, today()))


def _pledge_answer(response: Response, state: contracts.PledgeState, *, created: bool = False) -> PledgePublic:
    response.headers["ETag"] = etag_for(state.id, state.version)
    if created:
        response.headers["Location"] = f"/pledges/{state.id}"
    return _pledge_public(state)


# --- pledges ----------------------------------------------------------------------------------


@router.post("/pledges", status_code=201, response_model=PledgePublic, summary="Register a pledge (质押登记)")
async def register_pledge(body: PledgeCreate, session: SessionDep, user: Writer, response: Response) -> PledgePublic:
    return _pledge_answer(response, await service.register_pledge(session, body, user), created=True)


@router.get("/pledges", response_model=PledgeList, summary="List pledges")
async def list_pledges(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionFilter = None,
    status: PledgeStatus | None = None,
    kind: PledgeKind | None = None,
    asset_type: Annotated[AssetType | None, Query(description="Pledges with at least one asset of this type")] = None,
    pledgee: Annotated[str | None, Query(max_length=200, description="Part of the pledgee's name")] = None,
    pledgor_uscc: USCC | None = None,
    registered_from: date | None = None,
    registered_to: date | None = None,
    min_amount: Annotated[Yuan | None, Query(description="Smallest loan amount, 元")] = None,
    max_amount: Annotated[Yuan | None, Query(description="Largest loan amount, 元")] = None,
) -> PledgeList:
    states, next_cursor = await service.list_pledges(
        session,
        user,
        page,
        region=region,
        status=status,
        kind=kind,
        asset_type=asset_type,
        pledgee=pledgee,
        pledgor_uscc=pledgor_uscc,
        registered_from=registered_from,
        registered_to=registered_to,
        min_amount=min_amount,
        max_amount=max_amount,
    )
    return PledgeList(items=[_pledge_public(s) for s in states], next_cursor=next_cursor)


@router.get("/pledges/{pledge_id}", response_model=PledgePublic, summary="One pledge, with its ETag")
async def get_pledge(pledge_id: str, session: SessionDep, user: Reader, response: Response) -> PledgePublic:
    return _pledge_answer(response, await service.get_pledge(session, pledge_id, user))


@router.post(
    "/pledges/{pledge_id}/release", response_model=PledgePublic, summary="Release (注销): registered → released"
)
async def release_pledge(
    pledge_id: str, session: SessionDep, user: Writer, response: Response, body: Release | None = None
) -> PledgePublic:
    state = await service.transition(session, pledge_id, "release", body or Release(), user)
    return _pledge_answer(response, state)


@router.post("/pledges/{pledge_id}/default", response_model=PledgePublic, summary="Default: registered → defaulted")
async def default_pledge(
    pledge_id: str, body: Default, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge_answer(response, await service.transition(session, pledge_id, "default", body, user))


@router.post("/pledges/{pledge_id}/dispose", response_model=PledgePublic, summary="Dispose: defaulted → disposed")
async def dispose_pledge(
    pledge_id: str, body: Dispose, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge_answer(response, await service.transition(session, pledge_id, "dispose", body, user))


@router.post(
    "/pledges/{pledge_id}/subsidies",
    status_code=201,
    response_model=PledgePublic,
    summary="Attach an interest subsidy (贴息); answers the pledge",
)
async def grant_subsidy(
    pledge_id: str, body: SubsidyCreate, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge_answer(response, await service.grant_subsidy(session, pledge_id, body, user))


@router.post(
    "/pledges/{pledge_id}/risk-compensations",
    status_code=201,
    response_model=PledgePublic,
    summary="Attach a risk-compensation claim (风险补偿) to a defaulted pledge; answers the pledge",
)
async def claim_risk_compensation(
    pledge_id: str, body: RiskCompensationCreate, session: SessionDep, user: Writer, response: Response
) -> PledgePublic:
    return _pledge_answer(response, await service.claim_risk_compensation(session, pledge_id, body, user))


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
    state = await service.record_transaction(session, body, user)
    return _answer(response, state, TransactionPublic, location=f"/transactions/{state.id}")


@router.get("/transactions", response_model=TransactionList, summary="List transactions")
async def list_transactions(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionFilter = None,
    type: TransactionType | None = None,
    asset_type: AssetType | None = None,
    recorded_from: date | None = None,
    recorded_to: date | None = None,
) -> TransactionList:
    states, next_cursor = await service.list_transactions(
        session,
        user,
        page,
        region=region,
        type=type,
        asset_type=asset_type,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
    )
    return TransactionList(items=_publics(TransactionPublic, states), next_cursor=next_cursor)


@router.get("/transactions/{record_id}", response_model=TransactionPublic, summary="One transaction")
async def get_transaction(record_id: str, session: SessionDep, user: Reader, response: Response) -> TransactionPublic:
    return _answer(response, await service.get_transaction(session, record_id, user), TransactionPublic)


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
    state = await service.record_insurance_policy(session, body, user)
    return _answer(response, state, InsurancePolicyPublic, location=f"/insurance-policies/{state.id}")


@router.get("/insurance-policies", response_model=InsurancePolicyList, summary="List insurance policies")
async def list_insurance_policies(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionFilter = None,
    insurer: Annotated[str | None, Query(max_length=200, description="Part of the insurer's name")] = None,
    asset_type: AssetType | None = None,
    starts_from: date | None = None,
    starts_to: date | None = None,
) -> InsurancePolicyList:
    states, next_cursor = await service.list_insurance_policies(
        session,
        user,
        page,
        region=region,
        insurer=insurer,
        asset_type=asset_type,
        starts_from=starts_from,
        starts_to=starts_to,
    )
    return InsurancePolicyList(items=_publics(InsurancePolicyPublic, states), next_cursor=next_cursor)


@router.get("/insurance-policies/{record_id}", response_model=InsurancePolicyPublic, summary="One insurance policy")
async def get_insurance_policy(
    record_id: str, session: SessionDep, user: Reader, response: Response
) -> InsurancePolicyPublic:
    return _answer(response, await service.get_insurance_policy(session, record_id, user), InsurancePolicyPublic)


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
    state = await service.record_matchmaking_event(session, body, user)
    return _answer(response, state, MatchmakingEventPublic, location=f"/matchmaking-events/{state.id}")


@router.get("/matchmaking-events", response_model=MatchmakingEventList, summary="List matchmaking events")
async def list_matchmaking_events(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: RegionFilter = None,
    held_from: date | None = None,
    held_to: date | None = None,
) -> MatchmakingEventList:
    states, next_cursor = await service.list_matchmaking_events(
        session, user, page, region=region, held_from=held_from, held_to=held_to
    )
    return MatchmakingEventList(items=_publics(MatchmakingEventPublic, states), next_cursor=next_cursor)


@router.get("/matchmaking-events/{record_id}", response_model=MatchmakingEventPublic, summary="One matchmaking event")
async def get_matchmaking_event(
    record_id: str, session: SessionDep, user: Reader, response: Response
) -> MatchmakingEventPublic:
    return _answer(response, await service.get_matchmaking_event(session, record_id, user), MatchmakingEventPublic)


# --- summary ----------------------------------------------------------------------------------


@router.get(
    "/financing/summary",
    response_model=FinancingSummary,
    summary="Pledges, transactions, insurance and matchmaking in a window, in 元, 万元 and 亿元",
)
async def financing_summary(
    session: SessionDep,
    user: Reader,
    region: RegionFilter = None,
    from_: Annotated[date | None, Query(alias="from", description="Default: 1 January of `to`'s year")] = None,
    to: Annotated[date | None, Query(description="Default: today (Asia/Shanghai)")] = None,
) -> FinancingSummary:
    return await service.summary(session, user, region, from_, to)
