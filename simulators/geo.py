"""Synthetic but deterministic positions for communes and access points.

No package on the registries ships coordinates for the post-2025 communes, so positions
are synthetic: each province has an approximate centre (hand-entered, near its capital),
and each commune sits at a fixed pseudo-random offset from it derived from its code.
They are good for distances and maps in tests and demos, not for navigation.
"""

from __future__ import annotations

import hashlib
import math

# Approximate centre (latitude, longitude) of each of today's 34 provinces.
PROVINCE_CENTRES: dict[int, tuple[float, float]] = {
    1: (21.03, 105.85), 4: (22.67, 106.26), 8: (22.20, 105.00), 11: (21.39, 103.02),
    12: (22.40, 103.46), 14: (21.33, 103.91), 15: (22.00, 104.30), 19: (21.80, 105.80),
    20: (21.85, 106.76), 22: (21.10, 107.30), 24: (21.20, 106.20), 25: (21.10, 105.30),
    31: (20.90, 106.50), 33: (20.60, 106.20), 37: (20.30, 106.00), 38: (19.80, 105.40),
    40: (19.20, 104.90), 42: (18.30, 105.90), 44: (17.10, 106.60), 46: (16.46, 107.60),
    48: (15.80, 108.00), 51: (14.90, 108.20), 52: (14.00, 108.40), 56: (12.00, 109.00),
    66: (12.90, 108.40), 68: (11.60, 108.00), 75: (11.20, 107.00), 79: (10.80, 106.70),
    80: (10.80, 106.10), 82: (10.40, 105.90), 86: (10.10, 106.20), 91: (10.30, 105.10),
    92: (9.80, 105.80), 96: (9.20, 105.20),
}
SPREAD_DEGREES = 0.55


def _unit_pair(text: str) -> tuple[float, float]:
    digest = hashlib.sha256(text.encode()).digest()
    return (
        int.from_bytes(digest[:4], "big") / 2**32,
        int.from_bytes(digest[4:8], "big") / 2**32,
    )


def commune_position(province_code: int, commune_code: int) -> tuple[float, float]:
    """A commune's synthetic (latitude, longitude), stable across runs and machines."""
    lat0, lon0 = PROVINCE_CENTRES[province_code]
    u, v = _unit_pair(f"commune:{commune_code}")
    return (
        round(lat0 + (u - 0.5) * 2 * SPREAD_DEGREES, 5),
        round(lon0 + (v - 0.5) * 2 * SPREAD_DEGREES, 5),
    )


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(h))
