"""The ledger: every accepted event in ClickHouse, and the figures recomputed from it.

The ledger is the system of record (docs/ledger.md). A batch
1. looks its event ids up in `ledger_ids`: an id seen before with the same content is a
   duplicate (dropped), with other content a conflicting duplicate (dead-lettered), whenever
   and by whichever worker the first copy was stored;
2. stores its new events (`ledger_payments`, `ledger_events`, then `ledger_ids`);
3. reads every touched commune-period back and folds it with the rules of
   `streams.domain.statistics`, a later version of a payment outcome superseding the earlier one
   (`current`). The row version is the number of distinct event ids the
   commune-period held when it was read: the ledger only grows, so a snapshot computed from
   less can never replace one computed from more, whichever worker wrote it and when.

Nothing here is cached: a worker's memory holds one batch's working set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson

from streams.domain.access_points import access_version, merge_access_point
from streams.domain.ingest import Ingested, PaymentFact
from streams.domain.ledger import Figures, current, digest, fact_of, figures_of, stored_at
from streams.domain.statistics import (
    CommuneId,
)
from streams.storage.sink import ClickHouseSink

PAYMENTS_TABLE = "ledger_payments"
EVENTS_TABLE = "ledger_events"
IDS_TABLE = "ledger_ids"

# The batch's ids go in as one newline-separated heredoc string, `$ids$...$ids$`, bound by
# clickhouse-connect's binary parameters (a `$name$` key with a bytes value is spliced into the
# query bytes as they are: clickhouse_connect/driver/binding.py 1.12.0, `_is_binary_bind_name`
# and the splice at the end of `bind_query`). `{ids:Array(String)}` escapes every character of
# every id in a Python generator, about a third of the look-up's CPU (docs/benchmarks.md). A
# heredoc ends at the first `$ids$` and splitByChar at every newline, so a batch with an id
# holding `$` or a newline takes the escaped query instead: exact either way.
KNOWN_IDS_SQL = """
SELECT event_id, groupUniqArray(digest) AS digests
FROM ledger_ids
WHERE event_id IN (SELECT arrayJoin(splitByChar('\\n', $ids$)))
GROUP BY event_id
"""

# The heredoc is part of the query text, which ClickHouse caps at max_query_size (262,144 bytes
# by default): a larger batch is looked up in pieces of this many bytes.
HEREDOC_BYTES = 200_000

KNOWN_IDS_ESCAPED_SQL = """
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


def heredoc_chunks(ids: Sequence[str], limit: int = HEREDOC_BYTES) -> list[bytes] | None:
    """`ids` as newline-separated UTF-8 pieces of at most `limit` bytes, cut between ids; None
    when a heredoc cannot carry them (an id holding `$` or a newline, or longer than `limit`)."""
    joined = "\n".join(ids)
    if "$" in joined or joined.count("\n") != len(ids) - 1:
        return None
    data = joined.encode()
    chunks, start = [], 0
    while len(data) - start > limit:
        end = data.rfind(b"\n", start, start + limit + 1)
        if end <= start:
            return None
        chunks.append(data[start:end])
        start = end + 1
    chunks.append(data[start:])
    return chunks


async def known_digests(sink: ClickHouseSink, ids: Sequence[str]) -> dict[str, set[str]]:
    """The stored digests of those of `ids` the ledger holds."""
    if not ids:
        return {}
    chunks = heredoc_chunks(ids)
    if chunks is None:
        rows = await sink.query(KNOWN_IDS_ESCAPED_SQL, {"ids": list(ids)})
    else:
        rows = []
        for chunk in chunks:
            rows += await sink.query(KNOWN_IDS_SQL, {"$ids$": chunk})
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
    """Recompute `communes` (commune-periods) from the ledger, in one query (the worker goes
    through the bounded cache of streams/storage/folded_cache.py, which gives the same
    figures with fewer reads)."""
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
    "Figures",
    "current",
    "digest",
    "known_digests",
    "read_access_points",
    "read_facts",
    "read_figures",
    "store",
]
