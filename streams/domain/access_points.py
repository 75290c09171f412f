"""Access-point state, independent of arrival order and duplicates.

What an access point is (kind, operator, place) comes from its latest opened/updated event;
whether it is open comes from its latest event of any kind (a close wins a tie). `version`
counts the changes, so the latest row in ClickHouse is the latest state.
"""

from __future__ import annotations

from typing import Any

_RANK = {"access_point.opened": 0, "access_point.updated": 1, "access_point.closed": 2}
FIELDS = ("kind", "operator", "latitude", "longitude", "province_code", "commune_code")


def access_version(event_type: str, occurred_ms: int) -> int:
    """Orders the events of one access point; a close wins a tie."""
    return occurred_ms * 4 + _RANK[event_type]


def merge_access_point(
    current: dict[str, Any] | None, event_type: str, occurred_ms: int, payload: dict[str, Any]
) -> dict[str, Any] | None:
    """The access point's record after the event, or None when the event changes nothing."""
    at = access_version(event_type, occurred_ms)
    record = dict(
        current
        or {
            "access_point_id": payload["access_point_id"],
            "kind": "",
            "operator": "",
            "latitude": 0.0,
            "longitude": 0.0,
            "province_code": payload["province_code"],
            "commune_code": payload["commune_code"],
            "is_open": 0,
            "described_at": -1,
            "state_at": -1,
            "version": 0,
        }
    )
    changed = False
    if event_type != "access_point.closed" and at > record["described_at"]:
        record.update({f: payload[f] for f in FIELDS}, described_at=at)
        changed = True
    if at > record["state_at"]:
        record.update(is_open=int(event_type != "access_point.closed"), state_at=at)
        changed = True
    if not changed:
        return None
    record["version"] += 1
    return record


def access_point_row(record: dict[str, Any]) -> dict[str, Any]:
    """The access_points-table columns of a record."""
    return {k: v for k, v in record.items() if k not in ("described_at", "state_at")}
