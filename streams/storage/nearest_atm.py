"""Each commune's distance to its nearest open ATM, kept in `commune_nearest_atm`
(schemas/clickhouse/010_nearest_atm.sql) so the coverage-gap queries read it instead of
crossing every commune with every open ATM per query.

`refresh` recomputes every commune in one `INSERT ... SELECT` from one read of
`access_points FINAL`: the open ATMs and the sum of the rows' versions come from the same
scalar subquery, so the distances and their version describe the same state. An access point's
version counts its changes in the ledger, so a refresh that saw fewer changes carries a lower
version, and `FINAL` (ReplacingMergeTree(version)) keeps the one that saw the most: the last
writer of `access_points` reads after every write and wins, whichever refresh lands last.

The worker refreshes after every batch that touched an access point (a repeated event too, so
a crash between the two writes is repaired by the redelivery); `migrate` refreshes when the
table is empty or the units were (re)seeded. The cost is communes x open ATMs haversines, once
per such batch instead of once per query.
"""

from __future__ import annotations

from streams.storage.base import Store
from streams.storage.sink import ClickHouseSink

TABLE = "commune_nearest_atm"

# The haversine of the coverage-gap query before this table (schemas/read_model.py history),
# term for term, so the stored kilometres are the same floats. The open ATMs are joined as rows
# (CROSS JOIN, then `min` per commune) rather than folded with `arrayMin` over the snapshot
# array: the lambda evaluated communes x ATMs values in one block (about 730 MB at 3,321 x
# 2,809), while the join streams them in blocks and keeps one running minimum per commune
# (about 40 MB), for the same CPU and the same floats (docs/benchmarks.md). With no ATM open,
# one placeholder row keeps every commune in the result, with has_atm = 0.
REFRESH_SQL = """
INSERT INTO commune_nearest_atm
    (province_code, commune_code, has_atm, nearest_atm_km, version, updated_at)
WITH (
    SELECT tuple(sum(version),
                 groupArrayIf((latitude, longitude), is_open = 1 AND kind = 'atm'))
    FROM access_points FINAL
) AS snapshot
SELECT u.province_code, u.commune_code,
       toUInt8(notEmpty(snapshot.2)) AS has_atm,
       if(has_atm = 0, 0.0,
          min(2 * 6371.0 * asin(sqrt(
                  pow(sin(radians(a.lat - u.latitude) / 2), 2)
                  + cos(radians(u.latitude)) * cos(radians(a.lat))
                    * pow(sin(radians(a.lon - u.longitude) / 2), 2))))) AS nearest_atm_km,
       snapshot.1, now64(3)
FROM admin_units AS u FINAL
CROSS JOIN (
    SELECT p.1 AS lat, p.2 AS lon
    FROM (SELECT arrayJoin(if(empty(snapshot.2), [(0.0, 0.0)], snapshot.2)) AS p)
) AS a
GROUP BY u.province_code, u.commune_code
"""


def refresh(store: Store) -> None:
    """Recompute every commune's nearest open ATM from `access_points` (see module doc)."""
    store.command(REFRESH_SQL)


async def refresh_with_retry(sink: ClickHouseSink) -> None:
    """`refresh` through the sink, retried while the store is down."""
    await sink.command(REFRESH_SQL)


def refresh_if_missing(store: Store, seeded: bool) -> None:
    """Refresh when the units were just (re)seeded or the table is empty (a store migrated
    before the table existed)."""
    if seeded or not int(store.query(f"SELECT count() AS n FROM {TABLE}")[0]["n"]):  # noqa: S608
        refresh(store)
