"""The payments agent: validate, pseudonymise, store in the ledger, recompute statistics.

Per batch of messages (at most `batch_max_bytes`, at most `batch_within_s` apart), where a
message is one event or a payment file of many:
1. ingest each event; bad ones become dead letters (table and topic, KIP-298 headers, the
   index of the event in its file);
2. look the event ids up in the ledger: duplicates are dropped, an id stored before with
   other content is dead-lettered as conflicting_duplicate; store the new events there;
3. recompute every touched commune-period from the ledger (streams/storage/ledger.py), derive its
   alerts, reconcile them with the alerts table, and write the rows;
4. only then return, so Faust acknowledges the batch's offsets after the rows are stored.

The agent loop, and the commit order of every worker role, is in streams/pipeline/roles.py;
with `--workers N` steps 2-4 run in the store agent (`store`) on what ingest workers
forwarded (streams/pipeline/forward.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import faust
import orjson
from faust.types import EventT

from streams.domain.access_points import access_point_row
from streams.domain.alerts import (
    Alert,
    AlertRules,
    alert_key,
    beneficiary_alerts,
    cleared,
    low_rate,
    rate_drop,
)
from streams.domain.ingest import (
    Arrival,
    Ingested,
    MessageResult,
    PaymentFact,
    Rejected,
    Rejection,
    ingest_message,
)
from streams.domain.pseudonym import Pseudonymizer
from streams.domain.statistics import CommuneId
from streams.errors import PipelineError
from streams.faust_ext import read_offset
from streams.pipeline.outputs import BatchOutput, Health, Source, dead_letter, sent
from streams.settings import Settings
from streams.storage import ledger, nearest_atm
from streams.storage.folded_cache import FoldedCache
from streams.storage.ledger import Figures
from streams.storage.sink import ClickHouseSink, now_utc
from streams.storage.target_rules import TargetCache

log = logging.getLogger(__name__)

STATS_TABLE = "commune_programme_stats"
DEAD_LETTERS_TABLE = "dead_letters"
ALERTS_TABLE = "alerts"
ACCESS_POINTS_TABLE = "access_points"
HEALTH_TABLE = "pipeline_health"
STORED_ALERTS_SQL = """
SELECT kind, period, province_code, commune_code, subject, active, version
FROM alerts FINAL
WHERE period IN {periods:Array(String)} AND commune_code IN {communes:Array(UInt32)}
"""


class PaymentsAgent:
    """The agent's per-batch work; the ledger in ClickHouse is its state (storage/ledger.py).

    Nothing is kept between batches: any worker may process any event in any order, and the
    rows it writes are versioned by what the ledger held, so a stale one never wins."""

    def __init__(
        self,
        settings: Settings,
        sink: ClickHouseSink,
        pseudonymize: Pseudonymizer | None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self.pseudonymize = pseudonymize
        self.rules = AlertRules.of(settings)
        self.health = Health()
        self.targets = TargetCache()  # behind_target: the targets of recent provinces
        self.folded = FoldedCache(settings.ledger_cache_rows)  # checked against the ledger

    def take(self, source: Source, result: MessageResult, out: BatchOutput) -> int:
        """Note one message's ingested events in the batch and dead-letter the bad ones;
        returns how many events the message held."""
        is_file, items = result
        for index, item in enumerate(items, start=1 if is_file else 0):
            if isinstance(item, Rejection):
                self._reject(source, item.error_class, item.reason, index, out)
                continue
            self.health.saw(item.occurred_ms)
            out.order.append((source, index, item, ledger.digest(item)))
        return len(items)

    def _reject(
        self, source: Source, error_class: str, reason: str, index: int, out: BatchOutput
    ) -> None:
        out.dead.append(dead_letter(source, Rejected(error_class, reason), index))
        self.health.dead_letters[error_class] += 1

    def _conflict(self, source: Source, event_id: str, index: int, out: BatchOutput) -> None:
        self._reject(
            source,
            "conflicting_duplicate",
            f"event_id {event_id} was seen before with other content",
            index,
            out,
        )

    async def _check_ledger(self, out: BatchOutput) -> list[tuple[PaymentFact | Ingested, str]]:
        """Drop the batch's duplicates and dead-letter its conflicting duplicates, and note
        what every kept or repeated event touches; returns the new events.

        An id the ledger holds is judged against the ledger's content, whenever it came; an
        id new to the ledger against its first copy in the batch. A repeated event still
        touches its commune: after a crash between the ledger and the statistics,
        processing it again rewrites the rows."""
        known = await ledger.known_digests(
            self.sink, list({i.event_id for _, _, i, _ in out.order})
        )
        new: list[tuple[PaymentFact | Ingested, str]] = []
        for source, index, item, content in out.order:
            stored = known.get(item.event_id)
            if stored is None:
                known[item.event_id] = {content}
                new.append((item, content))
            elif content not in stored:
                self._conflict(source, item.event_id, index, out)
                continue
            if isinstance(item, PaymentFact):
                out.communes.add(CommuneId(item.period, item.province_code, item.commune_code))
            elif item.event_type.startswith("access_point."):
                out.access_points.add(item.payload["access_point_id"])
        return new

    def alerts_of(self, figures: Figures, before: Figures | None) -> list[Alert]:
        """Every alert that holds for the commune-period now."""
        commune, stats = figures.commune, figures.total()
        previous = before.total() if before is not None and before.per_programme else None
        held = [
            a
            for a in (
                low_rate(commune, stats, self.rules),
                rate_drop(commune, stats, previous, self.rules),
            )
            if a.active
        ]
        held += self.targets.alerts(
            commune, stats, self.rules, self.settings.alert_target_warn_days
        )
        return held + beneficiary_alerts(commune, stats)

    async def process(
        self,
        batch: Sequence[EventT],
        alerts_topic: Any,
        dead_letter_topic: Any,
        ingested: Sequence[MessageResult] | None = None,
    ) -> None:
        """Handle one batch (`ingested`: what each message became, when ingested
        elsewhere); returns once its events are in the ledger and its rows in ClickHouse."""
        out = BatchOutput()
        if ingested is None:
            if self.pseudonymize is None:
                raise PipelineError("a store agent gets its events ingested already")
            arrival = Arrival.at()
            ingested = [ingest_message(e.value, self.pseudonymize, arrival) for e in batch]
        for event, result in zip(batch, ingested, strict=True):
            self.health.events += self.take(Source.of(event), result, out)
        await self.store(out, alerts_topic, dead_letter_topic, len(batch))

    async def store(
        self, out: BatchOutput, alerts_topic: Any, dead_letter_topic: Any, messages: int
    ) -> None:
        """Everything after ingest: the ledger check and store, the refolded rows, the
        alerts and the dead letters of a batch of `messages` messages (`out`)."""
        at = now_utc()
        new = await self._check_ledger(out)
        await ledger.store(self.sink, new, at)
        # Each touched commune-period, the one before (its rate-drop alert compares with it)
        # and the one after (whose rate-drop alert compares with this one).
        wanted = set(out.communes)
        for commune in out.communes:
            wanted |= {commune.previous(), commune.next()}
        figures = await self.folded.read(self.sink, wanted, new, at)
        await self.targets.load(self.sink, out.communes)
        stats_rows: list[dict[str, Any]] = []
        alerting: dict[CommuneId, tuple[list[Alert], int]] = {}
        for commune in sorted(out.communes, key=lambda c: c.key):
            current = figures[commune]
            for programme, stats in sorted(current.per_programme.items()):
                stats_rows.append(
                    {
                        "period": commune.period,
                        "province_code": commune.province_code,
                        "commune_code": commune.commune_code,
                        "programme": programme,
                        **stats.row(),
                        "version": current.version,
                        "updated_at": at,
                    }
                )
            for target in (commune, commune.next()):
                this, before = figures.get(target), figures.get(target.previous())
                if this is None or before is None or not this.version or target in alerting:
                    continue
                alerting[target] = (self.alerts_of(this, before), this.version + before.version)
        await self.sink.write(STATS_TABLE, stats_rows)
        points = await ledger.read_access_points(self.sink, out.access_points)
        await self.sink.write(
            ACCESS_POINTS_TABLE,
            [{**access_point_row(r), "updated_at": at} for r in points.values()],
        )
        if out.access_points:
            await nearest_atm.refresh_with_retry(self.sink)
        await self.write_alerts(alerting, at, alerts_topic)
        if out.dead or out.announced:
            await self.sink.write(
                DEAD_LETTERS_TABLE, out.announced + [record for record, _ in out.dead]
            )
            await sent(
                [
                    await dead_letter_topic.send(value=orjson.dumps(record), headers=headers)
                    for record, headers in out.dead
                ]
            )
            log.warning(
                "dead-lettered %d events in a batch of %d messages",
                len(out.dead) + len(out.announced),
                messages,
            )

    async def _stored_alerts(
        self, communes: Sequence[CommuneId]
    ) -> dict[CommuneId, tuple[set[str], int]]:
        """What the alerts table holds for `communes`: the keys raised, the highest version."""
        rows = await self.sink.query(
            STORED_ALERTS_SQL,
            {
                "periods": sorted({c.period for c in communes}),
                "communes": sorted({c.commune_code for c in communes}),
            },
        )
        out: dict[CommuneId, tuple[set[str], int]] = {c: (set(), 0) for c in communes}
        for r in rows:
            commune = CommuneId(r["period"], int(r["province_code"]), int(r["commune_code"]))
            if commune not in out:
                continue
            raised, version = out[commune]
            if int(r["active"]):
                raised.add(alert_key(r["kind"], commune, r["subject"]))
            out[commune] = (raised, max(version, int(r["version"])))
        return out

    async def write_alerts(
        self, alerting: dict[CommuneId, tuple[list[Alert], int]], at: datetime, alerts_topic: Any
    ) -> None:
        """Store the alerts that hold (their figures move on) and clear those that stopped,
        reconciled with what the alerts table holds. Raises and clears are announced on the
        alerts topic first and stored once the broker has them: an alert is never stored as
        raised without its announcement (a repeated announcement can happen)."""
        if not alerting:
            return
        stored = await self._stored_alerts(list(alerting))
        rows, announce = [], []
        for commune, (alerts, version) in alerting.items():
            before, stored_version = stored[commune]
            if stored_version > version:
                continue  # a newer snapshot is stored already: ours would not win
            now = {a.key for a in alerts}
            ended = [cleared(key) for key in sorted(before - now)]
            rows += [a.row(version, at) for a in alerts + ended]
            announce += [(a, version) for a in alerts if a.key not in before] + [
                (a, version) for a in ended
            ]
        await sent(
            [
                await alerts_topic.send(
                    key=alert.key.encode(), value=orjson.dumps(alert.row(version, at))
                )
                for alert, version in announce
            ]
        )
        await self.sink.write(ALERTS_TABLE, rows)

    def lag(self, app: faust.App, topic: str | None = None) -> int:
        """Messages waiting on this worker's partitions of `topic` (default: the events
        topic; -1: unknown)."""
        return consumer_lag(app, topic or self.settings.events_topic)


def consumer_lag(app: faust.App, topic: str) -> int:
    """Messages waiting on this worker's partitions of `topic` (-1: unknown)."""
    try:
        consumer = app.consumer
        lag = 0
        for tp in consumer.assignment():
            if tp.topic != topic:
                continue
            read = read_offset(consumer, tp)
            highwater = consumer.highwater(tp)
            if highwater is not None and highwater >= 0:
                lag += max(0, highwater - (read + 1 if read is not None else 0))
        return lag
    except Exception:
        return -1
