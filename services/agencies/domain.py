"""Agency rules, free of I/O: the filing state machine and the vocabularies."""

from __future__ import annotations

from datetime import date

SERVICE_TYPES = {
    "patent_agency": "专利代理",
    "trademark_agency": "商标代理",
    "legal": "法律",
    "information": "信息检索分析",
    "operation": "运营",
    "valuation": "评估",
    "navigation": "专利导航",
    "consulting": "咨询",
    "training": "培训",
    "finance": "金融",
}
BRAND_LEVELS = {"none": "无", "municipal": "市级品牌机构", "provincial": "省级品牌机构", "national": "国家级品牌机构"}
STATUSES = {"filed": "已备案待审", "active": "正常", "suspended": "暂停", "deregistered": "已注销"}

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "approve": (frozenset({"filed"}), "active"),
    "suspend": (frozenset({"active"}), "suspended"),
    "reinstate": (frozenset({"suspended"}), "active"),
    "deregister": (frozenset({"filed", "active", "suspended"}), "deregistered"),
}
ACTION_LABELS = {"approve": "审核通过", "suspend": "暂停", "reinstate": "恢复", "deregister": "注销"}


class TransitionNotAllowed(Exception):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} an agency that is {status}")
        self.action = action
        self.status = status


class BusinessDateError(ValueError):
    pass


def next_status(action: str, status: str) -> str:
    allowed_from, target = TRANSITIONS[action]
    if status not in allowed_from:
        raise TransitionNotAllowed(action, status)
    return target


def check_effective_date(effective: date, last_change: date, today: date) -> None:
    """A change takes effect on a business date: not in the future, not before the last change."""
    if effective > today:
        raise BusinessDateError("the date lies in the future")
    if effective < last_change:
        raise BusinessDateError(f"the date lies before the agency's last change ({last_change.isoformat()})")


def active_on(history: list[dict], day: date) -> bool:
    """Whether an agency with this status history was active on ``day``."""
    status = None
    for entry in history:
        if date.fromisoformat(entry["on"]) <= day:
            status = entry["status"]
    return status == "active"
