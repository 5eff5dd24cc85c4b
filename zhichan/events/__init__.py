"""Events: the CloudEvents envelope, the transactional outbox and its relay, the consumer."""

from zhichan.events.envelope import Envelope, event_type, topic_of
from zhichan.events.outbox import OutboxEvent, record_event

__all__ = ["Envelope", "OutboxEvent", "event_type", "record_event", "topic_of"]
