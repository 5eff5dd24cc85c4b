"""The gateway: one entry point for the four services, and the read model that turns their
events into progress (metrics, plan views, region overview, scorecard)."""
