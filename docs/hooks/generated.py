"""MkDocs hook: the tables the documentation takes from the code, generated at build time.

A page asks for one with an HTML comment on a line of its own; the hook replaces it with
Markdown, so the published tables are always the code's, never a hand copy that goes stale:

- ``<!-- generated: events SERVICE -->`` — the event types of ``services/SERVICE/contracts.py``
  (or the gateway's alerts: ``alerts``), its ``EVENTS`` dict, and the fields of each payload model;
- ``<!-- generated: metrics -->`` — the metric catalogue (:mod:`zhichan.metrics_catalogue`);
- ``<!-- generated: statistics -->`` — the built-in statistics (:mod:`zhichan.statistics_catalogue`);
- ``<!-- generated: units -->`` — the units an indicator may use, by family;
- ``<!-- generated: labels MODULE.NAME -->`` — a vocabulary (code → Chinese label) of the code;
- ``<!-- generated: routes -->`` — which service owns each ``/api/<resource>`` of the gateway.

The settings table is not made here: the deployment page includes ``deploy/README.md``, whose
table ``zhichan.settings_doc`` generates.

The comment may be indented (inside a tab or an admonition); the table is indented alike.

An unknown directive, or a name the code does not have, fails the build.
"""

from __future__ import annotations

import datetime
import decimal
import importlib
import logging
import re
import types
import typing
from collections.abc import Mapping

from pydantic import BaseModel

DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)<!-- generated: (?P<what>[a-z]+)(?: (?P<arg>[\w.]+))? -->[ \t]*$", re.MULTILINE
)
SERVICES = ("targets", "enforcement", "financing", "agencies")
# What publishes events besides the services: the gateway's alerts.
CONTRACTS = {**{s: f"services.{s}.contracts" for s in SERVICES}, "alerts": "gateway.alerts.contracts"}


def on_config(config):
    # The search plugin's jieba announces every dictionary it loads; a strict build prints only findings.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return config


def on_page_markdown(markdown: str, page, config, files) -> str:
    def replace(found: re.Match) -> str:
        text = _render(found["what"], found["arg"], page.file.src_uri)
        # Indented like the comment, so a table can stand in a tab or an admonition.
        return "\n".join(found["indent"] + line if line else line for line in text.splitlines())

    return DIRECTIVE.sub(replace, markdown)


def _render(what: str, arg: str | None, where: str) -> str:
    renderers = {
        "events": _events,
        "metrics": _metrics,
        "statistics": _statistics,
        "units": _units,
        "labels": _labels,
        "routes": _routes,
    }
    if what not in renderers:
        raise ValueError(f"{where}: unknown directive 'generated: {what}'; known: {', '.join(renderers)}")
    return renderers[what](arg)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- events ------------------------------------------------------------------------------------


def _events(service: str | None) -> str:
    if service not in CONTRACTS:
        raise ValueError(f"generated: events needs one of {', '.join(CONTRACTS)}, not {service!r}")
    contracts = importlib.import_module(CONTRACTS[service])
    rows = []
    payloads: list[type[BaseModel]] = []
    for event_type, (model, summary) in contracts.EVENTS.items():
        aggregate = event_type.split(".")[2]
        rows.append((f"`{event_type}`", f"`{aggregate}`", f"[`{model.__name__}`](#{_anchor(model)})", summary))
        if model not in payloads:
            payloads.append(model)
    parts = [_table(("type", "aggregate", "data", "what happened"), rows)]
    for model in _with_nested(payloads):
        parts.append(_model_fields(model))
    return "\n\n".join(parts)


def _anchor(model: type[BaseModel]) -> str:
    """``targets-planstate``; a kernel model (the region's state): ``kernel-regionstate``."""
    parts = model.__module__.split(".")
    owner = parts[1] if parts[0] in ("services", "gateway") else "kernel"
    return f"{owner}-{model.__name__}".lower()


def _with_nested(models: list[type[BaseModel]]) -> list[type[BaseModel]]:
    """The models and every model their fields name, each once, in the order first met."""
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for field in model.model_fields.values():
            for inner in _models_in(field.annotation):
                visit(inner)

    for model in models:
        visit(model)
    return seen


def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _model_fields(model: type[BaseModel]) -> str:
    doc = " ".join((model.__doc__ or "").split())
    rows = [
        (f"`{name}`", _type_text(field.annotation), field.description or "")
        for name, field in model.model_fields.items()
    ]
    bases = [b for b in model.__bases__ if issubclass(b, BaseModel) and b is not BaseModel]
    intro = ""
    if bases:  # a subclass lists only what it adds
        intro = f"Every field of [`{bases[0].__name__}`](#{_anchor(bases[0])}), and: "
        rows = [row for row in rows if row[0].strip("`") not in bases[0].model_fields]
    heading = f'#### `{model.__name__}` {{ #{_anchor(model)} data-toc-label="{model.__name__}" }}'
    return "\n\n".join(part for part in (heading, intro + doc, _table(("field", "type", "meaning"), rows)) if part)


_SCALARS = {
    str: "string",
    int: "integer",
    bool: "boolean",
    float: "number",
    decimal.Decimal: "decimal string",
    datetime.date: "date",
    datetime.datetime: "date-time (UTC)",
    typing.Any: "any",
}


def _type_text(annotation: object) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0])
    if origin in (typing.Union, types.UnionType):
        others = [a for a in args if a is not type(None)]
        text = " or ".join(_type_text(a) for a in others)
        return f"{text}, or null" if len(others) < len(args) else text
    if origin is typing.Literal:
        return " or ".join(f'`"{a}"`' for a in args)
    if origin is list:
        return f"list of {_type_text(args[0])}"
    if origin is dict:
        return f"map of {_type_text(args[0])} to {_type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[`{annotation.__name__}`](#{_anchor(annotation)})"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    raise ValueError(f"no text for the type {annotation!r}; teach docs/hooks/generated.py")


# --- metrics, units, labels --------------------------------------------------------------------


def _metrics(_arg: str | None) -> str:
    from zhichan.metrics_catalogue import CATALOGUE, KINDS

    rows = []
    for metric in CATALOGUE.values():
        filters = "<br>".join(
            f"`{f.name}`: " + ", ".join(f"`{str(v).lower() if isinstance(v, bool) else v}`" for v in f.values)
            for f in metric.filters.values()
        )
        unit = metric.unit or "the indicator's"
        rows.append((f"`{metric.name}`", metric.description, metric.kind, unit, metric.dated_by, filters or "—"))
    kinds = "\n".join(f"- `{kind}` — {text}" for kind, text in KINDS.items())
    table = _table(("metric", "what it counts", "kind", "unit", "placed in time by", "filters"), rows)
    return f"{table}\n\nKinds:\n\n{kinds}"


def _statistics(_arg: str | None) -> str:
    from zhichan.statistics_catalogue import BUILT_IN

    rows = [
        (f"`{s.code}`", s.name, s.unit, s.kind, "yes" if s.additive else "no", s.description) for s in BUILT_IN.values()
    ]
    return _table(("code", "中文名称", "unit", "kind", "additive", "what it is"), rows)


def _units(_arg: str | None) -> str:
    from zhichan.metrics_catalogue import UNIT_FAMILIES
    from zhichan.money import MONEY_UNITS

    families: dict[str, list[str]] = {}
    for unit, family in UNIT_FAMILIES.items():
        families.setdefault(family, []).append(unit)
    notes = {
        "money": "converted exactly: " + ", ".join(f"1 {u} = {MONEY_UNITS[u]:,} 元" for u in list(MONEY_UNITS)[1:]),
        "count": "counts of any kind read one another 1:1 (a metric counted in 场 can be read as 次);"
        " a count in 万 is 10,000 of them (1 万人 = 10,000 人)",
        "percent": "rates only",
        "score": "reported only: no metric is counted in it",
    }
    rows = [(family, " ".join(f"`{u}`" for u in units), notes.get(family, "")) for family, units in families.items()]
    return _table(("family", "units", "conversion"), rows)


def _labels(name: str | None) -> str:
    module, _, attribute = (name or "").rpartition(".")
    vocabulary = getattr(importlib.import_module(module), attribute)
    if not isinstance(vocabulary, Mapping):
        raise ValueError(f"generated: labels {name} is not a mapping of code to label")
    return _table(("code", "中文"), [(f"`{code}`", label) for code, label in vocabulary.items()])


# --- the gateway's routes ------------------------------------------------------------------------


def _routes(_arg: str | None) -> str:
    from gateway.proxy import DISCLOSURE_OWNERS, RESOURCE_OWNERS, SERVICE_DOCUMENTS

    rows = [(f"`/api/{resource}…`", service) for resource, service in RESOURCE_OWNERS.items()]
    rows += [(f"`/api/disclosure/{resource}…`", service) for resource, service in DISCLOSURE_OWNERS.items()]
    for service, documents in SERVICE_DOCUMENTS.items():
        rows += [(f"`/api/meta/{service}/{name}`", f"{service} (`/{path}`)") for name, path in documents.items()]
    rows.append(("`/api/progress/…`", "the gateway itself (read model)"))
    rows.append(("`/api/alerts…`", "the gateway itself ([alerts](events.md#alerts))"))
    rows.append(("`/api/webhooks…`", "the gateway itself ([webhooks](webhooks.md))"))
    return _table(("path", "answered by"), rows)
