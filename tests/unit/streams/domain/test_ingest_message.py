"""`ingest_message`: what each event of a message (one event or a payment file) became."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from streams.domain.ingest import Arrival, Ingested, PaymentFact, Rejection, ingest_message
from streams.domain.pseudonym import Pseudonymizer
from tests.support.scenarios import simulate, small_scenario

KEY = Pseudonymizer(b"0123456789abcdef0123456789abcdef")


@pytest.fixture(scope="module")
def messages(binh_dinh: Any) -> list[bytes | None]:
    events, _ = simulate(small_scenario(binh_dinh, 300, 10))
    lines = [orjson.dumps(e) for e in events]
    bad = orjson.loads(lines[-1])
    bad["payload"]["amount_vnd"] = -5
    packed = orjson.dumps(
        {
            "file_id": "00000000-0000-4000-8000-000000000009",
            "schema_version": 1,
            "source": "t",
            "created_at": "2023-06-05T01:00:00Z",
            "events": [orjson.loads(line) for line in lines[:40]] + [bad],
        }
    )
    return [*lines, None, b"{broken", packed]


def test_results_keep_message_order_and_say_what_each_event_became(
    messages: list[bytes | None],
) -> None:
    arrival = Arrival.at()
    results = [ingest_message(m, KEY, arrival) for m in messages]
    assert len(results) == len(messages)
    assert results[-3] == (False, [Rejection(0, "empty_message", "the message has no value")])
    assert results[-2][1][0].error_class == "bad_json"
    is_file, items = results[-1]
    assert is_file and len(items) == 41
    assert all(isinstance(i, PaymentFact | Ingested) for i in items[:40])
    assert items[40] == Rejection(41, "non_positive_amount", items[40].reason)
    kinds = {type(item) for _, items in results[:-3] for item in items}
    assert kinds <= {PaymentFact, Ingested}
