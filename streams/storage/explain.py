"""`explain` and `lookup`: the individual ledger rows behind a figure, and one person's history.

Both read individual (pseudonymised) rows, so they are for the operators of the monitor, not
for dashboard readers (docs/ledger.md). `lookup` takes a CCCD on standard input, hashes it in
memory with the configured pseudonym key and forgets it: it is never printed, logged, stored
or put in a query (only its pseudonym is).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from schemas import i18n
from schemas.i18n import N_, _
from streams.domain.ledger import current, fact_of, records, stored_at
from streams.domain.pseudonym import Pseudonymizer
from streams.domain.reference import cccd_problem
from streams.domain.statistics import Status, status_of
from streams.errors import InputError
from streams.storage.base import Store

STATUSES = ("unpaid", "failed", "paid_twice", "unknown", "cashless")
PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

_PAYMENTS = """
SELECT event_id, event_type, period, programme, beneficiary, province_code, commune_code,
       channel, occurred_ms, amount_vnd, reason, attempt, payment_id,
       toUnixTimestamp64Milli(received_at) AS stored_ms
FROM ledger_payments
"""
COMMUNE_SQL = (
    _PAYMENTS
    + """
WHERE period = {period:String} AND commune_code = {commune:UInt32}
ORDER BY beneficiary, occurred_ms, event_id
"""
)
PERSON_SQL = (
    _PAYMENTS
    + """
WHERE beneficiary = {beneficiary:String}
ORDER BY occurred_ms, event_id
"""
)
PERSON_EVENTS_SQL = """
SELECT DISTINCT event_id, event_type, province_code, commune_code, occurred_ms
FROM ledger_events
WHERE subject = {beneficiary:String}
ORDER BY occurred_ms, event_id
"""


def matches(status: Status, wanted: str | None) -> bool:
    """Whether a beneficiary's status counts towards the figure `wanted` (None: due or paid)."""
    if wanted is None:
        return status.due or status.paid
    return {
        "unpaid": status.due and not status.paid,
        "failed": status.due and bool(status.failures),
        "paid_twice": status.due and status.paid_twice,
        "unknown": status.unknown,
        "cashless": status.due and status.cashless,
    }[wanted]


def labels(status: Status) -> list[str]:
    """The figures a beneficiary counts towards."""
    out = ["due"] if status.due else []
    out += [name for name in STATUSES if matches(status, name)]
    return out + (["paid"] if status.paid and status.due else [])


def event_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """One event as shown: time (UTC), type, channel, amount, reason, commune."""
    ms = int(row["occurred_ms"])
    return {
        "time": datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "type": row["event_type"],
        "period": row.get("period", ""),
        "commune_code": int(row["commune_code"]),
        "channel": row.get("channel", ""),
        "amount_vnd": int(row.get("amount_vnd", 0)),
        "reason": row.get("reason", ""),
    }


@dataclass(frozen=True)
class Explained:
    """A beneficiary behind a commune's figure."""

    beneficiary: str
    programme: str
    counts: list[str]
    events: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "beneficiary": self.beneficiary,
            "programme": self.programme,
            "counts": self.counts,
            "events": self.events,
        }


def check_period(period: str) -> str:
    """`period` if it is YYYY-MM."""
    if not PERIOD.match(period):
        raise InputError(
            _("--period must be YYYY-MM (e.g. 2024-01), got {period}").format(period=repr(period))
        )
    return period


def explain(store: Store, period: str, commune: int, status: str | None) -> list[Explained]:
    """The pseudonyms behind a commune-period's figure (every beneficiary due or paid when
    `status` is None), with their events, recomputed from the ledger with the pipeline's rules
    (a superseded version of a payment outcome is not shown: the figures do not count it)."""
    rows = store.query(COMMUNE_SQL, {"period": check_period(period), "commune": commune})
    by_id = {r["event_id"]: r for r in rows}
    facts = current((fact_of(r) for r in by_id.values()), stored_at(rows))
    out = []
    for who, record in sorted(records(facts).items()):
        status_ = status_of(record)
        if not matches(status_, status):
            continue
        events = [
            event_view(by_id[entry[0]])
            for entry in sorted(record["e"], key=lambda e: (e[1], e[2], e[0]))
        ]
        out.append(Explained(who, record["p"], labels(status_), events))
    return out


def read_cccd(text: str, year: int | None = None) -> str:
    """The CCCD typed on standard input, checked; the error never echoes it."""
    cccd = text.strip()
    problem = cccd_problem(cccd, year or datetime.now(UTC).year)
    if problem:
        raise InputError(
            _("not a CCCD: {problem}. Type the 12 digits on standard input.").format(
                problem=_(problem)
            )
        )
    return cccd


def lookup(
    store: Store, pseudonymize: Pseudonymizer, cccd: str
) -> tuple[str, list[dict[str, Any]]]:
    """A person's pseudonym and their history: every ledger event that names them."""
    beneficiary = pseudonymize(cccd)
    rows = {r["event_id"]: r for r in store.query(PERSON_SQL, {"beneficiary": beneficiary})}
    events = [event_view(r) for r in rows.values()]
    events += [event_view(r) for r in store.query(PERSON_EVENTS_SQL, {"beneficiary": beneficiary})]
    events.sort(key=lambda e: (e["time"], e["type"]))
    return beneficiary, events


# What a beneficiary counts towards, as users read it (the JSON keeps the codes).
COUNTS = {
    "due": N_("due"),
    "unpaid": N_("unpaid"),
    "failed": N_("failed"),
    "paid_twice": N_("paid twice"),
    "unknown": N_("not on the list"),
    "cashless": N_("cashless"),
    "paid": N_("paid"),
}


def _cells(lang: i18n.Lang, e: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """Time, channel, amount and reason of an event in the current language."""
    return (
        lang.moment(e["time"]),
        lang.label(i18n.CHANNELS, e["channel"]) if e["channel"] else "",
        lang.number(e["amount_vnd"]),
        lang.label(i18n.FAILURE_REASONS, e["reason"]) if e["reason"] else "",
    )


def explain_table(found: list[Explained], period: str, commune: int, status: str | None) -> Table:
    """The `explain` table in the current language (event types stay the contract's codes)."""
    lang = i18n.current()
    figure = lang.label(COUNTS, status) if status else _("due or paid")
    table = Table(
        title=_("{period}, commune {commune}: {figure} ({n})").format(
            period=lang.period(period), commune=commune, figure=figure, n=lang.number(len(found))
        )
    )
    for column in (
        N_("beneficiary"),
        N_("programme"),
        N_("counts"),
        N_("time"),
        N_("event"),
        N_("channel"),
        N_("amount (đồng)"),
        N_("reason"),
    ):
        table.add_column(_(column))
    for item in found:
        for i, e in enumerate(item.events):
            head = ("", "", "")
            if i == 0:
                counts = ", ".join(lang.label(COUNTS, c) for c in item.counts)
                head = (item.beneficiary, lang.label(i18n.PROGRAMMES, item.programme), counts)
            time, channel, amount, reason = _cells(lang, e)
            table.add_row(*head, time, e["type"], channel, amount, reason)
    return table


def lookup_table(pseudonym: str, events: list[dict[str, Any]]) -> Table:
    """The `lookup` table in the current language."""
    lang = i18n.current()
    table = Table(
        title=_("pseudonym {pseudonym}: {n} events").format(
            pseudonym=pseudonym, n=lang.number(len(events))
        )
    )
    for column in (
        N_("time"),
        N_("event"),
        N_("period"),
        N_("commune"),
        N_("channel"),
        N_("amount (đồng)"),
        N_("reason"),
    ):
        table.add_column(_(column))
    for e in events:
        time, channel, amount, reason = _cells(lang, e)
        period = lang.period(e["period"]) if e["period"] else ""
        table.add_row(time, e["type"], period, str(e["commune_code"]), channel, amount, reason)
    return table


def print_wide(console: Console, table: Table) -> None:
    """Print `table` on `console`'s output at least 160 columns wide, so that pseudonyms and
    times stay on one line when the output is not a terminal (80 columns)."""
    Console(file=console.file, width=max(console.width, 160), highlight=False).print(table)
