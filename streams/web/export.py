"""Exports for banks: the coverage-gap ranking as CSV or GeoJSON.

The CSV's header row is in the chosen language (people open it in a spreadsheet); its values,
and the GeoJSON's property names and values, are language-neutral."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from schemas.i18n import N_, Lang, _
from streams.errors import InputError
from streams.storage.base import Store
from streams.storage.queries import COVERAGE_GAPS_SQL, latest_period, normalise_rows

COVERAGE_COLUMNS = (
    "rank",
    "period",
    "province_code",
    "province_name",
    "commune_code",
    "commune_name",
    "latitude",
    "longitude",
    "beneficiaries_due",
    "beneficiaries_paid_cashless",
    "cashless_rate",
    "atms",
    "bank_branches",
    "post_offices",
    "mobile_money_agents",
    "access_points_per_10k",
    "atms_per_10k",
    "nearest_atm_km",
    "gap_score",
)
COVERAGE_HEADERS = {
    "rank": N_("Rank"),
    "period": N_("Period"),
    "province_code": N_("Province code"),
    "province_name": N_("Province"),
    "commune_code": N_("Commune code"),
    "commune_name": N_("Commune"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "beneficiaries_due": N_("Beneficiaries due"),
    "beneficiaries_paid_cashless": N_("Beneficiaries paid cashless"),
    "cashless_rate": N_("Cashless rate"),
    "atms": N_("ATMs"),
    "bank_branches": N_("Bank branches"),
    "post_offices": N_("Post offices"),
    "mobile_money_agents": N_("Mobile-money agents"),
    "access_points_per_10k": N_("Access points per 10,000 beneficiaries"),
    "atms_per_10k": N_("ATMs per 10,000 beneficiaries"),
    "nearest_atm_km": N_("Nearest ATM (km)"),
    "gap_score": N_("Gap score"),
}


def coverage_rows(store: Store, period: str | None = None) -> list[dict[str, Any]]:
    """The ranked coverage gaps of `period` (default: the latest), with their rank."""
    period = period or latest_period(store)
    if period is None:
        raise InputError(_("there are no statistics yet: run the pipeline first"))
    rows = normalise_rows(store.query(COVERAGE_GAPS_SQL, {"period": period}))
    if not rows:
        raise InputError(_("no statistics for period {period}").format(period=period))
    return [{"rank": i, "period": period, **r} for i, r in enumerate(rows, start=1)]


def to_csv(rows: list[dict[str, Any]], lang: Lang) -> str:
    """CSV with a header row in `lang`; the values are as stored (dot decimals, codes)."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=COVERAGE_COLUMNS, extrasaction="ignore", lineterminator="\n"
    )
    writer.writerow({k: lang.gettext(COVERAGE_HEADERS[k]) for k in COVERAGE_COLUMNS})
    writer.writerows(rows)
    return out.getvalue()


def to_geojson(rows: list[dict[str, Any]]) -> str:
    """A GeoJSON FeatureCollection: one Point per commune (synthetic centres)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["longitude"], r["latitude"]]},
            "properties": {k: r[k] for k in COVERAGE_COLUMNS if k not in ("latitude", "longitude")},
        }
        for r in rows
    ]
    return (
        json.dumps(
            {"type": "FeatureCollection", "features": features}, ensure_ascii=False, indent=1
        )
        + "\n"
    )
