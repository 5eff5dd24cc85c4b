"""The whole platform on one machine: the embedded broker, four services and the gateway, each
its own process. Used by ``zhichan run`` and by the end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from zhichan import SERVICES
from zhichan.events.broker import EmbeddedBroker, ensure_topics
from zhichan.settings import DEFAULT_PORTS, PlatformSettings

PROCESSES = (*SERVICES, "gateway")


@dataclass
class Stack:
    var_dir: Path
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    broker_port: int | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    broker: EmbeddedBroker | None = None

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def env_for(self, name: str, port: int | None = None) -> dict[str, str]:
        assert self.broker is not None
        env = {
            **os.environ,
            "ZHICHAN_DEV_MODE": "1",
            "ZHICHAN_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "ZHICHAN_VAR_DIR": str(self.var_dir),
            "ZHICHAN_PROCESS_NAME": name,
            f"{name.upper()}_PORT": str(port or self.ports[name]),
            "ZHICHAN_TARGETS_URL": self.url("targets"),
        }
        if name == "gateway":
            for service in SERVICES:
                env[f"GATEWAY_{service.upper()}_URL"] = self.url(service)
        env.update(self.extra_env)
        return env

    def start_broker(self) -> None:
        (self.var_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.broker = EmbeddedBroker(self.broker_port, log_path=self.var_dir / "logs" / "tansu.log")
        self.broker.start()
        self.broker_port = self.broker.port
        platform = PlatformSettings(dev_mode=True, kafka_bootstrap=self.broker.bootstrap)
        # In a thread of its own: the caller may be inside an event loop (the e2e tests are).
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, ensure_topics(platform)).result()

    def stop_broker(self) -> None:
        if self.broker:
            self.broker.stop()

    def start_process(self, name: str, *, instance: str | None = None, port: int | None = None) -> None:
        """Starts a process; ``instance`` and ``port`` start one more replica of it beside the first
        (same settings, so the same database and consumer group)."""
        instance = instance or name
        if port is not None:
            self.ports[instance] = port
        log = open(self.var_dir / "logs" / f"{instance}.log", "ab")  # noqa: SIM115 - lives as long as the child
        self.processes[instance] = subprocess.Popen(
            [sys.executable, "-m", "zhichan.cli", "serve", name],
            env=self.env_for(name, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the runner, which stops children in order
        )

    def start(self, timeout: float = 90.0) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._use_test_postgres()
        self.start_broker()
        for name in PROCESSES:
            self.start_process(name)
        self.wait_ready(PROCESSES, timeout)

    def wait_ready(self, names, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending and time.monotonic() < deadline:
            for name in list(pending):
                proc = self.processes[name]
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.var_dir}/logs/{name}.log")
                try:
                    if httpx.get(f"{self.url(name)}/readyz", timeout=1.0).status_code == 200:
                        pending.remove(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)
        if pending:
            raise TimeoutError(f"not ready after {timeout}s: {', '.join(pending)} (logs in {self.var_dir}/logs)")

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.processes.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.stop_process(name)
        self.stop_broker()
        self._drop_test_postgres()

    def database_url(self, name: str) -> str:
        return (
            self.extra_env.get(f"{name.upper()}_DATABASE_URL")
            or f"sqlite+aiosqlite:///{(self.var_dir / f'{name}.db').resolve()}"
        )

    def fetch(self, name: str, sql: str, **params) -> list[tuple]:
        """Rows of a query on a process's own database (for tests that look behind the API)."""
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        async def run() -> list[tuple]:
            engine = create_async_engine(self.database_url(name))
            try:
                async with engine.connect() as conn:
                    return [tuple(row) for row in await conn.execute(text(sql), params)]
            finally:
                await engine.dispose()

        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, run()).result()

    def _use_test_postgres(self) -> None:
        """With ZHICHAN_TEST_POSTGRES (the suite's PostgreSQL run), every process gets a fresh
        database of its own on that server instead of a SQLite file."""
        server = os.environ.get("ZHICHAN_TEST_POSTGRES")
        if not server:
            return
        suffix = secrets.token_hex(4)
        self._test_databases = {name: f"zs_{name}_{suffix}" for name in PROCESSES}
        _run_on_postgres(server, [f'CREATE DATABASE "{db}"' for db in self._test_databases.values()])
        for name, db in self._test_databases.items():
            self.extra_env[f"{name.upper()}_DATABASE_URL"] = f"{server.rstrip('/')}/{db}"

    def _drop_test_postgres(self) -> None:
        databases = getattr(self, "_test_databases", None)
        if databases:
            _run_on_postgres(
                os.environ["ZHICHAN_TEST_POSTGRES"],
                [f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)' for db in databases.values()],
            )


def _run_on_postgres(server: str, statements: list[str]) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(server.replace("postgresql+asyncpg://", "postgresql://").rstrip("/") + "/postgres")
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
