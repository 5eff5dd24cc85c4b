"""Gateway settings (prefix ``GATEWAY_``)."""

from __future__ import annotations

from pydantic import Field

from zhichan.settings import DEFAULT_PORTS, ProcessSettings


class GatewaySettings(ProcessSettings):
    targets_url: str = Field(f"http://127.0.0.1:{DEFAULT_PORTS['targets']}", description="Targets service base URL.")
    enforcement_url: str = Field(
        f"http://127.0.0.1:{DEFAULT_PORTS['enforcement']}", description="Enforcement service base URL."
    )
    financing_url: str = Field(
        f"http://127.0.0.1:{DEFAULT_PORTS['financing']}", description="Financing service base URL."
    )
    agencies_url: str = Field(f"http://127.0.0.1:{DEFAULT_PORTS['agencies']}", description="Agencies service base URL.")
    consumer_group: str = Field("zhichan-gateway", description="Kafka consumer group of the read model.")
    proxy_timeout_seconds: float = Field(30.0, description="Timeout of a request forwarded to a service.")
    sse_streams_per_holder: int = Field(
        5,
        gt=0,
        description="Event streams (`/api/progress/stream`) one caller may hold open at a time: counted by the "
        "token's `sub`, or by the client's address without a token. One more answers 429 with Retry-After.",
    )
    sse_streams_total: int = Field(
        1000,
        gt=0,
        description="Event streams this gateway process holds open in all; one more answers 429 with Retry-After.",
    )
    recent_events_per_region: int = Field(
        100,
        ge=20,
        description="Events kept per region for the region overview's latest events (it shows a region's 20 "
        "newest, its descendants' included); older ones are pruned every `GATEWAY_PRUNE_INTERVAL_SECONDS`, and "
        "`zhichan gateway rebuild` keeps as many.",
    )
    alert_due_soon_days: int = Field(
        7, ge=0, description="An alert is raised this many days before a case's or a complaint's deadline."
    )
    alert_scan_seconds: float = Field(
        60.0,
        gt=0,
        description="How often the gateway raises the alerts whose day has come (a deadline passes with no event); "
        "events applied wake it at once.",
    )
    webhook_retry_seconds: list[float] = Field(
        [5, 300, 1800, 7200, 18000, 36000, 36000],
        description="Waits before each retry of a webhook delivery that failed (the Standard Webhooks schedule: 5 s, "
        "5 min, 30 min, 2 h, 5 h, 10 h, 10 h); after the last, the delivery is dead-lettered (`failed`) until "
        "redelivered by hand. JSON list of seconds.",
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, description="A webhook receiver must answer within this; else the attempt failed."
    )
    webhook_secret_grace_hours: float = Field(
        24.0,
        ge=0,
        description="After a webhook's secret is rotated, deliveries are signed with the old one too for this long.",
    )
    webhook_poll_seconds: float = Field(
        5.0,
        gt=0,
        description="How often the gateway looks for webhook deliveries due (retries; deliveries another gateway "
        "process created). New events wake it at once.",
    )
    webhook_concurrency: int = Field(8, gt=0, description="Webhook deliveries this gateway process sends at a time.")

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url")
