"""The write path's baseline: a bare FastAPI app that inserts the same agency row into the same
kind of database, with no validation, no auth, no outbox, no idempotency — only the insert.

``python -m bench.bare <database url> <port>`` (the table comes from the agencies migrations,
run by the benchmark before it starts this)."""

from __future__ import annotations

import sys
from contextlib import asynccontextmanager
from datetime import date

import uvicorn
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import insert

from services.agencies.models import Agency
from zhichan.clock import utcnow
from zhichan.db import make_engine
from zhichan.ids import new_id


def agency_row(body: dict) -> dict:
    """The row the agencies service writes for a filing, built straight from the request."""
    now = utcnow()
    return {
        "id": new_id(),
        "name": body["name"],
        "uscc": body["uscc"],
        "region": body["region"],
        "address": body.get("address"),
        "service_types": "," + ",".join(body["service_types"]) + ",",
        "licence_numbers": body.get("licence_numbers", []),
        "offline": body.get("offline", False),
        "in_cluster": body.get("in_cluster", False),
        "brand_level": body.get("brand_level", "none"),
        "status": "filed",
        "filed_on": date.fromisoformat(body["filed_on"]),
        "status_history": [{"status": "filed", "on": body["filed_on"], "at": now.isoformat()}],
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def create_app(url: str) -> FastAPI:
    engine = make_engine(url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/readyz")
    async def ready() -> dict:
        return {"ok": True}

    @app.post("/agencies", status_code=201)
    async def insert_agency(request: Request) -> JSONResponse:
        body = await request.json()
        row = agency_row(body)
        async with engine.begin() as conn:
            await conn.execute(insert(Agency), row)
        return JSONResponse(jsonable_encoder(row), status_code=201)

    return app


if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(create_app(url), host="127.0.0.1", port=port, log_config=None, access_log=False)
