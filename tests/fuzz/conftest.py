"""The fuzz suite's own stack: the broker, four services and the gateway in a directory of its
own, with fresh databases (SQLite files there, or new PostgreSQL databases dropped at the end
under ZHICHAN_TEST_POSTGRES), so nothing the fuzzer writes reaches another test."""

from __future__ import annotations

import pytest

from tests.fuzz.api import SEED
from zhichan.events.broker import free_port
from zhichan.stack import PROCESSES, Stack
from zhichan.testing import token


def pytest_report_header(config: pytest.Config) -> str:
    return f"fuzz seed: {SEED} (ZHICHAN_FUZZ_SEED={SEED} generates the same cases)"


@pytest.fixture(scope="package")
def fuzz_stack(tmp_path_factory):
    stack = Stack(var_dir=tmp_path_factory.mktemp("fuzz-stack"), ports={name: free_port() for name in PROCESSES})
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
def admin() -> dict[str, str]:
    """An admin: every operation, every region."""
    return {"Authorization": f"Bearer {token('admin', sub='fuzz-admin')}"}


@pytest.fixture(scope="package")
def officer() -> dict[str, str]:
    """An officer of 徐州市: what is scoped to regions is cut to it."""
    return {"Authorization": f"Bearer {token('officer', ['320300'], sub='fuzz-officer')}"}
