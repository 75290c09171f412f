from streams.aggregation import CommuneId, Stats, Status
from streams.alerts import (
    LOW_RATE,
    PAID_TWICE,
    RATE_DROP,
    UNKNOWN_BENEFICIARY,
    AlertRules,
    beneficiary_alerts,
    low_rate,
    rate_drop,
)

RULES = AlertRules(cashless_target=0.05, drop_points=0.05, min_due=20)
JUNE = CommuneId("2023-06", 11, 3295)


def stats(due: int, cashless: int) -> Stats:
    return Stats(beneficiaries_due=due, beneficiaries_paid=due,
                 beneficiaries_paid_cashless=cashless)


def status(*standing: str, due: bool = True) -> Status:
    return Status("social_assistance", due, tuple((1, c, 1) for c in standing), (), 0, None)


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


def test_beneficiary_alerts_report_only_changes() -> None:
    who = "ab" * 16
    raised = beneficiary_alerts(JUNE, who, status("bank_account"),
                                status("bank_account", "bank_account"))
    assert [(a.kind, a.active, a.subject) for a in raised] == [(PAID_TWICE, True, who)]
    assert beneficiary_alerts(JUNE, who, status("x", "y"), status("x", "y")) == []
    cleared = beneficiary_alerts(JUNE, who, status("x", "y"), status("x"))
    assert [(a.kind, a.active) for a in cleared] == [(PAID_TWICE, False)]
    unknown = beneficiary_alerts(JUNE, who, None, status("commune_cash", due=False))
    assert [(a.kind, a.active) for a in unknown] == [(UNKNOWN_BENEFICIARY, True)]
