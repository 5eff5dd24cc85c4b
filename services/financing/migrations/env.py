from sqlmodel import SQLModel

import services.financing.models  # noqa: F401 - registers the tables
import zhichan.api.idempotency  # noqa: F401 - registers the kernel tables
import zhichan.events.consumer  # noqa: F401 - inbox and consumer positions
import zhichan.events.outbox  # noqa: F401
import zhichan.region_sync  # noqa: F401 - custom regions replicated from targets
from zhichan.migrate import run_env

run_env(SQLModel.metadata)
