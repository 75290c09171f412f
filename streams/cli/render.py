"""How results look in a terminal: the headline lines, tables, and JSON lines.

Text and numbers are in the current language (schemas.i18n); JSON lines are language-neutral.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rich.table import Table

from schemas.i18n import CHANNELS, FAILURE_REASONS, _, current
from schemas.read_model import ratio


def rate(numerator: int, denominator: int) -> float | None:
    """numerator / denominator; None (shown as "–") when there is no denominator, the one
    empty-denominator rule of schemas/read_model.py."""
    return ratio(numerator, denominator)


def headline(row: Mapping[str, Any], label: str | None = None) -> str:
    """`Bình Định 06/2023: 142 / 127.450 đối tượng ... (0,11%)` in the current language."""
    lang = current()
    name = (
        label or row.get("province_name") or _("province {code}").format(code=row["province_code"])
    )
    cashless, due = row["beneficiaries_paid_cashless"], row["beneficiaries_due"]
    return _("{name} {period}: {cashless} / {due} beneficiaries paid cashless ({rate})").format(
        name=name,
        period=lang.period(row["period"]),
        cashless=lang.number(cashless),
        due=lang.number(due),
        rate=lang.percent(rate(cashless, due)),
    )


def _table(title: str, texts: list[str], numbers: list[str], rows: list[list[str]]) -> Table:
    """A table whose cells never shrink below their value: headers wrap, figures stay whole
    (Vietnamese headers are long; a pipe or a CI log is 80 columns wide)."""
    table = Table(title=title)
    for i, header in enumerate([*texts, *numbers]):
        widest = max((len(row[i]) for row in rows), default=0)
        table.add_column(header, min_width=widest, justify="left" if i < len(texts) else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _by_rate(r: Mapping[str, Any]) -> tuple[bool, float, int, int]:
    value = rate(r["beneficiaries_paid_cashless"], r["beneficiaries_due"])
    return (value is None, value or 0.0, -r["beneficiaries_due"], r["commune_code"])


def lowest_rate_table(communes: list[dict[str, Any]], limit: int = 10) -> Table:
    """The communes with the lowest cashless rates (larger communes first among equals;
    communes where nobody is due have no rate and come last)."""
    lang = current()
    ranked = sorted(communes, key=_by_rate)[:limit]
    rows = [
        [
            r.get("commune_name") or "?",
            str(r["commune_code"]),
            r.get("province_name") or str(r["province_code"]),
            lang.period(r["period"]),
            lang.number(r["beneficiaries_due"]),
            lang.number(r["beneficiaries_paid"]),
            lang.number(r["beneficiaries_paid_cashless"]),
            lang.percent(rate(r["beneficiaries_paid_cashless"], r["beneficiaries_due"])),
        ]
        for r in ranked
    ]
    return _table(
        _("{n} communes with the lowest cashless rate").format(n=len(ranked)),
        [_("Commune"), _("Code"), _("Province"), _("Period")],
        [_("Due"), _("Paid"), _("Cashless"), _("Rate")],
        rows,
    )


def json_lines(rows: list[dict[str, Any]]) -> str:
    """One JSON object per row and line (language-neutral)."""
    return "\n".join(orjson.dumps(r).decode() for r in rows)


def coverage_table(coverage: list[dict[str, Any]], limit: int = 10) -> Table:
    """The communes with the largest coverage gaps (the ranking banks work from)."""
    lang = current()
    rows = []
    for rank, r in enumerate(coverage[:limit], start=1):
        nearest = r.get("nearest_atm_km")
        rows.append(
            [
                str(rank),
                r.get("commune_name") or "?",
                str(r["commune_code"]),
                lang.number(r["beneficiaries_due"]),
                lang.number(r["beneficiaries_paid_cashless"]),
                lang.number(r.get("access_points_per_10k") or 0, 1),
                lang.number(r.get("atms") or 0),
                _("none") if nearest is None else lang.number(nearest, 1),
                lang.number(r["gap_score"]),
            ]
        )
    return _table(
        _("{n} communes with the largest coverage gap").format(n=len(rows)),
        [_("Rank"), _("Commune"), _("Code")],
        [
            _("Due"),
            _("Cashless"),
            _("Access points / 10,000"),
            _("ATMs"),
            _("Nearest ATM (km)"),
            _("Gap score"),
        ],
        rows,
    )


def nation_summary(row: Mapping[str, Any]) -> list[str]:
    """Channel mix, failures, reversals and time to pay of one period, as text lines."""
    lang = current()
    period = lang.period(row["period"])
    paid = sum(row["payments_by_channel"].values())
    mix = ", ".join(
        f"{lang.label(CHANNELS, channel)} {lang.number(n)} ({lang.percent(rate(n, paid), 1)})"
        for channel, n in sorted(row["payments_by_channel"].items(), key=lambda kv: -kv[1])
    )
    failures = ", ".join(
        f"{lang.label(FAILURE_REASONS, reason)} {lang.number(n)}"
        for reason, n in row["failures_by_reason"].items()
    )
    lines = [_("{period} channel mix: {mix}").format(period=period, mix=mix or _("no payments"))]
    lines.append(
        _("{period} failed attempts: {failures}; reversed payments: {returned}").format(
            period=period,
            failures=failures or _("none"),
            returned=lang.number(row["payments_returned"]),
        )
    )
    if row.get("seconds_to_pay_p50") is not None:
        lines.append(
            _("{period} time from scheduled to paid: median {p50} days, p90 {p90} days").format(
                period=period,
                p50=lang.number(row["seconds_to_pay_p50"] / 86400, 1),
                p90=lang.number(row["seconds_to_pay_p90"] / 86400, 1),
            )
        )
    return lines


def alerts_summary(alerts: list[dict[str, Any]]) -> str:
    """Active alerts counted by kind."""
    counts: dict[str, int] = {}
    for a in alerts:
        counts[a["kind"]] = counts.get(a["kind"], 0) + 1
    listed = ", ".join(f"{k} {current().number(n)}" for k, n in sorted(counts.items()))
    return _("Active alerts: {alerts}").format(alerts=listed or _("none"))
