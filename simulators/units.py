"""Vietnam's administrative units since 1 July 2025 (34 provinces, 3,321 communes and wards)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

from vietnam_provinces import Province, Ward

CashlessChannel = Literal["bank_account", "e_wallet"]
CashChannel = Literal["post_office_cash", "commune_cash"]
CASHLESS_CHANNELS = frozenset(get_args(CashlessChannel))
CASH_CHANNELS = frozenset(get_args(CashChannel))


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
