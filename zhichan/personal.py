"""Personal data (个人信息) as each reader is shown it: in full to officers (and admins), who
handle the cases and complaints it belongs to; masked to every other reader of the record
(auditors, departments). The public never gets it: the disclosures leave it out, or mask a
natural person's name with :func:`mask_name`.

What is personal data, service by service: a natural person's identity card number (a case's
respondent and complainant, enforcement), a complainant's name when it is not known to be an
organization (enforcement), a complainant's contact (agencies). No event carries the identity
numbers or the contact: the use cases return them beside the state, passed through
:func:`shown` first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the masks are plain functions: the domain modules that import them import no web stack
    from zhichan.auth import User

# Who reads personal data in full (an admin passes any role check).
HANDLERS = ("officer",)

_NAME_SEPARATORS = frozenset(" ·•.")
_EMAIL = re.compile(r"^([^@\s]+)@([^@\s]+)$")
_WORD = re.compile(r"\S+")
# A telephone number, spaces and dashes within it included, or else a word.
_PARTS = re.compile(r"(?P<number>\+?\(?\d[\d\s\-()]*\d)|\S+")


def sees_personal_data(user: User | None) -> bool:
    """Whether ``user`` is shown personal data in full: officers and admins."""
    return user is not None and user.has_any_role(HANDLERS)


def shown(user: User | None, value: str | None, mask: Callable[[str], str]) -> str | None:
    """``value`` as ``user`` may see it: whole for an officer or admin, ``mask(value)`` for anyone
    else; nothing stays nothing."""
    if not value:
        return value
    return value if sees_personal_data(user) else mask(value)


def mask_id_number(value: str) -> str:
    """An identity card number with its first four and last four characters kept (the province
    and city of issue, and the check digits a caller reads back on the phone):
    ``320311198001011234`` → ``3203**********1234``. A value of eight characters or fewer is
    masked whole."""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_name(name: str) -> str:
    """A natural person's name: the first character stays, every other one becomes ``*``
    (张三 → 张*, 李小明 → 李**); separators stay."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "".join(ch if ch in _NAME_SEPARATORS else "*" for ch in name[1:])


def _mask_digits(number: str) -> str:
    """A telephone number's digits but the first three and the last four masked, its other
    characters (+, -, spaces, parentheses) kept: ``13812345678`` → ``138****5678``."""
    positions = [i for i, ch in enumerate(number) if ch.isdigit()]
    hidden = set(positions[3:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(number))


def _mask_word(word: str) -> str:
    if email := _EMAIL.match(word):
        return f"{mask_name(email[1])}@{email[2]}"
    return mask_name(word)


def _mask_part(part: re.Match[str]) -> str:
    if part["number"] is not None and sum(ch.isdigit() for ch in part["number"]) >= 7:
        return _mask_digits(part["number"])
    return _WORD.sub(lambda word: _mask_word(word[0]), part[0])


def mask_contact(value: str) -> str:
    """A contact as free text, part by part: a telephone number keeps its first three and last
    four digits (``138****5678``, ``+86 1** **** 5678``), an e-mail address its first character and
    its domain, any other word its first character (李女士 → 李**)."""
    return _PARTS.sub(_mask_part, value.strip())
