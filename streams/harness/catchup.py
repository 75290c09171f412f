"""Waiting until a deployment has caught up with what was sent to it, for `verify`.

Caught up means both:
- the consumer group's committed offsets reach the events topic's log end (server mode, or
  any deployment whose broker is given), and
- the store's figures read the same on `stable_polls` consecutive reads, `poll_s` apart
  (the last batch's rows are written before its offsets are committed, so after the offsets
  this only guards against a store that is still merging or a worker still writing).
Anything that keeps this from being known (timeout, broker or store unreachable) is
`Undecided`: `verify` exits 2 with its one-line reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from schemas import i18n
from schemas.i18n import _
from streams.errors import WelfareMonitorError
from streams.settings import Settings
from streams.storage.queries import Results


class Undecided(WelfareMonitorError):
    """Whether the deployment matches the truth cannot be told (yet)."""


class OffsetsProbe(Protocol):
    """(committed, log end) summed over the events topic's partitions."""

    def offsets(self) -> tuple[int, int]: ...


@dataclass(frozen=True)
class CaughtUp:
    """The figures read once the deployment had caught up, and how long that took."""

    results: Results
    waited_s: float
    offsets: tuple[int, int] | None


def wait_until_caught_up(
    read: Callable[[], Results],
    probe: OffsetsProbe | None,
    timeout_s: float,
    poll_s: float = 1.0,
    stable_polls: int = 2,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> CaughtUp:
    """Poll offsets and figures until both are settled, or raise `Undecided` at the timeout."""
    started = clock()
    deadline = started + timeout_s
    previous: Results | None = None
    same = 0
    offsets: tuple[int, int] | None = None
    while True:
        lag_ok = True
        if probe is not None:
            offsets = probe.offsets()
            lag_ok = offsets[0] >= offsets[1]
        results = read()
        same = same + 1 if lag_ok and results == previous else (1 if lag_ok else 0)
        previous = results
        if same >= stable_polls:
            return CaughtUp(results, clock() - started, offsets)
        if clock() + poll_s > deadline:
            lang = i18n.current()
            shown = lang.number(timeout_s, 0 if float(timeout_s).is_integer() else 1)
            if not lag_ok and offsets is not None:
                raise Undecided(
                    _(
                        "not caught up after {seconds} s: the consumer group has committed "
                        "{committed} of {total} messages; is a worker running? "
                        "(raise --timeout to wait longer)"
                    ).format(
                        seconds=shown,
                        committed=lang.number(offsets[0]),
                        total=lang.number(offsets[1]),
                    )
                )
            raise Undecided(
                _(
                    "the store's figures were still changing after {seconds} s "
                    "(raise --timeout to wait longer)"
                ).format(seconds=shown)
            )
        sleep(poll_s)


class GroupLag:
    """The consumer group's committed offsets against the events topic's log end, plus the
    store agent's on the accepted topic (`--workers N`; empty otherwise, docs/workers.md)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._probes: list[Any] = []

    def offsets(self) -> tuple[int, int]:
        from kafka.errors import KafkaError

        from streams.replay.kafka_io import LagProbe, unreachable

        s = self.settings
        try:
            if not self._probes:
                self._probes = [
                    LagProbe(
                        s.kafka_bootstrap_servers,
                        group,
                        topic,
                        exact_end=s.broker_exact_end_offsets,
                    )
                    for group, topic in (
                        (s.app_id, s.events_topic),
                        (s.store_group, s.accepted_topic),
                    )
                ]
            # The events topic first: once it is committed, every forward is in the
            # accepted topic, whose end is read after.
            events, accepted = (probe.offsets() for probe in self._probes)
            if events[0] < events[1]:
                return events
            return events[0] + accepted[0], events[1] + accepted[1]
        except KafkaError as e:
            raise unreachable(s.kafka_bootstrap_servers, e) from e

    def close(self) -> None:
        for probe in self._probes:
            probe.close()
