"""Compare a run's results with a simulator's ground-truth file, at every level.

Used by `run --truth`, `demo` and the tests. The expected alerts and coverage ranking are
derived here from the truth's counts with the documented rules, not by the pipeline's code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.read_model import cashless_rate
from streams.domain.alerts import LOW_RATE, PAID_TWICE, RATE_DROP, UNKNOWN_BENEFICIARY, AlertRules
from streams.domain.statistics import CommuneId
from streams.storage.queries import Results

FIELDS = (
    "beneficiaries_due",
    "beneficiaries_paid",
    "beneficiaries_paid_cashless",
    "beneficiaries_paid_twice",
    "beneficiaries_paid_unknown",
    "payments_returned",
    "payments_by_channel",
    "amount_paid_vnd",
    "failures_by_reason",
    "seconds_to_pay_p50",
    "seconds_to_pay_p90",
)
LEVELS = (
    ("nation", "periods", ("period",)),
    ("provinces", "provinces", ("period", "province_code")),
    ("communes", "communes", ("period", "province_code", "commune_code")),
    ("programmes", "programmes", ("period", "province_code", "commune_code", "programme")),
)
CASHLESS_ACCESS = ("atm", "bank_branch", "mobile_money_agent")
NO_ATM_KM = 50.0


@dataclass(frozen=True)
class Difference:
    """One place where the store's figures and the truth disagree."""

    level: str
    key: str
    field: str
    expected: Any
    found: Any

    def __str__(self) -> str:
        if self.field == "":
            return f"{self.level} {self.key}: {self.found}"
        return f"{self.level} {self.key} {self.field}: got {self.found!r}, want {self.expected!r}"

    def to_json(self) -> dict[str, Any]:
        """Language-neutral form for `verify --format json`."""
        return {
            "level": self.level,
            "key": self.key,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
        }


def _diff_rows(
    level: str, got: list[dict[str, Any]], want: list[dict[str, Any]], keys: tuple[str, ...]
) -> list[Difference]:
    by_key = {tuple(r[k] for k in keys): r for r in got}
    problems = []
    for expected in want:
        key = tuple(expected[k] for k in keys)
        row = by_key.pop(key, None)
        if row is None:
            problems.append(Difference(level, str(key), "", "present", "missing"))
            continue
        for name in FIELDS:
            if row.get(name) != expected.get(name):
                problems.append(
                    Difference(level, str(key), name, expected.get(name), row.get(name))
                )
    problems.extend(Difference(level, str(key), "", "absent", "not in the truth") for key in by_key)
    return problems


def expected_alerts(truth: Mapping[str, Any], rules: AlertRules) -> dict[str, int]:
    """Active alerts by kind that the truth's commune counts call for."""
    communes = {(r["period"], r["commune_code"]): r for r in truth["communes"]}
    counts = dict.fromkeys((LOW_RATE, RATE_DROP, PAID_TWICE, UNKNOWN_BENEFICIARY), 0)
    for (period, code), r in communes.items():
        due, cashless = r["beneficiaries_due"], r["beneficiaries_paid_cashless"]
        rate = cashless_rate(cashless, due)
        low = rate is not None and due >= rules.min_due and rate < rules.cashless_target
        counts[LOW_RATE] += low
        before = communes.get((CommuneId(period, 0, code).previous().period, code))
        if before and rate is not None and min(due, before["beneficiaries_due"]) >= rules.min_due:
            drop = before["beneficiaries_paid_cashless"] / before["beneficiaries_due"] - rate
            counts[RATE_DROP] += drop >= rules.drop_points
        counts[PAID_TWICE] += r["beneficiaries_paid_twice"]
        counts[UNKNOWN_BENEFICIARY] += r["beneficiaries_paid_unknown"]
    return counts


def expected_coverage(truth: Mapping[str, Any]) -> list[tuple[int, float]]:
    """(commune code, gap score) of the latest period, highest gap first (docs/analytics.md)."""
    latest = max(r["period"] for r in truth["communes"])
    out = []
    for r in truth["communes"]:
        if r["period"] != latest:
            continue
        due, cashless = r["beneficiaries_due"], r["beneficiaries_paid_cashless"]
        coverage = truth["coverage"][str(r["commune_code"])]
        kinds = coverage["access_points_by_kind"]
        per_10k = 10000 * sum(kinds.get(k, 0) for k in CASHLESS_ACCESS) / due if due else 0.0
        km = coverage["nearest_atm_km"]
        km = NO_ATM_KM if km is None else min(km, NO_ATM_KM)
        out.append((r["commune_code"], (due - cashless) * (1 + km / 10) / (1 + per_10k / 10)))
    return sorted(out, key=lambda t: (-t[1], t[0]))


def differences(results: Results, truth: Mapping[str, Any], rules: AlertRules) -> list[Difference]:
    """Every difference between `results` and `truth`, level by level; empty when they agree."""
    problems: list[Difference] = []
    for attr, truth_key, keys in LEVELS:
        problems += _diff_rows(attr, getattr(results, attr), truth[truth_key], keys)
    dead = {r["error_class"]: r["events"] for r in results.dead_letters}
    want_dead = truth["malformed_by_class"]
    for cls in sorted(set(dead) | set(want_dead)):
        if dead.get(cls, 0) != want_dead.get(cls, 0):
            problems.append(
                Difference("dead_letters", cls, "events", want_dead.get(cls, 0), dead.get(cls, 0))
            )
    got_alerts = dict.fromkeys((LOW_RATE, RATE_DROP, PAID_TWICE, UNKNOWN_BENEFICIARY), 0)
    for a in results.alerts:
        if a["kind"] in got_alerts:  # behind_target depends on targets, not in the truth
            got_alerts[a["kind"]] += 1
    want_alerts = expected_alerts(truth, rules)
    for kind in sorted(want_alerts):
        if got_alerts[kind] != want_alerts[kind]:
            problems.append(
                Difference("alerts", kind, "active", want_alerts[kind], got_alerts[kind])
            )
    if truth.get("coverage"):
        want = expected_coverage(truth)
        got = [(r["commune_code"], r["gap_score"]) for r in results.coverage]
        if [c for c, _ in got] != [c for c, _ in want]:
            problems.append(
                Difference(
                    "coverage",
                    "ranking",
                    "commune order",
                    [c for c, _ in want][:10],
                    [c for c, _ in got][:10],
                )
            )
        for (code, score), (_, expected) in zip(got, want, strict=False):
            if not math.isclose(score, expected, rel_tol=1e-6, abs_tol=1e-3):
                problems.append(Difference("coverage", str(code), "gap_score", expected, score))
    return problems


def compare(results: Results, truth: Mapping[str, Any], rules: AlertRules) -> list[str]:
    """Every difference between `results` and `truth` as text; empty when they agree."""
    return [str(d) for d in differences(results, truth, rules)]
