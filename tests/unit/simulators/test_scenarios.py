import pytest

from schemas.contracts import validate_event
from simulators.generator import PaymentCycle
from simulators.scenario import load_scenario, scenario_names
from tests.support.scenarios import small_scenario


def test_the_reports_scenarios_are_bundled() -> None:
    assert {
        "binh-dinh-2023-06",
        "dien-bien-2023-q1",
        "hai-duong-2023-05",
        "thanh-hoa-2023-08",
        "national-month",
    } <= set(scenario_names())


@pytest.mark.parametrize("name", scenario_names())
def test_every_scenario_generates_valid_events(name: str) -> None:
    scenario = load_scenario(name)
    small = (
        small_scenario(scenario, 1500, 10)
        if scenario.paid_cashless is not None
        else (scenario.model_copy(update={"beneficiaries": 1500}))
    )
    cycle = PaymentCycle(small, 0)
    kinds = set()
    for event in cycle.events():
        validate_event(event)
        kinds.add(event["event_type"])
    assert {"payment.scheduled", "payment.succeeded"} <= kinds
    assert cycle.truth.to_json()["totals"]["beneficiaries_due"] == 1500 * len(scenario.periods)


def test_dien_bien_adoption_is_low_and_hai_duong_higher() -> None:
    def rate(name: str) -> float:
        scenario = load_scenario(name).model_copy(update={"beneficiaries": 8000})
        cycle = PaymentCycle(scenario, 0)
        for _ in cycle.events():
            pass
        totals = cycle.truth.to_json()["totals"]
        return totals["beneficiaries_paid_cashless"] / totals["beneficiaries_due"]

    assert rate("dien-bien-2023-q1") < 0.03 < rate("thanh-hoa-2023-08") < rate("hai-duong-2023-05")


def test_thanh_hoa_pilot_communes_lead() -> None:
    scenario = load_scenario("thanh-hoa-2023-08").model_copy(update={"beneficiaries": 20000})
    cycle = PaymentCycle(scenario, 0)
    for _ in cycle.events():
        pass
    rows = cycle.truth.to_json()["communes"]
    pilot = [r for r in rows if r["commune_code"] in scenario.pilot_communes]
    other = [r for r in rows if r["commune_code"] not in scenario.pilot_communes]

    def share(rs: list[dict[str, int]]) -> float:
        return sum(r["beneficiaries_paid_cashless"] for r in rs) / sum(
            r["beneficiaries_due"] for r in rs
        )

    assert share(pilot) > 2 * share(other)
