"""The AsyncAPI document: every reference resolves from the document's root."""

import json
import re
from types import ModuleType

import jsonschema
import pytest
from pydantic import BaseModel

from zhichan.events.asyncapi import asyncapi_document
from zhichan.events.envelope import CONTENT_TYPE, Envelope, event_type


class Party(BaseModel):
    name: str


class CaseState(BaseModel):
    id: str
    parties: list[Party]


class WatchState(BaseModel):
    id: str
    party: Party


CONTRACTS = ModuleType("probe_contracts")  # a service's contracts.py, as the document reads it
CONTRACTS.EVENTS = {
    event_type("probe", "case", "filed"): (CaseState, "A case filed"),
    event_type("probe", "case", "closed"): (CaseState, "A case closed"),
    event_type("probe", "watch", "entered"): (WatchState, "A watch-list entry"),
}


def test_nested_models_are_components_and_every_reference_resolves_from_the_root():
    document = asyncapi_document("probe", CONTRACTS)
    assert "Party" in document["components"]["schemas"]
    for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(document)):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]  # a KeyError names a reference to nowhere
    message = document["components"]["messages"]["zhichan.probe.watch.entered.v1"]
    assert message["headers"]["properties"]["content-type"]["const"] == CONTENT_TYPE

    def validate(envelope: Envelope) -> None:
        schema = {"$ref": f"#/components/messages/{envelope.type}/payload", "components": document["components"]}
        jsonschema.validate(json.loads(envelope.to_json()), schema, cls=jsonschema.Draft202012Validator)

    good = {"id": "W1", "party": {"name": "知信"}}
    envelope = Envelope(
        source="/zhichan/probe",
        type="zhichan.probe.watch.entered.v1",
        subject="watch/W1",
        region="320311",
        aggregateversion=1,
        data=good,
    )
    validate(envelope)
    envelope.data = {"id": "W1", "party": {}}
    with pytest.raises(jsonschema.ValidationError, match="'name' is a required property"):
        validate(envelope)
