import pytest
from pydantic import ValidationError

from zhichan.events.envelope import Envelope, event_type


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
