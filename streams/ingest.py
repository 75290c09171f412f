"""The edge of the pipeline: decode, validate and pseudonymise one raw message."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from schemas.contracts import EventInvalid, validate_event
from streams.pseudonym import Pseudonymizer

MAX_MESSAGE_BYTES = 64 * 1024
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


class Rejected(Exception):
    """A message that cannot be ingested; it goes to the dead-letter topic."""

    def __init__(self, error_class: str, reason: str) -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = redact(reason)


def redact(text: str) -> str:
    """Mask long digit runs (citizen IDs) in free text bound for logs and dead letters."""
    return _DIGIT_RUNS.sub("<redacted>", text)


def ingest(raw: bytes | None, pseudonymize: Pseudonymizer) -> PaymentFact:
    """Turn raw message bytes into a PaymentFact or raise Rejected with a reason."""
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
    payload = event["payload"]
    channel = payload.get("channel") or payload.get("planned_channel") or ""
    return PaymentFact(
        event_id=event["event_id"],
        event_type=event["event_type"],
        period=payload["period"],
        programme=payload["programme"],
        beneficiary=pseudonymize(payload["citizen_id"]),
        province_code=payload["province_code"],
        commune_code=payload["commune_code"],
        channel=channel,
    )
