"""Faults on demand: duplicates, reordering, malformed messages and redelivered batches.

A pure, seeded transformation of the generator's events into the lines a producer sends.
Every fault is counted in the ground truth, so tests know what the pipeline must report.
"""

from __future__ import annotations

import random
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from simulators.truth import GroundTruth

MALFORMED_CLASSES = (
    "bad_json",
    "invalid_utf8",
    "missing_field",
    "wrong_type",
    "unknown_event_type",
    "invalid_cccd",
    "unknown_commune",
    "non_positive_amount",
    "future_timestamp",
    "conflicting_duplicate",
    "oversize",
    "unknown_channel",
)
OVERSIZE_BYTES = 70 * 1024


class FaultRangeError(ValueError):
    """A fault rate outside 0-1; `flag` names its command-line flag."""

    def __init__(self, flag: str) -> None:
        super().__init__(f"{flag} must be between 0 and 1")
        self.flag = flag


@dataclass(frozen=True)
class FaultSpec:
    """Rates are per generated event; `redeliver` is the chance a batch is sent again."""

    duplicates: float = 0.0
    out_of_order: float = 0.0
    malformed: float = 0.0
    redeliver: float = 0.0
    redeliver_batch: int = 200
    max_delay: int = 50

    def __post_init__(self) -> None:
        for name in ("duplicates", "out_of_order", "malformed", "redeliver"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise FaultRangeError(f"--{name.replace('_', '-')}")

    @property
    def active(self) -> bool:
        """Whether any fault is asked for."""
        return any((self.duplicates, self.out_of_order, self.malformed, self.redeliver))


def _copy(event: dict[str, Any]) -> dict[str, Any]:
    copied: dict[str, Any] = orjson.loads(orjson.dumps(event))
    return copied


def _mutated(event: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> bytes:
    broken = _copy(event)
    change(broken)
    return orjson.dumps(broken)


def malformed_line(error_class: str, event: dict[str, Any], rng: random.Random) -> bytes:
    """A message of `error_class` derived from a valid payment event.

    All but `conflicting_duplicate` get a fresh event_id, so they never collide with the
    original event.
    """
    fresh = _copy(event)
    fresh["event_id"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    payload = fresh["payload"]
    channel_field = "planned_channel" if "planned_channel" in payload else "channel"
    builders: dict[str, Callable[[], bytes]] = {
        "bad_json": lambda: orjson.dumps(fresh)[: rng.randint(5, 60)],
        "invalid_utf8": lambda: orjson.dumps(fresh).replace(
            b'"source":"', b'"source":"\xff\xfe', 1
        ),
        "missing_field": lambda: _mutated(fresh, lambda e: e["payload"].pop("period")),
        "wrong_type": lambda: _mutated(
            fresh, lambda e: e["payload"].update(amount_vnd=str(e["payload"]["amount_vnd"]))
        ),
        "unknown_event_type": lambda: _mutated(
            fresh, lambda e: e.update(event_type="payment.teleported")
        ),
        "invalid_cccd": lambda: _mutated(
            fresh, lambda e: e["payload"].update(citizen_id="000" + e["payload"]["citizen_id"][3:])
        ),
        "unknown_commune": lambda: _mutated(
            fresh, lambda e: e["payload"].update(commune_code=99_999)
        ),
        "non_positive_amount": lambda: _mutated(
            fresh, lambda e: e["payload"].update(amount_vnd=-rng.randint(0, 500_000))
        ),
        "future_timestamp": lambda: _mutated(
            fresh, lambda e: e.update(occurred_at="2099-01-01T00:00:00.000Z")
        ),
        "conflicting_duplicate": lambda: _mutated(
            event, lambda e: e["payload"].update(amount_vnd=e["payload"]["amount_vnd"] + 1000)
        ),
        "oversize": lambda: orjson.dumps(fresh) + b" " * OVERSIZE_BYTES,
        "unknown_channel": lambda: _mutated(
            fresh, lambda e: e["payload"].update({channel_field: "gold_bars"})
        ),
    }
    return builders[error_class]()


class FaultInjector:
    """Turns events into the lines to send, with the faults of `spec`, seeded."""

    def __init__(self, spec: FaultSpec, seed: int, truth: GroundTruth) -> None:
        self.spec = spec
        self.truth = truth
        self._rng = random.Random(f"faults:{seed}")

    def lines(self, events: Iterable[dict[str, Any]]) -> Iterator[bytes]:
        """Each event as a JSON line, with faults mixed in; counts land in the truth."""
        spec, rng, truth = self.spec, self._rng, self.truth
        delayed: list[tuple[int, int, bytes, bool]] = []  # (due, order, line, is_malformed)
        recent: deque[tuple[bytes, bool]] = deque(maxlen=spec.redeliver_batch)
        position = order = 0

        def emit(line: bytes, bad: bool) -> Iterator[bytes]:
            recent.append((line, bad))
            truth.lines += 1
            yield line
            if spec.redeliver and rng.random() < spec.redeliver:
                truth.faults["redelivered_batches"] += 1
                batch = list(recent)
                for again, again_bad in batch:
                    truth.faults["redelivered_lines"] += 1
                    truth.lines += 1
                    if again_bad:
                        truth.malformed[_classes[again]] += 1
                    yield again

        _classes: dict[bytes, str] = {}
        for event in events:
            position += 1
            line = orjson.dumps(event)
            original_due = position
            if spec.out_of_order and rng.random() < spec.out_of_order:
                truth.faults["out_of_order"] += 1
                order += 1
                original_due = position + rng.randint(1, spec.max_delay)
                delayed.append((original_due, order, line, False))
            else:
                yield from emit(line, False)
            if spec.duplicates and rng.random() < spec.duplicates:
                truth.faults["duplicates"] += 1
                order += 1
                delayed.append((position + rng.randint(1, spec.max_delay), order, line, False))
            if (
                spec.malformed
                and event["event_type"].startswith("payment.")
                and (rng.random() < spec.malformed)
            ):
                error_class = rng.choice(MALFORMED_CLASSES)
                bad_line = malformed_line(error_class, event, rng)
                _classes[bad_line] = error_class
                truth.malformed[error_class] += 1
                truth.faults["malformed_first"] += 1
                order += 1
                bad_due = position + rng.randint(1, spec.max_delay)
                if error_class == "conflicting_duplicate":
                    # A conflicting duplicate reuses an id already sent: never before the original.
                    bad_due = max(bad_due, original_due)
                delayed.append((bad_due, order, bad_line, True))
            due = sorted(d for d in delayed if d[0] <= position)
            if due:
                delayed = [d for d in delayed if d[0] > position]
                for _, _, held, bad in due:
                    yield from emit(held, bad)
        for _, _, held, bad in sorted(delayed):
            yield from emit(held, bad)
