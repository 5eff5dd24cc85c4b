"""Time, in one place: business dates are in Asia/Shanghai, timestamps are UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today's business date, in China."""
    return datetime.now(SHANGHAI).date()
