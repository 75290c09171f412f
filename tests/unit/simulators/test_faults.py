import hashlib
import io
from typing import Any

import orjson
import pytest

from simulators.faults import MALFORMED_CLASSES, FaultInjector, FaultSpec, malformed_line
from simulators.generator import PaymentCycle
from simulators.jsonl import write_lines
from simulators.scenario import Scenario
from streams.domain.ingest import Rejected, ingest
from streams.domain.ledger import records
from streams.domain.pseudonym import Pseudonymizer
from streams.storage.ledger import digest
from tests.support.scenarios import first_payment, small_scenario

KEY = Pseudonymizer(b"test-key-0123456789abcdef")
SPEC = FaultSpec(duplicates=0.05, out_of_order=0.05, malformed=0.05, redeliver=0.002)


def faulty_bytes(scenario: Scenario, seed: int) -> tuple[bytes, dict[str, Any]]:
    cycle = PaymentCycle(scenario, seed)
    buffer = io.BytesIO()
    write_lines(FaultInjector(SPEC, seed, cycle.truth).lines(cycle.events()), buffer)
    return buffer.getvalue(), cycle.truth.to_json()


def test_faults_are_deterministic_by_seed(binh_dinh: Scenario) -> None:
    scenario = small_scenario(binh_dinh, 2000, 20)
    a, _ = faulty_bytes(scenario, 5)
    b, _ = faulty_bytes(scenario, 5)
    c, _ = faulty_bytes(scenario, 6)
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    assert a != c


def test_truth_counts_every_line_and_every_fault(binh_dinh: Scenario) -> None:
    data, truth = faulty_bytes(small_scenario(binh_dinh, 3000, 20), 1)
    lines = data.split(b"\n")[:-1]
    assert len(lines) == truth["lines"]
    faults = truth["faults"]
    assert faults["duplicates"] > 0 and faults["out_of_order"] > 0
    assert faults["redelivered_batches"] > 0
    assert set(truth["malformed_by_class"]) == set(MALFORMED_CLASSES)
    # malformed_by_class counts every sending, redelivered copies included; the copies are
    # also in redelivered_lines, so the first sendings are counted apart.
    assert len(lines) == (
        truth["events"]
        + faults["duplicates"]
        + faults["redelivered_lines"]
        + faults["malformed_first"]
    )
    assert sum(truth["malformed_by_class"].values()) >= faults["malformed_first"]


@pytest.mark.parametrize("error_class", MALFORMED_CLASSES)
def test_each_malformed_class_fails_as_intended(binh_dinh: Scenario, error_class: str) -> None:
    import random

    events = list(PaymentCycle(small_scenario(binh_dinh, 50, 2), 0).events())
    original = next(e for e in events if e["event_type"] == "payment.scheduled")
    fact = ingest(orjson.dumps(original), KEY).payment_fact()
    assert fact is not None
    line = malformed_line(error_class, original, random.Random(error_class))
    try:
        again = ingest(line, KEY).payment_fact()
    except Rejected as rejected:
        assert rejected.error_class == error_class
        assert original["payload"]["citizen_id"] not in rejected.reason
        return
    # Accepted by ingest: the worker then refuses a known event id whose content digest
    # differs from the ledger's (PaymentsAgent._check_ledger).
    assert again is not None and again.event_id == fact.event_id, f"{error_class} was accepted"
    assert digest(again) != digest(fact), f"{error_class} was accepted"
    assert error_class == "conflicting_duplicate"


def test_an_exact_duplicate_is_accepted_once_and_then_ignored(binh_dinh: Scenario) -> None:
    event = first_payment(list(PaymentCycle(small_scenario(binh_dinh, 5, 1), 0).events()))
    fact = ingest(orjson.dumps(event), KEY).payment_fact()
    assert fact is not None
    again = ingest(orjson.dumps(event), KEY).payment_fact()
    assert again == fact and digest(again) == digest(fact)  # the worker skips the copy
    assert records([fact, again]) == records([fact])


def test_rates_outside_0_1_are_refused() -> None:
    with pytest.raises(ValueError, match="--out-of-order"):
        FaultSpec(out_of_order=1.5)
