"""What a batch produces besides its rows: where each message came from (`Source`), dead
letters with their KIP-298 headers, the worker's health counters, and `BatchOutput`, which
collects them for the agent (streams/pipeline/agent.py)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from faust.types import EventT

from streams.domain.ingest import Ingested, PaymentFact, Rejected
from streams.domain.statistics import CommuneId
from streams.storage.sink import now_utc


class Source(NamedTuple):
    """Where a message of the events topic was read: what a dead letter names."""

    topic: str
    partition: int
    offset: int

    @classmethod
    def of(cls, event: EventT) -> Source:
        """The source of a Faust event."""
        message = event.message
        return cls(message.topic, message.partition, message.offset)


def dead_letter(
    source: Source, rejected: Rejected, index: int = 0
) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """The dead-letter record (no payload: it may hold a citizen ID) and KIP-298 headers.

    `index` is the event's position in its payment file (from 1), 0 for the message itself.
    """
    record = {
        "received_at": now_utc(),
        "source_topic": source.topic,
        "source_partition": source.partition,
        "source_offset": source.offset,
        "source_index": index,
        "error_class": rejected.error_class,
        "reason": rejected.reason,
    }
    headers = [
        ("__connect.errors.topic", source.topic.encode()),
        ("__connect.errors.partition", str(source.partition).encode()),
        ("__connect.errors.offset", str(source.offset).encode()),
        ("__connect.errors.exception.class.name", rejected.error_class.encode()),
        ("__connect.errors.exception.message", rejected.reason.encode()),
        ("welfare.errors.file.index", str(index).encode()),
    ]
    return record, headers


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
        latest = (
            datetime.fromtimestamp(self.latest_event_ms / 1000, UTC)
            if self.latest_event_ms is not None
            else None
        )
        row = {
            "at": now,
            "worker": worker,
            "events": self.events,
            "events_per_s": round(self.events / elapsed, 1),
            "dead_letters": sum(self.dead_letters.values()),
            "dead_letters_by_class": dict(self.dead_letters),
            "consumer_lag": lag,
            "latest_event_at": latest,
            "freshness_s": (now - latest).total_seconds() if latest else None,
        }
        self.events, self.dead_letters, self.since = 0, Counter(), time.monotonic()
        return row


@dataclass
class BatchOutput:
    """What one batch produced."""

    order: list[tuple[Source, int, PaymentFact | Ingested, str]] = field(default_factory=list)
    communes: set[CommuneId] = field(default_factory=set)
    access_points: set[str] = field(default_factory=set)
    # To store and announce on the dead-letter topic.
    dead: list[tuple[dict[str, Any], list[tuple[str, bytes]]]] = field(default_factory=list)
    # To store only: an ingest worker announced them already (streams/pipeline/forward.py).
    announced: list[dict[str, Any]] = field(default_factory=list)
    # pipeline_health rows ingest workers sent (streams/pipeline/forward.py), to store.
    health_rows: list[dict[str, Any]] = field(default_factory=list)
