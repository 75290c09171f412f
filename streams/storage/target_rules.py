"""Which target applies to a commune-period, and its progress, in Python: the rule of
`TARGET_PROGRESS_SQL` (docs/targets.md) for the worker, which evaluates `behind_target` for
the commune-periods a batch touched, from the figures it has just folded.

`TargetBook` and `commune_progress` are pure. `TargetCache` reads the `targets` table per
province, keeps at most `max_provinces` of them for `ttl_s` seconds (so a `targets import`
reaches the worker within that time) and never holds per-beneficiary data.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from streams.domain.alerts import Alert, AlertRules, behind_target
from streams.domain.statistics import CommuneId, Stats

TARGETS_OF_PROVINCES_SQL = """
SELECT province_code, commune_code, period_from, period_to, target_rate, deadline,
       responsible_unit, version
FROM targets FINAL
WHERE province_code IN {provinces:Array(UInt16)}
"""


@dataclass(frozen=True)
class Target:
    """The target that applies: its rate, deadline (None for the global one), unit and
    where it came from (`commune`, `province` or `global`)."""

    rate: float
    deadline: date | None
    responsible_unit: str
    source: str


@dataclass(frozen=True)
class TargetRow:
    """One row of the `targets` table (commune_code 0: the province's target)."""

    province_code: int
    commune_code: int
    period_from: str
    period_to: str
    rate: float
    deadline: date
    responsible_unit: str
    version: int

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> TargetRow:
        """From a query row."""
        return cls(
            int(row["province_code"]),
            int(row["commune_code"]),
            str(row["period_from"]),
            str(row["period_to"]),
            float(row["target_rate"]),
            row["deadline"],
            str(row["responsible_unit"]),
            int(row["version"]),
        )


class TargetBook:
    """The targets of some provinces, resolved commune -> province -> global."""

    def __init__(self, rows: Iterable[TargetRow]) -> None:
        self.units: dict[tuple[int, int], list[TargetRow]] = {}
        for row in rows:
            self.units.setdefault((row.province_code, row.commune_code), []).append(row)

    def _unit(self, province: int, commune: int, period: str) -> TargetRow | None:
        # Among a unit's rows covering the period, the one starting latest wins (then the
        # latest import), as argMax(..., (period_from, version)) in TARGET_PROGRESS_SQL.
        covering = [
            r
            for r in self.units.get((province, commune), ())
            if r.period_from <= period <= r.period_to
        ]
        return max(covering, key=lambda r: (r.period_from, r.version), default=None)

    def target(self, commune: CommuneId, default_rate: float) -> Target:
        """The commune's own target, else its province's, else `default_rate` (global)."""
        for code, source in ((commune.commune_code, "commune"), (0, "province")):
            row = self._unit(commune.province_code, code, commune.period)
            if row is not None:
                return Target(row.rate, row.deadline, row.responsible_unit, source)
        return Target(default_rate, None, "", "global")


def commune_progress(stats: Stats, target: Target, today: date) -> dict[str, Any]:
    """The fields of a TARGET_PROGRESS_SQL row that `alerts.behind_target` reads."""
    due, cashless = stats.beneficiaries_due, stats.beneficiaries_paid_cashless
    needed = max(0, math.ceil(round(target.rate * due, 6)) - cashless)
    return {
        "beneficiaries_due": due,
        "beneficiaries_paid_cashless": cashless,
        "cashless_rate": round(cashless / due, 6) if due else None,
        "target_rate": target.rate,
        "target_source": target.source,
        "needed": needed,
        "days_left": (target.deadline - today).days if target.deadline is not None else None,
    }


class Querying(Protocol):
    """What the cache reads through (the worker's ClickHouseSink)."""

    async def query(
        self, sql: str, parameters: Mapping[str, Any] | None = None
    ) -> Sequence[Mapping[str, Any]]: ...


class TargetCache:
    """The targets of recently seen provinces, bounded in number and age."""

    def __init__(self, ttl_s: float = 60.0, max_provinces: int = 64) -> None:
        self.ttl_s = ttl_s
        self.max_provinces = max_provinces
        self._rows: OrderedDict[int, tuple[float, list[TargetRow]]] = OrderedDict()

    async def load(self, source: Querying, communes: Iterable[CommuneId]) -> None:
        """Make sure the provinces of `communes` are loaded and fresh (one query for all
        that are missing or too old)."""
        now = time.monotonic()
        provinces = {c.province_code for c in communes}
        stale = sorted(
            p for p in provinces if p not in self._rows or now - self._rows[p][0] > self.ttl_s
        )
        if stale:
            fetched: dict[int, list[TargetRow]] = {p: [] for p in stale}
            for r in await source.query(TARGETS_OF_PROVINCES_SQL, {"provinces": stale}):
                row = TargetRow.of(r)
                fetched[row.province_code].append(row)
            for province, rows in fetched.items():
                self._rows[province] = (now, rows)
        for province in provinces:
            self._rows.move_to_end(province)
        while len(self._rows) > max(self.max_provinces, len(provinces)):
            self._rows.popitem(last=False)

    def book(self, province_code: int) -> TargetBook:
        """The loaded targets of a province (none if it was not loaded)."""
        entry = self._rows.get(province_code)
        return TargetBook(entry[1] if entry else ())

    def alerts(
        self,
        commune: CommuneId,
        stats: Stats,
        rules: AlertRules,
        warn_days: int,
        today: date | None = None,
    ) -> list[Alert]:
        """The commune-period's `behind_target` alert if it holds (a loaded province)."""
        return target_alerts(
            commune,
            stats,
            self.book(commune.province_code),
            rules,
            warn_days,
            today or datetime.now(UTC).date(),
        )


def target_alerts(
    commune: CommuneId,
    stats: Stats,
    book: TargetBook,
    rules: AlertRules,
    warn_days: int,
    today: date,
) -> list[Alert]:
    """`behind_target` for one commune-period, if it holds: the target that applies (commune
    -> province -> rules.cashless_target), the progress, the deadline window."""
    target = book.target(commune, rules.cashless_target)
    alert = behind_target(commune, commune_progress(stats, target, today), rules, warn_days)
    return [alert] if alert.active else []
