"""The bench's SQL reference: chDB computing the commune figures from the event file alone.

One SQL statement reads the JSON lines with `file(..., 'LineAsString')`, parses them with
ClickHouse's JSON functions, keeps one row per `event_id`, replaces the citizen ID by the
same keyed pseudonym as ingest (`HMAC('SHA256', citizen_id, key)`, ClickHouse's own HMAC,
first 128 bits), and derives per commune-period the beneficiaries due (any
`payment.scheduled`), paid (due, and a success stands) and paid cashless (a standing
success on a cashless channel). A success stands unless a `payment.returned` of the same
channel for the same beneficiary cancels it (counted per channel; the reference does not
replay event order, which the simulator's returns always follow).

It measures the engine's own speed for this work on this machine (`ratio_to_sql`); its
result is checked against the simulator's truth in tests/unit/streams/harness/test_sql_reference.py.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CASHLESS_CHANNELS = ("bank_account", "e_wallet")

REFERENCE_SQL = """
WITH parsed AS (
    SELECT JSONExtractString(line, 'event_id') AS event_id,
           JSONExtractString(line, 'event_type') AS event_type,
           JSONExtractRaw(line, 'payload') AS payload
    FROM file({path:String}, 'LineAsString')
    WHERE startsWith(event_type, 'payment.')
), events AS (
    SELECT event_id, any(event_type) AS event_type, any(payload) AS payload
    FROM parsed GROUP BY event_id
), facts AS (
    SELECT JSONExtractString(payload, 'period') AS period,
           JSONExtractUInt(payload, 'province_code') AS province_code,
           JSONExtractUInt(payload, 'commune_code') AS commune_code,
           lower(hex(substring(HMAC('SHA256', JSONExtractString(payload, 'citizen_id'),
                                    unhex({key:String})), 1, 16))) AS beneficiary,
           event_type,
           JSONExtractString(payload, 'channel') AS channel
    FROM events
), by_channel AS (
    SELECT period, province_code, commune_code, beneficiary, channel,
           countIf(event_type = 'payment.scheduled') AS scheduled,
           greatest(toInt64(countIf(event_type = 'payment.succeeded'))
                    - toInt64(countIf(event_type = 'payment.returned')), 0) AS standing
    FROM facts GROUP BY period, province_code, commune_code, beneficiary, channel
), people AS (
    SELECT period, province_code, commune_code, beneficiary,
           sum(scheduled) > 0 AS due,
           sum(standing) > 0 AS paid,
           sumIf(standing, channel IN {cashless:Array(String)}) > 0 AS cashless
    FROM by_channel GROUP BY period, province_code, commune_code, beneficiary
)
SELECT period, province_code, commune_code,
       countIf(due) AS beneficiaries_due,
       countIf(due AND paid) AS beneficiaries_paid,
       countIf(due AND cashless) AS beneficiaries_paid_cashless
FROM people
GROUP BY period, province_code, commune_code
ORDER BY period, province_code, commune_code
"""


@dataclass(frozen=True)
class SqlReference:
    """The reference's commune rows and how long the statement took."""

    rows: list[dict[str, Any]]
    seconds: float


def sql_reference(events_path: Path, key: bytes) -> SqlReference:
    """Run the reference statement over `events_path` in a throwaway chDB session."""
    from streams.storage.clickhouse_store import ClickHouseStore
    from streams.storage.factory import chdb_dsn

    with tempfile.TemporaryDirectory(prefix="welfare-sqlref-") as tmp:
        store = ClickHouseStore(chdb_dsn(Path(tmp)), "sqlref")
        store.open()
        try:
            started = time.perf_counter()
            rows = store.query(
                REFERENCE_SQL,
                {
                    "path": str(events_path.resolve()),
                    "key": key.hex(),
                    "cashless": list(CASHLESS_CHANNELS),
                },
            )
            seconds = time.perf_counter() - started
        finally:
            store.close()
    for row in rows:
        for name in (
            "province_code",
            "commune_code",
            "beneficiaries_due",
            "beneficiaries_paid",
            "beneficiaries_paid_cashless",
        ):
            row[name] = int(row[name])
    return SqlReference(rows=rows, seconds=seconds)
