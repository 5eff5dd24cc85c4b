"""ETag on reads, If-Match on updates: a stale write answers 412 instead of losing an edit."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from zhichan.api.problems import PreconditionFailed, PreconditionRequired

# The route parameter: checked when sent (412 when the record changed since). IfMatchRequired: the
# change is refused without one (428), which the OpenAPI document says by making the header
# required (zhichan.api.openapi reads the mark).
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of your last read: refused (412) if the record changed since",
        json_schema_extra={"x-if-match": "optional", "minLength": 1},
    ),
]
IfMatchRequired = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="The ETag of your last read (`*`: any version): refused (412) if the record changed since, "
        "and without it (428)",
        json_schema_extra={"x-if-match": "required", "minLength": 1},
    ),
]


def etag_for(resource_id: str, version: int) -> str:
    return f'"{resource_id}.{version}"'


def check_if_match(if_match: str | None, resource_id: str, version: int) -> None:
    if not if_match:
        raise PreconditionRequired("send If-Match with the ETag of your last read")
    current = etag_for(resource_id, version)
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in offered and current not in offered:
        raise PreconditionFailed(f"the resource changed since your read (now {current})", etag=current)
