"""Languages: the one place for translated text and number and date formats (Babel).

Vietnamese (`vi`) is the default, English (`en`) on request. The text is English in the code,
marked with `_()` (translated now, in the current language) or `N_()` (only marked, translated
where it is shown); `make i18n` extracts it into `schemas/locale/messages.pot` and updates the
committed `schemas/locale/vi/LC_MESSAGES/messages.po`. The compiled `.mo` is not committed: it is
used when `make i18n` built it and it is newer than the `.po`, and otherwise the `.po` is
compiled in memory on first use, so a fresh clone needs no build step.

Numbers and dates go through Babel with the language's locale data: `127.450` and `0,11%` in
`vi`, `127,450` and `0.11%` in `en`. Machine outputs (JSON, CSV values, API fields) never come
through here.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Literal

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

Language = Literal["vi", "en"]
LANGUAGES: tuple[Language, ...] = ("vi", "en")
DEFAULT_LANGUAGE: Language = "vi"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"

# How each language writes a date, a month and a moment (CLDR patterns, formatted by Babel):
# Vietnamese reports write 20/06/2023; the English pages use ISO 8601 dates.
_DATE = {"vi": "dd/MM/yyyy", "en": "yyyy-MM-dd"}
_MONTH = {"vi": "MM/yyyy", "en": "yyyy-MM"}
_MOMENT = {"vi": "HH:mm:ss dd/MM/yyyy", "en": "yyyy-MM-dd HH:mm:ss"}


def N_(message: str) -> str:
    """Marks `message` for extraction; it is translated where it is shown."""
    return message


def parse_language(value: str) -> str:
    """`vi` or `en` from a language setting: `en`, `en_US.UTF-8`, or a list such as
    `fr:en_GB:vi` (GNU gettext's LANGUAGE), whose first supported entry wins."""
    for entry in str(value).split(":"):
        code = entry.strip().split(".")[0].replace("-", "_").split("_")[0].lower()
        if code in LANGUAGES:
            return code
    raise ValueError(f"language must be one of {', '.join(LANGUAGES)} (got {value!r})")


def _catalogue_paths(language: str) -> tuple[Path, Path]:
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def compile_catalogue(po_path: Path) -> bytes:
    """The `.mo` bytes of a `.po` file (what `pybabel compile` writes)."""
    with po_path.open("rb") as f:
        catalogue = read_po(f, locale=po_path.parent.parent.name, domain=DOMAIN)
    out = io.BytesIO()
    write_mo(out, catalogue)
    return out.getvalue()


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The gettext translations of `language` (English is the source text)."""
    language = parse_language(language)
    po_path, mo_path = _catalogue_paths(language)
    if language == "en" or not po_path.is_file():
        return gettext.NullTranslations()
    if mo_path.is_file() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        with mo_path.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    return Translations(io.BytesIO(compile_catalogue(po_path)), domain=DOMAIN)


@dataclass(frozen=True)
class Lang:
    """Text and formats of one language."""

    code: str = DEFAULT_LANGUAGE

    def gettext(self, message: str) -> str:
        return translations(self.code).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.code).ngettext(singular, plural, n)

    def label(self, labels: Mapping[str, str], key: str | None) -> str:
        """The translated label of a code (a channel, a programme), or the code itself."""
        if key is None:
            return "–"
        return self.gettext(labels[key]) if key in labels else key

    def number(self, value: float | int | None, decimals: int = 0) -> str:
        """`127.450` (vi) or `127,450` (en); `–` for no value."""
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.code)

    def percent(self, ratio: float | None, decimals: int = 2) -> str:
        """`0,11%` (vi) or `0.11%` (en) for a ratio of 0.0011."""
        if ratio is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
        return format_percent(ratio, format=pattern, locale=self.code)

    def counts(
        self, numerator: int | None, denominator: int | None, ratio: float | None = None
    ) -> str:
        """The headline: `142 / 127.450 (0,11%)` (vi) or `142 / 127,450 (0.11%)` (en)."""
        if ratio is None and numerator is not None and denominator:
            ratio = numerator / denominator
        return f"{self.number(numerator)} / {self.number(denominator)} ({self.percent(ratio)})"

    def date(self, value: date) -> str:
        """`20/06/2023` (vi) or `2023-06-20` (en)."""
        return format_date(value, format=_DATE[self.code], locale=self.code)

    def moment(self, value: datetime | str | None) -> str:
        """A UTC time: `14:05:09 20/06/2023 UTC` (vi) or `2023-06-20 14:05:09 UTC` (en)."""
        if value is None or value == "":
            return "–"
        moment = value
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
        assert isinstance(moment, datetime)
        return (
            format_datetime(moment, format=_MOMENT[self.code], locale=self.code, tzinfo=UTC)
            + " UTC"
        )

    def period(self, period: str | None) -> str:
        """A payment period `2023-06` as `06/2023` (vi) or `2023-06` (en)."""
        if not period:
            return "–"
        try:
            first = date.fromisoformat(f"{period}-01")
        except ValueError:
            return period
        return format_date(first, format=_MONTH[self.code], locale=self.code)


# The process's language for the CLI's text (every thread: progress bars draw from others).
# Pages and reports take their language as an argument instead.
_current = [Lang()]


def use(language: str) -> Lang:
    """Make `language` the current one (the CLI does this once, from --lang or LANGUAGE)."""
    _current[0] = Lang(parse_language(language))
    return _current[0]


def current() -> Lang:
    """The current language."""
    return _current[0]


def _(message: str) -> str:
    """`message` in the current language."""
    return _current[0].gettext(message)


# Codes of the event contract, as users read them.
CHANNELS = {
    "bank_account": N_("bank account"),
    "e_wallet": N_("e-wallet"),
    "post_office_cash": N_("cash at the post office"),
    "commune_cash": N_("cash from commune staff"),
}
PROGRAMMES = {
    "social_assistance": N_("social assistance"),
    "meritorious_people": N_("people with meritorious service"),
    "disability_allowance": N_("disability allowance"),
    "elderly_allowance": N_("elderly allowance"),
}
FAILURE_REASONS = {
    "invalid_account": N_("invalid account"),
    "closed_account": N_("closed account"),
    "name_mismatch": N_("name mismatch"),
    "identity_not_verified": N_("identity not verified"),
    "beneficiary_absent": N_("beneficiary absent"),
}
ALERT_KINDS = {
    "low_cashless_rate": N_("cashless rate under target"),
    "cashless_rate_drop": N_("cashless rate dropped"),
    "paid_twice": N_("paid twice"),
    "unknown_beneficiary": N_("payment to no one on the list"),
    "behind_target": N_("behind its target"),
}
# The follow-up list's categories (the `followup` table, the live page's drill-down).
FOLLOWUP_CATEGORIES = {
    "unpaid": N_("not paid yet"),
    "failed": N_("payment failed"),
    "paid_twice": N_("paid twice"),
}
