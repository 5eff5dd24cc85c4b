"""Request field types every API shares: region codes that exist, USCCs that pass their check,
keys naming a record in a path, and bounded dates and years."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, WithJsonSchema

from zhichan.regions import registry
from zhichan.uscc import validate_uscc


def known_region(code: str) -> str:
    if code not in registry():
        raise ValueError(f"unknown region code {code!r} (GB/T 2260 or a custom region defined in targets)")
    return code


# What the OpenAPI document says of them: their shape, as a pattern (the validators say why a value
# is refused, and check what no pattern can: that the region exists, the USCC's check character).
REGION_CODE_PATTERN = r"^[0-9]{6}(-[A-Z0-9]{2,16})?$"  # GB/T 2260, or a custom one (321100-ETDZ)
USCC_PATTERN = r"^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$"  # GB 32100-2015: no I, O, S, V, Z
RegionCode = Annotated[
    str,
    AfterValidator(known_region),
    WithJsonSchema({"type": "string", "pattern": REGION_CODE_PATTERN, "description": "A region code that exists"}),
]
USCC = Annotated[
    str,
    AfterValidator(validate_uscc),
    WithJsonSchema({"type": "string", "pattern": USCC_PATTERN, "description": "A USCC whose check character matches"}),
]

# A path parameter naming a record: an id (a ULID), a plan, indicator or task key
# (zhenjiang-etdz-2024-2026), a region code (321100-ETDZ). Anything else — a
# control character, a byte that is not ASCII, a space — is refused (422) before it reaches a
# query: PostgreSQL refuses a NUL in text, and that was a 500.
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
KEY_MAX_LENGTH = 100
Key = Annotated[
    str,
    Path(
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=KEY_PATTERN,
        description="Letters, digits, '-' and '_', starting with a letter or digit; at most 100",
    ),
]

# A path parameter naming a record by what people write, not by a key: a case number
# (宜市监知立〔2024〕15号). Any text but a control character (PostgreSQL refuses a NUL), a slash
# or a backslash (the gateway refuses them, as they would read as two segments) and U+FFFD (a byte
# that was not UTF-8); at most as long as the column it is looked up in.
NAME_SEGMENT_PATTERN = r"^[^\x00-\x1f\x7f/\\\uFFFD]+$"
NameSegment = Annotated[
    str,
    Path(
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=NAME_SEGMENT_PATTERN,
        description="Text as written (percent-encoded), no control characters or slashes; at most 100",
    ),
]

# Business dates and years a caller may ask about: 1900–2200. Beyond them nothing is recorded,
# and a date computed from one (a year's 1 January, a deadline) could fall outside what Python's
# dates hold (year 0 was a 500).
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2200, 12, 31)
# JSON Schema bounds no date: a pattern on the year says it to the OpenAPI document.
DAY_PATTERN = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-[0-9]{2}-[0-9]{2}$"
Day = Annotated[
    date,
    Field(ge=EARLIEST_DAY, le=LATEST_DAY),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "pattern": DAY_PATTERN,
            "description": "A date from 1900-01-01 to 2200-12-31",
        }
    ),
]
Year = Annotated[int, Field(ge=EARLIEST_DAY.year, le=LATEST_DAY.year, description="A year from 1900 to 2200")]


# Default factories for list and dict fields of table models. Not the builtins themselves: for each
# field left out of a constructor, pydantic (2.10+) asks inspect.signature whether its factory takes
# the validated data, and a builtin's signature takes ~120 µs to fail, a function's ~8 µs — about
# 7 % of a create request's CPU with three such fields (profiled in bench, issue 9).
def empty_list() -> list:
    return []


def empty_dict() -> dict:
    return {}
