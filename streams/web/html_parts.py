"""Server-rendered pieces of the live page and the report: tables and inline SVG charts.

Everything a reader needs is in the markup; the page's script only sorts tables (by each
cell's `data-v`, the raw value) and, live, swaps in the next rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any


def esc(value: object) -> str:
    """Text for HTML (attribute-safe)."""
    return escape("" if value is None else str(value), quote=True)


@dataclass(frozen=True)
class Column:
    """A table column: the row key, its header, and how a value is shown (text by default)."""

    key: str
    header: str
    show: Callable[[Any], str] | None = None
    numeric: bool = False


def table(
    table_id: str, rows: Sequence[dict[str, Any]], columns: Sequence[Column], empty: str
) -> str:
    """A sortable table; `empty` is shown instead when there are no rows."""
    if not rows:
        return f'<p class="muted">{esc(empty)}</p>'
    head = "".join(
        f'<th data-type="{"num" if c.numeric else "text"}">{esc(c.header)}</th>' for c in columns
    )
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c.key)
            shown = c.show(value) if c.show else ("" if value is None else str(value))
            cells.append(f'<td data-v="{esc("" if value is None else value)}">{esc(shown)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="sortable" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def bars(rows: Sequence[tuple[str, float, str]], empty: str, css: str = "bar") -> str:
    """A horizontal bar chart as inline SVG: one (label, value, value as text) per bar."""
    if not rows:
        return f'<p class="muted">{esc(empty)}</p>'
    width, height, left = 440, 22, 200
    top = max((value for _, value, _ in rows), default=0.0) or 1.0
    parts = []
    for i, (label, value, text) in enumerate(rows):
        bar = round((width - left - 70) * max(value, 0.0) / top)
        y = i * height
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{esc(label)}</text>'
            f'<rect class="{css}" x="{left}" y="{y + 4}" width="{bar}" height="14"></rect>'
            f'<text x="{left + bar + 5}" y="{y + 15}" font-size="11">{esc(text)}</text>'
        )
    return (
        f'<svg role="img" width="100%" viewBox="0 0 {width} {len(rows) * height}">'
        + "".join(parts)
        + "</svg>"
    )


def point_map(
    communes: Sequence[dict[str, Any]],
    points: Sequence[dict[str, Any]],
    gap_text: Callable[[dict[str, Any]], str],
    legend: str,
    empty: str,
) -> str:
    """Communes (circles sized by coverage gap) and access points (squares) as inline SVG."""
    located = [
        r
        for r in (*communes, *points)
        if r.get("latitude") is not None and r.get("longitude") is not None
    ]
    if not located:
        return f'<p class="muted">{esc(empty)}</p>'
    lats = [float(r["latitude"]) for r in located]
    lons = [float(r["longitude"]) for r in located]
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    w, h = 420, 320

    def x(lon: float) -> float:
        return round(10 + (w - 20) * (lon - west) / max(east - west, 1e-6), 1)

    def y(lat: float) -> float:
        return round(h - 10 - (h - 20) * (lat - south) / max(north - south, 1e-6), 1)

    top_gap = max([float(r.get("gap_score") or 0) for r in communes] + [1.0])
    parts = [
        f'<circle cx="{x(float(r["longitude"]))}" cy="{y(float(r["latitude"]))}" '
        f'r="{round(3 + 9 * float(r.get("gap_score") or 0) / top_gap, 1)}" fill="#e07b3999">'
        f"<title>{esc(gap_text(r))}</title></circle>"
        for r in communes
        if r.get("latitude") is not None and r.get("longitude") is not None
    ]
    parts += [
        f'<rect x="{x(float(r["longitude"])) - 2}" y="{y(float(r["latitude"])) - 2}" '
        f'width="4" height="4" fill="#12355b"><title>{esc(r.get("kind"))} '
        f"{esc(r.get('operator'))}</title></rect>"
        for r in points
        if r.get("latitude") is not None and r.get("longitude") is not None
    ]
    return (
        f'<svg role="img" width="100%" viewBox="0 0 {w} {h}">{"".join(parts)}</svg>'
        f'<div class="sub">{esc(legend)}</div>'
    )
