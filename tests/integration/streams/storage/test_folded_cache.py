"""The folded commune-period cache (streams/storage/folded_cache.py) on real chDB: its fingerprint
is the one ClickHouse computes, and its figures equal a full read of the ledger whatever other
writers, repeated copies and evictions do."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from streams.domain.ingest import Arrival, PaymentFact, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from streams.domain.statistics import CommuneId
from streams.storage import ledger
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.folded_cache import EMPTY, FINGERPRINTS_SQL, FoldedCache, add, stored_ms
from streams.storage.sink import ClickHouseSink
from tests.support.scenarios import simulate, small_scenario

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def facts(binh_dinh: Any) -> list[PaymentFact]:
    generated, _ = simulate(small_scenario(binh_dinh, 150, 15))
    pseudonymize = Pseudonymizer(b"k" * 32)
    out = []
    for event in generated:
        if not str(event["event_type"]).startswith("payment."):
            continue
        _, items = ingest_message(orjson.dumps(event), pseudonymize, Arrival.at())
        out += [i for i in items if isinstance(i, PaymentFact)]
    return out


def commune_of(fact: PaymentFact) -> CommuneId:
    return CommuneId(fact.period, fact.province_code, fact.commune_code)


def test_the_fingerprint_is_the_one_clickhouse_computes(
    store: ClickHouseStore, facts: list[PaymentFact]
) -> None:
    """Same MD5 bytes, same sums, and received_at truncated to the millisecond the way
    clickhouse-connect writes DateTime64(3) (datatypes/temporal.py, DateTime64 `_to_int`)."""
    sink = ClickHouseSink(store)
    at = datetime(2026, 1, 2, 3, 4, 5, 678999, tzinfo=UTC)
    some = facts[:40]
    asyncio.run(ledger.store(sink, [(f, ledger.digest(f)) for f in some], at))
    rows = store.query(
        FINGERPRINTS_SQL,
        {
            "periods": sorted({f.period for f in some}),
            "communes": sorted({f.commune_code for f in some}),
        },
    )
    found = {
        (r["period"], int(r["commune_code"])): (int(r["n"]), int(r["h1"]), int(r["h2"]))
        for r in rows
    }
    expected: dict[tuple[str, int], Any] = {}
    for f in some:
        key = (f.period, f.commune_code)
        expected[key] = add(expected.get(key, EMPTY), [(f, stored_ms(at))])
    assert stored_ms(at) % 1000 == 678
    assert found == expected


def test_figures_equal_a_full_read_whatever_other_writers_do(
    store: ClickHouseStore, facts: list[PaymentFact]
) -> None:
    """Two workers with their own caches store interleaved batches (events of every period,
    shuffled), a third writer stores rows behind both caches' backs (another worker, and
    copies stored again as after a crash), and the caches are small enough to evict: after
    every batch each worker's cached figures equal `ledger.read_figures`, for the touched
    commune-periods and their neighbours, and the cache both hit and missed."""
    sink = ClickHouseSink(store)
    rng = random.Random(3)
    shuffled = facts[:]
    rng.shuffle(shuffled)
    biggest = max(sum(1 for f in facts if commune_of(f) == c) for c in map(commune_of, facts))
    caches = [FoldedCache(biggest * 2), FoldedCache(biggest * 2)]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    stored_ids: set[str] = set()
    for n, i in enumerate(range(0, len(shuffled), 37)):
        at += timedelta(milliseconds=1013)
        batch = [f for f in shuffled[i : i + 37] if f.event_id not in stored_ids]
        stored_ids |= {f.event_id for f in batch}
        new = [(f, ledger.digest(f)) for f in batch]
        if n % 5 == 4:  # a writer no cache hears of: new rows and a copy stored again
            again = rng.sample(sorted(stored_ids), 3)
            copies = [(f, ledger.digest(f)) for f in facts if f.event_id in again]
            asyncio.run(ledger.store(sink, new + copies, at))
            new = []
            continue
        asyncio.run(ledger.store(sink, new, at))
        cache = caches[n % 2]
        touched = {commune_of(f) for f in batch}
        wanted = touched | {c.previous() for c in touched} | {c.next() for c in touched}
        got = asyncio.run(cache.read(sink, wanted, new, at))
        assert got == asyncio.run(ledger.read_figures(sink, wanted))
        assert cache.facts <= cache.max_facts
    assert all(c.hits > 0 and c.misses > 0 for c in caches)


def test_a_late_event_for_an_evicted_period_is_exact(
    store: ClickHouseStore, facts: list[PaymentFact]
) -> None:
    """A cache of one commune-period's rows: a late event for another, long evicted one is
    read from the ledger and counted."""
    sink = ClickHouseSink(store)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    communes = sorted({commune_of(f) for f in facts}, key=lambda c: c.key)
    old, other = communes[0], communes[-1]
    old_facts = [f for f in facts if commune_of(f) == old]
    late, early = old_facts[-1], old_facts[:-1]
    cache = FoldedCache(max(len(early), sum(1 for f in facts if commune_of(f) == other)))
    new = [(f, ledger.digest(f)) for f in early]
    asyncio.run(ledger.store(sink, new, at))
    asyncio.run(cache.read(sink, {old}, new, at))
    new = [(f, ledger.digest(f)) for f in facts if commune_of(f) == other]
    asyncio.run(ledger.store(sink, new, at))
    asyncio.run(cache.read(sink, {other}, new, at))
    at += timedelta(days=90)
    asyncio.run(ledger.store(sink, [(late, ledger.digest(late))], at))
    got = asyncio.run(cache.read(sink, {old}, [(late, ledger.digest(late))], at))
    assert got == asyncio.run(ledger.read_figures(sink, {old}))
    assert got[old].version == len({f.event_id for f in old_facts})
