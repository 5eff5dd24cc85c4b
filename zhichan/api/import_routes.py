"""The routes of an import, the same for every kind of record: ``POST /<records>/import``, its
template and its jobs. A service names the kind (:class:`zhichan.record_import.RecordKind`) and
where the routes go; :mod:`zhichan.api.imports` is what they answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from zhichan import tabular
from zhichan.api import imports
from zhichan.api.deps import SessionDep
from zhichan.api.uploads import request_body, uploaded_file
from zhichan.auth import Reader, Writer
from zhichan.fields import Key
from zhichan.jobs import Jobs
from zhichan.record_import import RecordKind, import_table

# The kind of record an import takes, from its request (complaints count deadlines by the
# service's rules, which the app holds).
KindOf = Callable[[Request], RecordKind]
DEFAULT_DESCRIPTION = (
    "A record already here (by its natural key) is `unchanged` when the row says what it holds, else "
    "`updated` through the rules the routes follow."
)


def add_import_routes(
    router: APIRouter,
    records: str,
    kind_of: KindOf,
    columns: list[tabular.Column],
    examples: list[dict[str, Any]],
    jobs: Jobs,
    *,
    prefix: str | None = None,
    tags: list[str] | None = None,
    summary: str = "each row recorded, or brought to the dates it gives",
    description: str = DEFAULT_DESCRIPTION,
) -> None:
    """Adds the import routes of ``records`` (``annual-reports``) to ``router``, under ``prefix``
    within it (default ``/<records>``; ``""`` for a router that has the prefix already), tagged
    ``tags`` (default: the router's)."""
    name, what = records.replace("-", "_"), records.replace("-", " ")
    base = f"/{records}" if prefix is None else prefix
    jobs_path = f"/{records}/import/jobs"

    async def import_records(
        request: Request,
        session: SessionDep,
        user: Writer,
        dry_run: imports.DryRun = False,
        annotated: imports.Annotate = None,
    ) -> imports.ImportResult | Response:
        kind = kind_of(request)
        limit = request.app.state.settings.max_body_bytes
        raw, fmt, filename = await uploaded_file(request, limit, tabular.format_of, f"send the {what} as xlsx or CSV")
        try:
            table = tabular.read_table(raw, fmt, columns)
            return await imports.imported(
                request,
                session,
                user,
                len(table.rows),
                lambda own, progress: import_table(own, kind, table, user, dry_run=dry_run, progress=progress),
                jobs,
                jobs_path,
            )
        except tabular.TableRefused as refused:
            wanted = imports.wants_annotated(request, annotated)
            return imports.refusal(refused, raw, fmt, columns, wanted, filename)

    async def get_import_template(user: Reader, format: imports.TemplateFormat = "xlsx") -> Response:
        return imports.template_response(columns, examples, format, f"{records}-import")

    async def get_import_job(job_id: Key, user: Writer) -> imports.ImportJobPublic:
        return imports.job_of(jobs, job_id, user)

    router.add_api_route(
        f"{base}/import",
        import_records,
        tags=tags,
        methods=["POST"],
        name=f"import_{name}",
        response_model=imports.ImportResult,
        summary=f"Import {what} from a spreadsheet: {summary}",
        description="Every row is checked before anything is stored: a file with a problem is refused whole (422, "
        f"`errors` name each row and column). {description} A file of more rows than the service's "
        "`IMPORT_JOB_ROWS` runs as a job (202).",
        openapi_extra=request_body(
            f"The {what} as a spreadsheet (the template: `GET /{records}/import/template`), xlsx or CSV (UTF-8 or "
            "GB 18030) by Content-Type, or a multipart upload with the file in the field `file`; at most the "
            "service's body limit.",
            {
                tabular.XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}},
                tabular.CSV_TYPE: {"schema": {"type": "string"}},
            },
        ),
        responses=imports.import_responses(what),
    )
    router.add_api_route(
        f"{base}/import/template",
        get_import_template,
        tags=tags,
        methods=["GET"],
        name=f"get_{name}_import_template",
        summary=f"The spreadsheet to fill in for an import of {what}: headers, what each column takes, examples",
        responses={200: {"content": {tabular.XLSX_TYPE: {}, tabular.CSV_TYPE: {}}}},
        response_class=Response,
    )
    router.add_api_route(
        f"{base}/import/jobs/{{job_id}}",
        get_import_job,
        tags=tags,
        methods=["GET"],
        name=f"get_{name}_import_job",
        response_model=imports.ImportJobPublic,
        summary=f"A large import of {what}: its job",
    )
