from streams.domain.alerts import (
    LOW_RATE,
    PAID_TWICE,
    RATE_DROP,
    UNKNOWN_BENEFICIARY,
    AlertRules,
    beneficiary_alerts,
    cleared,
    low_rate,
    rate_drop,
)
from streams.domain.statistics import CommuneId, Stats

RULES = AlertRules(cashless_target=0.05, drop_points=0.05, min_due=20)
JUNE = CommuneId("2023-06", 11, 3295)


def stats(due: int, cashless: int) -> Stats:
    return Stats(
        beneficiaries_due=due, beneficiaries_paid=due, beneficiaries_paid_cashless=cashless
    )


def test_low_rate_fires_under_the_target_only_with_enough_beneficiaries() -> None:
    assert low_rate(JUNE, stats(100, 4), RULES).active
    assert not low_rate(JUNE, stats(100, 5), RULES).active
    assert not low_rate(JUNE, stats(19, 0), RULES).active
    assert low_rate(JUNE, stats(100, 4), RULES).kind == LOW_RATE
    assert "4 / 100" in low_rate(JUNE, stats(100, 4), RULES).message


def test_rate_drop_compares_with_the_previous_period() -> None:
    alert = rate_drop(JUNE, stats(100, 10), stats(100, 20), RULES)
    assert alert.active and alert.kind == RATE_DROP and abs(alert.value - 0.10) < 1e-12
    assert not rate_drop(JUNE, stats(100, 16), stats(100, 20), RULES).active
    assert not rate_drop(JUNE, stats(100, 0), None, RULES).active
    assert not rate_drop(JUNE, stats(100, 0), stats(10, 10), RULES).active


def test_beneficiary_alerts_hold_for_each_flagged_beneficiary() -> None:
    flagged = Stats(paid_twice_subjects=["b" * 32, "a" * 32], unknown_subjects=["c" * 32])
    alerts = beneficiary_alerts(JUNE, flagged)
    assert [(a.kind, a.subject, a.active) for a in alerts] == [
        (PAID_TWICE, "a" * 32, True),
        (PAID_TWICE, "b" * 32, True),
        (UNKNOWN_BENEFICIARY, "c" * 32, True),
    ]
    assert beneficiary_alerts(JUNE, Stats()) == []


def test_a_cleared_alert_is_rebuilt_from_its_key() -> None:
    raised = low_rate(JUNE, stats(100, 1), RULES)
    clear = cleared(raised.key)
    assert (clear.kind, clear.commune, clear.subject, clear.active) == (LOW_RATE, JUNE, "", False)
    assert clear.key == raised.key


def test_the_rules_come_from_the_settings_in_one_place() -> None:
    from streams.settings import Settings

    settings = Settings(
        alert_cashless_target=0.1, alert_rate_drop_points=0.2, alert_min_beneficiaries=7
    )
    assert AlertRules.of(settings) == AlertRules(cashless_target=0.1, drop_points=0.2, min_due=7)
