"""The ledger fold (streams/ledger.py) applies the same rules as the per-beneficiary merge of
streams/aggregation.py, whatever the order the ledger returns its rows in."""

from __future__ import annotations

import itertools
import random

from streams.aggregation import CommuneId, Stats
from streams.ingest import PaymentFact
from streams.ledger import figures_of
from tests.streams.test_aggregation import DAY, apply_all, fact, people

COMMUNE = CommuneId("2023-06", 52, 21553)


def folded(facts: list[PaymentFact]) -> Stats:
    return figures_of(COMMUNE, facts).total()


def same(a: Stats, b: Stats) -> bool:
    return a.row() == b.row() and (sorted(a.paid_twice_subjects), sorted(a.unknown_subjects)) == (
        sorted(b.paid_twice_subjects),
        sorted(b.unknown_subjects),
    )


def test_one_history_in_every_order_with_repeats_folds_like_the_merge() -> None:
    [a] = people(1)
    history = [
        fact("payment.scheduled", a),
        fact("payment.failed", a, "bank_account", DAY, reason="invalid_account"),
        fact("payment.succeeded", a, "commune_cash", 2 * DAY),
        fact("payment.returned", a, "commune_cash", 3 * DAY),
        fact("payment.succeeded", a, "e_wallet", 4 * DAY, n=1),
    ]
    expected = apply_all(history)
    assert expected.beneficiaries_paid_cashless == 1 and expected.payments_returned == 1
    for order in itertools.permutations(history):
        assert same(folded([*order, order[0], order[-1]]), expected)


def test_many_beneficiaries_paid_twice_and_unknown_fold_like_the_merge() -> None:
    facts = []
    for i, who in enumerate(people(300)):
        if i % 11:
            facts.append(
                fact(
                    "payment.scheduled",
                    who,
                    programme=("elderly_allowance" if i % 3 else "social_assistance"),
                )
            )
        if i % 7:
            channel = "e_wallet" if i % 5 == 0 else "post_office_cash"
            facts.append(fact("payment.succeeded", who, channel, DAY + i))
        if i % 13 == 0:
            facts.append(fact("payment.succeeded", who, "bank_account", 2 * DAY + i, n=1))
    expected = apply_all(facts)
    assert expected.beneficiaries_paid_twice and expected.beneficiaries_paid_unknown
    rng = random.Random(5)
    for _ in range(5):
        shuffled = facts + rng.sample(facts, 100)
        rng.shuffle(shuffled)
        assert same(folded(shuffled), expected)
    # The version counts distinct events, not rows.
    assert figures_of(COMMUNE, facts + facts[:10]).version == len(facts)
