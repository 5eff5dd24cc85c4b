"""``python -m bench`` (``make bench``): every benchmark, each beside its bare baseline, printed as
a table and written to BENCHMARKS.md. Options shorten or widen the run; the defaults are what
BENCHMARKS.md was written from. Each section records the host's speed at its start and end (the
ratios say whether it ran in a slow minute), and the commit and date it was measured at; a run
of some sections (``--only``) keeps the others from ``bench/last-run.json``."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from bench import catchup, lag, report, views, writes
from bench.common import ROOT, free_port, host_speed, machine
from zhichan.stack import PROCESSES, Stack

LAST_RUN = ROOT / "bench" / "last-run.json"
SECTIONS = ("writes", "lag", "catchup", "views")
# Results that belong to a section, kept or replaced with it.
BELONGS = {"lag": ("lag_rerun",)}


def fresh_stack(var_dir: Path, extra_env: dict | None = None) -> Stack:
    shutil.rmtree(var_dir, ignore_errors=True)
    (var_dir / "logs").mkdir(parents=True)
    return Stack(var_dir, ports={name: free_port() for name in PROCESSES}, extra_env=dict(extra_env or {}))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--divisors", default="100,10", help="city sizes as 1/N of full (1 = 1,000,000 cases)")
    parser.add_argument("--write-seconds", type=float, default=10.0, help="load per write point")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent writers")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--lag-rate", default="50,200", help="writes/s across the services, one point per rate")
    parser.add_argument("--lag-seconds", type=float, default=30.0)
    parser.add_argument("--view-requests", type=int, default=1000)
    parser.add_argument(
        "--uncached-requests", type=int, default=100, help="requests per view computed afresh (a new as_of each)"
    )
    parser.add_argument(
        "--catchup-events", type=int, default=100_000, help="the backlog the gateway catches up on (catchup)"
    )
    parser.add_argument("--only", default="writes,lag,views,catchup", help="which benchmarks to run")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    divisors = [int(d) for d in args.divisors.split(",")]
    only = set(args.only.split(","))
    results: dict = {"machine": machine(), "args": {k: str(v) for k, v in vars(args).items()}, "measured": {}}
    results["machine"]["speed_at_start"] = host_speed()
    print(json.dumps(results["machine"], ensure_ascii=False))
    keep_earlier(results, only)
    previous = args.output.read_text() if args.output.exists() else ""
    # Findings below the marker are written by hand (profiles, causes, fixes): a new run keeps them.
    notes = previous.split(report.NOTES_START, 1)[1].lstrip("\n") if report.NOTES_START in previous else ""

    def save() -> None:  # after every benchmark, so a later failure keeps the figures already taken
        args.output.write_text(report.markdown(results) + notes)
        LAST_RUN.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))

    @contextlib.contextmanager
    def section(name: str) -> Iterator[None]:
        """The host's speed at the section's start and end, beside the run's start: a section run
        in a slow minute can be told from one run in a fast one."""
        results["measured"][name] = {
            "commit": results["machine"]["commit"],
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "args": results["args"],
            "run_speed_at_start": results["machine"]["speed_at_start"],
            "speed_at_start": host_speed(),
        }
        yield
        results["measured"][name]["speed_at_end"] = host_speed()
        print(report.speed_line(name, results["measured"][name]), flush=True)

    work = Path(tempfile.mkdtemp(prefix="zhichan-bench-"))
    try:
        if "writes" in only:
            with section("writes"):
                results["writes"] = []
                stack = fresh_stack(work / "writes")
                stack.start_broker()
                try:
                    for database in args.databases.split(","):
                        for divisor in divisors:
                            rows = 20_000 // divisor
                            point = writes.measure(stack, database, rows, args.concurrency, args.write_seconds)
                            results["writes"].append(point)
                            print(report.write_line(point), flush=True)
                            save()
                finally:
                    stack.stop()
            save()
        if "lag" in only:
            with section("lag"):
                results.pop("lag_rerun", None)  # a note on figures this run replaces
                stack = fresh_stack(work / "lag")
                stack.start()
                try:
                    results["lag"] = []
                    for rate in (float(r) for r in args.lag_rate.split(",")):
                        raw = lag.measure_raw_kafka(stack.broker.bootstrap, rate, args.lag_seconds)
                        platform = lag.measure_platform(stack, rate, args.lag_seconds)
                        results["lag"].append({"raw": raw, "platform": platform})
                        print(report.lag_line(results["lag"][-1]), flush=True)
                        save()
                finally:
                    stack.stop()
            save()
        if "catchup" in only:
            with section("catchup"):
                stack = fresh_stack(work / "catchup")
                stack.start_broker()
                try:
                    results["catchup"] = catchup.measure(stack, args.catchup_events)
                finally:
                    stack.stop()
                print(report.catchup_line(results["catchup"]), flush=True)
            save()
        if "views" in only:
            with section("views"):
                results["views"] = []
                for divisor in sorted(divisors, reverse=True):
                    stack = fresh_stack(work / f"views-{divisor}")
                    stack.start_broker()
                    try:
                        point = views.measure(stack, divisor, args.view_requests, args.uncached_requests)
                    finally:
                        stack.stop()
                    results["views"].append(point)
                    print(report.view_line(point), flush=True)
                    save()
            save()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["machine"]["speed_at_end"] = host_speed()
    save()
    print(args.output.read_text())


def keep_earlier(results: dict, only: set[str]) -> None:
    """The sections this run leaves out, as the previous run (``bench/last-run.json``) measured
    them, each with the commit and date it was measured at: a run of some benchmarks rewrites
    BENCHMARKS.md without erasing the others' figures."""
    try:
        previous = json.loads(LAST_RUN.read_text())
    except (OSError, ValueError):
        return
    for name in SECTIONS:
        if name in only or not previous.get(name):
            continue
        results[name] = previous[name]
        for extra in BELONGS.get(name, ()):
            if extra in previous:
                results[extra] = previous[extra]
        # A run written before sections recorded their own: its commit and speeds, date unknown.
        results["measured"][name] = {
            **(
                previous.get("measured", {}).get(name)
                or {
                    "commit": previous["machine"]["commit"],
                    "date": None,
                    "args": previous["args"],
                    "run_speed_at_start": previous["machine"].get("speed_at_start"),
                }
            ),
            "kept": True,
        }


if __name__ == "__main__":
    main()
