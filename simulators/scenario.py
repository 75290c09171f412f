"""Scenario files: YAML in simulators/scenarios/, validated into a typed model."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulators.errors import ScenarioFileError, UnknownScenarioError
from simulators.units import CASH_CHANNELS, CASHLESS_CHANNELS

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Region(BaseModel):
    """Which of today's communes the scenario covers, and how older figures map onto them."""

    model_config = ConfigDict(extra="forbid")

    province_code: int
    commune_code_range: tuple[int, int] | None = None
    label: str | None = Field(None, description="Name shown for the region in results.")
    cccd_province_code: int = Field(description="Province-of-registration code in CCCDs.")
    mapping_note: str = ""


class Scenario(BaseModel):
    """Parameters of one simulated payment cycle."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    source: str
    period: str
    region: Region
    beneficiaries: int = Field(gt=0)
    paid_cashless: int = Field(ge=0, description="Exactly this many are paid cashless.")
    failure_rate: float = Field(ge=0, le=1, description="Share of cash payments that fail.")
    programmes: dict[str, float]
    cashless_channels: dict[str, float]
    cash_channels: dict[str, float]
    urban_cashless_odds: float = Field(1.0, gt=0, description="Cashless weight of a ward.")
    failure_reasons: dict[str, float]
    amount_vnd: dict[str, int]
    starts_at: datetime

    @field_validator("period")
    @classmethod
    def _period_format(cls, value: str) -> str:
        if not _PERIOD.match(value):
            raise ValueError("period must be YYYY-MM")
        return value

    @field_validator("starts_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        offset = value.utcoffset()
        if offset is None or offset.total_seconds():
            raise ValueError("starts_at must be a UTC timestamp ending in Z")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.paid_cashless > self.beneficiaries:
            raise ValueError("paid_cashless cannot exceed beneficiaries")
        if not set(self.cashless_channels) <= CASHLESS_CHANNELS:
            raise ValueError(f"cashless_channels must be among {sorted(CASHLESS_CHANNELS)}")
        if not set(self.cash_channels) <= CASH_CHANNELS:
            raise ValueError(f"cash_channels must be among {sorted(CASH_CHANNELS)}")
        if set(self.amount_vnd) != set(self.programmes):
            raise ValueError("amount_vnd needs one amount per programme")
        return self


def scenario_names() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def load_scenario(name: str) -> Scenario:
    """Load and validate a bundled scenario by name."""
    path = SCENARIOS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(scenario_names())
        raise UnknownScenarioError(f"unknown scenario {name!r}; known scenarios: {known}")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        scenario = Scenario.model_validate(raw)
    except (yaml.YAMLError, ValidationError) as e:
        raise ScenarioFileError(f"{path.name} is invalid: {e}") from e
    if scenario.name != name:
        raise ScenarioFileError(f"{path.name} declares name {scenario.name!r}; they must match")
    return scenario
