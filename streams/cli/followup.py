"""The follow-up table: who each commune's staff should call, for the commune dashboard.

The live page computes the list on request (streams/web/live_data.py). Grafana's reader sees
aggregates only, so the dashboard's follow-up panel reads a table of its own, `followup`
(migration 011), through a second reader granted that table alone
(dashboards/provisioning/clickhouse/grafana-followup.xml; docs/server-mode.md).
`welfare-monitor followup refresh` fills it from the ledger with the pipeline's rules
(`streams.storage.explain`): the unpaid, failed (with the last reason) and paid-twice beneficiaries
of every commune-period, as pseudonyms; rows no longer listed are cleared (`active` = 0).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas import i18n
from schemas.i18n import _
from streams.errors import InputError
from streams.settings import Settings
from streams.storage import open_store
from streams.storage.base import Store
from streams.storage.migrate import migrate

CATEGORIES = ("unpaid", "failed", "paid_twice")
COMMUNE_PERIODS_SQL = """
SELECT DISTINCT period, province_code, commune_code
FROM commune_programme_stats
WHERE {period:String} = '' OR period = {period:String}
ORDER BY period, province_code, commune_code
"""
LISTED_SQL = """
SELECT period, province_code, commune_code, category, beneficiary
FROM followup FINAL
WHERE active = 1 AND ({period:String} = '' OR period = {period:String})
"""
Key = tuple[str, int, int, str, str]


@dataclass(frozen=True)
class Refreshed:
    """What a refresh wrote."""

    communes: int
    listed: int
    cleared: int


def followup_rows(store: Store, period: str, commune: int) -> list[dict[str, Any]]:
    """A commune-period's follow-up list (the live page's rows): category, pseudonym,
    programme, the last failure reason, the time of the last event."""
    from streams.storage.explain import explain

    rows = []
    for who in explain(store, period, commune, None):
        reasons = [e["reason"] for e in who.events if e["reason"]]
        for category in CATEGORIES:
            if category in who.counts:
                rows.append(
                    {
                        "category": category,
                        "beneficiary": who.beneficiary,
                        "programme": who.programme,
                        "reason": reasons[-1] if reasons and category == "failed" else "",
                        "last_event_at": who.events[-1]["time"] if who.events else "",
                    }
                )
    return rows


def refresh(store: Store, period: str | None = None) -> Refreshed:
    """Rewrite the follow-up table for every commune-period with statistics (or those of
    `period`) and clear the rows no longer to follow up."""
    params = {"period": period or ""}
    before: set[Key] = {
        (
            r["period"],
            int(r["province_code"]),
            int(r["commune_code"]),
            r["category"],
            r["beneficiary"],
        )
        for r in store.query(LISTED_SQL, params)
    }
    version = time.time_ns() // 1_000_000
    at = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    communes = 0
    for c in store.query(COMMUNE_PERIODS_SQL, params):
        communes += 1
        province, commune = int(c["province_code"]), int(c["commune_code"])
        for r in followup_rows(store, c["period"], commune):
            last = r["last_event_at"]
            rows.append(
                r
                | {
                    "period": c["period"],
                    "province_code": province,
                    "commune_code": commune,
                    "last_event_at": datetime.strptime(last, "%Y-%m-%d %H:%M:%S").replace(
                        tzinfo=UTC
                    )
                    if last
                    else datetime.fromtimestamp(0, UTC),
                    "active": 1,
                    "version": version,
                    "refreshed_at": at,
                }
            )
    now = {
        (r["period"], r["province_code"], r["commune_code"], r["category"], r["beneficiary"])
        for r in rows
    }
    cleared = [
        {
            "period": p,
            "province_code": pr,
            "commune_code": co,
            "category": ca,
            "beneficiary": b,
            "programme": "",
            "reason": "",
            "last_event_at": datetime.fromtimestamp(0, UTC),
            "active": 0,
            "version": version,
            "refreshed_at": at,
        }
        for p, pr, co, ca, b in sorted(before - now)
    ]
    if rows or cleared:
        store.insert("followup", rows + cleared)
    return Refreshed(communes, len(rows), len(cleared))


def _settings(data_dir: str | None) -> Settings:
    if not data_dir:
        return Settings()
    chdb_path = Path(data_dir) / "chdb"
    if not chdb_path.is_dir():
        raise InputError(
            _("{data_dir} holds no chDB data (expected {chdb_path})").format(
                data_dir=data_dir, chdb_path=chdb_path
            )
        )
    return Settings().model_copy(update={"clickhouse_url": None, "chdb_path": chdb_path})


def cmd_refresh(args: argparse.Namespace) -> int:
    """`welfare-monitor followup refresh`."""
    store = open_store(_settings(args.data_dir))
    try:
        migrate(store)
        done = refresh(store, args.period)
    finally:
        store.close()
    lang = i18n.current()
    print(
        _(
            "follow-up list: {communes} commune-periods, {listed} people to follow up, "
            "{cleared} no longer"
        ).format(
            communes=lang.number(done.communes),
            listed=lang.number(done.listed),
            cleared=lang.number(done.cleared),
        )
    )
    return 0


def add_parser(sub: Any) -> None:
    """Register `followup refresh` on the CLI's subcommands."""
    followup = sub.add_parser("followup", help="who each commune should follow up (dashboard)")
    actions = followup.add_subparsers(dest="followup_command", required=True, metavar="ACTION")
    refresh_cmd = actions.add_parser(
        "refresh", help="rewrite the follow-up table from the ledger (docs/server-mode.md)"
    )
    refresh_cmd.add_argument("--period", help="YYYY-MM (default: every period)")
    refresh_cmd.add_argument(
        "--data-dir", help="data dir of an embedded run; default: CLICKHOUSE_URL or CHDB_PATH"
    )
    refresh_cmd.set_defaults(handler=cmd_refresh)
