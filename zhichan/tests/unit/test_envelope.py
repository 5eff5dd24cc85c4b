import json

import pytest
from pydantic import ValidationError

from zhichan.events.envelope import Envelope, event_type, read_plain


def make() -> Envelope:
    return Envelope(
        source="/zhichan/agencies",
        type=event_type("agencies", "agency", "filed"),
        subject="agency/01ABC",
        region="320311",
        aggregateversion=3,
        actor="officer-1",
        data={"id": "01ABC", "amount": "12.30", "名称": "知信"},
    )


def test_round_trip_keeps_every_attribute():
    original = make()
    again = Envelope.from_json(original.to_json())
    assert again == original
    assert again.service == "agencies" and again.aggregate == "agency" and again.verb == "filed"
    assert again.aggregate_id == "01ABC"


def test_structured_json_has_cloudevents_attributes():
    import json

    body = json.loads(make().to_json())
    assert body["specversion"] == "1.0"
    assert {"id", "source", "type", "subject", "time", "region", "aggregateversion", "data"} <= body.keys()
    assert body["type"] == "zhichan.agencies.agency.filed.v1"


@pytest.mark.parametrize("bad", ["agency.filed", "zhichan.agencies.agency.filed", "zhichan.Agencies.x.y.v1"])
def test_type_must_have_our_shape(bad):
    with pytest.raises(ValidationError):
        Envelope(source="/x", type=bad, subject="a/1", region="1", aggregateversion=1, data={})


def test_garbage_is_refused():
    with pytest.raises(ValidationError):
        Envelope.from_json(b"not json")


PLAIN = {
    "specversion": "1.0",
    "id": "00000000-0000-4000-8000-000000000001",
    "source": "/zhichan/enforcement",
    "type": "zhichan.enforcement.case.filed.v1",
    "subject": "case/C1",
    "time": "2026-01-01T08:00:00.123456Z",
    "datacontenttype": "application/json",
    "region": "321102",
    "aggregateversion": 1,
    "actor": "officer-1",
    "data": {"id": "C1", "filed_date": "2025-02-01", "overdue_periods": [], "n": 3},
}
NESTED_TOO_DEEP = "[" * 250 + "]" * 250  # deeper than pydantic's parser reads


def variant(**changes) -> bytes:
    fields = {**PLAIN, **changes}
    text = json.dumps({k: v for k, v in fields.items() if v is not DROPPED}, ensure_ascii=False)
    return text.replace('"@deep"', NESTED_TOO_DEEP).encode()


DROPPED = object()
VARIANTS = [
    variant(),
    variant(id=DROPPED),
    variant(time=DROPPED),
    variant(specversion=DROPPED),
    variant(datacontenttype=DROPPED, actor=DROPPED),
    variant(actor=None, traceparent=None),
    variant(traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    variant(specversion="1.1"),
    variant(specversion=1.0),
    variant(datacontenttype=None),
    variant(actor=7),
    variant(aggregateversion="3"),
    variant(aggregateversion=3.0),
    variant(aggregateversion=True),
    variant(aggregateversion=2**63),
    variant(aggregateversion=-(2**63)),
    variant(time="2026-01-01T08:00:00Z"),
    variant(time="2026-01-01T08:00:00.5+08:00"),
    variant(time="2026-01-01T08:00:00-00:00"),
    variant(time="2026-01-01T08:00:00.1234567Z"),
    variant(time="2026-01-01T08:00:00"),
    variant(time="2026-01-01 08:00:00Z"),
    variant(time="2026-01-01"),
    variant(time="2026-02-30T08:00:00Z"),
    variant(time="2026-01-01T24:00:00Z"),
    variant(time="2026-01-01T08:00:00+23:59"),
    variant(time=1767254400),
    variant(type="zhichan.enforcement.case.filed.v1\n"),
    variant(type="enforcement.case.filed"),
    variant(type=None),
    variant(subject=DROPPED),
    variant(region=321102),
    variant(data=[]),
    variant(data={"deep": "@deep"}),
    variant(data={"big": 2**70, "small": -(2**70), "f": 1e300, "inf": 1e400}),
    variant(data={"名称": "知信", "escaped": "\u00e9\\n"}),
    variant(extra="allowed", region_note={"a": 1}),
    b'{"id": "x", "id": 1, "source": "s", "type": "zhichan.a.b.c.v1", "subject": "b/1", "time": "2026-01-01T00:00:00Z",'
    b' "region": "1", "aggregateversion": 1, "data": {}}',
    b'{"id": 1, "id": "x", "source": "s", "type": "zhichan.a.b.c.v1", "subject": "b/1", "time": "2026-01-01T00:00:00Z",'
    b' "region": "1", "aggregateversion": 1, "data": {}}',
    b"[]",
    b"not json",
    b'{"data": NaN}',
    b"\xff\xfe",
]


@pytest.mark.parametrize("raw", VARIANTS)
def test_the_plain_reading_accepts_only_what_the_model_accepts_with_the_same_values(raw):
    fields = read_plain(raw)
    if fields is None:
        return  # the model decides (the replay asks it)
    assert as_model_reads(fields) == Envelope.from_json(raw).model_dump()


def as_model_reads(fields: dict) -> dict:
    """``fields`` with the defaults the model fills in for what an envelope leaves out."""
    return {name: info.default for name, info in Envelope.model_fields.items() if not info.is_required()} | fields


def test_what_our_producers_write_is_read_plainly():
    # The replay's saving: the events our services publish never need the model.
    original = make()
    assert as_model_reads(read_plain(original.to_json())) == original.model_dump()
    assert read_plain(variant()) is not None
