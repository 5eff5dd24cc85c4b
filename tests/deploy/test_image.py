"""The image (deploy/Dockerfile, .dockerignore) and the scripts it and the compose file run:
the Kubernetes init container's schema wait, and PostgreSQL's one-database-per-process init."""

from __future__ import annotations

import asyncio
import fnmatch
import importlib.util
import json
import os
import subprocess
import uuid
from urllib.parse import urlsplit

import asyncpg
import pytest

from tests.deploy.compose_file import ROOT
from zhichan import migrate
from zhichan.cli import package_dir
from zhichan.settings import DEV_JWT_SECRET
from zhichan.stack import PROCESSES
from zhichan.testing import POSTGRES_ENV

DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    joined = DOCKERFILE.replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def copied_sources() -> list[str]:
    sources = []
    for op, arg in instructions():
        if op == "COPY" and "--from=" not in arg:
            sources += [word for word in arg.split() if not word.startswith("--")][:-1]
    return sources


def test_the_image_is_python_slim_and_runs_a_zhichan_process_as_a_non_root_user():
    stage = final_stage()
    assert stage[0] == ("FROM", "python:3.11-slim")
    users = [arg for op, arg in stage if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    (command,) = [json.loads(arg) for op, arg in stage if op == "CMD"]
    assert command[:2] == ["zhichan", "serve"] and command[2] in PROCESSES
    assert any(op == "RUN" and "pip install --no-deps ." in arg for op, arg in instructions())


def test_the_image_carries_no_development_secret_or_dev_mode():
    assert DEV_JWT_SECRET not in DOCKERFILE
    assert not [arg for op, arg in instructions() if op in ("ENV", "ARG") and ("JWT" in arg or "DEV_MODE" in arg)]


def test_the_build_context_keeps_secrets_out_and_what_the_image_needs_in():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {".env", "**/*.env", ".venv", ".git"} <= set(patterns)
    for source in copied_sources():
        assert (ROOT / source).exists(), source
        assert not [p for p in patterns if fnmatch.fnmatch(source, p) or source.startswith(p.rstrip("/") + "/")], source


def load_wait_for_schema():
    spec = importlib.util.spec_from_file_location("wait_for_schema", ROOT / "deploy" / "wait_for_schema.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_replicas_wait_until_the_migrate_job_brought_the_schema_to_head(tmp_path, monkeypatch, capsys):
    wait_for_schema = load_wait_for_schema()
    url = f"sqlite+aiosqlite:///{tmp_path / 'targets.db'}"
    monkeypatch.setenv("TARGETS_DATABASE_URL", url)
    assert wait_for_schema.main(["targets", "--timeout", "0"]) == 1
    assert "no revision" in capsys.readouterr().out
    migrate.upgrade(package_dir("targets"), url)
    assert wait_for_schema.main(["targets", "--timeout", "0"]) == 0
    monkeypatch.setenv("TARGETS_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert wait_for_schema.main(["targets", "--timeout", "0"]) == 1
    assert "database unreachable" in capsys.readouterr().out


@pytest.mark.skipif(not os.environ.get(POSTGRES_ENV), reason=f"needs a PostgreSQL server in {POSTGRES_ENV}")
def test_postgres_init_gives_each_process_a_database_only_it_can_use_and_migrate():
    server = urlsplit(os.environ[POSTGRES_ENV])
    names = {process: f"zt_init_{uuid.uuid4().hex[:8]}_{process}" for process in ("targets", "gateway")}
    passwords = {f"PG_{name.upper()}_PASSWORD": uuid.uuid4().hex for name in names.values()}
    libpq = {"PGHOST": server.hostname, "PGPORT": str(server.port or 5432)}
    if server.password:
        libpq["PGPASSWORD"] = server.password
    admin = f"postgresql://{server.netloc}/postgres"
    address = f"{server.hostname}:{server.port or 5432}"
    try:
        subprocess.run(
            ["bash", str(ROOT / "deploy" / "postgres" / "init.sh")],
            env={
                "PATH": os.environ["PATH"],
                "POSTGRES_USER": server.username,
                "ZHICHAN_DATABASES": " ".join(names.values()),
                **libpq,
                **passwords,
            },
            check=True,
            capture_output=True,
        )
        for process, name in names.items():
            password = passwords[f"PG_{name.upper()}_PASSWORD"]
            # the role owns its database: it can run the migrations (CREATE in schema public)
            migrate.upgrade(package_dir(process), f"postgresql+asyncpg://{name}:{password}@{address}/{name}")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            asyncio.run(asyncpg.connect(f"postgresql://{names['targets']}@{address}/{names['gateway']}"))
    finally:
        asyncio.run(drop_databases_and_roles(admin, names.values()))


async def drop_databases_and_roles(admin: str, names) -> None:
    conn = await asyncpg.connect(admin)
    try:
        for name in names:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await conn.close()
