#!/usr/bin/env bash
# Creates the platform's topics and their dead-letter topics, once, before any process starts
# (run by the kafka-init container of docker-compose.yml, in the apache/kafka image).
#   KAFKA_BOOTSTRAP            host:port of a broker
#   ZHICHAN_TOPICS             one topic per service and the alerts: "zhichan.targets … zhichan.alerts"
#   ZHICHAN_TOPIC_PARTITIONS   partitions per topic: the most consumers of one group that get work
#   REPLICATION_FACTOR         copies of each partition (1 on a single broker)
# Existing topics are left alone: to add partitions later, use kafka-topics.sh --alter.
set -euo pipefail

kafka_topics="${KAFKA_HOME:-/opt/kafka}/bin/kafka-topics.sh"
for topic in ${ZHICHAN_TOPICS:?list the topics}; do
    # The event topics keep every event (the read model can be rebuilt from them); the
    # dead-letter topics keep what could not be read for 30 days.
    for spec in "$topic retention.ms=-1" "$topic.dlq retention.ms=2592000000"; do
        read -r name config <<< "$spec"
        "$kafka_topics" --bootstrap-server "${KAFKA_BOOTSTRAP:?}" --create --if-not-exists \
            --topic "$name" --partitions "${ZHICHAN_TOPIC_PARTITIONS:?}" \
            --replication-factor "${REPLICATION_FACTOR:-1}" --config "$config"
    done
done
"$kafka_topics" --bootstrap-server "$KAFKA_BOOTSTRAP" --describe
