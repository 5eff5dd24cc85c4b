"""Unified Social Credit Code (统一社会信用代码), GB 32100-2015.

python-stdnum's check wrongly refuses codes starting with A, N or Y, so the rule is here:
18 characters from the alphabet below, weights 3^i mod 31, check = (31 − Σ mod 31) mod 31.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class USCCError(ValueError):
    pass


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> str:
    """Returns the normalised code (upper case) or raises USCCError saying why."""
    code = value.strip().upper()
    if len(code) != 18:
        raise USCCError("a USCC has 18 characters")
    bad = [ch for ch in code if ch not in ALPHABET]
    if bad:
        raise USCCError(f"character {bad[0]!r} is not allowed in a USCC (no I, O, S, V, Z)")
    if not code[2:8].isdigit():
        raise USCCError("characters 3–8 of a USCC are the registering region's code")
    if check_character(code[:17]) != code[17]:
        raise USCCError("the check character (18th) does not match")
    return code


def is_valid_uscc(value: str) -> bool:
    try:
        validate_uscc(value)
    except USCCError:
        return False
    return True


def build_uscc(region_code: str, serial: int, *, kind: str = "91") -> str:
    """A well-formed USCC for demo and test data: kind (91 = enterprise), region, a 9-character
    organisation code derived from ``serial``, and the check character."""
    org = ""
    value = serial
    for _ in range(9):
        org = ALPHABET[value % 31] + org
        value //= 31
    first17 = f"{kind}{region_code[:6]}{org}"
    return first17 + check_character(first17)
