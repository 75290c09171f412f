"""ClickHouse storage: one protocol, one clickhouse-connect adapter for chDB and server."""

from streams.storage.base import Row, Store
from streams.storage.factory import open_store

__all__ = ["Row", "Store", "open_store"]
