"""ETag on reads, If-Match on updates: a stale write answers 412 instead of losing an edit."""

from __future__ import annotations

from zhichan.api.problems import PreconditionFailed, PreconditionRequired


def etag_for(resource_id: str, version: int) -> str:
    return f'"{resource_id}.{version}"'


def check_if_match(if_match: str | None, resource_id: str, version: int) -> None:
    if not if_match:
        raise PreconditionRequired("send If-Match with the ETag of your last read")
    current = etag_for(resource_id, version)
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if "*" not in offered and current not in offered:
        raise PreconditionFailed(f"the resource changed since your read (now {current})", etag=current)
