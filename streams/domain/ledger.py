"""The ledger fold: pure rules over stored payment facts (no I/O; the reads and writes are in
streams/storage/ledger.py). Which stored version of a payment outcome stands (`current`), and
the figures of a commune-period folded from its facts with the rules of
streams/domain/statistics.py (`figures_of`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams.domain.ingest import Ingested, PaymentFact
from streams.domain.statistics import (
    KINDS,
    CommuneId,
    Stats,
    entry_of,
    stats_by_programme,
    status_of,
)

# A payment fact's fields, in ledger_payments' column order.
PAYMENT_COLUMNS = (
    "event_id",
    "event_type",
    "period",
    "programme",
    "beneficiary",
    "province_code",
    "commune_code",
    "channel",
    "occurred_ms",
    "amount_vnd",
    "reason",
    "attempt",
    "payment_id",
)
# The rank of a stored row: when it was first stored (ms), then its event id.
StoredAt = Mapping[str, int]


def digest(item: PaymentFact | Ingested) -> str:
    """The content digest of an accepted event: equal for copies, different for conflicts.

    A payment's `payment_id` is left out, so digests stored before it was carried (008) still
    match their copies; it never differs between two events with the same id unless their
    other content does too (an imported row's event id covers its identity)."""
    if isinstance(item, PaymentFact):
        content = orjson.dumps(list(item)[: len(PAYMENT_COLUMNS) - 1])
    else:
        content = orjson.dumps(
            [item.event_id, item.event_type, item.occurred_ms, item.payload],
            option=orjson.OPT_SORT_KEYS,
        )
    return hashlib.blake2b(content, digest_size=16).hexdigest()


def fact_of(row: dict[str, Any]) -> PaymentFact:
    """A payment fact from a ledger_payments row (JSON output quotes 64-bit integers)."""
    return PaymentFact(
        row["event_id"],
        row["event_type"],
        row["period"],
        row["programme"],
        row["beneficiary"],
        int(row["province_code"]),
        int(row["commune_code"]),
        row["channel"],
        int(row["occurred_ms"]),
        int(row["amount_vnd"]),
        row["reason"],
        int(row["attempt"]),
        row.get("payment_id") or "",
    )


def stored_at(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """When each event id was first stored (ms), from rows selecting `stored_ms`: a copy
    stored again after a crash keeps the rank of its first copy."""
    out: dict[str, int] = {}
    for row in rows:
        ms = int(row["stored_ms"])
        if row["event_id"] not in out or ms < out[row["event_id"]]:
            out[row["event_id"]] = ms
    return out


def current(facts: Iterable[PaymentFact], stored: StoredAt) -> list[PaymentFact]:
    """`facts` without the superseded versions of payment outcomes.

    Facts with the same non-empty (payment_id, event_type, attempt) are versions of one
    outcome (a corrected spreadsheet row is sent again as a new event with the same
    payment_id): only the one stored last counts, ties broken by the larger event id. The
    rank comes from the ledger only (never occurred_ms: a correction may change the date), so
    every worker keeps the same version. Facts without a payment_id are all kept."""
    facts = list(facts)
    latest: dict[tuple[str, str, int], tuple[int, str]] = {}
    for fact in facts:
        if fact.payment_id:
            key = (fact.payment_id, fact.event_type, fact.attempt)
            rank = (stored.get(fact.event_id, 0), fact.event_id)
            if key not in latest or rank > latest[key]:
                latest[key] = rank
    return [
        fact
        for fact in facts
        if not fact.payment_id
        or latest[(fact.payment_id, fact.event_type, fact.attempt)][1] == fact.event_id
    ]


def fold_order(fact: PaymentFact) -> tuple[Any, ...]:
    """A total order of a commune-period's events, so the fold never depends on read order."""
    return (
        fact.beneficiary,
        fact.occurred_ms,
        KINDS[fact.event_type],
        fact.channel,
        fact.amount_vnd,
        fact.event_id,
        fact.reason,
        fact.attempt,
        fact.programme,
        fact.payment_id,
    )


@dataclass
class Figures:
    """A commune-period recomputed from the ledger."""

    commune: CommuneId
    per_programme: dict[str, Stats] = field(default_factory=dict)
    version: int = 0  # distinct event ids of the commune-period when it was read

    def total(self) -> Stats:
        """All programmes together."""
        out = Stats()
        for stats in self.per_programme.values():
            out.update(stats)
        return out


def records(facts: Iterable[PaymentFact]) -> dict[str, dict[str, Any]]:
    """Each beneficiary's record (see streams.domain.statistics), one entry per event id.

    A beneficiary's programme is the one of their latest `payment.scheduled`, or of their
    first event when none was scheduled. An id stored twice with other content (two workers
    racing) counts once, with the content first in the fold order."""
    out: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for fact in sorted(facts, key=fold_order):
        if fact.event_id in seen:
            continue
        seen.add(fact.event_id)
        record = out.get(fact.beneficiary)
        if record is None:
            record = out[fact.beneficiary] = {"p": fact.programme, "e": []}
        if fact.event_type == "payment.scheduled":
            record["p"] = fact.programme
        record["e"].append(entry_of(fact))
    return out


def figures_of(
    commune: CommuneId, facts: Sequence[PaymentFact], stored: StoredAt | None = None
) -> Figures:
    """Fold a commune-period's ledger rows with the status rules, superseded versions left
    out (`current`, ranked by `stored`: first-stored ms per event id). Every programme seen in
    its events gets a row, zero or not: the set only grows, so a newer snapshot covers every
    row an older one wrote. The version counts every event id, superseded or not."""
    by_beneficiary = records(current(facts, stored or {}))
    per_programme = stats_by_programme(
        [(who, status_of(record)) for who, record in by_beneficiary.items()] for _ in (0,)
    )
    for fact in facts:
        per_programme.setdefault(fact.programme, Stats())
    ids = {fact.event_id for fact in facts}
    return Figures(commune, per_programme, len(ids))
