"""Ground truth: the expected aggregates, counted from the simulated population itself."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

COUNT_FIELDS = ("beneficiaries_due", "beneficiaries_paid", "beneficiaries_paid_cashless")


@dataclass
class GroundTruth:
    """Accumulates one record per beneficiary outcome; knows nothing of events or streams."""

    scenario: str
    seed: int
    events: int = 0
    _communes: dict[tuple[str, int, int], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    _failures: Counter[str] = field(default_factory=Counter)

    def add_beneficiary(
        self,
        period: str,
        province_code: int,
        commune_code: int,
        *,
        paid: bool,
        cashless: bool,
        failure_reason: str | None = None,
    ) -> None:
        """Record one beneficiary due a payment in `period`, and what became of it."""
        counts = self._communes[(period, province_code, commune_code)]
        counts["beneficiaries_due"] += 1
        counts["beneficiaries_paid"] += int(paid)
        counts["beneficiaries_paid_cashless"] += int(paid and cashless)
        if failure_reason is not None:
            self._failures[failure_reason] += 1

    def commune_rows(self) -> list[dict[str, Any]]:
        """One row per (period, province, commune), sorted."""
        return [
            {"period": period, "province_code": province, "commune_code": commune,
             **{f: counts[f] for f in COUNT_FIELDS}}
            for (period, province, commune), counts in sorted(self._communes.items())
        ]

    def province_rows(self) -> list[dict[str, Any]]:
        """One row per (period, province), sorted."""
        rollup: dict[tuple[str, int], Counter[str]] = defaultdict(Counter)
        for (period, province, _), counts in self._communes.items():
            rollup[(period, province)].update(counts)
        return [
            {"period": period, "province_code": province, **{f: c[f] for f in COUNT_FIELDS}}
            for (period, province), c in sorted(rollup.items())
        ]

    def to_json(self) -> dict[str, Any]:
        """The truth as JSON-ready data with plain integer counts."""
        totals: Counter[str] = Counter()
        for counts in self._communes.values():
            totals.update(counts)
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "events": self.events,
            "totals": {f: totals[f] for f in COUNT_FIELDS},
            "failures_by_reason": dict(sorted(self._failures.items())),
            "provinces": self.province_rows(),
            "communes": self.commune_rows(),
        }
