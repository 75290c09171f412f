"""`explain` and `lookup` on the ledger of a real embedded run (issue 13, item 7).

The run goes through the CLI (its own Tansu broker, a Faust worker process, chDB), without
PSEUDONYM_KEY, so the data dir's own key is used; `explain` must name exactly as many
pseudonyms as the ground truth counts for each figure, and `lookup` must find a person's
events without the CCCD ever reaching an output, a log, a file of the data dir or a table.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from simulators.faults import FaultInjector, FaultSpec
from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import load_scenario
from streams.cli.main import main
from streams.domain.pseudonym import Pseudonymizer
from streams.harness.embedded import KEY_FILE
from streams.settings import Settings
from tests.integration.streams.harness.test_embedded import _tables
from tests.support.names import unique
from tests.support.runs import Run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    """A small alerts drill with duplicates, run once through `welfare-monitor run`."""
    tmp = tmp_path_factory.mktemp("explain")
    cycle = PaymentCycle(
        load_scenario("alerts-drill").model_copy(update={"beneficiaries": 900}), seed=2
    )
    events = tmp / "events.jsonl"
    with events.open("wb") as f:
        write_lines(
            FaultInjector(FaultSpec(duplicates=0.05), 2, cycle.truth).lines(cycle.events()), f
        )
    mp = pytest.MonkeyPatch()
    mp.setenv("APP_ID", unique("wm-explain"))
    mp.delenv("PSEUDONYM_KEY", raising=False)
    try:
        assert (
            main(
                ["run", "--input", str(events), "--data-dir", str(tmp / "data"), "--format", "json"]
            )
            == 0
        )
    finally:
        mp.undo()
    return events, tmp / "data", cycle.truth.to_json()


def explain_json(
    capsys: pytest.CaptureFixture[str], data_dir: Path, commune: dict[str, Any], status: str | None
) -> list[dict[str, Any]]:
    capsys.readouterr()
    args = [
        "explain",
        "--period",
        commune["period"],
        "--commune",
        str(commune["commune_code"]),
        "--data-dir",
        str(data_dir),
        "--format",
        "json",
    ]
    assert main(args + (["--status", status] if status else [])) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_explain_names_as_many_pseudonyms_as_each_figure_counts(
    drill: tuple[Path, Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, data_dir, truth = drill
    checked = 0
    # The communes with paid-twice or unknown beneficiaries, and one without.
    communes = sorted(
        truth["communes"],
        key=lambda c: (
            -c["beneficiaries_paid_twice"] - c["beneficiaries_paid_unknown"],
            c["commune_code"],
        ),
    )
    assert communes[0]["beneficiaries_paid_twice"] + communes[0]["beneficiaries_paid_unknown"]
    for c in communes[:4]:
        want = {
            "unpaid": c["beneficiaries_due"] - c["beneficiaries_paid"],
            "paid_twice": c["beneficiaries_paid_twice"],
            "unknown": c["beneficiaries_paid_unknown"],
            "cashless": c["beneficiaries_paid_cashless"],
        }
        for status, n in want.items():
            found = explain_json(capsys, data_dir, c, status)
            assert len(found) == n, (c["commune_code"], status)
            assert all(status in f["counts"] and f["events"] for f in found)
            assert all(re.fullmatch(r"[0-9a-f]{32}", f["beneficiary"]) for f in found)
            checked += n
        everyone = explain_json(capsys, data_dir, c, None)
        due = sum("due" in f["counts"] for f in everyone)
        assert due == c["beneficiaries_due"]
        failed = explain_json(capsys, data_dir, c, "failed")
        assert sum(
            len([e for e in f["events"] if e["type"] == "payment.failed"]) for f in failed
        ) == sum(c["failures_by_reason"].values())
    assert checked > 0
    # The table form names the same people.
    c = communes[0]
    capsys.readouterr()
    assert (
        main(
            [
                "explain",
                "--period",
                c["period"],
                "--commune",
                str(c["commune_code"]),
                "--status",
                "paid_twice",
                "--data-dir",
                str(data_dir),
            ]
        )
        == 0
    )
    table = capsys.readouterr().out
    # Vietnamese by default: the title's period and the figure, the counts, the amounts.
    month = c["period"][5:] + "/" + c["period"][:4]
    assert f"kỳ {month}, xã/phường {c['commune_code']}: chi trả hai lần" in table
    args = ["explain", "--period", c["period"], "--commune", str(c["commune_code"])]
    assert main([*args, "--data-dir", str(data_dir)]) == 0
    everyone = capsys.readouterr().out
    assert f"kỳ {month}, xã/phường {c['commune_code']}: phải chi trả hoặc đã chi trả" in everyone
    assert "phải chi trả" in everyone and re.search(r"\b\d{1,3}\.\d{3}\.000\b", everyone)
    assert main([*args, "--data-dir", str(data_dir), "--lang", "en"]) == 0
    assert f"{c['period']}, commune {c['commune_code']}: due or paid" in capsys.readouterr().out
    for f in explain_json(capsys, data_dir, c, "paid_twice"):
        assert f["beneficiary"] in table


def test_lookup_shows_a_persons_history_and_the_cccd_goes_nowhere(
    drill: tuple[Path, Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events_path, data_dir, _ = drill
    events = [orjson.loads(line) for line in events_path.read_bytes().splitlines()]
    cccd = next(e["payload"]["citizen_id"] for e in events if e["event_type"] == "payment.returned")
    theirs = {e["event_id"] for e in events if e["payload"].get("citizen_id") == cccd}
    monkeypatch.delenv("PSEUDONYM_KEY", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(cccd + "\n"))
    capsys.readouterr()
    assert main(["lookup", "--data-dir", str(data_dir), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    found = json.loads(out)
    key = (data_dir / KEY_FILE).read_text().strip().encode()
    assert found["beneficiary"] == Pseudonymizer(key)(cccd)
    assert len(found["events"]) == len(theirs)
    assert "payment.returned" in {e["type"] for e in found["events"]}
    monkeypatch.setattr("sys.stdin", io.StringIO(cccd + "\n"))
    assert main(["lookup", "--data-dir", str(data_dir)]) == 0
    table_out, table_err = capsys.readouterr()
    assert found["beneficiary"] in table_out
    # Nowhere: outputs, logs, every file of the data dir, every table.
    texts = [out, err, table_out, table_err]
    texts += [
        p.read_bytes().decode(errors="replace")
        for p in data_dir.rglob("*")
        if p.is_file() and "chdb" not in p.parts
    ]
    run = Run(None, {}, set(), data_dir, Settings(_env_file=None))  # type: ignore[arg-type]
    texts += _tables(run)
    assert len(texts) > 10
    assert not [t for t in texts if cccd in t]


@pytest.mark.parametrize("typed", ["12345", "abcdefghijkl", "999999999999", ""])
def test_lookup_rejects_what_is_not_a_cccd_in_one_line_without_echoing_it(
    drill: tuple[Path, Path, dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    typed: str,
) -> None:
    _, data_dir, _ = drill
    monkeypatch.setattr("sys.stdin", io.StringIO(typed + "\n"))
    capsys.readouterr()
    assert main(["lookup", "--data-dir", str(data_dir)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "CCCD" in err
    assert not typed or typed not in err


def test_explain_rejects_a_bad_period_in_one_line(
    drill: tuple[Path, Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, data_dir, _ = drill
    capsys.readouterr()
    assert (
        main(["explain", "--period", "2024-13", "--commune", "1", "--data-dir", str(data_dir)]) == 1
    )
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
