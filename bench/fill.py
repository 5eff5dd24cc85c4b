"""A read model filled straight from the city's generated events, without broker or replay:
facts summed into ``series_daily``, ``series_monthly`` and ``series_yearly`` in memory, plans
applied as the gateway applies them, every event kept among the recent ones. For working on the
views at a size the replay cannot reach quickly: ``python -m bench.fill DATABASE_URL --divisor 100``."""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import insert

from bench import city
from gateway.facts import FACTS_OF
from gateway.models import RecentEvent, SeriesDaily, SeriesMonthly, SeriesYearly
from gateway.projections import apply_event, recent_event
from zhichan import migrate
from zhichan.db import make_engine, make_session_factory

GATEWAY_DIR = Path(__file__).resolve().parent.parent / "gateway"
CHUNK = 20_000


async def fill(url: str, divisor: int) -> dict[str, int]:
    await asyncio.to_thread(migrate.upgrade, GATEWAY_DIR, url)
    daily: Counter[tuple] = Counter()
    plans, recent = [], []
    for envelope in city.events(divisor):
        recent.append(recent_event(envelope).model_dump())
        to_facts = FACTS_OF.get((envelope.service, envelope.aggregate))
        if to_facts is None:
            plans.append(envelope)
            continue
        for f in to_facts(envelope.data):
            daily[(f.series, f.region, f.day, *f.dims)] += f.amount
    monthly: Counter[tuple] = Counter()
    yearly: Counter[tuple] = Counter()
    for (series, region, day, *dims), amount in daily.items():
        monthly[(series, region, day.replace(day=1), *dims)] += amount
        yearly[(series, region, day.replace(month=1, day=1), *dims)] += amount
    columns = ("series", "region", "day", "dim1", "dim2", "dim3", "dim4")
    rows = [{**dict(zip(columns, key, strict=True)), "amount": amount} for key, amount in daily.items() if amount]
    columns = ("series", "region", "month", "dim1", "dim2", "dim3", "dim4")
    monthly_rows = [
        {**dict(zip(columns, key, strict=True)), "amount": amount} for key, amount in monthly.items() if amount
    ]
    columns = ("series", "region", "year", "dim1", "dim2", "dim3", "dim4")
    yearly_rows = [
        {**dict(zip(columns, key, strict=True)), "amount": amount} for key, amount in yearly.items() if amount
    ]
    engine = make_engine(url)
    try:
        async with make_session_factory(engine)() as session:
            for table, values in (
                (SeriesDaily, rows),
                (SeriesMonthly, monthly_rows),
                (SeriesYearly, yearly_rows),
                (RecentEvent, recent),
            ):
                for i in range(0, len(values), CHUNK):
                    await session.execute(insert(table), values[i : i + CHUNK])
            for envelope in plans:
                await apply_event(session, envelope)
            await session.commit()
    finally:
        await engine.dispose()
    return {
        "series_daily": len(rows),
        "series_monthly": len(monthly_rows),
        "series_yearly": len(yearly_rows),
        "recent_event": len(recent),
        "plans": len(plans),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="the gateway's database URL (migrated here)")
    parser.add_argument("--divisor", type=int, default=100)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = asyncio.run(fill(args.url, args.divisor))
    print(f"{counts} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
