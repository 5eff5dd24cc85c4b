"""The gateway's merged OpenAPI document for Schemathesis, and how the fuzz suite is configured.

The document is made as the gateway makes it (``gateway.openapi.merge_openapi`` over the gateway's
own routes and each service's), from the apps made but not started, so the tests can be generated
when the module is collected; the suite checks that the running gateway serves the same document.
"""

from __future__ import annotations

import functools
import importlib
import os
import random
from typing import Any

import schemathesis

from zhichan import SERVICES

# The seed of a run: in the report's header, and ZHICHAN_FUZZ_SEED=<seed> runs the same cases again.
SEED = int(os.environ.get("ZHICHAN_FUZZ_SEED") or random.getrandbits(64))

# The event stream never ends: a request to it would hold its test until the request timed out.
ENDLESS = "/api/progress/stream"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"


@functools.cache
def merged_document() -> dict[str, Any]:
    """What the gateway's /openapi.json answers: its own routes and every service's under /api."""
    from gateway.app import create_app
    from gateway.openapi import merge_openapi

    services = {name: importlib.import_module(f"services.{name}.app").create_app().openapi() for name in SERVICES}
    return merge_openapi(create_app().openapi(), services)


# Methods a path does not take, sent to each path by the coverage phase (405 with Allow): two of
# them, not all eight, which were a tenth of the suite's cases.
UNEXPECTED_METHODS = ["DELETE", "TRACE"]


def gateway_schema(*phases: str):
    """The merged document as Schemathesis tests it: ``phases`` of examples, coverage (the edges
    of every constraint, each parameter missing or of another type, a method the path does not
    take) and fuzzing (generated cases, valid and not, hypothesis's ``max_examples`` of them)."""
    enabled = {name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")}
    enabled["coverage"]["unexpected-methods"] = UNEXPECTED_METHODS
    config = schemathesis.Config.from_dict({"seed": SEED, "request-timeout": 20, "phases": enabled})
    return schemathesis.openapi.from_dict(merged_document(), config=config).exclude(path=ENDLESS)


@schemathesis.serializer(XLSX, CSV)
def _spreadsheet(ctx, value: Any) -> bytes:
    """A workbook (a plan, records to import) or a CSV file is bytes: whatever was generated goes
    as they are (or as text's UTF-8)."""
    return value if isinstance(value, bytes) else str(value).encode()
