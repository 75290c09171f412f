"""The `targets` commands and the demo's loading of a scenario's targets (the CLI calls in)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from rich.table import Table

from streams.errors import InputError
from streams.queries import ACTIVE_ALERTS_SQL, Results, normalise
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.base import Store
from streams.storage.migrate import migrate
from streams.targets import (
    TargetAlerts,
    evaluate_alerts,
    progress,
    read_targets,
    scenario_targets,
    store_targets,
)


def _open(settings: Settings) -> Store:
    store = open_store(settings)
    migrate(store)
    return store


def load_scenario_targets(name: str, settings: Settings, results: Results) -> Results:
    """Load a scenario's shipped targets (if any) into a run's data; the results with their
    progress against them."""
    path = scenario_targets(name)
    if path is None:
        return results
    store = _open(settings)
    try:
        store_targets(store, read_targets(path))
        evaluate_alerts(store, settings)
        alerts = [normalise(r) for r in store.query(ACTIVE_ALERTS_SQL)]
        return dataclasses.replace(results, targets=progress(store, settings), alerts=alerts)
    finally:
        store.close()


def import_targets(
    settings: Settings, file: str | None, scenario: str | None
) -> tuple[int, TargetAlerts]:
    """Load a targets file (or a scenario's); returns (targets loaded, alert changes)."""
    if scenario:
        path = scenario_targets(scenario)
        if path is None:
            raise InputError(f"scenario {scenario} ships no targets")
    elif file:
        path = Path(file)
    else:
        raise InputError("targets import needs a FILE or --scenario NAME")
    rows = read_targets(path)
    store = _open(settings)
    try:
        store_targets(store, rows)
        return len(rows), evaluate_alerts(store, settings)
    finally:
        store.close()


def target_rows(
    settings: Settings, period: str | None, behind: bool, limit: int
) -> list[dict[str, Any]]:
    """Progress rows (or the behind-target ranking, `limit` rows), alerts refreshed first."""
    store = _open(settings)
    try:
        evaluate_alerts(store, settings)
        rows = progress(store, settings, period, behind_only=behind)
    finally:
        store.close()
    return rows[:limit] if behind else rows


def target_table(rows: list[dict[str, Any]], behind: bool) -> Table:
    """The rows as a terminal table."""
    title = "Communes furthest behind their target" if behind else "Progress against target"
    table = Table(title=f"{title} ({rows[0]['period'] if rows else 'no data'})")
    for column in (
        "Commune",
        "Code",
        "Paid cashless / due",
        "Rate",
        "Target",
        "Progress",
        "Needed",
        "Deadline",
        "Days",
        "Responsible unit",
    ):
        left = column in ("Commune", "Responsible unit")
        table.add_column(column, justify="left" if left else "right")
    for r in rows:
        table.add_row(
            r["commune_name"] or "",
            str(r["commune_code"]),
            f"{r['beneficiaries_paid_cashless']:,} / {r['beneficiaries_due']:,}",
            f"{100 * (r['cashless_rate'] or 0):.2f}%",
            f"{100 * r['target_rate']:.2f}% ({r['target_source']})",
            f"{100 * (r['progress'] or 0):.0f}%",
            f"{r['needed']:,}",
            str(r["deadline"] or "-"),
            "-" if r["days_left"] is None else str(r["days_left"]),
            r["responsible_unit"] or "-",
        )
    return table
