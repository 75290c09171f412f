"""Synthetic but deterministic positions for communes and access points.

No package on the registries ships coordinates for the post-2025 communes, so positions
are synthetic: each province has an approximate centre (hand-entered, near its capital),
and each commune sits at a fixed pseudo-random offset from it derived from its code.
They are good for distances and maps in tests and demos, not for navigation.
"""

from __future__ import annotations

import math

# Positions come from the reference data (schemas/reference.py), shared with `migrate`.
from schemas.reference import PROVINCE_CENTRES, commune_position

__all__ = ["PROVINCE_CENTRES", "commune_position", "haversine_km"]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))
