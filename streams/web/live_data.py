"""The data behind the live page and the static report: the dashboards' panel SQL, run with
validated parameters (no value reaches the SQL unchecked)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dashboards import panels as p
from dashboards.macros import TimeRange, expand
from streams.errors import InputError
from streams.storage.base import Store
from streams.storage.queries import latest_period, normalise_rows

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PROGRAMMES = frozenset(
    {"social_assistance", "meritorious_people", "disability_allowance", "elderly_allowance", p.ALL}
)

# The panels of the page (same keys as dashboards.panels), in the order they are drawn.
PAGE_PANELS = (
    p.NATION_STAT,
    p.PROVINCE_STATS,
    p.TREND,
    p.CHANNEL_MIX,
    p.COMMUNE_TABLE,
    p.COVERAGE_GAPS,
    p.COMMUNE_MAP,
    p.ACCESS_POINT_MAP,
    p.EVENTS_PER_S,
    p.FRESHNESS,
    p.DEAD_LETTERS,
)
DRILL_PANELS = (p.COMMUNE_STAT, p.COMMUNE_FAILURES, p.COMMUNE_TIME_TO_PAY, p.COMMUNE_ALERTS)
PANELS_BY_KEY = {q.key: q for q in (*PAGE_PANELS, *DRILL_PANELS)}


@dataclass(frozen=True)
class PageParams:
    """Validated page parameters."""

    period: str | None = None
    programme: str = p.ALL
    commune: int | None = None

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> PageParams:
        """From URL query parameters; raises InputError with a message for a bad value."""
        unknown = set(query) - {"period", "programme", "commune"}
        if unknown:
            raise InputError(f"unknown parameter(s): {', '.join(sorted(unknown))}")
        period = query.get("period") or None
        if period is not None and not _PERIOD.match(period):
            raise InputError("period must look like 2023-06 (YYYY-MM)")
        programme = query.get("programme") or p.ALL
        if programme not in PROGRAMMES:
            raise InputError(f"programme must be one of {', '.join(sorted(PROGRAMMES))}")
        commune = query.get("commune")
        if commune is not None and not (commune.isdigit() and 0 < int(commune) < 100_000):
            raise InputError("commune must be a commune code (a number up to 99999)")
        return cls(period, programme, int(commune) if commune else None)


def _variables(store: Store, params: PageParams) -> dict[str, str]:
    period = params.period or latest_period(store) or "0000-01"
    return {
        "period": period,
        "programme": params.programme,
        "commune": str(params.commune or 0),
        "province": "0",
    }


def run_panel(store: Store, key: str, params: PageParams) -> list[dict[str, Any]]:
    """The rows of one panel."""
    query = PANELS_BY_KEY.get(key)
    if query is None:
        raise InputError(f"no panel {key!r}; panels: {', '.join(sorted(PANELS_BY_KEY))}")
    now = datetime.now(UTC)
    window = TimeRange(now - timedelta(hours=1), now + timedelta(minutes=1), 5)
    sql = expand(query.sql, _variables(store, params), window)
    rows = store.query(sql + "\nSETTINGS output_format_json_quote_64bit_integers = 0")
    return normalise_rows(rows)


def snapshot(store: Store, params: PageParams) -> dict[str, Any]:
    """Every panel of the page, plus the period shown."""
    variables = _variables(store, params)
    keys = [q.key for q in PAGE_PANELS]
    if params.commune:
        keys += [q.key for q in DRILL_PANELS]
    return {
        "period": variables["period"],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "panels": {key: run_panel(store, key, params) for key in keys},
        "targets": target_progress(store, variables["period"], params.commune),
        "followup": followup(store, variables["period"], params.commune),
    }


FOLLOWUP_GROUPS = ("unpaid", "failed", "paid_twice")


def followup(store: Store, period: str | None, commune: int | None) -> list[dict[str, Any]]:
    """Who a commune's staff should call: its unpaid, failed (with the last reason) and
    paid-twice beneficiaries (pseudonyms), from the ledger with the pipeline's rules
    (`streams.storage.explain`); empty without a commune."""
    from streams.storage.explain import explain

    if not commune or not period:
        return []
    everyone = explain(store, period, commune, None)  # one ledger read for all three groups
    rows = []
    for group in FOLLOWUP_GROUPS:
        for who in (w for w in everyone if group in w.counts):
            reasons = [e["reason"] for e in who.events if e["reason"]]
            rows.append(
                {
                    "group": group,
                    "beneficiary": who.beneficiary,
                    "programme": who.programme,
                    "reason": reasons[-1] if reasons else "",
                    "last_event_at": who.events[-1]["time"] if who.events else "",
                }
            )
    return rows


def target_progress(store: Store, period: str, commune: int | None) -> list[dict[str, Any]]:
    """Progress against target per commune (or the one commune, filtered in SQL), for the
    page's API."""
    from streams.settings import Settings
    from streams.storage.targets import progress

    rows = progress(store, Settings(), period, commune=commune)
    for row in rows:  # JSON-safe dates
        if row.get("deadline") is not None:
            row["deadline"] = str(row["deadline"])
    return rows
