"""Tansu's ListOffsets under-reports log ends; `exact_end_offsets` reads the truth. Apache
Kafka answers the log end itself, so it needs no workaround (run on both)."""

from __future__ import annotations

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.harness.broker import EmbeddedBroker
from streams.replay.end_offsets import exact_end_offsets
from streams.replay.kafka_io import ensure_topics
from tests.support.kafka_server import KafkaServer
from tests.support.names import unique

pytestmark = pytest.mark.integration


def produce_in_one_batch(bootstrap: str, topic: str, partition: int, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=200, batch_size=1 << 20)
    for i in range(count):
        producer.send(topic, value=f"record {i}".encode(), partition=partition)
    producer.flush()
    producer.close()


def test_exact_end_offsets_count_every_record_of_the_last_batch(
    any_broker: EmbeddedBroker | KafkaServer,
) -> None:
    bootstrap = any_broker.bootstrap_servers
    topic = unique("changelog")
    ensure_topics(bootstrap, {topic: 3})
    produce_in_one_batch(bootstrap, topic, 0, 1)  # batch of 1: base 0
    produce_in_one_batch(bootstrap, topic, 0, 10)  # batch of 10: base 1
    produce_in_one_batch(bootstrap, topic, 1, 7)
    tps = [TopicPartition(topic, p) for p in range(3)]
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    reported = {(tp.topic, tp.partition): end for tp, end in consumer.end_offsets(tps).items()}
    consumer.close()

    exact = exact_end_offsets(bootstrap, reported)

    assert exact == {(topic, 0): 11, (topic, 1): 7, (topic, 2): 0}
    if isinstance(any_broker, KafkaServer):
        # Apache Kafka answers ListOffsets(latest) past the last record: a consumer gets the
        # high watermark (core/.../cluster/Partition.scala, fetchOffsetForTimestamp:
        # lastFetchableOffset), which on one replica is the log end once acks=all writes are
        # acknowledged (the log end itself: storage/.../log/UnifiedLog.java,
        # fetchOffsetByTimestamp, LATEST_TIMESTAMP). Server mode needs no
        # BROKER_EXACT_END_OFFSETS.
        assert reported == exact
    else:
        # What the fix is for: Tansu's answer stops inside the last batch (2 here). Should a
        # newer Tansu answer 11, this fails, and streams/replay/end_offsets.py can go.
        assert reported[(topic, 0)] < exact[(topic, 0)]
        assert reported[(topic, 0)] == 2
