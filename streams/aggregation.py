"""Distinct-beneficiary counting as pure state transitions (no Faust, no I/O).

A beneficiary's status in a period is a set of flags that only turn on: due (scheduled),
paid, paid cashless. Re-applying an event changes nothing and arrival order does not
matter, so duplicates, redeliveries and replays after a crash leave the counts exact.

State is kept in buckets: every (period, commune) has BUCKETS buckets, each mapping the
pseudonyms of some of its beneficiaries to their flags. The agent writes a changed bucket
once per batch (one changelog message for many events), and commune totals are always
recounted from the buckets, never kept as a separate counter that a crash could desync.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from streams.ingest import PaymentFact

# Defined here, not imported from the simulators: the pipeline must not share code with the
# ground truth it is checked against.
CASHLESS_CHANNELS = frozenset({"bank_account", "e_wallet"})
COUNTS = ("beneficiaries_due", "beneficiaries_paid", "beneficiaries_paid_cashless")

DUE, PAID, PAID_CASHLESS = 1, 2, 4
BUCKETS = 64

Bucket = dict[str, int]


@dataclass(frozen=True)
class CommuneId:
    """A commune in a period."""

    period: str
    province_code: int
    commune_code: int

    @property
    def key(self) -> str:
        """Stable text form, also the prefix of its bucket keys."""
        return f"{self.period}|{self.province_code}|{self.commune_code}"

    def bucket_keys(self) -> list[str]:
        """Keys of all its buckets."""
        return [f"{self.key}|{i}" for i in range(BUCKETS)]


def commune_of(fact: PaymentFact) -> CommuneId:
    """The commune (and period) an event counts towards."""
    return CommuneId(fact.period, fact.province_code, fact.commune_code)


def bucket_key(fact: PaymentFact) -> str:
    """Key of the bucket holding the event's beneficiary."""
    return f"{commune_of(fact).key}|{int(fact.beneficiary[:8], 16) % BUCKETS}"


def flags_of(fact: PaymentFact) -> int:
    """The flags one event turns on."""
    if fact.event_type == "payment.scheduled":
        return DUE
    if fact.event_type == "payment.succeeded":
        return PAID | (PAID_CASHLESS if fact.channel in CASHLESS_CHANNELS else 0)
    return 0


def merge(bucket: Mapping[str, int] | None, fact: PaymentFact) -> Bucket | None:
    """The bucket after `fact`, or None when the fact changes nothing (a duplicate, say)."""
    before = (bucket or {}).get(fact.beneficiary)
    after = (before or 0) | flags_of(fact)
    if before == after:
        return None
    updated = dict(bucket or {})
    updated[fact.beneficiary] = after
    return updated


def count(buckets: Iterable[Mapping[str, int] | None]) -> dict[str, int]:
    """Distinct beneficiaries due, paid and paid cashless over the given buckets."""
    due = paid = cashless = 0
    for bucket in buckets:
        for flags in (bucket or {}).values():
            due += flags & DUE
            paid += (flags & PAID) >> 1
            cashless += (flags & PAID_CASHLESS) >> 2
    return dict(zip(COUNTS, (due, paid, cashless), strict=True))
