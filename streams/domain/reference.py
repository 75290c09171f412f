"""Reference data the pipeline checks events against: today's units and CCCD rules.

Loaded from vietnam-provinces here, not from the simulators, so the pipeline never shares
code with the ground truth it is tested against.
"""

from __future__ import annotations

from functools import lru_cache

from vietnam_provinces import Ward

from schemas.i18n import N_

# Province-of-registration codes in CCCDs: the 63 pre-2025 province codes, zero-padded.
CCCD_REGISTRATION_CODES = frozenset(
    f"{code:03d}"
    for code in (
        1,
        2,
        4,
        6,
        8,
        10,
        11,
        12,
        14,
        15,
        17,
        19,
        20,
        22,
        24,
        25,
        26,
        27,
        30,
        31,
        33,
        34,
        35,
        36,
        37,
        38,
        40,
        42,
        44,
        45,
        46,
        48,
        49,
        51,
        52,
        54,
        56,
        58,
        60,
        62,
        64,
        66,
        67,
        68,
        70,
        72,
        74,
        75,
        77,
        79,
        80,
        82,
        83,
        84,
        86,
        87,
        89,
        91,
        92,
        93,
        94,
        95,
        96,
    )
)


@lru_cache(maxsize=1)
def commune_provinces() -> dict[int, int]:
    """Commune code -> province code, for today's 3,321 communes and wards."""
    return {int(w.code): int(w.province_code) for w in Ward.iter_all()}


def commune_problem(province_code: int, commune_code: int) -> str | None:
    """Why a (province, commune) pair is not a real unit today, or None."""
    province = commune_provinces().get(commune_code)
    if province is None:
        return f"commune {commune_code} does not exist"
    if province != province_code:
        return f"commune {commune_code} belongs to province {province}, not {province_code}"
    return None


def cccd_problem(cccd: str, current_year: int) -> str | None:
    """Why a 12-digit string cannot be a CCCD, or None. Never echoes the number."""
    if len(cccd) != 12 or not cccd.isdigit():
        return N_("a CCCD has exactly 12 digits")
    if cccd[:3] not in CCCD_REGISTRATION_CODES:
        return N_("the CCCD's province-of-registration code does not exist")
    century = 1900 + (int(cccd[3]) // 2) * 100
    birth_year = century + int(cccd[4:6])
    if birth_year > current_year:
        return N_("the CCCD's gender/century digit and birth year give a birth in the future")
    return None
