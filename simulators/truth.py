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
    lines: int = 0
    _rows: dict[tuple[str, int, int, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    malformed: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    access_points: Counter[str] = field(default_factory=Counter)

    def add_beneficiary(
        self,
        period: str,
        province_code: int,
        commune_code: int,
        programme: str,
        *,
        paid_channel: str | None,
        cashless: bool,
        amount_vnd: int,
        failure_reasons: tuple[str, ...] = (),
    ) -> None:
        """Record one beneficiary due a payment in `period`, and what became of it."""
        row = self._rows[(period, province_code, commune_code, programme)]
        row["beneficiaries_due"] += 1
        if paid_channel is not None:
            row["beneficiaries_paid"] += 1
            row["beneficiaries_paid_cashless"] += int(cashless)
            row[f"amount_vnd:{paid_channel}"] += amount_vnd
        for reason in failure_reasons:
            row[f"failed:{reason}"] += 1

    def _rollup(self, width: int) -> list[dict[str, Any]]:
        names = ("period", "province_code", "commune_code", "programme")[:width]
        merged: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        for key, counts in self._rows.items():
            merged[key[:width]].update(counts)
        out = []
        for key, counts in sorted(merged.items()):
            row: dict[str, Any] = dict(zip(names, key, strict=True))
            row.update({f: counts[f] for f in COUNT_FIELDS})
            row["amount_paid_vnd"] = {
                k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("amount")
            }
            row["failures_by_reason"] = {
                k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("failed")
            }
            out.append(row)
        return out

    def to_json(self) -> dict[str, Any]:
        """The truth as JSON-ready data with plain integer counts."""
        totals: Counter[str] = Counter()
        for counts in self._rows.values():
            totals.update(counts)
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "events": self.events,
            "lines": self.lines or self.events,
            "totals": {f: totals[f] for f in COUNT_FIELDS},
            "malformed_by_class": dict(sorted(self.malformed.items())),
            "faults": dict(sorted(self.faults.items())),
            "access_points_by_kind": dict(sorted(self.access_points.items())),
            "periods": self._rollup(1),
            "provinces": self._rollup(2),
            "communes": self._rollup(3),
            "programmes": self._rollup(4),
        }
