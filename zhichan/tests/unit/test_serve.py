"""``zhichan serve`` believes forwarding headers only from the peers its settings name."""

from __future__ import annotations

import argparse

import pytest
import uvicorn
import uvicorn.importer

from zhichan import cli


@pytest.fixture
def served(monkeypatch):
    """What ``zhichan serve`` hands uvicorn, without serving."""
    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.setattr(uvicorn.importer, "import_from_string", lambda path: lambda: object())
    monkeypatch.setattr("zhichan.observability.configure_logging", lambda level: None)
    monkeypatch.setattr(cli.gc, "freeze", lambda: None)

    def serve(process: str) -> dict:
        cli.cmd_serve(argparse.Namespace(process=process))
        return calls[-1]

    return serve


def test_forwarding_headers_are_believed_from_the_local_host_only_by_default(served, monkeypatch):
    monkeypatch.delenv("ENFORCEMENT_FORWARDED_ALLOW_IPS", raising=False)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's own variable no longer decides
    options = served("enforcement")
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == "127.0.0.1,::1"


def test_the_trusted_proxies_are_a_setting_of_each_process(served, monkeypatch):
    monkeypatch.setenv("ENFORCEMENT_FORWARDED_ALLOW_IPS", "10.0.3.0/24")
    monkeypatch.setenv("GATEWAY_FORWARDED_ALLOW_IPS", "")
    assert served("enforcement")["forwarded_allow_ips"] == "10.0.3.0/24"
    assert served("gateway")["forwarded_allow_ips"] == ""
