"""Give every events partition a committed offset before the worker's first start.

Faust (faust-streaming 0.11) seeks back to the *committed* offsets after a rebalance or a
table recovery, and drops what it had fetched in between. A partition of a new consumer
group has no committed offset, so that seek does nothing there: the consumer keeps its
fetch position, past messages it fetched before the rebalance and never delivered, and the
first offset it commits jumps over them (the kill -9 test lost 63,913 events of a
partition this way). Committing the log start for such partitions, before Faust joins the
group, makes that seek always land where processing stopped.
"""

from __future__ import annotations

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from streams.errors import BrokerError


def commit_start_where_missing(bootstrap_servers: str, group: str, topic: str) -> dict[int, int]:
    """Commit the earliest offset for each partition of `topic` that `group` has no
    committed offset for; returns what was committed, by partition."""
    try:
        consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group,
                                 enable_auto_commit=False)
    except KafkaError as e:
        raise BrokerError(f"cannot reach {bootstrap_servers} to prepare group {group}: {e}") from e
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        missing = [tp for tp in tps if consumer.committed(tp) is None]
        if not missing:
            return {}
        start = consumer.beginning_offsets(missing)
        consumer.commit({tp: OffsetAndMetadata(start[tp], "", -1) for tp in missing})
        return {tp.partition: start[tp] for tp in missing}
    except KafkaError as e:
        raise BrokerError(f"cannot commit start offsets for group {group}: {e}") from e
    finally:
        consumer.close()
