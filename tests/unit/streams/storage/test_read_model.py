"""The empty-denominator rule (schemas/read_model.py), the same in SQL, Python and on screen.

A commune where nobody is due has no cashless rate: NULL in SQL, None in Python, "–" to
users. Before the rule the answer depended on the file: 0 (report, verify, the overview
stat), NaN (the dashboards' `paid_cashless / due`), NULL (streams.storage.queries) or None
(aggregation).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboards import panels
from dashboards.macros import TimeRange, expand
from schemas.i18n import use
from schemas.read_model import NO_VALUE, cashless_rate, rate_sql, ratio
from streams.cli.render import lowest_rate_table, rate
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from streams.storage.queries import COMMUNE_TOTALS_SQL, COVERAGE_GAPS_SQL, NATION_TOTALS_SQL

PAIRS = [(0, 0), (3, 0), (0, 10), (3, 10), (142, 127_450), (28, 318)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseStore]:
    path: Path = tmp_path_factory.mktemp("read_model")
    store = ClickHouseStore(chdb_dsn(path / "db"), "read_model")
    store.open()
    try:
        migrate(store)
        now = datetime(2023, 6, 30, tzinfo=UTC)
        row = {
            "province_code": 52,
            "programme": "social_assistance",
            "version": 1,
            "updated_at": now,
            "beneficiaries_paid": 0,
            "beneficiaries_paid_twice": 0,
            "payments_returned": 0,
            "payments_by_channel": {},
            "amount_by_channel": {},
            "failures_by_reason": {},
            "seconds_to_pay": [],
        }
        store.insert(
            "commune_programme_stats",
            [
                # nobody due: a payment to someone on no list only
                {
                    **row,
                    "period": "2023-06",
                    "commune_code": 21970,
                    "beneficiaries_due": 0,
                    "beneficiaries_paid_cashless": 0,
                    "beneficiaries_paid_unknown": 1,
                },
                {
                    **row,
                    "period": "2023-06",
                    "commune_code": 21973,
                    "beneficiaries_due": 10,
                    "beneficiaries_paid_cashless": 3,
                    "beneficiaries_paid_unknown": 0,
                },
                {
                    **row,
                    "period": "2023-05",
                    "commune_code": 21970,
                    "beneficiaries_due": 0,
                    "beneficiaries_paid_cashless": 0,
                    "beneficiaries_paid_unknown": 1,
                },
            ],
        )
        yield store
    finally:
        store.close()


def test_python_gives_none_without_a_denominator() -> None:
    for numerator, denominator in PAIRS:
        expected = None if denominator == 0 else numerator / denominator
        assert ratio(numerator, denominator) == expected
        assert cashless_rate(numerator, denominator) == expected
        assert rate(numerator, denominator) == expected  # the terminal report


def test_sql_gives_null_where_python_gives_none(store: ClickHouseStore) -> None:
    selects = " UNION ALL ".join(
        f"SELECT {n} AS n, {d} AS d, {rate_sql(str(n), str(d))} AS r" for n, d in PAIRS
    )
    got = {(int(r["n"]), int(r["d"])): r["r"] for r in store.query(selects)}
    for numerator, denominator in PAIRS:
        python = ratio(numerator, denominator)
        sql = got[(numerator, denominator)]
        assert (sql is None) == (python is None), (numerator, denominator, sql)
        if python is not None:
            assert sql == round(python, 6)


def test_the_read_model_queries_give_null_for_a_commune_nobody_is_due_in(
    store: ClickHouseStore,
) -> None:
    communes = {(r["period"], r["commune_code"]): r for r in store.query(COMMUNE_TOTALS_SQL)}
    assert communes[("2023-06", 21970)]["cashless_rate"] is None
    assert communes[("2023-06", 21973)]["cashless_rate"] == 0.3
    nation = {r["period"]: r["cashless_rate"] for r in store.query(NATION_TOTALS_SQL)}
    assert nation == {"2023-05": None, "2023-06": 0.3}
    gaps = {r["commune_code"]: r for r in store.query(COVERAGE_GAPS_SQL, {"period": "2023-06"})}
    assert gaps[21970]["cashless_rate"] is None
    assert gaps[21970]["access_points_per_10k"] is None
    assert gaps[21973]["cashless_rate"] == 0.3


@pytest.mark.parametrize(
    ("period", "headline", "rate_value"),
    [("2023-05", f"0 / 0 ({NO_VALUE})", None), ("2023-06", "3 / 10 (30%)", 0.3)],
)
def test_the_dashboards_show_no_rate_rather_than_zero_or_nan(
    store: ClickHouseStore, period: str, headline: str, rate_value: float | None
) -> None:
    window = TimeRange(datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 7, 1, tzinfo=UTC))
    variables = {"period": period, "programme": "__all"}
    (stat,) = store.query(expand(panels.NATION_STAT.sql, variables, window))
    assert stat["headline"] == headline
    assert stat["cashless_rate"] == rate_value
    trend = {
        r["period"]: r["cashless_rate"] for r in store.query(expand(panels.TREND.sql, {}, window))
    }
    assert trend == {"2023-05": None, "2023-06": 0.3}


def test_users_read_a_dash_for_no_rate() -> None:
    lang = use("en")
    assert lang.percent(None) == NO_VALUE
    assert lang.counts(0, 0) == f"0 / 0 ({NO_VALUE})"
    communes = [
        {
            "commune_code": 1,
            "province_code": 52,
            "period": "2023-06",
            "beneficiaries_due": 0,
            "beneficiaries_paid": 0,
            "beneficiaries_paid_cashless": 0,
        },
        {
            "commune_code": 2,
            "province_code": 52,
            "period": "2023-06",
            "beneficiaries_due": 10,
            "beneficiaries_paid": 5,
            "beneficiaries_paid_cashless": 5,
        },
    ]
    table = lowest_rate_table(communes)
    codes = list(table.columns[1].cells)
    assert codes == ["2", "1"]  # nobody due: no rate, listed last, not as the lowest
    assert list(table.columns[-1].cells) == ["50.00%", NO_VALUE]
