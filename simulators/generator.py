"""The payment-cycle generator: a pure function of (scenario, seed), yielding event dicts."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from simulators.cccd import CccdIssuer
from simulators.scenario import Scenario
from simulators.truth import GroundTruth
from simulators.units import Commune, communes_of

SCHEMA_VERSION = 1
PROVIDERS = {
    "bank_account": ("Agribank", "VBSP", "Vietcombank", "BIDV"),
    "e_wallet": ("Viettel Money", "VNPT Money", "MobiFone Money"),
    "post_office_cash": ("VNPost",),
    "commune_cash": ("Commune people's committee",),
}


@dataclass(frozen=True)
class Beneficiary:
    """One person due a payment, with the outcome the scenario assigns."""

    citizen_id: str
    programme: str
    channel: str
    failure_reason: str | None


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights`, summing exactly (largest remainder)."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _weighted(rng: random.Random, options: dict[str, float]) -> str:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


class PaymentCycle:
    """A seeded simulation of one scenario's payment cycle.

    `events()` yields the events in a deterministic order; `truth` is filled as they are
    generated, from each beneficiary's assigned outcome rather than from the events.
    """

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        self.scenario = scenario
        self.seed = seed
        self.truth = GroundTruth(scenario=scenario.name, seed=seed)
        self._rng = random.Random(f"{scenario.name}:{seed}")
        region = scenario.region
        self.communes = communes_of(region.province_code, region.commune_code_range)
        if not self.communes:
            raise ValueError(f"scenario {scenario.name} selects no commune")

    def _plan(self) -> tuple[list[int], list[int]]:
        """Beneficiaries and cashless payees per commune, both summing to the scenario's totals."""
        rng, sc = self._rng, self.scenario
        sizes = allocate(
            sc.beneficiaries, [rng.lognormvariate(0.0, 0.45) for _ in self.communes]
        )
        cashless = [0] * len(self.communes)
        odds = [sc.urban_cashless_odds if c.is_urban else 1.0 for c in self.communes]
        for _ in range(sc.paid_cashless):
            room = [(sizes[i] - cashless[i]) * odds[i] for i in range(len(self.communes))]
            cashless[rng.choices(range(len(room)), weights=room)[0]] += 1
        return sizes, cashless

    def _beneficiaries(
        self, size: int, cashless: int, issuer: CccdIssuer
    ) -> Iterator[Beneficiary]:
        rng, sc = self._rng, self.scenario
        cashless_slots = set(rng.sample(range(size), cashless))
        for index in range(size):
            female = rng.random() < 0.56
            birth_year = rng.randint(1930, 1968) if rng.random() < 0.8 else rng.randint(2006, 2021)
            citizen_id = issuer.issue(sc.region.cccd_province_code, birth_year, female)
            programme = _weighted(rng, sc.programmes)
            if index in cashless_slots:
                yield Beneficiary(citizen_id, programme, _weighted(rng, sc.cashless_channels), None)
                continue
            channel = _weighted(rng, sc.cash_channels)
            failed = rng.random() < sc.failure_rate
            reason = _weighted(rng, sc.failure_reasons) if failed else None
            yield Beneficiary(citizen_id, programme, channel, reason)

    def _envelope(self, event_type: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "event_id": str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            "event_type": event_type,
            "schema_version": SCHEMA_VERSION,
            "occurred_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "source": f"simulator/{self.scenario.name}",
            "payload": payload,
        }

    def events(self) -> Iterator[dict[str, Any]]:
        """All events, commune by commune: the roster's schedules first, then outcomes."""
        sizes, cashless = self._plan()
        issuer = CccdIssuer(self._rng)
        for position, commune in enumerate(self.communes):
            yield from self._commune_events(
                commune, sizes[position], cashless[position], position, issuer
            )

    def _commune_events(
        self, commune: Commune, size: int, cashless: int, position: int, issuer: CccdIssuer
    ) -> Iterator[dict[str, Any]]:
        sc = self.scenario
        start = sc.starts_at + timedelta(minutes=20 * position)
        people = list(self._beneficiaries(size, cashless, issuer))
        for number, person in enumerate(people):
            self.truth.add_beneficiary(
                sc.period, commune.province_code, commune.code,
                paid=person.failure_reason is None,
                cashless=person.failure_reason is None and person.channel in sc.cashless_channels,
                failure_reason=person.failure_reason,
            )
            yield self._envelope(
                "payment.scheduled", start + timedelta(milliseconds=50 * number),
                self._payload(commune, person, number) | {"planned_channel": person.channel},
            )
            self.truth.events += 1
        paid_at = start + timedelta(days=3)
        for number, person in enumerate(people):
            at = paid_at + timedelta(seconds=self._rng.randint(0, 6 * 3600))
            payload = self._payload(commune, person, number) | {"channel": person.channel}
            if person.failure_reason is None:
                provider = self._rng.choice(PROVIDERS[person.channel])
                yield self._envelope("payment.succeeded", at, payload | {"provider": provider})
            else:
                yield self._envelope(
                    "payment.failed", at, payload | {"reason": person.failure_reason}
                )
            self.truth.events += 1

    def _payload(self, commune: Commune, person: Beneficiary, number: int) -> dict[str, Any]:
        sc = self.scenario
        return {
            "payment_id": f"{sc.period}-{commune.code}-{number:06d}",
            "period": sc.period,
            "programme": person.programme,
            "citizen_id": person.citizen_id,
            "province_code": commune.province_code,
            "commune_code": commune.code,
            "amount_vnd": sc.amount_vnd[person.programme],
        }
