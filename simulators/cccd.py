"""Synthetic citizen identity numbers (CCCD): 12 digits, never a real person's."""

from __future__ import annotations


def century_gender_digit(birth_year: int, female: bool) -> int:
    """The CCCD's 4th digit: 0/1 for 1900s male/female, 2/3 for 2000s, and so on."""
    century_index = (birth_year // 100) - 19
    if not 0 <= century_index <= 4:
        raise ValueError(f"birth year {birth_year} is outside 1900-2399")
    return century_index * 2 + (1 if female else 0)


def make_cccd(province_code: int, birth_year: int, female: bool, serial: int) -> str:
    """Compose a CCCD from its parts (3-digit province, gender/century, year, 6-digit serial)."""
    if not 0 <= serial <= 999_999:
        raise ValueError("serial must have at most 6 digits")
    return (
        f"{province_code:03d}{century_gender_digit(birth_year, female)}"
        f"{birth_year % 100:02d}{serial:06d}"
    )
