from sqlmodel import SQLModel

import services.financing.models  # noqa: F401 - registers the tables
import zhichan.api.idempotency  # noqa: F401 - registers the kernel tables
import zhichan.events.outbox  # noqa: F401
from zhichan.migrate import run_env

run_env(SQLModel.metadata)
