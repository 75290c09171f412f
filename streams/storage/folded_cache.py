"""A bounded cache of commune-periods read from the ledger, checked against it on every use.

`streams.storage.ledger.read_figures` reads every row of each commune-period a batch touches (and of
the months before and after it) and folds them. `FoldedCache.read` gives the same figures with
fewer rows read. It keeps the rows it read of the commune-periods it saw last (LRU, at most
`max_facts` rows in all) and asks the ledger first, in one GROUP BY, for the fingerprint of
every wanted commune-period: its number of rows and two 64-bit sums of an MD5 of every column
of each row (`received_at` included; the cached rows' own fingerprint is computed when first
compared). For each commune-period:
- no rows in the ledger: empty figures, nothing read;
- the fingerprint equals the cached rows' plus the rows this worker has just stored for it:
  those rows are exactly what the ledger holds (it only grows; a row another worker added, a
  copy stored again or a merge changes the fingerprint), so they are folded, nothing read
  (and when nothing was added, e.g. a neighbour month, the cached fold is reused);
- anything else: its rows are read and folded as `read_figures` does, and cached.

Exactness never depends on the cache: the fold always runs on a set of rows whose fingerprint
equals the ledger's at that moment, a late event for a period nobody touched for months is a
miss and is read, and the figures equal `read_figures`'s
(tests/integration/streams/storage/test_folded_cache.py). The cache holds only what the ledger
holds (pseudonyms, never a citizen ID).
"""

from __future__ import annotations

import calendar
import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from streams.domain.ingest import Ingested, PaymentFact
from streams.domain.statistics import CommuneId
from streams.storage import ledger
from streams.storage.ledger import Figures
from streams.storage.sink import ClickHouseSink

_MASK = (1 << 64) - 1

# The same bytes as `row_hash` below: the columns as text, each followed by a NUL.
FINGERPRINTS_SQL = """
WITH MD5(concat(event_id, '\\0', event_type, '\\0', period, '\\0', programme, '\\0',
                beneficiary, '\\0', toString(province_code), '\\0', toString(commune_code),
                '\\0', channel, '\\0', toString(occurred_ms), '\\0', toString(amount_vnd),
                '\\0', reason, '\\0', toString(attempt), '\\0', payment_id, '\\0',
                toString(toUnixTimestamp64Milli(received_at)), '\\0')) AS m
SELECT period, province_code, commune_code, count() AS n,
       sumWithOverflow(reinterpretAsUInt64(substring(m, 1, 8))) AS h1,
       sumWithOverflow(reinterpretAsUInt64(substring(m, 9, 8))) AS h2
FROM ledger_payments
WHERE period IN {periods:Array(String)} AND commune_code IN {communes:Array(UInt32)}
GROUP BY period, province_code, commune_code
"""

Fingerprint = tuple[int, int, int]  # rows, sum of the first and of the second MD5 halves
EMPTY: Fingerprint = (0, 0, 0)


def row_hash(fact: PaymentFact, stored_ms: int) -> tuple[int, int]:
    """The two 64-bit halves of the MD5 `FINGERPRINTS_SQL` computes for a ledger row."""
    text = "".join(f"{value}\0" for value in (*fact, stored_ms))
    digest = hashlib.md5(text.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "little"), int.from_bytes(digest[8:], "little")


def add(fingerprint: Fingerprint, rows: Iterable[tuple[PaymentFact, int]]) -> Fingerprint:
    """`fingerprint` with `rows` (fact, stored ms) added."""
    n, h1, h2 = fingerprint
    for fact, ms in rows:
        a, b = row_hash(fact, ms)
        n, h1, h2 = n + 1, (h1 + a) & _MASK, (h2 + b) & _MASK
    return n, h1, h2


def stored_ms(at: datetime) -> int:
    """`received_at` as ClickHouse stores it in DateTime64(3): truncated to the millisecond."""
    return calendar.timegm(at.utctimetuple()) * 1000 + at.microsecond // 1000


@dataclass
class _Entry:
    rows: list[tuple[PaymentFact, int]]  # (fact, stored ms) as the ledger holds them
    fingerprint: Fingerprint | None = None  # computed when first compared
    figures: Figures | None = None  # the fold of `rows`, kept while they are unchanged

    def extended_by(self, added: Sequence[tuple[PaymentFact, int]]) -> Fingerprint:
        """The fingerprint of these rows plus `added`; hashed only when the counts match."""
        if self.fingerprint is None:
            self.fingerprint = add(EMPTY, self.rows)
        return add(self.fingerprint, added)


class FoldedCache:
    """The commune-periods last read (at most `max_facts` rows in all; 0 caches nothing)."""

    def __init__(self, max_facts: int) -> None:
        self.max_facts = max_facts
        self._entries: OrderedDict[CommuneId, _Entry] = OrderedDict()
        self._facts = 0
        self.hits = self.misses = 0

    @property
    def facts(self) -> int:
        """Rows held."""
        return self._facts

    async def read(
        self,
        sink: ClickHouseSink,
        communes: Iterable[CommuneId],
        stored: Sequence[tuple[PaymentFact | Ingested, str]] = (),
        at: datetime | None = None,
    ) -> dict[CommuneId, Figures]:
        """The figures of `communes`, equal to `ledger.read_figures`'s; `stored`: the events
        this worker has just added to the ledger at `at` (`ledger.store`)."""
        wanted = set(communes)
        if not wanted:
            return {}
        if not self.max_facts:
            return await ledger.read_figures(sink, wanted)
        added: dict[CommuneId, list[tuple[PaymentFact, int]]] = {}
        if at is not None:
            ms = stored_ms(at)
            for item, _ in stored:
                if isinstance(item, PaymentFact):
                    key = CommuneId(item.period, item.province_code, item.commune_code)
                    added.setdefault(key, []).append((item, ms))
        now = await self._fingerprints(sink, wanted)
        out: dict[CommuneId, Figures] = {}
        missing: set[CommuneId] = set()
        for commune in wanted:
            fingerprint = now.get(commune, EMPTY)
            entry = self._entries.get(commune)
            if fingerprint == EMPTY:
                out[commune] = ledger.figures_of(commune, [])
                self._drop(commune)
            elif (
                entry is not None
                and fingerprint[0] == len(entry.rows) + len(added.get(commune, ()))
                and fingerprint == entry.extended_by(added.get(commune, ()))
            ):
                self.hits += 1
                if commune in added or entry.figures is None:
                    entry = _Entry(entry.rows + added.get(commune, []), fingerprint)
                    entry.figures = _fold(commune, entry.rows)
                self._put(commune, entry)
                out[commune] = entry.figures
            else:
                missing.add(commune)
        if missing:
            self.misses += len(missing)
            facts, first_stored = await ledger.read_facts(sink, missing)
            for commune, rows in facts.items():
                figures = ledger.figures_of(commune, [f for f, _ in rows], first_stored)
                self._put(commune, _Entry(rows, figures=figures))
                out[commune] = figures
        return out

    async def _fingerprints(
        self, sink: ClickHouseSink, wanted: set[CommuneId]
    ) -> dict[CommuneId, Fingerprint]:
        rows = await sink.query(
            FINGERPRINTS_SQL,
            {
                "periods": sorted({c.period for c in wanted}),
                "communes": sorted({c.commune_code for c in wanted}),
            },
        )
        return {
            CommuneId(r["period"], int(r["province_code"]), int(r["commune_code"])): (
                int(r["n"]),
                int(r["h1"]),
                int(r["h2"]),
            )
            for r in rows
        }

    def _put(self, commune: CommuneId, entry: _Entry) -> None:
        self._drop(commune)
        if len(entry.rows) > self.max_facts:
            return
        self._entries[commune] = entry
        self._facts += len(entry.rows)
        while self._facts > self.max_facts:
            _, oldest = self._entries.popitem(last=False)
            self._facts -= len(oldest.rows)

    def _drop(self, commune: CommuneId) -> None:
        entry = self._entries.pop(commune, None)
        if entry is not None:
            self._facts -= len(entry.rows)


def _fold(commune: CommuneId, rows: list[tuple[PaymentFact, int]]) -> Figures:
    """Fold cached rows the way `ledger.read_figures` folds rows it reads."""
    first: dict[str, int] = {}
    for fact, ms in rows:
        if fact.event_id not in first or ms < first[fact.event_id]:
            first[fact.event_id] = ms
    return ledger.figures_of(commune, [fact for fact, _ in rows], first)
