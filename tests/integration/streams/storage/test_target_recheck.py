"""Time passing alone raises `behind_target` (streams/pipeline/target_recheck.py): after the
events are stored, no alert holds while the target's deadline is outside the warning window;
once it is inside (here: the window widened by 30 days, as 30 days passing would do), the
periodic re-evaluation raises the alert for exactly the communes short of their target,
announced on the alerts topic and stored, and a second pass changes nothing.

Expected communes from the sample CSVs with exact fractions (tests/integration/test_import).
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from pydantic import SecretStr

from streams.domain.pseudonym import Pseudonymizer
from streams.pipeline.agent import PaymentsAgent
from streams.pipeline.target_recheck import recheck
from streams.settings import Settings
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.storage.migrate import migrate
from streams.storage.sink import ClickHouseSink
from streams.storage.targets import read_targets, store_targets
from tests.integration.streams.importer.test_import import SAMPLES, _expected
from tests.integration.streams.pipeline.test_payments import Event, Topic
from tests.integration.streams.storage.test_target_alerts import _lines

pytestmark = pytest.mark.integration

WARN_DAYS = 90
KEY = SecretStr("k" * 32)


def _agent(store: ClickHouseStore, warn_days: int) -> PaymentsAgent:
    settings = Settings(
        _env_file=None,
        pseudonym_key=KEY,
        alert_min_beneficiaries=5,
        alert_target_warn_days=warn_days,
    )
    return PaymentsAgent(
        settings, ClickHouseSink(store), Pseudonymizer(KEY.get_secret_value().encode())
    )


def _raised(store: ClickHouseStore) -> set[int]:
    rows = store.query(
        "SELECT commune_code FROM alerts FINAL WHERE kind = 'behind_target' AND active = 1"
    )
    return {int(r["commune_code"]) for r in rows}


def test_a_deadline_coming_near_raises_behind_target_without_new_events(tmp_path: Path) -> None:
    deadline = datetime.now(UTC).date() + timedelta(days=WARN_DAYS + 20)
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "province_code,commune_code,period_from,period_to,target_pct,deadline,responsible_unit\n"
        f"52,,2023-01,2023-12,30,{deadline:%d/%m/%Y},Sở\n",
        encoding="utf-8",
    )
    store = ClickHouseStore(chdb_dsn(tmp_path / "chdb"), "recheck")
    store.open()
    try:
        migrate(store)
        store_targets(store, read_targets(targets))
        lines = _lines(SAMPLES / "roster.csv", "roster", KEY) + _lines(
            SAMPLES / "payments.csv", "payments", KEY
        )
        now_agent = _agent(store, WARN_DAYS)
        batch = [Event(v, i) for i, v in enumerate(lines)]
        asyncio.run(now_agent.process(batch, Topic(), Topic()))
        assert _raised(store) == set()
        assert asyncio.run(recheck(now_agent, Topic())) == 0  # deadline outside the window

        later_agent = _agent(store, WARN_DAYS + 30)
        alerts = Topic()
        checked = asyncio.run(recheck(later_agent, alerts))
        short = {
            commune
            for commune, (due, _, cashless) in _expected(SAMPLES / "payments.csv").items()
            if due >= 5 and math.ceil(Fraction(30, 100) * due) - cashless > 0
        }
        assert short and checked >= len(short)
        assert _raised(store) == short
        announced = [m for m in alerts.sent if b"behind_target" in m["key"]]
        assert len(announced) == len(short)

        again = Topic()
        asyncio.run(recheck(later_agent, again))
        assert _raised(store) == short
        assert [m for m in again.sent if b"behind_target" in m["key"]] == []
    finally:
        store.close()
