"""The bench's history stage: 12 national months generated in SQL, then every query timed.

`load_history` adds, before the bench run's own month, `months` national months to the
store with `INSERT ... SELECT` statements over `numbers()` and `admin_units` (no events, no
pipeline): per month one `commune_programme_stats` row per commune and programme (about
2.6 million beneficiaries due, one time to pay per beneficiary paid), an alert for about
one commune in twenty, and `ledger_rows` rows of `ledger_payments` (5,000,000 = a
national month; beneficiaries are two rows each, schedule then outcome). The figures are
synthetic; only their volume matters for the query timings.

`page_query_latencies` times every live-page panel (streams/web/live_data.py) the way the page
runs them, drill-down included, plus the targets' progress and the drill-down's follow-up
list (read from the ledger).
"""

from __future__ import annotations

import time
from datetime import date

from streams.storage.base import Store

PROGRAMMES = (
    "social_assistance",
    "meritorious_people",
    "disability_allowance",
    "elderly_allowance",
)

STATS_SQL = """
INSERT INTO commune_programme_stats
SELECT period, province_code, commune_code, programme, due, paid, cashless,
       toUInt32(h % 3 = 0), toUInt32(h % 7 = 0), toUInt32(h % 5),
       map('bank_account', cashless - intDiv(cashless, 4), 'e_wallet', intDiv(cashless, 4),
           'cash_agent', paid - cashless),
       map('bank_account', toUInt64(cashless - intDiv(cashless, 4)) * 500000,
           'e_wallet', toUInt64(intDiv(cashless, 4)) * 500000,
           'cash_agent', toUInt64(paid - cashless) * 500000),
       map('invalid_account', toUInt32(h % 4), 'no_show', toUInt32(h % 6)),
       arrayMap(i -> toUInt32(3600 + cityHash64(h, i) % 604800), range(paid)),
       1, now64(3)
FROM (
    SELECT period, province_code, commune_code, programme,
           cityHash64(period, commune_code, programme) AS h,
           toUInt32(50 + h % 300) AS due,
           toUInt32(due - h % 20) AS paid,
           toUInt32(intDiv(paid * (20 + h % 70), 100)) AS cashless
    FROM (SELECT province_code, commune_code FROM admin_units FINAL)
    ARRAY JOIN {periods:Array(String)} AS period
    ARRAY JOIN {programmes:Array(String)} AS programme
)
"""

ALERTS_SQL = """
INSERT INTO alerts
SELECT 'low_cashless_rate', period, province_code, commune_code, '', 1, 0.2, 0.3,
       'synthetic history', 1, now64(3)
FROM (SELECT province_code, commune_code FROM admin_units FINAL)
ARRAY JOIN {periods:Array(String)} AS period
WHERE cityHash64(period, commune_code) % 20 = 0
"""

LEDGER_SQL = """
INSERT INTO ledger_payments (event_id, event_type, period, programme, beneficiary,
    province_code, commune_code, channel, occurred_ms, amount_vnd, reason, attempt, received_at)
WITH (SELECT groupArray((province_code, commune_code)) FROM admin_units FINAL) AS units
SELECT lower(hex(cityHash64({period:String}, number))) || toString(number),
       if(number % 2 = 0, 'payment.scheduled',
          ['payment.succeeded', 'payment.succeeded', 'payment.failed',
           'payment.returned'][1 + intDiv(number, 2) % 4]),
       {period:String}, {programmes:Array(String)}[1 + intDiv(number, 2) % 4],
       lower(hex(cityHash64({period:String}, intDiv(number, 2)))),
       units[1 + intDiv(number, 2) % length(units)].1,
       units[1 + intDiv(number, 2) % length(units)].2,
       ['bank_account', 'e_wallet', 'cash_agent'][1 + intDiv(number, 2) % 3],
       toInt64(toUnixTimestamp(toDate({period:String} || '-05')) * 1000 + number),
       500000, '', 1, now64(3)
FROM numbers({rows:UInt64})
"""


def history_periods(latest: str, months: int) -> list[str]:
    """The `months` periods (YYYY-MM) before `latest`, oldest first."""
    year, month = (int(part) for part in latest.split("-"))
    index = year * 12 + month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - months, index)]


def load_history(store: Store, latest: str, months: int, ledger_rows: int) -> float:
    """Add `months` generated national months before `latest`; returns the seconds taken."""
    periods = history_periods(latest, months)
    started = time.perf_counter()
    store.command(STATS_SQL, {"periods": periods, "programmes": list(PROGRAMMES)})
    store.command(ALERTS_SQL, {"periods": periods})
    for period in periods:
        store.command(
            LEDGER_SQL, {"period": period, "rows": ledger_rows, "programmes": list(PROGRAMMES)}
        )
    return time.perf_counter() - started


MERGES_SQL = "SELECT count() AS n FROM system.merges WHERE database = currentDatabase()"


def wait_for_merges(store: Store, timeout_s: float = 600.0) -> float:
    """Wait until ClickHouse has no merge running in the store's database (at most
    `timeout_s`); returns the seconds waited. The generated history arrives as a few huge
    inserts, and merging them takes both cores for about a minute: a store that gathered
    the same history over a year has long finished those merges, so the query timings start
    after them."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if not int(store.query(MERGES_SQL)[0]["n"]):
            break
        time.sleep(1.0)
    return time.perf_counter() - started


def page_query_latencies(store: Store, period: str, commune: int, rounds: int) -> list[float]:
    """Milliseconds per live-page query (every panel, drill-down, targets and follow-up list),
    `rounds` times."""
    from streams.web.live_data import (
        DRILL_PANELS,
        PAGE_PANELS,
        PageParams,
        followup,
        run_panel,
        target_progress,
    )

    params = PageParams(period=period, commune=commune)
    timings = []
    for _ in range(rounds):
        for query in (*PAGE_PANELS, *DRILL_PANELS):
            started = time.perf_counter()
            run_panel(store, query.key, params)
            timings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        target_progress(store, period, commune)
        timings.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        followup(store, period, commune)  # the drill-down's follow-up list, from the ledger
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def today_period() -> str:
    """This month as YYYY-MM (a fallback when the store holds no period)."""
    return date.today().strftime("%Y-%m")
