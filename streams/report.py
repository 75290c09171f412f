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
