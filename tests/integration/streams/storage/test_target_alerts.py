"""The worker raises and clears `behind_target` itself, through the real pipeline: the
sample spreadsheets' events go through an embedded broker and a Faust worker into chDB,
with no `targets` command or `import` evaluating alerts afterwards.

Expected alerts are computed here from the sample CSVs (csv module) and the targets this
test writes, with exact fractions: the target that applies (the commune's own, else the
province's), the beneficiaries still needed, and the deadline window (docs/targets.md).
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from pydantic import SecretStr

from streams.harness.embedded import EmbeddedPipeline
from streams.importer.mapping import load_mapping
from streams.importer.run import convert
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.migrate import migrate
from streams.storage.targets import read_targets, store_targets
from tests.integration.streams.importer.test_import import SAMPLES, _expected, _rows

PERIOD = "2023-06"
WARN_DAYS = 90


def _active(settings: Settings) -> dict[int, dict[str, object]]:
    store = open_store(settings)
    try:
        rows = store.query(
            "SELECT commune_code, value, threshold, message FROM alerts FINAL "
            "WHERE kind = 'behind_target' AND active = 1 AND period = {p:String}",
            {"p": PERIOD},
        )
    finally:
        store.close()
    return {int(r["commune_code"]): r for r in rows}


def _lines(path: Path, kind: str, key: SecretStr) -> list[bytes]:
    return convert(
        path, kind, load_mapping(kind, None), key.get_secret_value().encode()
    ).event_lines()


@pytest.mark.integration
def test_the_worker_raises_and_clears_behind_target(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = SecretStr("k" * 32)
    base = Settings(
        _env_file=None,
        pseudonym_key=key,
        alert_min_beneficiaries=5,
        alert_target_warn_days=WARN_DAYS,
        alert_cashless_target=0.5,
    )
    chdb = base.model_copy(update={"clickhouse_url": None, "chdb_path": data / "chdb"})
    far = datetime.now(UTC).date() + timedelta(days=WARN_DAYS + 300)
    # Province 52: 20% by a past deadline. 21583 (a ward): its own 60%, past deadline.
    # 21952: its own 50%, but the deadline is far off (outside the warning window).
    # 21609 has no target of its own: the province's applies.
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "province_code,commune_code,period_from,period_to,target_pct,deadline,responsible_unit\n"
        "52,,2023-01,2023-12,20,31/12/2023,Sở\n"
        "52,21583,2023-06,2023-12,60,31/12/2023,Phường\n"
        f"52,21952,2023-06,2023-12,50,{far:%d/%m/%Y},Xã\n",
        encoding="utf-8",
    )
    data.mkdir()
    store = open_store(chdb)
    try:
        migrate(store)
        store_targets(store, read_targets(targets))
    finally:
        store.close()
    rate = {21583: Fraction(60, 100), 21609: Fraction(20, 100), 21952: Fraction(50, 100)}
    deadline = {21583: date(2023, 12, 31), 21609: date(2023, 12, 31), 21952: far}

    def expected(payments: Path) -> set[int]:
        today = datetime.now(UTC).date()
        return {
            commune
            for commune, (due, _, cashless) in _expected(payments).items()
            if due >= base.alert_min_beneficiaries
            and math.ceil(rate[commune] * due) - cashless > 0
            and (deadline[commune] - today).days <= WARN_DAYS
        }

    lines = _lines(SAMPLES / "roster.csv", "roster", key) + _lines(
        SAMPLES / "payments.csv", "payments", key
    )
    EmbeddedPipeline(base).run(tmp_path / "unused", data, lines=lines)
    raised = _active(chdb)
    assert set(raised) == expected(SAMPLES / "payments.csv") == {21583, 21609}
    assert raised[21583]["threshold"] == pytest.approx(0.6)  # its own target, not 52's
    assert raised[21609]["threshold"] == pytest.approx(0.2)  # the province's

    # A corrected payment report: one of 21583's cash payments was a bank transfer. That
    # brings 21583 to ceil(60% of due) paid cashless: the worker clears its alert.
    rows = _rows("payments.csv")
    index = next(
        i
        for i, r in enumerate(rows)
        if r["Mã xã"] == "21583" and not r["Lý do"] and r["Hình thức chi trả"] == "Tiền mặt"
    )
    rows[index]["Hình thức chi trả"] = "Chuyển khoản"
    corrected = tmp_path / "payments-corrected.csv"
    with corrected.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    EmbeddedPipeline(base).run(tmp_path / "unused", data, lines=_lines(corrected, "payments", key))
    assert set(_active(chdb)) == expected(corrected) == {21609}
