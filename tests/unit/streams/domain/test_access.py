import itertools

from streams.domain.access_points import merge_access_point

ATM = {
    "access_point_id": "ap-1",
    "kind": "atm",
    "operator": "Agribank",
    "latitude": 21.0,
    "longitude": 103.0,
    "province_code": 11,
    "commune_code": 3295,
}
MOVED = ATM | {"latitude": 21.5}
CLOSED = {"access_point_id": "ap-1", "province_code": 11, "commune_code": 3295}


def replay(events: list[tuple[str, int, dict[str, object]]]) -> dict[str, object] | None:
    record = None
    for event_type, at, payload in events:
        record = merge_access_point(record, event_type, at, payload) or record
    return record


def test_the_latest_event_wins_in_any_order() -> None:
    history = [
        ("access_point.opened", 1, ATM),
        ("access_point.updated", 2, MOVED),
        ("access_point.closed", 3, CLOSED),
    ]
    finals = [replay(list(order)) for order in itertools.permutations(history)]
    assert len({str({k: v for k, v in f.items() if k != "version"}) for f in finals if f}) == 1
    final = replay(history)
    assert final is not None
    assert final["is_open"] == 0 and final["latitude"] == 21.5 and final["kind"] == "atm"


def test_a_duplicate_or_older_event_changes_nothing() -> None:
    record = merge_access_point(None, "access_point.updated", 5, MOVED)
    assert merge_access_point(record, "access_point.updated", 5, MOVED) is None
    assert merge_access_point(record, "access_point.opened", 1, ATM) is None
