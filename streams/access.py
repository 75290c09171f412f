"""Access-point state: last writer wins by occurred_at, so order and duplicates don't matter."""

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
    """The access point's record after the event, or None when the event is not newer."""
    version = access_version(event_type, occurred_ms)
    if current is not None and version <= current["version"]:
        if current["kind"] or event_type == "access_point.closed":
            return None
        # A close overtook the opening: keep the close, learn what was closed.
        return current | {f: payload[f] for f in FIELDS}
    record = dict(current or {"kind": "", "operator": "", "latitude": 0.0, "longitude": 0.0})
    record["access_point_id"] = payload["access_point_id"]
    record["province_code"] = payload["province_code"]
    record["commune_code"] = payload["commune_code"]
    if event_type == "access_point.closed":
        record["is_open"] = 0
    else:
        record.update({f: payload[f] for f in FIELDS})
        record["is_open"] = 1
    record["version"] = version
    return record
