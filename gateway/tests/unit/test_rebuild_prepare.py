"""What a replay makes of a chunk of the log before writing it (``gateway.rebuild._prepare``):
pure, so tested without a broker or a database."""

from datetime import UTC, datetime, timedelta

import orjson

from gateway import rebuild
from gateway.facts import case_facts
from gateway.readmodel import prepare_states
from gateway.tests import events as producer
from gateway.tests.events import case_state
from zhichan.events.envelope import Envelope

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def case_event(n: int, version: int, status: str, *, event_id: str | None = None, region: str = "321102") -> Envelope:
    closed = status == "closed"
    state = case_state(
        f"C{n}",
        "2025-02-01",
        region=region,
        closed="2025-03-01" if closed else None,
        on_time=True if closed else None,
        case_type="counterfeit_patent",
        version=version,
    )
    return producer.case_event(
        state, event_id=event_id or f"ev-{n}-{version}", time=T0 + timedelta(minutes=n * 10 + version)
    )


def as_chunk(*events: Envelope | bytes) -> list[tuple[str, int, int, bytes]]:
    return [
        ("zhichan.enforcement", 0, offset, e if isinstance(e, bytes) else e.to_json())
        for offset, e in enumerate(events)
    ]


def test_a_chunk_keeps_each_aggregates_newest_state_and_every_event_once():
    opened, closed = case_event(1, 1, "open"), case_event(1, 2, "closed")
    other = case_event(2, 1, "open")
    prepared = rebuild._prepare(as_chunk(opened, closed, other, closed, b"{not json"))

    assert prepared.events == 5 and prepared.unparseable == 1
    assert [key for key, _v, _f in prepared.states.rows] == ["enforcement/case/C1", "enforcement/case/C2"]
    assert [version for _k, version, _f in prepared.states.rows] == [2, 1]
    # The newest states' facts, summed: what the daily series move by.
    expected = prepare_states(
        [("enforcement/case/C1", 2, case_facts(closed.data)), ("enforcement/case/C2", 1, case_facts(other.data))]
    )
    assert prepared.states.added == expected.added
    # The inbox gets every event once (the relay is at-least-once: the log holds one twice).
    assert prepared.inbox == [
        (opened.id, "zhichan.enforcement"),
        (closed.id, "zhichan.enforcement"),
        (other.id, "zhichan.enforcement"),
    ]
    # The position is the last parsed message's.
    assert prepared.positions == {("zhichan.enforcement", 0): (3, closed.id, closed.type, closed.time)}


def test_only_the_newest_events_of_each_region_are_kept_for_the_recent_list():
    events = [case_event(n, 1, "open") for n in range(1, 5)] + [case_event(9, 1, "open", region="321111")]
    prepared = rebuild._prepare(as_chunk(*events), kept_per_region=2)

    assert [(row[0], row[3]) for row in prepared.recent] == [
        ("ev-4-1", "321102"),
        ("ev-3-1", "321102"),
        ("ev-9-1", "321111"),
    ]


def test_daily_sums_are_listed_by_day_without_zeros():
    closed = case_event(1, 2, "closed")
    prepared = prepare_states([("enforcement/case/C1", 2, case_facts(closed.data))])

    days = [key[2] for key, _amount in prepared.added]
    assert days == sorted(days)
    assert all(amount for _key, amount in prepared.added)


def test_events_outside_the_plain_shape_are_the_models_to_accept_or_refuse():
    # The replay reads our producers' plain shape without the model; anything else goes to the
    # model, exactly as the live consumer reads it: accepted here (a version written as a
    # string, no id: the model makes one), refused there (no region).
    plain = case_event(1, 1, "open")
    body = orjson.loads(case_event(2, 1, "open").to_json())
    odd = orjson.dumps({**body, "aggregateversion": "2"})
    no_id = orjson.dumps({k: v for k, v in orjson.loads(case_event(3, 1, "open").to_json()).items() if k != "id"})
    refused = orjson.dumps({k: v for k, v in body.items() if k != "region"})
    prepared = rebuild._prepare(as_chunk(plain, odd, no_id, refused))

    assert prepared.events == 4 and prepared.unparseable == 1
    assert [(key, version) for key, version, _f in prepared.states.rows] == [
        ("enforcement/case/C1", 1),
        ("enforcement/case/C2", 2),
        ("enforcement/case/C3", 1),
    ]
    assert len(prepared.inbox) == 3 and prepared.inbox[2][0] not in (plain.id, body["id"])


def test_every_statistic_release_and_definition_is_applied_one_by_one_in_log_order():
    # Releases are records, not newer states of one aggregate: a revision is kept beside what it
    # revises, so a replay applies each of them (apply_event keeps each id once).
    first = producer.release_event(
        producer.release_state("R1", "invention_grants", "2025-10", "100", "件", published_on="2025-11-05")
    )
    revision = producer.release_event(
        producer.release_state(
            "R2", "invention_grants", "2025-10", "110", "件", published_on="2025-11-25", revises="R1"
        )
    )
    prepared = rebuild._prepare(
        [("zhichan.targets", 0, offset, e.to_json()) for offset, e in enumerate([first, revision, first])]
    )
    assert [e.id for e in prepared.one_by_one] == [first.id, revision.id]
    assert prepared.states.rows == []
