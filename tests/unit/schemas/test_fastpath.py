"""The fast acceptors may only ever accept what the full JSON Schema validator accepts."""

from __future__ import annotations

import copy
import random
from typing import Any

import fastjsonschema
import pytest

from schemas.contracts import load_contracts
from schemas.fastpath import compile_acceptor
from tests.support.scenarios import simulate, small_scenario

HOT = ["envelope", "payment.scheduled", "payment.succeeded", "payment.failed", "payment.returned"]
ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.0,
    1.5,
    10**20,
    "",
    " ",
    "x" * 300,
    "1\n",
    "٣٣٣",
    [],
    {},
    "2023-06-05T01:00:00Z\n",
    "001049369286\n",
    "0010493692861",
    "2023-13",
    "e_wallet ",
]


def full_accepts(validate: Any, data: Any) -> bool:
    try:
        validate(data)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


def mutations(value: dict[str, Any], rng: random.Random) -> list[dict[str, Any]]:
    """Every key removed, every value swapped for odd ones, extra keys."""
    out = []
    for key in value:
        dropped = dict(value)
        del dropped[key]
        out.append(dropped)
        for odd in rng.sample(ODD_VALUES, 8):
            out.append({**value, key: odd})
    out.append({**value, "colour": "blue"})
    return out


@pytest.fixture(scope="module")
def samples(binh_dinh: Any) -> dict[str, list[dict[str, Any]]]:
    events, _ = simulate(small_scenario(binh_dinh, 300, 30))
    by_contract: dict[str, list[dict[str, Any]]] = {"envelope": []}
    for event in events:
        by_contract["envelope"].append(event)
        by_contract.setdefault(event["event_type"], []).append(event["payload"])
    # The small scenario has no reversals: make some from successes.
    by_contract["payment.returned"] = [
        {
            **{k: v for k, v in p.items() if k not in ("provider", "attempt")},
            "reason": "reversed_by_bank",
        }
        for p in by_contract["payment.succeeded"][:60]
    ]
    return by_contract


@pytest.mark.parametrize("name", HOT)
def test_acceptor_never_accepts_what_the_validator_refuses(
    name: str, samples: dict[str, list[dict[str, Any]]]
) -> None:
    contract = load_contracts()[(name, 1)]
    assert contract.accepts is not None, "hot contracts must get a fast path"
    rng = random.Random(name)
    valid = samples.get(name) or samples["envelope"]
    checked = accepted_by_both = 0
    for value in rng.sample(valid, min(40, len(valid))):
        for candidate in [value, *mutations(copy.deepcopy(value), rng)]:
            fast = contract.accepts(candidate)
            full = full_accepts(contract.validate, candidate)
            assert not (fast and not full), f"acceptor too lenient on {candidate!r}"
            checked += 1
            accepted_by_both += fast and full
    assert accepted_by_both >= min(40, len(valid))  # the real events take the fast path
    assert checked > 10 * min(40, len(valid))


def test_every_simulated_hot_event_takes_the_fast_path(
    samples: dict[str, list[dict[str, Any]]],
) -> None:
    contracts = load_contracts()
    for name in HOT:
        accepts = contracts[(name, 1)].accepts
        assert accepts is not None
        assert all(accepts(value) for value in samples.get(name, [])), name


def test_schemas_outside_the_subset_get_no_acceptor() -> None:
    assert (
        compile_acceptor(
            {
                "type": "object",
                "properties": {"x": {"type": "number"}},
                "additionalProperties": False,
            }
        )
        is None
    )
    assert compile_acceptor({"type": "object", "properties": {}}) is None  # open object
    assert compile_acceptor({"type": "array"}) is None
    assert (
        compile_acceptor(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"at": {"type": "string", "format": "date-time"}},
            }
        )
        is None
    )


def test_optional_properties_are_checked_when_present() -> None:
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["a"],
        "properties": {
            "a": {"type": "integer", "minimum": 1},
            "b": {"type": "string", "enum": ["x", "y"]},
        },
    }
    accepts = compile_acceptor(schema)
    assert accepts is not None
    assert accepts({"a": 1}) and accepts({"a": 1, "b": "x"})
    assert not accepts({"a": 1, "b": "z"})
    assert not accepts({"a": 1, "c": "x"})
    assert not accepts({"a": 0}) and not accepts({"a": True}) and not accepts({"b": "x"})
