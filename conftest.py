"""Fixtures shared by every test suite in the repository."""

import pytest

from zhichan.regions import registry


@pytest.fixture(autouse=True)
def _fresh_custom_regions():
    """Custom regions registered by one test must not leak into the next."""
    yield
    registry.cache_clear()
