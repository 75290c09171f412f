"""`export coverage` for banks, from an embedded run's data directory."""

import csv
import io
import json

import pytest

from streams.cli.main import main
from streams.harness.verify import expected_coverage
from streams.web.export import COVERAGE_COLUMNS
from tests.support.runs import Run

pytestmark = pytest.mark.integration


def test_csv_and_geojson_carry_the_ranking(
    drill_run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = str(drill_run.data_dir)
    assert main(["export", "coverage", "--format", "csv", "--data-dir", data_dir]) == 0
    vietnamese = capsys.readouterr().out
    lines = io.StringIO(vietnamese)
    header = next(csv.reader(lines))  # in the language chosen (vi by default); values neutral
    assert header[:2] == ["Hạng", "Kỳ"] and "Mã xã" in header
    assert len(header) == len(COVERAGE_COLUMNS)
    rows = list(csv.DictReader(lines, fieldnames=COVERAGE_COLUMNS))
    want = [code for code, _ in expected_coverage(drill_run.truth)]
    assert [int(r["commune_code"]) for r in rows] == want
    assert [int(r["rank"]) for r in rows] == list(range(1, len(want) + 1))
    assert {r["period"] for r in rows} == {"2023-06"}

    assert (
        main(
            [
                "export",
                "coverage",
                "--format",
                "geojson",
                "--data-dir",
                data_dir,
                "--period",
                "2023-05",
            ]
        )
        == 0
    )
    geo = json.loads(capsys.readouterr().out)
    assert geo["type"] == "FeatureCollection" and len(geo["features"]) == len(want)
    first = geo["features"][0]
    assert first["geometry"]["type"] == "Point"
    lon, lat = first["geometry"]["coordinates"]
    assert 8 < lat < 24 and 102 < lon < 110
    assert first["properties"]["period"] == "2023-05"

    assert main(["export", "coverage", "--lang", "en", "--data-dir", data_dir]) == 0
    english = capsys.readouterr().out.splitlines()
    assert english[0].startswith("Rank,Period,Province code,Province,Commune code,Commune,")
    assert english[1:] == vietnamese.splitlines()[1:]  # only the header row is translated


def test_an_empty_or_missing_data_dir_is_a_clear_error(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "coverage", "--data-dir", str(tmp_path)]) == 1
    assert "lỗi:" in (err := capsys.readouterr().err) and "không chứa dữ liệu chDB" in err
    assert main(["export", "coverage", "--data-dir", str(tmp_path), "--lang", "en"]) == 1
    assert "holds no chDB data" in capsys.readouterr().err
