"""One spreadsheet row -> contract events, or a RowError naming the column and the reason.

Row identity and event ids (how re-imports and corrections work, docs/import.md):
- a row's identity is what it is about: roster (CCCD, period, programme); payments (CCCD,
  period, programme, attempt); access points (the point's id);
- the event id is a keyed hash of the identity *and* the event's content, so importing the
  same row again repeats the same event (a duplicate the pipeline ignores), and a corrected
  row is a new event with a new id, never a conflicting duplicate;
- the CCCD enters both hashes only keyed (PSEUDONYM_KEY), so neither reveals it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson

from schemas.i18n import _
from streams.domain.reference import cccd_problem, commune_provinces
from streams.importer.mapping import Mapping, fold

SOURCE = "import/{kind}"
# Dates in the files are local (UTC+7); an event happens at 08:00 local time that day.
_LOCAL_MORNING = time(1, 0, tzinfo=UTC)
_AMOUNT_DOTS = re.compile(r"^\d{1,3}(\.\d{3})+$")
_AMOUNT_COMMAS = re.compile(r"^\d{1,3}(,\d{3})+$")
_PERIOD_MY = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{4})$")
_PERIOD_YM = re.compile(r"^(\d{4})-(\d{1,2})$")
_ACCESS_POINT_ID = re.compile(r"^[A-Za-z0-9_.:-]{3,64}$")
DEFAULT_PROVIDERS = {
    "bank_account": "Ngân hàng",
    "e_wallet": "Ví điện tử",
    "post_office_cash": "VNPost",
    "commune_cash": "UBND xã",
}


class RowError(Exception):
    """A bad cell: the field (shown with its header) and why. Never holds a CCCD."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RowEvents:
    """What one good row turns into: its identity (keyed digest) and its events."""

    identity: str
    events: list[dict[str, Any]]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class RowReader:
    """Reads the mapped cells of one kind of sheet with a keyed digest for identities."""

    def __init__(
        self,
        kind: str,
        mapping: Mapping,
        columns: dict[str, int],
        key: bytes,
        today: date | None = None,
    ) -> None:
        self.kind = kind
        self.mapping = mapping
        self.columns = columns
        self._keyed = hmac.new(key, b"import:", hashlib.sha256)
        self._year = (today or datetime.now(UTC).date()).year
        # Folded spreadsheet text -> contract value, per field (contract values accepted too).
        self._values = {
            field: {fold(v): v for v in names.values()} | {fold(k): v for k, v in names.items()}
            for field, names in mapping.values.items()
        }

    def digest(self, *parts: object) -> str:
        """Keyed hex digest of the parts (identities, payment ids, event ids)."""
        mac = self._keyed.copy()
        mac.update("\x1f".join(map(str, parts)).encode())
        return mac.hexdigest()

    # --- cells ------------------------------------------------------------------------------

    def cell(self, cells: list[Any], field: str) -> Any:
        index = self.columns.get(field)
        if index is None or index >= len(cells):
            return None
        value = cells[index]
        return None if isinstance(value, str) and not value.strip() else value

    def required(self, cells: list[Any], field: str) -> Any:
        value = self.cell(cells, field)
        if value is None:
            raise RowError(field, _("empty"))
        return value

    def citizen_id(self, cells: list[Any]) -> str:
        value = self.required(cells, "citizen_id")
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Excel stores a CCCD typed as a number without its leading zeros.
            text = f"{int(value):012d}" if float(value).is_integer() else "x"
        else:
            text = re.sub(r"[\s.]", "", str(value))
        problem = cccd_problem(text, self._year)
        if problem:
            raise RowError("citizen_id", _(problem))  # the number itself is never echoed
        return text

    def commune(self, cells: list[Any]) -> tuple[int, int]:
        text = _text(self.required(cells, "commune_code"))
        if not text.isdigit():
            raise RowError(
                "commune_code",
                _("{value} is not a commune code (a number)").format(value=repr(text)),
            )
        province = commune_provinces().get(int(text))
        if province is None:
            raise RowError(
                "commune_code",
                _("no commune or ward has the code {code} today").format(code=int(text)),
            )
        return province, int(text)

    def named(self, cells: list[Any], field: str) -> str:
        text = _text(self.required(cells, field))
        value = self._values.get(field, {}).get(fold(text))
        if value is None:
            known = ", ".join(sorted(self.mapping.values.get(field, {})))
            raise RowError(
                field,
                _("unknown value {value}; known: {known}").format(value=repr(text), known=known),
            )
        return value

    def amount(self, cells: list[Any]) -> int:
        value = self.required(cells, "amount_vnd")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if not float(value).is_integer():
                raise RowError("amount_vnd", _("an amount is a whole number of đồng"))
            amount = int(value)
        else:
            text = re.sub(r"\s|đ$|đồng$|VND$|VNĐ$", "", str(value).strip(), flags=re.I)
            if _AMOUNT_DOTS.match(text) or _AMOUNT_COMMAS.match(text):
                text = text.replace(".", "").replace(",", "")  # đồng have no decimals
            if not text.isdigit():
                raise RowError(
                    "amount_vnd",
                    _("{value} is not an amount in đồng (write 500.000 or 500000)").format(
                        value=repr(value)
                    ),
                )
            amount = int(text)
        if amount <= 0:
            raise RowError("amount_vnd", _("the amount must be more than 0"))
        return amount

    def day(self, cells: list[Any], field: str) -> date:
        value = self.required(cells, field)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        text = _text(value)
        try:
            return datetime.strptime(text, self.mapping.date_format).date()
        except ValueError:
            pass
        raise RowError(field, _("{value} is not a date like 20/06/2023").format(value=repr(text)))

    def period(self, cells: list[Any], fallback: date | None = None) -> str:
        value = self.cell(cells, "period")
        if value is None:
            if fallback is None:
                raise RowError("period", _("empty"))
            return f"{fallback.year:04d}-{fallback.month:02d}"
        if isinstance(value, date | datetime):
            return f"{value.year:04d}-{value.month:02d}"
        text = _text(value)
        match = _PERIOD_MY.match(text)
        year, month = (match.group(2), match.group(1)) if match else ("", "")
        if not match and (ym := _PERIOD_YM.match(text)):
            year, month = ym.group(1), ym.group(2)
        if not year or not 1 <= int(month) <= 12:
            raise RowError(
                "period", _("{value} is not a period like 06/2023").format(value=repr(text))
            )
        return f"{int(year):04d}-{int(month):02d}"

    def number(self, cells: list[Any], field: str, low: float, high: float) -> float:
        value = self.required(cells, field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            try:
                number = float(_text(value).replace(",", "."))
            except ValueError:
                raise RowError(
                    field, _("{value} is not a number").format(value=repr(value))
                ) from None
        if not low <= number <= high:
            raise RowError(
                field,
                _("{number} is outside {low}-{high}").format(number=number, low=low, high=high),
            )
        return number

    # --- events -----------------------------------------------------------------------------

    def _event(
        self, identity: str, event_type: str, at: datetime, payload: dict[str, Any]
    ) -> dict[str, Any]:
        body = {
            "event_type": event_type,
            "schema_version": 1,
            "occurred_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "source": SOURCE.format(kind=self.kind),
            "payload": payload,
        }
        content = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        event_id = str(uuid.UUID(hex=self.digest("event", identity, content)[:32], version=4))
        return {"event_id": event_id, **body}

    def events(self, cells: list[Any]) -> RowEvents:
        """The events of a row; RowError for the first bad cell."""
        if self.kind == "roster":
            return self._roster(cells)
        if self.kind == "payments":
            return self._payment(cells)
        return self._access_point(cells)

    def _beneficiary(self, cells: list[Any], fallback: date | None) -> tuple[str, dict[str, Any]]:
        cccd = self.citizen_id(cells)
        province, commune = self.commune(cells)
        programme = self.named(cells, "programme")
        period = self.period(cells, fallback)
        payment_id = (
            f"imp-{period}-{commune}-{self.digest('payment', cccd, period, programme)[:16]}"
        )
        return self.digest("row", cccd, period, programme), {
            "payment_id": payment_id,
            "period": period,
            "amount_vnd": self.amount(cells),
            "citizen_id": cccd,
            "province_code": province,
            "commune_code": commune,
            "programme": programme,
        }

    def _roster(self, cells: list[Any]) -> RowEvents:
        listed = self.day(cells, "date") if self.cell(cells, "date") is not None else None
        identity, base = self._beneficiary(cells, None)
        if listed is None:
            year, month = map(int, base["period"].split("-"))
            listed = date(year, month, 1)
        at = datetime.combine(listed, _LOCAL_MORNING)
        planned = self.named(cells, "channel")
        return RowEvents(
            identity,
            [self._event(identity, "payment.scheduled", at, base | {"planned_channel": planned})],
        )

    def _payment(self, cells: list[Any]) -> RowEvents:
        paid_on = self.day(cells, "date")
        identity, base = self._beneficiary(cells, paid_on)
        channel = self.named(cells, "channel")
        attempt = 1
        if self.cell(cells, "attempt") is not None:
            attempt = int(self.number(cells, "attempt", 1, 10))
        identity = self.digest("attempt", identity, attempt)
        # Later attempts on the same day still come after the earlier ones.
        at = datetime.combine(paid_on, _LOCAL_MORNING) + timedelta(minutes=attempt - 1)
        base |= {"channel": channel, "attempt": attempt}
        if self.cell(cells, "reason") is not None:
            event = self._event(
                identity, "payment.failed", at, base | {"reason": self.named(cells, "reason")}
            )
        else:
            provider = _text(self.cell(cells, "provider")) or DEFAULT_PROVIDERS[channel]
            event = self._event(
                identity, "payment.succeeded", at, base | {"provider": provider[:100]}
            )
        return RowEvents(identity, [event])

    def _access_point(self, cells: list[Any]) -> RowEvents:
        point_id = _text(self.required(cells, "access_point_id"))
        if not _ACCESS_POINT_ID.match(point_id):
            raise RowError("access_point_id", _("3-64 letters, digits or _ . : - only"))
        kind = self.named(cells, "kind")
        operator = _text(self.required(cells, "operator"))[:100]
        latitude = self.number(cells, "latitude", 8.0, 23.5)
        longitude = self.number(cells, "longitude", 102.0, 110.0)
        province, commune = self.commune(cells)
        at = datetime.combine(self.day(cells, "date"), _LOCAL_MORNING)
        identity = self.digest("access_point", point_id)
        return RowEvents(
            identity,
            [
                self._event(
                    identity,
                    "access_point.opened",
                    at,
                    {
                        "access_point_id": point_id,
                        "kind": kind,
                        "operator": operator,
                        "latitude": latitude,
                        "longitude": longitude,
                        "province_code": province,
                        "commune_code": commune,
                    },
                )
            ],
        )
