"""How a route answers: the public model of what the use case returned.

The boundary between ``api.py`` and ``service.py``, the same in every service: a use case
returns the contract state of the record it wrote or read — the very object its event carries —
or a page of them (``(states, next_cursor)``); ``api.py`` makes the public answer of it. A
state is built anyway for the event, so a write answers with no second read; and ``XPublic``
extends the state, so making it is :func:`shape` plus what only a reader is shown (a figure as
of today, a name). A report with no record behind it (a summary, statistics) has no state: its
use case returns the report's model, which is the answer.

- :func:`answer`: one record, with its ETag (and the Location of a record just created);
- :func:`listing`: a page of records (``XList``);
- :func:`shape`: the public model of one state, for the rare answer these two do not cover.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from zhichan.api.etag import etag_for

Public = TypeVar("Public", bound=BaseModel)
PageModel = TypeVar("PageModel", bound=BaseModel)
State = TypeVar("State", bound=BaseModel)


def shape(public: type[Public], state: BaseModel, **extra: Any) -> Public:
    """``state`` as the ``public`` model: the state's fields and ``extra``. Nested models pass as
    they are, not dumped and validated again."""
    return public(**dict(state), **extra)


def answer(
    response: Response,
    public: type[Public],
    state: BaseModel,
    *,
    location: str | None = None,
    tag: str | None = None,
    **extra: Any,
) -> Public:
    """:func:`shape`, with the state's ETag on the response, and ``location`` as its Location when
    the record was just created. The ETag is of the state's ``id`` and ``version``; ``tag`` names
    the record otherwise where its URL does (a plan's key)."""
    response.headers["ETag"] = etag_for(tag if tag is not None else state.id, state.version)
    if location is not None:
        response.headers["Location"] = location
    return shape(public, state, **extra)


def listing(
    model: type[PageModel],
    public: type[Public],
    page: tuple[Sequence[State], str | None],
    extra: Callable[[State], dict[str, Any]] | None = None,
) -> PageModel:
    """A page of states, ``(states, next_cursor)`` as a use case returns it, as the list model
    ``model`` (``XList``) of ``public`` items; ``extra`` gives each item what it adds to its state."""
    states, next_cursor = page
    items = [shape(public, state, **(extra(state) if extra else {})) for state in states]
    return model(items=items, next_cursor=next_cursor)
