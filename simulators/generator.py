"""The payment-cycle generator: a pure function of (scenario, seed), yielding event dicts.

Randomness is split by purpose and place (population of a commune, outcomes of a commune in
a period, access points of a province), so every commune's people are the same in every
period without being kept in memory, and generation streams in bounded memory.
"""

from __future__ import annotations

import heapq
import math
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from simulators.cccd import make_cccd
from simulators.geo import commune_position, haversine_km
from simulators.scenario import Scenario
from simulators.truth import GroundTruth
from simulators.units import Commune, communes_of, provinces

SCHEMA_VERSION = 1
CCCD_SERIALS = 1_000_000
PROVIDERS = {
    "bank_account": ("Agribank", "VBSP", "Vietcombank", "BIDV", "VietinBank"),
    "e_wallet": ("Viettel Money", "VNPT Money", "MobiFone Money"),
    "post_office_cash": ("VNPost",),
    "commune_cash": ("Commune people's committee",),
}
ACCESS_OPERATORS = {
    "atm": ("Agribank", "Vietcombank", "BIDV", "VietinBank"),
    "bank_branch": ("Agribank", "VBSP", "BIDV"),
    "post_office": ("VNPost",),
    "mobile_money_agent": ("Viettel Money", "VNPT Money", "MobiFone Money"),
}


@dataclass(frozen=True)
class Person:
    """A beneficiary on a commune's roster, with the factors that drive cashless adoption."""

    index: int
    citizen_id: str
    programme: str
    has_bank_account: bool
    has_smartphone: bool
    eid_activated: bool
    distance_km: float


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights`, summing exactly (largest remainder)."""
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


_Name = TypeVar("_Name", bound=str)


def _weighted(rng: random.Random, options: Mapping[_Name, float]) -> _Name:
    keys = list(options)
    return rng.choices(keys, weights=[options[k] for k in keys])[0]


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PaymentCycle:
    """A seeded simulation of a scenario: roster, access points and payment cycles.

    `events()` yields events in a deterministic order; `truth` is filled as they are made,
    from each beneficiary's assigned outcome rather than from the events.
    """

    def __init__(self, scenario: Scenario, seed: int = 0) -> None:
        self.scenario = scenario
        self.seed = seed
        self.truth = GroundTruth(scenario=scenario.name, seed=seed)
        region = scenario.region
        codes = sorted(provinces()) if region.province_codes == "all" else region.province_codes
        self.communes = [c for code in codes for c in communes_of(code, region.commune_code_range)]
        if not self.communes:
            raise ValueError(f"scenario {scenario.name} selects no commune")
        self._ids = random.Random(f"{scenario.name}:{seed}:ids")
        # CCCD serial slots: each commune owns an equal share of its province's serials.
        self._slots: dict[int, tuple[int, int]] = {}
        for code in {c.province_code for c in self.communes}:
            in_province = communes_of(code)
            for rank, commune in enumerate(in_province):
                self._slots[commune.code] = (rank, CCCD_SERIALS // len(in_province))
        # Exact scenarios need everyone at once anyway, so people are kept; others regenerate
        # a commune's people each period, which keeps memory bounded.
        self._unknown_serials: dict[int, int] = {}
        self._people_cache: dict[int, list[Person]] | None = (
            {} if scenario.paid_cashless is not None else None
        )

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(map(str, (self.scenario.name, self.seed, *parts))))

    # --- plan -------------------------------------------------------------------------------

    def _sizes(self) -> list[int]:
        rng = self._rng("sizes")
        sizes = allocate(
            self.scenario.beneficiaries, [rng.lognormvariate(0.0, 0.45) for _ in self.communes]
        )
        for c, size in zip(self.communes, sizes, strict=True):
            if size > self._slots[c.code][1]:
                raise ValueError(f"too many beneficiaries in commune {c.code} for unique CCCDs")
        return sizes

    def _access_points(self) -> dict[int, list[dict[str, Any]]]:
        """Access points per commune code, drawn per province."""
        access = self.scenario.access
        points: dict[int, list[dict[str, Any]]] = {}
        for commune in self.communes:
            rng = self._rng("access", commune.code)
            urban = commune.is_urban
            means = {
                "atm": access.atm_urban if urban else access.atm_rural,
                "bank_branch": access.bank_branch_urban if urban else access.bank_branch_rural,
                "post_office": access.post_office,
                "mobile_money_agent": (
                    access.mobile_money_agent_urban if urban else access.mobile_money_agent_rural
                ),
            }
            lat, lon = commune_position(commune.province_code, commune.code)
            found = []
            for kind, mean in means.items():
                for n in range(_poisson(rng, mean)):
                    found.append(
                        {
                            "access_point_id": f"ap-{commune.code}-{kind}-{n}",
                            "kind": kind,
                            "operator": rng.choice(ACCESS_OPERATORS[kind]),
                            "latitude": round(lat + rng.uniform(-0.03, 0.03), 5),
                            "longitude": round(lon + rng.uniform(-0.03, 0.03), 5),
                            "province_code": commune.province_code,
                            "commune_code": commune.code,
                        }
                    )
            points[commune.code] = found
        return points

    def _nearest_access_km(self, points: dict[int, list[dict[str, Any]]]) -> dict[int, float]:
        """Distance from each commune's centre to the nearest ATM or branch in its province."""
        by_province: dict[int, list[tuple[float, float]]] = {}
        for found in points.values():
            for p in found:
                if p["kind"] in ("atm", "bank_branch"):
                    by_province.setdefault(p["province_code"], []).append(
                        (p["latitude"], p["longitude"])
                    )
        nearest = {}
        for c in self.communes:
            here = commune_position(c.province_code, c.code)
            options = by_province.get(c.province_code, [])
            nearest[c.code] = min((haversine_km(here, o) for o in options), default=60.0)
        return nearest

    def _record_coverage(self, points: dict[int, list[dict[str, Any]]]) -> None:
        """Access points by kind and the distance to the nearest ATM, per commune."""
        atms = [
            (p["latitude"], p["longitude"])
            for found in points.values()
            for p in found
            if p["kind"] == "atm"
        ]
        for c in self.communes:
            here = commune_position(c.province_code, c.code)
            kinds: dict[str, int] = {}
            for p in points.get(c.code, []):
                kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
            nearest = min((haversine_km(here, atm) for atm in atms), default=None)
            self.truth.coverage[c.code] = {
                "access_points_by_kind": dict(sorted(kinds.items())),
                "nearest_atm_km": nearest,
            }

    def _people(self, commune: Commune, size: int, base_km: float) -> list[Person]:
        cache = self._people_cache
        if cache is not None and commune.code in cache:
            return cache[commune.code]
        people = self._draw_people(commune, size, base_km)
        if cache is not None:
            cache[commune.code] = people
        return people

    def _draw_people(self, commune: Commune, size: int, base_km: float) -> list[Person]:
        sc, rng = self.scenario, self._rng("people", commune.code)
        rank, capacity = self._slots[commune.code]
        registration = sc.region.cccd_province_code or commune.province_code
        adoption = sc.adoption
        people = []
        for index in range(size):
            female = rng.random() < 0.56
            birth_year = rng.randint(1930, 1968) if rng.random() < 0.8 else rng.randint(2006, 2021)
            serial = ((rank * capacity + index) * 7919 + 104_729) % CCCD_SERIALS
            people.append(
                Person(
                    index=index,
                    citizen_id=make_cccd(registration, birth_year, female, serial),
                    programme=_weighted(rng, sc.programmes),
                    has_bank_account=rng.random() < adoption.bank_account_rate,
                    has_smartphone=rng.random() < adoption.smartphone_rate,
                    eid_activated=rng.random() < adoption.eid_activation_rate,
                    distance_km=round(
                        base_km * rng.lognormvariate(0.0, 0.35)
                        + (0.0 if commune.is_urban else rng.uniform(0.5, 6.0)),
                        2,
                    ),
                )
            )
        return people

    def propensity(self, person: Person, commune: Commune, period_index: int) -> float:
        """The chance this beneficiary is paid cashless (the Adoption model's formula)."""
        a = self.scenario.adoption
        logit = (
            a.baseline_logit
            + 1.6 * person.has_bank_account
            + 0.9 * person.has_smartphone
            + 0.7 * person.eid_activated
            - 0.08 * person.distance_km
            + a.urban_bonus * commune.is_urban
            + a.pilot_bonus * (commune.code in self.scenario.pilot_communes)
            + a.growth_per_period * period_index
        )
        return 1.0 / (1.0 + math.exp(-logit))

    def _exact_roles(
        self, sizes: list[int], nearest: dict[int, float], period_index: int
    ) -> dict[tuple[int, int], str]:
        """For exact scenarios: who is paid cashless, and who tries cashless but falls back.

        Weighted sampling without replacement (Efraimidis-Spirakis keys) by propensity.
        """
        sc = self.scenario
        target = sc.paid_cashless or 0
        fallback = round(target * sc.cashless_failure_rate / (1 - sc.cashless_failure_rate))
        rng = self._rng("roles", period_index)
        keyed: list[tuple[float, int, int]] = []
        for commune, size in zip(self.communes, sizes, strict=True):
            for person in self._people(commune, size, nearest[commune.code]):
                weight = self.propensity(person, commune, period_index)
                keyed.append((rng.random() ** (1.0 / weight), commune.code, person.index))
        chosen = heapq.nlargest(target + fallback, keyed)
        roles = {(code, index): "cashless" for _, code, index in chosen[:target]}
        roles.update({(code, index): "cashless_fails" for _, code, index in chosen[target:]})
        return roles

    # --- events -----------------------------------------------------------------------------

    def _envelope(self, event_type: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        self.truth.events += 1
        return {
            "event_id": str(uuid.UUID(int=self._ids.getrandbits(128), version=4)),
            "event_type": event_type,
            "schema_version": SCHEMA_VERSION,
            "occurred_at": _iso(at),
            "source": f"simulator/{self.scenario.name}",
            "payload": payload,
        }

    def events(self) -> Iterator[dict[str, Any]]:
        """All events: access points, then per period and commune the roster and payments."""
        sc = self.scenario
        sizes = self._sizes()
        points = self._access_points()
        nearest = self._nearest_access_km(points)
        opened_at = sc.starts_at - timedelta(days=30)
        self._record_coverage(points if sc.emit_access_points else {})
        if sc.emit_access_points:
            for commune in self.communes:
                for point in points[commune.code]:
                    self.truth.access_points[point["kind"]] += 1
                    yield self._envelope("access_point.opened", opened_at, point)
        for period_index, period in enumerate(sc.periods):
            roles = (
                self._exact_roles(sizes, nearest, period_index)
                if sc.paid_cashless is not None
                else None
            )
            start = sc.starts_at + timedelta(days=30 * period_index)
            for position, (commune, size) in enumerate(zip(self.communes, sizes, strict=True)):
                people = self._people(commune, size, nearest[commune.code])
                at = start + timedelta(minutes=(20 * position) % (60 * 24 * 5))
                if sc.emit_roster and period_index == 0:
                    yield from self._roster(commune, people, at - timedelta(days=10))
                yield from self._cycle(commune, people, period, period_index, at, roles)

    def _roster(
        self, commune: Commune, people: list[Person], at: datetime
    ) -> Iterator[dict[str, Any]]:
        for person in people:
            yield self._envelope(
                "beneficiary.enrolled",
                at + timedelta(seconds=person.index),
                {
                    "citizen_id": person.citizen_id,
                    "province_code": commune.province_code,
                    "commune_code": commune.code,
                    "programme": person.programme,
                    "since_period": self.scenario.periods[0],
                    "has_bank_account": person.has_bank_account,
                    "has_smartphone": person.has_smartphone,
                    "eid_activated": person.eid_activated,
                    "distance_to_access_point_km": person.distance_km,
                },
            )

    def _cycle(
        self,
        commune: Commune,
        people: list[Person],
        period: str,
        period_index: int,
        start: datetime,
        roles: dict[tuple[int, int], str] | None,
    ) -> Iterator[dict[str, Any]]:
        sc, rng = self.scenario, self._rng("cycle", period, commune.code)
        # Reversals, double and unknown payments draw from their own stream, so scenarios
        # without them generate exactly what they did before these existed.
        twists = (
            self._rng("twists", period, commune.code)
            if sc.return_rate or sc.double_payment_rate or sc.unknown_payment_rate
            else None
        )
        first: list[tuple[datetime, str, dict[str, Any]]] = []
        second: list[tuple[datetime, str, dict[str, Any]]] = []
        for person in people:
            if roles is not None:
                role = roles.get((commune.code, person.index), "cash")
            else:
                role = "cash"
                if rng.random() < self.propensity(person, commune, period_index):
                    role = (
                        "cashless_fails" if rng.random() < sc.cashless_failure_rate else "cashless"
                    )
            planned: str
            if role == "cash":
                planned = _weighted(rng, sc.cash_channels)
            elif person.has_bank_account:
                planned = "bank_account"
            elif person.has_smartphone and "e_wallet" in sc.cashless_channels:
                planned = "e_wallet"
            else:
                planned = _weighted(rng, sc.cashless_channels)
            base = {
                "payment_id": f"{period}-{commune.code}-{person.index:06d}",
                "period": period,
                "programme": person.programme,
                "citizen_id": person.citizen_id,
                "province_code": commune.province_code,
                "commune_code": commune.code,
                "amount_vnd": sc.amount_vnd[person.programme],
            }
            scheduled_at = start + timedelta(milliseconds=50 * person.index)
            yield self._envelope(
                "payment.scheduled",
                scheduled_at,
                base | {"planned_channel": planned},
            )
            at1 = start + timedelta(days=3, seconds=rng.randint(0, 6 * 3600))
            at2 = at1 + timedelta(days=4, seconds=rng.randint(0, 6 * 3600))
            failures: tuple[str, ...] = ()
            paid: str | None = planned
            if role == "cashless_fails":
                reason = _weighted(rng, sc.cashless_failure_reasons)
                failures = (reason,)
                first.append(self._failed(base, planned, reason, 1, at1))
                fallback = _weighted(rng, sc.cash_channels)
                paid = fallback if rng.random() < sc.retry_success_rate else None
            elif role == "cash" and rng.random() < sc.failure_rate:
                reason = _weighted(rng, sc.failure_reasons)
                failures = (reason,)
                first.append(self._failed(base, planned, reason, 1, at1))
                paid = planned if rng.random() < sc.retry_success_rate else None
            standing: list[tuple[str, int]] = []
            paid_at: datetime | None = None
            if paid is not None:
                attempt, paid_at, queue = (2, at2, second) if failures else (1, at1, first)
                queue.append(
                    (
                        paid_at,
                        "payment.succeeded",
                        base
                        | {
                            "channel": paid,
                            "provider": rng.choice(PROVIDERS[paid]),
                            "attempt": attempt,
                        },
                    )
                )
                standing.append((paid, sc.amount_vnd[person.programme]))
            returned = 0
            if twists is not None:
                paid_at, returned = self._twist(twists, person, base, paid_at, standing, second)
            self.truth.add_beneficiary(
                period,
                commune.province_code,
                commune.code,
                person.programme,
                standing=standing,
                cashless_channels=frozenset(sc.cashless_channels),
                failure_reasons=failures,
                returned=returned,
                seconds_to_pay=(
                    (paid_at - scheduled_at) // timedelta(seconds=1) if paid_at else None
                ),
            )
            if twists is not None and twists.random() < sc.unknown_payment_rate:
                second.append(self._unknown_payment(commune, base, at2, len(people)))
        for when, event_type, payload in sorted(first, key=lambda t: t[0]) + sorted(
            second, key=lambda t: t[0]
        ):
            yield self._envelope(event_type, when, payload)

    def _twist(
        self,
        rng: random.Random,
        person: Person,
        base: dict[str, Any],
        paid_at: datetime | None,
        standing: list[tuple[str, int]],
        queue: list[tuple[datetime, str, dict[str, Any]]],
    ) -> tuple[datetime | None, int]:
        """Maybe reverse (and re-pay) or double the payment; returns (paid_at, reversals)."""
        sc = self.scenario
        if paid_at is None:
            return None, 0
        channel, amount = standing[0]
        if rng.random() < sc.return_rate:
            returned_at = paid_at + timedelta(days=2, seconds=rng.randint(0, 3600))
            queue.append(
                (
                    returned_at,
                    "payment.returned",
                    base
                    | {
                        "channel": channel,
                        "reason": rng.choice(
                            ("account_closed_after_credit", "wrong_beneficiary", "reversed_by_bank")
                        ),
                    },
                )
            )
            standing.clear()
            if rng.random() >= sc.repay_after_return_rate:
                return None, 1
            again = (
                "bank_account"
                if person.has_bank_account
                else "e_wallet"
                if person.has_smartphone
                else channel
            )
            repaid_at = returned_at + timedelta(days=1, seconds=rng.randint(0, 3600))
            queue.append(
                (
                    repaid_at,
                    "payment.succeeded",
                    base
                    | {
                        "payment_id": f"{base['payment_id']}-r",
                        "channel": again,
                        "provider": rng.choice(PROVIDERS[again]),
                        "attempt": 3,
                    },
                )
            )
            standing.append((again, amount))
            return repaid_at, 1
        if rng.random() < sc.double_payment_rate:
            queue.append(
                (
                    paid_at + timedelta(days=1, seconds=rng.randint(0, 3600)),
                    "payment.succeeded",
                    base
                    | {
                        "payment_id": f"{base['payment_id']}-d",
                        "channel": channel,
                        "provider": rng.choice(PROVIDERS[channel]),
                        "attempt": 1,
                    },
                )
            )
            standing.append((channel, amount))
        return paid_at, 0

    def _unknown_payment(
        self, commune: Commune, base: dict[str, Any], at: datetime, roster_size: int
    ) -> tuple[datetime, str, dict[str, Any]]:
        """A payment to a citizen who is on no list: a serial no roster member uses."""
        rank, capacity = self._slots[commune.code]
        self._unknown_serials[commune.code] = extra = self._unknown_serials.get(commune.code, 0) + 1
        if roster_size + extra > capacity:
            raise ValueError(f"too many beneficiaries in commune {commune.code} for unique CCCDs")
        serial = ((rank * capacity + capacity - extra) * 7919 + 104_729) % CCCD_SERIALS
        citizen_id = make_cccd(
            commune.province_code
            if self.scenario.region.cccd_province_code is None
            else self.scenario.region.cccd_province_code,
            1950,
            False,
            serial,
        )
        self.truth.add_unknown_payment(
            base["period"], commune.province_code, commune.code, base["programme"]
        )
        return (
            at,
            "payment.succeeded",
            base
            | {
                "payment_id": f"{base['payment_id']}-u{extra}",
                "citizen_id": citizen_id,
                "channel": "commune_cash",
                "provider": PROVIDERS["commune_cash"][0],
                "attempt": 1,
            },
        )

    @staticmethod
    def _failed(
        base: dict[str, Any], channel: str, reason: str, attempt: int, at: datetime
    ) -> tuple[datetime, str, dict[str, Any]]:
        return (
            at,
            "payment.failed",
            base | {"channel": channel, "reason": reason, "attempt": attempt},
        )
