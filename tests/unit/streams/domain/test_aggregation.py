import itertools
import random

from streams.domain.ledger import records
from streams.domain.statistics import CommuneId, stats_by_programme, status_of
from tests.support.facts import DAY, apply_all, fact, people, retried_history


def test_counts_distinct_beneficiaries_not_events() -> None:
    a, b = people(2)
    stats = apply_all(
        [
            fact("payment.scheduled", a),
            fact("payment.scheduled", b),
            fact("payment.succeeded", a, "bank_account", DAY),
            fact("payment.failed", b, at=DAY, reason="beneficiary_absent"),
            fact("payment.succeeded", b, "commune_cash", 2 * DAY, n=1),
        ]
    )
    assert (
        stats.beneficiaries_due,
        stats.beneficiaries_paid,
        stats.beneficiaries_paid_cashless,
    ) == (2, 2, 1)
    assert stats.failures_by_reason == {"beneficiary_absent": 1}
    assert stats.payments_by_channel == {"bank_account": 1, "commune_cash": 1}
    assert sorted(stats.seconds_to_pay) == [86_400, 172_800]


def test_a_reversal_unpays_and_a_cashless_repayment_counts_as_cashless() -> None:
    [a] = people(1)
    paid_cash = [fact("payment.scheduled", a), fact("payment.succeeded", a, "commune_cash", DAY)]
    reversed_ = [*paid_cash, fact("payment.returned", a, "commune_cash", 2 * DAY)]
    repaid = [*reversed_, fact("payment.succeeded", a, "bank_account", 3 * DAY, n=1)]
    assert apply_all(paid_cash).beneficiaries_paid_cashless == 0
    unpaid = apply_all(reversed_)
    assert (unpaid.beneficiaries_paid, unpaid.payments_returned) == (0, 1)
    assert unpaid.seconds_to_pay == []
    stats = apply_all(repaid)
    assert (stats.beneficiaries_paid, stats.beneficiaries_paid_cashless) == (1, 1)
    assert stats.amount_by_channel == {"bank_account": 500_000}
    assert stats.seconds_to_pay == [3 * 86_400]  # the payment that stood


def test_paid_twice_and_paid_without_being_due_are_flagged() -> None:
    a, b = people(2)
    stats = apply_all(
        [
            fact("payment.scheduled", a),
            fact("payment.succeeded", a, at=DAY),
            fact("payment.succeeded", a, at=2 * DAY, n=1),
            fact("payment.succeeded", b, at=DAY),
        ]
    )
    assert stats.beneficiaries_paid_twice == 1
    assert stats.beneficiaries_paid_unknown == 1
    assert stats.beneficiaries_due == 1 and stats.beneficiaries_paid == 1
    assert stats.amount_by_channel == {"post_office_cash": 1_000_000}


def test_every_arrival_order_with_duplicates_gives_the_same_statistics() -> None:
    [a] = people(1)
    history = retried_history(a)
    expected = apply_all(history)
    for order in itertools.permutations(history):
        assert apply_all([*order, order[0], order[-1]]) == expected


def test_many_beneficiaries_in_random_order_with_redelivery() -> None:
    facts = []
    for i, who in enumerate(people(300)):
        facts.append(fact("payment.scheduled", who))
        if i % 7:
            channel = "e_wallet" if i % 5 == 0 else "post_office_cash"
            facts.append(fact("payment.succeeded", who, channel, DAY + i))
    expected = apply_all(facts)
    rng = random.Random(3)
    for _ in range(5):
        shuffled = facts + rng.sample(facts, 100)
        rng.shuffle(shuffled)
        assert apply_all(shuffled) == expected
    assert expected.beneficiaries_due == 300


def test_a_duplicate_changes_nothing() -> None:
    f = fact("payment.scheduled", people(1)[0])
    assert records([f, f, f]) == records([f])
    assert len(records([f, f])[f.beneficiary]["e"]) == 1


def test_statistics_are_kept_per_programme() -> None:
    a, b = people(2)
    folded = records(
        [fact("payment.scheduled", a, programme="elderly_allowance"), fact("payment.scheduled", b)]
    )
    per_programme = stats_by_programme([[(w, status_of(r)) for w, r in folded.items()]])
    assert {p: s.beneficiaries_due for p, s in per_programme.items()} == {
        "elderly_allowance": 1,
        "social_assistance": 1,
    }


def test_status_ignores_a_return_that_matches_no_payment() -> None:
    [a] = people(1)
    folded = records(
        [
            fact("payment.scheduled", a),
            fact("payment.succeeded", a, "bank_account", DAY),
            fact("payment.returned", a, "commune_cash", 2 * DAY),
        ]
    )
    status = status_of(folded[a])
    assert status.paid and status.cashless and status.returned == 1


def test_previous_and_next_periods_cross_years() -> None:
    january = CommuneId("2024-01", 52, 21553)
    assert january.previous().period == "2023-12"
    assert january.previous().next() == january
