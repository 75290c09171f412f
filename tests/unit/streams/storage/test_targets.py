"""Targets: loading, progress with the commune -> province -> global fallback, the
behind-target ranking, and the behind_target alert raising and clearing (chDB, no broker).

Expected figures are computed here from the statistics the test writes and the targets
file it writes, with exact fractions, not read back from the code under test.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest

from schemas import i18n
from streams.errors import InputError
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.base import Store
from streams.storage.migrate import migrate
from streams.storage.queries import ACTIVE_ALERTS_SQL
from streams.storage.targets import evaluate_alerts, progress, read_targets, store_targets

PERIOD = "2023-06"
# (province, commune, due, paid cashless): a ward and a mountain commune of province 52
# with their own targets, a plain commune of 52 on the province's target, and a commune of
# Ha Noi (01) with no target at all (the global ALERT_CASHLESS_TARGET).
STATS = [(52, 21583, 140, 9), (52, 21609, 100, 0), (52, 21952, 120, 1), (1, 4, 50, 5)]
TARGETS = """province_code,commune_code,period_from,period_to,target_pct,deadline,responsible_unit
52,,2023-01,2023-12,2,31/12/2023,Sở LĐ-TB&XH
52,21583,2023-06,2023-12,10,31/12/2023,UBND Phường Quy Nhơn
52,21609,2023-06,,"0,5",30/09/2023,UBND Xã An Lão
"""
EXPECTED_TARGET = {21583: Fraction(1, 10), 21609: Fraction(1, 200), 21952: Fraction(2, 100)}
DEADLINE = {21583: date(2023, 12, 31), 21609: date(2023, 9, 30), 21952: date(2023, 12, 31)}


def _stats_rows(stats: list[tuple[int, int, int, int]], version: int) -> list[dict[str, object]]:
    return [
        {
            "period": PERIOD,
            "province_code": p,
            "commune_code": c,
            "programme": "social_assistance",
            "beneficiaries_due": due,
            "beneficiaries_paid": due,
            "beneficiaries_paid_cashless": cl,
            "beneficiaries_paid_twice": 0,
            "beneficiaries_paid_unknown": 0,
            "payments_returned": 0,
            "payments_by_channel": {},
            "amount_by_channel": {},
            "failures_by_reason": {},
            "seconds_to_pay": [],
            "version": version,
            "updated_at": datetime.now(UTC),
        }
        for p, c, due, cl in stats
    ]


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = open_store(Settings(clickhouse_url=None, chdb_path=tmp_path / "chdb"))
    migrate(s)
    s.insert("commune_programme_stats", _stats_rows(STATS, 1))
    yield s
    s.close()


def test_progress_ranking_and_alert_raise_and_clear(store: Store, tmp_path: Path) -> None:
    settings = Settings(
        alert_cashless_target=0.03, alert_target_warn_days=90, alert_min_beneficiaries=20
    )
    path = tmp_path / "targets.csv"
    path.write_text(TARGETS, encoding="utf-8")
    store_targets(store, read_targets(path))
    today = date(2023, 9, 1)
    targets = dict(EXPECTED_TARGET) | {4: Fraction(3, 100)}

    rows = {r["commune_code"]: r for r in progress(store, settings, PERIOD, today)}
    assert set(rows) == {c for _, c, _, _ in STATS}
    for _, commune, due, cashless in STATS:
        row, target = rows[commune], targets[commune]
        needed = max(0, math.ceil(target * due) - cashless)
        assert row["target_rate"] == pytest.approx(float(target))
        assert row["needed"] == needed
        assert row["progress"] == pytest.approx(float(Fraction(cashless, due) / target), abs=1e-6)
        deadline = DEADLINE.get(commune)
        assert row["days_left"] == (None if deadline is None else (deadline - today).days)
    assert [rows[c]["target_source"] for c in (21583, 21609, 21952, 4)] == [
        "commune",
        "commune",
        "province",
        "global",
    ]

    # Ranking: short of target, most beneficiaries to move per remaining day first.
    def pace(commune: int, due: int, cashless: int) -> float | None:
        if commune not in DEADLINE:
            return None
        needed = max(0, math.ceil(targets[commune] * due) - cashless)
        return needed / max((DEADLINE[commune] - today).days, 1)

    short = [(c, pace(c, d, cl)) for _, c, d, cl in STATS if math.ceil(targets[c] * d) - cl > 0]
    expected_order = [c for c, _ in sorted(short, key=lambda t: (t[1] is None, -(t[1] or 0)))]
    ranked = progress(store, settings, PERIOD, today, behind_only=True)
    assert [r["commune_code"] for r in ranked] == expected_order

    # Alerts: short and within 90 days of the deadline -> raised (21583 and 21952 are 121
    # days away, so not yet).
    first = evaluate_alerts(store, settings, today)
    expect_raised = {c for c, _ in short if c in DEADLINE and (DEADLINE[c] - today).days <= 90}
    assert {a.commune.commune_code for a in first.raised} == expect_raised
    active = [r for r in store.query(ACTIVE_ALERTS_SQL) if r["kind"] == "behind_target"]
    assert {int(r["commune_code"]) for r in active} == expect_raised
    assert evaluate_alerts(store, settings, today).raised == []  # nothing new the second time

    assert expect_raised == {21609}  # the sample data is built so; the rest are too far off
    # 21609 reaches its target: its alert clears.
    caught_up = [(52, 21609, 100, math.ceil(Fraction(1, 200) * 100))]
    store.insert("commune_programme_stats", _stats_rows(caught_up, 2))
    second = evaluate_alerts(store, settings, today)
    assert [a.commune.commune_code for a in second.cleared] == [21609]
    active = [r for r in store.query(ACTIVE_ALERTS_SQL) if r["kind"] == "behind_target"]
    assert {int(r["commune_code"]) for r in active} == expect_raised - {21609}


def test_bad_target_rows_name_the_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(TARGETS + "52,21583,2024-01,2023-12,5,31/12/2024,X\n", encoding="utf-8")
    with pytest.raises(InputError, match="dòng 5, cột period_to"):  # the default, Vietnamese
        read_targets(path)
    path.write_text(TARGETS.replace("52,21583", "52,4", 1), encoding="utf-8")
    i18n.use("en")
    with pytest.raises(InputError, match="row 3, column commune_code"):
        read_targets(path)


def test_progress_reaches_the_results_summary_and_the_live_page_data(
    store: Store, tmp_path: Path
) -> None:
    from streams.storage.queries import read_results
    from streams.storage.targets import targets_summary
    from streams.web.live_data import PageParams, snapshot

    path = tmp_path / "targets.csv"
    path.write_text(TARGETS, encoding="utf-8")
    store_targets(store, read_targets(path))
    results = read_results(store, default_target=0.03)
    by_commune = {r["commune_code"]: r for r in results.targets}
    assert by_commune[21952]["target_source"] == "province"
    assert by_commune[4]["target_rate"] == pytest.approx(0.03)
    on_target = sum(
        1
        for _, c, due, cl in STATS
        if cl >= math.ceil((EXPECTED_TARGET.get(c) or Fraction(3, 100)) * due)
    )
    month = PERIOD[5:] + "/" + PERIOD[:4]
    assert targets_summary(results.targets).startswith(
        f"Chỉ tiêu kỳ {month}: {on_target}/{len(STATS)} xã/phường đạt chỉ tiêu"
    )
    i18n.use("en")
    assert targets_summary(results.targets).startswith(
        f"Targets {PERIOD}: {on_target} of {len(STATS)} communes on target"
    )
    page = snapshot(store, PageParams.parse({"commune": "21609"}))
    assert [r["commune_code"] for r in page["targets"]] == [21609]
    assert page["targets"][0]["responsible_unit"] == "UBND Xã An Lão"


def test_targets_commands_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`targets import`, `targets behind --format json` and a bad file, on a data dir."""
    import orjson

    from streams.cli.main import main

    s = open_store(Settings(clickhouse_url=None, chdb_path=tmp_path / "chdb"))
    migrate(s)
    s.insert("commune_programme_stats", _stats_rows(STATS, 1))
    s.close()
    path = tmp_path / "targets.csv"
    path.write_text(TARGETS, encoding="utf-8")
    assert main(["targets", "import", str(path), "--data-dir", str(tmp_path)]) == 0
    assert "đã nạp 3 chỉ tiêu" in capsys.readouterr().out  # Vietnamese by default
    assert main(["targets", "import", str(path), "--data-dir", str(tmp_path), "--lang", "en"]) == 0
    assert "loaded 3 targets" in capsys.readouterr().out
    assert main(["targets", "progress", "--data-dir", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    assert table.startswith("Tiến độ so với chỉ tiêu (06/2023)")
    assert re.search(r"\b\d+,\d\d%", table) and not re.search(r"\b\d+\.\d\d%", table)
    assert main(["targets", "behind", "--data-dir", str(tmp_path), "--format", "json"]) == 0
    ranked = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    default = Fraction(str(Settings().alert_cashless_target))  # the global fallback
    short = {
        c for _, c, due, cl in STATS if math.ceil((EXPECTED_TARGET.get(c) or default) * due) > cl
    }
    assert {r["commune_code"] for r in ranked} == short
    assert all(r["needed"] > 0 for r in ranked)
    path.write_text(TARGETS + "52,21583,2023-06,,150,31/12/2023,X\n", encoding="utf-8")
    args = ["targets", "import", str(path), "--data-dir", str(tmp_path)]
    assert main([*args, "--lang", "en"]) == 1
    assert "row 5, column target_pct" in capsys.readouterr().err
    assert main(args) == 1
    assert "lỗi: dòng 5, cột target_pct" in capsys.readouterr().err
