"""The bench's SQL reference statement computes the simulator's truth
(streams/harness/sql_reference.py)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import orjson

from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from streams.harness.sql_reference import REFERENCE_SQL, sql_reference
from streams.harness.testing import build_scenario

KEY = b"k" * 32
FIELDS = ("beneficiaries_due", "beneficiaries_paid", "beneficiaries_paid_cashless")


def _commune_truth(truth: dict[str, object]) -> list[dict[str, object]]:
    rows = truth["communes"]
    assert isinstance(rows, list)
    return [
        {k: row[k] for k in ("period", "province_code", "commune_code", *FIELDS)} for row in rows
    ]


def test_the_reference_equals_the_truth_under_duplicates(tmp_path: Path) -> None:
    scenario = build_scenario(periods=["2024-01", "2024-02"], beneficiaries=400)
    cycle = PaymentCycle(scenario, 3)
    events = list(cycle.events())
    # Every fifth event twice, the copy later: the statement must count it once.
    lines = events + events[::5]
    path = tmp_path / "events.jsonl"
    with path.open("wb") as f:
        write_lines((orjson.dumps(e) for e in lines), f)
    truth = _commune_truth(cycle.truth.to_json())
    assert sum(int(r["beneficiaries_paid_cashless"]) for r in truth) > 0  # type: ignore[call-overload]
    result = sql_reference(path, KEY)
    assert result.rows == truth
    assert result.seconds > 0


def test_the_reference_pseudonym_is_the_ingest_hmac(tmp_path: Path) -> None:
    from streams.storage.clickhouse_store import ClickHouseStore
    from streams.storage.factory import chdb_dsn

    store = ClickHouseStore(chdb_dsn(tmp_path / "db"), "t")
    store.open()
    try:
        row = store.query(
            "SELECT lower(hex(substring(HMAC('SHA256', {id:String}, unhex({key:String})), 1, 16)))"
            " AS h",
            {"id": "001234567890", "key": KEY.hex()},
        )[0]
    finally:
        store.close()
    expected = hmac.new(KEY, b"001234567890", hashlib.sha256).hexdigest()[:32]
    assert row["h"] == expected
    assert "HMAC('SHA256'" in REFERENCE_SQL
