"""The load client, run in a process of its own: ``python -m bench.load '<json spec>'``.

Modes:
- ``closed``: ``concurrency`` workers each POST back to back for ``seconds`` (throughput, p99);
- ``paced``: POSTs started at a steady ``rate`` per second for ``seconds``, round-robin over
  ``targets`` (the event-lag load);
- ``sequential``: ``count`` GETs of each URL (or list of URLs) in ``urls``, one at a time (view latency).
Prints one JSON object: per target, the count of answers by status and the latencies in ms.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

from bench.bodies import BODIES
from bench.http1 import Client, HttpError
from zhichan.testing import auth


class Tally:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.failures: list[str] = []

    async def request(self, client: Client, method: str, url: str, body: object = None) -> None:
        started = time.perf_counter()
        try:
            resp = await client.request(method, _path_of(url), body)
        except (HttpError, TimeoutError) as exc:
            self.statuses[0] += 1
            self.failures.append(repr(exc))
            return
        elapsed = (time.perf_counter() - started) * 1000
        self.statuses[resp.status] += 1
        if resp.status < 400:
            self.latencies.append(elapsed)
        elif len(self.failures) < 5:
            self.failures.append(resp.text[:300])

    def result(self, seconds: float) -> dict:
        return {
            "seconds": seconds,
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "ok": len(self.latencies),
            "latencies_ms": sorted(self.latencies),
            "failures": self.failures[:5],
        }


CONNECTIONS_PER_TARGET = 64


def client_for(url: str, connections: int) -> Client:
    return Client(url, connections, headers=auth("admin"))


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def closed(spec: dict) -> dict:
    tally, serial = Tally(), iter(range(spec["serial_start"], 10**9))
    make_body = BODIES[spec["kind"]]
    deadline = time.perf_counter() + spec["seconds"]

    async def worker(client: Client) -> None:
        while time.perf_counter() < deadline:
            await tally.request(client, "POST", spec["url"], make_body(next(serial)))

    client = client_for(spec["url"], spec["concurrency"])
    try:
        started = time.perf_counter()
        await asyncio.gather(*[worker(client) for _ in range(spec["concurrency"])])
        return tally.result(time.perf_counter() - started)
    finally:
        await client.close()


async def paced(spec: dict) -> dict:
    targets = spec["targets"]
    tallies = [Tally() for _ in targets]
    interval = 1.0 / spec["rate"]
    total = int(spec["rate"] * spec["seconds"])
    pending: set[asyncio.Task] = set()
    # Requests beyond the connections wait on the client's semaphore (httpx's pool queue cost
    # time in proportion to its length per request: at 200/s the load client became the bottleneck).

    async def request(i: int, client: Client, body: dict) -> None:
        await tallies[i].request(client, "POST", targets[i]["url"], body)

    clients = [client_for(t["url"], CONNECTIONS_PER_TARGET) for t in targets]
    try:
        started = time.perf_counter()
        for n in range(total):
            # Open loop: the n-th request starts at n × interval whatever the answers take.
            delay = started + n * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            i = n % len(targets)
            body = BODIES[targets[i]["kind"]](spec["serial_start"] + n)
            task = asyncio.create_task(request(i, clients[i], body))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        seconds = time.perf_counter() - started
    finally:
        for client in clients:
            await client.close()
    return {"targets": [t.result(seconds) for t in tallies], "seconds": seconds}


async def sequential(spec: dict) -> dict:
    """A URL, or a list of URLs taken in turn: warm-up requests take the first ones, measured
    requests the next (a list of distinct URLs measures answers not served from a cache)."""
    results = {}
    warmup = spec.get("warmup", 20)
    for name, urls in spec["urls"].items():
        urls = [urls] if isinstance(urls, str) else urls
        client = client_for(urls[0], 1)  # every URL of a name is on one host
        try:
            for n in range(warmup):
                await client.request("GET", _path_of(urls[n % len(urls)]))
            tally = Tally()
            started = time.perf_counter()
            for n in range(warmup, warmup + spec["count"]):
                await tally.request(client, "GET", urls[n % len(urls)])
            results[name] = tally.result(time.perf_counter() - started)
        finally:
            await client.close()
    return results


MODES = {"closed": closed, "paced": paced, "sequential": sequential}

if __name__ == "__main__":
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(MODES[spec["mode"]](spec))))
