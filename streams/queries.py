"""Result queries: the one place their SQL lives (the CLI, dashboards and tests reuse it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streams.storage.base import Store

COMMUNE_TOTALS_SQL = """
SELECT
    t.period AS period,
    t.province_code AS province_code,
    t.commune_code AS commune_code,
    u.province_name AS province_name,
    u.commune_name AS commune_name,
    t.beneficiaries_due AS beneficiaries_due,
    t.beneficiaries_paid AS beneficiaries_paid,
    t.beneficiaries_paid_cashless AS beneficiaries_paid_cashless
FROM commune_payment_totals AS t FINAL
LEFT JOIN admin_units AS u
    ON u.province_code = t.province_code AND u.commune_code = t.commune_code
ORDER BY period, province_code, commune_code
"""

# Each beneficiary of a period belongs to one commune, so summing distinct commune counts
# gives exact distinct province counts.
PROVINCE_TOTALS_SQL = """
SELECT
    t.period AS period,
    t.province_code AS province_code,
    any(u.province_name) AS province_name,
    sum(t.beneficiaries_due) AS beneficiaries_due,
    sum(t.beneficiaries_paid) AS beneficiaries_paid,
    sum(t.beneficiaries_paid_cashless) AS beneficiaries_paid_cashless
FROM commune_payment_totals AS t FINAL
LEFT JOIN admin_units AS u
    ON u.province_code = t.province_code AND u.commune_code = t.commune_code
GROUP BY period, province_code
ORDER BY period, province_code
"""

DEAD_LETTERS_BY_CLASS_SQL = """
SELECT error_class, count() AS events
FROM dead_letters FINAL
GROUP BY error_class
ORDER BY events DESC, error_class
"""

_INTS = ("province_code", "commune_code", "beneficiaries_due", "beneficiaries_paid",
         "beneficiaries_paid_cashless", "events")


def _normalise(row: dict[str, Any]) -> dict[str, Any]:
    # JSON output formats quote 64-bit integers; make them ints again.
    return {k: int(v) if k in _INTS else v for k, v in row.items()}


@dataclass(frozen=True)
class Results:
    """What a run produced, read back from ClickHouse."""

    provinces: list[dict[str, Any]]
    communes: list[dict[str, Any]]
    dead_letters: list[dict[str, Any]]


def read_results(store: Store) -> Results:
    """Province and commune totals and dead-letter counts."""
    return Results(
        provinces=[_normalise(r) for r in store.query(PROVINCE_TOTALS_SQL)],
        communes=[_normalise(r) for r in store.query(COMMUNE_TOTALS_SQL)],
        dead_letters=[_normalise(r) for r in store.query(DEAD_LETTERS_BY_CLASS_SQL)],
    )
