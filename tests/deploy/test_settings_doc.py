"""The settings table in deploy/README.md is the one generated from the settings classes."""

from __future__ import annotations

import pytest

from gateway.settings import GatewaySettings
from tests.deploy.compose_file import ROOT
from zhichan import settings_doc
from zhichan.settings_doc import (
    BEGIN,
    END,
    main,
    platform_variables,
    process_variables,
    render_table,
    replace_table,
    settings_class,
)
from zhichan.stack import PROCESSES

README = ROOT / "deploy" / "README.md"


class UndocumentedGatewaySettings(GatewaySettings):
    retries: int = 3


def test_the_readme_has_the_generated_table():
    readme = README.read_text(encoding="utf-8")
    assert replace_table(readme, render_table()) == readme, (
        "run: python -m zhichan.settings_doc --write deploy/README.md"
    )
    assert main(["--check", str(README)]) == 0


def test_a_stale_table_is_found_and_rewritten(tmp_path, capsys):
    stale = tmp_path / "README.md"
    stale.write_text(README.read_text(encoding="utf-8").replace("| `ZHICHAN_LOG_LEVEL` |", "| `ZHICHAN_LOGLEVEL` |"))
    assert main(["--check", str(stale)]) == 1
    assert "stale" in capsys.readouterr().err
    assert main(["--write", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == README.read_text(encoding="utf-8")


def test_every_variable_a_process_reads_has_a_row():
    table = render_table()
    for process in PROCESSES:
        prefix = f"{process.upper()}_"
        for variable in process_variables(process):
            generic = variable.replace(prefix, "<PROCESS>_", 1) if variable.startswith(prefix) else variable
            assert f"| `{variable}` |" in table or f"| `{generic}` |" in table, variable
    assert "| `ZHICHAN_JWT_SECRET` | — |" in table
    assert "| `GATEWAY_CONSUMER_GROUP` | `zhichan-gateway` |" in table
    assert "| `<PROCESS>_MIGRATE_ON_START` | `true` |" in table


def test_the_gateway_reads_its_own_settings_and_the_services_do_not():
    assert settings_class("gateway") is GatewaySettings
    assert {"GATEWAY_TARGETS_URL", "GATEWAY_PORT", "ZHICHAN_KAFKA_BOOTSTRAP"} <= process_variables("gateway")
    assert "TARGETS_TARGETS_URL" not in process_variables("targets")
    assert "TARGETS_NAME" not in process_variables("targets"), "the name is given by the code"
    assert platform_variables() <= process_variables("agencies")


def test_a_setting_without_a_description_is_refused(monkeypatch):
    monkeypatch.setitem(settings_doc.PROCESS_SETTINGS, "gateway", f"{__name__}:{UndocumentedGatewaySettings.__name__}")
    with pytest.raises(ValueError, match="retries has no description"):
        render_table()


def test_a_document_without_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        replace_table("# no table here\n", render_table())
    assert render_table().startswith(BEGIN) and render_table().endswith(END)
