"""The payments agent: validate, pseudonymise, keep beneficiary state, sink statistics.

Per batch of messages (at most `batch_max_bytes`, at most `batch_within_s` apart), where a
message is one event or a payment file of many:
1. ingest each event; bad ones become dead letters (table and topic, KIP-298 headers, the
   index of the event in its file);
2. merge payment events into the beneficiary buckets (Faust table) and access-point events
   into the access-point GlobalTable; changed keys are written once per batch;
3. recount every touched commune from its buckets, derive its alerts, and write the rows;
4. only then return, so Faust acknowledges the batch's offsets after the rows are stored.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import traceback
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import faust
import orjson
from faust.streams import _current_event
from faust.types import EventT, StreamT

from streams.access import access_point_row, merge_access_point
from streams.aggregation import (
    Bucket,
    CommuneId,
    ConflictingDuplicate,
    Stats,
    Status,
    bucket_key,
    bucket_statuses,
    commune_key_of_bucket,
    merge_into,
    stats_by_programme,
    status_of,
    total,
)
from streams.alerts import (
    Alert,
    AlertRules,
    alert_key,
    beneficiary_alerts,
    cleared,
    low_rate,
    rate_drop,
)
from streams.app import reread_skipped
from streams.batching import BatchingStream
from streams.durable_tables import ChangelogReceipts
from streams.ingest import (
    Arrival,
    Ingested,
    MessageResult,
    PaymentFact,
    Rejected,
    Rejection,
    ingest_message,
    redact,
)
from streams.ingest_pool import IngestPool
from streams.pseudonym import Pseudonymizer
from streams.settings import Settings
from streams.sink import ClickHouseSink, now_utc

log = logging.getLogger(__name__)

STATS_TABLE = "commune_programme_stats"
DEAD_LETTERS_TABLE = "dead_letters"
ALERTS_TABLE = "alerts"
ACCESS_POINTS_TABLE = "access_points"
HEALTH_TABLE = "pipeline_health"
RAISED_ALERTS_SQL = """
SELECT kind, period, province_code, commune_code, subject
FROM alerts FINAL
WHERE active = 1
"""


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


def dead_letter(
    event: EventT, rejected: Rejected, index: int = 0
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The dead-letter record (no payload: it may hold a citizen ID) and KIP-298 headers.

    `index` is the event's position in its payment file (from 1), 0 for the message itself.
    """
    message = event.message
    record = {
        "received_at": now_utc(),
        "source_topic": message.topic,
        "source_partition": message.partition,
        "source_offset": message.offset,
        "source_index": index,
        "error_class": rejected.error_class,
        "reason": rejected.reason,
    }
    headers = [
        ("__connect.errors.topic", message.topic.encode()),
        ("__connect.errors.partition", str(message.partition).encode()),
        ("__connect.errors.offset", str(message.offset).encode()),
        ("__connect.errors.exception.class.name", rejected.error_class.encode()),
        ("__connect.errors.exception.message", rejected.reason.encode()),
        ("welfare.errors.file.index", str(index).encode()),
    ]
    return record, headers


def receipts(*tables: Any) -> list[Any]:
    """The futures of the tables' changelog writes since the last call."""
    return [future for table in tables if isinstance(table, ChangelogReceipts)
            for future in table.take_receipts()]


async def sent(results: list[Any]) -> None:
    """Wait until messages handed to the producer are acknowledged by the broker."""
    futures = [r for r in results if isinstance(r, asyncio.Future)]
    if futures:
        await asyncio.gather(*futures)


@dataclass
class Health:
    """What the worker did since the last health row."""

    events: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    latest_event_ms: int | None = None
    since: float = field(default_factory=time.monotonic)

    def saw(self, occurred_ms: int) -> None:
        """Note an event time, for freshness."""
        if self.latest_event_ms is None or occurred_ms > self.latest_event_ms:
            self.latest_event_ms = occurred_ms

    def row(self, worker: str, lag: int) -> dict[str, Any]:
        """The pipeline_health row for the interval; resets the counters."""
        now = now_utc()
        elapsed = max(time.monotonic() - self.since, 1e-6)
        latest = (datetime.fromtimestamp(self.latest_event_ms / 1000, UTC)
                  if self.latest_event_ms is not None else None)
        row = {
            "at": now, "worker": worker, "events": self.events,
            "events_per_s": round(self.events / elapsed, 1),
            "dead_letters": sum(self.dead_letters.values()),
            "dead_letters_by_class": dict(self.dead_letters),
            "consumer_lag": lag, "latest_event_at": latest,
            "freshness_s": (now - latest).total_seconds() if latest else None,
        }
        self.events, self.dead_letters, self.since = 0, Counter(), time.monotonic()
        return row


@dataclass
class BatchOutput:
    """What one batch produced. The carriers are the events whose partition a table write
    goes to (the write's changelog record follows the event that caused it)."""

    changed: dict[str, Bucket] = field(default_factory=dict)  # buckets to write, by key
    changed_beneficiaries: dict[str, set[str]] = field(default_factory=dict)  # by bucket
    carrier: dict[str, EventT] = field(default_factory=dict)  # by bucket key
    access: dict[str, dict[str, Any]] = field(default_factory=dict)  # rows to rewrite
    access_changed: dict[str, EventT] = field(default_factory=dict)  # to write, by id
    communes: dict[tuple[str, int, int], CommuneId] = field(default_factory=dict)
    dead: list[tuple[dict[str, Any], list[tuple[str, bytes]]]] = field(default_factory=list)


class PaymentsAgent:
    """The agent's state and its per-batch work; Faust objects are passed in."""

    def __init__(
        self,
        settings: Settings,
        sink: ClickHouseSink,
        pseudonymize: Pseudonymizer,
        buckets: Any,
        access_points: Any,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.pseudonymize = pseudonymize
        self.buckets = buckets
        self.access_points = access_points
        self.rules = AlertRules(settings.alert_cashless_target, settings.alert_rate_drop_points,
                                settings.alert_min_beneficiaries)
        self.health = Health()
        self._bucket_statuses: dict[str, dict[str, Status]] = {}
        self._commune_stats: dict[str, dict[str, Stats]] = {}
        # Alerts raised in ClickHouse, by commune key; loaded from ClickHouse at the first
        # batch, so a restarted worker clears what its predecessor raised.
        self._raised: dict[str, set[str]] | None = None
        self._version = 0
        self.batches_done = 0  # acknowledged batches (set by the agent loop)

    def next_version(self) -> int:
        """A row version: the time in ns, strictly increasing within this worker."""
        self._version = max(time.time_ns(), self._version + 1)
        return self._version

    def statuses_of(self, bucket_key_: str) -> dict[str, Status]:
        """A bucket's beneficiaries and their statuses; kept up to date by `changed`."""
        cached = self._bucket_statuses.get(bucket_key_)
        if cached is None:
            cached = self._bucket_statuses[bucket_key_] = bucket_statuses(
                self.buckets.get(bucket_key_))
        return cached

    def commune_stats(self, commune: CommuneId) -> dict[str, Stats]:
        """A commune's statistics per programme, counted from its buckets' cached statuses
        (one Stats per programme, not one per bucket); cached until a bucket changes."""
        cached = self._commune_stats.get(commune.key)
        if cached is None:
            cached = self._commune_stats[commune.key] = stats_by_programme(
                self.statuses_of(k).items() for k in commune.bucket_keys())
        return cached

    def changed(self, bucket_key_: str, bucket: Bucket, beneficiaries: set[str]) -> None:
        """Bring the cached statuses up to date with a changed bucket (only the
        beneficiaries that changed are derived again) and drop the commune's statistics."""
        statuses = self._bucket_statuses.get(bucket_key_)
        if statuses is not None:
            for beneficiary in beneficiaries:
                statuses[beneficiary] = status_of(bucket[beneficiary])
        self._commune_stats.pop(commune_key_of_bucket(bucket_key_), None)

    def drop_caches(self) -> None:
        """Forget every cached status and statistic (after a rebalance: the tables may have
        been recovered or handed over)."""
        self._bucket_statuses.clear()
        self._commune_stats.clear()

    def _take(self, event: EventT, result: MessageResult, out: BatchOutput) -> int:
        """Merge one message's ingested events into the batch's pending state, dead-letter
        the bad ones; returns how many events the message held."""
        is_file, items = result
        for index, item in enumerate(items, start=1 if is_file else 0):
            if isinstance(item, Rejection):
                self._reject(event, item.error_class, item.reason, index, out)
                continue
            self.health.saw(item.occurred_ms)
            if isinstance(item, Ingested):
                if item.event_type.startswith("access_point."):
                    self._take_access_point(event, item, out)
                continue  # roster events: the denominator comes from payment.scheduled
            try:
                self._take_fact(event, item, out)
            except ConflictingDuplicate as e:
                self._reject(event, "conflicting_duplicate", str(e), index, out)
        return len(items)

    def _reject(self, event: EventT, error_class: str, reason: str, index: int,
                out: BatchOutput) -> None:
        out.dead.append(dead_letter(event, Rejected(error_class, reason), index))
        self.health.dead_letters[error_class] += 1

    def _take_fact(self, event: EventT, fact: PaymentFact, out: BatchOutput) -> None:
        key = bucket_key(fact)
        pending = out.changed.get(key)
        if pending is not None:
            if merge_into(pending, fact):
                out.changed_beneficiaries[key].add(fact.beneficiary)
        else:
            current = self.buckets.get(key)
            pending = dict(current) if current else {}
            if merge_into(pending, fact):
                out.changed[key], out.carrier[key] = pending, event
                out.changed_beneficiaries[key] = {fact.beneficiary}
        # The commune's rows are rewritten even when the event changed nothing: after a crash
        # between the changelog and the ClickHouse write, reprocessing restores the rows.
        commune = (fact.period, fact.province_code, fact.commune_code)
        if commune not in out.communes:
            out.communes[commune] = CommuneId(*commune)

    def _take_access_point(self, event: EventT, ingested: Ingested, out: BatchOutput) -> None:
        payload = ingested.payload
        ap_id = payload["access_point_id"]
        current = out.access.get(ap_id) or self.access_points.get(ap_id)
        record = merge_access_point(current, ingested.event_type, ingested.occurred_ms, payload)
        if record is not None:
            out.access[ap_id], out.access_changed[ap_id] = record, event
        elif current is not None:
            out.access[ap_id] = current  # rewrite the row: it may have been lost in a crash

    def alerts_of(self, commune: CommuneId, stats: Stats) -> list[Alert]:
        """Every alert that holds for the commune now."""
        previous = commune.previous()
        before_stats = self.commune_stats(previous)  # empty when nobody is known there
        before = total(before_stats) if before_stats else None
        held = [a for a in (low_rate(commune, stats, self.rules),
                            rate_drop(commune, stats, before, self.rules)) if a.active]
        return held + beneficiary_alerts(commune, stats)

    async def process(self, batch: Sequence[EventT], alerts_topic: Any,
                      dead_letter_topic: Any,
                      ingested: Sequence[MessageResult] | None = None) -> list[Any]:
        """Handle one batch (`ingested`: what each message became, when ingested
        elsewhere); returns once its rows are in ClickHouse, with the futures of its
        changelog writes: the batch is done when they are acknowledged too."""
        if self._raised is None:
            await self._load_raised()
        # From the first table read to the last statistics read nothing awaits, so Faust
        # cannot run a rebalance or a table recovery in between: the state this batch reads
        # is the state it writes (an await here once let a batch read a table emptied by a
        # rebalance and write it back truncated).
        out = BatchOutput()
        if ingested is None:
            arrival = Arrival.at()
            ingested = [ingest_message(e.value, self.pseudonymize, arrival) for e in batch]
        for event, result in zip(batch, ingested, strict=True):
            self.health.events += self._take(event, result, out)
        for key, bucket in out.changed.items():
            with event_scope(out.carrier[key]):
                self.buckets[key] = bucket
            self.changed(key, bucket, out.changed_beneficiaries[key])
        for ap_id, carrier in out.access_changed.items():
            with event_scope(carrier):
                self.access_points[ap_id] = out.access[ap_id]
        version, at = self.next_version(), now_utc()
        stats_rows: list[dict[str, Any]] = []
        holding: dict[str, list[Alert]] = {}
        touched = {commune.key: commune for commune in out.communes.values()}
        for commune in out.communes.values():
            following = commune.next()
            if following.key not in touched and self.commune_stats(following):
                touched[following.key] = following  # its drop alert compares with this one
        batch_communes = set(out.communes.values())
        for key, commune in touched.items():
            per_programme = self.commune_stats(commune)
            if commune in batch_communes:
                for programme, stats in sorted(per_programme.items()):
                    stats_rows.append({
                        "period": commune.period, "province_code": commune.province_code,
                        "commune_code": commune.commune_code, "programme": programme,
                        **stats.row(), "version": version, "updated_at": at,
                    })
            holding[key] = self.alerts_of(commune, total(per_programme))
        changelog = receipts(self.buckets, self.access_points)
        await self.sink.write(STATS_TABLE, stats_rows)
        await self.sink.write(ACCESS_POINTS_TABLE, [
            {**access_point_row(r), "updated_at": at} for r in out.access.values()
        ])
        await self._write_alerts(holding, version, at, alerts_topic)
        if out.dead:
            await self.sink.write(DEAD_LETTERS_TABLE, [record for record, _ in out.dead])
            await sent([await dead_letter_topic.send(value=orjson.dumps(record), headers=headers)
                        for record, headers in out.dead])
            log.warning("dead-lettered %d events in a batch of %d messages", len(out.dead),
                        len(batch))
        return changelog

    async def _load_raised(self) -> None:
        """The alerts ClickHouse holds as raised, so a restarted worker clears them."""
        raised: dict[str, set[str]] = {}
        for r in await self.sink.query(RAISED_ALERTS_SQL):
            commune = CommuneId(r["period"], int(r["province_code"]), int(r["commune_code"]))
            raised.setdefault(commune.key, set()).add(alert_key(r["kind"], commune, r["subject"]))
        self._raised = raised

    async def _write_alerts(
        self, holding: dict[str, list[Alert]], version: int, at: datetime, alerts_topic: Any
    ) -> None:
        """Store the alerts that hold (their figures move on) and clear those that stopped;
        announce raises and clears on the alerts topic."""
        raised = self._raised if self._raised is not None else {}
        rows, announce = [], []
        for commune_key, alerts in holding.items():
            before = raised.get(commune_key, set())
            now = {a.key for a in alerts}
            ended = [cleared(key) for key in sorted(before - now)]
            rows += [a.row(version, at) for a in alerts + ended]
            announce += [a for a in alerts if a.key not in before] + ended
            raised[commune_key] = now
        await self.sink.write(ALERTS_TABLE, rows)
        await sent([await alerts_topic.send(key=alert.key.encode(),
                                            value=orjson.dumps(alert.row(version, at)))
                    for alert in announce])

    def lag(self, app: faust.App) -> int:
        """Events waiting on this worker's partitions of the events topic (-1: unknown)."""
        try:
            consumer = app.consumer
            lag = 0
            for tp in consumer.assignment():
                if tp.topic != self.settings.events_topic:
                    continue
                read = consumer._read_offset.get(tp)  # type: ignore[attr-defined]  # no public API
                highwater = consumer.highwater(tp)
                if highwater is not None and highwater >= 0:
                    lag += max(0, highwater - (read + 1 if read is not None else 0))
            return lag
        except Exception:
            return -1


def register_payments_agent(
    app: faust.App, settings: Settings, sink: ClickHouseSink, pool: IngestPool
) -> PaymentsAgent:
    """Attach the payments agent, its tables and the health timer to `app`."""
    events_topic = app.topic(
        settings.events_topic, key_serializer="raw", value_serializer="raw",
        partitions=settings.topic_partitions,
    )
    dead_letter_topic = app.topic(
        settings.dead_letter_topic, key_serializer="raw", value_serializer="raw", partitions=1
    )
    alerts_topic = app.topic(
        settings.alerts_topic, key_serializer="raw", value_serializer="raw", partitions=1
    )
    agent = PaymentsAgent(
        settings, sink, pool.pseudonymize,
        buckets=app.Table("beneficiary-buckets", default=None),
        access_points=app.GlobalTable(
            "access-points", default=None, partitions=1, recovery_buffer_size=1,
            use_partitioner=True,
        ),
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"

    generation: int | None = None
    confirming: set[asyncio.Task[None]] = set()

    async def confirm(stream: BatchingStream, batch: Sequence[EventT],
                      changelog: list[Any]) -> None:
        try:
            if changelog:
                await asyncio.gather(*changelog)
            for event in batch:
                await stream.ack(event)
            agent.batches_done += 1
        except Exception as e:
            log.critical("changelog write failed, stopping the worker: %s", redact(repr(e)))
            os._exit(70)

    async def finish(stream: BatchingStream, batch: Sequence[EventT],
                     ingesting: asyncio.Future[list[MessageResult]]) -> None:
        nonlocal generation
        ingested = await ingesting
        if app.consumer_generation_id != generation:
            agent.drop_caches()
            generation = app.consumer_generation_id
        changelog = await agent.process(batch, alerts_topic, dead_letter_topic, ingested)
        # The broker's acknowledgement of the changelog is awaited beside the next batch's
        # work, not before it; the batch is acknowledged only after it.
        task = asyncio.ensure_future(confirm(stream, batch, changelog))
        confirming.add(task)
        task.add_done_callback(confirming.discard)

    async def payments(stream: StreamT) -> None:
        # One batch ahead: the next batch is ingested in the helpers while this one is
        # merged, so batches are acknowledged here, after their rows and changelog writes
        # are stored. Faust waits for these acks before a rebalance goes on
        # (stream_wait_empty), and the idle ticks make sure a held batch is finished when
        # nothing else arrives.
        batching = cast(BatchingStream, stream)
        ahead: tuple[Sequence[EventT], asyncio.Future[list[MessageResult]]] | None = None
        async for batch in batching.take_bytes(settings.batch_max_bytes,
                                               settings.batch_within_s, ack=False, idle=True):
            try:
                taken = None
                if batch:
                    taken = (batch, asyncio.ensure_future(
                        pool.ingest([event.value for event in batch], Arrival.at())))
                if len(confirming) > 1:  # bound the batches held in memory
                    await asyncio.wait(list(confirming), return_when=asyncio.FIRST_COMPLETED)
                if ahead is not None:
                    await finish(batching, *ahead)
                ahead = taken
            except Exception as e:
                # Faust would still commit this batch's offsets: stop the worker instead, so
                # the batch is processed again after a restart. Nothing is lost.
                # Where it failed: code locations only, no values (they may hold IDs).
                log.critical("batch failed, stopping the worker: %s\n%s", redact(repr(e)),
                             "".join(traceback.format_tb(e.__traceback__)))
                os._exit(70)

    stalled: dict[Any, Any] = {}

    batches_seen = 0

    async def reread_gaps() -> None:
        nonlocal batches_seen
        busy, batches_seen = agent.batches_done != batches_seen, agent.batches_done
        for tp in await reread_skipped(app.consumer, settings.events_topic, stalled, busy):
            log.warning("re-reading %s from its committed offset: messages were skipped", tp)

    async def write_health() -> None:
        await sink.write(HEALTH_TABLE, [agent.health.row(worker, agent.lag(app))])

    app.agent(events_topic, name="payments")(payments)
    app.timer(interval=settings.health_interval_s)(write_health)
    app.timer(interval=1.0)(reread_gaps)
    return agent
