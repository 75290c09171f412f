"""Payment facts for the unit tests of the statistics rules and the ledger fold: one commune,
one period, readable ids (`fact`), the rules applied over the ledger's fold (`apply_all`)."""

from __future__ import annotations

from streams.domain.ingest import PaymentFact
from streams.domain.ledger import records
from streams.domain.statistics import Stats, stats_by_programme, status_of, total

DAY = 86_400_000


def fact(
    kind: str,
    who: str,
    channel: str = "post_office_cash",
    at: int = 0,
    *,
    n: int = 0,
    programme: str = "social_assistance",
    amount: int = 500_000,
    reason: str = "",
) -> PaymentFact:
    return PaymentFact(
        event_id=f"{kind}-{who}-{n}",
        event_type=kind,
        period="2023-06",
        programme=programme,
        beneficiary=who,
        province_code=52,
        commune_code=21553,
        channel=channel,
        occurred_ms=at,
        amount_vnd=amount,
        reason=reason,
        attempt=1,
    )


def apply_all(facts: list[PaymentFact]) -> Stats:
    """The status rules over the ledger's fold of `facts` (one record per beneficiary)."""
    statuses = [(who, status_of(record)) for who, record in records(facts).items()]
    return total(stats_by_programme([statuses]))


def people(n: int) -> list[str]:
    return [f"{i:032x}" for i in range(n)]


def retried_history(who: str) -> list[PaymentFact]:
    """One beneficiary's month: scheduled, failed (invalid account), paid in cash, the cash
    returned, paid again by e-wallet: cashless in the end, one payment returned."""
    return [
        fact("payment.scheduled", who),
        fact("payment.failed", who, "bank_account", DAY, reason="invalid_account"),
        fact("payment.succeeded", who, "commune_cash", 2 * DAY),
        fact("payment.returned", who, "commune_cash", 3 * DAY),
        fact("payment.succeeded", who, "e_wallet", 4 * DAY, n=1),
    ]
