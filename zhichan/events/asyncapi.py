"""AsyncAPI 2.6 document and JSON Schemas, generated from a service's ``contracts.py``.

A contracts module lists ``EVENTS``: a mapping of event type → (payload model, summary).
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

from pydantic import BaseModel

from zhichan.events.envelope import Envelope, topic_of


@cache
def _schema(model: type[BaseModel]) -> dict:
    """A model's JSON Schema, built once per process: many event types share one payload model,
    and building schemas dominated the creation of an app."""
    return model.model_json_schema(mode="serialization")


def event_schemas(contracts: ModuleType) -> dict[str, dict]:
    schemas = {}
    for type_, (model, _summary) in contracts.EVENTS.items():
        schemas[type_] = _schema(model)
    return schemas


def asyncapi_document(service: str, contracts: ModuleType) -> dict:
    messages = {}
    for type_, (model, summary) in contracts.EVENTS.items():
        model: type[BaseModel]
        messages[type_] = {
            "name": type_,
            "title": type_,
            "summary": summary,
            "contentType": "application/cloudevents+json",
            "payload": {
                "allOf": [
                    _schema(Envelope),
                    {"properties": {"type": {"const": type_}, "data": _schema(model)}},
                ]
            },
        }
    return {
        "asyncapi": "2.6.0",
        "info": {
            "title": f"zhichan {service} events",
            "version": "1.0.0",
            "description": "CloudEvents 1.0 (structured JSON). Message key: the aggregate id. "
            "`data` is the aggregate's full state after the change.",
        },
        "channels": {
            topic_of(service): {
                "publish": {"message": {"oneOf": [{"$ref": f"#/components/messages/{t}"} for t in messages]}}
            }
        },
        "components": {"messages": messages},
    }
