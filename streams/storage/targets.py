"""Targets per province or commune (giao chỉ tiêu): loading them, progress, the ranking of
communes behind, and the `behind_target` alert (docs/targets.md)."""

from __future__ import annotations

import csv
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from schemas import i18n
from schemas.i18n import _
from streams.domain.alerts import BEHIND_TARGET, Alert, AlertRules, behind_target
from streams.domain.reference import commune_provinces
from streams.domain.statistics import CommuneId
from streams.errors import InputError
from streams.settings import Settings
from streams.storage.base import Store
from streams.storage.queries import (
    BEHIND_TARGET_SQL,
    TARGET_PROGRESS_SQL,
    latest_period,
    normalise_rows,
)

# Column -> accepted headers (English or Vietnamese, case-insensitive).
COLUMNS = {
    "province_code": ("province_code", "mã tỉnh"),
    "commune_code": ("commune_code", "mã xã"),
    "period_from": ("period_from", "từ kỳ", "kỳ"),
    "period_to": ("period_to", "đến kỳ"),
    "target_pct": ("target_pct", "chỉ tiêu (%)", "chỉ tiêu"),
    "deadline": ("deadline", "hạn hoàn thành", "thời hạn"),
    "responsible_unit": ("responsible_unit", "đơn vị chịu trách nhiệm", "đơn vị phụ trách"),
}
REQUIRED = ("province_code", "period_from", "target_pct", "deadline", "responsible_unit")
_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_PERIOD_MY = re.compile(r"^(\d{1,2})/(\d{4})$")
ACTIVE_TARGET_ALERTS_SQL = """
SELECT period, province_code, commune_code, subject
FROM alerts FINAL
WHERE kind = 'behind_target' AND active = 1
"""
PERIODS_SQL = "SELECT DISTINCT period FROM commune_programme_stats ORDER BY period"
STATS_VERSIONS_SQL = """
SELECT period, province_code, commune_code, max(version) AS version
FROM commune_programme_stats FINAL
GROUP BY period, province_code, commune_code
"""


def _period(text: str) -> str | None:
    text = text.strip()
    if _PERIOD.match(text):
        return text
    match = _PERIOD_MY.match(text)
    if match and 1 <= int(match.group(1)) <= 12:
        return f"{match.group(2)}-{int(match.group(1)):02d}"
    return None


def _date(text: str) -> date | None:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _row(values: dict[str, str], number: int) -> dict[str, Any]:
    """One target row; InputError names the row, the column and what is wrong."""

    def bad(column: str, why: str) -> InputError:
        return InputError(
            _("row {row}, column {column}: {reason}").format(row=number, column=column, reason=why)
        )

    province = values.get("province_code", "").strip()
    if not province.isdigit():
        raise bad("province_code", f"{province!r} is not a province code")
    commune_text = values.get("commune_code", "").strip()
    commune = 0
    if commune_text:
        if not commune_text.isdigit():
            raise bad("commune_code", f"{commune_text!r} is not a commune code")
        commune = int(commune_text)
        owner = commune_provinces().get(commune)
        if owner != int(province):
            raise bad("commune_code", f"commune {commune} is not in province {int(province)}")
    elif int(province) not in set(commune_provinces().values()):
        raise bad("province_code", f"no province has the code {int(province)} today")
    start = _period(values.get("period_from", ""))
    if start is None:
        raise bad("period_from", "a period like 2023-06 or 06/2023")
    end_text = values.get("period_to", "").strip()
    end = _period(end_text) if end_text else start
    if end is None or end < start:
        raise bad("period_to", "a period like 2023-12, not before period_from")
    pct_text = values.get("target_pct", "").strip().rstrip("%").replace(",", ".")
    try:
        pct = float(pct_text)
    except ValueError:
        raise bad("target_pct", f"{pct_text!r} is not a percentage") from None
    if not 0 < pct <= 100:
        raise bad("target_pct", "a percentage above 0 and at most 100")
    deadline = _date(values.get("deadline", ""))
    if deadline is None:
        raise bad("deadline", "a date like 31/12/2023")
    unit = values.get("responsible_unit", "").strip()
    if not unit:
        raise bad("responsible_unit", "empty: name the unit responsible (rõ trách nhiệm)")
    return {
        "province_code": int(province),
        "commune_code": commune,
        "period_from": start,
        "period_to": end,
        "target_rate": round(pct / 100, 6),
        "deadline": deadline,
        "responsible_unit": unit[:200],
    }


def read_targets(path: Path) -> list[dict[str, Any]]:
    """The targets of a CSV file; InputError (with the row) for the first bad row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(
            _("cannot read {path} as UTF-8 CSV: {reason}").format(path=path, reason=e)
        ) from e
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if header is None:
        raise InputError(_("{path} is empty").format(path=path))
    folded = [h.strip().casefold() for h in header]
    index = {}
    for column, names in COLUMNS.items():
        for name in names:
            if name in folded:
                index[column] = folded.index(name)
                break
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        raise InputError(
            _("{path}: missing column(s) {columns} (docs/targets.md)").format(
                path=path, columns=", ".join(missing)
            )
        )
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[int, int, str], int] = {}
    for number, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        values = {c: record[i] if i < len(record) else "" for c, i in index.items()}
        row = _row(values, number)
        key = (row["province_code"], row["commune_code"], row["period_from"])
        if key in seen:
            raise InputError(
                _("row {row}: the same unit and period_from as row {earlier}").format(
                    row=number, earlier=seen[key]
                )
            )
        seen[key] = number
        rows.append(row)
    return rows


def scenario_targets(name: str) -> Path | None:
    """The targets CSV a scenario ships (simulators/scenarios/NAME.targets.csv), if any.
    Only the data file is read; no simulator code is used."""
    from importlib import resources

    path = Path(str(resources.files("simulators").joinpath("scenarios", f"{name}.targets.csv")))
    return path if path.is_file() else None


def store_targets(store: Store, rows: list[dict[str, Any]]) -> None:
    """Insert targets; a later import of a (unit, period_from) replaces the earlier one."""
    now = datetime.now(UTC)
    version = time.time_ns() // 1_000_000
    store.insert("targets", [r | {"version": version, "imported_at": now} for r in rows])


def progress(
    store: Store,
    settings: Settings,
    period: str | None = None,
    today: date | None = None,
    behind_only: bool = False,
    commune: int | None = None,
) -> list[dict[str, Any]]:
    """Every commune's progress against its target in `period` (default: the latest), or
    only those behind, ranked; only `commune`'s when given (filtered in SQL)."""
    period = period or latest_period(store)
    if period is None:
        return []
    params = {
        "period": period,
        "default_target": settings.alert_cashless_target,
        "today": today or datetime.now(UTC).date(),
        "commune": commune or 0,
    }
    sql = BEHIND_TARGET_SQL if behind_only else TARGET_PROGRESS_SQL
    return normalise_rows(store.query(sql, params))


@dataclass(frozen=True)
class TargetAlerts:
    """What an evaluation changed."""

    raised: list[Alert]
    cleared: list[Alert]
    holding: int


def evaluate_alerts(store: Store, settings: Settings, today: date | None = None) -> TargetAlerts:
    """Raise `behind_target` alerts for communes short of their target near (or past) the
    deadline, in every period with statistics, and clear those that no longer hold. Rows go
    to the alerts table like the worker's alerts (same keys, versions, active flag): the
    worker evaluates the same rule as it stores figures (streams/storage/target_rules.py); this
    refreshes them after a targets import or as deadlines come near."""
    rules = AlertRules.of(settings)
    before = {
        (r["period"], int(r["province_code"]), int(r["commune_code"]), r["subject"])
        for r in store.query(ACTIVE_TARGET_ALERTS_SQL)
    }
    holding: list[Alert] = []
    for row in store.query(PERIODS_SQL):
        for p in progress(store, settings, row["period"], today):
            commune = CommuneId(p["period"], p["province_code"], p["commune_code"])
            alert = behind_target(commune, p, rules, settings.alert_target_warn_days)
            if alert.active:
                holding.append(alert)
    now = {
        (a.commune.period, a.commune.province_code, a.commune.commune_code, a.subject)
        for a in holding
    }
    raised = [
        a
        for a in holding
        if (a.commune.period, a.commune.province_code, a.commune.commune_code, a.subject)
        not in before
    ]
    ended = [
        Alert(
            BEHIND_TARGET, CommuneId(period, province, commune), subject, False, 0.0, 0.0, "cleared"
        )
        for period, province, commune, subject in sorted(before - now)
    ]
    # The worker's version for a commune-period's alerts (the ledger's event count of the
    # period and of the one before), so these rows and the worker's replace each other: the
    # later write wins at an equal version, and neither hides the other's newer figures.
    versions = {
        CommuneId(r["period"], int(r["province_code"]), int(r["commune_code"])): int(r["version"])
        for r in store.query(STATS_VERSIONS_SQL)
    }
    at = datetime.now(UTC)
    rows = [
        a.row(versions.get(a.commune, 0) + versions.get(a.commune.previous(), 0), at)
        for a in holding + ended
    ]
    if rows:
        store.insert("alerts", rows)
    return TargetAlerts(raised, ended, len(holding))


def targets_summary(rows: list[dict[str, Any]]) -> str:
    """One line for the CLI summaries: communes on target, and the three furthest behind."""
    lang = i18n.current()
    if not rows:
        return _("Targets: no commune statistics yet")
    on_target = sum(1 for r in rows if r["needed"] == 0)
    sources = {
        s: sum(1 for r in rows if r["target_source"] == s)
        for s in ("commune", "province", "global")
    }
    behind = sorted(
        (r for r in rows if r["needed"] > 0),
        key=lambda r: (
            r["needed_per_day"] is None,
            -(r["needed_per_day"] or 0),
            -r["needed"],
            r["commune_code"],
        ),
    )[:3]
    names = "; ".join(
        _("{commune} {paid} / {due} vs {target} ({needed} more needed)").format(
            commune=r["commune_name"] or r["commune_code"],
            paid=lang.number(r["beneficiaries_paid_cashless"]),
            due=lang.number(r["beneficiaries_due"]),
            target=lang.percent(r["target_rate"]),
            needed=lang.number(r["needed"]),
        )
        for r in behind
    )
    line = _(
        "Targets {period}: {on_target} of {communes} communes on target "
        "(targets: {own} own, {province} province's, {glob} global)"
    ).format(
        period=lang.period(rows[0]["period"]),
        on_target=lang.number(on_target),
        communes=lang.number(len(rows)),
        own=lang.number(sources["commune"]),
        province=lang.number(sources["province"]),
        glob=lang.number(sources["global"]),
    )
    return line + (_("; furthest behind: {names}").format(names=names) if names else "")
