"""Scenario files: YAML in simulators/scenarios/, validated into a typed model."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from simulators.errors import UnknownScenarioError
from simulators.units import CashChannel, CashlessChannel

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
Period = Annotated[str, Field(pattern=PERIOD_PATTERN, description="YYYY-MM")]
Weight = Annotated[float, Field(ge=0, description="relative weight (any scale)")]
Programme = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class Region(BaseModel):
    """Which of today's communes the scenario covers, and how older figures map onto them."""

    model_config = ConfigDict(extra="forbid")

    province_codes: list[int] | Literal["all"]
    commune_code_range: tuple[int, int] | None = Field(
        None, description="Only communes whose code lies in this range (a former province)."
    )
    label: str | None = Field(None, description="Name shown for the region in results.")
    cccd_province_code: int | None = Field(
        None, description="Province-of-registration code in CCCDs (default: the province's)."
    )
    mapping_note: str = ""


class Adoption(BaseModel):
    """Who can and does get paid cashless.

    Each beneficiary draws the four factors; the chance of a cashless payment is
    sigmoid(baseline_logit + 1.6*bank + 0.9*smartphone + 0.7*eid - 0.08*km_to_access_point
    + urban_bonus*urban + pilot_bonus*pilot_commune + growth_per_period*period_index).
    """

    model_config = ConfigDict(extra="forbid")

    baseline_logit: float = -4.0
    bank_account_rate: float = Field(0.3, ge=0, le=1)
    smartphone_rate: float = Field(0.6, ge=0, le=1)
    eid_activation_rate: float = Field(0.4, ge=0, le=1)
    urban_bonus: float = 0.5
    pilot_bonus: float = 0.0
    growth_per_period: float = 0.0


class Access(BaseModel):
    """Expected access points per commune (the draw is Poisson-like, seeded)."""

    model_config = ConfigDict(extra="forbid")

    atm_urban: float = Field(3.0, ge=0)
    atm_rural: float = Field(0.3, ge=0)
    bank_branch_urban: float = Field(1.0, ge=0)
    bank_branch_rural: float = Field(0.1, ge=0)
    post_office: float = Field(1.0, ge=0)
    mobile_money_agent_urban: float = Field(2.0, ge=0)
    mobile_money_agent_rural: float = Field(0.5, ge=0)


class Scenario(BaseModel):
    """Parameters of one simulated payment cycle (or several periods of them)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    source: str
    periods: list[Period] = Field(min_length=1)
    region: Region
    pilot_communes: list[int] = Field(default_factory=list)
    beneficiaries: int = Field(gt=0)
    paid_cashless: int | None = Field(
        None, ge=0, description="Exactly this many paid cashless in each period (else drawn)."
    )
    cashless_failure_rate: float = Field(0.05, ge=0, lt=1)
    failure_rate: float = Field(0.012, ge=0, le=1, description="First cash attempts that fail.")
    retry_success_rate: float = Field(0.6, ge=0, le=1, description="Failed payments re-paid.")
    return_rate: float = Field(
        0.0, ge=0, le=1, description="Paid beneficiaries whose payment is reversed later."
    )
    repay_after_return_rate: float = Field(
        0.0, ge=0, le=1, description="Reversed payments paid again (cashless when possible)."
    )
    double_payment_rate: float = Field(
        0.0, ge=0, le=1, description="Paid beneficiaries paid a second time in the period."
    )
    unknown_payment_rate: float = Field(
        0.0, ge=0, le=1, description="Per beneficiary, chance of a payment to someone not due."
    )
    programmes: dict[Programme, Weight] = Field(min_length=1)
    cashless_channels: dict[CashlessChannel, Weight] = Field(min_length=1)
    cash_channels: dict[CashChannel, Weight] = Field(min_length=1)
    failure_reasons: dict[str, Weight] = Field(
        min_length=1, description="Reasons of payment.failed (the contract's enum)."
    )
    cashless_failure_reasons: dict[str, Weight] = Field(
        min_length=1, description="Reasons of payment.failed (the contract's enum)."
    )
    amount_vnd: dict[Programme, Annotated[int, Field(gt=0)]]
    adoption: Adoption = Field(default_factory=Adoption)
    access: Access = Field(default_factory=Access)
    emit_roster: bool = True
    emit_access_points: bool = True
    starts_at: datetime

    @field_validator("periods")
    @classmethod
    def _period_order(cls, value: list[str]) -> list[str]:
        if value != sorted(set(value)):
            raise ValueError("periods must be distinct and in order")
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
        if self.paid_cashless is not None and self.paid_cashless > self.beneficiaries:
            raise ValueError("paid_cashless cannot exceed beneficiaries")
        if set(self.amount_vnd) != set(self.programmes):
            raise ValueError("amount_vnd needs one amount per programme")
        if self.commune_range_needs_one_province():
            raise ValueError("commune_code_range needs exactly one province")
        return self

    def commune_range_needs_one_province(self) -> bool:
        """A commune range only makes sense inside a single province."""
        codes = self.region.province_codes
        return self.region.commune_code_range is not None and (codes == "all" or len(codes) != 1)


def scenario_names() -> list[str]:
    """Names of the bundled scenarios."""
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.yaml"))


def load_scenario(name: str) -> Scenario:
    """Load and validate a bundled scenario by name, or a scenario file by its path.

    A name with a slash or a `.yaml`/`.yml` ending is a path. Every file goes through
    `simulators.scenario_check` (the JSON Schema, then the rules across fields and the
    administrative units) before any generator sees it.
    """
    from simulators.scenario_check import load_checked

    if "/" in name or name.endswith((".yaml", ".yml")):
        return load_checked(Path(name))
    path = SCENARIOS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(scenario_names())
        raise UnknownScenarioError(
            f"unknown scenario {name!r}; known scenarios: {known} (or give a .yaml path)"
        )
    return load_checked(path, expected_name=name)
