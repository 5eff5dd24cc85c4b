"""Settings, read from the environment (pydantic-settings).

Everything that is the same for the whole platform has the prefix ``ZHICHAN_``; what a process
owns has its own prefix (``AGENCIES_DATABASE_URL``, ``GATEWAY_PORT`` …). Settings are built in
the app's lifespan or the CLI, never at import time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Signs development tokens only; refused unless dev mode is on.
DEV_JWT_SECRET = "zhichan-development-secret-do-not-deploy-0123456789"
# The issuer (``iss``) of the tokens `zhichan token` signs, and the one expected by default.
DEV_JWT_ISSUER = "zhichan-dev"
# RFC 7518 §3.2: an HS256 key at least as long as the hash (256 bits).
MIN_JWT_SECRET_BYTES = 32

# A 5 MiB plan file (the largest the targets service imports) and a multipart form's envelope.
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024 + 64 * 1024

DEFAULT_PORTS = {"gateway": 8000, "targets": 8001, "enforcement": 8002, "financing": 8003, "agencies": 8004}


class PlatformSettings(BaseSettings):
    """What all processes share: the bus, the token keys, dev mode."""

    model_config = SettingsConfigDict(env_prefix="ZHICHAN_", extra="ignore")

    dev_mode: bool = Field(False, description="Development mode: allows the development JWT secret.")
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (host:port,…).")
    kafka_idempotent_producer: bool = Field(
        False, description="Idempotent producer; on for Apache Kafka, off for the embedded Tansu."
    )
    topic_partitions: int = Field(3, description="Partitions per topic when the platform creates them.")
    jwt_secret: str | None = Field(
        None,
        description=f"HS256 secret signing and verifying tokens (`zhichan token`); at least {MIN_JWT_SECRET_BYTES} "
        "bytes (`openssl rand -hex 32`).",
    )
    jwt_public_key: str | None = Field(
        None, description="The identity provider's PEM public key verifying its tokens (RS256 or ES256)."
    )
    jwt_jwks_url: str | None = Field(
        None,
        description="The identity provider's JWKS URL (Keycloak: `…/realms/<realm>/protocol/openid-connect/certs`): "
        "its signing keys verify its tokens; a token naming an unknown `kid` fetches the keys again.",
    )
    jwt_jwks_cache_seconds: float = Field(
        300, gt=0, description="How old the JWKS keys may get before they are fetched again (in the background)."
    )
    jwt_jwks_refetch_seconds: float = Field(
        30,
        ge=0,
        description="Least time between two fetches of the JWKS for a token whose `kid` is unknown: "
        "a flood of made-up `kid`s costs the identity provider one request per this long.",
    )
    jwt_issuer: str = Field(
        DEV_JWT_ISSUER,
        description="Expected `iss` claim: tokens of any other issuer are refused. `zhichan token` signs with it; "
        "with an identity provider, its issuer URL.",
    )
    jwt_leeway_seconds: float = Field(
        30,
        ge=0,
        le=300,
        description="Clock skew tolerated between the identity provider and this process when checking a token's "
        "`exp` and `iat`: a token issued by a clock a few seconds ahead is not refused as 'not yet valid'.",
    )
    jwt_audience: str | None = Field(
        None,
        description="Expected `aud` claim; required with `ZHICHAN_JWT_PUBLIC_KEY` or `ZHICHAN_JWT_JWKS_URL` "
        "(the client id Zhichan's tokens are issued for), checked with the secret when set.",
    )
    jwt_roles_claim: str = Field(
        "roles",
        description="Where a token holds the roles: a claim, or a dotted path into nested claims "
        "(Keycloak: `realm_access.roles`). A string is split at commas and spaces.",
    )
    jwt_regions_claim: str = Field(
        "regions", description="Where a token holds the region codes: a claim or a dotted path (`zhichan_regions`)."
    )
    jwt_department_claim: str = Field(
        "department", description="Where a token holds the department: a claim or a dotted path."
    )
    jwt_role_map: dict[str, str] = Field(
        default_factory=dict,
        description='The identity provider\'s role names → Zhichan roles (`{"zhichan-officer":"officer"}`). '
        "When set, only the roles it names count; when empty, roles are taken by their names.",
    )
    idempotency_ttl_hours: float = Field(
        24,
        gt=0,
        description="How long an `Idempotency-Key` is remembered: an older one is forgotten and may be used anew "
        "(the services purge them on writes, at most hourly).",
    )
    targets_url: str = Field(
        f"http://127.0.0.1:{DEFAULT_PORTS['targets']}",
        description="The targets service's base URL: a service that meets a region code it does not know asks "
        "it (`GET /regions/{code}`) before refusing, so a region is usable everywhere once its creation is answered.",
    )
    var_dir: Path = Field(Path("var"), description="Where SQLite files and logs go by default.")
    log_level: str = Field("INFO", description="Log level of the JSON logs.")
    relay_poll_seconds: float = Field(
        1.0, description="Outbox relay: longest wait between polls when no commit wakes it."
    )

    @field_validator("jwt_secret", "jwt_public_key", "jwt_jwks_url", "jwt_audience", mode="before")
    @classmethod
    def empty_is_unset(cls, value: object) -> object:
        # docker compose passes an unset variable as an empty string (`${ZHICHAN_JWT_PUBLIC_KEY:-}`)
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("jwt_secret")
    @classmethod
    def refuse_a_short_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(
                f"ZHICHAN_JWT_SECRET is {len(value.encode())} bytes long; an HS256 secret needs at least "
                f"{MIN_JWT_SECRET_BYTES} (make one with `openssl rand -hex 32`)"
            )
        return value

    @model_validator(mode="after")
    def refuse_dev_secret_outside_dev(self) -> PlatformSettings:
        if not self.dev_mode and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError("ZHICHAN_JWT_SECRET is the development secret; set a real one or dev mode")
        return self

    @property
    def token_secret(self) -> str | None:
        return self.jwt_secret or (DEV_JWT_SECRET if self.dev_mode else None)


class ProcessSettings(BaseSettings):
    """What one process owns. Built per process with :func:`process_settings`, which reads
    variables prefixed with the process's upper-case name (``AGENCIES_PORT`` …)."""

    model_config = SettingsConfigDict(extra="ignore")

    name: str
    host: str = Field("127.0.0.1", description="Address the HTTP server binds.")
    port: int | None = Field(None, description="HTTP port (default: 8000 gateway, 8001–8004 services).")
    database_url: str | None = Field(None, description="SQLAlchemy async URL; default SQLite under var/.")
    migrate_on_start: bool = Field(True, description="Run Alembic migrations when the process starts.")
    relay_enabled: bool = Field(True, description="Publish the outbox from this process.")
    forwarded_allow_ips: str = Field(
        "127.0.0.1,::1",
        description="Peers whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or networks, "
        "comma-separated; empty: none): for a service, the gateway's address; for the gateway, the "
        "reverse proxy in front of it. From any other peer these headers are ignored.",
    )

    max_body_bytes: int = Field(
        DEFAULT_MAX_BODY_BYTES,
        gt=0,
        description="Largest request body in bytes; a larger one is refused with 413 before it is read (from its "
        "Content-Length, or counted as a chunked body streams in). The default fits a 5 MiB plan file sent as a "
        "multipart form.",
    )

    inbox_retention_days: float = Field(
        30,
        ge=0,
        description="How long a consumer keeps the id of an event it applied (the `inbox` table), so that the "
        "same event delivered again is skipped; older ids are pruned every `<PROCESS>_PRUNE_INTERVAL_SECONDS`. An "
        "event delivered again after that is applied again, which changes nothing (states are applied by version, "
        "records by id). 0 keeps every id.",
    )
    prune_interval_seconds: float = Field(
        3600,
        gt=0,
        description="How often the process prunes what its retention settings let go (the inbox; the gateway's "
        "recent events), in small transactions outside request handling.",
    )

    import_job_rows: int = Field(
        2000,
        gt=0,
        description="An import of records (`POST /api/cases/import`) with more rows than this runs as a job: the "
        "answer is 202 with the job's Location, polled for progress. The job lives in the process's memory.",
    )

    @property
    def http_port(self) -> int:
        return self.port or DEFAULT_PORTS.get(self.name, 8000)

    def resolved_database_url(self, platform: PlatformSettings) -> str:
        if self.database_url:
            return self.database_url
        platform.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(platform.var_dir / f'{self.name}.db').resolve()}"


def process_settings(name: str, base: type[ProcessSettings] = ProcessSettings, **overrides) -> ProcessSettings:
    """Settings of one process; the environment wins over defaults, ``overrides`` over both."""
    cls = type(
        f"{name.title()}Settings",
        (base,),
        {"model_config": SettingsConfigDict(env_prefix=f"{name.upper()}_", extra="ignore")},
    )
    return cls(name=name, **overrides)


@lru_cache
def platform_settings() -> PlatformSettings:
    return PlatformSettings()
