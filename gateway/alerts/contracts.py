"""The alerts' events, as the services' ``contracts.py`` state theirs: the payload model and the
types, from which the AsyncAPI document of the topic ``zhichan.alerts`` is generated."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from zhichan.vocabulary import Vocabulary

SERVICE = "alerts"  # the topic zhichan.alerts, produced by the gateway

ALERT_KINDS = Vocabulary(
    {
        "case_due_soon": "案件即将到期",
        "case_overdue": "案件已超期",
        "complaint_due_soon": "投诉即将到期",
        "complaint_overdue": "投诉已超期",
        "task_overdue": "任务已逾期",
        "pledge_defaulted": "质押贷款违约",
        "indicator_worsened": "指标状态恶化",
        "round_due_soon": "填报即将截止",
        "round_missed": "逾期未填报",
    }
)
AlertKind = ALERT_KINDS.literal


class AlertState(BaseModel):
    id: str
    region: str
    kind: AlertKind
    title: str = Field(description="What happened, in Chinese: 案件 宜市监知立〔2024〕3号 已超期（期限 2024-12-31）")
    record: str = Field(
        description="The record it is about: <service>/<aggregate>/<id> (a task: …/plan/<id>/tasks/<key>)"
    )
    link: str = Field(description="Where the record is read through the gateway: /api/cases/<id>")
    responsible: list[str] = Field(description="The unit(s) that must act: a case's handling unit, a task's 责任单位")
    due_date: date | None = Field(description="The deadline it is about; null for a default or an indicator")
    raised_on: date = Field(description="The business day it was raised (Asia/Shanghai)")
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    version: int
    created_at: datetime
    updated_at: datetime


ALERT_RAISED = "zhichan.alerts.alert.raised.v1"
ALERT_ACKNOWLEDGED = "zhichan.alerts.alert.acknowledged.v1"
EVENTS: dict[str, tuple[type[BaseModel], str]] = {
    ALERT_RAISED: (AlertState, "An alert raised: a deadline near or passed, or a loan defaulted"),
    ALERT_ACKNOWLEDGED: (AlertState, "An alert acknowledged by someone responsible"),
}
