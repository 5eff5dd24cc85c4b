"""Request field types every API shares: region codes that exist, USCCs that pass their check."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from zhichan.regions import registry
from zhichan.uscc import validate_uscc


def known_region(code: str) -> str:
    if code not in registry():
        raise ValueError(f"unknown region code {code!r} (GB/T 2260 or a custom region defined in targets)")
    return code


RegionCode = Annotated[str, AfterValidator(known_region)]
USCC = Annotated[str, AfterValidator(validate_uscc)]


# Default factories for list and dict fields of table models. Not the builtins themselves: for each
# field left out of a constructor, pydantic (2.10+) asks inspect.signature whether its factory takes
# the validated data, and a builtin's signature takes ~120 µs to fail, a function's ~8 µs — about
# 7 % of a create request's CPU with three such fields (profiled in bench, issue 9).
def empty_list() -> list:
    return []


def empty_dict() -> dict:
    return {}
