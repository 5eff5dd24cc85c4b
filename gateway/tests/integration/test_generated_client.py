"""A REST client generated from the gateway's /openapi.json is usable as it comes out:
openapi-python-client (pinned in the dev extras) makes the package ``zhichan_client`` from the
served document with no warning but for the plan file's YAML and xlsx bodies, and its functions,
named by the operation ids, file a case, move it and list it through the gateway, and parse a
refusal as a Problem."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from gateway.app import create_app as create_gateway
from gateway.settings import GatewaySettings
from services.enforcement.app import create_app as create_enforcement
from zhichan import SERVICES
from zhichan.settings import process_settings
from zhichan.testing import database_url, platform_for_tests, running_app, token
from zhichan.uscc import build_uscc

JINGKOU = "321102"
# The generator's only complaints: bodies a Python client cannot send as typed (the plan file as
# YAML or an Excel workbook, a statistics file or an import of records as CSV; JSON and multipart
# are generated).
EXPECTED_WARNINGS = {
    "Unsupported content type application/yaml",
    "Unsupported content type text/csv",
    "Unsupported content type application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@pytest.fixture
async def gateway(tmp_path):
    """The gateway in process, its proxy reaching the services in process: enforcement running on
    its own database, the others answering what needs no lifespan (their OpenAPI documents)."""
    async with running_app(create_enforcement, "enforcement", tmp_path) as (enforcement, _client):
        async with database_url(tmp_path, "gateway", migrated=True) as url:
            settings = process_settings(
                "gateway", base=GatewaySettings, database_url=url, relay_enabled=False, migrate_on_start=False
            )
            app = create_gateway(settings=settings, platform=platform_for_tests(tmp_path))
            async with app.router.lifespan_context(app):
                apps = {s: importlib.import_module(f"services.{s}.app").create_app() for s in SERVICES}
                apps["enforcement"] = enforcement
                mounts = {settings.service_url(s): httpx.ASGITransport(app=apps[s]) for s in SERVICES}
                await app.state.http.aclose()
                app.state.http = httpx.AsyncClient(mounts=mounts)
                yield app


@pytest.fixture
def generated(tmp_path):
    """Imports the package generated in ``tmp_path`` (forgotten afterwards)."""
    sys.path.insert(0, str(tmp_path))
    yield lambda name: importlib.import_module(name)
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == "zhichan_client" or m.startswith("zhichan_client.")]:
        del sys.modules[name]


def generate(document: dict, where: Path) -> str:
    (where / "openapi.json").write_text(json.dumps(document), encoding="utf-8")
    (where / "config.json").write_text(json.dumps({"post_hooks": []}), encoding="utf-8")  # no ruff run: faster
    done = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", "openapi.json", "--meta", "none"]
        + ["--config", "config.json"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def case_body(n: int = 1) -> dict:
    return {
        "region": JINGKOU,
        "case_number": f"镇京市监知立〔2025〕{n}号",
        "type": "trademark_infringement",
        "procedure": "administrative_penalty",
        "origin": "complaint",
        "respondent": {"name": f"镇江市某某贸易有限公司{n}", "uscc": build_uscc(JINGKOU, n)},
        "complainant": {"name": "某某（中国）有限公司"},
        "filed_date": "2025-03-03",
        "handling_unit": "京口分局",
    }


async def test_a_generated_client_files_moves_and_lists_a_case_through_the_gateway(gateway, generated, tmp_path):
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        served = await http.get("/openapi.json")
    assert served.status_code == 200
    output = generate(served.json(), tmp_path)
    warnings = {line.strip() for line in output.splitlines() if line.startswith("Unsupported content type")}
    assert warnings == EXPECTED_WARNINGS, output
    assert "Unable to" not in output and "will be omitted" not in output, output
    assert (tmp_path / "zhichan_client" / "__init__.py").is_file()  # named after info.title

    client_module = generated("zhichan_client")
    file_case = generated("zhichan_client.api.cases.file_case")
    investigate_case = generated("zhichan_client.api.cases.investigate_case")
    close_case = generated("zhichan_client.api.cases.close_case")
    list_cases = generated("zhichan_client.api.cases.list_cases")
    list_disclosed_cases = generated("zhichan_client.api.disclosure_public.list_disclosed_cases")
    models = generated("zhichan_client.models")

    officer = client_module.AuthenticatedClient(
        base_url="http://gateway", token=token("officer", ["321100"]), httpx_args={"transport": transport}
    )
    async with officer:
        filed = await file_case.asyncio_detailed(
            client=officer, body=models.CaseCreate.from_dict(case_body()), idempotency_key="generated-client-1"
        )
        assert filed.status_code == 201, filed.content
        case = filed.parsed
        assert isinstance(case, models.CasePublic) and case.status == "filed"

        moved = await investigate_case.asyncio(case.id, client=officer, body=models.StepIn(reason="线索核实"))
        assert isinstance(moved, models.CasePublic) and moved.status == "investigating"

        refused = await close_case.asyncio_detailed(case.id, client=officer)  # not decided yet
        assert refused.status_code == 409
        assert isinstance(refused.parsed, models.Problem) and refused.parsed.status == 409
        assert refused.parsed.additional_properties["current_status"] == "investigating"

        listed = await list_cases.asyncio(client=officer, status=models.ListCasesStatusType0.INVESTIGATING)
        assert [c.id for c in listed.items] == [case.id]

    anonymous = client_module.Client(base_url="http://gateway", httpx_args={"transport": transport})
    async with anonymous:
        refused = await list_cases.asyncio_detailed(client=anonymous)
        assert refused.status_code == 401 and isinstance(refused.parsed, models.Problem)
        disclosed = await list_disclosed_cases.asyncio(client=anonymous)
        assert isinstance(disclosed, models.DisclosureList) and disclosed.items == []
