import pytest

from services.agencies.app import create_app
from zhichan.testing import auth, running_app
from zhichan.uscc import build_uscc


@pytest.fixture
async def app_client(tmp_path):
    async with running_app(create_app, "agencies", tmp_path) as pair:
        yield pair


@pytest.fixture
def client(app_client):
    return app_client[1]


@pytest.fixture
def officer():
    return auth("officer", ["320311"])


def agency_body(serial: int = 1, region: str = "320311", **overrides) -> dict:
    body = {
        "name": f"徐州知信专利代理事务所{serial}",
        "uscc": build_uscc(region, serial),
        "region": region,
        "address": "徐州市泉山区解放南路1号",
        "service_types": ["patent_agency", "consulting"],
        "licence_numbers": [f"32{serial:03d}"],
        "offline": True,
        "in_cluster": False,
        "brand_level": "none",
    }
    body.update(overrides)
    return body
