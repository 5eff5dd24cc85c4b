"""Views at scale and replay: the city's events produced to a fresh broker, ``zhichan gateway
rebuild`` over them (events/s), then the gateway serving the progress views against a cheap
single-record GET, 1,000 sequential requests each from a separate process: the same URL again
(the gateway caches views until the read model moves) and a different date each time (computed);
then the gateway's database size before and after retention (:mod:`bench.retention`)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from datetime import date, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from bench import city, retention
from bench.common import ROOT, percentile, rss_mb, run_load
from gateway.settings import GatewaySettings
from zhichan.events.broker import ALL_TOPICS
from zhichan.settings import process_settings
from zhichan.stack import Stack

AS_OF = "2025-06-30"
PATHS = {
    "plan view": f"/api/progress/plans/bench-plan-01?as_of={AS_OF}",
    "region overview": f"/api/progress/regions/{city.CITY}?as_of={AS_OF}",
    "scorecard": f"/api/progress/scorecard?as_of={AS_OF}",
    "single metric (baseline)": (
        f"/api/progress/metrics/enforcement.cases_filed?region={city.DISTRICTS[0]}&as_of={AS_OF}"
    ),
    "healthz (baseline)": "/healthz",
}
WARMUP = 20  # requests of each URL before the measured ones (bench.load's default)
UNCACHED = ("plan view", "region overview", "scorecard")


def uncached_paths(count: int) -> dict[str, list[str]]:
    """Each view at a different as_of per request (a day earlier each time, from 2025-06-30 back
    into the plans' 2021–2025): the gateway caches views until the read model moves, so the same
    URL again measures the cache; these measure computing the view."""
    last = date.fromisoformat(AS_OF)
    dates = [(last - timedelta(days=n)).isoformat() for n in range(WARMUP + count)]
    return {f"{name}, uncached": [PATHS[name].replace(AS_OF, d) for d in dates] for name in UNCACHED}


REPORTED = re.compile(r"([\d,]+) events read .* in ([\d.]+)s \(([\d,]+) events/s\)")


def rebuild(stack: Stack) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "zhichan.cli", "gateway", "rebuild"],
        cwd=ROOT,
        env=stack.env_for("gateway"),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    wall = time.perf_counter() - started
    match = REPORTED.search(out.stdout)
    if out.returncode != 0 or match is None:
        raise RuntimeError(f"rebuild failed: {out.stdout[-1000:]} {out.stderr[-2000:]}")
    return {
        "events": int(match[1].replace(",", "")),
        "seconds": float(match[2]),
        "events_per_s": float(match[3].replace(",", "")),
        "wall_seconds": wall,
    }


async def _commit_group_at_end(bootstrap: str, group: str) -> None:
    """The gateway's consumer group positioned at the log's end, as a gateway that consumed
    everything would be — so the views are measured without it reading the decade again."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(t, p) for t in ALL_TOPICS for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit({tp: offset for tp, offset in ends.items() if offset})
    finally:
        await consumer.stop()


def measure(stack: Stack, divisor: int, count: int, uncached_count: int) -> dict:
    """``stack`` has its broker started and nothing else."""
    started = time.perf_counter()
    produced = asyncio.run(city.produce(stack.broker.bootstrap, divisor))
    produce_seconds = time.perf_counter() - started
    replay = rebuild(stack)
    asyncio.run(
        _commit_group_at_end(stack.broker.bootstrap, process_settings("gateway", base=GatewaySettings).consumer_group)
    )
    stack.start_process("gateway")
    try:
        stack.wait_ready(["gateway"], timeout=120)
        base = stack.url("gateway")
        results = run_load(
            {
                "mode": "sequential",
                "urls": {name: base + path for name, path in PATHS.items()},
                "count": count,
                "warmup": WARMUP,
            },
            timeout=3600,
        )
        # Fewer computed views: at full size an overview computed takes ~1 s (see BENCHMARKS.md).
        uncached = run_load(
            {
                "mode": "sequential",
                "urls": {name: [base + p for p in paths] for name, paths in uncached_paths(uncached_count).items()},
                "count": uncached_count,
                "warmup": WARMUP,
            },
            timeout=3600,
        )
        rss = rss_mb(stack.processes["gateway"].pid)
    finally:
        stack.stop_process("gateway")
    # The gateway stopped: its database's size after the log, and once retention has pruned it.
    settings = process_settings("gateway", base=GatewaySettings)
    sizes = retention.measure(stack.database_url("gateway"), settings)
    views = {}
    for name, result in [*results.items(), *uncached.items()]:
        lat = result["latencies_ms"]
        if result["ok"] != (uncached_count if name.endswith(", uncached") else count):
            raise RuntimeError(f"{name}: {result['statuses']} {result['failures']}")
        views[name] = {"p50": percentile(lat, 50), "p99": percentile(lat, 99)}
    return {
        "divisor": divisor,
        "sizes": city.sizes(divisor),
        "events": produced,
        "produce_seconds": produce_seconds,
        "replay": replay,
        "views": views,
        "requests": {"cached": count, "uncached": uncached_count},
        "gateway_rss_mb": rss,
        "retention": sizes,
        "database": "sqlite",
        "env": {k: v for k, v in os.environ.items() if k.startswith("BENCH_")},
    }
