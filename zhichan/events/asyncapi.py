"""AsyncAPI 2.6 document and JSON Schemas, generated from a service's ``contracts.py``.

A contracts module lists ``EVENTS``: a mapping of event type → (payload model, summary).
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from zhichan.events.envelope import CONTENT_TYPE, Envelope, topic_of

SCHEMAS = "#/components/schemas/"


@cache
def _schemas(contracts: ModuleType) -> tuple[dict[type[BaseModel], dict], dict[str, dict]]:
    """The envelope's and every payload model's JSON Schema, built once per process (building
    schemas dominated the creation of an app), and the definitions of the models they nest, for
    ``components.schemas``. Built together, so a nested model is defined once and every
    reference resolves from the document's root, as AsyncAPI tools resolve them."""
    models = [Envelope, *dict.fromkeys(model for model, _summary in contracts.EVENTS.values())]
    refs, definitions = models_json_schema(
        [(model, "serialization") for model in models], ref_template=SCHEMAS + "{model}"
    )
    definitions = definitions.get("$defs", {})
    schemas = {model: definitions[refs[(model, "serialization")]["$ref"].removeprefix(SCHEMAS)] for model in models}
    return schemas, definitions


def event_schemas(contracts: ModuleType) -> dict[str, dict]:
    """Each type's ``data`` schema, standing alone (its nested models under ``$defs``)."""
    return {
        type_: model.model_json_schema(mode="serialization") for type_, (model, _summary) in contracts.EVENTS.items()
    }


# The Kafka record's headers (the CloudEvents Kafka binding, structured mode).
HEADERS = {
    "type": "object",
    "properties": {
        "content-type": {"const": CONTENT_TYPE},
        "traceparent": {"type": "string", "description": "W3C trace context of the change, when there was one"},
    },
    "required": ["content-type"],
}


def asyncapi_document(service: str, contracts: ModuleType) -> dict:
    schemas, definitions = _schemas(contracts)
    messages = {}
    for type_, (model, summary) in contracts.EVENTS.items():
        messages[type_] = {
            "name": type_,
            "title": type_,
            "summary": summary,
            "contentType": "application/cloudevents+json",
            "headers": HEADERS,
            "payload": {
                "allOf": [schemas[Envelope], {"properties": {"type": {"const": type_}, "data": schemas[model]}}],
            },
        }
    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": f"zhichan {service} events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0, structured JSON mode: the record's value is the envelope, its "
            f"`content-type` header `{CONTENT_TYPE}`. Message key: the aggregate id. "
            "`data` is the aggregate's full state after the change.",
        },
        "channels": {
            topic_of(service): {
                "publish": {"message": {"oneOf": [{"$ref": f"#/components/messages/{t}"} for t in messages]}}
            }
        },
        "components": {"schemas": definitions, "messages": messages},
    }
