"""Webhook subscriptions and their deliveries: records of the gateway's own, not a projection of
events. They live in the gateway's database beside the read model, in a migration branch of
their own (``webhooks``): ``zhichan gateway rebuild`` drops and replays the read model only.

- ``webhook_subscription``: who asked for what (event types, regions) to be sent where, with the
  secrets that sign the deliveries (kept as they are: HMAC needs the key itself).
- ``webhook_delivery``: one event for one subscription, created in the transaction that applied
  the event (so none is lost however the process ends) and unique per (subscription, event), so
  a redelivered event is not sent twice. Its ``id`` is the ``webhook-id`` of every attempt.
- ``webhook_attempt``: the delivery log, one row per attempt.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from zhichan.db import Stamped, UTCDateTime


class WebhookSubscription(Stamped, table=True):
    __tablename__ = "webhook_subscription"

    id: str = Field(primary_key=True, max_length=26)
    owner: str = Field(max_length=200, index=True)  # the token's sub that created it
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    # Patterns of CloudEvents types: exact (zhichan.enforcement.case.closed.v1) or a prefix and
    # ``*`` (zhichan.enforcement.case.*); none: every type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Events of these regions and below; none: every region (admins only).
    regions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{"secret": "whsec_…", "expires_at": ISO time or null}], the newest first; an expired one is
    # dropped at the next rotation or delivery.
    secrets: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription", "subscription_id", "created_at"),
    )

    id: str = Field(primary_key=True, max_length=40)  # msg_<ULID>
    subscription_id: str = Field(max_length=26)
    event_id: str = Field(max_length=36)
    event_type: str = Field(max_length=200)
    region: str = Field(max_length=32)
    body: str = Field(sa_column=Column(Text, nullable=False))  # the CloudEvent as sent, every attempt alike
    status: str = Field(max_length=10)  # pending | succeeded | failed (dead letter)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    last_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class WebhookAttempt(SQLModel, table=True):
    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id", "attempted_at"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str = Field(max_length=40)
    attempted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: int | None = None  # the receiver's HTTP status; none when it could not be reached
    error: str | None = Field(default=None, max_length=500)
    duration_ms: int
