from sqlmodel import SQLModel

import gateway.alerts.models  # noqa: F401 - alerts (branch "webhooks", as the gateway's own records)
import gateway.models  # noqa: F401 - registers the read model's tables
import gateway.webhooks.models  # noqa: F401 - subscriptions and deliveries (branch "webhooks")
import zhichan.events.consumer  # noqa: F401 - inbox and consumer positions
import zhichan.events.outbox  # noqa: F401 - the alerts' outbox (branch "webhooks")
import zhichan.region_sync  # noqa: F401 - custom regions
from zhichan.migrate import run_env

run_env(SQLModel.metadata)
