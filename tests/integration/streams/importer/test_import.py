"""`welfare-monitor import` of the shipped samples through the real broker, worker and chDB.

The expected figures are computed here from the sample CSVs with the csv module alone
(who is on the roster, who has a payment row without a failure reason, through which
channel), independently of the importer's code.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from pydantic import SecretStr
from rich.console import Console
from rich.progress import Progress

from streams.cli.importer import ImportRequest, import_server
from streams.cli.main import _data_dir_settings, main
from streams.harness.broker import EmbeddedBroker
from streams.harness.embedded import EmbeddedPipeline, SilentObserver
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.queries import read_results
from tests.support.names import unique

SAMPLES = Path(__file__).parents[4] / "simulators" / "samples"
CASHLESS = {"Chuyển khoản", "Ví điện tử"}


def _rows(name: str | Path) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _expected(payments: str | Path = "payments.csv") -> dict[int, tuple[int, int, int]]:
    """Per commune: (due, paid, paid cashless) from the sample rows."""
    due: dict[int, set[str]] = defaultdict(set)
    for r in _rows("roster.csv"):
        due[int(r["Mã xã"])].add(r["Số CCCD"] + r["Chế độ"])
    paid: dict[int, set[str]] = defaultdict(set)
    cashless: dict[int, set[str]] = defaultdict(set)
    for r in _rows(payments):
        if r["Lý do"]:
            continue
        who = r["Số CCCD"] + r["Chế độ"]
        paid[int(r["Mã xã"])].add(who)
        if r["Hình thức chi trả"] in CASHLESS:
            cashless[int(r["Mã xã"])].add(who)
    return {c: (len(due[c]), len(paid[c]), len(cashless[c])) for c in due}


def _figures(data_dir: Path) -> tuple[dict[int, tuple[int, int, int]], int, dict[str, int]]:
    store = open_store(_data_dir_settings(data_dir))
    try:
        results = read_results(store)
    finally:
        store.close()
    communes = {
        r["commune_code"]: (
            r["beneficiaries_due"],
            r["beneficiaries_paid"],
            r["beneficiaries_paid_cashless"],
        )
        for r in results.communes
    }
    points = sum(
        (r["atms"] or 0)
        + (r["bank_branches"] or 0)
        + (r["post_offices"] or 0)
        + (r["mobile_money_agents"] or 0)
        for r in results.coverage
    )
    dead = {r["error_class"]: r["events"] for r in results.dead_letters}
    return communes, points, dead


def import_file(path: Path, kind: str, data: Path, *args: str) -> int:
    """`welfare-monitor import PATH --kind KIND --data-dir DATA [ARGS]`; its exit code."""
    return main(["import", str(path), "--kind", kind, "--data-dir", str(data), *args])


@pytest.mark.integration
def test_samples_give_their_figures_and_twice_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    errors = tmp_path / "errors.csv"
    assert import_file(SAMPLES / "roster.xlsx", "roster", data) == 0
    assert import_file(SAMPLES / "access-points.xlsx", "access-points", data) == 0
    assert import_file(SAMPLES / "payments.csv", "payments", data) == 0
    communes, points, dead = _figures(data)
    assert communes == _expected()
    assert points == len(_rows("access-points.csv"))
    assert dead == {}

    # The bad-rows sample: each marked row reported with its row number, dead-lettered
    # without the CCCD; its good rows are rows already imported, so the figures stay.
    capsys.readouterr()
    assert (
        import_file(SAMPLES / "payments-bad-rows.csv", "payments", data, "--errors", str(errors))
        == 3
    )
    captured = capsys.readouterr()
    terminal = captured.err
    bad = _rows("payments-bad-rows.csv")
    marked = {n + 2 for n, r in enumerate(bad) if r["Ghi chú"].startswith("SAI")}
    # Vietnamese by default: the summary, the terminal's report and the errors file's headers.
    assert re.search(
        rf"payments-bad-rows\.csv: {len(bad)} dòng, \d+ dòng đã nhập, "
        rf"{len(marked)} dòng bị từ chối",
        captured.out,
    )
    with errors.open(encoding="utf-8-sig") as f:
        reported = {int(r["dòng"]) for r in csv.DictReader(f)}
    assert reported == marked
    for row in marked:
        assert f"dòng {row}" in terminal
    cccds = {r["Số CCCD"] for r in bad}
    assert not any(c in errors.read_text(encoding="utf-8-sig") for c in cccds)
    communes2, points2, dead2 = _figures(data)
    assert communes2 == communes and points2 == points
    assert dead2 == {"import_row": len(marked)}
    store = open_store(_data_dir_settings(data))
    try:
        reasons = [r["reason"] for r in store.query("SELECT reason FROM dead_letters FINAL")]
    finally:
        store.close()
    assert not any(c in reason for c in cccds for reason in reasons)

    # Twice, and the same rows from the other format: nothing changes.
    assert import_file(SAMPLES / "payments.xlsx", "payments", data) == 0
    assert (
        import_file(
            SAMPLES / "payments-bad-rows.csv",
            "payments",
            data,
            "--errors",
            str(errors),
            "--lang",
            "en",
        )
        == 3
    )
    assert _figures(data) == (communes, points, {"import_row": len(marked)})
    terminal = capsys.readouterr().err
    with errors.open(encoding="utf-8-sig") as f:
        assert {int(r["row"]) for r in csv.DictReader(f)} == marked
    for row in marked:
        assert f"row {row}" in terminal


@pytest.mark.integration
def test_a_corrected_row_replaces_the_earlier_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A payment report re-sent with one row's channel corrected (cash -> bank transfer):
    the figures follow the corrected file, nobody is paid twice, nothing is dead-lettered.
    Each import sends only its file (the ledger keeps the earlier ones): a register of rows
    left by an earlier version (CCCDs in the clear) is deleted with a notice, and no file in
    the data dir holds a CCCD of the samples afterwards."""
    data = tmp_path / "data"
    old_register = data / "imports" / "rows.jsonl"
    old_register.parent.mkdir(parents=True)
    planted = _rows("roster.csv")[0]["Số CCCD"]
    old_register.write_text(f'{{"row": "x", "events": [{{"cccd": "{planted}"}}]}}\n')
    rows = _rows("payments.csv")
    index = next(
        i for i, r in enumerate(rows) if not r["Lý do"] and r["Hình thức chi trả"] == "Tiền mặt"
    )
    rows[index]["Hình thức chi trả"] = "Chuyển khoản"
    corrected = tmp_path / "payments-corrected.csv"
    with corrected.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for path, kind in (
        (SAMPLES / "roster.csv", "roster"),
        (SAMPLES / "payments.csv", "payments"),
        (corrected, "payments"),
    ):
        assert import_file(path, kind, data) == 0
    assert not old_register.exists()
    captured = capsys.readouterr()
    assert "rows.jsonl" in (captured.out + captured.err).replace("\n", "")
    cccds = {r["Số CCCD"].encode() for r in _rows("roster.csv") + _rows("payments.csv")}
    for stored in data.rglob("*"):
        if stored.is_file():
            content = stored.read_bytes()
            assert not any(c in content for c in cccds), stored
    communes, _, dead = _figures(data)
    assert communes == _expected(corrected) != _expected()
    assert dead == {}
    store = open_store(_data_dir_settings(data))
    try:
        twice = store.query(
            "SELECT sum(beneficiaries_paid_twice) AS n FROM commune_programme_stats FINAL"
        )
    finally:
        store.close()
    assert int(twice[0]["n"]) == 0


@pytest.mark.integration
def test_server_mode_sends_to_a_running_broker(tmp_path: Path, broker: EmbeddedBroker) -> None:
    """Server mode: events to the broker with the configured key (the same file twice, and
    the bad-rows file), rejected rows into ClickHouse; a worker then reads the topic."""
    data_dir = tmp_path / "data"
    settings = Settings(
        _env_file=None,
        app_id=unique("wm"),
        events_topic=unique("events"),
        dead_letter_topic=unique("dlq"),
        alerts_topic=unique("alerts"),
        pseudonym_key=SecretStr("server-import-test-key-0123456789"),
        replay_file_events=0,
        kafka_bootstrap_servers=broker.bootstrap_servers,
        clickhouse_url=None,
        chdb_path=data_dir / "chdb",
    )
    sent: list[bytes] = []
    progress = Progress(console=Console(file=io.StringIO()))
    for name, kind in (
        ("roster.xlsx", "roster"),
        ("payments.csv", "payments"),
        ("payments.xlsx", "payments"),
        ("payments-bad-rows.csv", "payments"),
    ):
        request = ImportRequest(SAMPLES / name, kind, errors=str(tmp_path / "errors.csv"))
        outcome = import_server(request, settings, progress, SilentObserver())
        sent += outcome.converted.event_lines()
    events = tmp_path / "sent.jsonl"
    events.write_bytes(b"".join(line + b"\n" for line in sent))
    EmbeddedPipeline(settings).run(events, data_dir, broker=broker, produce=False)
    communes, _, dead = _figures(data_dir)
    assert communes == _expected()
    bad = _rows("payments-bad-rows.csv")
    marked = sum(1 for r in bad if r["Ghi chú"].startswith("SAI"))
    assert dead == {"import_row": marked}
    consumer = KafkaConsumer(
        settings.dead_letter_topic,
        bootstrap_servers=broker.bootstrap_servers,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
    )
    try:
        letters = [m.value for m in consumer]
    finally:
        consumer.close()
    assert len(letters) == marked
    assert not any(r["Số CCCD"].encode() in letter for r in bad for letter in letters)
