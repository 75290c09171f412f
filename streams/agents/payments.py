"""The payments agent: validate, pseudonymise and count distinct beneficiaries per commune."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import faust
import orjson
from faust.streams import Stream, _current_event
from faust.types import EventT, StreamT

from streams.aggregation import Bucket, CommuneId, bucket_key, commune_of, count, merge
from streams.ingest import Rejected, ingest
from streams.pseudonym import Pseudonymizer
from streams.settings import Settings
from streams.sink import ClickHouseSink, now_utc

log = logging.getLogger(__name__)

TOTALS_TABLE = "commune_payment_totals"
DEAD_LETTERS_TABLE = "dead_letters"


@contextmanager
def event_scope(event: EventT) -> Iterator[None]:
    """Make `event` Faust's current event while a table key is written.

    Faust routes a table write to the changelog partition of the current event; inside
    `take_events` there is none, so we set it, as Faust's own iteration does.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def totals_row(commune: CommuneId, counts: dict[str, int]) -> dict[str, Any]:
    """A commune_payment_totals row. The version is the write time in ns: every snapshot is
    recounted from the full state, so the latest one is the most complete."""
    return {
        "period": commune.period,
        "province_code": commune.province_code,
        "commune_code": commune.commune_code,
        **counts,
        "version": time.time_ns(),
        "updated_at": now_utc(),
    }


def dead_letter(
    event: EventT, rejected: Rejected
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The dead-letter record (no payload: it may hold a citizen ID) and KIP-298 headers."""
    message = event.message
    record = {
        "received_at": now_utc(),
        "source_topic": message.topic,
        "source_partition": message.partition,
        "source_offset": message.offset,
        "error_class": rejected.error_class,
        "reason": rejected.reason,
    }
    headers = [
        ("__connect.errors.topic", message.topic.encode()),
        ("__connect.errors.partition", str(message.partition).encode()),
        ("__connect.errors.offset", str(message.offset).encode()),
        ("__connect.errors.exception.class.name", rejected.error_class.encode()),
        ("__connect.errors.exception.message", rejected.reason.encode()),
    ]
    return record, headers


def register_payments_agent(
    app: faust.App, settings: Settings, sink: ClickHouseSink, pseudonymize: Pseudonymizer
) -> None:
    """Attach the payments agent and its state table to `app`."""
    events_topic = app.topic(
        settings.events_topic,
        key_serializer="raw",
        value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    dead_letter_topic = app.topic(
        settings.dead_letter_topic, key_serializer="raw", value_serializer="raw", partitions=1
    )
    buckets = app.Table("beneficiary-buckets", default=None)

    async def payments(stream: StreamT) -> None:
        batches = cast(Stream, stream).take_events(
            settings.batch_max_events, settings.batch_within_s
        )
        async for batch in batches:
            changed: dict[str, Bucket] = {}
            carrier: dict[str, EventT] = {}
            communes: dict[str, CommuneId] = {}
            dead: list[tuple[dict[str, Any], list[tuple[str, bytes]]]] = []
            for event in batch:
                try:
                    fact = ingest(event.value, pseudonymize).payment_fact()
                except Rejected as rejected:
                    dead.append(dead_letter(event, rejected))
                    continue
                if fact is None:
                    continue
                key = bucket_key(fact)
                updated = merge(changed.get(key) or buckets.get(key), fact)
                if updated is not None:
                    changed[key], carrier[key] = updated, event
                    commune = commune_of(fact)
                    communes[commune.key] = commune
            for key, bucket in changed.items():
                with event_scope(carrier[key]):
                    buckets[key] = bucket
            rows = [
                totals_row(c, count(buckets.get(k) for k in c.bucket_keys()))
                for c in communes.values()
            ]
            await sink.write(TOTALS_TABLE, rows)
            if dead:
                await sink.write(DEAD_LETTERS_TABLE, [record for record, _ in dead])
                for record, headers in dead:
                    await dead_letter_topic.send(value=orjson.dumps(record), headers=headers)
                log.warning("dead-lettered %d events in a batch of %d", len(dead), len(batch))

    app.agent(events_topic, name="payments")(payments)
