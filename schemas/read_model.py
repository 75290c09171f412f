"""The read model's shared SQL and its rules, used by both `streams` (CLI, live page, exports)
and `dashboards` (Grafana panels), so neither imports the other.

The empty-denominator rule, in one place: a rate whose denominator is zero (the cashless rate
of a commune where nobody is due, access points per 10,000 due there) has no value. It is
NULL in SQL (`rate_sql`), None in Python (`cashless_rate`, `ratio`), and shown as "–"
(`NO_VALUE`, what `schemas.i18n.Lang.percent` prints for None). Never 0, which would read
as "nobody paid cashless", and never NaN, which sorts and sums unpredictably.
"""

from __future__ import annotations

# How a missing rate is shown to users.
NO_VALUE = "–"

# One statistics snapshot per key (ReplacingMergeTree, latest version).
STATS = "(SELECT * FROM commune_programme_stats FINAL)"


def rate_sql(numerator: str, denominator: str, digits: int = 6) -> str:
    """SQL for `numerator / denominator` rounded to `digits`, NULL when the denominator is 0."""
    return f"if(({denominator}) = 0, NULL, round(({numerator}) / ({denominator}), {digits}))"


def ratio(numerator: float, denominator: float) -> float | None:
    """`numerator / denominator`, None when the denominator is 0 (the same rule as `rate_sql`)."""
    return numerator / denominator if denominator else None


def cashless_rate(paid_cashless: int, due: int) -> float | None:
    """Beneficiaries paid cashless over beneficiaries due; None when nobody is due."""
    return ratio(paid_cashless, due)


_ALL_POINTS = (
    "10000 * (any(p.atms) + any(p.bank_branches) + any(p.post_offices)"
    " + any(p.mobile_money_agents))"
)

# The coverage gap of a commune in a period (documented in docs/analytics.md):
#   unserved = due - paid cashless
#   cashless_access_per_10k = (ATMs + bank branches + mobile-money agents) per 10,000 due
#   gap_score = unserved * (1 + least(nearest ATM km, 50) / 10)
#                        / (1 + cashless_access_per_10k / 10)
# No ATM known at all counts as 50 km. Communes are ranked by gap_score, highest first.
# The nearest ATM comes from commune_nearest_atm, recomputed by the worker whenever the
# access points change (streams/storage/nearest_atm.py), not per query.
COVERAGE_GAPS_SQL = f"""
WITH
    communes AS (
        SELECT s.province_code AS province_code, s.commune_code AS commune_code,
               sum(s.beneficiaries_due) AS due,
               sum(s.beneficiaries_paid_cashless) AS cashless
        FROM {STATS} AS s
        WHERE s.period = {{period:String}}
        GROUP BY province_code, commune_code
    ),
    points AS (
        SELECT commune_code,
               countIf(kind = 'atm') AS atms,
               countIf(kind = 'bank_branch') AS bank_branches,
               countIf(kind = 'post_office') AS post_offices,
               countIf(kind = 'mobile_money_agent') AS mobile_money_agents
        FROM (SELECT * FROM access_points FINAL) WHERE is_open = 1
        GROUP BY commune_code
    ),
    nearest AS (
        SELECT commune_code, nearest_atm_km AS km
        FROM (SELECT * FROM commune_nearest_atm FINAL) WHERE has_atm = 1
    )
SELECT
    c.province_code AS province_code,
    c.commune_code AS commune_code,
    any(u.province_name) AS province_name,
    any(u.commune_name) AS commune_name,
    any(u.latitude) AS latitude,
    any(u.longitude) AS longitude,
    any(c.due) AS beneficiaries_due,
    any(c.cashless) AS beneficiaries_paid_cashless,
    {rate_sql("any(c.cashless)", "any(c.due)")} AS cashless_rate,
    any(p.atms) AS atms,
    any(p.bank_branches) AS bank_branches,
    any(p.post_offices) AS post_offices,
    any(p.mobile_money_agents) AS mobile_money_agents,
    {rate_sql(_ALL_POINTS, "any(c.due)", 3)} AS access_points_per_10k,
    {rate_sql("10000 * any(p.atms)", "any(c.due)", 3)} AS atms_per_10k,
    {rate_sql("10000 * any(p.bank_branches)", "any(c.due)", 3)} AS bank_branches_per_10k,
    {rate_sql("10000 * any(p.post_offices)", "any(c.due)", 3)} AS post_offices_per_10k,
    {rate_sql("10000 * any(p.mobile_money_agents)", "any(c.due)", 3)}
        AS mobile_money_agents_per_10k,
    if(any(n.commune_code) = 0, NULL, round(any(n.km), 3)) AS nearest_atm_km,
    round((any(c.due) - any(c.cashless))
          * (1 + least(if(any(n.commune_code) = 0, 50.0, any(n.km)), 50.0) / 10)
          / (1 + if(any(c.due) = 0, 0.0,
                    10000 * (any(p.atms) + any(p.bank_branches) + any(p.mobile_money_agents))
                    / any(c.due)) / 10), 3) AS gap_score
FROM communes AS c
LEFT JOIN points AS p ON p.commune_code = c.commune_code
LEFT JOIN nearest AS n ON n.commune_code = c.commune_code
LEFT JOIN admin_units AS u
    ON u.province_code = c.province_code AND u.commune_code = c.commune_code
GROUP BY province_code, commune_code
ORDER BY gap_score DESC, commune_code
"""  # noqa: S608 (constant fragments only; values go in as parameters)
