"""What the webhook routes take and answer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from zhichan.events.envelope import TYPE_PATTERN
from zhichan.fields import RegionCode

# A prefix of event types and a star: zhichan.* , zhichan.enforcement.* , zhichan.enforcement.case.*
TYPE_PREFIX = re.compile(r"^zhichan(\.[a-z_]+){0,3}\.\*$")
DeliveryStatus = Literal["pending", "succeeded", "failed"]


def _checked_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an http or https URL with a host")
    if parts.username or parts.password:
        raise ValueError("no credentials in the URL: the signature authenticates the deliveries")
    return value


def _checked_types(values: list[str]) -> list[str]:
    for value in values:
        if not (TYPE_PATTERN.match(value) or TYPE_PREFIX.match(value)):
            raise ValueError(
                f"{value!r} is neither an event type (zhichan.enforcement.case.closed.v1) nor a prefix and a star "
                "(zhichan.enforcement.case.*)"
            )
    return list(dict.fromkeys(values))


ReceiverUrl = Annotated[str, Field(max_length=2000), AfterValidator(_checked_url)]
EventTypes = Annotated[list[str], Field(max_length=50), AfterValidator(_checked_types)]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: ReceiverUrl = Field(
        description="Where deliveries are POSTed", examples=["https://zf.example.gov.cn/hooks/zhichan"]
    )
    event_types: EventTypes = Field(
        default_factory=list,
        description="CloudEvents types, exact (`zhichan.enforcement.case.closed.v1`) or a prefix and a star "
        "(`zhichan.enforcement.*`); empty: every type",
    )
    regions: list[RegionCode] = Field(
        default_factory=list,
        max_length=50,
        description="Events of these regions and below; empty: every region you see (an admin: every region)",
    )
    description: str = Field("", max_length=500)


class WebhookUpdate(BaseModel):
    """What changes; a field left out stays as it is. ``active: true`` enables a subscription
    again (one the receiver disabled by answering 410 Gone)."""

    model_config = ConfigDict(extra="forbid")

    url: ReceiverUrl | None = None
    event_types: EventTypes | None = None
    regions: list[RegionCode] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=500)
    active: bool | None = None


class WebhookPublic(BaseModel):
    id: str
    url: str
    event_types: list[str]
    regions: list[str]
    description: str
    active: bool
    disabled_reason: str | None = Field(None, description="Why it stopped: e.g. the receiver answered 410 Gone")
    owner: str
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookPublic):
    secret: str = Field(description="The signing secret (`whsec_…`), shown this once: keep it")


class SecretRotated(BaseModel):
    secret: str = Field(description="The new signing secret, shown this once")
    previous_valid_until: datetime | None = Field(
        description="Until then deliveries carry a signature by the previous secret too"
    )


class WebhookList(BaseModel):
    items: list[WebhookPublic]


class AttemptPublic(BaseModel):
    attempted_at: datetime
    status: int | None = Field(description="The receiver's HTTP status; null when it could not be reached")
    error: str | None
    duration_ms: int


class DeliveryPublic(BaseModel):
    id: str = Field(description="The `webhook-id` of every attempt: the receiver's key to drop a repeat")
    event_id: str
    event_type: str
    region: str
    status: DeliveryStatus = Field(description="`failed`: every retry failed (dead letter); redeliver by hand")
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[AttemptPublic] = Field(default_factory=list, description="Every attempt, the oldest first")


class DeliveryList(BaseModel):
    items: list[DeliveryPublic]
    next_cursor: str | None = None
