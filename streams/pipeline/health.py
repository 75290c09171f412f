"""The worker's health row: events, dead letters and freshness per interval."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from streams.storage.sink import now_utc


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
