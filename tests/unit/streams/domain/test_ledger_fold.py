"""The ledger fold (streams/storage/ledger.py) applies the same rules as the per-beneficiary
merge of streams/domain/statistics.py, whatever the order the ledger returns its rows in."""

from __future__ import annotations

import itertools
import random
from collections import Counter

from simulators.generator import PaymentCycle
from streams.domain.ingest import PaymentFact
from streams.domain.ledger import current, figures_of, stored_at
from streams.domain.statistics import CommuneId, Stats
from streams.harness.testing import build_scenario
from tests.support.facts import DAY, apply_all, fact, people, retried_history

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
    history = retried_history(a)
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


def _version(f: PaymentFact, payment_id: str, n: int = 0, **changes: object) -> PaymentFact:
    """`f` as the (n+1)-th version of the outcome of `payment_id`: a new event id."""
    return f._replace(event_id=f"{f.event_id}-v{n}", payment_id=payment_id, **changes)


def test_a_later_version_of_a_payment_outcome_supersedes_the_earlier_one() -> None:
    """A corrected row (cash -> bank transfer, dated earlier) stored after the original: the
    fold counts the correction only, in every read order and with repeats; without the stored
    ranks (or with the original stored last) it counts the other version, never both."""
    [a] = people(1)
    scheduled = _version(fact("payment.scheduled", a), "p1")
    original = _version(fact("payment.succeeded", a, "commune_cash", 2 * DAY), "p1")
    corrected = _version(original, "p1", 1, channel="bank_account", occurred_ms=DAY)
    history = [scheduled, original, corrected]
    stored = {scheduled.event_id: 10, original.event_id: 10, corrected.event_id: 20}
    expected = apply_all([scheduled, corrected])
    assert expected.beneficiaries_paid_cashless == 1 and not expected.beneficiaries_paid_twice
    assert apply_all(history).beneficiaries_paid_twice == 1  # what the fold used to count
    for order in itertools.permutations(history):
        figures = figures_of(COMMUNE, [*order, order[0]], stored)
        assert same(figures.total(), expected)
        assert figures.version == 3  # the correction added an event id
    # The original stored last wins, whatever its date or id.
    stored_back = {**stored, original.event_id: 30}
    assert same(folded_at(history, stored_back), apply_all([scheduled, original]))
    # A tie (same batch) goes to the larger event id, here the corrected one ("-v1" > "-v0").
    tied = {**stored, corrected.event_id: 10}
    assert same(folded_at(history[::-1], tied), expected)


def folded_at(facts: list[PaymentFact], stored: dict[str, int]) -> Stats:
    return figures_of(COMMUNE, facts, stored).total()


def test_other_outcomes_of_a_payment_are_not_versions_of_each_other() -> None:
    """Another event type, attempt or payment_id is another outcome: all are counted (the
    simulator's double payment has its own "-d" payment_id, so it stays paid twice)."""
    a, b, c = people(3)
    facts = [
        _version(fact("payment.scheduled", a), "pa"),
        _version(fact("payment.failed", a, "bank_account", DAY, reason="invalid_account"), "pa"),
        _version(fact("payment.succeeded", a, "commune_cash", 2 * DAY), "pa", attempt=2),
        _version(fact("payment.scheduled", b), "pb"),
        _version(fact("payment.succeeded", b, "commune_cash", DAY), "pb"),
        _version(fact("payment.succeeded", b, "commune_cash", 2 * DAY, n=1), "pb-d"),
        # No payment_id (rows stored before 008): never superseded.
        fact("payment.scheduled", c),
        fact("payment.succeeded", c, "e_wallet", DAY),
        fact("payment.succeeded", c, "e_wallet", 2 * DAY, n=1),
    ]
    stored = {f.event_id: i for i, f in enumerate(facts)}
    expected = apply_all(facts)
    assert expected.beneficiaries_paid_twice == 2 and expected.failures_by_reason
    assert same(folded_at(facts, stored), expected)
    assert current(facts, stored) == facts


def test_an_event_ranks_by_its_first_stored_copy() -> None:
    """A copy stored again (a crash between the row and its id) keeps its first rank."""
    rows = [
        {"event_id": "x", "stored_ms": "30"},
        {"event_id": "y", "stored_ms": "20"},
        {"event_id": "x", "stored_ms": "10"},
    ]
    assert stored_at(rows) == {"x": 10, "y": 20}


def test_the_simulator_never_sends_two_versions_of_one_outcome() -> None:
    """Its truth counts every event: no two events share (payment_id, type, attempt), even
    with returns, re-payments, double and unknown payments at high rates."""
    scenario = build_scenario(
        periods=["2024-01", "2024-02"],
        beneficiaries=600,
        return_rate=0.2,
        repay_after_return_rate=0.8,
        double_payment_rate=0.2,
        unknown_payment_rate=0.1,
        failure_rate=0.3,
    )
    keys: Counter[tuple[str, str, int]] = Counter()
    for event in PaymentCycle(scenario, 7).events():
        p = event["payload"]
        if event["event_type"].startswith("payment."):
            keys[(p["payment_id"], event["event_type"], p.get("attempt", 0))] += 1
    assert keys and max(keys.values()) == 1
    assert any(k[0].endswith("-d") for k in keys) and any(k[0].endswith("-r") for k in keys)
