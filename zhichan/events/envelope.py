"""CloudEvents 1.0, structured JSON mode, with Zhichan's extensions.

``type`` = ``zhichan.<service>.<aggregate>.<verb>.v<N>``; ``subject`` = ``<aggregate>/<id>``;
extensions ``region``, ``aggregateversion``, ``actor`` (and ``traceparent`` when one came in).
``data`` is the aggregate's full state after the change.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from zhichan.clock import utcnow

TYPE_PATTERN = re.compile(r"^zhichan\.(?P<service>[a-z]+)\.(?P<aggregate>[a-z_]+)\.(?P<verb>[a-z_]+)\.v(?P<n>\d+)$")


def event_type(service: str, aggregate: str, verb: str, version: int = 1) -> str:
    return f"zhichan.{service}.{aggregate}.{verb}.v{version}"


def topic_of(service: str) -> str:
    return f"zhichan.{service}"


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    subject: str
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    region: str
    aggregateversion: int
    actor: str | None = None
    traceparent: str | None = None
    data: dict[str, Any]

    @field_validator("type")
    @classmethod
    def _type_has_our_shape(cls, value: str) -> str:
        if not TYPE_PATTERN.match(value):
            raise ValueError(f"event type {value!r} is not zhichan.<service>.<aggregate>.<verb>.v<N>")
        return value

    @field_validator("specversion")
    @classmethod
    def _cloudevents_1(cls, value: str) -> str:
        if value != "1.0":
            raise ValueError("only CloudEvents 1.0")
        return value

    # ``type`` matched TYPE_PATTERN when validated, so its dot-separated parts are its groups;
    # splitting is several times cheaper than matching again (a replay asks millions of times).
    @property
    def service(self) -> str:
        return self.type.split(".", 2)[1]

    @property
    def aggregate(self) -> str:
        return self.type.split(".", 3)[2]

    @property
    def verb(self) -> str:
        return self.type.split(".", 4)[3]

    @property
    def aggregate_id(self) -> str:
        return self.subject.split("/", 1)[1]

    def to_json(self) -> bytes:
        return json.dumps(self.model_dump(mode="json", exclude_none=True), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> Envelope:
        return cls.model_validate_json(raw)
