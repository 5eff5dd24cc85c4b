"""The table: printed lines while the run goes, and BENCHMARKS.md at its end."""

from __future__ import annotations

from bench import writes
from bench.city import FULL, INDICATORS, PLANS

NOTES_START = "<!-- notes -->"


def _ok(flag: bool) -> str:
    return "met" if flag else "**missed**"


def write_line(p: dict) -> str:
    s, b = p["service"], p["bare"]
    return (
        f"write {p['database']:<10} rows={p['rows']:>6}  service {s['rps']:7.1f} req/s p99 {s['p99']:7.1f} ms  |  "
        f"bare {b['rps']:7.1f} req/s p99 {b['p99']:7.1f} ms  |  {s['rps'] / b['rps']:5.0%} throughput, "
        f"{s['p99'] / b['p99']:4.2f}x p99  (errors {s['errors']}/{b['errors']})"
    )


def lag_line(r: dict) -> str:
    raw, plat = r["raw"], r["platform"]
    return (
        f"lag   platform p50 {plat['p50']:.1f} ms p99 {plat['p99']:.1f} ms "
        f"({plat['applied']}/{plat['events']} events; p50 first/last third "
        f"{plat.get('first_third_p50', float('nan')):.1f}/{plat.get('last_third_p50', float('nan')):.1f} ms)  |  "
        f"raw aiokafka p50 {raw['p50']:.1f} ms p99 {raw['p99']:.1f} ms"
        + "".join(
            f"\n      {stage} p50 {v['p50']:.1f} ms p99 {v['p99']:.1f} ms"
            for stage, v in plat.get("stages", {}).items()
        )
    )


def view_line(p: dict) -> str:
    parts = "  ".join(f"{name} {v['p50']:.1f}/{v['p99']:.1f}" for name, v in p["views"].items())
    return (
        f"views 1/{p['divisor']}: {p['events']} events, replay {p['replay']['events_per_s']:,.0f} ev/s, "
        f"RSS {p['gateway_rss_mb']:.0f} MiB; p50/p99 ms: {parts}"
    )


def catchup_line(p: dict) -> str:
    c = p["catchup"]
    return (
        f"catchup {p['events']:,} events: live {c['events_per_s']:,.0f} ev/s in {c['seconds']:.1f} s "
        f"(startup {c['startup_seconds']:.1f} s; {c['applying_events_per_s']:,.0f} ev/s after it)  |  "
        f"rebuild {p['replay']['events_per_s']:,.0f} ev/s  |  {p['ratio']:.0%}"
    )


def _speed(m: dict) -> str:
    def one(speed: dict | None) -> str:
        if not speed:
            return "–"
        loop, call = speed["python_loop_1000_us"], speed["thread_call_us"]
        return f"1,000 Python loop steps {loop}, one aiosqlite thread call {call}"

    return f"at the start {one(m.get('speed_at_start'))}; at the end {one(m.get('speed_at_end'))}"


SPEEDS = (("python_loop_1000_us", "Python loop"), ("thread_call_us", "thread call"))


def _ratios(later: dict | None, earlier: dict | None) -> str:
    if not later or not earlier:
        return "–"
    return ", ".join(f"{label} ×{later[key] / earlier[key]:.2f}" for key, label in SPEEDS)


def speed_line(name: str, measured: dict) -> str:
    start, end = measured.get("speed_at_start"), measured.get("speed_at_end")
    return (
        f"speed {name}: end ÷ start {_ratios(end, start)}; "
        f"vs the run's start: start {_ratios(start, measured.get('run_speed_at_start'))}, "
        f"end {_ratios(end, measured.get('run_speed_at_start'))}"
    )


def _measured(results: dict, name: str) -> list[str]:
    """The line under a section's title: when, at which commit, and how fast the host was."""
    measured = results.get("measured", {}).get(name)
    if not measured:  # a run written before sections recorded their own
        return []
    when = f"on {measured['date']}" if measured.get("date") else "(date not recorded)"
    origin = " — kept from an earlier run: this run left it out (`--only`)" if measured.get("kept") else ""
    line = f"*Measured at commit `{measured['commit']}` {when}{origin}.*"
    start, end = measured.get("speed_at_start"), measured.get("speed_at_end")
    if start and end:
        run_start = measured.get("run_speed_at_start")
        line += (
            f" *Host speed (CPU µs, above 1 is slower): at the section's start {_one(start)}, at its end "
            f"{_one(end)}; end ÷ start: {_ratios(end, start)}; against the run's start: start "
            f"{_ratios(start, run_start)}, end {_ratios(end, run_start)}.*"
        )
    return [line, ""]


def _one(speed: dict) -> str:
    return " / ".join(f"{speed[key]}" for key, _label in SPEEDS)


def _retention_table(points: list[dict]) -> list[str]:
    rows = [p for p in points if p.get("retention")]
    if not rows:
        return []
    first = rows[0]["retention"]
    out = [
        "Database size (`bench/retention.py`): the gateway's SQLite file after the rebuild and the views "
        "(every event's id in the inbox, as a live-consumed log leaves it too), then pruned as the gateway's task "
        f"would once `GATEWAY_INBOX_RETENTION_DAYS` ({first['retention_days']:g}) have passed with no event since "
        f"(recent events: the newest {first['recent_events_per_region']} per region), then VACUUMed. A prune "
        "frees pages that new rows reuse: the file stops growing at the size in use; VACUUM gives the rest back.",
        "",
        "| size | events | inbox rows | file MB after rebuild | of which inbox MB | recent events MB "
        "| in use after prune MB | file after VACUUM MB | prune s | VACUUM s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in rows:
        r = p["retention"]
        before, tables = r["before"], r["before"].get("table_mb", {})
        out.append(
            f"| 1/{p['divisor']} | {p['events']:,} | {before['rows']['inbox']:,} | {before['file_mb']:,.1f} | "
            f"{tables.get('inbox', float('nan')):,.1f} | {tables.get('recent_event', float('nan')):,.1f} | "
            f"{r['after_prune']['in_use_mb']:,.1f} | {r['after_vacuum']['file_mb']:,.1f} | "
            f"{r['pruned']['seconds']:.1f} | {r['vacuum_seconds']:.1f} |"
        )
    return [*out, ""]


def markdown(results: dict) -> str:
    m = results["machine"]

    def args_of(name: str) -> dict:  # a section kept from an earlier run was run with that run's options
        return results.get("measured", {}).get(name, {}).get("args") or results["args"]

    a = results["args"]
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench`); every figure beside a bare baseline measured in the",
        "same run on the same machine. Raw numbers: `bench/last-run.json`.",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['os']}; Python {m['python']}; "
        f"SQLite {m['sqlite']}; PostgreSQL {m['postgresql']} (127.0.0.1)",
        f"- Commit of this run: `{m['commit']}` (each section says the commit and date it was measured at: "
        "a run of some benchmarks, `--only`, keeps the others' figures from `bench/last-run.json`)",
        f"- Host speed (CPU µs; `bench.common.host_speed`): {_speed(m)}; each section gives its own, at its "
        "start and end, and their ratios",
        f"- Run: `python -m bench --divisors {a['divisors']} --write-seconds {a['write_seconds']} "
        f"--concurrency {a['concurrency']} --lag-rate {a['lag_rate']} --lag-seconds {a['lag_seconds']} "
        f"--view-requests {a['view_requests']} --uncached-requests {a.get('uncached_requests', '–')} "
        f"--only {a['only']}`",
        "- Every process (load client, services, gateway, broker, database) shares those cores.",
        "",
    ]
    if results.get("writes"):
        a = args_of("writes")
        out += [
            "## 1. Write path — POST /agencies vs a bare insert",
            "",
            *_measured(results, "writes"),
            f"Closed loop: {a['concurrency']} concurrent writers from a separate process (asyncio, bench/http1.py), "
            f"{a['write_seconds']} s per side and point, in {writes.SLICES_PER_SIDE} slices each taken in turns "
            "(service, bare, bare, service, …; both running throughout), so that the host's drift in speed "
            "falls on both sides alike. *Service*: the agencies service (validation, JWT auth, "
            "idempotency middleware, USCC uniqueness (a partial unique index), row + outbox event in one "
            "transaction, relay publishing to the broker). *Bare*: `bench/bare.py`, a FastAPI app inserting "
            "the same row into the same table (same migrations, same engine settings) with no checks. "
            "*Rows*: agencies already in the table (full size 20,000; 1/10; 1/100). Goal: ≥ 80 % of bare "
            "throughput, p99 ≤ 1.5×.",
            "",
            "| database | rows | service req/s | bare req/s | ratio | service p99 ms | bare p99 ms | p99 × | goal |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for p in results["writes"]:
            s, b = p["service"], p["bare"]
            ratio, p99x = s["rps"] / b["rps"], s["p99"] / b["p99"]
            out.append(
                f"| {p['database']} | {p['rows']:,} | {s['rps']:.0f} | {b['rps']:.0f} | {ratio:.0%} | "
                f"{s['p99']:.1f} | {b['p99']:.1f} | {p99x:.2f} | {_ok(ratio >= 0.8 and p99x <= 1.5)} |"
            )
        out.append("")
    if results.get("lag"):
        points = results["lag"]
        out += [
            "## 2. Event lag — commit → gateway read model",
            "",
            *_measured(results, "lag"),
            f"Open loop: each rate for {points[0]['platform']['seconds']:.0f} s, round-robin over POST "
            "/agencies, /cases and /pledges (three of the four services: the targets service's writes are "
            "plan imports and reports, not a steady stream). Lag per event = the gateway inbox row's "
            "`received_at` (stamped in the transaction that moves the metric's series, just before its "
            "commit) − the outbox row's `created_at` (the envelope's time, stamped in the service's "
            "transaction just before its commit); joined on event id. Baseline: one aiokafka producer → "
            "consumer on the same broker at the same rate, the consumer fetching as the platform's do. "
            "Goal: p50 ≤ 20 ms, p99 ≤ 60 ms at 200 writes/s. *First / last third*: the p50 lag of the run's "
            "first and last thirds of writes: alike when the platform keeps up, growing when it falls behind.",
            "",
        ]
        if rerun := results.get("lag_rerun"):  # the run's own lag figures were set aside (see notes)
            out += [f"These figures come from a second run at the same commit: `{rerun['command']}`.", ""]
        out += [
            "| writes/s | platform p50 ms | p99 ms | max ms | p50 first / last third ms | events applied "
            "| bare p50 ms | bare p99 ms | goal |",
            "|---:|---:|---:|---:|---|---|---:|---:|---|",
        ]
        for point in points:
            raw, plat = point["raw"], point["platform"]
            out.append(
                f"| {plat['rate']:.0f} | {plat['p50']:.1f} | {plat['p99']:.1f} | {plat['max']:.1f} | "
                f"{plat.get('first_third_p50', float('nan')):.1f} / {plat.get('last_third_p50', float('nan')):.1f} | "
                f"{plat['applied']:,} of {plat['events']:,} ({plat['write_errors']} write errors) | "
                f"{raw['p50']:.1f} | {raw['p99']:.1f} | {_ok(plat['p50'] <= 20 and plat['p99'] <= 60)} |"
            )
        out.append("")
    if results.get("views"):
        a = args_of("views")
        full = ", ".join(f"{n:,} {k}" for k, n in FULL.items())
        out += [
            "## 3–5. Views at scale, replay, and how cost grows",
            "",
            *_measured(results, "views"),
            f"Full size is a city's decade: {full}, {PLANS} plans of {INDICATORS} indicators (14 metric-bound, "
            "1 reported), generated by `bench/city.py` (deterministic), produced to a fresh broker, "
            "then `zhichan gateway rebuild` (events/s as it reports them, migrations included). The gateway "
            f"(SQLite read model) then serves {a['view_requests']} sequential GETs of each view from a "
            "separate process, "
            f"as_of 2025-06-30, after 20 warm-up requests. Baselines: `GET /healthz` and a single metric "
            "(`/api/progress/metrics/enforcement.cases_filed?region=321102`). Goal: plan view p99 ≤ 50 ms "
            "and ≤ 3× the single-record GET; replay ≥ 10,000 events/s. The gateway keeps a view until an "
            "event is applied, so the same URL again is answered from memory; the *computed* columns ask "
            "for a different as_of each time (2025-06-30, the day before, …), so that every answer is computed "
            f"({a.get('uncached_requests', a['view_requests'])} requests each).",
            "",
            "| size | events | replay events/s | plan view p50/p99 | region overview p50/p99 | scorecard p50/p99 "
            "| plan view computed | overview computed | scorecard computed "
            "| single metric p50/p99 | healthz p50/p99 | plan p99 ÷ metric p99 | gateway RSS MiB | goals |",
            "|---|---:|---:|---|---|---|---|---|---|---|---|---:|---:|---|",
        ]
        for p in results["views"]:
            v = p["views"]
            plan, metric = v["plan view"], v["single metric (baseline)"]
            factor = plan["p99"] / metric["p99"]
            eps = p["replay"]["events_per_s"]

            def cell(name: str, v=v) -> str:
                return f"{v[name]['p50']:.1f} / {v[name]['p99']:.1f}"

            def computed(name: str, v=v) -> str:
                return cell(f"{name}, uncached") if f"{name}, uncached" in v else "–"

            computed_p99 = v.get("plan view, uncached", {}).get("p99", float("nan"))
            goals = (
                f"plan p99 {_ok(plan['p99'] <= 50)} (computed {_ok(computed_p99 <= 50)}), ×3 {_ok(factor <= 3)}, "
                f"replay {_ok(eps >= 10_000)}"
            )
            out.append(
                f"| 1/{p['divisor']} | {p['events']:,} | {eps:,.0f} | {cell('plan view')} | "
                f"{cell('region overview')} | {cell('scorecard')} | {computed('plan view')} | "
                f"{computed('region overview')} | {computed('scorecard')} | {cell('single metric (baseline)')} | "
                f"{cell('healthz (baseline)')} | {factor:.2f} | {p['gateway_rss_mb']:.0f} | {goals} |"
            )
        out.append("")
        out += _retention_table(results["views"])
    if p := results.get("catchup"):
        c = p["catchup"]
        out += [
            "## 6. Live catch-up — a backlog applied by the gateway vs the rebuild",
            "",
            *_measured(results, "catchup"),
            f"{p['events']:,} events produced while the gateway is stopped (`bench/catchup.py`: the services' own "
            "events of an agency, a pledge and a case taken filed → closed, cloned with other ids, districts and "
            "dates; cases in several versions spread over the log, one in ten left open), then the gateway "
            "started and timed from its process's start until its consumer positions hold the whole backlog "
            "(read model, inbox, recent events, alerts, webhooks: everything it does per event). Baseline: "
            "`zhichan gateway rebuild` over the same log in the same run (its own events/s). SQLite read "
            "model. Goal: catch-up ≥ 50 % of the rebuild's events/s.",
            "",
            "| events | catch-up s | of which startup s | catch-up events/s | after startup events/s "
            "| rebuild events/s | ratio | goal |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
            f"| {p['events']:,} | {c['seconds']:.1f} | {c['startup_seconds']:.1f} | {c['events_per_s']:,.0f} | "
            f"{c['applying_events_per_s']:,.0f} | {p['replay']['events_per_s']:,.0f} | {p['ratio']:.0%} | "
            f"{_ok(p['ratio'] >= 0.5)} |",
            "",
        ]
    out += [NOTES_START, ""]
    return "\n".join(out)
