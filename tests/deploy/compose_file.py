"""Reading docker-compose.yml the way Compose does (YAML, then ``${…}`` interpolation), and
building the code's own settings objects from an environment taken from it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from pydantic_settings import BaseSettings

from zhichan.settings import PlatformSettings, ProcessSettings, process_settings
from zhichan.settings_doc import rule_classes, settings_class

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = "deploy/Dockerfile"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}, ${NAME:+alt}, $NAME, $$
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(KeyError):
    """A ``${NAME:?…}`` whose variable is not set: Compose refuses to start."""


def interpolate(value: str, environ: Mapping[str, str]) -> str:
    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        current = environ.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in ("-", ":-"):
            return arg if unset else current
        if op in ("?", ":?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return current
        if op in ("+", ":+"):
            return "" if unset else arg
        return current or ""

    return _VARIABLE.sub(substitute, value)


def _interpolate_all(node: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, environ)
    if isinstance(node, dict):
        return {key: _interpolate_all(value, environ) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate_all(item, environ) for item in node]
    return node


def raw_compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def required_variables() -> set[str]:
    """Variables the file refuses to run without (``${NAME:?…}``)."""
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    return {m["braced"] for m in _VARIABLE.finditer(text) if m["op"] in ("?", ":?")}


def load_compose(environ: Mapping[str, str]) -> dict:
    return _interpolate_all(raw_compose(), environ)


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "NAME=value" form
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def zhichan_services(compose: dict) -> dict[str, dict]:
    """The services that run the image built from deploy/Dockerfile: ours."""
    return {
        name: service
        for name, service in compose["services"].items()
        if (service.get("build") or {}).get("dockerfile") == DOCKERFILE
    }


def served_process(service: dict) -> str | None:
    command = service.get("command") or []
    return command[2] if command[:2] == ["zhichan", "serve"] and len(command) == 3 else None


def _with_environ(env: Mapping[str, str], build):
    # Only what the compose file gives: nothing from the environment the tests run in.
    with mock.patch.dict(os.environ, dict(env), clear=True):
        return build()


def platform_from(env: Mapping[str, str]) -> PlatformSettings:
    return _with_environ(env, PlatformSettings)


def process_from(process: str, env: Mapping[str, str]) -> ProcessSettings:
    return _with_environ(env, lambda: process_settings(process, base=settings_class(process)))


def all_settings_from(process: str, env: Mapping[str, str]) -> list[BaseSettings]:
    """Every settings object ``zhichan serve <process>`` builds, from that environment alone: the
    platform's, the process's, and its other settings classes (the agencies' supervision rules)."""
    return [
        platform_from(env),
        process_from(process, env),
        *(_with_environ(env, cls) for cls in rule_classes(process)),
    ]
