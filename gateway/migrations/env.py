from sqlmodel import SQLModel

import gateway.models  # noqa: F401 - registers the read model's tables
import gateway.webhooks.models  # noqa: F401 - subscriptions and deliveries (branch "webhooks")
import zhichan.events.consumer  # noqa: F401 - inbox and consumer positions
import zhichan.region_sync  # noqa: F401 - custom regions
from zhichan.migrate import run_env

run_env(SQLModel.metadata)
