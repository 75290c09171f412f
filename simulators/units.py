"""Payment channels as the simulators draw them; the administrative units are re-exported
from the reference data."""

from __future__ import annotations

from typing import Literal, get_args

# The units themselves are reference data (schemas/reference.py), shared with `migrate`.
from schemas.reference import Commune, all_communes, communes_of, provinces

__all__ = [
    "CASHLESS_CHANNELS",
    "CASH_CHANNELS",
    "CashChannel",
    "CashlessChannel",
    "Commune",
    "all_communes",
    "communes_of",
    "provinces",
]

CashlessChannel = Literal["bank_account", "e_wallet"]
CashChannel = Literal["post_office_cash", "commune_cash"]
CASHLESS_CHANNELS = frozenset(get_args(CashlessChannel))
CASH_CHANNELS = frozenset(get_args(CashChannel))
