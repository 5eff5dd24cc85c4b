"""docker-compose.yml and the code cannot disagree: on the commands (real ``zhichan``
subcommands), the environment variables (names the settings classes read), the ports, the
databases and the topics. The e2e test at the end starts every process from the file."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shlex
import signal
import subprocess
import sys
from argparse import Namespace
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.deploy.compose_file import (
    ROOT,
    MissingVariable,
    all_settings_from,
    environment,
    load_compose,
    platform_from,
    process_from,
    raw_compose,
    required_variables,
    served_process,
    zhichan_services,
)
from zhichan import cli
from zhichan.events.broker import ALL_TOPICS, EmbeddedBroker, free_port
from zhichan.settings import DEV_JWT_SECRET
from zhichan.settings_doc import PLATFORM_PREFIX, migrate_variables, process_prefix, process_variables, rule_classes
from zhichan.stack import PROCESSES
from zhichan.testing import database_url, wait_for

# What an operator puts into .env (deploy/make-env.sh): every variable the file requires.
OPERATOR_ENV = {name: secrets.token_hex(16) for name in required_variables()}


@pytest.fixture(scope="module")
def compose() -> dict:
    return load_compose(OPERATOR_ENV)


@pytest.fixture(scope="module")
def ours(compose) -> dict[str, dict]:
    return zhichan_services(compose)


@pytest.fixture(scope="module")
def served(ours) -> dict[str, dict]:
    """Compose service name → service, for the services running ``zhichan serve``."""
    return {name: service for name, service in ours.items() if served_process(service)}


def parse_zhichan(command: list[str], monkeypatch) -> tuple[str, Namespace]:
    """Runs the real ``zhichan`` argument parser on a command; returns the handler it picked."""
    assert command[0] == "zhichan", command
    picked: list[tuple[str, Namespace]] = []
    for name in [n for n in vars(cli) if n.startswith("cmd_")]:
        monkeypatch.setattr(cli, name, lambda args, name=name: picked.append((name, args)))
    try:
        cli.main(command[1:])
    except SystemExit as exc:
        pytest.fail(f"{command} is not a zhichan command (exit {exc.code})")
    assert len(picked) == 1
    return picked[0]


def test_every_command_is_a_zhichan_subcommand(ours, monkeypatch):
    assert ours, "no service runs the image of deploy/Dockerfile"
    for name, service in ours.items():
        handler, args = parse_zhichan(service["command"], monkeypatch)
        if handler == "cmd_serve":
            # the compose service is named after the process it serves
            assert args.process == name
        else:
            assert (name, handler, args.processes) == ("migrate", "cmd_migrate", [])


def test_every_process_is_served_by_one_service(served):
    assert sorted(served_process(s) for s in served.values()) == sorted(PROCESSES)


def test_environment_names_are_settings_the_code_reads(ours):
    for name, service in ours.items():
        process = served_process(service)
        known = process_variables(process) if process else migrate_variables()
        unknown = set(environment(service)) - known
        assert not unknown, f"{name} sets variables no settings class reads: {sorted(unknown)}"


def test_every_settings_class_of_a_process_accepts_the_environment_the_file_gives_it(served):
    for name, service in served.items():
        built = all_settings_from(name, environment(service))
        assert [type(settings) for settings in built[2:]] == rule_classes(name)


def test_the_agencies_rules_are_settings_the_file_may_give_the_agencies_service(served):
    """An office sets its supervision rules in the agencies service's environment: the names are
    ones the service reads (and no other process), and the values reach AgenciesRules."""
    rules = {
        "AGENCIES_COMPLAINT_HANDLING_WORKING_DAYS": "20",
        "AGENCIES_DRAW_GRADE_WEIGHTS": '{"A":1,"B":2,"C":3,"D":4}',
    }
    env = {**environment(served["agencies"]), **rules}
    assert set(env) <= process_variables("agencies")
    built = all_settings_from("agencies", env)[-1]
    assert built.complaint_handling_working_days == 20
    assert built.draw_grade_weights == {"A": 1, "B": 2, "C": 3, "D": 4}
    for process in set(PROCESSES) - {"agencies"}:
        assert not set(rules) & process_variables(process), process


def test_services_use_the_databases_migrated_before_they_start(ours, served):
    migrate_env = environment(ours["migrate"])
    for name, service in served.items():
        settings = process_from(name, environment(service))
        assert settings.database_url, f"{name} has no database URL: it would use SQLite in the container"
        assert settings.database_url == process_from(name, migrate_env).database_url
        assert settings.database_url.startswith("postgresql+asyncpg://")
        assert settings.migrate_on_start is False
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_each_process_has_its_own_database_and_role(compose, served):
    postgres = environment(compose["services"]["postgres"])
    assert postgres["ZHICHAN_DATABASES"].split() == list(PROCESSES)
    for name, service in served.items():
        url = urlsplit(process_from(name, environment(service)).database_url)
        assert (url.hostname, url.port) == ("postgres", 5432)
        assert url.username == name and url.path == f"/{name}"
        assert url.password == postgres[f"PG_{name.upper()}_PASSWORD"]
    assert (
        "./deploy/postgres/init.sh:/docker-entrypoint-initdb.d/10-zhichan.sh:ro"
        in compose["services"]["postgres"]["volumes"]
    )


def test_ports_agree_with_the_settings(served):
    for name, service in served.items():
        settings = process_from(name, environment(service))
        assert settings.host == "0.0.0.0", f"{name} must listen beyond its container"
        assert service["expose"] == [str(settings.http_port)]
        healthcheck = " ".join(service["healthcheck"]["test"])
        assert f"http://127.0.0.1:{settings.http_port}/readyz" in healthcheck
        assert service["healthcheck"]["test"][:2] == ["CMD", "python"], "python-slim has no curl"


def test_only_the_gateway_is_published(compose, served):
    published = {name for name, service in compose["services"].items() if service.get("ports")}
    assert published == {"gateway"}
    gateway = process_from("gateway", environment(served["gateway"]))
    assert [p.rsplit(":", 1)[1] for p in compose["services"]["gateway"]["ports"]] == [str(gateway.http_port)]


def test_gateway_reaches_each_service_by_its_compose_name_and_port(served):
    gateway = process_from("gateway", environment(served["gateway"]))
    for process in PROCESSES:
        if process == "gateway":
            continue
        url = urlsplit(gateway.service_url(process))
        assert url.hostname == process and process in served
        assert url.port == process_from(process, environment(served[process])).http_port


def test_platform_settings_are_for_apache_kafka_and_real_tokens(compose, served):
    for service in served.values():
        platform = platform_from(environment(service))
        host, port = platform.kafka_bootstrap.split(":")
        assert host in compose["services"] and port == "9092"
        assert platform.kafka_idempotent_producer is True, "Apache Kafka supports the idempotent producer"
        assert platform.dev_mode is False
        assert platform.jwt_secret == OPERATOR_ENV["ZHICHAN_JWT_SECRET"] != DEV_JWT_SECRET


def test_compose_refuses_to_start_without_a_jwt_secret():
    assert "ZHICHAN_JWT_SECRET" in required_variables()
    with pytest.raises(MissingVariable, match="ZHICHAN_JWT_SECRET"):
        load_compose({k: v for k, v in OPERATOR_ENV.items() if k != "ZHICHAN_JWT_SECRET"})


def test_topics_are_created_before_the_services_start(compose, served):
    init = compose["services"]["kafka-init"]
    env = environment(init)
    assert env["ZHICHAN_TOPICS"].split() == list(ALL_TOPICS)
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    for service in served.values():
        assert int(env["ZHICHAN_TOPIC_PARTITIONS"]) == platform_from(environment(service)).topic_partitions
        assert service["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    assert compose["services"]["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft
    assert compose["services"]["kafka"]["image"].startswith("apache/kafka:")


def test_create_topics_script_creates_every_topic_and_its_dead_letter_topic(tmp_path):
    """The script run by kafka-init, against a stand-in for Kafka's kafka-topics.sh that records
    its arguments (no Kafka here)."""
    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "kafka-topics.sh"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(0o755)
    env = environment(raw_compose()["services"]["kafka-init"])
    subprocess.run(
        ["bash", str(ROOT / "deploy/kafka/create-topics.sh")],
        env={**env, "KAFKA_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    created = {}
    for line in calls.read_text().splitlines():
        args = shlex.split(line)
        if "--create" in args:
            created[args[args.index("--topic") + 1]] = args
    assert set(created) == {*ALL_TOPICS, *(f"{t}.dlq" for t in ALL_TOPICS)}
    for args in created.values():
        assert args[args.index("--partitions") + 1] == env["ZHICHAN_TOPIC_PARTITIONS"]
        assert args[args.index("--bootstrap-server") + 1] == "kafka:9092"
        assert "--if-not-exists" in args
    assert created["zhichan.targets"][created["zhichan.targets"].index("--config") + 1] == "retention.ms=-1"


class LocalAddresses:
    """Where the compose file's broker, databases and ports are on this machine."""

    def __init__(self, bootstrap: str, databases: dict[str, str], ports: dict[str, int]) -> None:
        self.replacements = {f"{PLATFORM_PREFIX}KAFKA_BOOTSTRAP": bootstrap}
        for process in PROCESSES:
            prefix = process_prefix(process)
            self.replacements[f"{prefix}DATABASE_URL"] = databases[process]
            self.replacements[f"{prefix}PORT"] = str(ports[process])
            self.replacements[f"GATEWAY_{prefix}URL"] = f"http://127.0.0.1:{ports[process]}"

    def environment(self, service: dict, tmp_path: Path) -> dict[str, str]:
        env = environment(service)
        # Only what a container would have besides the compose file's environment.
        base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
        return base | {key: self.replacements.get(key, value) for key, value in env.items()}


def zhichan_command(command: list[str]) -> list[str]:
    # `zhichan` is the console script of zhichan.cli:main; this runs it with the tests' Python.
    assert command[0] == "zhichan"
    return [sys.executable, "-m", "zhichan.cli", *command[1:]]


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), 15)
    except TimeoutError:
        process.kill()
        await process.wait()


@pytest.mark.e2e
async def test_every_process_starts_from_the_compose_file_and_becomes_ready(tmp_path, ours, served):
    """Each process runs with its command and environment from docker-compose.yml, after
    `zhichan migrate` run as the migrate service runs it. Only addresses are replaced: the
    broker (a local Tansu), the databases (SQLite files, or fresh PostgreSQL databases when
    ZHICHAN_TEST_POSTGRES is set) and the ports (free ones, through the same <PROCESS>_PORT
    variables, which the gateway's service URLs follow). ZHICHAN_KAFKA_IDEMPOTENT_PRODUCER stays
    true: Tansu refuses idempotent producers, so relays cannot publish here; readiness (database
    and broker reachable, the gateway's partitions assigned) does not depend on that."""
    logs = tmp_path / "logs"
    logs.mkdir()
    broker = EmbeddedBroker(log_path=logs / "tansu.log")
    processes: dict[str, asyncio.subprocess.Process] = {}
    async with contextlib.AsyncExitStack() as cleanup:
        broker.start()
        cleanup.callback(broker.stop)
        databases = {p: await cleanup.enter_async_context(database_url(tmp_path, p)) for p in PROCESSES}
        local = LocalAddresses(broker.bootstrap, databases, {p: free_port() for p in PROCESSES})

        migrate = await asyncio.create_subprocess_exec(
            *zhichan_command(ours["migrate"]["command"]),
            env=local.environment(ours["migrate"], tmp_path),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output = (await asyncio.wait_for(migrate.communicate(), 60))[0].decode()
        assert migrate.returncode == 0, output
        assert all(f"{p}: migrated to head" in output for p in PROCESSES), output

        for name, service in served.items():
            with open(logs / f"{name}.log", "wb") as log:  # noqa: ASYNC230 - opened once, before the child runs
                processes[name] = await asyncio.create_subprocess_exec(
                    *zhichan_command(service["command"]),
                    env=local.environment(service, tmp_path),
                    cwd=tmp_path,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        for process in processes.values():
            cleanup.push_async_callback(stop, process)

        pending = set(processes)

        async def all_ready() -> bool:
            async with httpx.AsyncClient(timeout=2.0) as client:
                for name in sorted(pending):
                    exited = processes[name].returncode
                    assert exited is None, f"{name} exited with {exited}: {(logs / f'{name}.log').read_text()[-3000:]}"
                    port = local.replacements[f"{process_prefix(name)}PORT"]
                    if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        pending.discard(name)
            return not pending

        await wait_for(all_ready, timeout=60, interval=0.2, what="every process's /readyz to answer 200")
