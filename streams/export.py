"""Exports for banks: the coverage-gap ranking as CSV or GeoJSON."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from streams.errors import InputError
from streams.queries import COVERAGE_GAPS_SQL, latest_period, normalise
from streams.storage.base import Store

COVERAGE_COLUMNS = (
    "rank", "period", "province_code", "province_name", "commune_code", "commune_name",
    "latitude", "longitude", "beneficiaries_due", "beneficiaries_paid_cashless",
    "cashless_rate", "atms", "bank_branches", "post_offices", "mobile_money_agents",
    "access_points_per_10k", "atms_per_10k", "nearest_atm_km", "gap_score",
)


def coverage_rows(store: Store, period: str | None = None) -> list[dict[str, Any]]:
    """The ranked coverage gaps of `period` (default: the latest), with their rank."""
    period = period or latest_period(store)
    if period is None:
        raise InputError("there are no statistics yet: run the pipeline first")
    rows = [normalise(r) for r in store.query(COVERAGE_GAPS_SQL, {"period": period})]
    if not rows:
        raise InputError(f"no statistics for period {period}")
    return [{"rank": i, "period": period, **r} for i, r in enumerate(rows, start=1)]


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COVERAGE_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def to_geojson(rows: list[dict[str, Any]]) -> str:
    """A GeoJSON FeatureCollection: one Point per commune (synthetic centres)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["longitude"], r["latitude"]]},
            "properties": {k: r[k] for k in COVERAGE_COLUMNS if k not in ("latitude",
                                                                           "longitude")},
        }
        for r in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features},
                      ensure_ascii=False, indent=1) + "\n"
