"""How results look in a terminal: the headline lines, tables, and JSON lines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rich.table import Table


def rate(numerator: int, denominator: int) -> float:
    """numerator / denominator, 0 when there is no denominator."""
    return numerator / denominator if denominator else 0.0


def headline(row: Mapping[str, Any], label: str | None = None) -> str:
    """`Bình Định 2023-06: 142 / 127,450 beneficiaries paid cashless (0.11%)`."""
    name = label or row.get("province_name") or f"province {row['province_code']}"
    cashless, due = row["beneficiaries_paid_cashless"], row["beneficiaries_due"]
    return (
        f"{name} {row['period']}: {cashless:,} / {due:,} beneficiaries paid cashless "
        f"({rate(cashless, due):.2%})"
    )


def lowest_rate_table(communes: list[dict[str, Any]], limit: int = 10) -> Table:
    """The communes with the lowest cashless rates (larger communes first among equals)."""
    ranked = sorted(
        communes,
        key=lambda r: (
            rate(r["beneficiaries_paid_cashless"], r["beneficiaries_due"]),
            -r["beneficiaries_due"],
            r["commune_code"],
        ),
    )[:limit]
    table = Table(title=f"{len(ranked)} communes with the lowest cashless rate")
    for column in ("Commune", "Code", "Province", "Period"):
        table.add_column(column, no_wrap=True)
    for column in ("Due", "Paid", "Cashless", "Rate"):
        table.add_column(column, justify="right")
    for r in ranked:
        table.add_row(
            r.get("commune_name") or "?",
            str(r["commune_code"]),
            r.get("province_name") or str(r["province_code"]),
            r["period"],
            f"{r['beneficiaries_due']:,}",
            f"{r['beneficiaries_paid']:,}",
            f"{r['beneficiaries_paid_cashless']:,}",
            f"{rate(r['beneficiaries_paid_cashless'], r['beneficiaries_due']):.2%}",
        )
    return table


def json_lines(rows: list[dict[str, Any]]) -> str:
    """One JSON object per row and line."""
    return "\n".join(orjson.dumps(r).decode() for r in rows)


def coverage_table(coverage: list[dict[str, Any]], limit: int = 10) -> Table:
    """The communes with the largest coverage gaps (the ranking banks work from)."""
    table = Table(title=f"{min(limit, len(coverage))} communes with the largest coverage gap")
    for column in ("Rank", "Commune", "Code"):
        table.add_column(column, no_wrap=True)
    for column in ("Due", "Cashless", "Access/10k", "ATMs", "Nearest ATM km", "Gap score"):
        table.add_column(column, justify="right")
    for rank, r in enumerate(coverage[:limit], start=1):
        nearest = r.get("nearest_atm_km")
        table.add_row(
            str(rank), r.get("commune_name") or "?", str(r["commune_code"]),
            f"{r['beneficiaries_due']:,}", f"{r['beneficiaries_paid_cashless']:,}",
            f"{r.get('access_points_per_10k') or 0:.1f}", str(r.get("atms") or 0),
            "none" if nearest is None else f"{nearest:.1f}", f"{r['gap_score']:,.0f}",
        )
    return table


def nation_summary(row: Mapping[str, Any]) -> list[str]:
    """Channel mix, failures, reversals and time to pay of one period, as text lines."""
    paid = sum(row["payments_by_channel"].values())
    mix = ", ".join(
        f"{channel} {n:,} ({rate(n, paid):.1%})"
        for channel, n in sorted(row["payments_by_channel"].items(), key=lambda kv: -kv[1])
    )
    failures = ", ".join(f"{reason} {n:,}" for reason, n in row["failures_by_reason"].items())
    lines = [f"{row['period']} channel mix: {mix or 'no payments'}"]
    lines.append(f"{row['period']} failed attempts: {failures or 'none'}; "
                 f"reversed payments: {row['payments_returned']:,}")
    if row.get("seconds_to_pay_p50") is not None:
        lines.append(
            f"{row['period']} time from scheduled to paid: median "
            f"{row['seconds_to_pay_p50'] / 86400:.1f} days, p90 "
            f"{row['seconds_to_pay_p90'] / 86400:.1f} days"
        )
    return lines


def alerts_summary(alerts: list[dict[str, Any]]) -> str:
    """Active alerts counted by kind."""
    counts: dict[str, int] = {}
    for a in alerts:
        counts[a["kind"]] = counts.get(a["kind"], 0) + 1
    return "Active alerts: " + (", ".join(f"{k} {n:,}" for k, n in sorted(counts.items()))
                                or "none")
