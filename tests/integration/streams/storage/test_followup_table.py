"""`welfare-monitor followup refresh` writes the commune dashboard's follow-up table: the same
lists as the live page's drill-down (computed on request, streams/web/live_data.py), counted
against the simulator's truth, no CCCD, and rows no longer to follow up cleared."""

from __future__ import annotations

from collections import Counter

import pytest

from streams.cli.followup import refresh
from streams.cli.main import main
from streams.storage import open_store
from streams.web.live_data import followup
from tests.support.runs import Run

pytestmark = pytest.mark.integration
LISTED = (
    "SELECT category, beneficiary, programme, reason FROM followup FINAL "
    "WHERE active = 1 AND period = {p:String} AND commune_code = {c:UInt32}"
)


def test_refresh_writes_the_live_pages_lists(
    drill_run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    # The session's drill run (a chDB directory cannot be copied: its Atomic database links
    # metadata to store paths); only this test reads or writes its `followup` table.
    data = drill_run.data_dir
    settings = drill_run.settings.model_copy(
        update={"clickhouse_url": None, "chdb_path": data / "chdb"}
    )
    rows = [r for r in drill_run.truth["communes"] if r["beneficiaries_paid_twice"]]
    commune = max(
        rows, key=lambda r: (r["beneficiaries_due"] - r["beneficiaries_paid"], r["commune_code"])
    )
    period, code = commune["period"], commune["commune_code"]

    assert main(["followup", "refresh", "--data-dir", str(data)]) == 0
    assert "danh sách cần xử lý" in capsys.readouterr().out.lower()
    store = open_store(settings)
    try:
        listed = store.query(LISTED, {"p": period, "c": code})
        live = followup(store, period, code)
        assert sorted(
            (r["category"], r["beneficiary"], r["programme"], r["reason"]) for r in listed
        ) == sorted(
            (
                r["group"],
                r["beneficiary"],
                r["programme"],
                r["reason"] if r["group"] == "failed" else "",
            )
            for r in live
        )
        counts = Counter(r["category"] for r in listed)
        assert counts["unpaid"] == commune["beneficiaries_due"] - commune["beneficiaries_paid"]
        assert counts["paid_twice"] == commune["beneficiaries_paid_twice"]
        everything = store.query("SELECT * FROM followup")
        assert not any(cccd in str(r) for r in everything for cccd in drill_run.citizen_ids)

        # Someone listed before who is no longer to follow up is cleared; a second refresh
        # with nothing changed changes nothing.
        stale = dict(listed[0]) | {"beneficiary": "no-longer-listed"}
        store.insert(
            "followup",
            [
                stale
                | {
                    "period": period,
                    "province_code": commune["province_code"],
                    "commune_code": code,
                    "last_event_at": 0,
                    "active": 1,
                    "version": 1,
                    "refreshed_at": 0,
                }
            ],
        )
        again = refresh(store)
        assert again.cleared == 1 and again.listed == sum(
            int(r["n"])
            for r in store.query("SELECT count() AS n FROM followup FINAL WHERE active = 1")
        )
        assert len(store.query(LISTED, {"p": period, "c": code})) == len(listed)
        assert refresh(store).cleared == 0
    finally:
        store.close()
