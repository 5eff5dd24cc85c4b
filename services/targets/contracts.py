"""Events the targets service publishes on ``zhichan.targets``. The only module of this service that
another package may import."""

from __future__ import annotations

from pydantic import BaseModel

SERVICE = "targets"
TOPIC = "zhichan.targets"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {}
