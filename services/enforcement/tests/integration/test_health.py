from services.enforcement.app import create_app
from zhichan.testing import running_app


async def test_the_empty_service_is_alive_and_migrated(tmp_path):
    async with running_app(create_app, "enforcement", tmp_path) as (_app, client):
        assert (await client.get("/healthz")).json() == {"status": "ok", "process": "enforcement"}
        ready = await client.get("/readyz")
        assert ready.json()["checks"]["database"] == "ok"
        assert (await client.get("/asyncapi.json")).json()["asyncapi"] == "2.6.0"
