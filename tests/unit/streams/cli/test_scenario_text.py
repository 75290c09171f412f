"""The text users see from `simulate --check`, the fault flags and rejected spreadsheet rows:
Vietnamese by default, English with --lang en (the simulators stay language-neutral)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from schemas import i18n
from simulators.scenario import SCENARIOS_DIR
from simulators.scenario_check import check_file
from streams.cli.main import main
from streams.cli.scenario_text import problem_line
from streams.importer.mapping import load_mapping
from streams.importer.run import convert

SAMPLES = Path(__file__).resolve().parents[4] / "simulators" / "samples"


def test_a_fault_rate_outside_0_1_is_one_line_in_either_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "e.jsonl"
    args = ["simulate", "--scenario", "binh-dinh-2023-06", "--out", str(out), "--duplicates", "2"]
    assert main(args) != 0
    assert "--duplicates phải nằm trong khoảng từ 0 đến 1" in capsys.readouterr().err
    assert main([*args, "--lang", "en"]) != 0
    err = capsys.readouterr().err
    assert "--duplicates must be between 0 and 1" in err and "Traceback" not in err
    assert not out.exists()


def test_missing_fields_typos_and_rules_are_translated(tmp_path: Path) -> None:
    raw = yaml.safe_load((SCENARIOS_DIR / "binh-dinh-2023-06.yaml").read_text(encoding="utf-8"))
    raw.pop("beneficiaries")
    raw["benificiaries"] = 10
    path = tmp_path / "typo.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    problems = check_file(path)[1]
    lines = {problem_line(p) for p in problems}
    assert "(cấp cao nhất): thiếu trường bắt buộc 'beneficiaries'" in lines
    assert any("trường không xác định 'benificiaries'" in line for line in lines)

    raw = yaml.safe_load((SCENARIOS_DIR / "binh-dinh-2023-06.yaml").read_text(encoding="utf-8"))
    raw["periods"] = ["2023-07", "2023-06"]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    (problem,) = check_file(path)[1]
    assert problem_line(problem) == "periods: các kỳ (periods) phải khác nhau và theo thứ tự"
    i18n.use("en")
    try:
        assert problem_line(problem) == "periods: periods must be distinct and in order"
    finally:
        i18n.use("vi")


def test_rejected_rows_say_why_in_the_chosen_language() -> None:
    path = SAMPLES / "payments-bad-rows.csv"

    def reasons() -> list[str]:
        converted = convert(path, "payments", load_mapping("payments", None), b"k" * 32)
        return [p.reason for p in converted.problems]

    vietnamese = reasons()
    i18n.use("en")
    try:
        english = reasons()
    finally:
        i18n.use("vi")
    assert len(vietnamese) == len(english) > 0
    assert "số CCCD phải có đúng 12 chữ số" in vietnamese
    assert "a CCCD has exactly 12 digits" in english
    assert all(v != e for v, e in zip(vietnamese, english, strict=True))


def test_a_refused_scenario_file_lists_its_problems_in_the_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--scenario FILE` (simulators.scenario_check.load_checked) refuses a bad file with every
    problem on one line, in Vietnamese by default and in English with --lang en."""
    raw = yaml.safe_load((SCENARIOS_DIR / "binh-dinh-2023-06.yaml").read_text(encoding="utf-8"))
    raw.pop("beneficiaries")
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "e.jsonl"
    args = ["simulate", "--scenario", str(path), "--out", str(out)]
    assert main(args) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "bad.yaml có 1 lỗi: (cấp cao nhất): thiếu trường bắt buộc 'beneficiaries'" in err
    assert "kiểm tra bằng" in err and "required property" not in err
    assert main([*args, "--lang", "en"]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "bad.yaml has 1 problem(s): (top level): 'beneficiaries' is a required property" in err
    assert "Traceback" not in err and not out.exists()
