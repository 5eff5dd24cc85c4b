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

    def service_url(self, service: str) -> str:
        return getattr(self, f"{service}_url")
