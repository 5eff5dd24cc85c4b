"""The merged OpenAPI document says what the server does, in a form generators take: every
operation has a clean id, unique across the services; every error is a Problem under
application/problem+json; the operations that need no token say so; the statuses follow from
what each route takes."""

from __future__ import annotations

import importlib
import json
import re

import pytest

from gateway.app import create_app
from gateway.openapi import merge_openapi
from zhichan import SERVICES
from zhichan.api.problems import PROBLEM_JSON

# The first word of every operation id: a verb. A new route with a new verb adds it here.
VERBS = {
    "acknowledge", "activate", "approve", "change", "check", "claim", "close", "create", "decide", "default",
    "define", "delete", "deregister", "disclose", "dispose", "draw", "export", "extend", "file", "get",
    "grant", "import", "investigate", "join", "leave", "list", "receive", "recompute", "record", "redeliver",
    "register", "reinstate", "release", "resolve", "resubmit", "resume", "return", "rotate", "set", "stream",
    "submit", "suspend", "transfer", "update", "verify", "withdraw",
}  # fmt: skip
SNAKE = re.compile(r"^[a-z]+(_[a-z0-9]+)*$")
# What FastAPI's default ids were made of: the path and the method.
PATH_FRAGMENTS = re.compile(r"(^|_)(api|get|post|put|patch|delete)$|__|_api_")
# Read without a token (docs/api.md, "Public without a token"); with one, a caller may see more.
PUBLIC = {
    "check_alive", "check_ready", "list_regions", "get_region", "list_disclosed_cases", "disclose_credit",
    "disclose_inspections", "verify_draw",
    *(f"get_{service}_{document}" for service in SERVICES for document in ("enum_labels", "asyncapi")),
}  # fmt: skip
TOKEN_OPTIONAL = {
    "list_plans", "get_plan", "export_plan", "list_indicators", "get_indicator", "list_tasks", "get_task",
    "list_progress_plans", "get_plan_progress", "get_indicator_series", "stream_changes",
}  # fmt: skip


@pytest.fixture(scope="module")
def document() -> dict:
    """What the gateway serves at /openapi.json, from the apps in this process."""
    services = {s: importlib.import_module(f"services.{s}.app").create_app().openapi() for s in SERVICES}
    return merge_openapi(create_app().openapi(), services)


def operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
    ]


def by_id(document: dict) -> dict[str, dict]:
    return {operation["operationId"]: operation for _m, _p, operation in operations(document)}


def test_operation_ids_are_unique_snake_case_verb_phrases_without_path_fragments(document):
    ids = [operation.get("operationId") for _m, _p, operation in operations(document)]
    assert len(ids) > 100
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for method, path, operation in operations(document):
        op_id = operation["operationId"]
        assert SNAKE.match(op_id), (method, path, op_id)
        assert op_id.split("_")[0] in VERBS, (method, path, op_id)
        assert not PATH_FRAGMENTS.search(op_id), (method, path, op_id)
    assert {"list_plans", "file_case", "approve_agency", "close_plan", "close_case"} <= set(ids)


def test_every_error_answer_is_a_problem_under_problem_json_and_nothing_else(document):
    schemas = document["components"]["schemas"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(schemas["Problem"]["properties"])
    assert schemas["Problem"]["additionalProperties"] is True  # problems add fields of their own
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}, (
                    method,
                    path,
                    status,
                )
                assert response["description"], (method, path, status)
    problem_refs = re.findall(
        r'"application/json": \{"schema": \{"\$ref": "#/components/schemas/Problem"', json.dumps(document)
    )
    assert problem_refs == []


def test_the_bearer_token_is_the_default_and_public_operations_say_they_need_none(document):
    assert document["security"] == [{"HTTPBearer": []}]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    found = {"public": set(), "optional": set()}
    for method, path, operation in operations(document):
        security = operation["security"]
        if security == []:
            found["public"].add(operation["operationId"])
        elif security == [{}, {"HTTPBearer": []}]:
            found["optional"].add(operation["operationId"])
        else:
            assert security == [{"HTTPBearer": []}], (method, path, security)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    assert found == {"public": PUBLIC, "optional": TOKEN_OPTIONAL}
    for op_id in PUBLIC:
        assert "401" not in by_id(document)[op_id]["responses"], op_id


def test_the_statuses_follow_from_what_a_route_takes(document):
    ops = by_id(document)

    def statuses(op_id: str) -> set[int]:
        return {int(s) for s in ops[op_id]["responses"]}

    # a write with a body, through the gateway: the lot
    assert statuses("file_case") == {201, 400, 401, 403, 409, 413, 422, 503}
    # a path id: 404; a token needed: 401, 403; no body: no 413, no 409
    assert statuses("get_case") == {200, 401, 403, 404, 422, 503}
    # public, no path id
    assert statuses("list_disclosed_cases") == {200, 422, 503}
    # If-Match checked when sent: 412; insisted on: 428, and the header is required
    assert {412} <= statuses("update_task") and 428 not in statuses("update_task")
    for op_id in ("update_indicator", "update_agency"):
        assert {412, 428} <= statuses(op_id)
        (if_match,) = [p for p in ops[op_id]["parameters"] if p["name"] == "If-Match"]
        assert if_match["required"] is True and "x-if-match" not in json.dumps(if_match)
    # a service's POSTs take an Idempotency-Key (the gateway's own routes: progress, webhooks, alerts)
    for method, path, operation in operations(document):
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        proxied = path.startswith("/api/") and not path.startswith(("/api/progress/", "/api/webhooks", "/api/alerts"))
        assert ("Idempotency-Key" in headers) == (method == "POST" and proxied), (method, path)
    # what a route declares itself
    assert {413, 415} <= statuses("import_plan")
    assert 429 in statuses("stream_changes")
    assert 304 in statuses("get_plan_progress") and 503 not in statuses("get_plan_progress")
    assert statuses("check_ready") == {200, 503}
    assert {200, 201} <= statuses("define_region") and {200, 201} <= statuses("import_plan")


def test_the_constraints_the_server_enforces_are_in_the_schemas(document):
    schemas = document["components"]["schemas"]
    pledge = schemas["PledgeCreate"]["properties"]
    # money: a decimal string, never a number
    assert pledge["loan_amount"]["type"] == "string" and re.match(pledge["loan_amount"]["pattern"], "5000000.00")
    assert not re.match(pledge["loan_amount"]["pattern"], "1.234")
    assert re.match(pledge["pledgor_uscc"]["pattern"], "91321191MA1MBD3K78")
    assert not re.match(pledge["pledgor_uscc"]["pattern"], "91321191MA1MBD3K7O")  # no O in a USCC
    region = schemas["CaseCreate"]["properties"]["region"]
    assert re.match(region["pattern"], "321102") and re.match(region["pattern"], "321100-ETDZ")
    assert not re.match(region["pattern"], "")
    parameters = {p["name"]: p for p in by_id(document)["get_plan_progress"]["parameters"]}
    years = parameters["as_of"]["schema"]["pattern"]
    assert re.match(years, "1900-01-01") and re.match(years, "2200-12-31")
    assert not re.match(years, "1899-12-31") and not re.match(years, "2201-01-01")
    cursor = {p["name"]: p for p in by_id(document)["list_cases"]["parameters"]}["cursor"]["schema"]["pattern"]
    assert re.match(cursor, "eyJpZCI6IjAxSiJ9") and not re.match(cursor, "not a cursor")


def test_the_title_is_ascii_for_generators_and_the_chinese_name_is_in_the_description(document):
    assert document["info"]["title"] == "Zhichan"
    assert document["info"]["description"].startswith("知产")
