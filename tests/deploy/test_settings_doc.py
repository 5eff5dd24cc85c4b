"""The settings table in deploy/README.md is the one generated from the settings classes, and it is
complete: every field of every settings class that any process reads has its row, under the
variable the class really reads, named by the convention and read by no other field."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
from pathlib import Path
from unittest import mock

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.settings import GatewaySettings
from services.agencies.settings import AgenciesRules
from tests.deploy.compose_file import ROOT
from zhichan import settings_doc
from zhichan.settings import PlatformSettings, ProcessSettings, process_settings
from zhichan.settings_doc import (
    BEGIN,
    END,
    main,
    platform_variables,
    process_fields,
    process_variables,
    render_table,
    replace_table,
    settings_class,
    settings_rows,
)
from zhichan.stack import PROCESSES

README = ROOT / "deploy" / "README.md"
PACKAGES = ("zhichan", "services", "gateway")
KERNEL_CLASSES = {PlatformSettings: "ZHICHAN_", ProcessSettings: "<PROCESS>_"}


def defined_settings_classes() -> dict[type[BaseSettings], str]:
    """Every settings class the code defines, found by importing every module of the three packages
    (not their tests or migrations), each with the package that owns it: ``zhichan`` or a process."""
    found = {}
    for root in PACKAGES:
        package = importlib.import_module(root)
        for module_info in pkgutil.walk_packages(package.__path__, f"{root}."):
            parts = module_info.name.split(".")
            if "tests" in parts or "migrations" in parts:
                continue
            module = importlib.import_module(module_info.name)
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, BaseSettings) and value.__module__ == module.__name__:
                    found[value] = "zhichan" if root == "zhichan" else parts[1] if root == "services" else root
    return found


def expected_variables(cls: type[BaseSettings], process: str | None) -> dict[str, str]:
    """Field name → the variable pydantic-settings reads it from, worked out here and not by
    settings_doc: the kernel's prefixes, process_settings()'s for a ProcessSettings subclass,
    the class's own env_prefix otherwise."""
    if cls in KERNEL_CLASSES:
        prefix = KERNEL_CLASSES[cls]
    elif issubclass(cls, ProcessSettings):
        prefix = f"{process.upper()}_"
    else:
        prefix = cls.model_config["env_prefix"]
    given_by_code = {"name"} if issubclass(cls, ProcessSettings) else set()
    return {name: f"{prefix}{name}".upper() for name in cls.model_fields if name not in given_by_code}


def sample(cls: type[BaseSettings], name: str) -> tuple[str, object]:
    """A value for the field other than its default: (what the environment holds, what it parses to)."""
    field = cls.model_fields[name]
    default = field.get_default(call_default_factory=True)
    optional = [a for a in getattr(field.annotation, "__args__", ()) if a is not type(None)]
    annotation = optional[0] if type(None) in getattr(field.annotation, "__args__", ()) else field.annotation
    low = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), 1)
    if annotation is bool:
        return ("false", False) if default else ("true", True)
    if annotation is int:
        return str(low + 1), low + 1
    if annotation is float:
        return "2.5", 2.5
    if annotation is str:  # long enough for a secret (ZHICHAN_JWT_SECRET needs 32 bytes)
        return "sample-value-of-thirty-two-bytes-or-more", "sample-value-of-thirty-two-bytes-or-more"
    if annotation is Path:
        return "/srv/sample", Path("/srv/sample")
    if annotation == dict[str, str]:
        return '{"sample":"value"}', {"sample": "value"}
    if annotation == dict[str, int]:
        changed = {key: value + 1 for key, value in default.items()}
        return json.dumps(changed), changed
    if annotation == list[float]:
        return "[1.5, 60]", [1.5, 60.0]
    raise AssertionError(f"{cls.__name__}.{name}: teach this test a sample of {field.annotation!r}")


def build(cls: type[BaseSettings], process: str | None, environ: dict[str, str]) -> BaseSettings:
    with mock.patch.dict(os.environ, environ, clear=True):
        if issubclass(cls, ProcessSettings):
            return process_settings(process, base=cls)
        return cls()


def rows_by_variable() -> dict[str, settings_doc.Setting]:
    return {row.variable: row for row in settings_rows()}


def test_the_readme_has_the_generated_table():
    readme = README.read_text(encoding="utf-8")
    assert replace_table(readme, render_table()) == readme, (
        "run: python -m zhichan.settings_doc --write deploy/README.md"
    )
    assert main(["--check", str(README)]) == 0


def test_a_stale_table_is_found_and_rewritten(tmp_path, capsys):
    stale = tmp_path / "README.md"
    readme = README.read_text(encoding="utf-8")
    stale.write_text(readme.replace("| `AGENCIES_COMPLAINT_HANDLING_WORKING_DAYS` |", "| `AGENCIES_DAYS` |"))
    assert main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["--write", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == readme


def test_every_settings_class_in_the_code_is_one_the_generator_reads():
    classes = defined_settings_classes()
    assert {PlatformSettings, ProcessSettings, GatewaySettings, AgenciesRules} <= set(classes)
    for cls, owner in classes.items():
        if owner == "zhichan":
            assert cls in KERNEL_CLASSES, f"{cls.__name__}: a new kernel settings class; teach zhichan.settings_doc"
        else:
            assert cls in settings_doc.settings_classes(owner), (
                f"{cls.__module__}.{cls.__name__}: {owner}'s settings belong in {settings_doc.settings_module(owner)}"
            )


def test_every_field_of_every_settings_class_has_its_row():
    rows = rows_by_variable()
    for cls, owner in defined_settings_classes().items():
        process = None if owner == "zhichan" else owner
        for name, variable in expected_variables(cls, process).items():
            field = cls.model_fields[name]
            # a field every process has is one row, <PROCESS>_…
            generic = variable.replace(f"{process.upper()}_", "<PROCESS>_", 1) if process else variable
            row = rows.get(variable) or (rows.get(generic) if name in ProcessSettings.model_fields else None)
            assert row is not None, f"{cls.__name__}.{name} ({variable}) has no row"
            assert row.meaning == field.description.replace("|", "\\|"), variable
            assert row.type and row.default, variable
    assert rows["AGENCIES_COMPLAINT_HANDLING_WORKING_DAYS"] == settings_doc.Setting(
        "AGENCIES_COMPLAINT_HANDLING_WORKING_DAYS",
        "integer, 1–250",
        "`15`",
        "Working days a complaint may take, counted from the day after it is received.",
    )
    assert rows["AGENCIES_DRAW_GRADE_WEIGHTS"].type == "JSON object (string → integer)"
    assert rows["AGENCIES_DRAW_GRADE_WEIGHTS"].default == '`{"A":1,"B":1,"C":2,"D":3}`'
    assert rows["ZHICHAN_JWT_SECRET"].default == "—" and rows["ZHICHAN_JWT_SECRET"].type == "string"
    assert rows["GATEWAY_CONSUMER_GROUP"].default == "`zhichan-gateway`"
    assert rows["<PROCESS>_MIGRATE_ON_START"].type == "boolean"


def test_each_documented_variable_is_the_one_its_class_reads():
    """Set the variable the table names, and the class takes the value: the name is not a guess."""
    for process in PROCESSES:
        for variable, field in process_fields(process).items():
            text, value = sample(field.owner, field.name)
            built = build(field.owner, process, {variable: text})
            assert getattr(built, field.name) == value, f"{variable} does not set {field.owner.__name__}.{field.name}"


def test_every_variable_is_named_by_the_convention_and_read_once_per_process():
    for process in PROCESSES:
        fields = process_fields(process)
        own = f"{process.upper()}_"
        for variable, field in fields.items():
            prefix = "ZHICHAN_" if field.owner is PlatformSettings else own
            assert re.fullmatch(rf"{prefix}[A-Z][A-Z0-9]*(_[A-Z0-9]+)*", variable), variable
        expected = sum(
            len(expected_variables(cls, process))
            for cls in (PlatformSettings, settings_class(process), *settings_doc.rule_classes(process))
        )
        assert len(fields) == expected, f"{process}: two fields read one variable"


def test_every_variable_a_process_reads_has_a_row():
    table = render_table()
    for process in PROCESSES:
        prefix = f"{process.upper()}_"
        for variable in process_variables(process):
            generic = variable.replace(prefix, "<PROCESS>_", 1) if variable.startswith(prefix) else variable
            assert f"| `{variable}` |" in table or f"| `{generic}` |" in table, variable
    assert "| `ZHICHAN_JWT_SECRET` | string | — |" in table
    assert "| `GATEWAY_CONSUMER_GROUP` | string | `zhichan-gateway` |" in table
    assert "| `<PROCESS>_MIGRATE_ON_START` | boolean | `true` |" in table


def test_each_process_reads_its_own_settings_and_no_other_process_s():
    assert settings_class("gateway") is GatewaySettings
    assert settings_class("agencies") is ProcessSettings
    assert settings_doc.rule_classes("agencies") == [AgenciesRules]
    assert {"GATEWAY_TARGETS_URL", "GATEWAY_PORT", "ZHICHAN_KAFKA_BOOTSTRAP"} <= process_variables("gateway")
    rules = {"AGENCIES_COMPLAINT_HANDLING_WORKING_DAYS", "AGENCIES_DRAW_GRADE_WEIGHTS"}
    assert rules <= process_variables("agencies")
    for process in set(PROCESSES) - {"agencies"}:
        assert not rules & process_variables(process)
    assert "TARGETS_TARGETS_URL" not in process_variables("targets")
    assert "TARGETS_NAME" not in process_variables("targets"), "the name is given by the code"
    assert platform_variables() <= process_variables("agencies")


# What the generator refuses: each would make the table wrong or a variable ambiguous.


class UndocumentedRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCIES_")
    retries: int = 3


class ClashingRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCIES_")
    port: int = Field(9000, description="Would be read from AGENCIES_PORT, which ProcessSettings reads.")


class MisprefixedRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCY_")
    retries: int = Field(3, description="Read from AGENCY_RETRIES: not the agencies' prefix.")


class AliasedRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCIES_")
    retries: int = Field(3, alias="RETRIES", description="Read from RETRIES alone, without the prefix.")


class LowerCaseNamedRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCIES_")
    retries: int = Field(3, alias="AGENCIES_retry-count", description="Not upper-case words joined by _.")


class OddlyTypedRules(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AGENCIES_")
    window: range = Field(range(3), description="A type the table cannot name.")


@pytest.mark.parametrize(
    "cls, message",
    [
        (UndocumentedRules, "UndocumentedRules.retries has no description"),
        (ClashingRules, "AGENCIES_PORT is read by both ProcessSettings.port and ClashingRules.port"),
        (MisprefixedRules, "MisprefixedRules reads AGENCY_…; the agencies process reads AGENCIES_…"),
        (AliasedRules, "RETRIES does not start with AGENCIES_"),
        (LowerCaseNamedRules, "is not upper-case words joined by _"),
        (OddlyTypedRules, "no name for the type"),
    ],
)
def test_a_setting_the_table_cannot_document_is_refused(monkeypatch, cls, message):
    real = settings_doc.settings_classes
    monkeypatch.setattr(settings_doc, "settings_classes", lambda p: [cls] if p == "agencies" else real(p))
    with pytest.raises(ValueError, match=re.escape(message)):
        render_table()


def test_a_process_has_at_most_one_process_settings_class(monkeypatch):
    class Other(GatewaySettings):
        pass

    monkeypatch.setattr(settings_doc, "settings_classes", lambda p: [GatewaySettings, Other])
    with pytest.raises(ValueError, match="more than one ProcessSettings subclass"):
        settings_class("gateway")


def test_a_document_without_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        replace_table("# no table here\n", render_table())
    assert render_table().startswith(BEGIN) and render_table().endswith(END)
