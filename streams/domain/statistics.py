"""Per-beneficiary payment state and the aggregates derived from it (no Faust, no I/O).

Each beneficiary of a period has a record: the set of payment events seen for them,
deduplicated by event id. Their status is *derived* from that set, walking the events in
occurred_at order, so duplicates and redeliveries change nothing and the result does not
depend on arrival order:

- due: a `payment.scheduled` was seen (the denominator);
- paid: at least one `payment.succeeded` not cancelled by a later `payment.returned` of the
  same channel (a reversal); paid cashless: one of those is a cashless channel;
- time to pay: from the scheduled event to the earliest success that still stands;
- paid twice: two successes stand at once; unknown: paid but never scheduled in the period.

The worker folds each commune-period's events from the ledger with these rules
(`streams.domain.ledger.records`, then `status_of` and `stats_by_programme`; docs/ledger.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from schemas.read_model import cashless_rate
from streams.domain.ingest import PaymentFact

# Defined here, not imported from the simulators: the pipeline must not share code with the
# ground truth it is checked against.
CASHLESS_CHANNELS = frozenset({"bank_account", "e_wallet"})

SCHEDULED, FAILED, SUCCEEDED, RETURNED = 0, 1, 2, 3
KINDS = {
    "payment.scheduled": SCHEDULED,
    "payment.failed": FAILED,
    "payment.succeeded": SUCCEEDED,
    "payment.returned": RETURNED,
}

# A record entry: [event_id, occurred_ms, kind, channel, amount_vnd, reason, attempt].
Entry = list[Any]
# A record: {"p": programme, "e": [entries]}, one per beneficiary.
Record = dict[str, Any]


@dataclass(frozen=True)
class CommuneId:
    """A commune in a period."""

    period: str
    province_code: int
    commune_code: int

    @property
    def key(self) -> str:
        """Stable text form ("2023-06|52|21553")."""
        return f"{self.period}|{self.province_code}|{self.commune_code}"

    def previous(self) -> CommuneId:
        """The same commune in the previous monthly period."""
        year, month = map(int, self.period.split("-"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return CommuneId(f"{year:04d}-{month:02d}", self.province_code, self.commune_code)

    def next(self) -> CommuneId:
        """The same commune in the next monthly period."""
        year, month = map(int, self.period.split("-"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return CommuneId(f"{year:04d}-{month:02d}", self.province_code, self.commune_code)


def entry_of(fact: PaymentFact) -> Entry:
    """The record entry of one payment event."""
    return [
        fact.event_id,
        fact.occurred_ms,
        KINDS[fact.event_type],
        fact.channel,
        fact.amount_vnd,
        fact.reason,
        fact.attempt,
    ]


class Status(NamedTuple):
    """A beneficiary's derived status in a period."""

    programme: str
    due: bool
    standing: tuple[tuple[int, str, int], ...]  # successes not reversed: (ms, channel, amount)
    failures: tuple[str, ...]
    returned: int
    seconds_to_pay: int | None

    @property
    def paid(self) -> bool:
        """Paid, and not reversed since."""
        return bool(self.standing)

    @property
    def cashless(self) -> bool:
        """One standing payment went through a cashless channel."""
        return any(channel in CASHLESS_CHANNELS for _, channel, _ in self.standing)

    @property
    def paid_twice(self) -> bool:
        """Two payments stand at once in the period."""
        return len(self.standing) >= 2

    @property
    def unknown(self) -> bool:
        """Paid although no payment was scheduled for them in the period."""
        return self.paid and not self.due


_OCCURRED_ORDER = itemgetter(1, 2, 3, 4, 0)  # time, then kind, channel, amount, id: total


def status_of(record: Mapping[str, Any]) -> Status:
    """Derive the status from a record's events, in occurred_at order."""
    entries = record["e"]
    if len(entries) > 1:
        entries = sorted(entries, key=_OCCURRED_ORDER)
    scheduled_ms: int | None = None
    standing: list[tuple[int, str, int]] = []
    failures: list[str] = []
    returned = 0
    for _, ms, kind, channel, amount, reason, _ in entries:
        if kind == SCHEDULED:
            if scheduled_ms is None or ms < scheduled_ms:
                scheduled_ms = ms
        elif kind == FAILED:
            failures.append(reason)
        elif kind == SUCCEEDED:
            standing.append((ms, channel, amount))
        else:
            returned += 1
            for i in range(len(standing) - 1, -1, -1):
                if standing[i][1] == channel:
                    del standing[i]
                    break
    seconds = None
    if standing and scheduled_ms is not None:
        seconds = max(0, (min(ms for ms, _, _ in standing) - scheduled_ms) // 1000)
    if len(failures) > 1:
        failures.sort()
    return Status(
        record["p"], scheduled_ms is not None, tuple(standing), tuple(failures), returned, seconds
    )


@dataclass(slots=True)
class Stats:
    """Aggregates of a set of beneficiaries (a bucket, a commune, a programme...).

    Plain dicts, not Counters: a national replay builds hundreds of thousands of these, and
    Counter's constructor was 4.5% of the worker's time.
    """

    beneficiaries_due: int = 0
    beneficiaries_paid: int = 0
    beneficiaries_paid_cashless: int = 0
    beneficiaries_paid_twice: int = 0
    beneficiaries_paid_unknown: int = 0
    payments_returned: int = 0
    payments_by_channel: dict[str, int] = field(default_factory=dict)
    amount_by_channel: dict[str, int] = field(default_factory=dict)
    failures_by_reason: dict[str, int] = field(default_factory=dict)
    seconds_to_pay: list[int] = field(default_factory=list)
    paid_twice_subjects: list[str] = field(default_factory=list)  # pseudonyms, for alerts
    unknown_subjects: list[str] = field(default_factory=list)

    def add(self, status: Status, beneficiary: str = "") -> None:
        """Count one beneficiary."""
        programme, due, standing, failures, returned, seconds = status
        if not due:
            if standing:
                self.beneficiaries_paid_unknown += 1
                self.unknown_subjects.append(beneficiary)
            return
        self.beneficiaries_due += 1
        if failures:
            by_reason = self.failures_by_reason
            for reason in failures:
                by_reason[reason] = by_reason.get(reason, 0) + 1
        self.payments_returned += returned
        if standing:
            self.beneficiaries_paid += 1
            cashless = False
            payments, amounts = self.payments_by_channel, self.amount_by_channel
            for _, channel, amount in standing:
                payments[channel] = payments.get(channel, 0) + 1
                amounts[channel] = amounts.get(channel, 0) + amount
                cashless = cashless or channel in CASHLESS_CHANNELS
            self.beneficiaries_paid_cashless += cashless
            if len(standing) > 1:
                self.beneficiaries_paid_twice += 1
                self.paid_twice_subjects.append(beneficiary)
        if seconds is not None:
            self.seconds_to_pay.append(seconds)

    def update(self, other: Stats) -> None:
        """Add another set's aggregates (the sets must be disjoint)."""
        self.beneficiaries_due += other.beneficiaries_due
        self.beneficiaries_paid += other.beneficiaries_paid
        self.beneficiaries_paid_cashless += other.beneficiaries_paid_cashless
        self.beneficiaries_paid_twice += other.beneficiaries_paid_twice
        self.beneficiaries_paid_unknown += other.beneficiaries_paid_unknown
        self.payments_returned += other.payments_returned
        for mine, theirs in (
            (self.payments_by_channel, other.payments_by_channel),
            (self.amount_by_channel, other.amount_by_channel),
            (self.failures_by_reason, other.failures_by_reason),
        ):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.seconds_to_pay.extend(other.seconds_to_pay)
        self.paid_twice_subjects.extend(other.paid_twice_subjects)
        self.unknown_subjects.extend(other.unknown_subjects)

    @property
    def cashless_rate(self) -> float | None:
        """Paid cashless over due, or None without anyone due."""
        return cashless_rate(self.beneficiaries_paid_cashless, self.beneficiaries_due)

    def row(self) -> dict[str, Any]:
        """The statistics as ClickHouse columns."""
        return {
            "beneficiaries_due": self.beneficiaries_due,
            "beneficiaries_paid": self.beneficiaries_paid,
            "beneficiaries_paid_cashless": self.beneficiaries_paid_cashless,
            "beneficiaries_paid_twice": self.beneficiaries_paid_twice,
            "beneficiaries_paid_unknown": self.beneficiaries_paid_unknown,
            "payments_returned": self.payments_returned,
            "payments_by_channel": dict(sorted(self.payments_by_channel.items())),
            "amount_by_channel": dict(sorted(self.amount_by_channel.items())),
            "failures_by_reason": dict(sorted(self.failures_by_reason.items())),
            "seconds_to_pay": sorted(self.seconds_to_pay),
        }


def stats_by_programme(parts: Iterable[Iterable[tuple[str, Status]]]) -> dict[str, Stats]:
    """Per-programme statistics of the beneficiaries in `parts` (disjoint)."""
    out: dict[str, Stats] = {}
    for part in parts:
        for beneficiary, status in part:
            stats = out.get(status.programme)
            if stats is None:
                stats = out[status.programme] = Stats()
            stats.add(status, beneficiary)
    return out


def total(per_programme: Mapping[str, Stats]) -> Stats:
    """All programmes together."""
    out = Stats()
    for stats in per_programme.values():
        out.update(stats)
    return out
