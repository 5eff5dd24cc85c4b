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
