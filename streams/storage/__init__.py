"""ClickHouse storage: one protocol, two adapters (chDB embedded, clickhouse-connect server)."""

from streams.storage.base import Row, Store
from streams.storage.factory import open_store

__all__ = ["Row", "Store", "open_store"]
