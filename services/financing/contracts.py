"""Events the financing service publishes on ``zhichan.financing``. The only module of this service that
another package may import."""

from __future__ import annotations

from pydantic import BaseModel

SERVICE = "financing"
TOPIC = "zhichan.financing"

EVENTS: dict[str, tuple[type[BaseModel], str]] = {}
