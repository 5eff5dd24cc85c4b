"""Routes of the agencies service: parse, authorise, call the use case, shape the answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from services.agencies import service
from services.agencies.schemas import (
    AgencyCreate,
    AgencyList,
    AgencyPublic,
    AgencyUpdate,
    ServiceType,
    Status,
    Transition,
)
from zhichan.api.deps import PageDep, SessionDep
from zhichan.api.etag import etag_for
from zhichan.api.problems import PROBLEM_RESPONSES
from zhichan.auth import User, require_roles

router = APIRouter(prefix="/agencies", tags=["agencies"], responses=PROBLEM_RESPONSES)

Reader = Annotated[User, require_roles("officer", "auditor", "department")]
Writer = Annotated[User, require_roles("officer")]


def _public(agency) -> AgencyPublic:
    return AgencyPublic.model_validate(service.agency_state(agency).model_dump())


@router.post("", status_code=201, response_model=AgencyPublic, summary="File an agency (备案)")
async def file_agency(body: AgencyCreate, session: SessionDep, user: Writer, response: Response) -> AgencyPublic:
    agency = await service.file_agency(session, body, user)
    response.headers["ETag"] = etag_for(agency.id, agency.version)
    response.headers["Location"] = f"/agencies/{agency.id}"
    return _public(agency)


@router.get("", response_model=AgencyList, summary="List agencies")
async def list_agencies(
    session: SessionDep,
    user: Reader,
    page: PageDep,
    region: Annotated[str | None, Query(description="Region code; its descendants are included")] = None,
    status: Status | None = None,
    service_type: ServiceType | None = None,
    offline: bool | None = None,
    in_cluster: bool | None = None,
) -> AgencyList:
    rows, next_cursor = await service.list_agencies(
        session,
        user,
        page,
        region=region,
        status=status,
        service_type=service_type,
        offline=offline,
        in_cluster=in_cluster,
    )
    return AgencyList(items=[_public(a) for a in rows], next_cursor=next_cursor)


@router.get("/{agency_id}", response_model=AgencyPublic, summary="One agency, with its ETag")
async def get_agency(agency_id: str, session: SessionDep, user: Reader, response: Response) -> AgencyPublic:
    agency = await service.get_visible(session, agency_id, user)
    response.headers["ETag"] = etag_for(agency.id, agency.version)
    return _public(agency)


@router.patch("/{agency_id}", response_model=AgencyPublic, summary="Change particulars (needs If-Match)")
async def update_agency(
    agency_id: str,
    body: AgencyUpdate,
    session: SessionDep,
    user: Writer,
    response: Response,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> AgencyPublic:
    agency = await service.update_agency(session, agency_id, body, if_match, user)
    response.headers["ETag"] = etag_for(agency.id, agency.version)
    return _public(agency)


def _transition_route(action: str, summary: str):
    async def route(
        agency_id: str, session: SessionDep, user: Writer, response: Response, body: Transition | None = None
    ) -> AgencyPublic:
        agency = await service.transition(session, agency_id, action, body or Transition(), user)
        response.headers["ETag"] = etag_for(agency.id, agency.version)
        return _public(agency)

    route.__name__ = f"{action}_agency"
    router.add_api_route(
        f"/{{agency_id}}/{action}", route, methods=["POST"], response_model=AgencyPublic, summary=summary
    )


_transition_route("approve", "Approve a filing: filed → active")
_transition_route("suspend", "Suspend: active → suspended")
_transition_route("reinstate", "Reinstate: suspended → active")
_transition_route("deregister", "Deregister (注销): filed | active | suspended → deregistered")
