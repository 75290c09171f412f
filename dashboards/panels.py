# ruff: noqa: S608 - the f-strings below only splice in constant SQL fragments; values reach
# the SQL as Grafana template variables, validated by the caller (see dashboards.macros).
"""Every panel query of the dashboards: the one place their SQL lives.

The SQL uses the grafana-clickhouse-datasource macros and template variables
(`$__timeFilter(col)`, `$__fromTime`, `$__toTime`, `$__timeInterval(col)`, `$__interval_s`,
`${name}`, `${name:singlequote}`); `dashboards.macros.expand` turns them into plain SQL the
same way, for the tests and the worker's live page.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.read_model import COVERAGE_GAPS_SQL, NO_VALUE, STATS, rate_sql

DATASOURCE_UID = "welfare-clickhouse"
DATASOURCE_TYPE = "grafana-clickhouse-datasource"
# The programme variable's "All": the live page's parameter, and the dashboards' custom
# all-value, which Grafana substitutes raw whatever the format (see dashboards.macros), so it
# is written as the SQL string literal the filter compares with.
ALL = "__all"
ALL_VALUE = "'__all'"

# Numerator, denominator and rate, summed over the grouped statistics rows; the rate is NULL
# when nobody is due (schemas/read_model.py, the empty-denominator rule). STATS (one
# statistics snapshot per key) is shared with streams.storage.queries.
RATE = f"""sum(s.beneficiaries_paid_cashless) AS paid_cashless,
    sum(s.beneficiaries_due) AS due,
    {rate_sql("paid_cashless", "due")} AS cashless_rate"""
PROGRAMME_FILTER = "(${programme:singlequote} = '__all' OR s.programme = ${programme:singlequote})"
PERIOD_FILTER = "s.period = ${period:singlequote}"
# Commune and province variables are empty until the first statistics row exists: quoted and
# converted, an empty value matches nothing (the panel says "No data") instead of breaking
# the SQL.
COMMUNE = "toUInt32OrZero(${commune:singlequote})"
PROVINCE = "toUInt16OrZero(${province:singlequote})"
COMMUNE_FILTER = f"""{PERIOD_FILTER} AND s.commune_code = {COMMUNE}
  AND {PROGRAMME_FILTER}"""


def map_breakdown(column: str, label: str, total: str, where: str) -> str:
    """SQL summing a Map column of the statistics by key: one row per `label` with `total`."""
    return f"""SELECT {label}, sum(n) AS {total}
FROM (
    SELECT arrayJoin(mapKeys(s.{column})) AS {label},
           s.{column}[{label}] AS n
    FROM {STATS} AS s
    WHERE {where}
)
GROUP BY {label}
ORDER BY {total} DESC"""


@dataclass(frozen=True)
class PanelQuery:
    """A panel's query: its SQL, the columns the panel reads, and how Grafana draws it."""

    key: str
    title: str
    sql: str
    columns: tuple[str, ...]
    panel_type: str = "table"
    query_type: str = "table"  # "table" or "timeseries" (the plugin's queryType)
    description: str = ""


NATION_STAT = PanelQuery(
    "nation_stat",
    "Paid cashless / due",
    f"""SELECT
    sum(s.beneficiaries_paid_cashless) AS paid_cashless,
    sum(s.beneficiaries_due) AS due,
    {rate_sql("paid_cashless", "due", 12)} AS cashless_rate,
    concat(toString(paid_cashless), ' / ', toString(due), ' (',
           ifNull(concat(toString(round(100 * cashless_rate, 2)), '%'), '{NO_VALUE}'),
           ')') AS headline
FROM {STATS} AS s
WHERE s.period = ${{period:singlequote}}""",
    ("paid_cashless", "due", "cashless_rate", "headline"),
    "stat",
    description="Beneficiaries paid through a cashless channel over beneficiaries due.",
)

PROVINCE_STATS = PanelQuery(
    "province_stats",
    "Provinces: paid cashless / due",
    f"""SELECT
    s.province_code AS province_code,
    any(u.province_name) AS province,
    {RATE}
FROM {STATS} AS s
LEFT JOIN admin_units AS u ON u.commune_code = s.commune_code
WHERE s.period = ${{period:singlequote}}
GROUP BY s.province_code
ORDER BY cashless_rate ASC, due DESC""",
    ("province_code", "province", "paid_cashless", "due", "cashless_rate"),
    description="Provinces ranked from the lowest cashless rate.",
)

TREND = PanelQuery(
    "trend",
    "Cashless rate by period",
    f"""SELECT
    s.period AS period,
    {RATE}
FROM {STATS} AS s
GROUP BY period
ORDER BY period""",
    ("period", "paid_cashless", "due", "cashless_rate"),
    "barchart",
)

WORST_COMMUNES = PanelQuery(
    "worst_communes",
    "Communes with the lowest cashless rate",
    f"""SELECT
    any(u.province_name) AS province,
    any(u.commune_name) AS commune,
    s.commune_code AS commune_code,
    {RATE}
FROM {STATS} AS s
LEFT JOIN admin_units AS u ON u.commune_code = s.commune_code
WHERE s.period = ${{period:singlequote}}
GROUP BY s.commune_code
HAVING due >= 20
ORDER BY cashless_rate ASC, due DESC, commune_code
LIMIT 20""",
    ("province", "commune", "commune_code", "paid_cashless", "due", "cashless_rate"),
)

COMMUNE_TABLE = PanelQuery(
    "commune_table",
    "All communes",
    f"""SELECT
    any(u.province_name) AS province,
    any(u.commune_name) AS commune,
    s.commune_code AS commune_code,
    sum(s.beneficiaries_paid_cashless) AS paid_cashless,
    sum(s.beneficiaries_paid) AS paid,
    sum(s.beneficiaries_due) AS due,
    round(paid_cashless / due, 6) AS cashless_rate,
    sumMap(s.failures_by_reason) AS failures_by_reason
FROM {STATS} AS s
LEFT JOIN admin_units AS u ON u.commune_code = s.commune_code
WHERE s.period = ${{period:singlequote}}
GROUP BY s.commune_code
ORDER BY province, commune""",
    ("province", "commune", "commune_code", "paid_cashless", "paid", "due", "cashless_rate"),
)

CHANNEL_MIX = PanelQuery(
    "channel_mix",
    "Channel mix (standing payments)",
    map_breakdown("payments_by_channel", "channel", "payments", PERIOD_FILTER),
    ("channel", "payments"),
    "piechart",
)

COMMUNE_STAT = PanelQuery(
    "commune_stat",
    "Commune: paid cashless / paid / due",
    f"""SELECT
    sum(s.beneficiaries_paid_cashless) AS paid_cashless,
    sum(s.beneficiaries_paid) AS paid,
    sum(s.beneficiaries_due) AS due,
    if(due = 0, 0, paid_cashless / due) AS cashless_rate,
    sum(s.beneficiaries_paid_twice) AS paid_twice,
    sum(s.beneficiaries_paid_unknown) AS paid_unknown,
    sum(s.payments_returned) AS returned
FROM {STATS} AS s
WHERE {COMMUNE_FILTER}""",
    ("paid_cashless", "paid", "due", "cashless_rate", "paid_twice", "paid_unknown", "returned"),
    "stat",
)

COMMUNE_FAILURES = PanelQuery(
    "commune_failures",
    "Failed attempts by reason",
    map_breakdown("failures_by_reason", "reason", "failures", COMMUNE_FILTER),
    ("reason", "failures"),
    "barchart",
)

COMMUNE_TIME_TO_PAY = PanelQuery(
    "commune_time_to_pay",
    "Days from scheduled to paid (median, p90)",
    f"""SELECT
    round(quantileExactArray(0.5)(s.seconds_to_pay) / 86400, 2) AS median_days,
    round(quantileExactArray(0.9)(s.seconds_to_pay) / 86400, 2) AS p90_days
FROM {STATS} AS s
WHERE {COMMUNE_FILTER}""",
    ("median_days", "p90_days"),
    "stat",
)

COMMUNE_PROGRAMMES = PanelQuery(
    "commune_programmes",
    "By programme",
    f"""SELECT
    s.programme AS programme,
    s.beneficiaries_due AS due,
    s.beneficiaries_paid AS paid,
    s.beneficiaries_paid_cashless AS paid_cashless,
    s.amount_by_channel AS amount_by_channel
FROM {STATS} AS s
WHERE s.period = ${{period:singlequote}} AND s.commune_code = {COMMUNE}
ORDER BY programme""",
    ("programme", "due", "paid", "paid_cashless", "amount_by_channel"),
)

# Counts per kind, never the subject: a beneficiary alert's subject is a pseudonym, which the
# aggregate reader may not read (its grant on `alerts` leaves `subject` out); the pseudonyms
# are in "Who to follow up", through the follow-up data source.
COMMUNE_ALERTS = PanelQuery(
    "commune_alerts",
    "Active alerts",
    f"""SELECT kind, period, count() AS alerts, any(message) AS message,
    max(raised_at) AS raised_at
FROM alerts FINAL
WHERE active = 1 AND commune_code = {COMMUNE}
GROUP BY kind, period
ORDER BY raised_at DESC, kind
LIMIT 200""",
    ("kind", "period", "alerts", "message", "raised_at"),
    description="Active alerts of the commune, counted per kind and period (a beneficiary "
    "alert counts each beneficiary once); the message is one of the kind's messages.",
)

# Who the commune's staff should follow up: pseudonyms, so read through the follow-up data
# source, whose ClickHouse user may read the `followup` table and nothing else
# (dashboards/provisioning/clickhouse/grafana-followup.xml); `welfare-monitor followup
# refresh` fills it (docs/server-mode.md).
COMMUNE_FOLLOWUP = PanelQuery(
    "commune_followup",
    "Who to follow up",
    f"""SELECT category, beneficiary, programme, reason, last_event_at
FROM followup FINAL
WHERE active = 1 AND period = ${{period:singlequote}} AND commune_code = {COMMUNE}
  AND (${{programme:singlequote}} = '__all' OR programme = ${{programme:singlequote}})
ORDER BY category, beneficiary
LIMIT 1000""",
    ("category", "beneficiary", "programme", "reason", "last_event_at"),
    description="Unpaid, failed (with the last reason) and paid-twice beneficiaries, as "
    "pseudonyms (`welfare-monitor explain` shows one's events). Read through the "
    "follow-up data source; refreshed by `welfare-monitor followup refresh`.",
)
FOLLOWUP_PANELS = (COMMUNE_FOLLOWUP,)

ALERT_ANNOTATIONS = PanelQuery(
    "alert_annotations",
    "Alerts",
    f"""SELECT raised_at AS time, message AS text, kind AS tags
FROM alerts FINAL
WHERE active = 1 AND commune_code = {COMMUNE} AND $__timeFilter(raised_at)
ORDER BY time""",
    ("time", "text", "tags"),
)

COVERAGE_GAPS = PanelQuery(
    "coverage_gaps",
    "Coverage gaps, ranked",
    COVERAGE_GAPS_SQL.replace("{period:String}", "${period:singlequote}").strip(),
    (
        "province_code",
        "commune_code",
        "province_name",
        "commune_name",
        "beneficiaries_due",
        "beneficiaries_paid_cashless",
        "cashless_rate",
        "atms",
        "bank_branches",
        "mobile_money_agents",
        "access_points_per_10k",
        "nearest_atm_km",
        "gap_score",
    ),
    description="gap_score = unserved x (1 + min(nearest ATM km, 50)/10) / "
    "(1 + cashless access points per 10,000 / 10); see the README.",
)

BENEFICIARIES_PER_ATM = PanelQuery(
    "beneficiaries_per_atm",
    "Beneficiaries per ATM, by province",
    f"""SELECT
    any(u.province_name) AS province,
    sum(s.beneficiaries_due) AS due,
    any(a.atms) AS atms,
    if(atms = 0, NULL, round(due / atms, 1)) AS beneficiaries_per_atm
FROM {STATS} AS s
LEFT JOIN admin_units AS u ON u.commune_code = s.commune_code
LEFT JOIN (
    SELECT province_code, countIf(kind = 'atm') AS atms
    FROM (SELECT * FROM access_points FINAL) WHERE is_open = 1 GROUP BY province_code
) AS a ON a.province_code = s.province_code
WHERE s.period = ${{period:singlequote}}
GROUP BY s.province_code
ORDER BY beneficiaries_per_atm DESC""",
    ("province", "due", "atms", "beneficiaries_per_atm"),
    "barchart",
)

COMMUNE_MAP = PanelQuery(
    "commune_map",
    "Communes (coverage gap)",
    COVERAGE_GAPS.sql.replace(
        "ORDER BY gap_score DESC, commune_code", "ORDER BY gap_score DESC, commune_code LIMIT 5000"
    ),
    ("latitude", "longitude", "commune_name", "gap_score"),
    "geomap",
)

ACCESS_POINT_MAP = PanelQuery(
    "access_point_map",
    "Access points",
    """SELECT access_point_id, kind, operator, latitude, longitude, commune_code
FROM access_points FINAL
WHERE is_open = 1
ORDER BY access_point_id""",
    ("access_point_id", "kind", "operator", "latitude", "longitude", "commune_code"),
    "geomap",
)

EVENTS_PER_S = PanelQuery(
    "events_per_s",
    "Events per second",
    """SELECT $__timeInterval(at) AS time, sum(events) / $__interval_s AS events_per_s
FROM pipeline_health
WHERE $__timeFilter(at)
GROUP BY time
ORDER BY time""",
    ("time", "events_per_s"),
    "timeseries",
    "timeseries",
)

CONSUMER_LAG = PanelQuery(
    "consumer_lag",
    "Consumer lag (events)",
    """SELECT time, sum(worker_lag) AS lag
FROM (
    SELECT $__timeInterval(h.at) AS time, h.worker AS worker,
           argMax(h.consumer_lag, h.at) AS worker_lag
    FROM pipeline_health AS h
    WHERE $__timeFilter(h.at) AND h.consumer_lag >= 0
    GROUP BY time, worker
)
GROUP BY time
ORDER BY time""",
    ("time", "lag"),
    "timeseries",
    "timeseries",
)

DEAD_LETTERS = PanelQuery(
    "dead_letters",
    "Dead letters by class",
    """SELECT error_class, count() AS events
FROM dead_letters FINAL
WHERE $__timeFilter(received_at)
GROUP BY error_class
ORDER BY events DESC, error_class""",
    ("error_class", "events"),
    "barchart",
)

FRESHNESS = PanelQuery(
    "freshness",
    "Freshness and throughput",
    """SELECT
    max(at) AS last_health_row,
    argMax(freshness_s, at) AS freshness_s,
    argMax(latest_event_at, at) AS latest_event_at,
    sum(events) AS events,
    sum(dead_letters) AS dead_letters
FROM pipeline_health
WHERE $__timeFilter(at)""",
    ("last_health_row", "freshness_s", "latest_event_at", "events", "dead_letters"),
    "stat",
)

# Template-variable queries.
PERIOD_VARIABLE = "SELECT DISTINCT period FROM commune_programme_stats ORDER BY period DESC"
PROVINCE_VARIABLE = """SELECT DISTINCT s.province_code AS __value, u.province_name AS __text
FROM commune_programme_stats AS s
LEFT JOIN admin_units AS u ON u.commune_code = s.commune_code
ORDER BY __text"""
COMMUNE_VARIABLE = f"""SELECT DISTINCT s.commune_code AS __value, u.commune_name AS __text
FROM commune_programme_stats AS s
LEFT JOIN admin_units AS u ON u.commune_code = s.commune_code
WHERE s.province_code = {PROVINCE}
ORDER BY __text"""
PROGRAMME_VARIABLE = "SELECT DISTINCT programme FROM commune_programme_stats ORDER BY programme"

PANELS: tuple[PanelQuery, ...] = (
    NATION_STAT,
    PROVINCE_STATS,
    TREND,
    WORST_COMMUNES,
    COMMUNE_TABLE,
    CHANNEL_MIX,
    COMMUNE_STAT,
    COMMUNE_FAILURES,
    COMMUNE_TIME_TO_PAY,
    COMMUNE_PROGRAMMES,
    COMMUNE_ALERTS,
    COMMUNE_FOLLOWUP,
    ALERT_ANNOTATIONS,
    COVERAGE_GAPS,
    BENEFICIARIES_PER_ATM,
    COMMUNE_MAP,
    ACCESS_POINT_MAP,
    EVENTS_PER_S,
    CONSUMER_LAG,
    DEAD_LETTERS,
    FRESHNESS,
)
VARIABLE_QUERIES = {
    "period": PERIOD_VARIABLE,
    "province": PROVINCE_VARIABLE,
    "commune": COMMUNE_VARIABLE,
    "programme": PROGRAMME_VARIABLE,
}
