import random

from streams.aggregation import BUCKETS, bucket_key, commune_of, count, merge
from streams.ingest import PaymentFact


def fact(kind: str, who: str, channel: str = "post_office_cash") -> PaymentFact:
    return PaymentFact(
        event_id=f"{kind}-{who}", event_type=kind, period="2023-06", programme="social_assistance",
        beneficiary=who, province_code=52, commune_code=21553, channel=channel,
    )


def apply_all(facts: list[PaymentFact]) -> dict[str, int]:
    buckets: dict[str, dict[str, int]] = {}
    for f in facts:
        key = bucket_key(f)
        updated = merge(buckets.get(key), f)
        if updated is not None:
            buckets[key] = updated
    return count(buckets.values())


def people(n: int) -> list[str]:
    return [f"{i:032x}" for i in range(n)]


def test_counts_distinct_beneficiaries_not_events() -> None:
    a, b = people(2)
    facts = [
        fact("payment.scheduled", a), fact("payment.scheduled", b),
        fact("payment.succeeded", a, "bank_account"),
        fact("payment.failed", b), fact("payment.succeeded", b, "commune_cash"),
    ]
    assert apply_all(facts) == {
        "beneficiaries_due": 2, "beneficiaries_paid": 2, "beneficiaries_paid_cashless": 1
    }


def test_duplicates_and_any_order_give_the_same_counts() -> None:
    facts = []
    for i, who in enumerate(people(300)):
        facts.append(fact("payment.scheduled", who))
        if i % 7:
            channel = "e_wallet" if i % 5 == 0 else "post_office_cash"
            facts.append(fact("payment.succeeded", who, channel))
    expected = apply_all(facts)
    rng = random.Random(3)
    for _ in range(5):
        shuffled = facts + rng.sample(facts, 100)
        rng.shuffle(shuffled)
        assert apply_all(shuffled) == expected
    assert expected["beneficiaries_due"] == 300


def test_a_duplicate_changes_nothing() -> None:
    f = fact("payment.scheduled", people(1)[0])
    once = merge(None, f)
    assert once is not None
    assert merge(once, f) is None


def test_bucket_keys_stay_within_the_commune() -> None:
    f = fact("payment.scheduled", people(1)[0])
    assert bucket_key(f) in commune_of(f).bucket_keys()
    assert len(commune_of(f).bucket_keys()) == BUCKETS
