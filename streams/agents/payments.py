"""The payments agent: validate, pseudonymise, keep beneficiary state, sink statistics.

Per batch of events (at most `batch_max_events`, at most `batch_within_s` apart):
1. ingest each event; bad ones become dead letters (table and topic, KIP-298 headers);
2. merge payment events into the beneficiary buckets (Faust table) and access-point events
   into the access-point GlobalTable; changed keys are written once per batch;
3. recount every touched commune from its buckets, derive its alerts, and write the rows;
4. only then return, so Faust acknowledges the batch's offsets after the rows are stored.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import weakref
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import faust
import orjson
from faust.streams import Stream, _current_event
from faust.types import EventT, StreamT

from streams.access import access_point_row, merge_access_point
from streams.aggregation import (
    Bucket,
    CommuneId,
    ConflictingDuplicate,
    Stats,
    bucket_key,
    bucket_stats,
    combine,
    commune_of,
    merge,
    total,
)
from streams.alerts import Alert, AlertRules, beneficiary_alerts, cleared, low_rate, rate_drop
from streams.ingest import Ingested, Rejected, ingest, redact
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
    """What one batch produced."""

    changed: dict[str, Bucket] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    carrier: dict[str, EventT] = field(default_factory=dict)
    communes: dict[str, CommuneId] = field(default_factory=dict)
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
        self._bucket_stats: dict[str, dict[str, Stats]] = {}
        # Alerts raised in ClickHouse, by commune key; loaded from ClickHouse at the first
        # batch, so a restarted worker clears what its predecessor raised.
        self._raised: dict[str, set[str]] | None = None
        self._version = 0

    def next_version(self) -> int:
        """A row version: the time in ns, strictly increasing within this worker."""
        self._version = max(time.time_ns(), self._version + 1)
        return self._version

    def stats_of(self, bucket_key_: str) -> dict[str, Stats]:
        """A bucket's statistics per programme, cached until the bucket changes."""
        cached = self._bucket_stats.get(bucket_key_)
        if cached is None:
            cached = self._bucket_stats[bucket_key_] = bucket_stats(self.buckets.get(bucket_key_))
        return cached

    def commune_stats(self, commune: CommuneId) -> dict[str, Stats]:
        """A commune's statistics per programme, recounted from its buckets."""
        return combine(self.stats_of(k) for k in commune.bucket_keys())

    def _take(self, event: EventT, out: BatchOutput) -> None:
        """Merge one event into the batch's pending state, or dead-letter it."""
        try:
            ingested = ingest(event.value, self.pseudonymize)
            self.health.saw(int(ingested.occurred_at.timestamp() * 1000))
            if ingested.event_type.startswith("access_point."):
                self._take_access_point(event, ingested, out)
                return
            fact = ingested.payment_fact()
            if fact is None:
                return  # roster events: the denominator comes from payment.scheduled
            key = bucket_key(fact)
            before_bucket = out.changed.get(key) or self.buckets.get(key)
            try:
                updated = merge(before_bucket, fact)
            except ConflictingDuplicate as e:
                raise Rejected("conflicting_duplicate", str(e)) from None
        except Rejected as rejected:
            out.dead.append(dead_letter(event, rejected))
            self.health.dead_letters[rejected.error_class] += 1
            return
        # The commune's rows are rewritten even when the event changed nothing: after a crash
        # between the changelog and the ClickHouse write, reprocessing restores the rows.
        commune = commune_of(fact)
        out.communes[commune.key] = commune
        if updated is not None:
            out.changed[key], out.carrier[key] = updated, event

    def _take_access_point(self, event: EventT, ingested: Ingested, out: BatchOutput) -> None:
        payload = ingested.payload
        ap_id = payload["access_point_id"]
        current = out.access.get(ap_id) or self.access_points.get(ap_id)
        record = merge_access_point(
            current, ingested.event_type, int(ingested.occurred_at.timestamp() * 1000), payload
        )
        if record is not None:
            out.access[ap_id], out.carrier["ap|" + ap_id] = record, event
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
                      dead_letter_topic: Any) -> None:
        """Handle one batch; returns once its rows are in ClickHouse."""
        out = BatchOutput()
        for event in batch:
            self._take(event, out)
        self.health.events += len(batch)
        for key, bucket in out.changed.items():
            with event_scope(out.carrier[key]):
                self.buckets[key] = bucket
            self._bucket_stats.pop(key, None)
        for ap_id, record in out.access.items():
            carrier = out.carrier.get("ap|" + ap_id)
            if carrier is not None:  # changed; the others only get their row rewritten
                with event_scope(carrier):
                    self.access_points[ap_id] = record
        version, at = self.next_version(), now_utc()
        if self._raised is None:
            self._raised = {}
            for r in await self.sink.query(RAISED_ALERTS_SQL):
                commune = CommuneId(r["period"], int(r["province_code"]), int(r["commune_code"]))
                self._raised.setdefault(commune.key, set()).add(
                    f"{r['kind']}|{commune.key}|{r['subject']}")
        stats_rows: list[dict[str, Any]] = []
        holding: dict[str, list[Alert]] = {}
        touched = dict(out.communes)
        for commune in out.communes.values():
            following = commune.next()
            if following.key not in touched and self.commune_stats(following):
                touched[following.key] = following  # its drop alert compares with this one
        for key, commune in touched.items():
            per_programme = self.commune_stats(commune)
            if key in out.communes:
                for programme, stats in sorted(per_programme.items()):
                    stats_rows.append({
                        "period": commune.period, "province_code": commune.province_code,
                        "commune_code": commune.commune_code, "programme": programme,
                        **stats.row(), "version": version, "updated_at": at,
                    })
            holding[key] = self.alerts_of(commune, total(per_programme))
        await self.sink.write(STATS_TABLE, stats_rows)
        await self.sink.write(ACCESS_POINTS_TABLE, [
            {**access_point_row(r), "updated_at": at} for r in out.access.values()
        ])
        await self._write_alerts(holding, version, at, alerts_topic)
        if out.dead:
            await self.sink.write(DEAD_LETTERS_TABLE, [record for record, _ in out.dead])
            for record, headers in out.dead:
                await dead_letter_topic.send(value=orjson.dumps(record), headers=headers)
            log.warning("dead-lettered %d events in a batch of %d", len(out.dead), len(batch))

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
        for alert in announce:
            await alerts_topic.send(key=alert.key.encode(),
                                    value=orjson.dumps(alert.row(version, at)))

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
    app: faust.App, settings: Settings, sink: ClickHouseSink, pseudonymize: Pseudonymizer
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
        settings, sink, pseudonymize,
        buckets=app.Table("beneficiary-buckets", default=None),
        access_points=app.GlobalTable(
            "access-points", default=None, partitions=1, recovery_buffer_size=1,
            use_partitioner=True,
        ),
    )
    worker = f"{socket.gethostname()}:{os.getpid()}"

    async def payments(stream: StreamT) -> None:
        batches = cast(Stream, stream).take_events(
            settings.batch_max_events, settings.batch_within_s
        )
        async for batch in batches:
            try:
                await agent.process(batch, alerts_topic, dead_letter_topic)
            except Exception as e:
                # Faust would still commit this batch's offsets: stop the worker instead, so
                # the batch is processed again after a restart. Nothing is lost.
                log.critical("batch failed, stopping the worker: %s", redact(repr(e)))
                os._exit(70)

    async def write_health() -> None:
        await sink.write(HEALTH_TABLE, [agent.health.row(worker, agent.lag(app))])

    app.agent(events_topic, name="payments")(payments)
    app.timer(interval=settings.health_interval_s)(write_health)
    return agent
