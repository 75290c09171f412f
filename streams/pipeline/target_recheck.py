"""`behind_target` as time passes: a deadline coming near raises the alert without any new
event (issue 15, targets). The store (or `all`) worker re-evaluates, every
`TARGET_RECHECK_INTERVAL_S`, the commune-periods whose applicable target's deadline is at most
`ALERT_TARGET_WARN_DAYS` away (or past), with the same rule and the same reconciliation with
the alerts table as after a batch (PaymentsAgent.alerts_of, write_alerts): a raise or clear is
announced on the alerts topic before it is stored, and a snapshot older than the stored one
never wins (the alert version is derived from the ledger, as for a batch).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from streams.domain.statistics import CommuneId
from streams.storage.sink import now_utc
from streams.storage.target_rules import TargetBook, TargetRow

if TYPE_CHECKING:
    from streams.pipeline.agent import PaymentsAgent

log = logging.getLogger(__name__)

ALL_TARGETS_SQL = """
SELECT province_code, commune_code, period_from, period_to, target_rate, deadline,
       responsible_unit, version
FROM targets FINAL
"""
COMMUNES_SQL = """
SELECT DISTINCT period, province_code, commune_code
FROM commune_programme_stats
WHERE province_code IN {provinces:Array(UInt16)}
  AND period >= {first:String} AND period <= {last:String}
"""


def near_deadline(rows: Iterable[TargetRow], today: date, warn_days: int) -> list[TargetRow]:
    """The target rows whose deadline is at most `warn_days` away, or past."""
    return [r for r in rows if (r.deadline - today).days <= warn_days]


def due_for_recheck(
    communes: Iterable[CommuneId],
    book: TargetBook,
    default_rate: float,
    today: date,
    warn_days: int,
) -> list[CommuneId]:
    """The commune-periods whose applicable target (commune -> province -> global, the rule
    of TargetBook) has a deadline at most `warn_days` away or past: those whose
    `behind_target` may have changed by time alone. The global target has no deadline."""
    out = []
    for commune in communes:
        deadline = book.target(commune, default_rate).deadline
        if deadline is not None and (deadline - today).days <= warn_days:
            out.append(commune)
    return sorted(out, key=lambda c: c.key)


async def candidates(agent: PaymentsAgent, today: date) -> list[CommuneId]:
    """The commune-periods with statistics that `due_for_recheck` selects."""
    warn_days = agent.settings.alert_target_warn_days
    rows = [TargetRow.of(r) for r in await agent.sink.query(ALL_TARGETS_SQL)]
    near = near_deadline(rows, today, warn_days)
    if not near:
        return []
    found = await agent.sink.query(
        COMMUNES_SQL,
        {
            "provinces": sorted({r.province_code for r in near}),
            "first": min(r.period_from for r in near),
            "last": max(r.period_to for r in near),
        },
    )
    communes = [
        CommuneId(str(r["period"]), int(r["province_code"]), int(r["commune_code"])) for r in found
    ]
    return due_for_recheck(
        communes, TargetBook(rows), agent.rules.cashless_target, today, warn_days
    )


async def recheck(agent: PaymentsAgent, alerts_topic: Any, today: date | None = None) -> int:
    """Re-evaluate the alerts of the communes `candidates` selects; returns how many."""
    today = today or datetime.now(UTC).date()
    communes = await candidates(agent, today)
    if not communes:
        return 0
    at = now_utc()
    await agent.targets.load(agent.sink, communes)
    figures = await agent.folded.read(agent.sink, set(communes) | {c.previous() for c in communes})
    alerting: dict[CommuneId, tuple[list[Any], int]] = {}
    for commune in communes:
        this, before = figures.get(commune), figures.get(commune.previous())
        if this is None or before is None or not this.version:
            continue
        alerting[commune] = (agent.alerts_of(this, before), this.version + before.version)
    await agent.write_alerts(alerting, at, alerts_topic)
    log.info("re-evaluated the alerts of %d commune-periods near a target deadline", len(alerting))
    return len(alerting)


def register(app: Any, agent: PaymentsAgent, alerts_topic: Any, interval_s: float) -> None:
    """Attach the periodic re-evaluation to the app (roles `all` and `store`)."""

    async def tick() -> None:
        try:
            await recheck(agent, alerts_topic)
        except Exception as e:  # best effort: the next tick tries again
            log.warning("re-evaluating behind_target failed, trying again later: %r", e)

    app.timer(interval=interval_s, on_leader=False)(tick)


__all__: Sequence[str] = ("due_for_recheck", "near_deadline", "recheck", "register")
