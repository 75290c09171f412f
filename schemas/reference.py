"""Reference data every package may read: Vietnam's administrative units since 1 July 2025
(34 provinces, 3,321 communes and wards, from the vietnam-provinces package) and their
synthetic but deterministic positions.

No package on the registries ships coordinates for the post-2025 communes, so positions
are synthetic: each province has an approximate centre (hand-entered, near its capital),
and each commune sits at a fixed pseudo-random offset from it derived from its code.
They are good for distances and maps in tests and demos, not for navigation.

`migrate` seeds `admin_units` from here and the simulators place communes and access points
with it, so neither imports the other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

from vietnam_provinces import Province, Ward

# Approximate centre (latitude, longitude) of each of today's 34 provinces.
PROVINCE_CENTRES: dict[int, tuple[float, float]] = {
    1: (21.03, 105.85),
    4: (22.67, 106.26),
    8: (22.20, 105.00),
    11: (21.39, 103.02),
    12: (22.40, 103.46),
    14: (21.33, 103.91),
    15: (22.00, 104.30),
    19: (21.80, 105.80),
    20: (21.85, 106.76),
    22: (21.10, 107.30),
    24: (21.20, 106.20),
    25: (21.10, 105.30),
    31: (20.90, 106.50),
    33: (20.60, 106.20),
    37: (20.30, 106.00),
    38: (19.80, 105.40),
    40: (19.20, 104.90),
    42: (18.30, 105.90),
    44: (17.10, 106.60),
    46: (16.46, 107.60),
    48: (15.80, 108.00),
    51: (14.90, 108.20),
    52: (14.00, 108.40),
    56: (12.00, 109.00),
    66: (12.90, 108.40),
    68: (11.60, 108.00),
    75: (11.20, 107.00),
    79: (10.80, 106.70),
    80: (10.80, 106.10),
    82: (10.40, 105.90),
    86: (10.10, 106.20),
    91: (10.30, 105.10),
    92: (9.80, 105.80),
    96: (9.20, 105.20),
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


@dataclass(frozen=True)
class Commune:
    """A commune, ward or special zone, with its province."""

    code: int
    name: str
    kind: str
    province_code: int
    province_name: str

    @property
    def is_urban(self) -> bool:
        """Wards (phường) are urban; communes (xã) and special zones are not."""
        return self.kind == "phường"


@lru_cache(maxsize=1)
def provinces() -> dict[int, str]:
    """Province code -> official name."""
    return {int(p.code): p.name for p in Province.iter_all()}


@lru_cache(maxsize=1)
def all_communes() -> tuple[Commune, ...]:
    """Every commune, ordered by province then commune code."""
    names = provinces()
    communes = [
        Commune(
            code=int(w.code),
            name=w.name,
            kind=w.division_type.value,
            province_code=int(w.province_code),
            province_name=names[int(w.province_code)],
        )
        for w in Ward.iter_all()
    ]
    return tuple(sorted(communes, key=lambda c: (c.province_code, c.code)))


def communes_of(province_code: int, code_range: tuple[int, int] | None = None) -> list[Commune]:
    """Communes of a province, optionally only those whose code lies in `code_range`.

    The 2025 merger kept, for each new commune, the code of one of the old ones, so a code
    range selects the communes that came from a former province (e.g. Binh Dinh in Gia Lai).
    """
    selected = [c for c in all_communes() if c.province_code == province_code]
    if code_range is not None:
        low, high = code_range
        selected = [c for c in selected if low <= c.code <= high]
    return selected
