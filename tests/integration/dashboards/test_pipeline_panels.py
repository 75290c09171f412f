"""The pipeline dashboard's numbers, from health rows written by several workers; the query as
Grafana sends it (Scenes and the plugin's macros: tests/support/grafana_upstream)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboards.panels import CONSUMER_LAG
from streams.storage.clickhouse_store import ClickHouseStore
from streams.storage.migrate import migrate
from tests.support.grafana_upstream import Interpolation, grafana_sql

pytestmark = pytest.mark.integration

# Recent: pipeline_health has a 30-day TTL, and expired rows vanish on the next merge.
START = (datetime.now(UTC) - timedelta(hours=1)).replace(second=0, microsecond=0)


def health(worker: str, at: datetime, lag: int) -> dict[str, object]:
    return {
        "at": at,
        "worker": worker,
        "events": 10,
        "events_per_s": 1.0,
        "dead_letters": 0,
        "dead_letters_by_class": {},
        "consumer_lag": lag,
        "latest_event_at": at,
        "freshness_s": 1.0,
    }


def test_consumer_lag_is_summed_over_workers(chdb_store: ClickHouseStore) -> None:
    """Each worker reports the lag of its own partitions: the group's lag is their sum (each
    worker's latest value in the interval), not the largest of them."""
    migrate(chdb_store)
    chdb_store.insert(
        "pipeline_health",
        [
            health("worker-a", START + timedelta(seconds=5), 700),
            health("worker-a", START + timedelta(seconds=35), 400),
            health("worker-b", START + timedelta(seconds=10), 300),
            health("worker-b", START + timedelta(seconds=40), 250),
            health("worker-a", START + timedelta(seconds=65), 0),
            health("worker-c", START + timedelta(seconds=70), -1),  # lag unknown: left out
        ],
    )
    [sql] = grafana_sql([Interpolation(CONSUMER_LAG.sql, ())], START, START + timedelta(minutes=5))
    assert isinstance(sql, str), sql
    rows = chdb_store.query(sql)
    assert [int(r["lag"]) for r in rows] == [400 + 250, 0]
