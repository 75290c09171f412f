"""The `targets` commands and the demo's loading of a scenario's targets (the CLI calls in)."""

from __future__ import annotations

import argparse
import dataclasses
from datetime import date
from pathlib import Path
from typing import Any

from rich.table import Table

from schemas import i18n
from schemas.i18n import N_, _
from streams.cli.common import _store_settings, out
from streams.cli.render import json_lines
from streams.errors import InputError
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.base import Store
from streams.storage.migrate import migrate
from streams.storage.queries import ACTIVE_ALERTS_SQL, Results, normalise_rows
from streams.storage.targets import (
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
        alerts = normalise_rows(store.query(ACTIVE_ALERTS_SQL))
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
            raise InputError(_("scenario {name} ships no targets").format(name=scenario))
    elif file:
        path = Path(file)
    else:
        raise InputError(_("targets import needs a FILE or --scenario NAME"))
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
    lang = i18n.current()
    title = _("Communes furthest behind their target") if behind else _("Progress against target")
    period = lang.period(rows[0]["period"]) if rows else _("no data")
    table = Table(title=f"{title} ({period})")
    for column in TABLE_COLUMNS:
        left = column in (TABLE_COLUMNS[0], TABLE_COLUMNS[-1])
        table.add_column(_(column), justify="left" if left else "right")
    for r in rows:
        deadline = r["deadline"]
        if isinstance(deadline, str) and deadline:
            deadline = date.fromisoformat(deadline)
        table.add_row(
            r["commune_name"] or "",
            str(r["commune_code"]),
            lang.number(r["beneficiaries_paid_cashless"])
            + " / "
            + lang.number(r["beneficiaries_due"]),
            lang.percent(r["cashless_rate"]),
            f"{lang.percent(r['target_rate'])} ({lang.label(TARGET_SOURCES, r['target_source'])})",
            lang.percent(r["progress"], 0),
            lang.number(r["needed"]),
            lang.date(deadline) if isinstance(deadline, date) else "-",
            "-" if r["days_left"] is None else lang.number(r["days_left"]),
            r["responsible_unit"] or "-",
        )
    return table


TABLE_COLUMNS = (
    N_("Commune"),
    N_("Code"),
    N_("Paid cashless / due"),
    N_("Rate"),
    N_("Target"),
    N_("Progress"),
    N_("Needed"),
    N_("Deadline"),
    N_("Days"),
    N_("Responsible unit"),
)
# Where a commune's target comes from, as users read it (JSON keeps the codes).
TARGET_SOURCES = {"commune": N_("own"), "province": N_("province's"), "global": N_("global")}


def cmd_targets_import(args: argparse.Namespace) -> int:
    loaded, alerts = import_targets(_store_settings(args), args.file, args.scenario)
    out.print(
        _(
            "loaded {n} targets; behind_target alerts: {holding} active ({raised} raised, "
            "{cleared} cleared)"
        ).format(
            n=loaded, holding=alerts.holding, raised=len(alerts.raised), cleared=len(alerts.cleared)
        ),
        markup=False,
    )
    return 0


def cmd_targets_show(args: argparse.Namespace) -> int:
    rows = target_rows(_store_settings(args), args.period, args.behind, args.limit)
    if args.format == "json":
        if rows:
            out.print(json_lines(rows), markup=False)
    else:
        out.print(target_table(rows, args.behind), width=max(out.width, 120))
    return 0
