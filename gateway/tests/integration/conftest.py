import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from zhichan.settings import process_settings
from zhichan.testing import database_url, platform_for_tests


@pytest.fixture
async def app_client(tmp_path):
    """The gateway app on a fresh read model, without a broker (events are fed by the tests)."""
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        settings = process_settings(
            "gateway", base=GatewaySettings, database_url=url, relay_enabled=False, migrate_on_start=False
        )
        app = create_app(settings=settings, platform=platform_for_tests(tmp_path))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                yield app, client


@pytest.fixture
async def gateway(tmp_path):
    """The gateway app without a broker (events are applied by the tests, as the consumer would)
    and with quick retries; its dispatcher is started by the tests that want deliveries sent."""
    async with database_url(tmp_path, "gateway", migrated=True) as url:
        settings = process_settings(
            "gateway",
            base=GatewaySettings,
            database_url=url,
            relay_enabled=False,
            migrate_on_start=False,
            webhook_retry_seconds=[0.1, 0.1],
            webhook_poll_seconds=0.05,
            webhook_timeout_seconds=2.0,
        )
        app = create_app(settings=settings, platform=platform_for_tests(tmp_path))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
                yield app, client
