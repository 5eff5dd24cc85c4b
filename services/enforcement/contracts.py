"""Events the enforcement service publishes on ``zhichan.enforcement``. The only module of this service that
another package may import."""

from __future__ import annotations

from pydantic import BaseModel

SERVICE = "enforcement"
TOPIC = "zhichan.enforcement"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {}
