"""Fixtures shared by every test suite in the repository."""

import pytest

from zhichan.events.broker import EmbeddedBroker
from zhichan.regions import registry


@pytest.fixture(autouse=True)
def _fresh_custom_regions():
    """Custom regions registered by one test must not leak into the next."""
    yield
    registry.cache_clear()


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    """A Kafka-protocol broker (embedded Tansu) on a free port, one per test module."""
    embedded = EmbeddedBroker(log_path=tmp_path_factory.mktemp("broker") / "tansu.log")
    embedded.start()
    yield embedded
    embedded.stop()
