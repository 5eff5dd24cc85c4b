"""FastAPI dependencies every service uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from zhichan.api.pagination import PageParams, page_params
from zhichan.db import reads_only


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        yield session


async def get_reading_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for routes that only read (:func:`zhichan.db.reads_only`): on SQLite they do not
    take the write lock, so a slow view does not hold up the writes (the gateway's applies)."""
    async with request.app.state.session_factory() as session:
        await reads_only(session)
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadingSessionDep = Annotated[AsyncSession, Depends(get_reading_session)]
PageDep = Annotated[PageParams, Depends(page_params)]
