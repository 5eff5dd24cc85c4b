"""Imports of records from a spreadsheet, the same for every kind of record: the answer (counts
of created, updated, unchanged and refused rows), the job of a large file, the refusal (a 422
whose ``errors`` name each row and column, or the workbook with the bad cells marked) and the
template. A service brings its columns (:class:`zhichan.tabular.Column`) and the use case that
imports one table; see ``services/enforcement`` (``POST /cases/import``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from zhichan import tabular
from zhichan.api.problems import Conflict, Invalid, NotFound
from zhichan.auth import User
from zhichan.jobs import Job, Jobs, JobStatus

DryRun = Annotated[bool, Query(description="Check every row and answer the counts; store nothing")]
Annotate = Annotated[
    Literal["xlsx"] | None,
    Query(description="On a refusal, answer the file as a workbook with the bad cells marked (fill and comment)"),
]
TemplateFormat = Annotated[Literal["xlsx", "csv"], Query(description="The template's format")]


class ImportCounts(BaseModel):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0


class RowError(BaseModel):
    loc: list[str | int] = Field(description='`["rows", <row>, <column code>]`, or `["file"]`')
    msg: str
    row: int | None = Field(description="The row as the spreadsheet numbers it (the header is row 1)")
    column: str | None = Field(description="The column's header")


class ImportResult(ImportCounts):
    """What an import did, or would do (``dry_run``): every row is counted once."""

    rows: int = Field(description="Data rows read (notes and empty rows left out)")
    dry_run: bool


class ImportJobPublic(BaseModel):
    """A large import running outside its request. Jobs live in the service's memory: after a
    restart the job is gone (404), having stored nothing: importing the file again does it all."""

    id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    rows: int
    phase: Literal["checking"] | None = Field(
        None,
        description="`checking` every row, by chunks, in one transaction: nothing is stored until every row "
        "is, then all of them at once",
    )
    done: int = Field(description="Rows worked through so far")
    result: ImportResult | None = Field(None, description="When it succeeded")
    errors: list[RowError] = Field(default_factory=list, description="When it failed: every problem of the file")
    detail: str | None = None


def job_public(job: Job) -> ImportJobPublic:
    result = job.result or {}
    succeeded = job.status == "succeeded"
    return ImportJobPublic(
        id=job.id,
        status=job.status,
        rows=job.total,
        phase=job.phase,
        done=job.done,
        result=ImportResult(**result) if succeeded else None,
        errors=[] if succeeded else result.get("errors", []),
        detail=None if succeeded else result.get("detail"),
    )


# Imports a table in a session: the service's use case, with a progress callback (rows done, phase) or None.
ImportTable = Callable[[AsyncSession, Callable[[int, str], None] | None], Awaitable[ImportResult]]


async def imported(
    request: Request, session: AsyncSession, user: User, rows: int, run: ImportTable, jobs: Jobs, jobs_path: str
) -> ImportResult | JSONResponse:
    """The import's answer: done in the request up to the process's ``import_job_rows``, else
    started as a job (202, ``Location`` of its resource) in a session of its own."""
    if rows <= request.app.state.settings.import_job_rows:
        return await run(session, None)
    session_factory = request.app.state.session_factory

    async def work(job: Job) -> tuple[JobStatus, dict[str, Any]]:
        async with session_factory() as own:
            try:
                result = await run(own, job.progress)
            except (Invalid, Conflict) as refused:
                return "failed", {"detail": refused.detail, "errors": refused.errors or []}
        return "succeeded", result.model_dump()

    job = jobs.start("import", user.sub, rows, work)
    location = f"{jobs_path}/{job.id}"
    return JSONResponse(job_public(job).model_dump(mode="json"), status_code=202, headers={"Location": location})


def job_of(jobs: Jobs, job_id: str, user: User) -> ImportJobPublic:
    """A job's resource, for the one who started it (anyone else: 404, as for a job unknown)."""
    job = jobs.get(job_id)
    if job is None or job.owner != user.sub:
        raise NotFound(f"no import job {job_id} (jobs are kept in memory: a restart forgets them)")
    return job_public(job)


def wants_annotated(request: Request, annotate: str | None) -> bool:
    """A refusal answered as the marked workbook: ``?annotated=xlsx``, or an Accept of the xlsx type."""
    return annotate == "xlsx" or tabular.XLSX_TYPE in request.headers.get("accept", "")


def refusal(
    refused: tabular.TableRefused,
    raw: bytes,
    fmt: str,
    columns: list[tabular.Column],
    annotated: bool,
    filename: str | None,
) -> Response:
    """The answer to a refused file: the marked workbook when asked for (422 still), else raised
    as the problem it is. A file that could not be read at all (a problem of no row) has no cells
    to mark."""
    if not annotated or any(problem.row is None for problem in refused.problems):
        raise refused
    try:
        marked = tabular.annotated(raw, fmt, columns, refused.problems)
    except Exception:  # openpyxl raises many kinds for a workbook it reads but cannot write again
        raise refused from None
    name = (filename or "import").rsplit(".", 1)[0]
    # The upload's own name may be Chinese (2024年案件.xlsx): RFC 6266's filename*, with an ASCII fallback.
    disposition = f"attachment; filename=\"import-errors.xlsx\"; filename*=UTF-8''{quote(name + '-errors.xlsx')}"
    return Response(marked, status_code=422, media_type=tabular.XLSX_TYPE, headers={"Content-Disposition": disposition})


def template_response(columns: list[tabular.Column], examples: list[dict[str, Any]], fmt: str, name: str) -> Response:
    return Response(
        tabular.template(columns, examples, fmt),
        media_type=tabular.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


def import_responses(what: str) -> dict[int | str, dict[str, Any]]:
    """The documented answers of an import route."""
    return {
        200: {"model": ImportResult, "description": f"The {what} imported (or checked: `dry_run`)"},
        202: {
            "model": ImportJobPublic,
            "description": "A large file: imported as a job; `Location` names the job resource",
            "headers": {"Location": {"schema": {"type": "string"}, "description": "The job resource"}},
        },
        413: {"description": "Larger than the service's body limit"},
        415: {"description": "Not xlsx or CSV"},
        422: {
            "description": "The file is refused, nothing stored: `errors` name each row and column. Asked for "
            f"(`annotated=xlsx`, or `Accept: {tabular.XLSX_TYPE}`), the answer is the workbook with the bad cells "
            "marked instead"
        },
    }
