"""The live page's commune drill-down lists whom the commune's staff should call: the unpaid,
failed (with the last reason) and paid-twice beneficiaries, as pseudonyms from the ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dashboards.panels import ALL
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.factory import chdb_dsn
from streams.web.live_data import PageParams, snapshot
from streams.web.live_page import render_page
from tests.support.runs import Run

pytestmark = pytest.mark.integration


@pytest.fixture
def store(drill_run: Run) -> Iterator[ClickHouseStore]:
    opened = ClickHouseStore(
        chdb_dsn(drill_run.data_dir / "chdb"), drill_run.settings.clickhouse_database
    )
    opened.open()
    yield opened
    opened.close()


def test_followup_lists_match_the_truth(drill_run: Run, store: ClickHouseStore) -> None:
    rows = [
        r
        for r in drill_run.truth["communes"]
        if r["beneficiaries_paid_twice"] and r["failures_by_reason"]
    ]
    commune = max(
        rows, key=lambda r: (r["beneficiaries_due"] - r["beneficiaries_paid"], r["commune_code"])
    )
    data = snapshot(store, PageParams(commune["period"], ALL, commune["commune_code"]))
    followup = data["followup"]
    by_group: dict[str, list[dict[str, str]]] = {}
    for row in followup:
        by_group.setdefault(row["group"], []).append(row)
    assert len(by_group.get("unpaid", [])) == (
        commune["beneficiaries_due"] - commune["beneficiaries_paid"]
    )
    assert len(by_group.get("paid_twice", [])) == commune["beneficiaries_paid_twice"]
    assert by_group["failed"] and all(r["reason"] for r in by_group["failed"])
    html = render_page(data, live=False)
    assert "Danh sách cần xử lý" in html
    for row in followup:
        assert row["beneficiary"] in html
    assert not any(cccd in html for cccd in drill_run.citizen_ids)
    without = snapshot(store, PageParams(commune["period"], ALL, None))
    assert without["followup"] == []
