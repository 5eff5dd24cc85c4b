"""The alerts: scheduled from the events as they are applied, raised on their day, acknowledged
by people. Records of the gateway's own, like the webhooks' (the migration branch ``webhooks``):
``zhichan gateway rebuild`` leaves them, so an alert raised is never raised again by a replay.

The outbox and relay lease of the kernel live beside them: the gateway publishes the alerts'
events through them, as a service publishes its own."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from zhichan.db import Stamped, UTCDateTime


class Alert(Stamped, table=True):
    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_due", "status", "raise_on"),
        Index("ix_alert_region_raised", "region", "raised_on"),
    )

    id: str = Field(primary_key=True, max_length=26)
    cause: str = Field(max_length=300, unique=True)  # kind, record and deadline: raised once
    kind: str = Field(max_length=30)
    record: str = Field(max_length=200, index=True)  # <service>/<aggregate>/<id>[/tasks/<key>]
    record_version: int  # the record's state that planned it: an older event plans nothing
    region: str = Field(max_length=32)
    title: str = Field(max_length=500)
    link: str = Field(max_length=300)
    responsible: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    due_date: date | None = None
    raise_on: date
    status: str = Field(max_length=10)  # scheduled | raised | cancelled
    raised_on: date | None = None
    acknowledged_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    acknowledged_by: str | None = Field(default=None, max_length=200)


class IndicatorStatusSeen(SQLModel, table=True):
    """Each indicator's status when the alerts last looked (once a day, and after events): a
    status worse than this one raises ``indicator_worsened``."""

    __tablename__ = "indicator_status_seen"

    plan: str = Field(primary_key=True, max_length=100)  # the plan's key
    indicator: str = Field(primary_key=True, max_length=100)
    status: str = Field(max_length=20)
    as_of: date


class RoundSubmissionSeen(SQLModel, table=True):
    """A department's report in a round arrived (its first submission event): the round's alerts
    for it are cancelled, and a later state of the plan does not plan them again."""

    __tablename__ = "round_submission_seen"

    plan: str = Field(primary_key=True, max_length=100)  # the plan's key
    round: str = Field(primary_key=True, max_length=10)
    department: str = Field(primary_key=True, max_length=200)
