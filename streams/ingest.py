"""The edge of the pipeline: decode, validate and pseudonymise one raw message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from schemas.contracts import EventInvalid, validate_event
from streams.pseudonym import Pseudonymizer
from streams.reference import cccd_problem, commune_problem

MAX_MESSAGE_BYTES = 64 * 1024
CLOCK_SKEW = timedelta(minutes=5)
_DIGIT_RUNS = re.compile(r"\d{9,}")


@dataclass(frozen=True)
class PaymentFact:
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


@dataclass(frozen=True)
class Ingested:
    """A validated event of any type, citizen ID replaced by `beneficiary`."""

    event_id: str
    event_type: str
    occurred_at: datetime
    payload: dict[str, Any]

    def payment_fact(self) -> PaymentFact | None:
        """The payment fact, for payment.* events."""
        if not self.event_type.startswith("payment."):
            return None
        p = self.payload
        return PaymentFact(
            event_id=self.event_id,
            event_type=self.event_type,
            period=p["period"],
            programme=p["programme"],
            beneficiary=p["beneficiary"],
            province_code=p["province_code"],
            commune_code=p["commune_code"],
            channel=p.get("channel") or p.get("planned_channel") or "",
            occurred_ms=int(self.occurred_at.timestamp() * 1000),
            amount_vnd=p["amount_vnd"],
            reason=p.get("reason", ""),
            attempt=p.get("attempt", 0),
        )


class Rejected(Exception):
    """A message that cannot be ingested; it goes to the dead-letter topic."""

    def __init__(self, error_class: str, reason: str) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = redact(reason)


def redact(text: str) -> str:
    """Mask long digit runs (citizen IDs) in free text bound for logs and dead letters."""
    return _DIGIT_RUNS.sub("<redacted>", text)


def parse_utc(text: str) -> datetime:
    """An envelope timestamp (ISO 8601 ending in Z) as an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def ingest(
    raw: bytes | None, pseudonymize: Pseudonymizer, now: datetime | None = None
) -> Ingested:
    """Turn raw message bytes into an Ingested event or raise Rejected with a reason."""
    if raw is None:
        raise Rejected("empty_message", "the message has no value")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Rejected("oversize", f"{len(raw)} bytes, more than {MAX_MESSAGE_BYTES}")
    try:
        event: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        error_class = "invalid_utf8" if "utf-8" in str(e).lower() else "bad_json"
        raise Rejected(error_class, f"not JSON: {e}") from None
    try:
        validate_event(event)
    except EventInvalid as e:
        raise Rejected(e.error_class, e.reason) from None
    now = now or datetime.now(UTC)
    occurred_at = parse_utc(event["occurred_at"])
    if occurred_at > now + CLOCK_SKEW:
        raise Rejected("future_timestamp", f"occurred_at {event['occurred_at']} is in the future")
    payload = dict(event["payload"])
    problem = commune_problem(payload["province_code"], payload["commune_code"])
    if problem:
        raise Rejected("unknown_commune", problem)
    citizen_id = payload.pop("citizen_id", None)
    if citizen_id is not None:
        problem = cccd_problem(citizen_id, now)
        if problem:
            raise Rejected("invalid_cccd", problem)
        payload["beneficiary"] = pseudonymize(citizen_id)
    return Ingested(
        event_id=event["event_id"],
        event_type=event["event_type"],
        occurred_at=occurred_at,
        payload=payload,
    )
