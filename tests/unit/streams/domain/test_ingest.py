import copy
from typing import Any

import orjson
import pytest

from streams.domain.ingest import MAX_MESSAGE_BYTES, Rejected, ingest, redact
from streams.domain.pseudonym import Pseudonymizer
from tests.support.scenarios import first_payment, simulate, small_scenario

KEY = Pseudonymizer(b"0123456789abcdef0123456789abcdef")


@pytest.fixture
def event(binh_dinh: Any) -> dict[str, Any]:
    events, _ = simulate(small_scenario(binh_dinh, 10, 1))
    return copy.deepcopy(first_payment(events))


def test_ingest_replaces_the_citizen_id_with_a_keyed_pseudonym(event: dict[str, Any]) -> None:
    fact = ingest(orjson.dumps(event), KEY).payment_fact()
    assert fact is not None
    citizen_id = event["payload"]["citizen_id"]
    assert citizen_id not in repr(fact)
    assert fact.beneficiary == KEY(citizen_id)
    assert fact.beneficiary != Pseudonymizer(b"another key, sixteen bytes+")(citizen_id)
    assert len(fact.beneficiary) == 32


@pytest.mark.parametrize(
    ("raw", "error_class"),
    [
        (b"{not json", "bad_json"),
        (b'{"event_id": "\xff\xfe"}', "invalid_utf8"),
        (b"x" * (MAX_MESSAGE_BYTES + 1), "oversize"),
        (None, "empty_message"),
    ],
)
def test_undecodable_messages_are_rejected(raw: bytes | None, error_class: str) -> None:
    with pytest.raises(Rejected) as caught:
        ingest(raw, KEY)
    assert caught.value.error_class == error_class


def test_rejection_reasons_never_carry_a_citizen_id(event: dict[str, Any]) -> None:
    event["payload"]["citizen_id"] = 52123456789  # a number, not a string
    with pytest.raises(Rejected) as caught:
        ingest(orjson.dumps(event), KEY)
    assert "52123456789" not in caught.value.reason
    assert redact("id 052123456789 failed") == "id <redacted> failed"


def test_pseudonymizer_refuses_short_keys_and_hides_its_key() -> None:
    with pytest.raises(ValueError):
        Pseudonymizer(b"short")
    assert "0123" not in repr(KEY)


def test_pseudonyms_are_truncated_hmac_sha256_so_replays_keep_them() -> None:
    import hashlib
    import hmac

    key = b"0123456789abcdef0123456789abcdef"
    for citizen_id in ("001049369286", "052132305029"):
        expected = hmac.new(key, citizen_id.encode(), hashlib.sha256).hexdigest()[:32]
        assert KEY(citizen_id) == expected
