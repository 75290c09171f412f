"""Exact end offsets for brokers whose ListOffsets under-reports them (Tansu).

Tansu answers ListOffsets(latest) with the first offset of a partition's last record batch
plus one, not the log end: ten records produced in one batch move the answer by one. Faust
recovers a table by reading its changelog up to that answer, so the rest of the last batch
would be lost after a restart (and a RocksDB store refuses to start: "persisted offset >
highwater").

The fix here reads the truth instead of trusting the answer: for each partition, fetch from
(answer - 1), which is the last batch's first offset, and take the offset after the last
record of that batch. A fetch returns whole batches, so one batch read is enough.
`streams.faust_ext.install_exact_highwaters` puts this behind Faust's consumer highwaters,
which recovery uses; it is turned on for the embedded broker only
(`BROKER_EXACT_END_OFFSETS`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from streams.errors import BrokerError

PROBE_TIMEOUT_S = 15.0


def exact_end_offsets(
    bootstrap_servers: str, reported: Mapping[tuple[str, int], int]
) -> dict[tuple[str, int], int]:
    """The true log end of each (topic, partition), given the broker's ListOffsets answer."""
    exact = {tp: end for tp, end in reported.items() if end <= 0}
    wanted = {
        TopicPartition(topic, partition): end
        for (topic, partition), end in reported.items()
        if end > 0
    }
    if not wanted:
        return exact
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=15_000,
        )
    except KafkaError as e:
        raise BrokerError(f"cannot probe end offsets at {bootstrap_servers}: {e}") from e
    try:
        consumer.assign(list(wanted))
        for tp, end in wanted.items():
            consumer.seek(tp, end - 1)
        deadline = time.monotonic() + PROBE_TIMEOUT_S
        while any(consumer.position(tp) < end for tp, end in wanted.items()):
            if time.monotonic() > deadline:
                raise BrokerError(
                    "timed out reading the last record batches of "
                    f"{sorted(str(tp) for tp in wanted)}"
                )
            consumer.poll(timeout_ms=200)
        for tp in wanted:
            exact[(tp.topic, tp.partition)] = consumer.position(tp)
    finally:
        consumer.close()
    return exact
