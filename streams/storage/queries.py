"""Result queries: the one place their SQL lives (the CLI, dashboards and tests reuse it).

Every level is rolled up from `commune_programme_stats`, whose rows hold distinct counts of
disjoint sets of beneficiaries, so sums are exact distinct counts; rates are computed from
the summed numerator and denominator, never averaged; time-to-pay quantiles are taken over
all the underlying values (ClickHouse's quantileExact: the value at rank floor(q * n)).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.read_model import COVERAGE_GAPS_SQL as COVERAGE_GAPS_SQL
from schemas.read_model import STATS, rate_sql
from streams.storage.base import Store

_MEASURES = f"""
    sum(s.beneficiaries_due) AS beneficiaries_due,
    sum(s.beneficiaries_paid) AS beneficiaries_paid,
    sum(s.beneficiaries_paid_cashless) AS beneficiaries_paid_cashless,
    {rate_sql("sum(s.beneficiaries_paid_cashless)", "sum(s.beneficiaries_due)")} AS cashless_rate,
    sum(s.beneficiaries_paid_twice) AS beneficiaries_paid_twice,
    sum(s.beneficiaries_paid_unknown) AS beneficiaries_paid_unknown,
    sum(s.payments_returned) AS payments_returned,
    sumMap(s.payments_by_channel) AS payments_by_channel,
    sumMap(s.amount_by_channel) AS amount_paid_vnd,
    sumMap(s.failures_by_reason) AS failures_by_reason,
    if(sum(length(s.seconds_to_pay)) = 0, NULL,
       quantileExactArray(0.5)(s.seconds_to_pay)) AS seconds_to_pay_p50,
    if(sum(length(s.seconds_to_pay)) = 0, NULL,
       quantileExactArray(0.9)(s.seconds_to_pay)) AS seconds_to_pay_p90
"""

NATION_TOTALS_SQL = f"""
SELECT s.period AS period, {_MEASURES}
FROM {STATS} AS s
GROUP BY period
ORDER BY period
"""  # noqa: S608 (constant fragments only; values go in as parameters)

PROVINCE_TOTALS_SQL = f"""
SELECT
    s.period AS period,
    s.province_code AS province_code,
    any(u.province_name) AS province_name,
    {_MEASURES}
FROM {STATS} AS s
LEFT JOIN admin_units AS u
    ON u.province_code = s.province_code AND u.commune_code = s.commune_code
GROUP BY period, province_code
ORDER BY period, province_code
"""  # noqa: S608 (constant fragments only; values go in as parameters)

COMMUNE_TOTALS_SQL = f"""
SELECT
    s.period AS period,
    s.province_code AS province_code,
    s.commune_code AS commune_code,
    any(u.province_name) AS province_name,
    any(u.commune_name) AS commune_name,
    {_MEASURES}
FROM {STATS} AS s
LEFT JOIN admin_units AS u
    ON u.province_code = s.province_code AND u.commune_code = s.commune_code
GROUP BY period, province_code, commune_code
ORDER BY period, province_code, commune_code
"""  # noqa: S608 (constant fragments only; values go in as parameters)

PROGRAMME_TOTALS_SQL = f"""
SELECT
    s.period AS period,
    s.province_code AS province_code,
    s.commune_code AS commune_code,
    s.programme AS programme,
    {_MEASURES}
FROM {STATS} AS s
GROUP BY period, province_code, commune_code, programme
ORDER BY period, province_code, commune_code, programme
"""  # noqa: S608 (constant fragments only; values go in as parameters)

DEAD_LETTERS_BY_CLASS_SQL = """
SELECT error_class, count() AS events
FROM dead_letters FINAL
GROUP BY error_class
ORDER BY events DESC, error_class
"""

ACTIVE_ALERTS_SQL = """
SELECT kind, period, province_code, commune_code, subject, value, threshold, message,
       raised_at
FROM alerts FINAL
WHERE active = 1
ORDER BY kind, period, province_code, commune_code, subject
"""

# Progress against targets (docs/targets.md), per commune in a period. A commune's target is
# its own for the period, else its province's, else {default_target} (ALERT_CASHLESS_TARGET);
# among overlapping ranges of one unit the one starting latest wins.
#   needed = ceil(target * due) - paid cashless   (beneficiaries still to move, at least 0)
#   days_left = deadline - {today}; needed_per_day = needed / greatest(days_left, 1)
# The dashboards' progress panel and the behind-target ranking read it.
TARGET_PROGRESS_SQL = f"""
WITH
    t AS (
        SELECT province_code, commune_code,
               argMax(target_rate, (period_from, version)) AS target_rate,
               argMax(deadline, (period_from, version)) AS deadline,
               argMax(responsible_unit, (period_from, version)) AS responsible_unit
        FROM targets FINAL
        WHERE period_from <= {{period:String}} AND period_to >= {{period:String}}
        GROUP BY province_code, commune_code
    ),
    c AS (
        SELECT s.province_code AS province_code, s.commune_code AS commune_code,
               sum(s.beneficiaries_due) AS due,
               sum(s.beneficiaries_paid_cashless) AS cashless
        FROM {STATS} AS s
        WHERE s.period = {{period:String}}
          AND ({{commune:UInt32}} = 0 OR s.commune_code = {{commune:UInt32}})
        GROUP BY province_code, commune_code
    ),
    e AS (
        SELECT c.province_code AS province_code, c.commune_code AS commune_code,
               c.due AS due, c.cashless AS cashless,
               multiIf(tc.commune_code != 0, 'commune', tp.province_code != 0, 'province',
                       'global') AS target_source,
               multiIf(tc.commune_code != 0, tc.target_rate, tp.province_code != 0,
                       tp.target_rate, {{default_target:Float64}}) AS target_rate,
               multiIf(tc.commune_code != 0, toNullable(tc.deadline), tp.province_code != 0,
                       toNullable(tp.deadline), NULL) AS deadline,
               multiIf(tc.commune_code != 0, tc.responsible_unit, tp.province_code != 0,
                       tp.responsible_unit, '') AS responsible_unit
        FROM c
        LEFT JOIN (SELECT * FROM t WHERE commune_code != 0) AS tc
            ON tc.province_code = c.province_code AND tc.commune_code = c.commune_code
        LEFT JOIN (SELECT * FROM t WHERE commune_code = 0) AS tp
            ON tp.province_code = c.province_code
    )
SELECT
    {{period:String}} AS period,
    e.province_code AS province_code,
    e.commune_code AS commune_code,
    any(u.province_name) AS province_name,
    any(u.commune_name) AS commune_name,
    any(e.due) AS beneficiaries_due,
    any(e.cashless) AS beneficiaries_paid_cashless,
    {rate_sql("any(e.cashless)", "any(e.due)")} AS cashless_rate,
    any(e.target_rate) AS target_rate,
    any(e.target_source) AS target_source,
    any(e.deadline) AS deadline,
    any(e.responsible_unit) AS responsible_unit,
    if(any(e.target_rate) = 0 OR any(e.due) = 0, NULL,
       round(any(e.cashless) / any(e.due) / any(e.target_rate), 6)) AS progress,
    toInt64(greatest(0, toInt64(ceil(round(any(e.target_rate) * any(e.due), 6)))
                        - toInt64(any(e.cashless)))) AS needed,
    if(isNull(any(e.deadline)), NULL,
       dateDiff('day', {{today:Date}}, assumeNotNull(any(e.deadline)))) AS days_left,
    if(isNull(any(e.deadline)), NULL,
       round(greatest(0, ceil(round(any(e.target_rate) * any(e.due), 6)) - any(e.cashless))
             / greatest(dateDiff('day', {{today:Date}}, assumeNotNull(any(e.deadline))), 1),
             3)) AS needed_per_day
FROM e
LEFT JOIN admin_units AS u
    ON u.province_code = e.province_code AND u.commune_code = e.commune_code
GROUP BY province_code, commune_code
ORDER BY province_code, commune_code
"""  # noqa: S608 (constant fragments only; values go in as parameters)

# The communes furthest behind their target as the deadline approaches: those still short
# of it, the most beneficiaries to move per remaining day first (past deadlines count one
# day), then the widest gap; communes on the global target (no deadline) last.
BEHIND_TARGET_SQL = f"""
SELECT *, round(target_rate - ifNull(cashless_rate, 0), 6) AS gap
FROM ({TARGET_PROGRESS_SQL})
WHERE needed > 0
ORDER BY needed_per_day DESC NULLS LAST, gap DESC, commune_code
"""  # noqa: S608 (constant text; values go in as parameters)

LATEST_PERIOD_SQL = "SELECT max(period) AS period FROM commune_programme_stats"

_INTS = frozenset(
    {
        "province_code",
        "commune_code",
        "beneficiaries_due",
        "beneficiaries_paid",
        "beneficiaries_paid_cashless",
        "beneficiaries_paid_twice",
        "beneficiaries_paid_unknown",
        "payments_returned",
        "events",
        "seconds_to_pay_p50",
        "seconds_to_pay_p90",
        "atms",
        "bank_branches",
        "post_offices",
        "mobile_money_agents",
        "needed",
        "days_left",
    }
)
_INT_MAPS = frozenset({"payments_by_channel", "amount_paid_vnd", "failures_by_reason"})


def clickhouse_text(value: datetime) -> str:
    """A DateTime64(3, 'UTC') value in ClickHouse's text form (`2023-06-20 07:30:15.123`), as
    the JSON outputs, the live page and reports show it; naive values are UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _int_map(v: Any) -> dict[str, int]:
    return {name: int(n) for name, n in sorted(v.items()) if int(n)}


def normalise_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Plain JSON values: 64-bit integers as ints (JSON formats quote them), timestamps in
    ClickHouse's text form (the client returns datetimes). Each column's conversion is chosen
    once (a column holds one type), not per value: a 3,321-row panel spent about 25 ms of
    Python per query the other way (docs/benchmarks.md)."""
    if not rows:
        return []
    converters: list[tuple[str, Any]] = []
    for k in rows[0]:
        if k in _INTS:
            converters.append((k, int))
        elif k in _INT_MAPS:
            converters.append((k, _int_map))
        else:
            first = next((r[k] for r in rows if r[k] is not None), None)
            if isinstance(first, datetime):
                converters.append((k, clickhouse_text))
    out = []
    for row in rows:
        new = dict(row)
        for k, convert in converters:
            v = new[k]
            if v is not None:
                new[k] = convert(v)
        out.append(new)
    return out


@dataclass(frozen=True)
class Results:
    """What a run produced, read back from ClickHouse."""

    nation: list[dict[str, Any]]
    provinces: list[dict[str, Any]]
    communes: list[dict[str, Any]]
    programmes: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    coverage: list[dict[str, Any]]
    # Progress against target per commune in the latest period (TARGET_PROGRESS_SQL).
    targets: list[dict[str, Any]] = field(default_factory=list)


def latest_period(store: Store) -> str | None:
    """The most recent period with statistics, or None before any."""
    rows = store.query(LATEST_PERIOD_SQL)
    return rows[0]["period"] or None if rows else None


def read_results(store: Store, default_target: float | None = None) -> Results:
    """Every level of statistics, dead letters, active alerts, the coverage ranking and the
    progress against targets (`default_target`: ALERT_CASHLESS_TARGET when not given)."""
    period = latest_period(store)
    if default_target is None:
        from streams.settings import Settings

        default_target = Settings().alert_cashless_target
    target_params = {
        "period": period,
        "default_target": default_target,
        "today": datetime.now(UTC).date(),
        "commune": 0,
    }

    def rows(sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return normalise_rows(store.query(sql, params))

    return Results(
        nation=rows(NATION_TOTALS_SQL),
        provinces=rows(PROVINCE_TOTALS_SQL),
        communes=rows(COMMUNE_TOTALS_SQL),
        programmes=rows(PROGRAMME_TOTALS_SQL),
        dead_letters=rows(DEAD_LETTERS_BY_CLASS_SQL),
        alerts=rows(ACTIVE_ALERTS_SQL),
        coverage=rows(COVERAGE_GAPS_SQL, {"period": period}) if period else [],
        targets=rows(TARGET_PROGRESS_SQL, target_params) if period else [],
    )
