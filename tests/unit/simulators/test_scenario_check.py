"""Scenario files are checked against the committed JSON Schema and the rules, every problem
reported with its field path, before any generator sees them (`simulate --check`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from simulators.errors import ScenarioFileError
from simulators.scenario import SCENARIOS_DIR, load_scenario, scenario_names
from simulators.scenario_check import SCHEMA_PATH, check_data, check_file, schema_text
from simulators.units import communes_of
from streams.cli.main import main

BINH_DINH = SCENARIOS_DIR / "binh-dinh-2023-06.yaml"


def _with(tmp_path: Path, change: dict[str, object], drop: tuple[str, ...] = ()) -> Path:
    raw = yaml.safe_load(BINH_DINH.read_text(encoding="utf-8"))
    for path, value in change.items():
        *parents, leaf = path.split(".")
        node = raw
        for part in parents:
            node = node[part]
        node[leaf] = value
    for name in drop:
        raw.pop(name)
    out = tmp_path / "custom.yaml"
    out.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return out


def test_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "simulators/scenario.schema.json is stale: run `python -m simulators.scenario_check`"
    )


@pytest.mark.parametrize("name", scenario_names())
def test_every_bundled_scenario_passes(name: str) -> None:
    scenario, problems = check_file(SCENARIOS_DIR / f"{name}.yaml")
    assert problems == []
    assert scenario is not None and scenario.name == name


def test_the_commented_example_is_valid() -> None:
    example = Path(__file__).resolve().parents[3] / "simulators/examples/custom-scenario.yaml"
    assert check_file(example)[1] == []


def test_three_mistakes_are_all_reported_with_their_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _with(
        tmp_path,
        {
            "beneficiaries": -5,
            "adoption.bank_account_rate": 1.5,
            "cashless_channels": {"bank_account": 0.5, "cheque": 0.5},
        },
    )
    assert main(["simulate", "--check", str(path)]) == 1  # Vietnamese by default
    err = capsys.readouterr().err
    assert "custom.yaml: 3 lỗi" in err
    assert "beneficiaries: -5 nhỏ hơn hoặc bằng mức tối thiểu 0" in err
    assert "adoption.bank_account_rate: 1.5 lớn hơn mức tối đa 1" in err
    assert "cashless_channels: 'cheque' không thuộc ['bank_account', 'e_wallet']" in err
    assert main(["simulate", "--check", str(path), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "3 problem(s)" in err
    assert "beneficiaries: -5" in err
    assert "adoption.bank_account_rate: 1.5 is greater than the maximum of 1" in err
    assert "cashless_channels: 'cheque' is not one of ['bank_account', 'e_wallet']" in err


def test_failure_reasons_follow_the_event_contract(tmp_path: Path) -> None:
    path = _with(tmp_path, {"failure_reasons": {"name_mismatch": 1, "lost_in_post": 1}})
    _, problems = check_file(path)
    assert [p.path for p in problems] == ["failure_reasons"]
    assert "'lost_in_post' is not one of" in problems[0].message


def test_typos_and_missing_fields_are_named(tmp_path: Path) -> None:
    path = _with(tmp_path, {"benificiaries": 10}, drop=("beneficiaries",))
    messages = [str(p) for p in check_file(path)[1]]
    assert any("'beneficiaries' is a required property" in m for m in messages)
    assert any("'benificiaries' was unexpected" in m for m in messages)


def test_rules_across_fields_and_units(tmp_path: Path) -> None:
    _, problems = check_file(_with(tmp_path, {"periods": ["2023-07", "2023-06"]}))
    assert [str(p) for p in problems] == ["periods: periods must be distinct and in order"]
    _, problems = check_file(_with(tmp_path, {"region.province_codes": [99]}))
    assert [p.path for p in problems] == ["region.province_codes.0"]
    _, problems = check_file(_with(tmp_path, {"region.commune_code_range": [1, 2]}))
    assert [str(p) for p in problems] == ["region: selects no commune; check commune_code_range"]
    first = communes_of(52, (21550, 22014))[0].code
    _, problems = check_file(_with(tmp_path, {"pilot_communes": [first, 1]}))
    assert [p.path for p in problems] == ["pilot_communes.1"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nperiods: [2023-06\n", encoding="utf-8")
    _, problems = check_file(path)
    assert len(problems) == 1 and "not valid YAML at line" in problems[0].message


def test_unquoted_yaml_timestamps_are_accepted(tmp_path: Path) -> None:
    text = BINH_DINH.read_text(encoding="utf-8").replace(
        'starts_at: "2023-06-05T01:00:00Z"', "starts_at: 2023-06-05T01:00:00Z"
    )
    path = tmp_path / "unquoted.yaml"
    path.write_text(text, encoding="utf-8")
    assert check_file(path)[1] == []


def test_a_custom_file_runs_and_a_broken_one_never_reaches_the_generator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _with(tmp_path, {"beneficiaries": 300, "paid_cashless": 3})
    assert load_scenario(str(good)).beneficiaries == 300
    out = tmp_path / "events.jsonl"
    assert main(["simulate", "--scenario", str(good), "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    bad = _with(tmp_path, {"beneficiaries": 0})
    with pytest.raises(ScenarioFileError, match="beneficiaries"):
        load_scenario(str(bad))
    assert main(["simulate", "--scenario", str(bad), "--out", str(out), "--lang", "en"]) == 1
    err = capsys.readouterr().err
    assert "custom.yaml has 1 problem(s)" in err and "Traceback" not in err


def test_check_data_returns_the_model() -> None:
    scenario, problems = check_data(yaml.safe_load(BINH_DINH.read_text(encoding="utf-8")))
    assert problems == [] and scenario is not None and scenario.paid_cashless == 142
