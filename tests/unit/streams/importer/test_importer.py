"""The importer's reading and row conversion, without a broker: formats agree, ids are
stable and keyed, bad cells are named, mappings override the defaults."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from schemas import i18n
from streams.errors import InputError
from streams.importer.mapping import load_mapping
from streams.importer.run import convert, dead_letter_rows, write_errors

SAMPLES = Path(__file__).parents[4] / "simulators" / "samples"
KEY = b"k" * 32


@pytest.mark.parametrize("kind", ["roster", "payments", "access-points"])
def test_csv_and_xlsx_samples_give_the_same_events(kind: str) -> None:
    mapping = load_mapping(kind, None)
    from_csv = convert(SAMPLES / f"{kind}.csv", kind, mapping, KEY)
    from_xlsx = convert(SAMPLES / f"{kind}.xlsx", kind, mapping, KEY)
    with (SAMPLES / f"{kind}.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert from_csv.problems == [] and from_xlsx.problems == []
    assert from_csv.rows == len(rows) == len(from_csv.events)
    assert from_csv.events == from_xlsx.events


def test_event_ids_depend_on_content_and_key_not_on_the_file() -> None:
    mapping = load_mapping("payments", None)
    first = convert(SAMPLES / "payments.csv", "payments", mapping, KEY)
    again = convert(SAMPLES / "payments.xlsx", "payments", mapping, KEY)
    other_key = convert(SAMPLES / "payments.csv", "payments", mapping, b"x" * 32)
    ids = [e["event_id"] for es in first.events.values() for e in es]
    assert ids == [e["event_id"] for es in again.events.values() for e in es]
    assert len(set(ids)) == len(ids)
    assert not set(ids) & {e["event_id"] for es in other_key.events.values() for e in es}
    with (SAMPLES / "payments.csv").open(encoding="utf-8-sig") as f:
        cccds = {r["Số CCCD"] for r in csv.DictReader(f)}
    for events in first.events.values():
        for e in events:  # only the payload's citizen_id (pseudonymised at ingest) holds it
            assert not any(c in e["event_id"] or c in e["payload"]["payment_id"] for c in cccds)


def test_a_corrected_row_keeps_its_identity_and_gets_a_new_id(tmp_path: Path) -> None:
    text = (SAMPLES / "payments.csv").read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    changed = (
        lines[1].replace(",Bưu điện,", ",Chuyển khoản,").replace(",Tiền mặt,", ",Chuyển khoản,")
    )
    assert changed != lines[1]
    path = tmp_path / "corrected.csv"
    path.write_text("\n".join([lines[0], changed, *lines[2:]]) + "\n", encoding="utf-8")
    mapping = load_mapping("payments", None)
    before = convert(SAMPLES / "payments.csv", "payments", mapping, KEY).events
    after = convert(path, "payments", mapping, KEY).events
    assert before.keys() == after.keys()
    differing = [k for k in before if before[k] != after[k]]
    assert len(differing) == 1
    old, new = before[differing[0]][0], after[differing[0]][0]
    assert old["event_id"] != new["event_id"]
    assert new["payload"]["channel"] == "bank_account"


def test_bad_rows_are_named_and_never_hold_the_cccd(tmp_path: Path) -> None:
    path = SAMPLES / "payments-bad-rows.csv"
    converted = convert(path, "payments", load_mapping("payments", None), KEY)
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    marked = [n + 2 for n, r in enumerate(rows) if r["Ghi chú"].startswith("SAI")]
    assert [p.row for p in converted.problems] == marked
    assert len(converted.events) == len(rows) - len(marked)
    errors = tmp_path / "errors.csv"
    write_errors(errors, converted)
    text = errors.read_text(encoding="utf-8-sig")
    dead = " ".join(r["reason"] for r in dead_letter_rows(converted))
    for r in rows:
        assert r["Số CCCD"] not in text and r["Số CCCD"] not in dead
    assert {r["error_class"] for r in dead_letter_rows(converted)} == {"import_row"}


def test_a_mapping_file_overrides_headers_and_values(tmp_path: Path) -> None:
    text = (SAMPLES / "roster.csv").read_text(encoding="utf-8-sig")
    text = text.replace("Số CCCD", "Số định danh", 1).replace("Chuyển khoản", "CK Agribank")
    source = tmp_path / "roster.csv"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="không tìm thấy dòng tiêu đề"):  # Vietnamese by default
        convert(source, "roster", load_mapping("roster", None), KEY)
    mapping_file = tmp_path / "mapping.yaml"
    mapping_file.write_text(
        "kind: roster\ncolumns:\n  citizen_id: ['Số định danh']\n"
        "values:\n  channel:\n    CK Agribank: bank_account\n",
        encoding="utf-8",
    )
    mapping = load_mapping("roster", mapping_file)
    converted = convert(source, "roster", mapping, KEY)
    assert converted.problems == []
    default = convert(SAMPLES / "roster.csv", "roster", load_mapping("roster", None), KEY)
    assert converted.events == default.events


@pytest.mark.parametrize(
    ("content", "message", "english"),
    [
        ("kind: payments\n", "dành cho loại 'payments'", "for kind 'payments'"),
        ("columns: [a]\n", "columns", "columns"),
        (": : :\n", "không phải YAML hợp lệ", "not valid YAML"),
    ],
)
def test_bad_mappings_are_one_line_errors(
    tmp_path: Path, content: str, message: str, english: str
) -> None:
    """Vietnamese by default, English on request."""
    path = tmp_path / "m.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_mapping("roster", path)
    i18n.use("en")
    try:
        with pytest.raises(InputError, match=english):
            load_mapping("roster", path)
    finally:
        i18n.use("vi")


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("500.000", 500_000),
        ("2.055.000 đ", 2_055_000),
        ("2,055,000", 2_055_000),
        ("500000", 500_000),
        (500_000, 500_000),
        (500_000.0, 500_000),
        ("500,5", None),
        ("1.5", None),
        ("0", None),
        (12.5, None),
        ("năm trăm", None),
    ],
)
def test_amounts_in_vietnamese_and_excel_forms(cell: object, amount: int | None) -> None:
    from streams.importer.rows import RowError, RowReader

    reader = RowReader("roster", load_mapping("roster", None), {"amount_vnd": 0}, KEY)
    if amount is None:
        with pytest.raises(RowError):
            reader.amount([cell])
    else:
        assert reader.amount([cell]) == amount
