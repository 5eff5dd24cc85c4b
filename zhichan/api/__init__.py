"""HTTP conventions shared by every process: problems, pagination, idempotency, ETags."""
