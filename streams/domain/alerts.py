"""Alert rules as pure functions of the derived statistics and statuses (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streams.domain.statistics import CommuneId, Stats

if TYPE_CHECKING:
    from streams.settings import Settings

LOW_RATE = "low_cashless_rate"
RATE_DROP = "cashless_rate_drop"
PAID_TWICE = "paid_twice"
UNKNOWN_BENEFICIARY = "unknown_beneficiary"
BEHIND_TARGET = "behind_target"
KINDS = (LOW_RATE, RATE_DROP, PAID_TWICE, UNKNOWN_BENEFICIARY, BEHIND_TARGET)


@dataclass(frozen=True)
class AlertRules:
    """Thresholds: a commune alert needs at least `min_due` beneficiaries due."""

    cashless_target: float
    drop_points: float
    min_due: int

    @classmethod
    def of(cls, settings: Settings) -> AlertRules:
        """The thresholds the settings give (ALERT_CASHLESS_TARGET, ALERT_RATE_DROP_POINTS,
        ALERT_MIN_BENEFICIARIES)."""
        return cls(
            settings.alert_cashless_target,
            settings.alert_rate_drop_points,
            settings.alert_min_beneficiaries,
        )


def alert_key(kind: str, commune: CommuneId, subject: str) -> str:
    """Identity of an alert across its raise and clear."""
    return f"{kind}|{commune.key}|{subject}"


@dataclass(frozen=True)
class Alert:
    """The state of one alert: active or cleared."""

    kind: str
    commune: CommuneId
    subject: str
    active: bool
    value: float
    threshold: float
    message: str

    @property
    def key(self) -> str:
        """Identity of the alert across its raise and clear."""
        return alert_key(self.kind, self.commune, self.subject)

    def row(self, version: int, at: Any) -> dict[str, Any]:
        """The alerts-table row."""
        return {
            "kind": self.kind,
            "period": self.commune.period,
            "province_code": self.commune.province_code,
            "commune_code": self.commune.commune_code,
            "subject": self.subject,
            "active": int(self.active),
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "version": version,
            "raised_at": at,
        }


def _pct(rate: float) -> str:
    return f"{100 * rate:.2f}%"


def low_rate(commune: CommuneId, stats: Stats, rules: AlertRules) -> Alert:
    """Cashless rate under the target (only with enough beneficiaries due)."""
    rate = stats.cashless_rate or 0.0
    active = stats.beneficiaries_due >= rules.min_due and rate < rules.cashless_target
    return Alert(
        LOW_RATE,
        commune,
        "",
        active,
        rate,
        rules.cashless_target,
        f"{stats.beneficiaries_paid_cashless} / {stats.beneficiaries_due} paid cashless "
        f"({_pct(rate)}), target {_pct(rules.cashless_target)}",
    )


def rate_drop(commune: CommuneId, stats: Stats, previous: Stats | None, rules: AlertRules) -> Alert:
    """Cashless rate at least `drop_points` under the previous period's."""
    rate, before = stats.cashless_rate, previous.cashless_rate if previous else None
    drop = (before - rate) if rate is not None and before is not None else 0.0
    active = (
        previous is not None
        and min(stats.beneficiaries_due, previous.beneficiaries_due) >= rules.min_due
        and drop >= rules.drop_points
    )
    return Alert(
        RATE_DROP,
        commune,
        "",
        active,
        drop,
        rules.drop_points,
        f"cashless rate {_pct(rate or 0.0)} against {_pct(before or 0.0)} in "
        f"{commune.previous().period}",
    )


def beneficiary_alerts(commune: CommuneId, stats: Stats) -> list[Alert]:
    """Paid-twice and unknown-beneficiary alerts that hold now, one per beneficiary."""
    out = [
        Alert(
            PAID_TWICE,
            commune,
            who,
            True,
            2.0,
            1.0,
            f"two or more payments stand for one beneficiary in {commune.period}",
        )
        for who in sorted(stats.paid_twice_subjects)
    ]
    out += [
        Alert(
            UNKNOWN_BENEFICIARY,
            commune,
            who,
            True,
            1.0,
            0.0,
            f"paid in {commune.period} but not due a payment there",
        )
        for who in sorted(stats.unknown_subjects)
    ]
    return out


def behind_target(
    commune: CommuneId, progress: dict[str, Any], rules: AlertRules, warn_days: int
) -> Alert:
    """Short of the commune's own target (see streams/storage/targets.py) with the deadline at most
    `warn_days` away or past; `progress` is a row of TARGET_PROGRESS_SQL."""
    due, needed = progress["beneficiaries_due"], progress["needed"]
    days_left = progress["days_left"]
    target, rate = progress["target_rate"], progress["cashless_rate"] or 0.0
    active = (
        due >= rules.min_due and needed > 0 and days_left is not None and days_left <= warn_days
    )
    when = (
        "past the deadline"
        if days_left is not None and days_left < 0
        else (f"{days_left} days to the deadline" if days_left is not None else "no deadline")
    )
    return Alert(
        BEHIND_TARGET,
        commune,
        "",
        active,
        rate,
        target,
        f"{progress['beneficiaries_paid_cashless']} / {due} paid cashless ({_pct(rate)}), "
        f"target {_pct(target)} ({progress['target_source']}): {needed} more needed, {when}",
    )


def cleared(alert_key: str) -> Alert:
    """The clearing state of a previously raised alert, from its key."""
    kind, period, province, commune, subject = alert_key.split("|", 4)
    return Alert(
        kind, CommuneId(period, int(province), int(commune)), subject, False, 0.0, 0.0, "cleared"
    )
