"""Events the agencies service publishes on ``zhichan.agencies``. The only module of this
service that another package may import (the gateway reads it)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

SERVICE = "agencies"
TOPIC = "zhichan.agencies"


class StatusChange(BaseModel):
    status: str
    on: date
    at: datetime
    actor: str | None = None
    reason: str | None = None


class AgencyState(BaseModel):
    """The agency's full state after the change."""

    id: str
    name: str
    uscc: str
    region: str
    address: str | None = None
    service_types: list[str]
    licence_numbers: list[str]
    offline: bool
    in_cluster: bool
    brand_level: str
    status: str
    filed_on: date
    status_history: list[StatusChange]
    version: int
    created_at: datetime
    updated_at: datetime


AGENCY_FILED = "zhichan.agencies.agency.filed.v1"
AGENCY_UPDATED = "zhichan.agencies.agency.updated.v1"
AGENCY_APPROVED = "zhichan.agencies.agency.approved.v1"
AGENCY_SUSPENDED = "zhichan.agencies.agency.suspended.v1"
AGENCY_REINSTATED = "zhichan.agencies.agency.reinstated.v1"
AGENCY_DEREGISTERED = "zhichan.agencies.agency.deregistered.v1"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {
    AGENCY_FILED: (AgencyState, "An agency filed (备案), awaiting review"),
    AGENCY_UPDATED: (AgencyState, "An agency's particulars changed"),
    AGENCY_APPROVED: (AgencyState, "A filing approved: the agency is active"),
    AGENCY_SUSPENDED: (AgencyState, "An agency suspended"),
    AGENCY_REINSTATED: (AgencyState, "A suspended agency active again"),
    AGENCY_DEREGISTERED: (AgencyState, "An agency deregistered (注销)"),
}
