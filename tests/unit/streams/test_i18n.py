"""Languages: Babel formats per language, the LANGUAGE setting, and a complete vi catalogue."""

from __future__ import annotations

import re
import string
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from schemas import i18n
from schemas.i18n import LOCALE_DIR, Lang, compile_catalogue, parse_language
from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
PO = LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po"


@pytest.mark.parametrize(
    ("code", "headline", "day", "month"),
    [
        ("vi", "142 / 127.450 (0,11%)", "20/06/2023", "06/2023"),
        ("en", "142 / 127,450 (0.11%)", "2023-06-20", "2023-06"),
    ],
)
def test_the_headline_and_dates_follow_the_language(
    code: str, headline: str, day: str, month: str
) -> None:
    lang = Lang(code)
    assert lang.counts(142, 127_450) == headline
    assert lang.date(date(2023, 6, 20)) == day
    assert lang.period("2023-06") == month


def test_numbers_round_and_group_by_language() -> None:
    assert Lang("vi").number(1_234_567.25, 1) == "1.234.567,2"
    assert Lang("en").number(1_234_567.25, 1) == "1,234,567.2"
    assert Lang("vi").percent(0.5, 1) == "50,0%"
    assert Lang("vi").number(None) == "–"


def test_text_is_vietnamese_by_default_and_english_on_request() -> None:
    assert Lang().gettext("Commune") == "Xã"
    assert Lang("en").gettext("Commune") == "Commune"
    previous = i18n.current().code
    try:
        i18n.use("en")
        assert i18n._("Province") == "Province"
        i18n.use("vi")
        assert i18n._("Province") == "Tỉnh"
    finally:
        i18n.use(previous)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("vi", "vi"),
        ("en", "en"),
        ("EN", "en"),
        ("en_US.UTF-8", "en"),
        ("vi-VN", "vi"),
        ("fr:en_GB:vi", "en"),
    ],
)
def test_language_settings_are_read_like_gnu_gettext(value: str, code: str) -> None:
    assert parse_language(value) == code


def test_the_language_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANGUAGE", "en_US:en")
    assert Settings(_env_file=None).language == "en"
    monkeypatch.delenv("LANGUAGE")
    assert Settings(_env_file=None).language == "vi"
    with pytest.raises(ValueError, match="language must be one of vi, en"):
        Settings(_env_file=None, language="fr")
    assert "LANGUAGE" in Settings.env_names()


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_the_vietnamese_catalogue_translates_every_marked_text() -> None:
    """What `make i18n` would extract from the code is exactly what the .po translates."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    marked: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(ROOT, method_map, options_map):
        marked.add(message if isinstance(message, str) else message[0])
    assert "Cashless overview" in marked  # the dashboards' text, from babel.cfg's extractor
    with PO.open("rb") as f:
        catalogue = read_po(f, locale="vi")
    entries = {m.id: m for m in catalogue if m.id}
    assert sorted(marked - set(entries)) == [], "run `make i18n` and translate the new text"
    assert sorted(set(entries) - marked) == [], "the .po has obsolete entries: `make i18n`"
    for msgid, m in entries.items():
        assert m.string and "fuzzy" not in m.flags, f"untranslated: {msgid!r}"
        assert _placeholders(msgid) == _placeholders(str(m.string)), msgid


def test_a_compiled_mo_and_the_po_give_the_same_text(tmp_path: Path) -> None:
    mo = tmp_path / "messages.mo"
    mo.write_bytes(compile_catalogue(PO))
    from babel.support import Translations

    with mo.open("rb") as f:
        compiled = Translations(f)
    with PO.open("rb") as f:
        ids = [m.id for m in read_po(f) if m.id]
    assert ids and all(
        compiled.gettext(i) == i18n.translations("vi").gettext(i) != i
        for i in ids
        if re.search("[a-z]", i)
    )
