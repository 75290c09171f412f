"""The edge of the pipeline: decode, validate and pseudonymise raw messages.

A message is one event, or a payment file: one JSON object carrying up to
`MAX_FILE_EVENTS` events (contract `schemas/events/payment_file.v1.json`), as a bank's
payment run would. Each event of a file is validated, pseudonymised and deduplicated on its
own, exactly as if it had come alone; a bad one is dead-lettered with its index in the
file and the others go through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import orjson

from schemas.contracts import EventInvalid, check_file, validate_event
from streams.domain.pseudonym import Pseudonymizer
from streams.domain.reference import cccd_problem, commune_problem

MAX_MESSAGE_BYTES = 64 * 1024  # one event
MAX_FILE_BYTES = 8 * 1024 * 1024  # one payment file
CLOCK_SKEW = timedelta(minutes=5)
FILE_KEY = "file_id"  # a message with this key is a payment file
# A message with this key stands for an input line the producer could not send (too big).
REJECTED_AT_SOURCE_KEY = "welfare_monitor_rejected_at_source"
_DIGIT_RUNS = re.compile(r"\d{9,}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class PaymentFact(NamedTuple):
    """A validated payment event, with the citizen ID replaced by its pseudonym."""

    event_id: str
    event_type: str
    period: str
    programme: str
    beneficiary: str
    province_code: int
    commune_code: int
    channel: str
    occurred_ms: int
    amount_vnd: int
    reason: str
    attempt: int
    payment_id: str = ""  # the payment this is an outcome of; '' in rows stored before 008


@dataclass(slots=True)
class Ingested:
    """A validated event of any type, citizen ID replaced by `beneficiary` in the payload."""

    event_id: str
    event_type: str
    occurred_ms: int
    payload: dict[str, Any]

    @property
    def occurred_at(self) -> datetime:
        """The event time as an aware UTC datetime."""
        return _EPOCH + self.occurred_ms * _MS

    def payment_fact(self) -> PaymentFact | None:
        """The payment fact, for payment.* events."""
        if not self.event_type.startswith("payment."):
            return None
        p = self.payload
        return PaymentFact(
            self.event_id,
            self.event_type,
            p["period"],
            p["programme"],
            p["beneficiary"],
            p["province_code"],
            p["commune_code"],
            p.get("channel") or p.get("planned_channel") or "",
            self.occurred_ms,
            p["amount_vnd"],
            p.get("reason", ""),
            p.get("attempt", 0),
            p.get("payment_id", ""),
        )


class Rejected(Exception):
    """A message or event that cannot be ingested; it goes to the dead-letter topic."""

    def __init__(self, error_class: str, reason: str) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = redact(reason)


def redact(text: str) -> str:
    """Mask long digit runs (citizen IDs) in free text bound for logs and dead letters."""
    return _DIGIT_RUNS.sub("<redacted>", text)


def epoch_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, exactly (no float rounding)."""
    return (moment - _EPOCH) // _MS


def unpack(raw: bytes | None) -> tuple[list[Any], bool]:
    """The decoded events of a message and whether it was a payment file.

    Raises Rejected when the message itself is unusable (nothing in it is ingested then).
    """
    if raw is None:
        raise Rejected("empty_message", "the message has no value")
    size = len(raw)
    if size > MAX_FILE_BYTES:
        raise Rejected("oversize", f"{size} bytes, more than {MAX_FILE_BYTES}")
    try:
        decoded: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        if size > MAX_MESSAGE_BYTES:
            raise Rejected("oversize", f"{size} bytes, more than {MAX_MESSAGE_BYTES}") from None
        error_class = "invalid_utf8" if "utf-8" in str(e).lower() else "bad_json"
        raise Rejected(error_class, f"not JSON: {e}") from None
    if type(decoded) is dict and FILE_KEY in decoded:
        try:
            check_file(decoded)
        except EventInvalid as e:
            raise Rejected(e.error_class, f"payment file: {e.reason}") from None
        return decoded["events"], True
    if type(decoded) is dict and REJECTED_AT_SOURCE_KEY in decoded:
        rejected = decoded[REJECTED_AT_SOURCE_KEY]
        reason = rejected.get("reason") if isinstance(rejected, dict) else None
        raise Rejected("oversize", redact(str(reason or "rejected by the producer"))[:500])
    if size > MAX_MESSAGE_BYTES:
        raise Rejected("oversize", f"{size} bytes, more than {MAX_MESSAGE_BYTES}")
    return [decoded], False


@dataclass(frozen=True, slots=True)
class Arrival:
    """When a message arrived: the clock-skew and CCCD birth-year checks compare with it."""

    ms: int
    year: int

    @classmethod
    def at(cls, moment: datetime | None = None) -> Arrival:
        """The arrival at `moment` (default: now)."""
        moment = moment or datetime.now(UTC)
        return cls(epoch_ms(moment), moment.astimezone(UTC).year)


def ingest_event(event: Any, pseudonymize: Pseudonymizer, arrival: Arrival) -> Ingested:
    """Validate and pseudonymise one decoded event, or raise Rejected with a reason."""
    try:
        validate_event(event)
    except EventInvalid as e:
        raise Rejected(e.error_class, e.reason) from None
    occurred_ms = epoch_ms(datetime.fromisoformat(event["occurred_at"]))
    if occurred_ms > arrival.ms + CLOCK_SKEW // _MS:
        raise Rejected("future_timestamp", f"occurred_at {event['occurred_at']} is in the future")
    payload = dict(event["payload"])
    problem = commune_problem(payload["province_code"], payload["commune_code"])
    if problem:
        raise Rejected("unknown_commune", problem)
    citizen_id = payload.pop("citizen_id", None)
    if citizen_id is not None:
        problem = cccd_problem(citizen_id, arrival.year)
        if problem:
            raise Rejected("invalid_cccd", problem)
        payload["beneficiary"] = pseudonymize(citizen_id)
    return Ingested(event["event_id"], event["event_type"], occurred_ms, payload)


def ingest(raw: bytes | None, pseudonymize: Pseudonymizer, now: datetime | None = None) -> Ingested:
    """Turn a one-event message into an Ingested event or raise Rejected with a reason."""
    events, is_file = unpack(raw)
    if is_file:
        raise Rejected("unexpected_file", "a payment file where one event was expected")
    return ingest_event(events[0], pseudonymize, Arrival.at(now))


@dataclass(frozen=True, slots=True)
class Rejection:
    """An event (index in its file, 0 for a whole message) that cannot be ingested."""

    index: int
    error_class: str
    reason: str


# Whether a message was a payment file, and what each of its events became.
MessageResult = tuple[bool, list[PaymentFact | Ingested | Rejection]]


def ingest_message(
    value: bytes | None, pseudonymize: Pseudonymizer, arrival: Arrival
) -> MessageResult:
    """Ingest a message: a payment fact per payment event, the validated event for other
    types, and a Rejection (never the citizen ID) per bad event, in order."""
    try:
        items, is_file = unpack(value)
    except Rejected as rejected:
        return False, [Rejection(0, rejected.error_class, rejected.reason)]
    out: list[PaymentFact | Ingested | Rejection] = []
    for index, item in enumerate(items, start=1 if is_file else 0):
        try:
            ingested = ingest_event(item, pseudonymize, arrival)
        except Rejected as rejected:
            out.append(Rejection(index, rejected.error_class, rejected.reason))
            continue
        fact = ingested.payment_fact()
        out.append(fact if fact is not None else ingested)
    return is_file, out
