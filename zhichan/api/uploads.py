"""A file sent to a route: the raw body with its media type, or the field ``file`` of a
multipart form, at most a given size (413 beyond it, 415 for a format the route does not take)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from zhichan.api.problems import Invalid, PayloadTooLarge, ProblemError

MULTIPART_OVERHEAD = 64 * 1024  # a form's boundaries and headers around the file


class UnsupportedMediaType(ProblemError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


def request_body(description: str, media_types: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The ``openapi_extra`` of a route that takes a file: its media types and the multipart form."""
    multipart = {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {**media_types, "multipart/form-data": multipart},
        }
    }


async def _read_body(request: Request, limit: int, too_large: str) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(too_large, max_bytes=limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(too_large, max_bytes=limit)
    return bytes(body)


async def uploaded_file(
    request: Request, limit: int, format_of: Callable[[str | None, str | None], str | None], accepted: str
) -> tuple[bytes, str, str | None]:
    """The file's bytes, its format as ``format_of`` tells it from a media type or a file name,
    and its file name when a form named one. ``accepted`` says what to send instead (415)."""
    too_large = f"a file is at most {limit // (1024 * 1024)} MB"
    media = request.headers.get("content-type", "")
    if media.lower().startswith("multipart/form-data"):
        body = await _read_body(request, limit + MULTIPART_OVERHEAD, too_large)

        async def replay() -> dict:
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(request.scope, replay).form(max_files=1, max_fields=5)
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Invalid.field(["file"], "upload the file in the multipart field 'file'")
        raw = await upload.read()
        if len(raw) > limit:
            raise PayloadTooLarge(too_large, max_bytes=limit)
        fmt = format_of(upload.content_type, upload.filename) or format_of(None, upload.filename)
        if fmt is None:
            raise UnsupportedMediaType(
                f"cannot tell the format of {upload.filename!r} ({upload.content_type}); {accepted}"
            )
        return raw, fmt, upload.filename
    fmt = format_of(media, None)
    if fmt is None:
        raise UnsupportedMediaType(accepted)
    return await _read_body(request, limit, too_large), fmt, None
