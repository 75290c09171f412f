"""The ledger: every accepted event in ClickHouse, and the figures recomputed from it.

The ledger is the system of record (docs/ledger.md). A batch
1. looks its event ids up in `ledger_ids`: an id seen before with the same content is a
   duplicate (dropped), with other content a conflicting duplicate (dead-lettered), whenever
   and by whichever worker the first copy was stored;
2. stores its new events (`ledger_payments`, `ledger_events`, then `ledger_ids`);
3. reads every touched commune-period back and folds it with the rules of
   `streams.aggregation`, a later version of a payment outcome superseding the earlier one
   (`current`). The row version is the number of distinct event ids the
   commune-period held when it was read: the ledger only grows, so a snapshot computed from
   less can never replace one computed from more, whichever worker wrote it and when.

Nothing here is cached: a worker's memory holds one batch's working set, plus the bounded
cache of `streams.folded_cache`, which gives `read_figures`'s figures with fewer reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from streams.access import access_version, merge_access_point
from streams.aggregation import (
    KINDS,
    CommuneId,
    ConflictingDuplicate,
    Stats,
    entry_of,
    stats_by_programme,
    status_of,
)
from streams.ingest import Ingested, PaymentFact
from streams.sink import ClickHouseSink

PAYMENTS_TABLE = "ledger_payments"
EVENTS_TABLE = "ledger_events"
IDS_TABLE = "ledger_ids"
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

KNOWN_IDS_SQL = """
SELECT event_id, groupUniqArray(digest) AS digests
FROM ledger_ids
WHERE event_id IN {ids:Array(String)}
GROUP BY event_id
"""

# A superset of the commune-periods asked for (every period x every commune); the caller
# keeps the ones it wants. Commune codes are unique in the country.
COMMUNE_PERIODS_SQL = """
SELECT event_id, event_type, period, programme, beneficiary, province_code, commune_code,
       channel, occurred_ms, amount_vnd, reason, attempt, payment_id,
       toUnixTimestamp64Milli(received_at) AS stored_ms
FROM ledger_payments
WHERE period IN {periods:Array(String)} AND commune_code IN {communes:Array(UInt32)}
"""

ACCESS_POINT_EVENTS_SQL = """
SELECT DISTINCT event_id, event_type, occurred_ms, payload
FROM ledger_events
WHERE event_type IN ('access_point.opened', 'access_point.updated', 'access_point.closed')
  AND subject IN {ids:Array(String)}
"""


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


def payment_row(fact: PaymentFact, at: datetime) -> dict[str, Any]:
    """The ledger_payments row of a payment fact."""
    return {**fact._asdict(), "received_at": at}


def event_row(item: Ingested, at: datetime) -> dict[str, Any]:
    """The ledger_events row of a non-payment event."""
    p = item.payload
    subject = p.get("access_point_id") or p.get("beneficiary") or ""
    return {
        "event_id": item.event_id,
        "event_type": item.event_type,
        "subject": str(subject),
        "province_code": p.get("province_code", 0),
        "commune_code": p.get("commune_code", 0),
        "occurred_ms": item.occurred_ms,
        "payload": orjson.dumps(p, option=orjson.OPT_SORT_KEYS).decode(),
        "received_at": at,
    }


async def known_digests(sink: ClickHouseSink, ids: Sequence[str]) -> dict[str, set[str]]:
    """The stored digests of those of `ids` the ledger holds."""
    if not ids:
        return {}
    rows = await sink.query(KNOWN_IDS_SQL, {"ids": list(ids)})
    return {r["event_id"]: set(r["digests"]) for r in rows}


async def store(
    sink: ClickHouseSink, new: Sequence[tuple[PaymentFact | Ingested, str]], at: datetime
) -> None:
    """Add new events to the ledger: their rows first, their ids last (see module doc)."""
    await sink.write(
        PAYMENTS_TABLE, [payment_row(item, at) for item, _ in new if isinstance(item, PaymentFact)]
    )
    await sink.write(
        EVENTS_TABLE, [event_row(item, at) for item, _ in new if isinstance(item, Ingested)]
    )
    await sink.write(
        IDS_TABLE, [{"event_id": item.event_id, "digest": d, "received_at": at} for item, d in new]
    )


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
    """Each beneficiary's record (see streams.aggregation), one entry per event id.

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


async def read_facts(
    sink: ClickHouseSink, communes: Iterable[CommuneId]
) -> tuple[dict[CommuneId, list[tuple[PaymentFact, int]]], dict[str, int]]:
    """The ledger rows of `communes` (commune-periods), in one query: per commune-period its
    facts with each row's stored ms, and when each event id was first stored (`stored_at`)."""
    wanted = set(communes)
    if not wanted:
        return {}, {}
    rows = await sink.query(
        COMMUNE_PERIODS_SQL,
        {
            "periods": list(sorted({c.period for c in wanted})),
            "communes": list(sorted({c.commune_code for c in wanted})),
        },
    )
    facts: dict[CommuneId, list[tuple[PaymentFact, int]]] = {c: [] for c in wanted}
    for row in rows:
        fact = fact_of(row)
        bucket = facts.get(CommuneId(fact.period, fact.province_code, fact.commune_code))
        if bucket is not None:
            bucket.append((fact, int(row["stored_ms"])))
    return facts, stored_at(rows)


async def read_figures(
    sink: ClickHouseSink, communes: Iterable[CommuneId]
) -> dict[CommuneId, Figures]:
    """Recompute `communes` (commune-periods) from the ledger, in one query."""
    facts, stored = await read_facts(sink, communes)
    return {c: figures_of(c, [f for f, _ in found], stored) for c, found in facts.items()}


async def read_access_points(sink: ClickHouseSink, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The current record of each access point, folded from all its ledger events in event
    order; its `version` counts the changes, so it only grows with the ledger."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await sink.query(ACCESS_POINT_EVENTS_SQL, {"ids": list(wanted)})
    events = sorted(
        (
            (int(r["occurred_ms"]), r["event_type"], r["event_id"], orjson.loads(r["payload"]))
            for r in rows
        ),
        key=lambda e: (access_version(e[1], e[0]), e[2]),
    )
    out: dict[str, dict[str, Any]] = {}
    for ms, event_type, _, payload in events:
        ap_id = payload["access_point_id"]
        record = merge_access_point(out.get(ap_id), event_type, ms, payload)
        if record is not None:
            out[ap_id] = record
    return out


__all__ = [
    "ConflictingDuplicate",
    "Figures",
    "current",
    "digest",
    "known_digests",
    "read_access_points",
    "read_facts",
    "read_figures",
    "store",
]
