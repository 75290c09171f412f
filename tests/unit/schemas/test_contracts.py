import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from schemas import EVENTS_DIR
from schemas.contracts import ContractError, EventInvalid, load_contracts, validate_event
from tests.support.scenarios import first_payment, simulate, small_scenario


def test_every_contract_file_is_valid_json_schema_2020_12() -> None:
    files = sorted(EVENTS_DIR.glob("*.json"))
    assert len(files) >= 4
    for path in files:
        schema = json.loads(path.read_text())
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def test_an_invalid_contract_is_refused_when_loaded(tmp_path: Path) -> None:
    (tmp_path / "envelope.v1.json").write_text('{"type": "no-such-type"}')
    with pytest.raises(ContractError, match="envelope.v1.json"):
        load_contracts(tmp_path)


def test_simulated_events_validate(binh_dinh: Any) -> None:
    events, _ = simulate(small_scenario(binh_dinh, 500, 5))
    for event in events:
        validate_event(event)


@pytest.fixture
def good_event(binh_dinh: Any) -> dict[str, Any]:
    events, _ = simulate(small_scenario(binh_dinh, 10, 1))
    return copy.deepcopy(first_payment(events))


@pytest.mark.parametrize(
    ("mutate", "error_class"),
    [
        (lambda e: e.pop("event_id"), "missing_field"),
        (lambda e: e["payload"].update(amount_vnd="500000"), "wrong_type"),
        (lambda e: e.update(event_type="payment.teleported"), "unknown_event_type"),
        (lambda e: e["payload"].update(citizen_id="05203217723"), "invalid_cccd"),
        (lambda e: e["payload"].update(amount_vnd=0), "non_positive_amount"),
        (lambda e: e["payload"].update(planned_channel="gold_bars"), "unknown_channel"),
        (lambda e: e.update(occurred_at="2023-06-05 01:00:00"), "invalid_timestamp"),
        (lambda e: e["payload"].update(colour="blue"), "unknown_field"),
        (lambda e: e.update(schema_version=9), "unsupported_version"),
    ],
)
def test_broken_events_fail_with_their_class(
    good_event: dict[str, Any], mutate: Any, error_class: str
) -> None:
    mutate(good_event)
    with pytest.raises(EventInvalid) as caught:
        validate_event(good_event)
    assert caught.value.error_class == error_class
