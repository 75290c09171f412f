"""Ground truth: the expected aggregates, counted from the simulated population itself."""

from __future__ import annotations

from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

COUNT_FIELDS = ("beneficiaries_due", "beneficiaries_paid", "beneficiaries_paid_cashless")
EXTRA_FIELDS = ("beneficiaries_paid_twice", "beneficiaries_paid_unknown", "payments_returned")


def quantile(ordered: list[int], level: float) -> int | None:
    """The value at rank floor(level * n) of a sorted list (ClickHouse's quantileExact)."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(level * len(ordered)))]


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
    coverage: dict[int, dict[str, Any]] = field(default_factory=dict)
    _seconds_to_pay: dict[tuple[str, int, int, str], array[int]] = field(
        default_factory=lambda: defaultdict(lambda: array("I"))
    )

    def add_beneficiary(
        self,
        period: str,
        province_code: int,
        commune_code: int,
        programme: str,
        *,
        standing: list[tuple[str, int]],
        cashless_channels: frozenset[str],
        failure_reasons: tuple[str, ...] = (),
        returned: int = 0,
        seconds_to_pay: int | None = None,
    ) -> None:
        """Record one beneficiary due a payment in `period`, and what became of it.

        `standing` lists the (channel, amount) of the payments that stand at the end of the
        period: none if unpaid or reversed, two if paid twice.
        """
        key = (period, province_code, commune_code, programme)
        row = self._rows[key]
        row["beneficiaries_due"] += 1
        if standing:
            row["beneficiaries_paid"] += 1
            row["beneficiaries_paid_cashless"] += any(c in cashless_channels for c, _ in standing)
            row["beneficiaries_paid_twice"] += len(standing) >= 2
            for channel, amount in standing:
                row[f"payments:{channel}"] += 1
                row[f"amount_vnd:{channel}"] += amount
        row["payments_returned"] += returned
        for reason in failure_reasons:
            row[f"failed:{reason}"] += 1
        if seconds_to_pay is not None:
            self._seconds_to_pay[key].append(seconds_to_pay)

    def add_unknown_payment(
        self, period: str, province_code: int, commune_code: int, programme: str
    ) -> None:
        """Record a payment to someone who was not due one in `period`."""
        self._rows[(period, province_code, commune_code, programme)][
            "beneficiaries_paid_unknown"
        ] += 1

    def _rollup(self, width: int) -> list[dict[str, Any]]:
        names = ("period", "province_code", "commune_code", "programme")[:width]
        merged: dict[tuple[Any, ...], Counter[str]] = defaultdict(Counter)
        waits: dict[tuple[Any, ...], array[int]] = defaultdict(lambda: array("I"))
        for key, counts in self._rows.items():
            merged[key[:width]].update(counts)
            waits[key[:width]].extend(self._seconds_to_pay.get(key, ()))
        out = []
        for key, counts in sorted(merged.items()):
            row: dict[str, Any] = dict(zip(names, key, strict=True))
            row.update({f: counts[f] for f in COUNT_FIELDS + EXTRA_FIELDS})
            for prefix, name in (
                ("payments", "payments_by_channel"),
                ("amount_vnd", "amount_paid_vnd"),
                ("failed", "failures_by_reason"),
            ):
                row[name] = {
                    k.split(":", 1)[1]: v
                    for k, v in sorted(counts.items())
                    if k.startswith(prefix + ":")
                }
            ordered = sorted(waits[key])
            row["seconds_to_pay_p50"] = quantile(ordered, 0.5)
            row["seconds_to_pay_p90"] = quantile(ordered, 0.9)
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
            "coverage": {str(code): self.coverage[code] for code in sorted(self.coverage)},
            "periods": self._rollup(1),
            "provinces": self._rollup(2),
            "communes": self._rollup(3),
            "programmes": self._rollup(4),
        }
