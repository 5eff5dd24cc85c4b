"""The ``zhichan`` command: run, serve, migrate, token, republish, gateway rebuild, demo, imports
(plans, statistics, records)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import importlib.util
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from zhichan import SERVICES
from zhichan.settings import (
    DEV_JWT_ISSUER,
    DEV_JWT_SECRET,
    MIN_JWT_SECRET_BYTES,
    platform_settings,
    process_settings,
)
from zhichan.stack import PROCESSES, Stack

if TYPE_CHECKING:
    from zhichan.auth import TokenSigner

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def package_dir(process: str) -> Path:
    """Where a process's package (and its migrations) lives, found without importing it."""
    module = "gateway" if process == "gateway" else f"services.{process}"
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(f"no package {module}")
    return Path(spec.origin).parent


def app_factory(process: str) -> str:
    return "gateway.app:create_app" if process == "gateway" else f"services.{process}.app:create_app"


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn
    from uvicorn.importer import import_from_string

    from zhichan.observability import configure_logging

    platform = platform_settings()
    configure_logging(platform.log_level)
    settings = process_settings(args.process)
    app = import_from_string(app_factory(args.process))()
    # What is alive now (modules, the app, its schemas and tables: ~160,000 objects) lives as long
    # as the process. Frozen, the collector no longer walks it in every full collection, which
    # took 70-110 ms and held up every request in flight (bench/writes.py: the p99).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.http_port,
        log_config=None,
        access_log=False,
        # Who the client is, as a proxy says in X-Forwarded-*: believed from the configured peers only.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


def cmd_migrate(args: argparse.Namespace) -> None:
    from zhichan import migrate

    platform = platform_settings()
    unknown = set(args.processes) - set(PROCESSES)
    if unknown:
        raise SystemExit(f"unknown process(es): {', '.join(sorted(unknown))}")
    for process in args.processes or PROCESSES:
        url = process_settings(process).resolved_database_url(platform)
        migrate.upgrade(package_dir(process), url)
        print(f"{process}: migrated to head")


def cmd_token(args: argparse.Namespace) -> None:
    from zhichan.auth import ROLES

    if args.role not in ROLES:
        raise SystemExit(f"role must be one of {', '.join(ROLES)}")
    secret = token_secret()
    if len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        raise SystemExit(f"ZHICHAN_JWT_SECRET is shorter than {MIN_JWT_SECRET_BYTES} bytes: no process accepts it")
    regions = [r for chunk in args.region for r in chunk.split(",") if r]
    # The issuer and audience the processes expect (ZHICHAN_JWT_ISSUER, ZHICHAN_JWT_AUDIENCE).
    print(
        local_signer(secret).issue(
            sub=args.sub or f"{args.role}-{'-'.join(regions) or 'all'}",
            roles=[args.role],
            regions=regions,
            department=args.department,
            hours=args.hours,
        )
    )


def cmd_republish(args: argparse.Namespace) -> None:
    from zhichan.db import make_engine, make_session_factory
    from zhichan.events.relay import mark_all_unsent

    async def run() -> int:
        url = process_settings(args.service).resolved_database_url(platform_settings())
        engine = make_engine(url)
        try:
            return await mark_all_unsent(make_session_factory(engine))
        finally:
            await engine.dispose()

    count = asyncio.run(run())
    print(f"{args.service}: {count} events queued again; the service's relay publishes them in order")


def token_secret() -> str:
    # Signs with ZHICHAN_JWT_SECRET when one is set, else with the development secret.
    return os.environ.get("ZHICHAN_JWT_SECRET") or DEV_JWT_SECRET


def local_signer(secret: str | None = None) -> TokenSigner:
    """Signs as the processes of this environment expect: ZHICHAN_JWT_SECRET (else the
    development secret), ZHICHAN_JWT_ISSUER and ZHICHAN_JWT_AUDIENCE."""
    from zhichan.auth import TokenSigner

    return TokenSigner(
        secret or token_secret(),
        issuer=os.environ.get("ZHICHAN_JWT_ISSUER") or DEV_JWT_ISSUER,
        audience=os.environ.get("ZHICHAN_JWT_AUDIENCE") or None,
    )


def cmd_demo(args: argparse.Namespace) -> None:
    from zhichan.demo import load_demo

    writes = asyncio.run(load_demo(args.url, local_signer()))
    print(f"demo loaded through {args.url}: {writes} writes (idempotent: a second run changes nothing)")


def cmd_import_plan(args: argparse.Namespace) -> None:
    import httpx

    path = Path(args.file)
    content_type = {
        ".yaml": "application/yaml",
        ".yml": "application/yaml",
        ".json": "application/json",
        ".xlsx": XLSX_TYPE,
    }.get(path.suffix)
    if content_type is None:
        raise SystemExit("a plan file is .yaml, .yml, .json or .xlsx")
    token = local_signer().issue(sub="import-plan", roles=["admin"], regions=[], hours=1)
    resp = httpx.post(
        f"{args.url}/api/plans/import",
        content=path.read_bytes(),
        timeout=60,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    if resp.status_code >= 400:
        raise SystemExit(f"refused ({resp.status_code}):\n{resp.text}")
    plan = resp.json()
    print(
        f"{'imported' if resp.status_code == 201 else 'updated'} {plan['key']}: {len(plan['indicators'])} "
        f"indicators, {len(plan['tasks'])} tasks ({plan['status']})"
    )


def cmd_import_statistics(args: argparse.Namespace) -> None:
    import httpx

    path = Path(args.file)
    content_type = {".csv": "text/csv", ".xlsx": XLSX_TYPE}.get(path.suffix.lower())
    if content_type is None:
        raise SystemExit("a statistics file is .csv or .xlsx")
    token = local_signer().issue(sub="import-statistics", roles=["admin"], regions=[], hours=1)
    resp = httpx.post(
        f"{args.url}/api/statistics/import",
        params={"dry_run": "true"} if args.dry_run else None,
        content=path.read_bytes(),
        timeout=60,
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
    )
    if resp.status_code == 422 and resp.json().get("errors"):
        problems = [_where(error["loc"]) + error["msg"] for error in resp.json()["errors"]]
        raise SystemExit(f"refused, nothing stored ({len(problems)} problem(s)):\n" + "\n".join(problems))
    if resp.status_code >= 400:
        raise SystemExit(f"refused ({resp.status_code}):\n{resp.text}")
    counts = resp.json()
    done = "checked (dry run, nothing stored)" if counts["dry_run"] else "imported"
    print(
        f"{done} {path.name}: {counts['created']} created, {counts['revised']} revised, {counts['unchanged']} unchanged"
    )


def _where(loc: list) -> str:
    """Where a problem of a statistics file is: ``row 3, 期间: `` or ``file: ``."""
    if loc[0] == "file":
        return "file: "
    return f"row {loc[0]}, {loc[1]}: " if len(loc) > 1 else f"row {loc[0]}: "


# What `zhichan import-records` imports: the kind of record → its import route under the gateway.
RECORD_IMPORTS = {
    "cases": "/api/cases/import",
    "agencies": "/api/agencies/import",
    "practitioners": "/api/practitioners/import",
    "annual-reports": "/api/annual-reports/import",
    "complaints": "/api/complaints/import",
    "campaigns": "/api/campaigns/import",
    "pledges": "/api/pledges/import",
    "transactions": "/api/transactions/import",
    "insurance-policies": "/api/insurance-policies/import",
    "matchmaking-events": "/api/matchmaking-events/import",
}
JOB_POLL_SECONDS = 1.0


def cmd_import_records(args: argparse.Namespace) -> None:
    import httpx

    from zhichan.tabular import MEDIA_TYPES, format_of

    path = Path(args.file)
    fmt = format_of(None, path.name)
    if fmt is None:
        raise SystemExit("a file of records is .xlsx or .csv")
    token = local_signer().issue(sub="import-records", roles=["admin"], regions=[], hours=1)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=args.url, headers=headers, timeout=120) as client:
        resp = client.post(
            RECORD_IMPORTS[args.kind],
            params={"dry_run": "true"} if args.dry_run else None,
            content=path.read_bytes(),
            headers={"Content-Type": MEDIA_TYPES[fmt]},
        )
        status, counts = resp.status_code, resp.json()
        if status == 202:
            status, counts = _follow_job(client, resp.headers["location"])
    if status >= 400:
        raise SystemExit(f"refused ({status}):\n{_refusal(counts)}")
    checked = "checked (dry run, nothing stored)" if counts["dry_run"] else "imported"
    print(
        f"{args.kind} {checked}: {counts['rows']} rows, {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged"
    )


def _follow_job(client, location: str) -> tuple[int, dict]:
    """Polls an import's job, drawing its progress, until it ends; then its counts, or the
    refusal of a failed one as the answer of a small file would have been (422)."""
    location = location if location.startswith("/api/") else f"/api{location}"
    while True:
        resp = client.get(location)
        resp.raise_for_status()
        job = resp.json()
        done, total = job["done"], max(job["rows"], 1)
        filled = 40 * done // total
        phase = job.get("phase") or job["status"]
        print(f"\r{phase:>8} [{'#' * filled}{'.' * (40 - filled)}] {done}/{job['rows']} rows", end="", flush=True)
        if job["status"] in ("succeeded", "failed"):
            print()
            if job["status"] == "failed":
                return 422, {"detail": job.get("detail"), "errors": job["errors"]}
            return 200, job["result"]
        time.sleep(JOB_POLL_SECONDS)


def _refusal(problem: dict) -> str:
    lines = [problem.get("detail") or problem.get("title", "")]
    for error in problem.get("errors") or []:
        where = f"row {error['row']}, " if error.get("row") else ""
        column = error.get("column") or ".".join(str(p) for p in error["loc"])
        lines.append(f"  {where}{column}: {error['msg']}")
    return "\n".join(lines)


def cmd_gateway_rebuild(args: argparse.Namespace) -> None:
    # The gateway is found by import path: the kernel imports no process (import contracts).
    rebuild = importlib.import_module("gateway.rebuild")
    gateway_settings = importlib.import_module("gateway.settings").GatewaySettings
    report = asyncio.run(rebuild.rebuild(platform_settings(), process_settings("gateway", base=gateway_settings)))
    print(
        f"gateway read model rebuilt: {report.events} events read ({report.unparseable} unparseable), "
        f"{report.applied} applied, in {report.seconds:.1f}s ({report.events_per_second:,.0f} events/s)"
    )


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def cmd_run(args: argparse.Namespace) -> None:
    import httpx

    stack = Stack(var_dir=Path(args.var_dir).resolve())
    signer = local_signer(DEV_JWT_SECRET)  # the stack runs in development mode
    signal.signal(signal.SIGTERM, _interrupt)  # stopped like Ctrl-C: every child goes down with it
    try:
        print("starting the broker (Tansu) and five processes …", flush=True)
        stack.start()
        if not args.no_demo:
            from zhichan.demo import load_demo

            print("loading the demo (three seed plans and their history) …", flush=True)
            try:
                writes = asyncio.run(load_demo(stack.gateway_url, signer))
                print(f"demo loaded: {writes} writes", flush=True)
            except (httpx.HTTPError, RuntimeError) as exc:  # the platform stays up without its demo
                print(f"the demo did not load completely: {exc}", flush=True)
        admin = signer.issue(sub="dev-admin", roles=["admin"], regions=[], hours=24)
        officer = signer.issue(sub="dev-officer-321100", roles=["officer"], regions=["321100"], hours=24)
        print(
            f"""
知产 Zhichan is running.
  Gateway     {stack.gateway_url}
  Dashboard   {stack.gateway_url}/
  Sign in     {stack.gateway_url}/signin#token={officer}
              (an officer of 镇江市 321100, for 24 hours)
  Swagger UI  {stack.gateway_url}/docs
  Broker      {stack.broker.bootstrap} (Tansu, memory only)
  Logs        {stack.var_dir}/logs/
Tokens: .venv/bin/zhichan token --role officer --region 320311
An admin token for the next 24 hours:
  {admin}
Ctrl-C stops everything.""",
            flush=True,
        )
        while True:
            for name, proc in list(stack.processes.items()):
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode} (see {stack.var_dir}/logs/{name}.log)")
                    raise KeyboardInterrupt
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the shutdown short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping …", flush=True)
        stack.stop()
        print("stopped.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="zhichan", description="知产 Zhichan command line")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the broker, the four services and the gateway")
    run.add_argument("--var-dir", default="var", help="where databases and logs go")
    run.add_argument("--no-demo", action="store_true", help="start empty: no seed plans, no history")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve", help="serve one process (settings from the environment)")
    serve.add_argument("process", choices=PROCESSES)
    serve.set_defaults(func=cmd_serve)

    mig = sub.add_parser("migrate", help="run every process's migrations to head (before starting them)")
    mig.add_argument("processes", nargs="*", metavar="process", help=f"any of {', '.join(PROCESSES)}; default all")
    mig.set_defaults(func=cmd_migrate)

    tok = sub.add_parser("token", help="print a development JWT")
    tok.add_argument("--role", default="officer")
    tok.add_argument("--region", action="append", default=[], help="region code; repeat or comma-separate")
    tok.add_argument("--department", help="the department claim (responsible unit)")
    tok.add_argument("--sub", help="subject (user id)")
    tok.add_argument("--hours", type=float, default=12)
    tok.set_defaults(func=cmd_token)

    rep = sub.add_parser("republish", help="send a service's whole event history again (after a broker loss)")
    rep.add_argument("service", choices=SERVICES)
    rep.set_defaults(func=cmd_republish)

    demo = sub.add_parser("demo", help="load the seed plans and a deterministic history through the gateway")
    demo.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import-plan", help="import a plan file (YAML, JSON or xlsx) through the gateway")
    imp.add_argument("file")
    imp.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    imp.set_defaults(func=cmd_import_plan)

    stats = sub.add_parser(
        "import-statistics", help="import official statistics (CSV or xlsx, one row per figure) through the gateway"
    )
    stats.add_argument("file")
    stats.add_argument("--dry-run", action="store_true", help="check the file and count, store nothing")
    stats.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    stats.set_defaults(func=cmd_import_statistics)

    rec = sub.add_parser("import-records", help="import records (xlsx or CSV) through the gateway, e.g. cases")
    rec.add_argument("kind", choices=sorted(RECORD_IMPORTS))
    rec.add_argument("file")
    rec.add_argument("--dry-run", action="store_true", help="check every row and count; store nothing")
    rec.add_argument("--url", default="http://127.0.0.1:8000", help="the gateway")
    rec.set_defaults(func=cmd_import_records)

    gw = sub.add_parser("gateway", help="gateway maintenance")
    gw_sub = gw.add_subparsers(dest="gateway_command", required=True)
    rebuild = gw_sub.add_parser("rebuild", help="drop the read model and replay every topic (gateway stopped)")
    rebuild.set_defaults(func=cmd_gateway_rebuild)

    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
