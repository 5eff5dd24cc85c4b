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

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url")
