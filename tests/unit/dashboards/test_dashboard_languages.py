"""One dashboard set per language: same queries and variables, translated text, stable uids."""

from __future__ import annotations

from typing import Any

from dashboards.build import build_all, source_boards
from dashboards.i18n import COLUMN_LABELS, texts, uid_for
from schemas.i18n import Lang


def renames(board: dict[str, Any], title: str) -> dict[str, str]:
    panel = next(p for p in board["panels"] if p["title"] == title)
    [organize] = [t for t in panel.get("transformations", []) if t["id"] == "organize"]
    return dict(organize["options"]["renameByName"])


def test_each_language_has_the_source_queries_under_a_stable_uid() -> None:
    boards, source = build_all(), source_boards()
    for uid, board in source.items():
        for language in ("vi", "en"):
            other = boards[uid_for(uid, language)]
            assert other["uid"] == (uid if language == "vi" else f"{uid}-en")
            assert [t["rawSql"] for p in other["panels"] for t in p["targets"]] == [
                t["rawSql"] for p in board["panels"] for t in p["targets"]
            ]
            assert [v["name"] for v in other["templating"]["list"]] == [
                v["name"] for v in board["templating"]["list"]
            ]
            assert other["tags"] == [*board["tags"], language]
            assert all(link["tags"][-1] == language for link in other["links"])


def test_titles_headers_and_descriptions_are_translated() -> None:
    boards = build_all()
    vi, en = boards["wm-overview"], boards["wm-overview-en"]
    assert vi["title"] == "Tổng quan chi trả không dùng tiền mặt"
    assert en["title"] == "Cashless overview"
    assert [p["title"] for p in vi["panels"]][:1] == ["Chi trả không dùng tiền mặt / phải chi trả"]
    labels = {v["name"]: v["label"] for v in vi["templating"]["list"]}
    assert labels["period"] == "Kỳ" and labels["datasource"] == "Nguồn dữ liệu"
    assert renames(vi, "Tất cả các xã")["due"] == "Phải chi trả"
    assert renames(en, "All communes")["due"] == "Due"
    # The headline stat picks its field by name: never renamed.
    assert "transformations" not in vi["panels"][0]
    commune = boards["wm-commune"]
    assert commune["annotations"]["list"][0]["name"] == "Cảnh báo"
    assert {v["label"] for v in commune["templating"]["list"]} == {
        "Nguồn dữ liệu",
        "Tỉnh",
        "Xã",
        "Chế độ",
        "Kỳ",
        "Nguồn dữ liệu danh sách cần xử lý",
    }


def test_every_source_text_has_a_vietnamese_translation_and_titles_stay_unique() -> None:
    vi = Lang("vi")
    for board in source_boards().values():
        untranslated = [t for t in texts(board) if t and vi.gettext(t) == t]
        assert not untranslated, untranslated
    titles = [b["title"] for b in build_all().values()]
    assert len(titles) == len(set(titles))  # one folder holds both languages
    assert all(vi.gettext(label) != label for label in COLUMN_LABELS.values())


def value_texts(board: dict[str, Any], sql_start: str, column: str) -> dict[str, str]:
    """The value mapping of `column` in the table panel whose query starts with `sql_start`."""
    panel = next(p for p in board["panels"] if p["targets"][0]["rawSql"].startswith(sql_start))
    [override] = [o for o in panel["fieldConfig"]["overrides"] if o["matcher"]["options"] == column]
    [mapping] = [p["value"] for p in override["properties"] if p["id"] == "mappings"]
    [values] = [m["options"] for m in mapping if m["type"] == "value"]
    return {code: v["text"] for code, v in values.items()}


def test_follow_up_categories_and_alert_kinds_are_shown_in_the_language() -> None:
    """Codes in table cells (the follow-up list's category, an alert's kind) get a value
    mapping per language; the SQL still returns the codes."""
    boards = build_all()
    vi, en = boards["wm-commune"], boards["wm-commune-en"]
    followup = "SELECT category, beneficiary"
    assert value_texts(vi, followup, "category") == {
        "unpaid": "chưa được chi trả",
        "failed": Lang("vi").gettext("payment failed"),
        "paid_twice": Lang("vi").gettext("paid twice"),
    }
    assert value_texts(vi, followup, "category")["failed"] != "payment failed"
    assert value_texts(en, followup, "category")["unpaid"] == "not paid yet"
    assert (
        value_texts(vi, "SELECT kind, period, count()", "kind")["paid_twice"] == "chi trả hai lần"
    )
    assert value_texts(en, "SELECT kind, period, count()", "kind")["behind_target"] == (
        "behind its target"
    )
